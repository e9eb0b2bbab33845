import type {
  AddressOutputs,
  BlockJson,
  BlockMetadata,
  MilestonePayload,
  OutputResponse,
  TaggedDataPayload,
  TransactionPayload,
} from '../../api/wallet';
import { PayloadType } from '../../api/wallet';
import { Amount } from '../../components/Amount';
import { MilestoneLink } from '../../components/IdLink';
import { ScrollRegion } from '../../components/ScrollRegion';
import { StateBadge } from '../../components/StateBadge';
import { Empty } from '../../components/states';
import { bech32Decode } from '../../format/bech32';
import { bytesToHex } from '../../format/hex';
import { outputIdOf, splitOutputId } from '../../format/ids';
import { formatAge, formatDateTime, fromUnixSeconds, isoTime } from '../../format/time';
import { DecodedHex, FullId, OutputBody, Ref, TaggedData, type ViewContext } from './parts';

function When({ seconds, now }: { seconds: number | undefined; now: number }) {
  const ms = fromUnixSeconds(seconds);
  return (
    <>
      <time dateTime={isoTime(ms)}>{formatDateTime(ms)}</time>{' '}
      <span className="muted">({formatAge(now, ms)})</span>
    </>
  );
}

const inclusionText: Record<string, string> = {
  noTransaction: 'referenced (no transaction)',
  included: 'included',
  conflicting: 'conflicting',
};

export function BlockMetadataList({ metadata }: { metadata: BlockMetadata | undefined }) {
  if (!metadata) return <p className="muted">The node has no metadata for this block yet.</p>;
  const referenced = metadata.referencedByMilestoneIndex;
  return (
    <dl className="kv">
      <dt>State</dt>
      <dd data-testid="inclusion-state">
        {referenced === undefined ? (
          <StateBadge state="pending" />
        ) : (
          <StateBadge
            state={
              metadata.ledgerInclusionState === 'noTransaction'
                ? 'referenced'
                : (metadata.ledgerInclusionState ?? 'referenced')
            }
          />
        )}{' '}
        {referenced === undefined
          ? 'not referenced by a milestone yet'
          : (inclusionText[metadata.ledgerInclusionState ?? ''] ?? metadata.ledgerInclusionState)}
        {metadata.conflictReason ? ` (conflict reason ${metadata.conflictReason})` : ''}
      </dd>
      {referenced !== undefined && (
        <>
          <dt>Referenced by</dt>
          <dd>
            milestone <MilestoneLink index={referenced} />
          </dd>
        </>
      )}
      {metadata.milestoneIndex !== undefined && (
        <>
          <dt>Milestone</dt>
          <dd>
            carries milestone <MilestoneLink index={metadata.milestoneIndex} />
          </dd>
        </>
      )}
      <dt>Solid</dt>
      <dd>{metadata.isSolid ? 'yes' : 'no'}</dd>
      {metadata.shouldReattach && (
        <>
          <dt>Advice</dt>
          <dd>should be reattached</dd>
        </>
      )}
    </dl>
  );
}

function Parents({ parents }: { parents: string[] }) {
  return (
    <ul className="id-list">
      {parents.map((p) => (
        <li key={p}>
          <Ref id={p} />
        </li>
      ))}
    </ul>
  );
}

export function BlockView({
  title,
  blockId,
  transactionId,
  block,
  metadata,
  ctx,
}: {
  title: string;
  blockId: string | undefined;
  transactionId?: string | undefined;
  block: BlockJson;
  metadata: BlockMetadata | undefined;
  ctx: ViewContext;
}) {
  const payload = block.payload;
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">{title}</h2>
      {transactionId && title.startsWith('Transaction') ? (
        <p>
          <FullId id={transactionId} />
        </p>
      ) : (
        blockId && (
          <p>
            <FullId id={blockId} />
          </p>
        )
      )}
      <dl className="kv">
        {blockId && title.startsWith('Transaction') && (
          <>
            <dt>Included in block</dt>
            <dd>
              <Ref id={blockId} />
            </dd>
          </>
        )}
        <dt>Payload</dt>
        <dd>{payloadName(payload?.type)}</dd>
        <dt>Parents</dt>
        <dd>
          <Parents parents={block.parents} />
        </dd>
        <dt>Protocol version</dt>
        <dd>{block.protocolVersion}</dd>
      </dl>
      <h3>Metadata</h3>
      <BlockMetadataList metadata={metadata} />
      {payload?.type === PayloadType.TaggedData && (
        <>
          <h3>Tagged data</h3>
          <TaggedData payload={payload as TaggedDataPayload} />
        </>
      )}
      {payload?.type === PayloadType.Transaction && (
        <TransactionSection tx={payload as TransactionPayload} transactionId={transactionId} ctx={ctx} />
      )}
      {payload?.type === PayloadType.Milestone && (
        <>
          <h3>Milestone</h3>
          <MilestoneBody milestone={payload as MilestonePayload} ctx={ctx} />
        </>
      )}
    </article>
  );
}

function payloadName(type: number | undefined): string {
  if (type === undefined) return 'none';
  if (type === PayloadType.TaggedData) return 'tagged data';
  if (type === PayloadType.Transaction) return 'transaction';
  if (type === PayloadType.Milestone) return 'milestone';
  return `type ${type}`;
}

function TransactionSection({
  tx,
  transactionId,
  ctx,
}: {
  tx: TransactionPayload;
  transactionId: string | undefined;
  ctx: ViewContext;
}) {
  const { essence } = tx;
  const signatures = tx.unlocks.filter((u) => u.signature);
  return (
    <>
      <h3>Transaction</h3>
      <dl className="kv">
        <dt>Transaction id</dt>
        <dd>
          {transactionId ? <Ref id={transactionId} /> : <span className="muted">known once included</span>}
        </dd>
        <dt>Network id</dt>
        <dd>
          <code>{essence.networkId}</code>
        </dd>
        <dt>Signatures</dt>
        <dd>
          {signatures.length} (
          {signatures.map((s, i) => (
            <code key={s.signature!.publicKey + String(i)} title={s.signature!.publicKey}>
              {i ? ', ' : ''}
              {s.signature!.publicKey.slice(0, 10)}…
            </code>
          ))}
          )
          {tx.unlocks.length > signatures.length
            ? `, ${tx.unlocks.length - signatures.length} reference unlocks`
            : ''}
        </dd>
      </dl>
      {essence.payload?.type === PayloadType.TaggedData && (
        <>
          <h4>Tagged data</h4>
          <TaggedData payload={essence.payload} />
        </>
      )}
      <h4>Inputs ({essence.inputs.length})</h4>
      <ol className="id-list" start={0}>
        {essence.inputs.map((input) => {
          const id = outputIdOf(input.transactionId, input.transactionOutputIndex);
          return (
            <li key={id}>
              <Ref id={id} />
            </li>
          );
        })}
      </ol>
      <h4>Outputs ({essence.outputs.length})</h4>
      <ol className="outputs" start={0}>
        {essence.outputs.map((output, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: outputs are positional
          <li key={i}>
            <p>
              Output {i}
              {transactionId && (
                <>
                  {' '}
                  · <Ref id={outputIdOf(transactionId, i)} />
                </>
              )}
            </p>
            <OutputBody output={output} ctx={ctx} />
          </li>
        ))}
      </ol>
    </>
  );
}

export function MilestoneBody({ milestone, ctx }: { milestone: MilestonePayload; ctx: ViewContext }) {
  return (
    <dl className="kv">
      <dt>Index</dt>
      <dd>
        {milestone.index} ·{' '}
        {milestone.index > 1 && (
          <>
            <MilestoneLink index={milestone.index - 1} /> previous ·{' '}
          </>
        )}
        <MilestoneLink index={milestone.index + 1} /> next
      </dd>
      <dt>Time</dt>
      <dd>
        <When seconds={milestone.timestamp} now={ctx.now} />
      </dd>
      <dt>Previous milestone id</dt>
      <dd>
        <Ref id={milestone.previousMilestoneId} />
      </dd>
      <dt>Parents</dt>
      <dd>
        <Parents parents={milestone.parents} />
      </dd>
      <dt>Inclusion Merkle root</dt>
      <dd>
        <code className="full-id">{milestone.inclusionMerkleRoot}</code>
      </dd>
      <dt>Applied Merkle root</dt>
      <dd>
        <code className="full-id">{milestone.appliedMerkleRoot}</code>
      </dd>
      {milestone.metadata && milestone.metadata !== '0x' && (
        <>
          <dt>Metadata</dt>
          <dd>
            <DecodedHex hex={milestone.metadata} label="Milestone metadata" />
          </dd>
        </>
      )}
      {!!milestone.options?.length && (
        <>
          <dt>Options</dt>
          <dd>
            {milestone.options
              .map((o) =>
                o.type === 0 ? 'receipt' : o.type === 1 ? 'protocol parameters' : `type ${o.type}`,
              )
              .join(', ')}
          </dd>
        </>
      )}
      <dt>Signatures</dt>
      <dd>{milestone.signatures?.length ?? 0}</dd>
    </dl>
  );
}

export function MilestoneView({
  milestone,
  milestoneId,
  ctx,
}: {
  milestone: MilestonePayload;
  milestoneId?: string | undefined;
  ctx: ViewContext;
}) {
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">Milestone {milestone.index}</h2>
      {milestoneId && (
        <p>
          <FullId id={milestoneId} />
        </p>
      )}
      <MilestoneBody milestone={milestone} ctx={ctx} />
    </article>
  );
}

export function OutputView({
  outputId,
  output,
  ctx,
}: {
  outputId: string;
  output: OutputResponse;
  ctx: ViewContext;
}) {
  const m = output.metadata;
  const split = splitOutputId(outputId);
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">Output</h2>
      <p>
        <FullId id={outputId} />
      </p>
      <OutputBody output={output.output} ctx={ctx} />
      <h3>Ledger</h3>
      <dl className="kv">
        <dt>Created by</dt>
        <dd>
          transaction <Ref id={m.transactionId} /> (output {split?.index ?? m.outputIndex}) in block{' '}
          <Ref id={m.blockId} />
        </dd>
        <dt>Booked</dt>
        <dd>
          milestone <MilestoneLink index={m.milestoneIndexBooked} />,{' '}
          <When seconds={m.milestoneTimestampBooked} now={ctx.now} />
        </dd>
        <dt>Spent</dt>
        <dd>
          {m.isSpent ? (
            <>
              <StateBadge state="spent" /> by transaction{' '}
              {m.transactionIdSpent ? <Ref id={m.transactionIdSpent} /> : '?'}
              {m.milestoneIndexSpent !== undefined && (
                <>
                  {' '}
                  at milestone <MilestoneLink index={m.milestoneIndexSpent} />,{' '}
                  <When seconds={m.milestoneTimestampSpent} now={ctx.now} />
                </>
              )}
            </>
          ) : (
            <StateBadge state="unspent" />
          )}
        </dd>
        <dt>As of</dt>
        <dd>
          ledger milestone <MilestoneLink index={m.ledgerIndex} />
        </dd>
      </dl>
    </article>
  );
}

export function AddressView({
  address,
  outputs,
  ctx,
}: {
  address: string;
  outputs: AddressOutputs;
  ctx: ViewContext;
}) {
  const decoded = bech32Decode(address);
  const unspent = outputs.items.filter((o) => !o.isSpent);
  const total = unspent.reduce((sum, o) => sum + BigInt(o.amount), 0n);
  const t = ctx.token ? { token: ctx.token } : {};
  const hrpMismatch = ctx.hrp && decoded && decoded.hrp !== ctx.hrp;
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">Address</h2>
      <p>
        <FullId id={address} />
      </p>
      {hrpMismatch && (
        <p className="banner banner-warn" role="alert">
          This address is for another network (prefix “{decoded.hrp}”, this network uses “{ctx.hrp}”).
        </p>
      )}
      <dl className="kv">
        {decoded && (
          <>
            <dt>Kind and hash</dt>
            <dd>
              {decoded.bytes[0] === 0
                ? 'Ed25519'
                : decoded.bytes[0] === 8
                  ? 'alias'
                  : decoded.bytes[0] === 16
                    ? 'NFT'
                    : `type ${decoded.bytes[0]}`}{' '}
              <code className="full-id">{bytesToHex(decoded.bytes.slice(1))}</code>
            </dd>
          </>
        )}
        <dt>Unspent outputs</dt>
        <dd>{unspent.length}</dd>
        <dt>Holding</dt>
        <dd>
          <Amount units={total.toString()} inline {...t} />
        </dd>
        <dt>As of</dt>
        <dd>
          ledger milestone <MilestoneLink index={outputs.ledgerIndex} />
          {typeof outputs.seenSinceMilestone === 'number' && (
            <span className="muted block">
              Not this wallet’s address: only outputs seen since milestone{' '}
              <MilestoneLink index={outputs.seenSinceMilestone} /> are known.
            </span>
          )}
        </dd>
      </dl>
      {outputs.items.length === 0 ? (
        <Empty>No outputs for this address.</Empty>
      ) : (
        <ScrollRegion label="Outputs of this address, scrollable">
          <table>
            <caption className="visually-hidden">Outputs of this address</caption>
            <thead>
              <tr>
                <th scope="col">Output</th>
                <th scope="col">Amount</th>
                <th scope="col">Conditions</th>
                <th scope="col">Booked</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {outputs.items.map((o) => (
                <tr key={o.outputId}>
                  <th scope="row">
                    <Ref id={o.outputId} />
                  </th>
                  <td className="num">
                    <Amount units={o.amount} {...t} />
                  </td>
                  <td>
                    {o.depositReturn && (
                      <span className="block">
                        deposit return <Amount units={o.depositReturn.amount} inline {...t} />
                      </span>
                    )}
                    {o.expiration && (
                      <span className="block">
                        expires <When seconds={o.expiration.unixTime} now={ctx.now} />
                      </span>
                    )}
                    {o.timelockUntil !== undefined && (
                      <span className="block">
                        timelocked until <When seconds={o.timelockUntil} now={ctx.now} />
                      </span>
                    )}
                    {!o.depositReturn && !o.expiration && o.timelockUntil === undefined && (
                      <span className="muted">owner only</span>
                    )}
                  </td>
                  <td>
                    <MilestoneLink index={o.milestoneIndexBooked} />
                  </td>
                  <td>
                    <StateBadge state={o.isSpent ? 'spent' : 'unspent'} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </article>
  );
}

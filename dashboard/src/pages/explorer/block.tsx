import type {
  BlockJson,
  BlockMetadata,
  ExplorerSource,
  MilestonePayload,
  TaggedDataPayload,
  TransactionPayload,
} from '../../api/wallet';
import { PayloadType } from '../../api/wallet';
import { MilestoneLink } from '../../components/IdLink';
import { StateBadge } from '../../components/StateBadge';
import { Term } from '../../components/Term';
import { outputIdOf } from '../../format/ids';
import { DecodedHex, FoundPanel, OutputBody, Ref, TaggedData, type ViewContext, When } from './parts';

const inclusionText: Record<string, string> = {
  noTransaction: 'referenced (no transaction)',
  included: 'included',
  conflicting: 'conflicting',
};

function InclusionState({ metadata }: { metadata: BlockMetadata }) {
  const referenced = metadata.referencedByMilestoneIndex;
  return (
    <>
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
    </>
  );
}

export function BlockMetadataList({ metadata }: { metadata: BlockMetadata | undefined }) {
  if (!metadata) return <p className="muted">The node has no metadata for this block yet.</p>;
  const referenced = metadata.referencedByMilestoneIndex;
  return (
    <dl className="kv">
      <Term name="State" data-testid="inclusion-state">
        <InclusionState metadata={metadata} />
      </Term>
      {referenced !== undefined && (
        <Term name="Referenced by">
          milestone <MilestoneLink index={referenced} />
        </Term>
      )}
      {metadata.milestoneIndex !== undefined && (
        <Term name="Milestone">
          carries milestone <MilestoneLink index={metadata.milestoneIndex} />
        </Term>
      )}
      <Term name="Solid">{metadata.isSolid ? 'yes' : 'no'}</Term>
      {metadata.shouldReattach && <Term name="Advice">should be reattached</Term>}
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
  source,
  ctx,
}: {
  title: string;
  blockId: string | undefined;
  transactionId?: string | undefined;
  block: BlockJson;
  metadata: BlockMetadata | undefined;
  source?: ExplorerSource | undefined;
  ctx: ViewContext;
}) {
  const payload = block.payload;
  const isTransaction = title.startsWith('Transaction');
  return (
    <FoundPanel title={title} id={transactionId && isTransaction ? transactionId : blockId} source={source}>
      <dl className="kv">
        {blockId && isTransaction && (
          <Term name="Included in block">
            <Ref id={blockId} />
          </Term>
        )}
        <Term name="Payload">{payloadName(payload?.type)}</Term>
        <Term name="Parents">
          <Parents parents={block.parents} />
        </Term>
        <Term name="Protocol version">{block.protocolVersion}</Term>
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
    </FoundPanel>
  );
}

function payloadName(type: number | undefined): string {
  if (type === undefined) return 'none';
  if (type === PayloadType.TaggedData) return 'tagged data';
  if (type === PayloadType.Transaction) return 'transaction';
  if (type === PayloadType.Milestone) return 'milestone';
  return `type ${type}`;
}

function Signatures({ unlocks }: { unlocks: TransactionPayload['unlocks'] }) {
  const signatures = unlocks.filter((u) => u.signature);
  return (
    <>
      {signatures.length} (
      {signatures.map((s, i) => (
        <code key={s.signature!.publicKey + String(i)} title={s.signature!.publicKey}>
          {i ? ', ' : ''}
          {s.signature!.publicKey.slice(0, 10)}…
        </code>
      ))}
      ){unlocks.length > signatures.length ? `, ${unlocks.length - signatures.length} reference unlocks` : ''}
    </>
  );
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
  return (
    <>
      <h3>Transaction</h3>
      <dl className="kv">
        <Term name="Transaction id">
          {transactionId ? <Ref id={transactionId} /> : <span className="muted">known once included</span>}
        </Term>
        <Term name="Network id">
          <code>{essence.networkId}</code>
        </Term>
        <Term name="Signatures">
          <Signatures unlocks={tx.unlocks} />
        </Term>
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

const optionName = (type: number) =>
  type === 0 ? 'receipt' : type === 1 ? 'protocol parameters' : `type ${type}`;

export function MilestoneBody({ milestone, ctx }: { milestone: MilestonePayload; ctx: ViewContext }) {
  return (
    <dl className="kv">
      <Term name="Index">
        {milestone.index} ·{' '}
        {milestone.index > 1 && (
          <>
            <MilestoneLink index={milestone.index - 1} /> previous ·{' '}
          </>
        )}
        <MilestoneLink index={milestone.index + 1} /> next
      </Term>
      <Term name="Time">
        <When seconds={milestone.timestamp} now={ctx.now} />
      </Term>
      <Term name="Previous milestone id">
        <Ref id={milestone.previousMilestoneId} />
      </Term>
      <Term name="Parents">
        <Parents parents={milestone.parents ?? []} />
      </Term>
      <Term name="Inclusion Merkle root">
        <code className="full-id">{milestone.inclusionMerkleRoot}</code>
      </Term>
      <Term name="Applied Merkle root">
        <code className="full-id">{milestone.appliedMerkleRoot}</code>
      </Term>
      {milestone.metadata && milestone.metadata !== '0x' && (
        <Term name="Metadata">
          <DecodedHex hex={milestone.metadata} label="Milestone metadata" />
        </Term>
      )}
      {!!milestone.options?.length && (
        <Term name="Options">{milestone.options.map((o) => optionName(o.type)).join(', ')}</Term>
      )}
      <Term name="Signatures">{milestone.signatures?.length ?? 0}</Term>
    </dl>
  );
}

export function MilestoneView({
  milestone,
  milestoneId,
  source,
  ctx,
}: {
  milestone: MilestonePayload;
  milestoneId?: string | undefined;
  source?: ExplorerSource | undefined;
  ctx: ViewContext;
}) {
  return (
    <FoundPanel title={`Milestone ${milestone.index}`} id={milestoneId} source={source}>
      <MilestoneBody milestone={milestone} ctx={ctx} />
    </FoundPanel>
  );
}

import type { AddressOutputs, ExplorerSource, OutputResponse, OutputSummary } from '../../api/wallet';
import { Amount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { MilestoneLink } from '../../components/IdLink';
import { StateBadge } from '../../components/StateBadge';
import { Empty } from '../../components/states';
import { Term } from '../../components/Term';
import { bech32Decode } from '../../format/bech32';
import { bytesToHex } from '../../format/hex';
import { splitOutputId } from '../../format/ids';
import { FoundPanel, OutputBody, Ref, type ViewContext, When } from './parts';

function Spent({ metadata: m, now }: { metadata: OutputResponse['metadata']; now: number }) {
  if (!m.isSpent) return <StateBadge state="unspent" />;
  return (
    <>
      <StateBadge state="spent" /> by transaction{' '}
      {m.transactionIdSpent ? <Ref id={m.transactionIdSpent} /> : '?'}
      {m.milestoneIndexSpent !== undefined && (
        <>
          {' '}
          at milestone <MilestoneLink index={m.milestoneIndexSpent} />,{' '}
          <When seconds={m.milestoneTimestampSpent} now={now} />
        </>
      )}
    </>
  );
}

export function OutputView({
  outputId,
  output,
  source,
  ctx,
}: {
  outputId: string;
  output: OutputResponse;
  source?: ExplorerSource | undefined;
  ctx: ViewContext;
}) {
  const m = output.metadata;
  const split = splitOutputId(outputId);
  return (
    <FoundPanel title="Output" id={outputId} source={source}>
      <OutputBody output={output.output} ctx={ctx} />
      <h3>Ledger</h3>
      <dl className="kv">
        <Term name="Created by">
          transaction <Ref id={m.transactionId} /> (output {split?.index ?? m.outputIndex}) in block{' '}
          <Ref id={m.blockId} />
        </Term>
        <Term name="Booked">
          milestone <MilestoneLink index={m.milestoneIndexBooked} />,{' '}
          <When seconds={m.milestoneTimestampBooked} now={ctx.now} />
        </Term>
        <Term name="Spent">
          <Spent metadata={m} now={ctx.now} />
        </Term>
        <Term name="As of">
          ledger milestone <MilestoneLink index={m.ledgerIndex} />
        </Term>
      </dl>
    </FoundPanel>
  );
}

const addressKinds: Record<number, string> = { 0: 'Ed25519', 8: 'alias', 16: 'NFT' };

/** What may spend an output besides its owner, in words. */
function Conditions({ output: o, ctx }: { output: OutputSummary; ctx: ViewContext }) {
  const t = ctx.token ? { token: ctx.token } : {};
  return (
    <>
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
    </>
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
  const kind = decoded && (addressKinds[decoded.bytes[0]!] ?? `type ${decoded.bytes[0]}`);
  return (
    <FoundPanel title="Address" id={address}>
      {hrpMismatch && (
        <p className="banner banner-warn" role="alert">
          This address is for another network (prefix “{decoded.hrp}”, this network uses “{ctx.hrp}”).
        </p>
      )}
      <dl className="kv">
        {decoded && (
          <Term name="Kind and hash">
            {kind} <code className="full-id">{bytesToHex(decoded.bytes.slice(1))}</code>
          </Term>
        )}
        <Term name="Unspent outputs">{unspent.length}</Term>
        <Term name="Holding">
          <Amount units={total.toString()} inline {...t} />
        </Term>
        <Term name="As of">
          ledger milestone <MilestoneLink index={outputs.ledgerIndex} />
          {typeof outputs.seenSinceMilestone === 'number' && (
            <span className="muted block">
              Not this wallet’s address: only outputs seen since milestone{' '}
              <MilestoneLink index={outputs.seenSinceMilestone} /> are known.
            </span>
          )}
        </Term>
      </dl>
      {outputs.items.length === 0 ? (
        <Empty>No outputs for this address.</Empty>
      ) : (
        <DataTable
          scrollLabel="Outputs of this address, scrollable"
          caption="Outputs of this address"
          rows={outputs.items}
          rowKey={(o) => o.outputId}
          columns={[
            { header: 'Output', cell: (o) => <Ref id={o.outputId} /> },
            {
              header: 'Amount',
              attrs: { className: 'num' },
              cell: (o) => <Amount units={o.amount} {...t} />,
            },
            { header: 'Conditions', cell: (o) => <Conditions output={o} ctx={ctx} /> },
            { header: 'Booked', cell: (o) => <MilestoneLink index={o.milestoneIndexBooked} /> },
            { header: 'State', cell: (o) => <StateBadge state={o.isSpent ? 'spent' : 'unspent'} /> },
          ]}
        />
      )}
    </FoundPanel>
  );
}

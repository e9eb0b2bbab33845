import { type ReactNode, useEffect, useMemo, useState } from 'react';
import { describeError } from '../api/http';
import type { MilestoneEvent, NodeStatus, TipsEvent, WalletClient } from '../api/wallet';
import { statusFromInfo } from '../api/wallet';
import { DataTable } from '../components/DataTable';
import { IdLink, MilestoneLink } from '../components/IdLink';
import { LiveBadge } from '../components/LiveBadge';
import { Empty, ErrorMessage, InlineError, Loading } from '../components/states';
import { Term } from '../components/Term';
import { TangleGraph } from '../components/tangle/TangleGraph';
import { useServices } from '../context';
import {
  formatAge,
  formatDuration,
  formatTime,
  fromUnixSeconds,
  isoTime,
  milestoneRate,
} from '../format/time';
import { useNow, useResource } from '../hooks/useResource';
import { useLiveEvent, useLiveStatus, useResync } from '../live/hooks';
import { PageHeading } from './PageHeading';

const TIMELINE = 20;
/** No confirmed milestone for this long means the network has stalled, even if the node says synced. */
const STALL_MS = 30_000;

export interface TimelineEntry {
  index: number;
  timestampMs: number;
  milestoneId?: string;
}

/** Newest first, one entry per index, at most `limit`. */
export function mergeTimeline(
  current: TimelineEntry[],
  added: TimelineEntry[],
  limit = TIMELINE,
): TimelineEntry[] {
  const byIndex = new Map(current.map((e) => [e.index, e]));
  for (const e of added) byIndex.set(e.index, { ...byIndex.get(e.index), ...e });
  return [...byIndex.values()].sort((a, b) => b.index - a.index).slice(0, limit);
}

export function NetworkPage() {
  const { wallets } = useServices();
  const source = wallets[0];
  return (
    <>
      <PageHeading title="Network">
        {source && <LiveStatus url={source.client.eventsUrl} name={source.endpoint.name} />}
      </PageHeading>
      {source ? (
        <NetworkView client={source.client} sourceName={source.endpoint.name} />
      ) : (
        <Empty>No wallet-service is configured: add one to config.json to see the network.</Empty>
      )}
    </>
  );
}

function LiveStatus({ url, name }: { url: string; name: string }) {
  return <LiveBadge status={useLiveStatus(url)} source={name} />;
}

function NetworkView({ client, sourceName }: { client: WalletClient; sourceName: string }) {
  const now = useNow(1000);
  const info = useResource((signal) => client.nodeInfo({ signal }), client.url);
  const milestones = useResource((signal) => client.milestones(TIMELINE, { signal }), client.url);
  const initialTips = useResource((signal) => client.tips({ signal }), client.url);
  const [liveStatus, setStatus] = useState<NodeStatus | undefined>(undefined);
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [tips, setTips] = useState<{ tips: string[]; at: number } | undefined>(undefined);

  useEffect(() => {
    if (info.data) setStatus(statusFromInfo(info.data));
  }, [info.data]);
  useEffect(() => {
    if (milestones.data)
      setTimeline((t) =>
        mergeTimeline(
          t,
          milestones.data!.items.map((m) => ({ index: m.index, timestampMs: m.timestamp * 1000 })),
        ),
      );
  }, [milestones.data]);
  useEffect(() => {
    if (initialTips.data) setTips((t) => t ?? { tips: initialTips.data!.tips, at: Date.now() });
  }, [initialTips.data]);

  const events = client.eventsUrl;
  useLiveEvent<NodeStatus>(events, 'node', setStatus);
  useLiveEvent<MilestoneEvent>(events, 'milestone', (m) => {
    const ref = { index: m.index, timestamp: m.timestamp, milestoneId: m.milestoneId };
    setStatus((s) => {
      if (!s) return s;
      const next = m.confirmed ? { ...s, confirmedMilestone: ref } : { ...s, latestMilestone: ref };
      return { ...next, synced: next.confirmedMilestone.index >= next.latestMilestone.index };
    });
    if (m.confirmed)
      setTimeline((t) =>
        mergeTimeline(t, [{ index: m.index, timestampMs: m.timestamp * 1000, milestoneId: m.milestoneId }]),
      );
  });
  useLiveEvent<TipsEvent>(events, 'tips', setTips);
  useResync(events, () => {
    info.reload();
    milestones.reload();
    initialTips.reload();
  });

  const rate = useMemo(() => milestoneRate(timeline.map((t) => t.timestampMs)), [timeline]);

  // Before the first live event the fetched info is the status.
  const status = liveStatus ?? (info.data ? statusFromInfo(info.data) : undefined);
  if (info.loading && !status) return <Loading what={`node status from ${sourceName}`} />;
  if (!status)
    return <ErrorMessage error={info.error} what={`node status from ${sourceName}`} retry={info.reload} />;

  const confirmedMs = fromUnixSeconds(status.confirmedMilestone.timestamp);
  const latestMs = fromUnixSeconds(status.latestMilestone.timestamp);
  const stalled = confirmedMs !== undefined && now - confirmedMs > STALL_MS;
  const behind = status.latestMilestone.index - status.confirmedMilestone.index;
  const protocol = info.data?.protocol;
  const token = info.data?.baseToken;

  return (
    <div className="network">
      <SyncBanner status={status} behind={behind} stalled={stalled} confirmedMs={confirmedMs} now={now} />
      {info.error !== undefined && (
        <InlineError>Last refresh failed: {describeError(info.error)}</InlineError>
      )}
      <section aria-labelledby="node-heading" className="cards">
        <h2 id="node-heading" className="visually-hidden">
          Node
        </h2>
        <article className="card">
          <h3>Health</h3>
          <p aria-live="polite">
            <span className={`badge ${status.synced ? 'badge-included' : 'badge-conflicting'}`}>
              <span aria-hidden="true">{status.synced ? '✓ ' : '✕ '}</span>
              {status.synced ? 'synced' : 'not synced'}
            </span>{' '}
            <span className={`badge ${status.healthy ? 'badge-included' : 'badge-submitted'}`}>
              <span aria-hidden="true">{status.healthy ? '✓ ' : '– '}</span>
              {status.healthy ? 'healthy' : 'not healthy'}
            </span>
          </p>
          {!status.healthy && status.synced && (
            <p className="hint">
              HORNET calls a node healthy only with a gossip peer; a lone node is judged by sync.
            </p>
          )}
          {info.data && (
            <p className="muted">
              {info.data.name} {info.data.version}
            </p>
          )}
        </article>
        <article className="card">
          <h3>Network</h3>
          <dl>
            <Term name="Name">{status.networkName}</Term>
            {protocol && (
              <Term name="Address prefix">
                <code>{protocol.bech32Hrp}</code>
              </Term>
            )}
            {token && (
              <Term name="Token">
                {token.name} ({token.tickerSymbol}, {token.decimals} decimals)
              </Term>
            )}
          </dl>
        </article>
        <MilestoneCard
          title="Confirmed milestone"
          testId="confirmed-index"
          index={status.confirmedMilestone.index}
        >
          <time dateTime={isoTime(confirmedMs)}>{formatTime(confirmedMs)}</time> ·{' '}
          {formatAge(now, confirmedMs)}
        </MilestoneCard>
        <MilestoneCard title="Latest milestone" testId="latest-index" index={status.latestMilestone.index}>
          <time dateTime={isoTime(latestMs)}>{formatTime(latestMs)}</time>
        </MilestoneCard>
        <article className="card">
          <h3>Milestone rate</h3>
          {rate ? (
            <>
              <p className="big">{rate.perMinute.toFixed(1)}/min</p>
              <p className="muted">every {formatDuration(rate.meanIntervalMs)} on average</p>
            </>
          ) : (
            <p className="muted">Needs two milestones.</p>
          )}
        </article>
        <article className="card">
          <h3>Blocks</h3>
          <dl>
            <Term name="Blocks per second">{status.blocksPerSecond.toFixed(1)}</Term>
            <Term name="Referenced per second">{status.referencedBlocksPerSecond.toFixed(1)}</Term>
            <Term name="Referenced rate">{status.referencedRate.toFixed(1)} %</Term>
          </dl>
        </article>
      </section>

      <section aria-labelledby="tangle-heading" className="panel">
        <h2 id="tangle-heading">Tangle</h2>
        <TangleGraph
          client={client}
          tips={tips?.tips ?? []}
          confirmedIndex={status.confirmedMilestone.index}
        />
      </section>

      <div className="split">
        <section aria-labelledby="timeline-heading" className="panel">
          <h2 id="timeline-heading">Milestones</h2>
          <Timeline
            timeline={timeline}
            error={milestones.error}
            loading={milestones.loading}
            retry={milestones.reload}
          />
        </section>
        <section aria-labelledby="tips-heading" className="panel">
          <h2 id="tips-heading">Tips{tips ? ` (${tips.tips.length})` : ''}</h2>
          {!tips ? (
            initialTips.error ? (
              <ErrorMessage error={initialTips.error} what="tips" retry={initialTips.reload} />
            ) : (
              <Loading what="tips" />
            )
          ) : tips.tips.length === 0 ? (
            <Empty>The node has no tips right now.</Empty>
          ) : (
            <>
              <ul className="tips">
                {tips.tips.map((t) => (
                  <li key={t}>
                    <IdLink id={t} />
                  </li>
                ))}
              </ul>
              <p className="muted">As of {formatTime(tips.at)}</p>
            </>
          )}
        </section>
      </div>
    </div>
  );
}

/** A milestone's index, big and linked to the explorer, with when it was issued. */
function MilestoneCard({
  title,
  testId,
  index,
  children,
}: {
  title: string;
  testId: string;
  index: number;
  children: ReactNode;
}) {
  return (
    <article className="card">
      <h3>{title}</h3>
      <p className="big">
        <a href={`#/explorer/${index}`} data-testid={testId}>
          {index}
        </a>
      </p>
      <p className="muted">{children}</p>
    </article>
  );
}

function SyncBanner({
  status,
  behind,
  stalled,
  confirmedMs,
  now,
}: {
  status: NodeStatus;
  behind: number;
  stalled: boolean;
  confirmedMs: number | undefined;
  now: number;
}) {
  if (!status.synced)
    return (
      <div className="banner banner-warn" role="alert">
        <strong>Node not synced.</strong> Confirmed milestone {status.confirmedMilestone.index} of{' '}
        {status.latestMilestone.index}
        {behind > 0 ? ` (${behind} behind)` : ''}. Balances and payment states may lag until it catches up.
      </div>
    );
  if (stalled)
    return (
      <div className="banner banner-warn" role="alert">
        <strong>No new milestone</strong> for {formatAge(now, confirmedMs).replace(' ago', '')}: is the
        coordinator running?
      </div>
    );
  return null;
}

function Timeline({
  timeline,
  error,
  loading,
  retry,
}: {
  timeline: TimelineEntry[];
  error: unknown;
  loading: boolean;
  retry: () => void;
}) {
  const intervals = timeline.map((t, i) => {
    const older = timeline[i + 1];
    return older && older.index === t.index - 1 ? t.timestampMs - older.timestampMs : undefined;
  });
  const max = Math.max(1, ...intervals.filter((x): x is number => x !== undefined));
  if (timeline.length === 0) {
    if (loading) return <Loading what="milestones" />;
    if (error) return <ErrorMessage error={error} what="milestones" retry={retry} />;
    return <Empty>No confirmed milestones yet.</Empty>;
  }
  const rows = timeline.map((entry, i) => ({ entry, interval: intervals[i] }));
  return (
    <DataTable
      scrollLabel="Milestones, scrollable"
      caption={`Last ${timeline.length} confirmed milestones, newest first`}
      rows={rows}
      rowKey={({ entry }) => entry.index}
      columns={[
        { header: 'Milestone', cell: ({ entry }) => <MilestoneLink index={entry.index} /> },
        {
          header: 'Time',
          cell: ({ entry }) => (
            <time dateTime={isoTime(entry.timestampMs)}>{formatTime(entry.timestampMs)}</time>
          ),
        },
        {
          header: 'Interval',
          cell: ({ interval }) => (
            <span className="interval">
              <span
                className="interval-bar"
                aria-hidden="true"
                style={{ width: `${((interval ?? 0) / max) * 100}%` }}
              />
              <span>{interval === undefined ? '—' : formatDuration(interval)}</span>
            </span>
          ),
        },
      ]}
    />
  );
}

import { useEffect, useMemo, useRef, useState } from 'react';
import { describeError } from '../../api/http';
import type { WalletClient } from '../../api/wallet';
import { shortId } from '../../format/ids';
import { explorerHref } from '../../router';
import { ScrollRegion } from '../ScrollRegion';
import { type BlockKind, type BlockState, layoutTangle, type PlacedBlock, type TangleBlock } from './layout';
import { TangleWalker } from './walker';

const R = 9;

const kindLabel: Record<BlockKind, string> = {
  milestone: 'milestone',
  transaction: 'transaction',
  data: 'tagged data',
  empty: 'no payload',
  unknown: 'not loaded yet',
};

const stateLabel: Record<BlockState, string> = {
  pending: 'not referenced yet',
  referenced: 'referenced',
  conflicting: 'conflicting',
};

/** Shape says the payload, fill says the state, a dashed ring says tip: never color alone. */
export function BlockShape({
  kind,
  state,
  tip,
  x,
  y,
}: Pick<TangleBlock, 'kind' | 'state' | 'tip'> & { x: number; y: number }) {
  const cls = `shape state-${state} kind-${kind}`;
  let shape: React.ReactNode;
  if (kind === 'milestone')
    shape = (
      <polygon
        className={cls}
        points={`${x},${y - R - 3} ${x + R + 3},${y} ${x},${y + R + 3} ${x - R - 3},${y}`}
      />
    );
  else if (kind === 'transaction')
    shape = <rect className={cls} x={x - R} y={y - R} width={R * 2} height={R * 2} />;
  else if (kind === 'data')
    shape = (
      <polygon
        className={cls}
        points={`${x},${y - R - 1} ${x + R + 1},${y + R - 1} ${x - R - 1},${y + R - 1}`}
      />
    );
  else shape = <circle className={cls} cx={x} cy={y} r={kind === 'unknown' ? R - 3 : R - 1} />;
  return (
    <>
      {tip && <circle className="tip-ring" cx={x} cy={y} r={R + 6} />}
      {shape}
      {state === 'conflicting' && (
        <path
          className="cross"
          d={`M${x - 5},${y - 5} L${x + 5},${y + 5} M${x + 5},${y - 5} L${x - 5},${y + 5}`}
        />
      )}
    </>
  );
}

function describeBlock(b: PlacedBlock): string {
  const parts = [`Block ${shortId(b.id)}`, kindLabel[b.kind]];
  if (b.milestoneIndex !== undefined) parts.push(`milestone ${b.milestoneIndex}`);
  parts.push(stateLabel[b.state]);
  if (b.referencedBy !== undefined) parts.push(`by milestone ${b.referencedBy}`);
  if (b.tip) parts.push('tip');
  return parts.join(', ');
}

type LegendSample = Pick<TangleBlock, 'kind' | 'state' | 'tip'>;
const settled = (kind: TangleBlock['kind']): LegendSample => ({ kind, state: 'referenced', tip: false });
const plain = (state: TangleBlock['state'], tip = false): LegendSample => ({ kind: 'empty', state, tip });

/** The legend's two groups: what each shape means, and what each fill and mark means. */
const legendGroups: { id: string; title: string; items: [label: string, sample: LegendSample][] }[] = [
  {
    id: 'legend-payload',
    title: 'Shape: payload',
    items: [
      ['milestone (diamond)', settled('milestone')],
      ['transaction (square)', settled('transaction')],
      ['tagged data (triangle)', settled('data')],
      ['no payload (circle)', settled('empty')],
    ],
  },
  {
    id: 'legend-state',
    title: 'Fill and marks: state',
    items: [
      ['referenced by a milestone (filled)', plain('referenced')],
      ['not referenced yet (hollow)', plain('pending')],
      ['conflicting (red, crossed)', plain('conflicting')],
      ['current tip (dashed ring)', plain('pending', true)],
    ],
  },
];

export function TangleLegend() {
  return (
    <div className="legend-groups">
      {legendGroups.map((group) => (
        <div key={group.id}>
          <h3 id={group.id}>{group.title}</h3>
          <ul className="legend" aria-labelledby={group.id}>
            {group.items.map(([label, sample]) => (
              <li key={label}>
                <svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true" className="tangle">
                  <BlockShape {...sample} x={15} y={15} />
                </svg>
                {label}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

/** Recent blocks from the current tips back a few milestones, redrawn as tips change. */
export function TangleGraph({
  client,
  tips,
  confirmedIndex,
}: {
  client: WalletClient;
  tips: readonly string[];
  confirmedIndex: number | undefined;
}) {
  const walker = useMemo(() => new TangleWalker(client), [client]);
  const [blocks, setBlocks] = useState<TangleBlock[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const busy = useRef(false);
  const lastWalk = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef({ tips, confirmedIndex });
  latest.current = { tips, confirmedIndex };
  const scroller = useRef<HTMLElement>(null);
  const pinnedRight = useRef(true);
  // What the walks did, on the page for whoever wonders why nothing is drawn yet.
  const [walks, setWalks] = useState({ started: 0, finished: 0, skippedHidden: 0 });
  const [wake, setWake] = useState(0);

  // Aborted only on unmount: a new tips event must not cancel a walk under way.
  const lifetime = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    const controller = new AbortController();
    lifetime.current = controller;
    // A walk skipped while the page was hidden runs when it shows again, not only at the next tips event.
    const onVisible = () => {
      if (!document.hidden) setWake((n) => n + 1);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      controller.abort();
      clearTimeout(pending.current);
      pending.current = undefined;
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: wake only re-arms the schedule
  useEffect(() => {
    if (tips.length === 0 || confirmedIndex === undefined) return;
    // At most one walk at a time and one every 2 s (tips arrive every second): with the request budget
    // per walk this stays well inside the wallet-service's per-client rate limit.
    const run = async () => {
      pending.current = undefined;
      const signal = lifetime.current?.signal;
      if (busy.current || !signal || signal.aborted) return;
      if (document.hidden) {
        setWalks((w) => ({ ...w, skippedHidden: w.skippedHidden + 1 }));
        return;
      }
      busy.current = true;
      lastWalk.current = Date.now();
      setWalks((w) => ({ ...w, started: w.started + 1 }));
      try {
        const { tips: t, confirmedIndex: c } = latest.current;
        const result = await walker.walk(t, c ?? 0, signal, (partial) => {
          if (!signal.aborted) setBlocks((shown) => shown ?? partial);
        });
        if (!signal.aborted) {
          setBlocks(result);
          setError(undefined);
        }
      } catch (e) {
        if (!signal.aborted) setError(e);
      } finally {
        busy.current = false;
        if (!signal.aborted) setWalks((w) => ({ ...w, finished: w.finished + 1 }));
      }
    };
    if (pending.current) return;
    pending.current = setTimeout(run, Math.max(0, 2000 - (Date.now() - lastWalk.current)));
  }, [tips, confirmedIndex, walker, wake]);

  const layout = useMemo(() => (blocks ? layoutTangle(blocks) : undefined), [blocks]);

  // Keep the newest blocks in view unless the reader scrolled back.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run on each new layout
  useEffect(() => {
    const el = scroller.current;
    if (el && pinnedRight.current) el.scrollLeft = el.scrollWidth;
  }, [layout]);

  if (!layout) {
    if (error)
      return (
        <p role="alert" className="state state-error">
          Could not walk the tangle: {describeError(error)}
        </p>
      );
    return (
      <p
        className="state state-loading"
        role="status"
        data-walks-started={walks.started}
        data-walks-finished={walks.finished}
        data-walks-skipped-hidden={walks.skippedHidden}
      >
        <span className="spinner" aria-hidden="true" /> Walking the tangle from the current tips…
      </p>
    );
  }
  const count = (f: (b: TangleBlock) => boolean) => layout.blocks.filter(f).length;
  return (
    <figure className="tangle-figure">
      <ScrollRegion
        className="tangle-scroll"
        ref={scroller}
        label="Tangle graph, scrollable; each block links to the explorer"
        onScroll={(e) => {
          const el = e.currentTarget;
          pinnedRight.current = el.scrollLeft + el.clientWidth >= el.scrollWidth - 8;
        }}
      >
        <svg
          className="tangle"
          width={layout.width}
          height={layout.height}
          viewBox={`0 0 ${layout.width} ${layout.height}`}
        >
          <title>{`${layout.blocks.length} recent blocks of the tangle`}</title>
          <g className="edges">
            {layout.edges.map((e) => (
              <line key={`${e.from}-${e.to}`} x1={e.x1} y1={e.y1} x2={e.x2} y2={e.y2} />
            ))}
          </g>
          {layout.blocks.map((b) => (
            <a
              key={b.id}
              href={explorerHref(b.id)}
              aria-label={describeBlock(b)}
              className="block-link"
              data-kind={b.kind}
            >
              <title>{describeBlock(b)}</title>
              <BlockShape kind={b.kind} state={b.state} tip={b.tip} x={b.x} y={b.y} />
              {b.milestoneIndex !== undefined && (
                <text x={b.x} y={b.y + R + 16} textAnchor="middle" className="ms-label">
                  {b.milestoneIndex}
                </text>
              )}
            </a>
          ))}
        </svg>
      </ScrollRegion>
      <figcaption>
        {layout.blocks.length} blocks, newest on the right: {count((b) => b.kind === 'milestone')} milestones,{' '}
        {count((b) => b.kind === 'transaction')} transactions, {count((b) => b.tip)} tips,{' '}
        {count((b) => b.state === 'pending')} not yet referenced, {count((b) => b.state === 'conflicting')}{' '}
        conflicting. Edges run from a block to the parents it approves.
        {error ? <span className="hint"> (last refresh failed: {describeError(error)})</span> : null}
      </figcaption>
      <TangleLegend />
    </figure>
  );
}

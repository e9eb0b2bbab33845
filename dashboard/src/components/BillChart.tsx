import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BillPoint {
  tMs: number;
  /** Running totals over the cycle, in base units. */
  paid: number;
  retail: number;
}

/**
 * What the household paid over the cycle against what the retail supplier would have charged for the same
 * energy (uPlot, loaded with the Bills page). The totals table beside it is the accessible, exact view.
 */
export default function BillChart({ points, label }: { points: BillPoint[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const styles = getComputedStyle(el);
    const stroke = styles.getPropertyValue('--chart-line').trim() || '#1565c0';
    const axis = styles.getPropertyValue('--fg-muted').trim() || '#555';
    const grid = styles.getPropertyValue('--border').trim() || '#ddd';
    const axisOpts = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 220,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [{ ...axisOpts }, { ...axisOpts, label: 'base units', size: 70 }],
        series: [
          {},
          { label: 'Paid (running total)', stroke, width: 2 },
          { label: 'Retail baseline', stroke: axis, width: 2, dash: [6, 4] },
        ],
      },
      [points.map((p) => p.tMs / 1000), points.map((p) => p.paid), points.map((p) => p.retail)],
      el,
    );
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
    };
  }, [points]);

  return <div ref={host} className="chart" role="img" aria-label={label} />;
}

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BillSeries {
  label: string;
  values: (number | null)[];
  dashed?: boolean;
}

/**
 * A bill's lines over the cycle (uPlot, loaded with the Bills page): times in ms and one or two series.
 * The tables beside it are the accessible, exact view.
 */
export default function BillChart({
  times,
  series,
  unit,
  label,
}: {
  times: number[];
  series: BillSeries[];
  unit: string;
  label: string;
}) {
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
        height: 200,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [{ ...axisOpts }, { ...axisOpts, label: unit, size: 70 }],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: i === 0 ? stroke : axis,
            width: 2,
            ...(s.dashed ? { dash: [6, 4] } : {}),
          })),
        ],
      },
      [times.map((t) => t / 1000), ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 200 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
    };
  }, [times, series, unit]);

  return <div ref={host} className="chart" role="img" aria-label={label} />;
}

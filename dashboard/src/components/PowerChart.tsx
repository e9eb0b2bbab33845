import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface PowerPoint {
  tMs: number;
  powerUW: number | null;
}

/**
 * Power over the last minutes (uPlot: canvas, small, fast). Loaded lazily with the Meters page so the
 * first route does not carry it. The numbers beside the chart are the accessible view of it.
 */
export default function PowerChart({
  points,
  windowMs,
  label,
}: {
  points: PowerPoint[];
  windowMs: number;
  label: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const styles = getComputedStyle(el);
    const stroke = styles.getPropertyValue('--chart-line').trim() || '#1565c0';
    const fill = styles.getPropertyValue('--chart-fill').trim() || 'rgba(21,101,192,0.12)';
    const axis = styles.getPropertyValue('--fg-muted').trim() || '#555';
    const grid = styles.getPropertyValue('--border').trim() || '#ddd';
    const axisOpts = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const clock = new Intl.DateTimeFormat(undefined, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max * 1.1, 0.1)] },
        },
        axes: [
          // Times only, spaced for their width: the window is minutes long, dates add nothing.
          { ...axisOpts, space: 90, values: (_u, splits) => splits.map((s) => clock.format(s * 1000)) },
          { ...axisOpts, label: 'W', size: 56 },
        ],
        series: [
          {},
          {
            label: 'Power',
            stroke,
            fill,
            width: 2,
            spanGaps: false,
            value: (_u, v) => (v == null ? '—' : `${v.toFixed(3)} W`),
          },
        ],
      },
      [[], []],
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = undefined;
    };
  }, []);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const now = points.length ? points[points.length - 1]!.tMs : Date.now();
    const xs = points.map((p) => p.tMs / 1000);
    const ys = points.map((p) => (p.powerUW === null ? null : p.powerUW / 1e6));
    u.batch(() => {
      u.setData([xs, ys], false);
      u.setScale('x', { min: (now - windowMs) / 1000, max: now / 1000 });
    });
  }, [points, windowMs]);

  return <div ref={host} className="chart" role="img" aria-label={label} />;
}

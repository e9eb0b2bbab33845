// The Prometheus side of the contract: how a TangleWatt process exposes its metrics, whose names the Grafana
// dashboards read. Its own entry point (@tanglewatt/contract/metrics), so what imports the wire types does
// not load prom-client.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** A process's metrics: a registry of its own, rendered in the text exposition format. */
export abstract class ProcessMetrics {
  readonly registry = new Registry();

  /** With `processMetrics`, prom-client's process_* and nodejs_* metrics too. */
  constructor(processMetrics = false) {
    // The event-loop delay is sampled once a second, not every 10 ms (prom-client's default): those 100
    // wake-ups a second took the agent from 0.2 % to 0.8 % of a core (meter-agent/bench/footprint.ts --http).
    if (processMetrics)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops listening to what the counters count. */
  abstract close(): void;
}

/** Every series name the metrics `define` registers export, a histogram by its three: what a dashboard may query. */
export function seriesNames(define: (registry: Registry) => unknown): string[] {
  const registry = new Registry();
  define(registry);
  return registry
    .getMetricsAsArray()
    .flatMap((m) =>
      m instanceof Histogram ? ['_bucket', '_sum', '_count'].map((s) => m.name + s) : [m.name],
    );
}

/** A gauge read when Prometheus scrapes: `value()`, left as it was while that is undefined. */
export function scrapedGauge(options: {
  name: string;
  help: string;
  registers: Registry[];
  value: () => number | undefined;
}): Gauge {
  const { value, ...metric } = options;
  return new Gauge({
    ...metric,
    collect() {
      const v = value();
      if (v !== undefined) this.set(v);
    },
  });
}

/** A gauge of the bytes on disk of each journal in a data dir, measured when Prometheus scrapes. */
export function journalSizeGauge(options: {
  name: string;
  help: string;
  registers: Registry[];
  /** Undefined: nothing to report. */
  dataDir: () => string | undefined;
  /** Bytes by journal name (the journal package's journalSizes). */
  sizes: (dataDir: string) => Promise<Map<string, number>>;
}): Gauge<'journal'> {
  const { dataDir, sizes, ...metric } = options;
  return new Gauge({
    ...metric,
    labelNames: ['journal'],
    async collect() {
      const dir = dataDir();
      if (!dir) return;
      this.reset();
      for (const [journal, bytes] of await sizes(dir)) this.set({ journal }, bytes);
    },
  });
}

/** The value of one series in a scrape's text, e.g. seriesValue(text, 'x_total{sensor="load"}'). */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The value of each of the series named in a scrape's text, by name (undefined where one is absent). */
export function seriesValues(text: string, series: Iterable<string>): Record<string, number | undefined> {
  return Object.fromEntries([...series].map((s) => [s, seriesValue(text, s)]));
}

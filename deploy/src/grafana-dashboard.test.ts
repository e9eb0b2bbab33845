import { readFile } from 'node:fs/promises';
import { agentMetricNames } from '@tanglewatt/meter-agent';
import { walletMetricNames } from '@tanglewatt/wallet-service';
import { describe, expect, it } from 'vitest';

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}

const dashboard = JSON.parse(
  await readFile(new URL('../grafana/tanglewatt.json', import.meta.url), 'utf8'),
) as Dashboard;
const scrapeExample = await readFile(new URL('../grafana/prometheus.yml', import.meta.url), 'utf8');
const graphs = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = graphs.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
/** Metric names in a PromQL expression: ours all start tanglewatt_. */
const namesIn = (expr: string) => expr.match(/\btanglewatt_[a-z0-9_]+/g) ?? [];

describe('Grafana dashboard deploy/grafana/tanglewatt.json', () => {
  const exported = new Set([...walletMetricNames(), ...agentMetricNames()]);

  it('queries only metrics the wallet-service and the agent register', () => {
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) {
      expect(namesIn(expr).length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of namesIn(expr)) expect(exported, `${panel}: ${expr}`).toContain(name);
    }
  });

  it('shows every metric they register', () => {
    const queried = new Set(exprs.flatMap(({ expr }) => namesIn(expr)));
    // A histogram is shown by its buckets, sum and count together or by its buckets alone.
    const shown = (name: string) =>
      queried.has(name) ||
      (/_(sum|count)$/.test(name) && queried.has(name.replace(/_(sum|count)$/, '_bucket')));
    for (const name of exported) expect(shown(name), name).toBe(true);
  });

  it('takes its Prometheus data source from a variable on every panel and query', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ query: 'prometheus' });
    const ref = `\${${variable!.name}}`;
    for (const panel of graphs) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: ref });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(ref);
    }
  });

  it('has a scrape example for both /metrics, the wallet-service one with a bearer token from a file', () => {
    expect(scrapeExample).toMatch(/job_name: tanglewatt-wallet-service[\s\S]*credentials_file:/);
    expect(scrapeExample).toContain("targets: ['127.0.0.1:8480']");
    expect(scrapeExample).toContain("targets: ['127.0.0.1:8490']");
  });
});

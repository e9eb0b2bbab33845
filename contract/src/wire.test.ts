import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { MarketTrade, ReceivedPayment, Trade } from './index.js';
import { describeRejection, nodeStatusOf, rejectionReasons, rejectionText } from './wire.js';

/** The modules a file loads when it runs: `import type` and `export type` vanish, everything else stays. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  const statements = source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gms);
  return [...statements].map((m) => m[1]!);
}

/** Every module a file loads when it runs, following the package's own relative imports. */
function runtimeClosure(entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const spec of runtimeImports(file)) {
      const next = spec.startsWith('./') ? spec.replace(/\.js$/, '.ts') : spec;
      if (seen.has(next)) continue;
      seen.add(next);
      if (next.startsWith('./')) queue.push(next);
    }
  }
  return seen;
}

describe('the zod-free entry a browser imports', () => {
  it('loads nothing outside this package when it runs: no zod, no node code', () => {
    const loaded = [...runtimeClosure('./wire.ts')];
    expect(loaded.filter((m) => !m.startsWith('./'))).toEqual([]);
    expect(loaded).not.toContain('./schemas.ts');
  });

  it('sees through import type, but not through a value import', () => {
    expect(runtimeImports('./feed.ts')).toEqual([]);
    expect(runtimeImports('./schemas.ts')).toContain('zod');
  });
});

describe('rejection texts', () => {
  it('give one sentence for every reason', () => {
    for (const reason of rejectionReasons) expect(rejectionText[reason]).toMatch(/^[a-z].*[a-z)]$/);
    expect(Object.keys(rejectionText).sort()).toEqual([...rejectionReasons].sort());
  });

  it('name a reason this side does not know yet by its code', () => {
    expect(describeRejection('EXPIRED')).toBe('its delivery window had ended');
    expect(describeRejection('SOME_NEW_REASON')).toBe('some new reason');
  });
});

describe('schemas and wire types', () => {
  it('agree: a trade the agent parses is a trade the market makes', () => {
    expectTypeOf<MarketTrade>().toEqualTypeOf<Trade>();
  });

  it('agree: a received payment carries its claim state as listed', () => {
    expectTypeOf<ReceivedPayment['claim']>().toEqualTypeOf<
      'unclaimed' | 'claimed' | 'expired' | 'returned' | undefined
    >();
  });
});

describe("the feed's node event", () => {
  const info = (latest: number, confirmed: number) => ({
    status: {
      isHealthy: true,
      latestMilestone: { index: latest, timestamp: 1, milestoneId: 'a' },
      confirmedMilestone: { index: confirmed, timestamp: 1, milestoneId: 'b' },
    },
    protocol: { networkName: 'tanglewatt' },
    metrics: { blocksPerSecond: 3, referencedBlocksPerSecond: 2, referencedRate: 66.7 },
  });

  it('is synced once the confirmed milestone has caught up with the latest', () => {
    expect(nodeStatusOf(info(7, 7))).toMatchObject({
      healthy: true,
      synced: true,
      networkName: 'tanglewatt',
    });
    expect(nodeStatusOf(info(8, 7)).synced).toBe(false);
    expect(nodeStatusOf(info(8, 7))).toMatchObject({ blocksPerSecond: 3, referencedRate: 66.7 });
  });
});

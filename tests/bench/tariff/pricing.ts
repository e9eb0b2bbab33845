/**
 * How long pricing takes: one period of 1 Hz samples (3,600 for an hour) across the 17:00 standard/high
 * boundary of the README's example tariff, priced and settled `--runs` times; prints the median.
 *
 *   npx tsx tests/bench/tariff/pricing.ts [--seconds 3600] [--runs 20]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseTariffHistory, pricePeriodEnergy, settleWithCarry } from '@tanglewatt/tariff';
import { exampleTariff } from '@tanglewatt/tariff/testing';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3600' }, runs: { type: 'string', default: '20' } },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--seconds: must be a whole number ≥ 1');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: must be a whole number ≥ 1');

const history = parseTariffHistory([exampleTariff()]);
// Wednesday 2026-01-14, centred on 17:00 local (16:00Z).
const startMs = Date.UTC(2026, 0, 14, 16) - Math.floor(seconds / 2) * 1000;
const endMs = startMs + seconds * 1000;
// About 500 W with a wobble: 1 s at 500 W is 500 J = 10^12 half-nJ.
const intervals = Array.from({ length: seconds }, (_, s) => ({
  startMs: startMs + s * 1000,
  endMs: startMs + (s + 1) * 1000,
  energyHalfNJ: 1_000_000_000_000n + BigInt((s * 7919) % 100_003) * 1_000_003n,
}));

const times: number[] = [];
let units = 0n;
for (let run = 0; run < runs; run++) {
  const t0 = performance.now();
  const priced = pricePeriodEnergy(history, { startMs, endMs, intervals });
  units = settleWithCarry(priced.exact).units.producer;
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `${seconds} samples across a band boundary: median ${median.toFixed(1)} ms per period over ${runs} runs (producer ${units} units)`,
);

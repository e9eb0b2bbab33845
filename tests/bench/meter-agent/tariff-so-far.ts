// What the live snapshot's tariff pricing costs: the open period's readings priced again (`priceReadings`,
// which the agent's `priceTariffReadings` calls before settling three carries), for one-second readings over
// periods of 15 min, 1 h and 1 day under the README's example tariff. Not a test.
// Run: npx tsx tests/bench/meter-agent/tariff-so-far.ts [--runs 5]
import { parseArgs } from 'node:util';
import { parseTariffHistory, priceReadings } from '@tanglewatt/tariff';
import { exampleTariff } from '@tanglewatt/tariff/testing';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const START = Date.UTC(2026, 0, 14, 16, 0, 0);
const history = parseTariffHistory([exampleTariff()]);

for (const seconds of [900, 3600, 86_400]) {
  const readings = Array.from({ length: seconds }, (_, i) => ({
    tMs: START + i * 1000,
    powerMW: 1000 + (i % 7),
  }));
  priceReadings(history, { readings, gapMs: 3000 });
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    priceReadings(history, { readings, gapMs: 3000 });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`${seconds} readings: median ${times[Math.floor(RUNS / 2)]!.toFixed(1)} ms per pricing`);
}

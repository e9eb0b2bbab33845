/**
 * The meters' signed readings for a cycle, from the community indexer through the channels library: each
 * meter's channel messages found by its tag (or the payments naming them, for a restricted channel opened
 * with a reader key), verified as a reader verifies them (signature under the meter's key, sequence
 * numbers without a gap, hash chain) by `exportRecords`. Any message that does not verify stops the
 * statement: an operator does not bill from readings it cannot stand behind.
 */
import {
  channelIdHex,
  exportRecords,
  fromHex,
  ledgerBlocks,
  type RecordIndexer,
  staticSigners,
} from '@tanglewatt/channels';
import type { PowerReading } from '@tanglewatt/tariff';
import type { MeterReadings } from './allocation.js';
import type { AllocationConfig, AllocationMeter } from './allocation-config.js';
import type { AllocationCycle } from './allocation-cycle.js';
import { BillError } from './errors.js';

export async function readMeter(
  indexer: RecordIndexer,
  meter: AllocationMeter,
  window: { fromMs: number; toMs: number },
): Promise<MeterReadings> {
  const publicKey = fromHex(meter.publicKey, 32, 'meter public key');
  const channelId = channelIdHex(publicKey);
  const result = await exportRecords({
    blocks: ledgerBlocks({ indexer }),
    indexer,
    channelId,
    signers: staticSigners([publicKey]),
    publicKeys: [publicKey],
    ...(meter.readerSecretKey ? { readerSecretKey: meter.readerSecretKey } : {}),
    from: { ms: window.fromMs },
    to: { ms: window.toMs },
  });
  const failure = result.failures[0];
  if (failure)
    throw new BillError(
      'UNREADABLE',
      `meter ${meter.meterId}: ${failure.reason} at seq ${failure.seq ?? '?'}: ${failure.detail}`,
    );
  const readings: PowerReading[] = [];
  for (const record of result.records)
    for (const [tMs, , , powerMW] of record.payload.XV) {
      const last = readings.at(-1);
      if (last && tMs <= last.tMs) continue;
      readings.push({ tMs, powerMW });
    }
  return {
    meterId: meter.meterId,
    channelId,
    readings,
    messageHashes: result.records.map((r) => r.wireHash),
  };
}

/**
 * Every meter of the config, generation first, with readings from one gap before the cycle to one gap after
 * it: the stretches that cross its start and end count up to them.
 */
export async function readAllocationMeters(
  indexer: RecordIndexer,
  config: AllocationConfig,
  cycle: AllocationCycle,
): Promise<MeterReadings[]> {
  const window = { fromMs: cycle.fromMs - config.gapMs, toMs: cycle.toMs + config.gapMs };
  const out: MeterReadings[] = [];
  for (const meter of [...config.generation, ...config.members])
    out.push(await readMeter(indexer, meter, window));
  return out;
}

/** Meters whose readings stop before the cycle's end: not indexed yet, or the meter stopped. */
export function shortMeters(meters: readonly MeterReadings[], cycle: AllocationCycle): string[] {
  return meters.flatMap((m) => {
    const last = m.readings.at(-1)?.tMs;
    if (last !== undefined && last >= cycle.toMs) return [];
    return [
      `meter ${m.meterId}: its readings ${last === undefined ? 'are none' : `end at ${new Date(last).toISOString()}`}, before the cycle's end (not indexed yet, or the meter stopped)`,
    ];
  });
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REFERENCE_TEST_SLOTS,
  type ReferenceOnTangleResult,
  referenceOnTangleTable,
  runReferenceOnTangle,
} from '@tanglewatt/deploy';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const tangle = inject('tangle');
/** 10 000 base units/Wh, as in the reference. */
const PRICE = 10_000n;

describe('the reference community on the real tangle', () => {
  let dir: string;
  let result: ReferenceOnTangleResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tanglewatt-community-'));
    // Eight wallet-services, one per household, on genesis slots no other test file takes.
    result = await runReferenceOnTangle({
      tangle,
      dataDir: dir,
      log: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
      slots: REFERENCE_TEST_SLOTS,
    });
    process.stdout.write(`${referenceOnTangleTable(result)}\n`);
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fills = (trades: ReferenceOnTangleResult['sale']) =>
    trades.map((t) => [t.sellerName, t.buyerName, t.energyWh, t.priceUnitsPerWh]);

  it('fills C201’s 50 kWh from the largest offers: 20 P102, 19 P103, 11 P105', () => {
    expect(fills(result.sale)).toEqual([
      ['P102', 'C201', 20_000, '10000'],
      ['P103', 'C201', 19_000, '10000'],
      ['P105', 'C201', 11_000, '10000'],
    ]);
  });

  it('fills P107’s 10 kWh from the others: 5 P101, 2.5 P104, 1.5 P105, 1 P106', () => {
    expect(fills(result.purchase)).toEqual([
      ['P101', 'P107', 5_000, '10000'],
      ['P104', 'P107', 2_500, '10000'],
      ['P105', 'P107', 1_500, '10000'],
      ['P106', 'P107', 1_000, '10000'],
    ]);
  });

  it('every household computed the same trades, with the same ids', () => {
    const ids = [...result.sale, ...result.purchase].map((t) => t.id);
    expect(Object.keys(result.tradeIdsByHousehold)).toHaveLength(8);
    for (const tradeIds of Object.values(result.tradeIdsByHousehold)) expect(tradeIds).toEqual(ids);
    expect(new Set(result.households.map((h) => h.address)).size).toBe(8);
    expect(result.acksInEveryBook).toBe(14);
  });

  it('moves exactly what the trades owe on the ledger, in base units', () => {
    const owed = new Map<string, bigint>();
    for (const t of [...result.sale, ...result.purchase]) {
      const value = BigInt(t.energyWh) * PRICE;
      owed.set(t.sellerName, (owed.get(t.sellerName) ?? 0n) + value);
      owed.set(t.buyerName, (owed.get(t.buyerName) ?? 0n) - value);
    }
    const delta = Object.fromEntries(result.rows.map((r) => [r.name, r.deltaUnits]));
    expect(delta).toEqual({
      P101: 50_000_000n,
      P102: 200_000_000n,
      P103: 190_000_000n,
      P104: 25_000_000n,
      P105: 125_000_000n,
      P106: 10_000_000n,
      P107: -100_000_000n,
      C201: -500_000_000n,
    });
    for (const r of result.rows) {
      expect(r.deltaUnits).toBe(owed.get(r.name) ?? 0n);
      expect(r.deltaUnits).toBe(r.referenceDeltaUnits);
      expect(r.startUnits).toBe(10_000_000_000n);
    }
    expect(result.payments).toHaveLength(7);
  });

  it('leaves the energy the reference leaves', () => {
    const energy = Object.fromEntries(result.rows.map((r) => [r.name, [r.energyWh, r.unsoldWh]]));
    expect(energy).toEqual({
      P101: [0, 0],
      P102: [0, 0],
      P103: [0, 0],
      P104: [0, 0],
      P105: [0, 0],
      P106: [500, 500],
      P107: [16_000, 6_000],
      C201: [50_000, 0],
    });
  });
});

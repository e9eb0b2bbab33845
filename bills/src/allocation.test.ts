import { hexToBech32 } from '@tanglewatt/ledger';
import { exampleTariff } from '@tanglewatt/tariff/testing';
import { describe, expect, it } from 'vitest';
import { allocationPayment, buildAllocationStatement, type MeterReadings } from './allocation.js';
import { parseAllocationConfig } from './allocation-config.js';
import { parseCycle } from './allocation-cycle.js';
import { allocationCsv } from './allocation-format.js';
import { shortMeters } from './allocation-read.js';
import { checkAllocationPayment, type LedgerAllocationPayment, verdictLine } from './allocation-verify.js';

const hex = (byte: string) => `0x${byte.repeat(32)}`;
const addr = (byte: string) => hexToBech32(hex(byte), 'rms');
const key = (byte: string) => byte.repeat(32);
const PRODUCER = addr('a1');
const OPERATOR = addr('a2');
const GRID = addr('a3');
const MEMBER_A = addr('b1');
const MEMBER_B = addr('b2');

/** The README's example tariff: Wednesday 07:00–17:00 standard (0.3/Wh), 17:00–20:00 high (0.5/Wh). */
const config = parseAllocationConfig({
  tariff: exampleTariff(),
  gapMs: 1_800_000,
  payees: { producer: PRODUCER, operator: OPERATOR, grid: GRID },
  generation: [{ meterId: 'pv-roof', publicKey: key('01') }],
  members: [
    { meterId: 'house-a', publicKey: key('02'), keyPercent: '60', address: MEMBER_A },
    { meterId: 'house-b', publicKey: key('03'), keyPercent: '25', address: MEMBER_B },
  ],
});
/** Wednesday 14 January 2026, Berlin (UTC+1): local h:m as unix ms. */
const wed = (h: number, m = 0) => Date.UTC(2026, 0, 14, h - 1, m);
const cycle = parseCycle(
  `${new Date(wed(16, 30)).toISOString()}..${new Date(wed(17, 30)).toISOString()}`,
  config.history,
);
const meter = (meterId: string, watts: [number, number, number]): MeterReadings => ({
  meterId,
  channelId: meterId.padEnd(64, '0'),
  // Readings at 16:30, 17:00 and 17:30; power moves linearly between two readings (the meter's trapezoid).
  readings: watts.map((w, i) => ({ tMs: wed(16, 30) + i * 1_800_000, powerMW: w * 1000 })),
  messageHashes: [`${meterId}-message-1`],
});

// The worked example (README, "Allocation"): one hour across the 17:00 standard/high boundary.
// Generation 2000 W throughout: 1000 Wh standard (16:30–17:00) + 1000 Wh high (17:00–17:30) = 2000 Wh.
// house-a, key 60 %, 1000 W: consumes 500 + 500. Allocated 600 + 600 = 1200; covers 500 + 500 = 1000.
// house-b, key 25 %, 800 W, 800 W, then falling to 0 W at 17:30: consumes 400 + (800 + 0) / 2 × ½ h = 200.
//   Allocated 250 + 250 = 500; covers min(250, 400) + min(250, 200) = 250 + 200 = 450; residual 150.
// Unallocated: 2000 − 1000 − 450 = 550 (the keys' 15 %: 300; house-a's unused 200; house-b's 50 at high).
// Prices: standard 0.3, high 0.5; operator 10 % of the energy; grid 0.05/Wh standard, 0.1/Wh high.
//   house-a: standard 500 Wh → 150, 15, 25; high 500 Wh → 250, 25, 50. Owes 400 + 40 + 75 = 515 units.
//   house-b: standard 250 Wh → 75, 7.5, 12.5; high 200 Wh → 100, 10, 20. Exact 175, 17.5, 32.5:
//   owes floor: 175 + 17 + 32 = 224 units. All members: producer 575, operator 57, grid 107 = 739.
const readings = [
  meter('pv-roof', [2000, 2000, 2000]),
  meter('house-a', [1000, 1000, 1000]),
  meter('house-b', [800, 800, 0]),
];
const statement = buildAllocationStatement(config, cycle, readings);

describe('the allocation statement', () => {
  it('shares the worked example’s generation by keys, segment by segment, as computed by hand', () => {
    expect(
      statement.members.map((m) => [m.meterId, m.consumptionWh, m.allocatedWh, m.coveredWh, m.residualWh]),
    ).toEqual([
      ['house-a', '1000', '1200', '1000', '0'],
      ['house-b', '600', '500', '450', '150'],
    ]);
    expect(statement.members.map((m) => [m.units, m.totalUnits])).toEqual([
      [{ producer: '400', operator: '40', grid: '75' }, '515'],
      [{ producer: '175', operator: '17', grid: '32' }, '224'],
    ]);
    expect(statement.members[1]!.exact).toEqual({ producer: '175', operator: '17.5', grid: '32.5' });
    expect(statement.members[1]!.bands).toEqual([
      {
        version: 1,
        band: 2,
        bandName: 'standard',
        coveredWh: '250',
        producer: '75',
        operator: '7.5',
        grid: '12.5',
      },
      {
        version: 1,
        band: 1,
        bandName: 'high',
        coveredWh: '200',
        producer: '100',
        operator: '10',
        grid: '20',
      },
    ]);
    expect(statement.totals).toEqual({
      generationWh: '2000',
      coveredWh: '1450',
      unallocatedWh: '550',
      units: { producer: '575', operator: '57', grid: '107' },
      totalUnits: '739',
    });
    expect(statement.meters.map((m) => [m.meterId, m.role, m.energyWh])).toEqual([
      ['pv-roof', 'generation', '2000'],
      ['house-a', 'member', '1000'],
      ['house-b', 'member', '600'],
    ]);
  });

  it('adds up in CSV: a member row, its band rows, unallocated and the total', () => {
    const lines = allocationCsv(statement).split('\r\n');
    expect(lines[0]).toBe(
      'row,meterId,keyPercent,band,consumptionWh,allocatedWh,coveredWh,residualWh,unallocatedWh,generationWh,producer,operator,grid,totalUnits,paymentKey',
    );
    expect(lines[4]).toBe(
      `member,house-b,25,,600,500,450,150,,,175,17,32,224,house-b/allocation/${cycle.id}`,
    );
    expect(lines.slice(-3)).toEqual([
      'unallocated,,,,,,,,550,,,,,,',
      'total,,,,,,1450,,550,2000,575,57,107,739,',
      '',
    ]);
  });

  it('asks for one payment per member, under the cycle’s key, with what a verifier needs', () => {
    const request = allocationPayment(statement, 'house-b', config.payees)!;
    expect(request).toMatchObject({
      idempotencyKey: `house-b/allocation/${cycle.id}`,
      to: PRODUCER,
      amount: '175',
      shares: [
        { role: 'operator', to: OPERATOR, amount: '17' },
        { role: 'grid', to: GRID, amount: '32' },
      ],
      metadata: {
        periodId: `allocation/${cycle.id}`,
        meterId: 'house-b',
        // 450 Wh × 3,600,000 mW·s per Wh; by band: high (1) 200 Wh, standard (2) 250 Wh.
        energyMWs: '1620000000',
        bands: { '1': '720000000', '2': '900000000' },
        readingsHash: statement.readingsHash,
        tariff: { id: 'community', version: '1' },
        carry: { producer: '0/1', operator: '0/1', grid: '0/1' },
        periodStart: '2026-01-14T15:30:00.000Z',
        periodEnd: '2026-01-14T16:30:00.000Z',
      },
    });
    expect(request.metadata!.note).toBe(
      `allocation ${cycle.id}: key 25 % (keys sha256 ${statement.keysHash}), covered 450 Wh`,
    );
  });

  it('asks for nothing from a member whose meter took nothing', () => {
    const idle = buildAllocationStatement(config, cycle, [
      ...readings.slice(0, 2),
      meter('house-b', [0, 0, 0]),
    ]);
    expect(allocationPayment(idle, 'house-b', config.payees)).toBeUndefined();
  });

  it('names a meter whose readings stop before the cycle’s end (no payment is asked for then)', () => {
    expect(shortMeters(readings, cycle)).toEqual([]);
    const cut = { ...readings[2]!, readings: readings[2]!.readings.slice(0, 2) };
    expect(shortMeters([readings[0]!, readings[1]!, cut], cycle)).toEqual([
      "meter house-b: its readings end at 2026-01-14T16:00:00.000Z, before the cycle's end (not indexed yet, or the meter stopped)",
    ]);
  });

  it('refuses a meter it has no readings of', () => {
    expect(() => buildAllocationStatement(config, cycle, readings.slice(0, 2))).toThrow(
      'meter house-b: no readings were read',
    );
  });
});

describe('allocate verify, against the ledger', () => {
  const request = allocationPayment(statement, 'house-b', config.payees)!;
  const paid = (change: Partial<LedgerAllocationPayment> = {}): LedgerAllocationPayment => ({
    transactionId: hex('0f'),
    description: {
      k: request.idempotencyKey,
      o: 0,
      a: '175',
      ...request.metadata,
      shares: [
        { role: 'operator', o: 1 },
        { role: 'grid', o: 2 },
      ],
    },
    signer: hex('b2'),
    outputs: [
      { owner: hex('a1'), units: 175n },
      { owner: hex('a2'), units: 17n },
      { owner: hex('a3'), units: 32n },
      { owner: hex('b2'), units: 999n }, // change
    ],
    ...change,
  });
  const check = (found: LedgerAllocationPayment[]) =>
    checkAllocationPayment(statement, 'house-b', config.payees, found, (b) =>
      b === PRODUCER
        ? hex('a1')
        : b === OPERATOR
          ? hex('a2')
          : b === GRID
            ? hex('a3')
            : b === MEMBER_B
              ? hex('b2')
              : hex('ff'),
    );

  it('passes the payment the readings give', () => {
    expect(check([paid()])).toEqual({
      ok: true,
      detail: `house-b paid 224 units for ${cycle.id} (producer 175, operator 17, grid 32; covered 450 Wh) in ${hex('0f')}`,
    });
  });

  it.each<[string, LedgerAllocationPayment[], string]>([
    ['no payment', [], 'NOT_PAID'],
    ['two transactions', [paid(), paid({ transactionId: hex('0e') })], 'PAID_TWICE'],
    ['another payer', [paid({ signer: hex('b1') })], 'PAYER_MISMATCH'],
    [
      'one unit less to the producer',
      [paid({ outputs: [{ owner: hex('a1'), units: 174n }, ...paid().outputs.slice(1)] })],
      'AMOUNT_MISMATCH',
    ],
    [
      'the grid share to someone else',
      [paid({ outputs: [...paid().outputs.slice(0, 2), { owner: hex('ee'), units: 32n }] })],
      'PAYEE_MISMATCH',
    ],
    [
      'other readings',
      [paid({ description: { ...paid().description, readingsHash: '00'.repeat(32) } })],
      'READINGS_MISMATCH',
    ],
    [
      'another covered energy',
      [paid({ description: { ...paid().description, energyMWs: '1' } })],
      'TERMS_MISMATCH',
    ],
    [
      'other keys',
      [paid({ description: { ...paid().description, note: 'allocation: keys sha256 0000' } })],
      'TERMS_MISMATCH',
    ],
  ])('fails %s in one line naming it', (_name, found, code) => {
    const verdict = check(found);
    expect(verdict.ok ? 'PASS' : verdict.code).toBe(code);
    expect(verdictLine(verdict)).toMatch(new RegExp(`^FAIL ${code}: [^\n]+$`));
  });
});

import { blake2b } from '@noble/hashes/blake2.js';
import { PAYMENT_TAG } from '@tanglewatt/channels';
import { type AddressOutput, hexToBech32, outputIdOf } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { buildBill, type LedgerPayment } from './build.js';
import { parseBillConfig } from './config.js';
import type { BillIndexer } from './indexer-blocks.js';
import { billToJson } from './json.js';
import { readPayments } from './reader.js';
import { checkBill } from './verify.js';

/**
 * One period, worked by hand: the household pays the producer 7 and the operator 3, both as micro-payments
 * (an output of 5,060 + amount with a storage-deposit return, expiring at EXPIRES). The producer claims its
 * 7 in time; the operator lets its 3 expire, the household's wallet takes the output back, and a repayment
 * of 3 pays the operator again. The ledger shows paid 10, operator fee 3 — once.
 */
const DEPOSIT = 5060n;
const EXPIRES = Date.parse('2026-11-05T00:00:00Z') / 1000;
const PERIOD_START = '2026-11-03T16:00:00.000Z';
const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const publicKey = `0x${'11'.repeat(32)}`;
const householdHex = `0x${Buffer.from(blake2b(Buffer.from(publicKey.slice(2), 'hex'), { dkLen: 32 })).toString('hex')}`;
const HOUSE = hexToBech32(householdHex, 'tst');
const PRODUCER = `0x${'22'.repeat(32)}`;
const OPERATOR = `0x${'33'.repeat(32)}`;

const ORIGINAL = hex(1);
const TAKE_BACK = hex(2);
const REPAY = hex(3);
const operatorOutput = outputIdOf(ORIGINAL, 1);
const REPAY_KEY = `house-7/p1/repay/${operatorOutput}`;

const address = (pubKeyHash: string) => ({ type: 0, pubKeyHash });
function micro(to: string, units: bigint) {
  return {
    type: 3,
    amount: String(DEPOSIT + units),
    unlockConditions: [
      { type: 0, address: address(to) },
      { type: 1, amount: String(DEPOSIT), returnAddress: address(householdHex) },
      { type: 3, unixTime: EXPIRES, returnAddress: address(householdHex) },
    ],
  };
}
const change = {
  type: 3,
  amount: '1000000',
  unlockConditions: [{ type: 0, address: address(householdHex) }],
};

function transaction(outputs: object[], description?: object) {
  const utf8Hex = (s: string) => `0x${Buffer.from(s, 'utf8').toString('hex')}`;
  return {
    payload: {
      type: 6,
      essence: {
        outputs,
        ...(description
          ? { payload: { type: 5, tag: utf8Hex(PAYMENT_TAG), data: utf8Hex(JSON.stringify(description)) } }
          : {}),
      },
      unlocks: [{ type: 0, signature: { type: 0, publicKey, signature: '0x00' } }],
    },
  };
}

const blocks = new Map<string, object>([
  [
    hex(101),
    transaction([micro(PRODUCER, 7n), micro(OPERATOR, 3n), change], {
      v: 1,
      payments: [
        {
          k: 'house-7/p1',
          o: 0,
          a: '7',
          periodId: 'house-7/p1',
          energyMWs: '36000000',
          periodStart: PERIOD_START,
          shares: [{ role: 'operator', o: 1, a: '3', to: hexToBech32(OPERATOR, 'tst') }],
        },
      ],
    }),
  ],
  // The take-back: a consolidation of the expired output into the wallet's own, no payment description.
  [hex(102), transaction([change])],
  [
    hex(103),
    transaction([micro(OPERATOR, 3n), change], {
      v: 1,
      payments: [
        {
          k: REPAY_KEY,
          o: 0,
          a: '3',
          repays: { k: 'house-7/p1', outputId: operatorOutput, role: 'operator' },
        },
      ],
    }),
  ],
]);

/** What the indexer holds for the household: its change outputs, and the micro outputs it may take back. */
function outputs(operatorSpentAt: number): AddressOutput[] {
  const output = (
    transactionId: string,
    outputIndex: number,
    roles: AddressOutput['roles'],
    spent?: { by: string; at: number },
  ): AddressOutput => ({
    roles,
    output: { type: 3, amount: '0' },
    metadata: {
      outputId: outputIdOf(transactionId, outputIndex),
      blockId: hex(100 + Number(BigInt(transactionId))),
      transactionId,
      outputIndex,
      isSpent: spent !== undefined,
      ...(spent
        ? { transactionIdSpent: spent.by, milestoneIndexSpent: 20, milestoneTimestampSpent: spent.at }
        : {}),
      milestoneIndexBooked: 10 + outputIndex,
      milestoneTimestampBooked: EXPIRES - 86_400,
    },
  });
  return [
    output(ORIGINAL, 0, ['storageDepositReturn', 'expirationReturn'], { by: hex(9), at: EXPIRES - 3600 }),
    output(ORIGINAL, 1, ['storageDepositReturn', 'expirationReturn'], { by: TAKE_BACK, at: operatorSpentAt }),
    output(ORIGINAL, 2, ['address']),
    output(TAKE_BACK, 0, ['address']),
    output(REPAY, 0, ['storageDepositReturn', 'expirationReturn']),
    output(REPAY, 1, ['address']),
  ];
}

function indexer(operatorSpentAt: number): BillIndexer {
  return {
    allAddressOutputs: async () => outputs(operatorSpentAt),
    allTagBlocks: async () => [],
    block: async (blockId: string) => {
      const block = blocks.get(blockId);
      if (!block) throw Object.assign(new Error('not found'), { status: 404 });
      return block;
    },
  } as unknown as BillIndexer;
}

const config = parseBillConfig(
  { timeZone: 'UTC', retailUnitsPerWh: '0.4', feedInUnitsPerWh: '0.08' },
  { from: '2026-11-01', to: '2026-12-01' },
);

async function billOf(operatorSpentAt: number) {
  const warnings: string[] = [];
  const payments: LedgerPayment[] = await readPayments(indexer(operatorSpentAt), HOUSE, (m) =>
    warnings.push(m),
  );
  const bill = buildBill({ household: HOUSE, config, payments, readings: [] });
  return { payments, bill, warnings };
}

describe('a micro-payment output taken back after expiry and paid again', () => {
  it('reads the taken-back output as unpaid: the spend came at or after its expiry', async () => {
    const { payments, warnings } = await billOf(EXPIRES + 60);
    expect(warnings).toEqual([]);
    const original = payments.find((p) => p.transactionId === ORIGINAL)!;
    expect(original.amountUnits).toBe(7n);
    expect(original.shares).toEqual([{ role: 'operator', units: 0n, to: hexToBech32(OPERATOR, 'tst') }]);
    expect(original.takenBack).toEqual([{ role: 'operator', outputId: operatorOutput, units: 3n }]);
    expect(payments.map((p) => p.transactionId)).toEqual([ORIGINAL, REPAY]);
  });

  it('bills paid 10, operator fee 3 once, on one line of the original period', async () => {
    const { bill } = await billOf(EXPIRES + 60);
    expect(bill.lines).toHaveLength(1);
    const [line] = bill.lines;
    expect(line!.terms.key).toBe('house-7/p1');
    expect(line!.transactionId).toBe(ORIGINAL);
    expect([line!.amountUnits, line!.operatorUnits]).toEqual([7n, 3n]);
    expect(line!.repaidBy).toEqual([REPAY]);
    expect(bill.energyPaidUnits).toBe(7n);
    expect(bill.operatorFeeUnits).toBe(3n);
    expect(bill.paidUnits).toBe(10n);
    expect(billToJson(bill).lines[0]!.repaidBy).toEqual([REPAY]);
  });

  it('bills verify passes the honest bill (no EXTRA_LINE for the repayment)', async () => {
    const { bill, payments } = await billOf(EXPIRES + 60);
    expect(checkBill(billToJson(bill), { payments })).toEqual([]);
  });

  it('a bill counting the expired output and the repayment both fails verification', async () => {
    const { bill, payments } = await billOf(EXPIRES + 60);
    const json = billToJson(bill);
    const doubled = { ...json, lines: json.lines.map((l) => ({ ...l, operatorUnits: '6' })) };
    expect(checkBill(doubled, { payments }).map((f) => f.code)).toContain('SHARES');
  });

  it('an output spent before its expiry was claimed by its payee: it counts, as the ledger holds it', async () => {
    // The repayment is still on the ledger here, so the line would count 6: the ledger decides.
    const { payments } = await billOf(EXPIRES - 1);
    const original = payments.find((p) => p.transactionId === ORIGINAL)!;
    expect(original.shares?.[0]?.units).toBe(3n);
    expect(original.takenBack).toBeUndefined();
  });
});

describe('a sale whose payment the buyer took back after it expired, then paid again', () => {
  it('earns the repayment once, on the sale line of its period', () => {
    const sale: LedgerPayment = {
      direction: 'received',
      transactionId: hex(11),
      blockId: hex(111),
      milestoneIndex: 11,
      milestoneTimestamp: EXPIRES - 86_400,
      counterparty: 'tst1buyer',
      amountUnits: 0n,
      takenBack: [{ role: 'payee', outputId: outputIdOf(hex(11), 0), units: 7n }],
      description: { k: 'buyer/p1', o: 0, a: '7', energyMWs: '36000000', periodStart: PERIOD_START },
    };
    const repay: LedgerPayment = {
      ...sale,
      transactionId: hex(12),
      blockId: hex(112),
      milestoneIndex: 40,
      milestoneTimestamp: EXPIRES + 3600,
      amountUnits: 7n,
      takenBack: undefined,
      description: {
        k: 'repay/0abc',
        o: 0,
        a: '7',
        repays: { k: 'buyer/p1', outputId: outputIdOf(hex(11), 0), role: 'payee' },
      },
    };
    const bill = buildBill({ household: HOUSE, config, payments: [sale, repay], readings: [] });
    expect(bill.lines.map((l) => [l.direction, l.terms.key, l.amountUnits])).toEqual([
      ['sold', 'buyer/p1', 7n],
    ]);
    expect(bill.earnedUnits).toBe(7n);
    expect(bill.warnings).toEqual([]);
  });

  it('a repayment of a payment the household has no line of is billed on its own, with a warning', () => {
    const lone: LedgerPayment = {
      direction: 'received',
      transactionId: hex(13),
      blockId: hex(113),
      milestoneIndex: 41,
      milestoneTimestamp: EXPIRES + 3600,
      counterparty: 'tst1buyer',
      amountUnits: 3n,
      description: {
        k: 'repay/0def',
        o: 0,
        a: '3',
        repays: { k: 'buyer/p9', outputId: outputIdOf(hex(14), 1), role: 'operator' },
      },
    };
    const bill = buildBill({ household: HOUSE, config, payments: [lone], readings: [] });
    expect(bill.earnedUnits).toBe(3n);
    expect(bill.warnings).toContain(
      'payment "repay/0def" repays "buyer/p9", which is not on the ledger: billed on its own',
    );
  });
});

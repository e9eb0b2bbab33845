import type { Payment } from '@tanglewatt/contract';
import type { OutputSummary } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import type { StoredTransaction } from './payments-state.js';
import {
  chainDepth,
  chainState,
  chainTip,
  changeOf,
  creatorOf,
  mayChain,
  ownKnownOutputs,
} from './settlement-chain.js';

const OWN = `0x${'aa'.repeat(32)}`;
const OTHER = `0x${'bb'.repeat(32)}`;
const txId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const outputId = (tx: number, index: number) => `${txId(tx)}${index.toString(16).padStart(2, '0')}00`;
const plain = (owner: string, amount: number) => ({
  type: 3,
  amount: String(amount),
  unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash: owner } }],
});

/** A payments transaction with `payments` outputs to someone else and, unless told otherwise, change to us. */
function tx(
  n: number,
  input: string,
  state: StoredTransaction['state'],
  options: { payments?: number; change?: unknown; blocks?: number; kind?: StoredTransaction['kind'] } = {},
): StoredTransaction {
  const payments = options.payments ?? 2;
  const outputs = [
    ...Array.from({ length: payments }, () => plain(OTHER, 50_000)),
    ...(options.change === null ? [] : [options.change ?? plain(OWN, 1_000_000 - n)]),
  ];
  return {
    txId: txId(n),
    kind: options.kind ?? 'payments',
    keys: Array.from({ length: payments }, (_, i) => `k${n}/${i}`),
    outputIndexes: Array.from({ length: payments }, (_, i) => i),
    inputs: [input],
    payloadJson: JSON.stringify({ type: 6, essence: { type: 1, outputs } }),
    state,
    blockIds: Array.from({ length: options.blocks ?? 1 }, (_, i) => `0x${String(n).repeat(2)}${i}`),
    signedAt: '2026-01-01T00:00:00.000Z',
  };
}

const lookupOf = (txs: StoredTransaction[]) => (id: string) => txs.find((t) => t.txId === id);
const CONFIRMED = outputId(99, 0);

describe('changeOf', () => {
  it('is the output after the payments when it is a plain output to us', () => {
    expect(changeOf(tx(1, CONFIRMED, 'posted'), OWN)).toEqual({ outputId: outputId(1, 2), amount: 999_999n });
    expect(creatorOf(outputId(1, 2))).toBe(txId(1));
  });

  it('is nothing without a remainder, for a remainder not ours or not plain, and for other kinds', () => {
    expect(changeOf(tx(1, CONFIRMED, 'posted', { change: null }), OWN)).toBeUndefined();
    expect(changeOf(tx(1, CONFIRMED, 'posted', { change: plain(OTHER, 1) }), OWN)).toBeUndefined();
    const timelocked = {
      ...plain(OWN, 1),
      unlockConditions: [...plain(OWN, 1).unlockConditions, { type: 2 }],
    };
    expect(changeOf(tx(1, CONFIRMED, 'posted', { change: timelocked }), OWN)).toBeUndefined();
    expect(changeOf(tx(1, CONFIRMED, 'posted', { kind: 'claim' }), OWN)).toBeUndefined();
    expect(changeOf({ ...tx(1, CONFIRMED, 'conflicting'), payloadJson: '' }, OWN)).toBeUndefined();
  });
});

describe('chainDepth', () => {
  it('counts the transactions not included yet that a transaction stands on', () => {
    const root = tx(1, CONFIRMED, 'posted');
    const second = tx(2, outputId(1, 2), 'posted');
    const third = tx(3, outputId(2, 2), 'signed');
    const txs = [root, second, third];
    expect([root, second, third].map((t) => chainDepth(t, lookupOf(txs)))).toEqual([0, 1, 2]);
    // Once the root is included, everything stands one less deep.
    const included = [{ ...root, state: 'included' as const }, second, third];
    expect(chainDepth(third, lookupOf(included))).toBe(1);
  });
});

describe('chainTip', () => {
  const tip = (txs: StoredTransaction[], maxDepth = 4) =>
    chainTip(txs, { maxDepth, ownerHex: OWN, lookup: lookupOf(txs) })?.outputId;

  it('builds on the change of the newest open transaction already posted', () => {
    const txs = [tx(1, CONFIRMED, 'posted'), tx(2, outputId(1, 2), 'posted')];
    expect(tip(txs)).toBe(outputId(2, 2));
  });

  it('never on a change another transaction of ours spends, nor on one whose parent has no block yet', () => {
    expect(tip([tx(1, CONFIRMED, 'posted'), tx(2, outputId(1, 2), 'signed', { blocks: 0 })])).toBeUndefined();
    expect(tip([tx(1, CONFIRMED, 'signed', { blocks: 0 })])).toBeUndefined();
  });

  it('never on an included or conflicting transaction (its change is read from the ledger, or never exists)', () => {
    expect(tip([tx(1, CONFIRMED, 'included')])).toBeUndefined();
    expect(tip([tx(1, CONFIRMED, 'conflicting')])).toBeUndefined();
  });

  it('frees a change again when the transaction that spent it conflicts on its own', () => {
    const txs = [tx(1, CONFIRMED, 'posted'), tx(2, outputId(1, 2), 'conflicting')];
    expect(tip(txs)).toBe(outputId(1, 2));
  });

  it('stops at the depth limit, and never chains with a limit of 0', () => {
    const txs = [tx(1, CONFIRMED, 'posted'), tx(2, outputId(1, 2), 'posted')];
    // Built on transaction 2, a new one would stand on two unconfirmed transactions.
    expect(tip(txs, 2)).toBe(outputId(2, 2));
    expect(tip(txs, 1)).toBeUndefined();
    expect(tip([tx(1, CONFIRMED, 'posted')], 0)).toBeUndefined();
    expect(tip([tx(1, CONFIRMED, 'posted')], 1)).toBe(outputId(1, 2));
  });
});

describe('chainState', () => {
  it('tells a transaction on confirmed outputs, one whose parent is open (approving its latest block), and one whose parent conflicts', () => {
    const root = tx(1, CONFIRMED, 'posted', { blocks: 2 });
    const child = tx(2, outputId(1, 2), 'signed', { blocks: 0 });
    expect(chainState(root, lookupOf([root, child]))).toEqual({ kind: 'confirmedInputs' });
    expect(chainState(child, lookupOf([root, child]))).toEqual({
      kind: 'parentOpen',
      parent: root,
      approve: root.blockIds[1],
    });
    const unposted = { ...root, state: 'signed' as const, blockIds: [] };
    expect(chainState(child, lookupOf([unposted, child]))).toEqual({ kind: 'parentOpen', parent: unposted });
    const lost = { ...root, state: 'conflicting' as const };
    expect(chainState(child, lookupOf([lost, child]))).toEqual({ kind: 'parentConflicts', parent: lost });
    const included = { ...root, state: 'included' as const };
    expect(chainState(child, lookupOf([included, child]))).toEqual({ kind: 'confirmedInputs' });
  });

  it('makes every transaction down a chain conflict, one after the other, once its root does', () => {
    const txs = [
      tx(1, CONFIRMED, 'conflicting'),
      tx(2, outputId(1, 2), 'posted'),
      tx(3, outputId(2, 2), 'posted'),
    ];
    // As the follower goes through them oldest first, recording each conflict before the next.
    for (const t of txs.slice(1)) {
      expect(chainState(t, lookupOf(txs)).kind).toBe('parentConflicts');
      t.state = 'conflicting';
    }
  });
});

describe('mayChain', () => {
  it('lets a payment on its first try stand on unconfirmed change, never one issued again after a conflict', () => {
    const p = { idempotencyKey: 'k', to: OTHER, amount: '1', micro: false, attempts: 0 } as Payment;
    expect(mayChain({ ...p, state: 'queued' })).toBe(true);
    expect(mayChain({ ...p, state: 'conflicting' })).toBe(false);
  });
});

describe('ownKnownOutputs', () => {
  const ADDRESS = 'watt1own';
  const summary = (id: string, extra: Partial<OutputSummary> = {}): OutputSummary => ({
    outputId: id,
    type: 3,
    amount: 940_000n,
    ownerHex: OWN,
    hasNativeTokens: false,
    isSpent: false,
    milestoneIndexBooked: 7,
    transactionId: creatorOf(id),
    outputIndex: 0,
    ...extra,
  });

  it('knows in full the plain outputs to us that our own transactions made, and nothing else', () => {
    const ours = tx(1, CONFIRMED, 'included');
    const change = outputId(1, 2);
    const received = outputId(50, 0); // someone else's transaction paid us
    const micro = outputId(1, 0); // ours, but a micro-payment coming back: not plain
    const toOther = outputId(1, 1);
    const known = ownKnownOutputs(
      [
        summary(change),
        summary(received),
        summary(micro, { depositReturn: { addressHex: OTHER, amount: 5_060n } }),
        summary(toOther, { ownerHex: OTHER }),
      ],
      { address: ADDRESS, addressHex: OWN, lookup: lookupOf([ours]) },
    );
    expect(known).toEqual({ [change]: { kind: 'basic', address: ADDRESS, amount: 940_000n } });
  });
});

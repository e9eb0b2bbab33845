import type { Payment } from '@tanglewatt/contract';
import { type BlockJson, bech32ToHex, MnemonicSigner, outputIdOf } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { basicOutput, transactionBlock } from './testing/blocks.js';
import { paidByWinner } from './winner.js';

// Development-only mnemonic of hornet-config/profiles/development.json.
const signer = new MnemonicSigner(
  'exhaust foot tenant enemy bulb naive piece snack diamond sibling accuse limit laundry struggle dentist sell split silent shallow loud tube net sand tenant',
);
const [payer, payee, stranger] = await signer.addresses({ count: 3, bech32Hrp: 'watt' });
const hexOf = (a: string) => bech32ToHex(a).toLowerCase();
const TAG = 'tanglewatt/pay/v1';
const txId = `0x${'ab'.repeat(32)}`;

const payment = (key: string, amount: string, micro = false): Payment => ({
  idempotencyKey: key,
  to: payee!,
  amount,
  state: 'queued',
  micro,
  ...(micro ? { depositUnits: '5060' } : {}),
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const plain = (to: string, amount: string) => basicOutput(hexOf(to), amount);
const micro = (to: string, amount: string, returnTo: string, back: string) => ({
  type: 3,
  amount,
  unlockConditions: [
    { type: 0, address: { type: 0, pubKeyHash: hexOf(to) } },
    { type: 1, returnAddress: { type: 0, pubKeyHash: hexOf(returnTo) }, amount: back },
    { type: 3, returnAddress: { type: 0, pubKeyHash: hexOf(returnTo) }, unixTime: 1_900_000_000 },
  ],
});

function block(outputs: unknown[], payments: unknown[], tag = TAG): BlockJson {
  return transactionBlock({ outputs, description: { v: 1, payments }, tag });
}

describe('paidByWinner', () => {
  it('counts a key only where its output pays that payee that amount', () => {
    const b = block(
      [
        plain(payee!, '10000'),
        plain(stranger!, '20000'),
        plain(payee!, '999'),
        micro(payee!, '5067', payer!, '5060'),
      ],
      [
        { k: 'ok', o: 0, a: '10000' },
        { k: 'other-payee', o: 1, a: '20000' },
        { k: 'other-amount', o: 2, a: '30000' },
        { k: 'micro', o: 3, a: '7' },
      ],
    );
    const candidates = [
      payment('ok', '10000'),
      payment('other-payee', '20000'),
      payment('other-amount', '30000'),
      payment('micro', '7', true),
      payment('absent', '1'),
    ];
    expect(paidByWinner(b, txId, candidates, { payer: payer!, tag: TAG })).toEqual([
      { key: 'ok', outputId: outputIdOf(txId, 0) },
      { key: 'micro', outputId: outputIdOf(txId, 3) },
    ]);
  });

  it('does not count a micro-payment whose deposit returns elsewhere, nor another tag', () => {
    const b = block([micro(payee!, '5067', stranger!, '5060')], [{ k: 'micro', o: 0, a: '7' }]);
    expect(paidByWinner(b, txId, [payment('micro', '7', true)], { payer: payer!, tag: TAG })).toEqual([]);
    const tagged = block([plain(payee!, '10000')], [{ k: 'ok', o: 0, a: '10000' }], 'someone/else');
    expect(paidByWinner(tagged, txId, [payment('ok', '10000')], { payer: payer!, tag: TAG })).toEqual([]);
  });
});

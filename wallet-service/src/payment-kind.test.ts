import { basicOutputDeposit, hexToBech32, microOutputDeposit } from '@tanglewatt/ledger';
import { describe, expect, it } from 'vitest';
import { paymentKind, paymentKindOn } from './payment-kind.js';

const PAYER = 'watt1qq9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lpjuyjmu6a';
const PAYEE = hexToBech32(`0x${'5e'.repeat(32)}`, 'watt');
/** The private tangle's rent structure (hornet-config/protocol_parameters.json). */
const rent = { vByteCost: 10, vByteFactorData: 1, vByteFactorKey: 10 };

describe('payment kind', () => {
  it('sends an amount below the basic deposit as a micro-payment with its deposit, and the deposit itself as basic', () => {
    expect(paymentKind(499n, 500n, () => 700n)).toEqual({ micro: true, depositUnits: 700n });
    expect(paymentKind(500n, 500n, () => 700n)).toEqual({ micro: false });
    expect(paymentKind(10n ** 15n, 500n, () => 700n)).toEqual({ micro: false });
  });

  it('works out a micro-payment deposit only for a micro-payment', () => {
    let asked = 0;
    paymentKind(500n, 500n, () => {
      asked++;
      return 700n;
    });
    expect(asked).toBe(0);
  });

  it("uses the network's rent: the payee's basic deposit, and a micro output naming both addresses", () => {
    const basic = basicOutputDeposit(PAYEE, rent);
    expect(paymentKindOn(rent, PAYER, PAYEE, basic)).toEqual({ micro: false });
    const micro = paymentKindOn(rent, PAYER, PAYEE, basic - 1n);
    expect(micro).toEqual({ micro: true, depositUnits: microOutputDeposit(PAYEE, PAYER, rent) });
    expect(micro.micro && micro.depositUnits > basic).toBe(true);
  });
});

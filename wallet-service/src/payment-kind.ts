import { basicOutputDeposit, microOutputDeposit, type RentStructure } from '@tanglewatt/ledger';

/**
 * How a payment goes out. An output must hold at least its storage deposit, so an amount below a basic
 * output's deposit cannot stand alone: it goes as a micro-payment, an output that also carries a deposit
 * (`depositUnits`) the payee hands back when it claims, or the payer takes back after expiry.
 */
export type PaymentKind = { micro: false } | { micro: true; depositUnits: bigint };

/** The kind for `amountUnits`, given a basic output's deposit and (asked only if needed) a micro-payment's. */
export function paymentKind(
  amountUnits: bigint,
  basicDepositUnits: bigint,
  microDepositUnits: () => bigint,
): PaymentKind {
  return amountUnits < basicDepositUnits
    ? { micro: true, depositUnits: microDepositUnits() }
    : { micro: false };
}

/** The kind of a payment from `payer` to `payee` under the network's rent structure. */
export function paymentKindOn(
  rent: RentStructure,
  payer: string,
  payee: string,
  amountUnits: bigint,
): PaymentKind {
  return paymentKind(amountUnits, basicOutputDeposit(payee, rent), () =>
    microOutputDeposit(payee, payer, rent),
  );
}

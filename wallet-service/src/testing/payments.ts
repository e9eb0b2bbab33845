// Test support: payment requests, ids and data dirs for tests of the payments store.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PaymentRequest } from '@tanglewatt/contract';
import type { SettlementDeps } from '../settlement.js';

/** The address the test payments go to. */
export const PAYEE = 'watt1qq9x4cs9vtwpd7m5etek37jw42tzvyy8nhmkyhpev0mfax937lpjuyjmu6a';

/** A fresh directory for a store's journals. */
export const storeDir = (prefix = 'payments-') => mkdtemp(join(tmpdir(), prefix));

/** The n-th transaction id: 32 bytes of hex. */
export const txId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

/** A request of `amount` to PAYEE under `key`, and `extra` (metadata, say). */
export const paymentRequest = (
  key: string,
  amount = '5000',
  extra: Partial<PaymentRequest> = {},
): PaymentRequest => ({ idempotencyKey: key, to: PAYEE, amount, ...extra });

/**
 * The parts of a Settlement's deps every settlement test shares: the development network's rent, account
 * and supply, and a configuration that sends at once (no linger), never consolidates early and spends only
 * confirmed outputs (chains on unconfirmed change are tested on the real tangle).
 */
export function testSettlementNetwork(config: Partial<SettlementDeps['config']> = {}) {
  return {
    bech32Hrp: 'watt',
    rent: { vByteCost: 10, vByteFactorData: 1, vByteFactorKey: 10 },
    account: { coinType: 4219, accountIndex: 0 },
    tokenSupply: 1_000_000_000_000_000n,
    config: {
      maxOutputsPerTransaction: 127,
      lingerMs: 0,
      lingerQuietMs: 0,
      maxInFlight: 4,
      maxChainDepth: 0,
      microExpirationSeconds: 86_400,
      reattachAfterSeconds: 15,
      consolidateAbove: 40,
      ...config,
    },
  } satisfies Partial<SettlementDeps>;
}

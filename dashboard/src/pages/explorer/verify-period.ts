/**
 * "Does this payment pay for exactly these signed readings?" in the browser: @tanglewatt/channels'
 * verifyPayment over blocks and transactions read through the wallet-service. A period id is found among
 * the wallet's own payments (their key is the period id); the payment names its channel messages, epoch
 * announcements and signer (a DID, resolved through the wallet-service), so only a reader key is needed.
 */
import {
  channelIdHex,
  fromHex,
  type PeriodVerdict,
  type SignerResolution,
  verifyPayment,
} from '@tanglewatt/channels';
import type { RequestOptions } from '../../api/http';
import type { DidResolution } from '../../api/wallet';
import { didSigners } from './did-keys';

/** What the check reads, all through the wallet-service. */
export interface VerifySources {
  /** GET /payments/:key — the wallet's own payment for a period. */
  payment(key: string, o?: RequestOptions): Promise<{ state: string; transactionId?: string }>;
  /** GET /node/transactions/:id — the block that included a transaction. */
  transactionBlock(id: string, o?: RequestOptions): Promise<unknown>;
  block(id: string, o?: RequestOptions): Promise<unknown>;
  blockMetadata(id: string, o?: RequestOptions): Promise<{ referencedByMilestoneIndex?: number }>;
  did(ref: { did: string; originOutputId: string }, o?: RequestOptions): Promise<DidResolution>;
}

/** One line, as the CLI prints it: `PASS: …` or `FAIL <CODE>: …`. */
export interface VerifyLine {
  ok: boolean;
  text: string;
}

const TX_ID = /^0x[0-9a-f]{64}$/;

const status = (error: unknown) => (error as { status?: number }).status;

function lineOf(v: PeriodVerdict): VerifyLine {
  return v.ok
    ? {
        ok: true,
        text: `PASS: ${v.detail}; period ${v.payment?.periodId ?? v.paymentKey}; signer: ${v.signer}`,
      }
    : { ok: false, text: `FAIL ${v.code}: ${v.detail}` };
}

/** Verifies the payment of a transaction id, or of a period id among this wallet's payments. */
export async function verifyInBrowser(
  sources: VerifySources,
  query: string,
  readerSecretKey: Uint8Array | undefined,
  signal?: AbortSignal,
): Promise<VerifyLine[]> {
  const q = query.trim();
  let transactionId = q.toLowerCase();
  let periodId: string | undefined;
  if (!TX_ID.test(transactionId)) {
    periodId = q;
    let paid: { state: string; transactionId?: string };
    try {
      paid = await sources.payment(q, { signal });
    } catch (error) {
      if (status(error) === 404)
        return [
          {
            ok: false,
            text: `FAIL PAYMENT_NOT_FOUND: no payment for period "${q}" among this wallet's payments`,
          },
        ];
      throw error;
    }
    if (!paid.transactionId)
      return [
        { ok: false, text: `FAIL PAYMENT_NOT_FOUND: period "${q}" is not sent yet (state ${paid.state})` },
      ];
    transactionId = paid.transactionId;
  }
  const notFound = (error: unknown) => {
    if (status(error) === 404) throw Object.assign(new Error('not found'), { code: 'NOT_FOUND' });
    throw error;
  };
  const verdicts = await verifyPayment({
    api: {
      block: (id) => sources.block(id, { signal }).catch(notFound) as Promise<{ payload?: { type: number } }>,
      blockMetadata: (id) => sources.blockMetadata(id, { signal }).catch(() => ({})),
      includedBlock: (id) =>
        sources.transactionBlock(id, { signal }).catch(notFound) as Promise<{ payload?: { type: number } }>,
    },
    transactionId,
    ...(periodId !== undefined ? { periodId } : {}),
    ...(readerSecretKey ? { readerSecretKey } : {}),
    resolveDid: async (did, originOutputId, channelId): Promise<SignerResolution> => {
      let resolution: DidResolution;
      try {
        resolution = await sources.did({ did, originOutputId }, { signal });
      } catch (error) {
        return { error: `${did}: cannot be resolved (${(error as Error).message})` };
      }
      const first = resolution.versions[0]?.methods ?? [];
      if (!first.some((m) => channelIdHex(fromHex(m.publicKey, 32)) === channelId))
        return { error: `${did}: its first document lists no key whose hash is the channel id` };
      return {
        signers: didSigners(resolution),
        source: `${did} (${resolution.versions.length} document versions)`,
      };
    },
  });
  return verdicts.map(lineOf);
}

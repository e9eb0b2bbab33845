import { z } from 'zod';
import { claimStates, paymentStates } from './tables.js';

/** Base units as a decimal string: JSON has no bigint, and a float would lose units. */
const WHOLE = /^(0|[1-9][0-9]*)$/;
const MAX_U64 = 18_446_744_073_709_551_615n;

// Refinements run even when the pattern failed, so each guards its own BigInt().
export const baseUnits = z
  .string()
  .regex(WHOLE, 'a whole number of base units as a decimal string, e.g. "1500"')
  .refine((s) => !WHOLE.test(s) || (s.length <= 20 && BigInt(s) <= MAX_U64), 'at most 2^64 - 1 base units');

/** An exact non-negative fraction "num/den" of base units. */
const rationalText = z.string().regex(/^[0-9]{1,60}\/[1-9][0-9]{0,59}$/, 'an exact fraction "num/den"');

export const positiveBaseUnits = baseUnits.refine(
  (s) => !WHOLE.test(s) || BigInt(s) > 0n,
  'more than 0 base units',
);

/** The caller's name for one payment; the same key always means the same payment. */
export const idempotencyKey = z
  .string()
  .min(1, '1 to 128 characters')
  .max(128, '1 to 128 characters')
  .regex(/^[A-Za-z0-9._:/@-]+$/, 'letters, digits and . _ : / @ -');

const blockId = z.string().regex(/^0x[0-9a-f]{64}$/, 'a block id: 0x and 64 lowercase hex digits');

/**
 * Where a period's readings are on the meter's channel, so that anyone holding the transaction (and, for a
 * restricted channel, a reader key) finds and checks them: walk back from `lastBlockId` by each message's
 * previous-block id down to `fromSeq`, after opening the epoch announcements named in `epochs`.
 */
export const paymentChannel = z.strictObject({
  /** Channel id: 64 lowercase hex digits. */
  id: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  /** Ed25519 public key (hex) that signed the period's messages; trusted only if it is the channel's own. */
  publicKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits')
    .optional(),
  fromSeq: z.number().int().min(0),
  toSeq: z.number().int().min(0),
  /** The block of the period's last message (seq toSeq). */
  lastBlockId: blockId,
  /** Restricted channels: epoch number → block of the announcement whose key seals that epoch's messages. */
  epochs: z
    .record(z.string().regex(/^[1-9][0-9]{0,9}$/, 'an epoch number'), blockId)
    .refine((e) => Object.keys(e).length <= 16, 'at most 16 epochs')
    .optional(),
  /** The meter's DID, and the output that created its alias (found without an indexer). */
  did: z.string().max(100).optional(),
  didOrigin: z
    .string()
    .regex(/^0x[0-9a-f]{68}$/, 'an output id: 0x and 68 lowercase hex digits')
    .optional(),
});

export type PaymentChannel = z.infer<typeof paymentChannel>;

/** What a payment says about the energy it pays for. All optional: a payment may be for anything. */
export const paymentMetadata = z.strictObject({
  periodId: z.string().max(128).optional(),
  meterId: z.string().max(64).optional(),
  /** Energy of the period in milliwatt-seconds (integer, as a string). */
  energyMWs: baseUnits.optional(),
  /** Price in base units per watt-hour, as a decimal string (may have a fraction, e.g. "0.25"). */
  priceUnitsPerWh: z
    .string()
    .regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/, 'a non-negative decimal, e.g. "12" or "0.25"')
    .optional(),
  periodStart: z.iso.datetime().optional(),
  periodEnd: z.iso.datetime().optional(),
  /** sha256 (hex) of the period's readings, or the Merkle root of its channel messages. */
  readingsHash: z
    .string()
    .regex(/^(0x)?[0-9a-f]{64}$/, '32 bytes as lowercase hex')
    .optional(),
  note: z.string().max(256).optional(),
  /** The period's messages on the meter's channel (readingsHash is their Merkle root). */
  channel: paymentChannel.optional(),
  /** The tariff that priced the period (versions joined by "," when it changed inside the period). */
  tariff: z
    .strictObject({
      id: z.string().min(1).max(64),
      version: z.string().regex(/^[0-9]{1,9}(,[0-9]{1,9}){0,8}$/),
    })
    .optional(),
  /** Energy per tariff band (OBIS digit 1–9) in the period, whole mW·s as strings. */
  bands: z
    .record(z.string().regex(/^[1-9]$/, 'an OBIS tariff digit 1–9'), baseUnits)
    .refine((b) => Object.keys(b).length <= 9, 'at most 9 bands')
    .optional(),
  /** Each payee's carry into the period, exact base units "num/den": amount = floor(exact + carry). */
  carry: z.strictObject({ producer: rationalText, operator: rationalText, grid: rationalText }).optional(),
  /** The reading before the period its first stretch starts from (ms, mW), when there is one. */
  pricedFrom: z.strictObject({ t: z.number().int().min(0), mW: z.number().int() }).optional(),
  /** Readings further apart than this were not bridged (the meter's gap threshold, ms). */
  gapMs: z.number().int().positive().optional(),
  /**
   * A `net` cycle's settlement (the payment keyed `<meterId>/net/<id>`): the cycle, its import and export per
   * band digit as the meter counted them from its readings, whole mW·s, and each payee's carry into it. A
   * verifier recomputes both from the cycle's signed channel messages (`verify-period --cycle`).
   */
  cycle: z
    .strictObject({
      id: z.string().min(1).max(40),
      start: z.iso.datetime(),
      end: z.iso.datetime(),
      bands: z
        .record(
          z.string().regex(/^[1-9]$/, 'an OBIS tariff digit 1–9'),
          z.strictObject({ importMWs: baseUnits, exportMWs: baseUnits }),
        )
        .refine((b) => Object.keys(b).length <= 9, 'at most 9 bands'),
      carry: z.strictObject({ producer: rationalText, operator: rationalText, grid: rationalText }),
      gapMs: z.number().int().positive(),
    })
    .optional(),
});

/** What a payment pays the operator or the grid besides the producer, in the same transaction. */
export const paymentShare = z.strictObject({
  role: z.enum(['operator', 'grid'], { error: '"operator" or "grid"' }),
  /** The payee's bech32 address on this network. */
  to: z.string().min(1).max(100),
  amount: positiveBaseUnits,
});

export type PaymentShare = z.infer<typeof paymentShare>;

export const paymentRequest = z.strictObject({
  idempotencyKey,
  /** The payee's bech32 address on this network (the producer, when there are shares). */
  to: z.string().min(1).max(100),
  amount: positiveBaseUnits,
  metadata: paymentMetadata.optional(),
  /** Paid as further outputs of the same transaction: at most one per role. */
  shares: z
    .array(paymentShare)
    .max(2, 'at most 2 shares (operator and grid)')
    .refine((s) => new Set(s.map((x) => x.role)).size === s.length, 'each role at most once')
    .optional(),
});

export type PaymentRequest = z.infer<typeof paymentRequest>;
export type PaymentMetadata = z.infer<typeof paymentMetadata>;

export const payment = z.object({
  idempotencyKey,
  to: z.string(),
  amount: baseUnits,
  metadata: paymentMetadata.optional(),
  /** Shares paid in the same transaction, each sent like a payment (micro below a basic deposit). */
  shares: z
    .array(
      paymentShare.extend({
        /** Sent with a storage-deposit return (absent: a basic output). */
        micro: z.boolean().optional(),
        depositUnits: baseUnits.optional(),
        outputId: z.string().optional(),
      }),
    )
    .optional(),
  state: z.enum(paymentStates),
  /** Sent as an output with a storage-deposit return (the amount is below a basic output's deposit). */
  micro: z.boolean(),
  /** Base units locked with the payee until claimed, returned to the payer (micro-payments only). */
  depositUnits: baseUnits.optional(),
  blockId: z.string().optional(),
  transactionId: z.string().optional(),
  outputId: z.string().optional(),
  milestoneIndex: z.number().int().optional(),
  milestoneTimestamp: z.number().int().optional(),
  /** How many transactions were built for it (more than 1 after a conflict). */
  attempts: z.number().int(),
  error: z.string().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type Payment = z.infer<typeof payment>;

/** A payment this wallet received, as the ledger shows it (GET /received-payments). */
export const receivedPayment = z.object({
  outputId: z.string(),
  transactionId: z.string(),
  blockId: z.string().optional(),
  milestoneIndex: z.number().int(),
  /** Unix seconds of the confirming milestone. */
  milestoneTimestamp: z.number().int(),
  /** What is the wallet's: the output's amount less any deposit owed back to the sender. */
  amountUnits: baseUnits,
  /** The address that signed the transaction; absent when the node no longer has it. */
  from: z.string().optional(),
  /** The payer's idempotency key, when its transaction's description names this output. */
  key: z.string().optional(),
  metadata: paymentMetadata.optional(),
  /** Came with a storage-deposit return: to be claimed before it expires. */
  micro: z.boolean(),
  depositUnits: baseUnits.optional(),
  /** Unix seconds from which the sender may take an unclaimed micro-payment back. */
  expiresAt: z.number().int().optional(),
  /** Micro-payments only: claimed by us, unclaimed, expired (the sender may take it back) or returned. */
  claim: z.enum(claimStates).optional(),
  /** Milestone that spent a micro-payment's output (our claim, or the sender's return). */
  settledAtMilestone: z.number().int().optional(),
});

export type ReceivedPayment = z.infer<typeof receivedPayment>;

export const apiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});

export type ApiErrorBody = z.infer<typeof apiError>;

export const balance = z.object({
  address: z.string(),
  /** Everything the wallet's outputs hold. */
  totalUnits: baseUnits,
  /** What it can spend now: total minus deposits it owes back and outputs held for pending payments. */
  availableUnits: baseUnits,
  /** Micro-payment deposits received and not yet claimed. */
  claimableUnits: baseUnits,
  outputs: z.number().int(),
  ledgerIndex: z.number().int(),
});

export type Balance = z.infer<typeof balance>;

/** A trade in a wallet-service's market book (GET /market), as a meter-agent reads it to run it. */
export const marketTrade = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, '32 bytes as lowercase hex'),
  market: z.string(),
  rule: z.enum(['cda', 'pool']),
  sellOrderId: z.string(),
  buyOrderId: z.string(),
  causeId: z.string(),
  fill: z.number().int(),
  seller: z.string(),
  sellerKey: z.string(),
  buyer: z.string(),
  buyerKey: z.string(),
  payTo: z.string().optional(),
  energyWh: z.number().int().positive(),
  priceUnitsPerWh: z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,18})?$/),
  window: z.object({ startMs: z.number().int(), endMs: z.number().int() }),
  matchedAtMs: z.number().int(),
});

export type MarketTrade = z.infer<typeof marketTrade>;

/** The part of GET /market a trading agent needs: the trades and who acknowledged them. */
export const marketSnapshot = z.object({
  market: z.string(),
  nowMs: z.number(),
  ledgerIndex: z.number().int(),
  trades: z.array(marketTrade),
  acks: z.array(z.object({ tradeId: z.string(), party: z.enum(['seller', 'buyer']), messageId: z.string() })),
});

export type MarketSnapshot = z.infer<typeof marketSnapshot>;

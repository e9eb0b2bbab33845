import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { billConfigSchema } from '@tanglewatt/bills';
import { DEFAULT_COIN_TYPE } from '@tanglewatt/ledger';
import { z } from 'zod';
import { WalletConfigError } from './errors.js';

/** 0 lets the system pick a free port (tests). */
const port = z.number().int().min(0).max(65535);
const outputId = z.string().regex(/^0x[0-9a-f]{68}$/, 'an output id: 0x and 68 hex digits');

/** What a token may do: pay (POST /payments and its cancel), market (post market messages), read (everything else). */
export const apiScopes = ['pay', 'market', 'read'] as const;
export type ApiScope = (typeof apiScopes)[number];

const apiToken = z
  .strictObject({
    /** Shown in the log, never the secret. */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1 to 64 letters, digits and . _ -'),
    env: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    scopes: z
      .array(z.enum(apiScopes, { error: '"pay", "market" or "read"' }))
      .min(1, 'at least one of "pay", "market", "read"'),
  })
  .refine((t) => t.env !== undefined || t.file !== undefined, {
    message: 'needs "env" (an environment variable) or "file" (a 0600 file) holding the secret',
  });

export const walletConfigSchema = z.strictObject({
  /** HORNET REST API this wallet talks to. */
  nodeUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as http://127.0.0.1:14265' }),
  /**
   * The community indexer beside that node (indexer/): where the wallet reads its own slice of the ledger,
   * the market and the explorer's lookups, and what outlives the node's pruning. Optional: without it the
   * wallet follows every milestone on the node itself.
   */
  indexer: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as http://127.0.0.1:9092' }),
      /** Environment variable holding the indexer's bearer token, when it was started with one. */
      tokenEnv: z.string().min(1).optional(),
    })
    .optional(),
  /**
   * What GET /bills compares this household's bills with: the retail supplier's and the feed-in price per
   * Wh (one, or per band digit), the grid's CO2 g/kWh, the zone whose days the cycle is in, the household's
   * own meters, and a reader key for its restricted channel. Without it the baselines are 0 and each bill
   * says so.
   */
  bills: billConfigSchema
    .omit({ from: true, to: true })
    .extend({
      /** A 0600 file holding an X25519 reader key of the household's restricted meter channel (64 hex digits). */
      readerKeyFile: z.string().min(1).optional(),
    })
    .optional(),
  /** Where the payment journal and ledger view live. */
  dataDir: z.string().min(1),
  listen: z
    .strictObject({ host: z.string().default('127.0.0.1'), port: port.default(8480) })
    .default({ host: '127.0.0.1', port: 8480 }),
  keystore: z.strictObject({
    file: z.string().min(1),
    passwordEnv: z.string().default('WALLET_PASSWORD'),
    passwordFile: z.string().optional(),
  }),
  account: z
    .strictObject({
      coinType: z.number().int().nonnegative().default(DEFAULT_COIN_TYPE),
      accountIndex: z.number().int().nonnegative().default(0),
      addressIndex: z.number().int().nonnegative().default(0),
    })
    .default({ coinType: DEFAULT_COIN_TYPE, accountIndex: 0, addressIndex: 0 }),
  api: z
    .strictObject({
      /** The original single token: every scope. Read when set, or when no `tokens` are configured. */
      tokenEnv: z.string().default('WALLET_API_TOKEN'),
      tokenFile: z.string().optional(),
      /** Tokens with scopes, each read from an environment variable or a 0600 file, never from this file. */
      tokens: z.array(apiToken).default([]),
      /** Kept so old configs still load: reads always need a token with scope "read" now. */
      publicReads: z
        .literal(false, { error: 'reads need a token with scope "read": remove publicReads' })
        .optional(),
      /** Host names answered besides localhost, 127.0.0.1, [::1] and the listen address: "name" or "name:port". */
      allowedHosts: z.array(z.string().min(1).max(260)).default([]),
      corsOrigins: z.array(z.string()).default([]),
      rateLimitPerMinute: z.number().int().positive().default(1200),
      maxBodyBytes: z.number().int().positive().max(1_048_576).default(16_384),
    })
    .default({
      tokenEnv: 'WALLET_API_TOKEN',
      tokens: [],
      allowedHosts: [],
      corsOrigins: [],
      rateLimitPerMinute: 1200,
      maxBodyBytes: 16_384,
    }),
  settlement: z
    .strictObject({
      /** Payments per transaction; one more output is left for the remainder (128 in all). */
      maxOutputsPerTransaction: z.number().int().min(1).max(127).default(127),
      /** How long a new payment waits for others to share its transaction. */
      lingerMs: z.number().int().nonnegative().max(60_000).default(250),
      /**
       * A payment stops waiting for others once none has arrived for this long (still at most lingerMs):
       * a lone payment goes almost at once, a burst shares a transaction.
       */
      lingerQuietMs: z.number().int().nonnegative().max(60_000).default(50),
      /** Transactions under way at once (each on its own inputs). */
      maxInFlight: z.number().int().min(1).max(32).default(4),
      /**
       * How many unconfirmed transactions of ours a new one may stand on, each spending the change of the
       * one before (0: only confirmed outputs are spent). Payments then need not wait a milestone for change.
       */
      maxChainDepth: z.number().int().min(0).max(16).default(4),
      /** How long a micro-payment's payee has to claim it before the payer may take it back. */
      microExpirationSeconds: z.number().int().min(10).default(86_400),
      /** Re-post a transaction no milestone has referenced after this long. */
      reattachAfterSeconds: z.number().int().min(1).default(15),
      /** Merge small outputs when the wallet holds more than this many. */
      consolidateAbove: z.number().int().min(2).max(127).default(40),
    })
    .default({
      maxOutputsPerTransaction: 127,
      lingerMs: 250,
      lingerQuietMs: 50,
      maxInFlight: 4,
      maxChainDepth: 4,
      microExpirationSeconds: 86_400,
      reattachAfterSeconds: 15,
      consolidateAbove: 40,
    }),
  feed: z
    .strictObject({
      /** Take milestones from inx-mqtt through the node's /api/mqtt/v1 where it runs (polling otherwise). */
      mqtt: z.boolean().default(true),
    })
    .default({ mqtt: true }),
  market: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** The community market this household trades on; every household of it uses the same id and rule. */
      id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits and . _ : -')
        .default('community'),
      rule: z.enum(['cda', 'pool']).default('cda'),
      /**
       * How much a producer may offer in a window: "paid-history" takes its peak delivery from the payments
       * made to it on the tangle (each carries its period's energy), "configured" takes defaultCapacityWh.
       */
      capacity: z
        .enum(['paid-history', 'configured'], {
          error: '"paid-history" (from payments on the tangle) or "configured" (defaultCapacityWh)',
        })
        .default('paid-history'),
      /** Wh in any window for a producer without history (or every producer with capacity "configured"). */
      defaultCapacityWh: z.number().int().positive().default(100_000),
      /** First milestone a new household reads the market from (the node's pruning bounds it). */
      fromMilestone: z.number().int().positive().default(1),
      /**
       * Speak on the market as this DID instead of the bare address: its document must list the wallet
       * address's key as an Ed25519 verification method. Sell offers are paid to the wallet address.
       */
      did: z
        .strictObject({
          did: z
            .string()
            .regex(
              /^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/,
              'an IOTA DID, did:iota:<hrp>:0x<alias id>',
            ),
          originOutputId: z
            .string()
            .regex(/^0x[0-9a-f]{68}$/, 'the output id that created the DID alias (0x and 68 hex digits)'),
        })
        .optional(),
    })
    .default({
      enabled: true,
      id: 'community',
      rule: 'cda',
      capacity: 'paid-history',
      defaultCapacityWh: 100_000,
      fromMilestone: 1,
    }),
  claims: z
    .strictObject({
      /** node-cron expression (6 fields allow seconds) for claiming received micro-payments. */
      schedule: z.string().default('*/30 * * * * *'),
    })
    .default({ schedule: '*/30 * * * * *' }),
  ledger: z
    .strictObject({
      /** Outputs the wallet owns from before it started watching, e.g. its genesis output. */
      initialOutputs: z.array(outputId).default([]),
      /** First milestone to scan on a new wallet; default: the node's confirmed milestone. */
      scanFromMilestone: z.number().int().positive().optional(),
      pollIntervalMs: z.number().int().min(100).default(500),
    })
    .default({ initialOutputs: [], pollIntervalMs: 500 }),
});

export type WalletConfig = z.infer<typeof walletConfigSchema>;

/** Validates a config object; the error names the first bad key and what it allows. */
export function parseWalletConfig(raw: unknown, baseDir = process.cwd(), source = 'config'): WalletConfig {
  const parsed = walletConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WalletConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const config = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.dataDir = abs(config.dataDir);
  config.keystore.file = abs(config.keystore.file);
  if (config.keystore.passwordFile) config.keystore.passwordFile = abs(config.keystore.passwordFile);
  if (config.api.tokenFile) config.api.tokenFile = abs(config.api.tokenFile);
  for (const token of config.api.tokens) if (token.file) token.file = abs(token.file);
  if (config.bills?.readerKeyFile) config.bills.readerKeyFile = abs(config.bills.readerKeyFile);
  return config;
}

export async function loadWalletConfig(file: string): Promise<WalletConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not valid JSON';
    throw new WalletConfigError(`${file}: ${reason}`);
  }
  return parseWalletConfig(raw, dirname(resolve(file)), file);
}

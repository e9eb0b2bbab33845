/**
 * Fuzzes the wallet-service API from its own OpenAPI document with schemathesis, against a service on a
 * fresh local tangle (real HORNET, 1 s milestones), with an every-scope token:
 *
 *   pip install schemathesis
 *   npx tsx tests/fuzz/wallet-service-api.ts [max-examples=50] [schemathesis executable] [scopes]
 *
 * With scopes (e.g. "read" or "market,read") it fuzzes with a token of just those scopes, so the other
 * routes must answer 403 as documented.
 *
 * GET /events is left out (a stream never ends; its tests are in wallet-service/src/api.test.ts); schemathesis.toml lists
 * the rules a schema cannot state (bech32 checksums, window order). Exits with schemathesis's exit code.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, tangleDown } from '@tanglewatt/deploy';
import { type ApiScope, startWalletService } from '@tanglewatt/wallet-service';
import pino from 'pino';
import { startDevTangle } from '../support/dev-tangle.js';
import { prepareWallet } from '../support/wallets.js';

const maxExamples = process.argv[2] ?? '50';
const schemathesis = process.argv[3] ?? 'schemathesis';
const scopes = process.argv[4]?.split(',') as ApiScope[] | undefined;

const log = createLogger('fuzz');
const dataDir = await mkdtemp(join(tmpdir(), 'tanglewatt-fuzz-'));
const tangle = await startDevTangle(dataDir, log);
let code = 1;
try {
  const prepared = await prepareWallet(tangle, {
    slot: 3,
    ...(scopes ? { tokens: [{ name: 'fuzz', scopes }] } : {}),
  });
  const token = scopes ? prepared.tokens.fuzz! : prepared.token;
  // The fuzzer is one client sending thousands of requests: the rate limit would answer most of them.
  prepared.config.api.rateLimitPerMinute = 1_000_000;
  const service = await startWalletService(prepared.config, pino({ level: 'fatal' }));
  try {
    const args = [
      '--config-file',
      new URL('./schemathesis.toml', import.meta.url).pathname,
      'run',
      `${service.url}/openapi.json`,
      '--url',
      service.url,
      '--header',
      `Authorization: Bearer ${token}`,
      '--checks',
      'all',
      '--exclude-path',
      '/events',
      '--max-examples',
      maxExamples,
      '--workers',
      '1',
      '--request-timeout',
      '15',
      '--no-color',
      // No example database left in the working directory.
      '--generation-database',
      'none',
    ];
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn(schemathesis, args, { stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', (c) => resolve(c ?? 1));
    });
  } finally {
    await service.stop();
  }
} finally {
  await tangleDown(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);

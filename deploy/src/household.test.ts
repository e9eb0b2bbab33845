import { readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMnemonic } from '@tanglewatt/ledger';
import { readApiTokens } from '@tanglewatt/wallet-service';
import { describe, expect, it } from 'vitest';
import { type HouseholdSpec, prepareHousehold } from './household.js';
import { SYSTEM_TOKENS } from './system.js';

const spec = async (more: Partial<HouseholdSpec> = {}): Promise<HouseholdSpec> => ({
  dir: join(await mkdtemp(join(tmpdir(), 'household-')), 'producer'),
  nodeUrl: 'http://127.0.0.1:14265',
  mnemonic: generateMnemonic(),
  ...more,
});

describe('prepareHousehold', () => {
  it("gives npm start's dashboard (whose token config.json carries) read and market, never pay; the agent pay", async () => {
    const { token, tokens, config } = await prepareHousehold(await spec({ tokens: SYSTEM_TOKENS }));
    const book = readApiTokens(config.api);
    const scopesOf = (secret: string | undefined) => book.find((t) => t.secret === secret)?.scopes;
    expect(scopesOf(tokens.dashboard)).toEqual(['market', 'read']);
    expect(scopesOf(token)).toEqual(['pay', 'market', 'read']);
    expect(scopesOf(tokens.agent)).toContain('pay');
    expect(new Set(book.map((t) => t.secret)).size).toBe(3);
  });

  it('keeps the secrets and the keystore across runs when they are kept', async () => {
    const kept = await spec({ secrets: 'kept', tokens: SYSTEM_TOKENS });
    const first = await prepareHousehold(kept);
    const keystore = readFileSync(join(kept.dir, 'keystore.json'), 'utf8');
    const again = await prepareHousehold(kept);
    expect(again.token).toBe(first.token);
    expect(again.tokens).toEqual(first.tokens);
    expect(readFileSync(join(kept.dir, 'keystore.json'), 'utf8')).toBe(keystore);
  });

  it('refuses fresh secrets in a dir that holds a keystore, and leaves its files as they were', async () => {
    const fresh = await spec();
    const first = await prepareHousehold(fresh);
    await expect(prepareHousehold(fresh)).rejects.toThrow(/keystore.json already exists/);
    expect(readFileSync(join(fresh.dir, 'api.token'), 'utf8')).toBe(first.token);
  });

  it('writes every secret readable by its owner alone, and a config whose paths lie in the dir', async () => {
    const s = await spec({
      files: { password: 'password', token: 'token' },
      tokens: [{ name: 'reader', scopes: ['read'] }],
      unsetEnv: 'TANGLEWATT_TEST_UNSET',
      configFile: 'wallet.json',
      wallet: { dataDir: 'data', api: { rateLimitPerMinute: 100 }, ledger: { pollIntervalMs: 200 } },
    });
    const { config, configFile } = await prepareHousehold(s);
    for (const file of ['password', 'token', 'reader.token'])
      expect(statSync(join(s.dir, file)).mode & 0o777).toBe(0o600);
    expect(config.dataDir).toBe(join(s.dir, 'data'));
    expect(config.keystore).toMatchObject({
      file: join(s.dir, 'keystore.json'),
      passwordFile: join(s.dir, 'password'),
      passwordEnv: 'TANGLEWATT_TEST_UNSET',
    });
    expect(config.api).toMatchObject({ tokenFile: join(s.dir, 'token'), rateLimitPerMinute: 100 });
    expect(config.ledger.pollIntervalMs).toBe(200);
    expect(JSON.parse(readFileSync(configFile!, 'utf8')).dataDir).toBe('data');
  });
});

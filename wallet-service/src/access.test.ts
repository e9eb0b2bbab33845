import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAllowed } from '@tanglewatt/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { readApiTokens, TokenBook } from './access.js';
import { parseWalletConfig } from './config.js';
import { WalletConfigError } from './errors.js';

const base = { nodeUrl: 'http://127.0.0.1:14265', dataDir: 'data', keystore: { file: 'k.json' } };
const secretFile = async (dir: string, name: string, value: string) => {
  await writeFile(join(dir, name), value, { mode: 0o600 });
  return name;
};

afterEach(() => {
  delete process.env.TEST_API_TOKEN;
  delete process.env.TEST_DASHBOARD_TOKEN;
});

describe('api tokens', () => {
  it('reads the single token as an every-scope token, as before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
    const config = parseWalletConfig(
      { ...base, api: { tokenFile: await secretFile(dir, 't', 'abc\n') } },
      dir,
    );
    expect(readApiTokens(config.api)).toEqual([
      { name: 'api', secret: 'abc', scopes: ['pay', 'market', 'read'] },
    ]);
  });

  it('reads scoped tokens from env and files, without the single token when it is not set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
    process.env.TEST_DASHBOARD_TOKEN = 'dash';
    const config = parseWalletConfig(
      {
        ...base,
        api: {
          tokenEnv: 'TEST_API_TOKEN',
          tokens: [
            { name: 'agent', file: await secretFile(dir, 'agent.token', 'agent'), scopes: ['pay', 'read'] },
            { name: 'dashboard', env: 'TEST_DASHBOARD_TOKEN', scopes: ['market', 'read', 'read'] },
          ],
        },
      },
      dir,
    );
    expect(readApiTokens(config.api)).toEqual([
      { name: 'agent', secret: 'agent', scopes: ['pay', 'read'] },
      { name: 'dashboard', secret: 'dash', scopes: ['market', 'read'] },
    ]);
  });

  it('refuses two tokens with one secret', async () => {
    process.env.TEST_API_TOKEN = 'same';
    process.env.TEST_DASHBOARD_TOKEN = 'same';
    const config = parseWalletConfig({
      ...base,
      api: {
        tokenEnv: 'TEST_API_TOKEN',
        tokens: [{ name: 'd', env: 'TEST_DASHBOARD_TOKEN', scopes: ['read'] }],
      },
    });
    expect(() => readApiTokens(config.api)).toThrow('api token "d" has the same secret as "api"');
  });

  it('refuses a token read by others, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
    await writeFile(join(dir, 'open.token'), 'x', { mode: 0o644 });
    const config = parseWalletConfig(
      {
        ...base,
        api: { tokenEnv: 'TEST_API_TOKEN', tokens: [{ name: 'open', file: 'open.token', scopes: ['read'] }] },
      },
      dir,
    );
    expect(() => readApiTokens(config.api)).toThrow(/api\.tokens\[0\] \(open\).*chmod 600/);
  });

  it('rejects configs that would hold a secret or serve public reads, naming the key', () => {
    const bad = (api: unknown) => () => parseWalletConfig({ ...base, api });
    expect(bad({ tokens: [{ name: 'x', scopes: ['read'] }] })).toThrow(/api\.tokens\.0: needs "env"/);
    expect(bad({ tokens: [{ name: 'x', env: 'X', scopes: ['admin'] }] })).toThrow(
      /api\.tokens\.0\.scopes\.0: "pay", "market" or "read"/,
    );
    expect(bad({ tokens: [{ name: 'x', env: 'X', secret: 's', scopes: ['read'] }] })).toThrow(
      WalletConfigError,
    );
    expect(bad({ publicReads: true })).toThrow(/api\.publicReads: reads need a token/);
    expect(parseWalletConfig({ ...base, api: { publicReads: false } }).api.publicReads).toBe(false);
  });

  it('finds a token only by its exact secret', () => {
    const book = new TokenBook([
      { name: 'a', secret: 'alpha', scopes: ['read'] },
      { name: 'b', secret: 'beta', scopes: ['pay'] },
    ]);
    expect(book.find('beta')?.name).toBe('b');
    expect(book.find('bet')).toBeUndefined();
    expect(book.find('')).toBeUndefined();
  });
});

describe('hostAllowed', () => {
  const rule = { boundHost: '192.168.1.20', allowedHosts: ['pi.local', 'wallet.home:8080'] };
  it('answers loopback names and the bound address only with the port, other names as configured', () => {
    const allowed = [
      'localhost:8480',
      '192.168.1.20:8480',
      '[::1]:8480',
      'pi.local:1234',
      'wallet.home:8080',
    ];
    for (const host of allowed) expect(hostAllowed(host, 8480, rule), host).toBe(true);
    expect(hostAllowed('localhost', 80, rule)).toBe(true);
    const refused = [
      ...['localhost', 'localhost:8481', 'wallet.home:8480', 'attacker.example:8480'],
      ...['localhost.attacker.example:8480', 'localhost:8480@evil', undefined, ''],
    ];
    for (const host of refused) expect(hostAllowed(host, 8480, rule), String(host)).toBe(false);
  });

  it('adds no name for a wildcard bind and brackets a bound IPv6 address', () => {
    expect(hostAllowed('0.0.0.0:8480', 8480, { boundHost: '0.0.0.0' })).toBe(false);
    expect(hostAllowed('[fd00::1]:8480', 8480, { boundHost: 'fd00::1' })).toBe(true);
  });
});

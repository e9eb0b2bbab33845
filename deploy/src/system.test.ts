import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWalletConfig, readApiTokens } from '@tanglewatt/wallet-service';
import { describe, expect, it } from 'vitest';
import { householdTokens } from './system.js';

describe('householdTokens', () => {
  it('gives the dashboard (whose token config.json carries) read and market, never pay; the agent pay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'household-'));
    const { token, dashboardToken, api } = await householdTokens(dir);
    const config = parseWalletConfig({
      nodeUrl: 'http://127.0.0.1:14265',
      dataDir: join(dir, 'wallet'),
      keystore: { file: join(dir, 'keystore.json') },
      api,
    });
    const tokens = readApiTokens(config.api);
    const scopesOf = (secret: string) => tokens.find((t) => t.secret === secret)?.scopes;
    expect(scopesOf(dashboardToken)).toEqual(['market', 'read']);
    expect(scopesOf(token)).toEqual(['pay', 'market', 'read']);
    expect(tokens.find((t) => t.name === 'agent')?.scopes).toContain('pay');
    expect(new Set(tokens.map((t) => t.secret)).size).toBe(3);
  });

  it('keeps the same tokens across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'household-'));
    const first = await householdTokens(dir);
    const again = await householdTokens(dir);
    expect(again.token).toBe(first.token);
    expect(again.dashboardToken).toBe(first.dashboardToken);
  });
});

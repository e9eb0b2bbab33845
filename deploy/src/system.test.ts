import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWalletConfig, readApiTokens } from '@tanglewatt/wallet-service';
import { describe, expect, it } from 'vitest';
import { DeployError } from './errors.js';
import { processStartTime } from './processes.js';
import { claimDataDir, householdTokens } from './system.js';

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

describe('claimDataDir', () => {
  const owner = (dir: string) => join(dir, 'owner.json');

  it('refuses a data dir another live run owns, with one line naming its pid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid!;
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      await writeFile(owner(dir), JSON.stringify({ pid, argv0, startTime: processStartTime(pid) }));
      const error = await claimDataDir(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeployError);
      expect((error as DeployError).code).toBe('ALREADY_RUNNING');
      expect((error as DeployError).message).toContain(`pid ${pid}`);
      expect((error as DeployError).message).not.toContain('\n');
      expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(pid);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the record of a run that is gone, or of a PID now used by another program', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const gone = spawn('true', { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(owner(dir), JSON.stringify({ pid: gone.pid, argv0: 'true' }));
    const release = await claimDataDir(dir);
    expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(process.pid);
    await release();

    // A live PID running something else than the recorded program is not the owner.
    await writeFile(owner(dir), JSON.stringify({ pid: process.ppid, argv0: '/no/such/program' }));
    await claimDataDir(dir);
    expect(JSON.parse(await readFile(owner(dir), 'utf8')).pid).toBe(process.pid);
  });

  it('is released on a clean stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'system-'));
    const release = await claimDataDir(dir);
    expect(existsSync(owner(dir))).toBe(true);
    await release();
    expect(existsSync(owner(dir))).toBe(false);
  });
});

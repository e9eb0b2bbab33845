import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile } from '@tanglewatt/deploy';
import { MnemonicSigner } from '@tanglewatt/ledger';
import { writeKeystore } from '@tanglewatt/wallet-service';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitForProgress } from '../support/progress.js';
import { api, prepareWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const cli = fileURLToPath(new URL('../../wallet-service/bin/wallet-service.mjs', import.meta.url));
/** Far above the funded development accounts: nothing here is spent or paid to. */
const UNFUNDED_ACCOUNT = 900;

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
});

describe('wallet-service run with the development mnemonic on the development network', () => {
  it('starts, and its logs at trace level hold neither the words, the password nor the token', async () => {
    const profile = await loadProfile('development');
    if (!('mnemonic' in profile.genesis)) throw new Error('the development profile derives from a mnemonic');
    const mnemonic = profile.genesis.mnemonic;
    const prepared = await prepareWallet(tangle);
    const password = (await readFile(join(prepared.dir, 'password'), 'utf8')).trim();
    await rm(join(prepared.dir, 'keystore.json'));
    await writeKeystore(join(prepared.dir, 'keystore.json'), mnemonic, password);
    const raw = JSON.parse(await readFile(prepared.configFile, 'utf8'));
    raw.account = { accountIndex: UNFUNDED_ACCOUNT };
    await writeFile(prepared.configFile, JSON.stringify(raw));

    let output = '';
    child = spawn(process.execPath, [cli, 'run', '--config', prepared.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'trace' },
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    // Its output growing is its start-up moving on.
    const started = await waitForProgress({
      what: 'wallet-service start-up',
      probe: () => ({ output, exitCode: child!.exitCode }),
      done: (s) => s.output.includes('"wallet-service listening"') || s.exitCode !== null,
      progressed: (before, now) => now.output.length > before.output.length,
      show: (s) => JSON.stringify(s.output.slice(-500)),
      stallMs: 60_000,
      ceilingMs: 180_000,
      intervalMs: 200,
    });
    if (started.exitCode !== null) throw new Error(`wallet-service exited ${started.exitCode}: ${output}`);
    const listening: { url: string; address: string; network: string } = JSON.parse(
      started.output.split('\n').find((l) => l.includes('"wallet-service listening"'))!,
    );
    const [expected] = await new MnemonicSigner(mnemonic).addresses({
      accountIndex: UNFUNDED_ACCOUNT,
      count: 1,
      bech32Hrp: tangle.bech32Hrp,
    });
    expect(listening.network).toBe('tanglewatt-local');
    expect(listening.address).toBe(expected);
    const wallet = { url: listening.url, token: prepared.token };
    expect((await api(wallet, 'GET', '/balance')).status).toBe(200);
    expect((await api(wallet, 'POST', '/claims', {}, 'not the token')).status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    expect(output).toContain('"wallet-service listening"');
    const words = mnemonic.split(' ');
    for (let i = 0; i + 1 < words.length; i++) expect(output).not.toContain(`${words[i]} ${words[i + 1]}`);
    expect(output).not.toContain(password);
    expect(output).not.toContain(prepared.token);
  });
});

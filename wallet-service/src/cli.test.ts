import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MnemonicSigner } from '@tanglewatt/ledger';
import { beforeEach, describe, expect, it } from 'vitest';
import { readKeystore } from './keystore.js';
import { CLEAR_SCREEN } from './mnemonic-backup.js';

const cli = fileURLToPath(new URL('../bin/wallet-service.mjs', import.meta.url));
const developmentMnemonic: string = JSON.parse(
  await readFile(new URL('../../hornet-config/profiles/development.json', import.meta.url), 'utf8'),
).genesis.mnemonic;
const password = 'correct horse battery';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real CLI in its own process, off a terminal (pipes), with only the environment given. */
function wallet(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'trace', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** `command` on the test's keystore, its password read from the test's password file. */
const onKeystore = (command: string, ...args: string[]) => [
  command,
  '--keystore',
  keystore,
  '--password-file',
  passwordFile,
  ...args,
];

/** Fails if the output holds the mnemonic or any two of its words in a row. */
function expectNoWords(output: string, mnemonic: string): void {
  const words = mnemonic.split(' ');
  expect(output).not.toContain(mnemonic);
  for (let i = 0; i + 1 < words.length; i++) expect(output).not.toContain(`${words[i]} ${words[i + 1]}`);
}

const addressOf = async (mnemonic: string) =>
  (await new MnemonicSigner(mnemonic).addresses({ count: 1, bech32Hrp: 'watt' }))[0]!;

let dir: string;
let keystore: string;
let passwordFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wallet-cli-'));
  keystore = join(dir, 'keystore.json');
  passwordFile = join(dir, 'password');
  await writeFile(passwordFile, password, { mode: 0o600 });
});

describe('wallet-service init', { timeout: 120_000 }, () => {
  it('refuses a second init on the same keystore in one line, and the first address stays', async () => {
    const first = await wallet(onKeystore('init'));
    expect(first.code).toBe(0);
    const mnemonic = await readKeystore(keystore, password);
    expect(first.stdout).toContain(`address ${await addressOf(mnemonic)}`);

    const second = await wallet(onKeystore('init'));
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      /^wallet-service: KEYSTORE_EXISTS: keystore .* already exists: .*--force.*\n$/,
    );
    expect(second.stderr).toContain(keystore);
    expect(await readKeystore(keystore, password)).toBe(mnemonic);
    expect(await readdir(dir)).toEqual(['keystore.json', 'password']);
  });

  it('with --force keeps the old keystore as a timestamped backup that opens to the first mnemonic', async () => {
    expect((await wallet(onKeystore('init'))).code).toBe(0);
    const first = await readKeystore(keystore, password);
    const forced = await wallet(['init', '--keystore', keystore, '--force'], { WALLET_PASSWORD: password });
    expect(forced.code).toBe(0);
    const backup = /the previous keystore was moved to (.*\.bak)\n/.exec(forced.stdout)?.[1];
    expect(backup).toMatch(
      new RegExp(`^${keystore}\\.\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\.bak$`),
    );
    expect((await stat(backup!)).mode & 0o777).toBe(0o600);
    expect(await readKeystore(backup!, password)).toBe(first);
    const second = await readKeystore(keystore, password);
    expect(second).not.toBe(first);
    expect(forced.stdout).toContain(`address ${await addressOf(second)}`);
  });

  it('off a terminal, never shows the words and says how to export them', async () => {
    const run = await wallet(onKeystore('init'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wallet-service export-mnemonic --keystore ${keystore}`);
    expectNoWords(run.stdout + run.stderr, await readKeystore(keystore, password));
  });

  it('on a terminal, shows the stored words once and finishes when two of them are typed back', async () => {
    // script(1) gives the CLI a pseudo-terminal for stdin and stdout, as a person's shell would.
    const command = `'${process.execPath}' '${cli}' init --keystore '${keystore}' --password-file '${passwordFile}'`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'xterm' },
    });
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
    });
    let ended = false;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        ended = true;
        resolve(code);
      }),
    );
    const prompt = async (count: number) => {
      const prompts = () => [...screen.matchAll(/Type word #(\d+) from your paper: /g)];
      while (prompts().length < count) {
        if (ended) throw new Error(`init ended before asking word ${count}: ${screen}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return Number(prompts()[count - 1]![1]);
    };
    const first = await prompt(1);
    const shown = new Map([...screen.matchAll(/(\d+)\. ([a-z]+)/g)].map((m) => [Number(m[1]), m[2]!]));
    child.stdin.write(`${shown.get(first)}\r`);
    const second = await prompt(2);
    child.stdin.write(`${shown.get(second)}\r`);
    expect(await exited).toBe(0);

    const mnemonic = await readKeystore(keystore, password);
    const inOrder = [...shown].sort(([a], [b]) => a - b);
    expect(inOrder.map(([position]) => position)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(inOrder.map(([, word]) => word).join(' ')).toBe(mnemonic);
    const afterConfirmation = screen.slice(screen.lastIndexOf(CLEAR_SCREEN));
    expect(afterConfirmation.startsWith(`${CLEAR_SCREEN}Confirmed: the words are written down`)).toBe(true);
    expectNoWords(afterConfirmation, mnemonic);
  });

  it('refuses to import the development mnemonic without --development, and changes nothing', async () => {
    const mnemonicFile = join(dir, 'words');
    await writeFile(mnemonicFile, `${developmentMnemonic}\n`, { mode: 0o600 });
    const refused = await wallet(onKeystore('init', '--mnemonic-file', mnemonicFile));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^wallet-service: KEYSTORE_DEVELOPMENT_MNEMONIC: .*words holds the public development mnemonic: .*--development\n$/,
    );
    expectNoWords(refused.stdout + refused.stderr, developmentMnemonic);
    expect(await readdir(dir)).toEqual(['password', 'words']);

    const imported = await wallet(onKeystore('init', '--mnemonic-file', mnemonicFile, '--development'));
    expect(imported.code).toBe(0);
    expect(await readKeystore(keystore, password)).toBe(developmentMnemonic);
  });
});

describe('wallet-service export-mnemonic', { timeout: 120_000 }, () => {
  it('prints the words to stdout with the right password, a warning on stderr, and refuses a wrong one', async () => {
    expect((await wallet(onKeystore('init'))).code).toBe(0);
    const mnemonic = await readKeystore(keystore, password);

    const exported = await wallet(onKeystore('export-mnemonic'));
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(`${mnemonic}\n`);
    expect(exported.stderr).toMatch(/^wallet-service: WARNING: these words are the wallet: .*\n$/);
    expectNoWords(exported.stderr, mnemonic);

    const wrong = await wallet(['export-mnemonic', '--keystore', keystore], {
      WALLET_PASSWORD: 'not the password',
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toBe(
      `wallet-service: KEYSTORE_BAD_PASSWORD: keystore ${keystore}: wrong password (or the file was altered)\n`,
    );
  });
});

/** A loopback port nothing listens on: the node is down, so the service takes its cached network. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('wallet-service run', { timeout: 120_000 }, () => {
  it('refuses the development mnemonic off the development network, in one line without the words', async () => {
    const mnemonicFile = join(dir, 'words');
    await writeFile(mnemonicFile, developmentMnemonic, { mode: 0o600 });
    const init = await wallet(onKeystore('init', '--mnemonic-file', mnemonicFile, '--development'));
    expect(init.code).toBe(0);
    // The network the node last reported, as the service caches it for starts while the node is down.
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    await writeFile(
      join(dataDir, 'network.json'),
      JSON.stringify({ networkName: 'tanglewatt-mainstreet', bech32Hrp: 'watt' }),
    );
    await writeFile(join(dir, 'token'), 'a'.repeat(48), { mode: 0o600 });
    const config = join(dir, 'wallet.json');
    await writeFile(
      config,
      JSON.stringify({
        nodeUrl: `http://127.0.0.1:${await closedPort()}`,
        dataDir: 'data',
        keystore: { file: 'keystore.json', passwordFile: 'password' },
        api: { tokenFile: 'token' },
        listen: { port: 0 },
      }),
    );
    const run = await wallet(['run', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `wallet-service: KEYSTORE_DEVELOPMENT_MNEMONIC: keystore ${keystore} holds the public development mnemonic, allowed only on the development network "tanglewatt-local", and the node's network is "tanglewatt-mainstreet"`,
    );
    expect(
      run.stderr
        .trimEnd()
        .split('\n')
        .filter((line) => line.startsWith('wallet-service:')),
    ).toHaveLength(1);
    expectNoWords(run.stdout + run.stderr, developmentMnemonic);
    expectNoWords(run.stdout + run.stderr, password);
  });
});

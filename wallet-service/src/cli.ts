import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DataDirLockedError } from '@tanglewatt/journal';
import { generateMnemonic, MnemonicSigner } from '@tanglewatt/ledger';
import { Command } from 'commander';
import pino from 'pino';
import { loadWalletConfig } from './config.js';
import { isDevelopmentMnemonic } from './development.js';
import { KeystoreError, SecretError, WalletConfigError } from './errors.js';
import { checkKeystoreInputs, initKeystore, readKeystore } from './keystore.js';
import { type Prompt, showAndConfirm } from './mnemonic-backup.js';
import { readSecret } from './secrets.js';
import { startWalletService } from './service.js';

const log = pino({ name: 'wallet-service', level: process.env.LOG_LEVEL ?? 'info' });

const program = new Command('wallet-service')
  .description("A household's wallet: keys, exactly-once settlement on the tangle, and the REST API")
  .showHelpAfterError();

function passwordFrom(passwordFile: string | undefined): string {
  return readSecret('keystore password', {
    env: 'WALLET_PASSWORD',
    ...(passwordFile ? { file: passwordFile } : {}),
  });
}

function readMnemonicFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new KeystoreError(
      'KEYSTORE_INVALID',
      `--mnemonic-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code}): give the file holding the 24 words`,
    );
  }
}

/** Asks on the terminal; an ended input (Ctrl-D) answers undefined. */
function terminalPrompt(): Prompt & { close(): void } {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  let closed = false;
  rl.once('close', () => {
    closed = true;
  });
  return {
    write: (text) => process.stdout.write(text),
    ask: (question) =>
      new Promise((resolve) => {
        if (closed) return resolve(undefined);
        rl.once('close', () => resolve(undefined));
        rl.question(question, resolve);
      }),
    close: () => rl.close(),
  };
}

program
  .command('init')
  .description('create the encrypted keystore: a new mnemonic, or one read from a file; never replaces one')
  .requiredOption('--keystore <file>', 'keystore file to create (mode 0600)')
  .option('--mnemonic-file <file>', 'import this 24-word mnemonic instead of generating one')
  .option('--development', 'allow importing the public development mnemonic (development network only)')
  .option('--force', 'replace an existing keystore, after moving it to <file>.<time>.bak')
  .option('--password-file <file>', 'read the password from this 0600 file (default: $WALLET_PASSWORD)')
  .option('--hrp <hrp>', 'bech32 prefix of the network, to print the address', 'watt')
  .option('--account <n>', 'account index', (v) => Number(v), 0)
  .action(
    async (opts: {
      keystore: string;
      mnemonicFile?: string;
      development?: boolean;
      force?: boolean;
      passwordFile?: string;
      hrp: string;
      account: number;
    }) => {
      const password = passwordFrom(opts.passwordFile);
      const mnemonic = opts.mnemonicFile ? readMnemonicFile(opts.mnemonicFile) : generateMnemonic();
      // Every check before anything on disk changes.
      checkKeystoreInputs(mnemonic, password);
      if (opts.mnemonicFile && isDevelopmentMnemonic(mnemonic) && !opts.development) {
        throw new KeystoreError(
          'KEYSTORE_DEVELOPMENT_MNEMONIC',
          `${opts.mnemonicFile} holds the public development mnemonic: anyone can spend what it receives; import it only for the development network, with --development`,
        );
      }
      const { backup } = await initKeystore(opts.keystore, mnemonic, password, { force: !!opts.force });
      if (backup) process.stdout.write(`the previous keystore was moved to ${backup}\n`);
      const [address] = await new MnemonicSigner(mnemonic).addresses({
        accountIndex: opts.account,
        count: 1,
        bech32Hrp: opts.hrp,
      });
      process.stdout.write(`keystore written to ${opts.keystore}\naddress ${address}\n`);
      if (opts.mnemonicFile) return;
      const exportHint = `wallet-service export-mnemonic --keystore ${opts.keystore}`;
      if (!(process.stdout.isTTY && process.stdin.isTTY)) {
        process.stdout.write(
          `The mnemonic was not shown (not a terminal). Write it down on paper from a terminal with: ${exportHint}\n` +
            'Until then the keystore and its password are the only copy: without both the funds are lost.\n',
        );
        return;
      }
      const prompt = terminalPrompt();
      const confirmed = await showAndConfirm(mnemonic.split(' '), prompt).finally(() => prompt.close());
      if (!confirmed) {
        throw new KeystoreError(
          'KEYSTORE_NOT_BACKED_UP',
          `the words were not confirmed; the keystore is written: see them again with: ${exportHint}`,
        );
      }
    },
  );

program
  .command('export-mnemonic')
  .description("print the keystore's 24 words, to write them down (asks for the keystore password)")
  .requiredOption('--keystore <file>', 'keystore file')
  .option('--password-file <file>', 'read the password from this 0600 file (default: $WALLET_PASSWORD)')
  .action(async (opts: { keystore: string; passwordFile?: string }) => {
    const mnemonic = await readKeystore(opts.keystore, passwordFrom(opts.passwordFile));
    process.stderr.write(
      'wallet-service: WARNING: these words are the wallet: whoever reads them can spend its funds. Write them on paper; do not keep them in a file, a chat or a screenshot.\n',
    );
    process.stdout.write(`${mnemonic}\n`);
  });

program
  .command('address')
  .description("print the wallet's address")
  .requiredOption('--config <file>', 'config file')
  .option('--hrp <hrp>', 'bech32 prefix of the network', 'watt')
  .action(async (opts: { config: string; hrp: string }) => {
    const config = await loadWalletConfig(opts.config);
    const password = readSecret('keystore password', {
      env: config.keystore.passwordEnv,
      ...(config.keystore.passwordFile ? { file: config.keystore.passwordFile } : {}),
    });
    const signer = new MnemonicSigner(await readKeystore(config.keystore.file, password));
    const [address] = await signer.addresses({
      coinType: config.account.coinType,
      accountIndex: config.account.accountIndex,
      start: config.account.addressIndex,
      count: 1,
      bech32Hrp: opts.hrp,
    });
    process.stdout.write(`${address}\n`);
  });

program
  .command('run')
  .description('run the service')
  .requiredOption('--config <file>', 'config file')
  .action(async (opts: { config: string }) => {
    const config = await loadWalletConfig(opts.config);
    let service: Awaited<ReturnType<typeof startWalletService>> | undefined;
    // A failed journal (full disk, failed fsync) cannot be trusted again in this process: stop, and let
    // the service manager start a fresh one (exit 75, EX_TEMPFAIL), which reopens the journals from disk.
    const onFatal = () => {
      setTimeout(() => process.exit(75), 10_000).unref();
      void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(75));
    };
    service = await startWalletService(config, log, { onFatal });
    const stop = async () => {
      await service?.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (
    error instanceof WalletConfigError ||
    error instanceof KeystoreError ||
    error instanceof SecretError ||
    error instanceof DataDirLockedError
  ) {
    process.stderr.write(`wallet-service: ${error.code}: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

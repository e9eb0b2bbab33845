import { readFileSync } from 'node:fs';
import { DataDirLockedError } from '@tanglewatt/journal';
import { generateMnemonic, MnemonicSigner } from '@tanglewatt/ledger';
import { Command } from 'commander';
import pino from 'pino';
import { ConfigError, loadWalletConfig } from './config.js';
import { KeystoreError, readKeystore, writeKeystore } from './keystore.js';
import { readSecret, SecretError } from './secrets.js';
import { startWalletService } from './service.js';

const log = pino({ name: 'wallet-service', level: process.env.LOG_LEVEL ?? 'info' });

const program = new Command('wallet-service')
  .description("A household's wallet: keys, exactly-once settlement on the tangle, and the REST API")
  .showHelpAfterError();

program
  .command('init')
  .description('create the encrypted keystore: a new mnemonic, or one read from a file')
  .requiredOption('--keystore <file>', 'keystore file to create (mode 0600)')
  .option('--mnemonic-file <file>', 'import this 24-word mnemonic instead of generating one')
  .option('--password-file <file>', 'read the password from this 0600 file (default: $WALLET_PASSWORD)')
  .option('--hrp <hrp>', 'bech32 prefix of the network, to print the address', 'watt')
  .option('--account <n>', 'account index', (v) => Number(v), 0)
  .action(
    async (opts: {
      keystore: string;
      mnemonicFile?: string;
      passwordFile?: string;
      hrp: string;
      account: number;
    }) => {
      const password = readSecret('keystore password', {
        env: 'WALLET_PASSWORD',
        ...(opts.passwordFile ? { file: opts.passwordFile } : {}),
      });
      const mnemonic = opts.mnemonicFile
        ? readFileSync(opts.mnemonicFile, 'utf8').trim()
        : generateMnemonic();
      await writeKeystore(opts.keystore, mnemonic, password);
      const [address] = await new MnemonicSigner(mnemonic).addresses({
        accountIndex: opts.account,
        count: 1,
        bech32Hrp: opts.hrp,
      });
      process.stdout.write(`keystore written to ${opts.keystore}\naddress ${address}\n`);
      if (!opts.mnemonicFile)
        process.stdout.write(
          'Back up the keystore file and its password: without both the funds are lost.\n',
        );
    },
  );

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
    const service = await startWalletService(config, log);
    const stop = async () => {
      await service.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (
    error instanceof ConfigError ||
    error instanceof KeystoreError ||
    error instanceof SecretError ||
    error instanceof DataDirLockedError
  ) {
    process.stderr.write(`wallet-service: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

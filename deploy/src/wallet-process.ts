/**
 * A household's wallet-service as its own process (`wallet-service run --config <file>`), restartable on the
 * same config and port: what the exactly-once drill, the tests of copies and restarts, and the footprint
 * benchmark run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The wallet-service's launcher (TypeScript through tsx); `npm run build` makes dist/wallet-service.mjs. */
export const WALLET_SERVICE_BIN = fileURLToPath(
  new URL('../../wallet-service/bin/wallet-service.mjs', import.meta.url),
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WalletProcess {
  child: ChildProcess | undefined;
  /** The last 4000 characters it wrote to stderr, for the error when it exits. */
  stderr = '';
  constructor(
    readonly configFile: string,
    readonly url: string,
    readonly entry = WALLET_SERVICE_BIN,
  ) {}

  start(): ChildProcess {
    const child = spawn(process.execPath, [this.entry, 'run', '--config', this.configFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child = child;
    return child;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Resolves once /health answers 200; throws if the process exits first or at the timeout. */
  async up(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child && this.child.exitCode !== null)
        throw new Error(`wallet-service exited ${this.child.exitCode}: ${this.stderr.trim()}`);
      const res = await fetch(`${this.url}/health`).catch(() => undefined);
      if (res?.status === 200) return;
      await sleep(200);
    }
    throw new Error(`wallet-service at ${this.url} did not come up in ${timeoutMs / 1000} s`);
  }
}

// Test support: the real agent CLI as a child process, for crash tests that kill it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/meter-agent.mjs', import.meta.url));

/** Starts `meter-agent run --config <configFile>` with the wallet-service token in its environment. */
export function spawnAgent(configFile: string, logFile: string, token: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'run', '--config', configFile], {
    env: { ...process.env, METER_AGENT_TOKEN: token, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FAKE_PI_MAIN = fileURLToPath(new URL('../fake-pi-main.ts', import.meta.url));

/** The real CLI with GPIO sysfs served by a FakeGpioKernel over `gpioRoot` (a fixture tree). */
export function spawnFakePi(
  args: string[],
  gpioRoot: string,
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FAKE_PI_MAIN, ...args], {
    env: { ...process.env, FAKE_GPIO_ROOT: gpioRoot, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

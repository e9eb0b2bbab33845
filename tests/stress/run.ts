/**
 * The integration suite with a CPU hog beside it: `stress-ng --cpu N` (default 2, one worker per core of
 * the 2-core reference machine, so every core is contended) runs for exactly as long as the suite does
 * and is stopped when it ends, fails or is interrupted. Arguments go to vitest (e.g. one file).
 * STRESS_CPU sets N. Exits with the suite's code.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';

const cpu = process.env.STRESS_CPU ?? '2';
if (!/^[1-9][0-9]*$/.test(cpu)) {
  process.stderr.write(`STRESS_CPU must be a whole number of hog workers (1 or more), got "${cpu}"\n`);
  process.exit(2);
}
if (spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).error) {
  process.stderr.write(
    'stress-ng not found on PATH: install it (Debian/Ubuntu: sudo apt-get install stress-ng)\n',
  );
  process.exit(2);
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
process.stdout.write(
  `stress: stress-ng --cpu ${cpu} beside the integration suite (load average ${load()})\n`,
);

// Its own process group, so the hog and its workers stop together; --timeout is a backstop should this
// process die without cleaning up.
const hog = spawn('stress-ng', ['--cpu', cpu, '--timeout', '3h', '--quiet'], {
  detached: true,
  stdio: 'ignore',
});
const stopHog = () => {
  if (hog.pid === undefined || hog.exitCode !== null || hog.signalCode !== null) return;
  try {
    process.kill(-hog.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
process.on('exit', stopHog);

// vitest itself rather than through npx, so a signal reaches it and it can stop its workers and the tangle.
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const started = Date.now();
const suite: ChildProcess = spawn(
  process.execPath,
  [vitest, 'run', '--project', 'integration', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    stopHog();
    suite.kill(signal);
    // Should it not stop by itself, it is stopped.
    setTimeout(() => suite.kill('SIGKILL'), 30_000).unref();
  });
suite.on('exit', (code, signal) => {
  stopHog();
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(
    `stress: suite ${code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`} in ${seconds} s beside stress-ng --cpu ${cpu}; load average ${load()}\n`,
  );
  process.exit(code ?? 1);
});

#!/usr/bin/env node
// The browser tests drive Debian's Chromium. Installs it through apt when it is missing (as root, or
// through sudo without a password); otherwise says in one line what to run. Uses nothing outside Node.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);

const asRoot = process.getuid?.() === 0;
const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (!asRoot && !sudo) {
  process.stderr.write(
    `the browser tests need Chromium at ${CHROMIUM}: run "sudo apt-get install chromium", then npm test again\n`,
  );
  process.exit(1);
}

const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
const apt = (args) => {
  const command = sudo ? 'sudo' : 'apt-get';
  const argv = sudo ? ['DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args] : args;
  return spawnSync(command, argv, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).status;
};
process.stderr.write('installing Chromium for the browser tests (apt-get install chromium)...\n');
if (
  apt(['update', '-qq']) !== 0 ||
  apt(['install', '-y', '-qq', 'chromium']) !== 0 ||
  !existsSync(CHROMIUM)
) {
  process.stderr.write(
    `installing Chromium failed after ${elapsed()}: check that Debian's package mirror is reachable, then run "apt-get install chromium"\n`,
  );
  process.exit(1);
}
process.stderr.write(`Chromium installed in ${elapsed()}\n`);

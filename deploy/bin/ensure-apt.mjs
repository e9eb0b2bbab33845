#!/usr/bin/env node
// A Debian package the tests need (Chromium for the browser tests, stress-ng for the stress run):
// installs it through apt when its program is missing (as root, or through sudo without a password);
// otherwise says in one line what to run. Uses nothing outside Node.
//   node deploy/bin/ensure-apt.mjs <program path> <package> <what needs it>
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const [program, pkg, purpose] = process.argv.slice(2);
if (!program || !pkg || !purpose) {
  process.stderr.write('usage: ensure-apt.mjs <program path> <package> <what needs it>\n');
  process.exit(2);
}
if (existsSync(program)) process.exit(0);

const asRoot = process.getuid?.() === 0;
const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (!asRoot && !sudo) {
  process.stderr.write(`${purpose} need ${program}: run "sudo apt-get install ${pkg}", then try again\n`);
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
process.stderr.write(`installing ${pkg} for ${purpose} (apt-get install ${pkg})...\n`);
if (apt(['update', '-qq']) !== 0 || apt(['install', '-y', '-qq', pkg]) !== 0 || !existsSync(program)) {
  process.stderr.write(
    `installing ${pkg} failed after ${elapsed()}: check that Debian's package mirror is reachable, then run "apt-get install ${pkg}"\n`,
  );
  process.exit(1);
}
process.stderr.write(`${pkg} installed in ${elapsed()}\n`);

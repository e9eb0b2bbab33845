#!/usr/bin/env node
// Installs the npm dependencies when node_modules is missing or was made from another package-lock.json,
// so `npm start` and `npm test` work straight after a clone. Uses nothing outside Node itself.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const lock = `${root}package-lock.json`;
const marker = `${root}node_modules/.tanglewatt-lock-sha256`;
const wanted = createHash('sha256').update(readFileSync(lock)).digest('hex');
const current = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : '';

if (current !== wanted) {
  process.stderr.write('installing npm dependencies (npm ci)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-fund', '--no-audit'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('npm ci failed: check that the npm registry is reachable, then run again\n');
    process.exit(result.status ?? 1);
  }
  writeFileSync(marker, `${wanted}\n`);
}

/**
 * `npm start`: the whole system on its embedded default, in the foreground. Ctrl-C stops what it started.
 * The tangle keeps its data in .tangle/ between runs; `npm run tangle -- up --fresh` starts over.
 */
import { DEFAULT_DATA_DIR } from './defaults.js';
import { DeployError } from './errors.js';
import { ensureBinaries } from './install.js';
import { createLogger } from './log.js';
import { loadProfile } from './profile.js';
import { tangleDown, tangleUp } from './tangle.js';

const log = createLogger('start');

async function main(): Promise<void> {
  const binaries = await ensureBinaries({ log });
  const state = await tangleUp({
    dataDir: DEFAULT_DATA_DIR,
    profile: await loadProfile('development'),
    binaries,
    log,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    await tangleDown(DEFAULT_DATA_DIR);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(
    [
      '',
      `  network   ${state.networkName} (${state.bech32Hrp})`,
      ...state.nodes.map((n) => `  ${n.alias.padEnd(9)} ${n.restUrl}/api/core/v2/info`),
      ...(state.mqttUrl ? [`  mqtt      ${state.mqttUrl}`] : []),
      `  data      ${DEFAULT_DATA_DIR}`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (error instanceof DeployError) {
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`start: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
});

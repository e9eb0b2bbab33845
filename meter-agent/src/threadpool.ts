import { readFileSync } from 'node:fs';

/** libuv's default pool: what fs (the journals' writes and fsyncs), dns and crypto share. */
const SPARE_THREADS = 4;
const MAX_THREADS = 1024;

/** The `--config` file named on a command line (`--config f`, `--config=f` or `-c f`). */
export function configFileOf(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--config' || arg === '-c') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

/**
 * Threads for libuv's pool: one per INA219 (each read runs its ioctls there, and a sensor has at most one
 * read in flight) plus the default four, so a stuck bus never leaves the journals' fsyncs waiting.
 */
export function threadPoolSize(configText: string | undefined): number {
  let ina219s = 0;
  try {
    const sensors = (JSON.parse(configText ?? '{}') as { sensors?: unknown }).sensors;
    if (Array.isArray(sensors))
      ina219s = sensors.filter((s) => (s as { kind?: unknown } | null)?.kind === 'ina219').length;
  } catch {
    // A config that does not parse fails later with a proper message; size for the schema's maximum.
    ina219s = 16;
  }
  return Math.min(MAX_THREADS, SPARE_THREADS + ina219s);
}

/**
 * Sets UV_THREADPOOL_SIZE for this process unless it is set. libuv reads it once, when the pool first
 * starts, and loading ES modules already starts it: this must run in a CommonJS entry, before any import().
 */
export function sizeThreadPool(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  if (env.UV_THREADPOOL_SIZE) return;
  const file = configFileOf(argv);
  let text: string | undefined;
  try {
    text = file ? readFileSync(file, 'utf8') : undefined;
  } catch {
    text = undefined; // the CLI says what is wrong with the file
  }
  env.UV_THREADPOOL_SIZE = String(threadPoolSize(text));
}

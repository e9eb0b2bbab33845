import { createHash } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import {
  access,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isError } from '@tanglewatt/errors';
import { processAlive } from '@tanglewatt/journal';
import type { Logger } from 'pino';
import { COMPONENTS, type Component, type ComponentName, GO_TOOLCHAIN } from './components.js';
import { checkAborted, DeployError } from './errors.js';
import { ExecError, exec, tail } from './exec.js';

/** Where built binaries live: outside the repository, shared by every clone on the machine. */
export function defaultCacheDir(): string {
  if (process.env.TANGLEWATT_CACHE_DIR) return process.env.TANGLEWATT_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tanglewatt');
}

export type Binaries = Partial<Record<ComponentName, string>> & {
  hornet: string;
  'tanglewatt-coordinator': string;
};

interface Manifest {
  [name: string]: { version: string; builtAt: string } | undefined;
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOFLAGS: '-mod=mod' };
}

/** Hash of our own Go source, so an edit triggers a rebuild. */
async function sourceVersion(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
    .sort();
  for (const file of files) {
    hash.update(file);
    hash.update(await readFile(join(dir, file)));
  }
  return `source-${hash.digest('hex').slice(0, 16)}`;
}

async function versionOf(component: Component): Promise<string> {
  return component.build.kind === 'source' ? sourceVersion(component.build.dir) : component.version;
}

async function checkGo(): Promise<void> {
  try {
    await exec('go', ['version']);
  } catch (error) {
    if (isError(error, 'COMMAND_NOT_FOUND')) {
      throw new DeployError(
        'GO_MISSING',
        'Go toolchain not found on PATH: install Go 1.21 or newer (https://go.dev/dl, or apt-get install golang) and run again',
      );
    }
    throw error;
  }
}

/** What a build fetches and compiles, for progress lines: the Go module, or our own source dir. */
export function buildTarget(component: Component): string {
  return component.build.kind === 'source'
    ? relative(process.cwd(), component.build.dir) || component.build.dir
    : component.build.module;
}

/**
 * A Go build prints nothing for minutes: logs which module is building and for how long, every
 * `everyMs`, until the returned function is called.
 */
export function reportBuildProgress(
  log: Pick<Logger, 'info'>,
  component: Component,
  version: string,
  everyMs = 10_000,
): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log.info(
      { component: component.name, module: buildTarget(component), seconds },
      `still building ${component.name} ${version} (${buildTarget(component)}): ${seconds} s`,
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function build(
  component: Component,
  outFile: string,
  version: string,
  signal?: AbortSignal,
): Promise<void> {
  const env = goEnv();
  const workDir = await mkdtemp(join(tmpdir(), `tanglewatt-build-${component.name}-`));
  try {
    switch (component.build.kind) {
      case 'install': {
        await exec('go', ['install', `${component.build.module}@${version}`], {
          env: { ...env, GOBIN: workDir },
          cwd: workDir,
          ...(signal ? { signal } : {}),
        });
        const built = (await readdir(workDir))[0];
        if (!built) throw new Error('go install produced no binary');
        await copyFile(join(workDir, built), outFile);
        break;
      }
      case 'module-dir': {
        const { stdout } = await exec(
          'go',
          ['mod', 'download', '-json', `${component.build.module}@${version}`],
          { env, cwd: workDir, ...(signal ? { signal } : {}) },
        );
        const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
        if (!moduleDir) throw new Error(`go mod download gave no directory for ${component.build.module}`);
        await exec('go', ['build', '-trimpath', '-o', outFile, '.'], {
          env,
          cwd: moduleDir,
          ...(signal ? { signal } : {}),
        });
        break;
      }
      case 'source':
        await exec('go', ['build', '-trimpath', '-o', outFile, '.'], {
          env,
          cwd: component.build.dir,
          ...(signal ? { signal } : {}),
        });
        break;
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** One installer at a time per cache: a lock file holding the owner's PID; a dead owner's lock is taken over. */
async function withLock<T>(
  cacheDir: string,
  run: () => Promise<T>,
  log: Pick<Logger, 'info'>,
  signal?: AbortSignal,
): Promise<T> {
  const lockFile = join(cacheDir, 'install.lock');
  let told = false;
  for (;;) {
    checkAborted(signal);
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (!Number.isFinite(owner) || !processAlive(owner)) {
        await rm(lockFile, { force: true });
        continue;
      }
      if (!told) {
        // Otherwise the wait looks like a hang: another clone or test run is installing into the same cache.
        log.info({ pid: owner, lockFile }, `waiting for another install (pid ${owner}) to finish`);
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return await run();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * Makes sure every pinned component is built into the cache, building what is missing or outdated
 * through the Go module proxy. Returns the path of each binary that is available.
 */
export async function ensureBinaries(options: {
  cacheDir?: string;
  log: Logger;
  /** Aborts a build in progress (its go command is stopped) and rejects with the abort's reason. */
  signal?: AbortSignal;
}): Promise<Binaries> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const binDir = join(cacheDir, 'bin');
  await mkdir(binDir, { recursive: true });
  return withLock(
    cacheDir,
    async () => {
      const manifestFile = join(cacheDir, 'manifest.json');
      const manifest: Manifest = existsSync(manifestFile)
        ? (JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest)
        : {};
      const paths: Partial<Record<ComponentName, string>> = {};
      let goChecked = false;
      for (const component of COMPONENTS) {
        const version = await versionOf(component);
        const binary = join(binDir, component.name);
        const upToDate =
          manifest[component.name]?.version === version &&
          (await access(binary, constants.X_OK).then(
            () => true,
            () => false,
          ));
        if (!upToDate) {
          if (!goChecked) {
            await checkGo();
            goChecked = true;
          }
          options.log.info(
            { component: component.name, version },
            `building ${component.name} ${version} (first time takes minutes)`,
          );
          const started = Date.now();
          const partial = `${binary}.partial`;
          const stopProgress = reportBuildProgress(options.log, component, version);
          try {
            await build(component, partial, version, options.signal);
            await rename(partial, binary);
          } catch (error) {
            await rm(partial, { force: true });
            if (options.signal?.aborted) throw options.signal.reason;
            const output = error instanceof ExecError ? tail(error.stderr || error.stdout) : String(error);
            if (component.required) {
              throw new DeployError(
                'BUILD_FAILED',
                `building ${component.name} ${version} failed: see the build output above; check that the Go module proxy is reachable (GOPROXY) and gcc is installed`,
                output,
              );
            }
            options.log.warn(
              { component: component.name, version, output },
              `${component.name} did not build; continuing without it`,
            );
            manifest[component.name] = undefined;
            continue;
          } finally {
            stopProgress();
          }
          manifest[component.name] = { version, builtAt: new Date().toISOString() };
          await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
          options.log.info(
            { component: component.name, seconds: Math.round((Date.now() - started) / 1000) },
            `built ${component.name}`,
          );
        }
        paths[component.name] = binary;
      }
      return paths as Binaries;
    },
    options.log,
    options.signal,
  );
}

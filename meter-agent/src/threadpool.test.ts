import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFileOf, sizeThreadPool, threadPoolSize } from './threadpool.js';

describe('libuv thread pool size', () => {
  it('finds the config file in every spelling the CLI accepts', () => {
    expect(configFileOf(['run', '--config', 'a.json'])).toBe('a.json');
    expect(configFileOf(['run', '-c', 'b.json'])).toBe('b.json');
    expect(configFileOf(['run', '--config=c.json'])).toBe('c.json');
    expect(configFileOf(['status'])).toBeUndefined();
  });

  it('gives each INA219 a thread besides the default four', () => {
    const ina = { kind: 'ina219' };
    expect(threadPoolSize(JSON.stringify({ sensors: [ina, ina, { kind: 'simulated' }] }))).toBe(6);
    expect(threadPoolSize(JSON.stringify({ meterId: 'm' }))).toBe(4);
    expect(threadPoolSize(undefined)).toBe(4);
    expect(threadPoolSize('{ not json')).toBe(20);
  });

  it('sets UV_THREADPOOL_SIZE from the config, and leaves a size given by the environment alone', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'pool-')), 'agent.json');
    await writeFile(file, JSON.stringify({ sensors: [{ kind: 'ina219' }] }));
    const env: NodeJS.ProcessEnv = {};
    sizeThreadPool(['run', '--config', file], env);
    expect(env.UV_THREADPOOL_SIZE).toBe('5');
    const given: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '12' };
    sizeThreadPool(['run', '--config', file], given);
    expect(given.UV_THREADPOOL_SIZE).toBe('12');
  });
});

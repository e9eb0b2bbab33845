// Runs deploy/pi/install.sh against a scratch root (ROOT=…) with the system commands it calls (apt-get,
// raspi-config, systemctl, useradd, npm, node's version and module check, chown) replaced by stubs on PATH
// that record their calls. The copy of the code, directories, templates and units are real files.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../pi/install.sh', import.meta.url));
const TEMPLATE = fileURLToPath(new URL('../pi/meter-agent.pi.json', import.meta.url));
const run = promisify(execFile);

/** Each stub appends "name args…" to $STUB_LOG; a few answer the way the real command would. */
const STUBS: Record<string, string> = {
  'apt-get': '',
  useradd: 'touch "$STUB_STATE/user"',
  usermod: '',
  getent: '[ "$1" = passwd ] && [ -e "$STUB_STATE/user" ]',
  chown: '',
  chgrp: '',
  systemctl: '',
  npm: '',
  'raspi-config':
    '[ "$2" = get_i2c ] && { [ -e "$STUB_STATE/i2c" ] && echo 0 || echo 1; }; [ "$2" = do_i2c ] && touch "$STUB_STATE/i2c"; true',
  node: 'if [ "$1" = -p ]; then echo "$FAKE_NODE_VERSION"; else [ "$FAKE_NATIVE" = loads ]; fi',
};

interface Sandbox {
  root: string;
  env: NodeJS.ProcessEnv;
  log: string;
}

async function sandbox(nodeVersion = '22.12.0', native = 'loads'): Promise<Sandbox> {
  const base = await mkdtemp(join(tmpdir(), 'pi-install-'));
  const bin = join(base, 'bin');
  const stubState = join(base, 'state');
  const root = join(base, 'root');
  await mkdir(bin);
  await mkdir(stubState);
  await mkdir(root);
  for (const [name, body] of Object.entries(STUBS)) {
    const file = join(bin, name);
    await writeFile(file, `#!/bin/sh\necho "${name} $*" >>"$STUB_LOG"\n${body}\n`);
    await chmod(file, 0o755);
  }
  const log = join(base, 'calls.log');
  await writeFile(log, '');
  return {
    root,
    log,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      ROOT: root,
      STUB_LOG: log,
      STUB_STATE: stubState,
      FAKE_NODE_VERSION: nodeVersion,
      FAKE_NATIVE: native,
    },
  };
}

async function install(s: Sandbox): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run('bash', [SCRIPT], { env: s.env });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** Every file and directory under the root with its mode and content hash. */
async function tree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const mode = ((await stat(path)).mode & 0o7777).toString(8);
      if (entry.isDirectory()) {
        out.set(`${relative(root, path)}/`, mode);
        await walk(path);
      } else {
        const hash = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
        out.set(relative(root, path), `${mode} ${hash}`);
      }
    }
  };
  await walk(root);
  return out;
}

describe('deploy/pi/install.sh', () => {
  it('installs into an empty root: code, state dirs, the Pi config template, units, I²C, clock wait', {
    timeout: 60_000,
  }, async () => {
    const s = await sandbox();
    const result = await install(s);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const calls = await readFile(s.log, 'utf8');
    expect(calls).toMatch(/^apt-get install -y --no-install-recommends build-essential python3 i2c-tools$/m);
    expect(calls).toMatch(/^useradd --system .* tanglewatt$/m);
    expect(calls).toMatch(/^npm ci --omit=dev/m);
    expect(calls).toMatch(/^npm rebuild i2c-bus --foreground-scripts/m);
    expect(calls).toMatch(/^npm run build$/m);
    expect(calls).toMatch(/^node -e require\('i2c-bus'\)$/m);
    expect(calls).toMatch(/^raspi-config nonint do_i2c 0$/m);
    expect(calls).toMatch(/^systemctl enable systemd-time-wait-sync.service$/m);
    const config = JSON.parse(await readFile(join(s.root, 'etc/tanglewatt/meter-agent.json'), 'utf8'));
    expect(config).toEqual(JSON.parse(await readFile(TEMPLATE, 'utf8')));
    expect(config.dataDir).toBe('/var/lib/tanglewatt/meter-agent');
    expect((await stat(join(s.root, 'var/lib/tanglewatt/meter-agent'))).isDirectory()).toBe(true);
    expect(await readdir(join(s.root, 'etc/systemd/system'))).toContain('tanglewatt-meter-agent.service');
    expect((await stat(join(s.root, 'opt/tanglewatt/meter-agent/src/agent.ts'))).isFile()).toBe(true);
    await expect(stat(join(s.root, 'opt/tanglewatt/node_modules'))).rejects.toThrow();
  });

  it('changes nothing on a second run, and never overwrites a config or keystore', {
    timeout: 60_000,
  }, async () => {
    const s = await sandbox();
    expect((await install(s)).code).toBe(0);
    const config = join(s.root, 'etc/tanglewatt/meter-agent.json');
    const keystore = join(s.root, 'var/lib/tanglewatt/keystore.json');
    await writeFile(config, '{"meterId": "edited by hand"}\n');
    await writeFile(keystore, '{"encrypted": "keys"}\n', { mode: 0o600 });
    const before = await tree(s.root);
    await writeFile(s.log, '');
    expect((await install(s)).code).toBe(0);
    expect(await tree(s.root)).toEqual(before);
    expect(await readFile(config, 'utf8')).toBe('{"meterId": "edited by hand"}\n');
    expect(await readFile(keystore, 'utf8')).toBe('{"encrypted": "keys"}\n');
    const calls = await readFile(s.log, 'utf8');
    expect(calls).not.toMatch(/^useradd/m); // the user exists now
    expect(calls).not.toMatch(/do_i2c/); // I²C is on already
  });

  it('enables I²C in the firmware config where raspi-config is missing, once', {
    timeout: 60_000,
  }, async () => {
    const s = await sandbox();
    await rm(join(s.env.PATH!.split(':')[0]!, 'raspi-config')); // not Raspberry Pi OS
    await mkdir(join(s.root, 'boot/firmware'), { recursive: true });
    await writeFile(join(s.root, 'boot/firmware/config.txt'), '[all]\n');
    expect((await install(s)).code).toBe(0);
    expect((await install(s)).code).toBe(0);
    expect(await readFile(join(s.root, 'boot/firmware/config.txt'), 'utf8')).toBe(
      '[all]\ndtparam=i2c_arm=on\n',
    );
    expect(await readFile(join(s.root, 'etc/modules-load.d/i2c-dev.conf'), 'utf8')).toBe('i2c-dev\n');
  });

  it('refuses Node older than 20.10 in one line naming NodeSource, before changing anything', async () => {
    const s = await sandbox('18.19.0');
    const result = await install(s);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Node\.js >= 20\.10 is required, found 18\.19\.0 .*NodeSource/);
    expect(await readdir(s.root)).toEqual([]);
    expect(await readFile(s.log, 'utf8')).not.toMatch(/apt-get/);
  });

  it('fails in one line when the native modules do not load after the build', {
    timeout: 60_000,
  }, async () => {
    const s = await sandbox('20.10.0', 'missing');
    const result = await install(s);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/the native module i2c-bus does not load: .*npm rebuild/);
    expect(await readFile(s.log, 'utf8')).not.toMatch(/systemctl daemon-reload/);
  });
});

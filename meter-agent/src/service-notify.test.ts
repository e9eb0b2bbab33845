// systemd's notify protocol against a stand-in for the manager: a unix datagram socket bound by a small
// Python listener (Node has none), which prints each message it receives on a line.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { makePiGpioTree } from './hardware/fake-gpio-kernel.js';
import { silentLogger } from './log.js';
import { systemdNotifier } from './service-notify.js';
import { exited, sleep, spawnFakePi } from './testing/agent-process.js';
import { agentConfig, tempDir, writeConfigFile } from './testing/fixtures.js';

// Receiving without room for ancillary data closes the fd systemd-notify's barrier passes, as the manager does.
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('listening', flush=True)
while True:
    print(s.recv(4096).decode().replace('\\n', ' ').strip(), flush=True)
`;

const listeners: ChildProcess[] = [];
afterEach(() => {
  for (const l of listeners.splice(0)) l.kill();
});

/** Starts the fake manager; `messages` fills as datagrams arrive (BARRIER=1 left out). */
async function fakeManager(): Promise<{ socket: string; messages: string[] }> {
  const socket = join(await tempDir('notify-'), 'notify.sock');
  const child = spawn('python3', ['-c', LISTENER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  listeners.push(child);
  const messages: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line === 'listening') resolve();
      else if (line !== 'BARRIER=1') messages.push(line);
    });
  });
  return { socket, messages };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(20);
}

describe('systemd notify and watchdog', () => {
  it('does nothing without NOTIFY_SOCKET (not run by systemd)', () => {
    expect(systemdNotifier({}, { log: silentLogger() })).toBeUndefined();
  });

  it('READY=1, then WATCHDOG=1 only after a sample was taken, at most three times per watchdog period', async () => {
    const { socket, messages } = await fakeManager();
    let now = 0;
    const notifier = systemdNotifier(
      { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '3000000', WATCHDOG_PID: String(process.pid) },
      { log: silentLogger(), nowMs: () => now },
    )!;
    await notifier.ready();
    await until(() => messages.length >= 1);
    expect(messages).toEqual(['READY=1 STATUS=metering']);
    now = 5000; // no sample taken: no ping, however long
    await sleep(300);
    expect(messages).toHaveLength(1);
    notifier.sampleTaken();
    await until(() => messages.length >= 2);
    notifier.sampleTaken(); // within a third of the period of the last ping: not sent
    now += 500;
    notifier.sampleTaken();
    await sleep(300);
    expect(messages).toEqual(['READY=1 STATUS=metering', 'WATCHDOG=1']);
    now += 1000;
    notifier.sampleTaken();
    await until(() => messages.length >= 3);
    expect(messages.at(-1)).toBe('WATCHDOG=1');
    await notifier.stopping();
    await until(() => messages.length >= 4);
    expect(messages.at(-1)).toBe('STOPPING=1');
  });

  it('ignores a watchdog meant for another process (WATCHDOG_PID)', async () => {
    const { socket, messages } = await fakeManager();
    const notifier = systemdNotifier(
      { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '3000000', WATCHDOG_PID: '1' },
      { log: silentLogger() },
    )!;
    notifier.sampleTaken();
    await sleep(300);
    expect(messages).toEqual([]);
  });

  it('the real agent: READY=1 once started, WATCHDOG=1 as it samples, STOPPING=1 on SIGTERM', {
    timeout: 60_000,
  }, async () => {
    const { socket, messages } = await fakeManager();
    const dir = await tempDir('notify-agent-');
    const gpioRoot = join(dir, 'gpio');
    await makePiGpioTree(gpioRoot, 'pi4');
    const config = agentConfig(join(dir, 'data'), {
      meterId: 'house-9',
      role: 'producer',
      walletService: undefined,
      sampleIntervalMs: 200,
      prepaid: { enabled: true, relay: { kind: 'gpio', bcm: 17, gpioRoot } },
    });
    const configFile = await writeConfigFile(dir, config);
    const agent = spawnFakePi(['run', '--config', configFile], gpioRoot, join(dir, 'agent.log'), {
      NOTIFY_SOCKET: socket,
      WATCHDOG_USEC: '1500000', // a ping every 0.5 s
    });
    await until(() => messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 30_000);
    expect(messages[0]).toBe('READY=1 STATUS=metering');
    expect(messages.filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(3);
    agent.kill('SIGTERM');
    expect((await exited(agent)).code).toBe(0);
    await until(() => messages.includes('STOPPING=1'));
    expect(messages).toContain('STOPPING=1');
  });
});

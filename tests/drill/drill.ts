/**
 * The exactly-once drill: real wallet-service processes on a real tangle, put through the faults a
 * household meets — concurrent requests with one key and different bodies, kill -9 at random points, a
 * second instance on the same data dir, a restored backup, two copies of one data dir at once, a node
 * restart and a full disk — then the ledger itself is read to count how often each payment was made.
 *
 *   npm run drill                       # every scenario, 20 payments each
 *   npm run drill -- --payments 40 --scenario kill-9 --scenario backup
 */

import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, type TangleState, tangleDown } from '@tanglewatt/deploy';
import { NodeApi } from '@tanglewatt/ledger';
import { startDevTangle } from '../support/dev-tangle.js';
import {
  bodies,
  copyOf,
  freshPayee,
  household,
  type PaymentBody,
  post,
  type Row,
  random,
  randomKiller,
  ServiceProcess,
  settled,
  sleep,
  tally,
} from '../support/wallet-processes.js';

interface Drill {
  tangle: TangleState;
  tangleDir: string;
  node: NodeApi;
  n: number;
  nextSlot: () => number;
  log: ReturnType<typeof createLogger>;
}

/** Whether the service at `at` reports every one of `requests` included, in time. */
function allIncluded(
  at: { url: string; token: string },
  requests: { idempotencyKey: string }[],
): Promise<boolean> {
  const keys = requests.map((r) => r.idempotencyKey);
  return settled(at.url, at.token, keys);
}

/** A funded household with its service started, a fresh payee, and the milestone the count starts after. */
async function begin(d: Drill) {
  const h = await household(d.tangle, d.nextSlot());
  const payee = await freshPayee(d.tangle);
  const from = (await d.node.info()).status.confirmedMilestone.index;
  const service = new ServiceProcess(h.configFile, h.url);
  service.start();
  await service.up();
  return { h, payee, from, service };
}

/** The scenario's row: each request's payments counted on the ledger. */
async function finish(
  d: Drill,
  scenario: string,
  payee: string,
  from: number,
  requests: PaymentBody[],
  note: string,
): Promise<Row> {
  const accepted = new Map(requests.map((r) => [r.idempotencyKey, BigInt(r.amount)]));
  return { scenario, payments: d.n, ...(await tally(d.node, payee, from, accepted, new Map())), note };
}

type Scenario = (d: Drill) => Promise<Row>;

const scenarios: Record<string, Scenario> = {
  /** Two bodies for one key at once, again and again, while the service is killed at random. */
  async 'same-key'(d) {
    const { h, payee, from, service } = await begin(d);
    const killer = randomKiller(service);
    const a = bodies('same-key', payee, d.n, 100_000);
    const b = a.map((p, i) => ({ ...p, amount: String(200_000 + i) }));
    const accepted = new Map<string, bigint>();
    const refused = new Map<string, bigint>();
    let bothAccepted = 0;
    await Promise.all(
      a.map(async (first, i) => {
        await sleep(i * 60);
        const second = b[i]!;
        const [sa, sb] = await Promise.all([post(h.url, h.token, first), post(h.url, h.token, second)]);
        const ok = (s: number) => s === 200 || s === 202;
        if (ok(sa) && ok(sb)) bothAccepted++;
        const [win, lose] = ok(sa) ? [first, second] : [second, first];
        accepted.set(win.idempotencyKey, BigInt(win.amount));
        refused.set(lose.idempotencyKey, BigInt(lose.amount));
      }),
    );
    await sleep(2_000);
    const kills = await killer.stop();
    await service.up();
    const ok = await settled(h.url, h.token, [...accepted.keys()]);
    await service.kill('SIGTERM');
    const counts = await tally(d.node, payee, from, accepted, refused);
    return {
      scenario: 'same-key bodies + kill -9',
      payments: d.n,
      ...counts,
      note: `${kills} kills; ${bothAccepted} keys with both bodies accepted${ok ? '' : '; not all included in time'}`,
    };
  },

  /** Each key sent twice while the service is killed with SIGKILL at random points. */
  async 'kill-9'(d) {
    const { h, payee, from, service } = await begin(d);
    const killer = randomKiller(service);
    const requests = bodies('kill', payee, d.n, 300_000);
    for (let round = 0; round < 2; round++)
      await Promise.all(requests.map((r, i) => sleep(i * 50).then(() => post(h.url, h.token, r))));
    await sleep(3_000);
    const kills = await killer.stop();
    await service.up();
    const ok = await allIncluded(h, requests);
    await service.kill('SIGTERM');
    return finish(
      d,
      'kill -9 at random points',
      payee,
      from,
      requests,
      `${kills} kills${ok ? '' : '; not all included in time'}`,
    );
  },

  /** A second `run` on the same data dir while the first settles (a manual run beside systemd). */
  async 'second-instance'(d) {
    const { h, payee, from, service: first } = await begin(d);
    const requests = bodies('second', payee, d.n, 400_000);
    const posting = Promise.all(requests.map((r, i) => sleep(i * 50).then(() => post(h.url, h.token, r))));
    // The same data dir on another port: only the lock can stop it.
    const other = await copyOf(h, String(h.raw.dataDir));
    let refusedStarts = 0;
    let lines = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      await sleep(random(200, 800));
      const second = new ServiceProcess(other.configFile, other.url);
      const code = await new Promise<number | null>((resolve) => second.start().once('exit', resolve));
      if (code !== 0 && /DATA_DIR|is using/.test(second.stderr)) refusedStarts++;
      lines = second.stderr.trim().split('\n').at(-1) ?? '';
    }
    await posting;
    const ok = await allIncluded(h, requests);
    await first.kill('SIGTERM');
    return finish(
      d,
      'second instance, same data dir',
      payee,
      from,
      requests,
      `${refusedStarts}/3 second starts refused ("${lines.slice(0, 70)}")${ok ? '' : '; not all included in time'}`,
    );
  },

  /** The data dir restored from a backup taken before settlement finished, then started again. */
  async backup(d) {
    const { h, payee, from, service } = await begin(d);
    const requests = bodies('backup', payee, d.n, 500_000);
    await Promise.all(requests.map((r) => post(h.url, h.token, r)));
    // A live copy, as a nightly backup would take it, while some payments are still on their way.
    const dataDir = join(h.dir, String(h.raw.dataDir));
    const backup = join(h.dir, 'backup');
    await cp(dataDir, backup, { recursive: true });
    const keys = requests.map((r) => r.idempotencyKey);
    const ok1 = await settled(h.url, h.token, keys);
    await service.kill('SIGTERM');
    // Restore: the backup replaces the data dir.
    await rm(dataDir, { recursive: true, force: true });
    await cp(backup, dataDir, { recursive: true });
    await rm(join(dataDir, 'wallet-service.lock'), { force: true });
    service.start();
    await service.up();
    const ok2 = await settled(h.url, h.token, keys);
    await sleep(5_000); // room for a wrong second payment to show up
    await service.kill('SIGTERM');
    return finish(
      d,
      'restored backup',
      payee,
      from,
      requests,
      ok1 && ok2 ? 'backup taken mid-settlement, restored after' : 'not all included in time',
    );
  },

  /** Two services at once over copies of one data dir (a restored backup started beside the original). */
  async 'two-copies'(d) {
    const { h, payee, from, service: a } = await begin(d);
    const requests = bodies('copies', payee, d.n, 600_000);
    await Promise.all(requests.map((r) => post(h.url, h.token, r)));
    await a.kill('SIGKILL');
    const dataDir = join(h.dir, String(h.raw.dataDir));
    await cp(dataDir, join(h.dir, 'copy'), { recursive: true });
    await rm(join(h.dir, 'copy', 'wallet-service.lock'), { force: true });
    const other = await copyOf(h, 'copy');
    const b = new ServiceProcess(other.configFile, other.url);
    a.start();
    b.start();
    await Promise.all([a.up(), b.up()]);
    const keys = requests.map((r) => r.idempotencyKey);
    const [okA, okB] = await Promise.all([settled(h.url, h.token, keys), settled(other.url, h.token, keys)]);
    await sleep(5_000);
    await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
    return finish(
      d,
      'two copies of one data dir at once',
      payee,
      from,
      requests,
      okA && okB ? 'both copies report every payment included' : 'not all included in time by both',
    );
  },

  /** The node (and its coordinator) stopped and started again while payments are on their way. */
  async 'node-restart'(d) {
    const { h, payee, from, service } = await begin(d);
    const requests = bodies('node', payee, d.n, 700_000);
    const posting = Promise.all(requests.map((r, i) => sleep(i * 100).then(() => post(h.url, h.token, r))));
    await sleep(random(500, 1500));
    await tangleDown(d.tangleDir);
    await sleep(3_000);
    d.tangle = await restartTangle(d);
    await posting;
    const ok = await allIncluded(h, requests);
    await service.kill('SIGTERM');
    return finish(
      d,
      'node restart mid-settlement',
      payee,
      from,
      requests,
      ok ? 'node down ~5 s' : 'not all included in time',
    );
  },

  /** The data dir on a small filesystem that fills up while payments arrive, then gets room again. */
  async 'full-disk'(d) {
    if (process.getuid?.() !== 0)
      return {
        scenario: 'full disk',
        payments: 0,
        paidOnce: 0,
        lost: 0,
        paidTwice: 0,
        paidRefused: 0,
        note: 'not run: mounting a small tmpfs needs root',
      };
    const h = await household(d.tangle, d.nextSlot());
    const mount = await mkdtemp(join(tmpdir(), 'drill-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
    try {
      const small = await copyOf(h, join(mount, 'data'));
      await mkdir(join(mount, 'data'), { recursive: true });
      const payee = await freshPayee(d.tangle);
      const from = (await d.node.info()).status.confirmedMilestone.index;
      const service = new ServiceProcess(small.configFile, small.url);
      service.start();
      await service.up();
      // Fill the disk to its last two pages.
      await run('sh', ['-c', `dd if=/dev/zero of=${mount}/filler bs=4k 2>/dev/null; true`]);
      await run('sh', ['-c', `truncate -s -4k ${mount}/filler`]);
      const requests = bodies('disk', payee, d.n, 800_000);
      const answered = new Map<string, number>();
      // Each request once while the disk is full: what is refused is retried after room is made.
      for (const r of requests) {
        const res = await fetch(`${small.url}/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${small.token}` },
          body: JSON.stringify(r),
        }).catch(() => undefined);
        answered.set(r.idempotencyKey, res?.status ?? 0);
      }
      const refusedWhileFull = [...answered.values()].filter((s) => s >= 500 || s === 0).length;
      await sleep(3_000);
      // A journal that failed is not trusted again in that process: the service exits 75 for its
      // manager to restart it (systemd's Restart=always), which the drill does by hand once there is room.
      const exitCode = service.child?.exitCode;
      await rm(join(mount, 'filler'), { force: true });
      if (service.child?.exitCode === null) await service.kill('SIGTERM');
      service.start();
      await service.up();
      await Promise.all(requests.map((r) => post(small.url, small.token, r)));
      const ok = await allIncluded(small, requests);
      await service.kill('SIGTERM');
      const accepted = new Map(requests.map((r) => [r.idempotencyKey, BigInt(r.amount)]));
      return {
        scenario: 'full disk',
        payments: d.n,
        ...(await tally(d.node, payee, from, accepted, new Map())),
        note: `${refusedWhileFull} requests refused while full, retried after; the service exited ${exitCode ?? 'not'} while full${ok ? '' : '; not all included in time'}`,
      };
    } finally {
      await run('umount', ['-l', mount]).catch(() => undefined);
    }
  },
};

/** Starts the drill's tangle again from its data dir; a start that fails is cleaned up and tried again. */
async function restartTangle(d: Drill): Promise<TangleState> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevTangle(d.tangleDir, d.log);
    } catch (error) {
      const mqttLog = await readFile(join(d.tangleDir, 'logs', 'inx-mqtt.log'), 'utf8').catch(() => '');
      process.stderr.write(
        `drill: tangle restart failed: ${(error as Error).message}\n${mqttLog
          .split('\n')
          .filter((l) => /PANIC|panic|rror/.test(l))
          .slice(0, 6)
          .join('\n')}\n`,
      );
      if (attempt === 3) throw error;
      await tangleDown(d.tangleDir).catch(() => undefined);
      await sleep(5_000);
    }
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`))));
  });
}

function table(rows: Row[]): string {
  const header = ['scenario', 'payments', 'paid once', 'lost', 'paid twice', 'paid refused body', 'note'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.payments),
    String(r.paidOnce),
    String(r.lost),
    String(r.paidTwice),
    String(r.paidRefused),
    r.note,
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      payments: { type: 'string', default: '20' },
      scenario: { type: 'string', multiple: true },
    },
  });
  const n = Number(values.payments);
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    process.stderr.write('drill: --payments must be a whole number from 1 to 500\n');
    process.exit(2);
  }
  const chosen = values.scenario ?? Object.keys(scenarios);
  const unknown = chosen.filter((s) => !(s in scenarios));
  if (unknown.length) {
    process.stderr.write(`drill: --scenario ${unknown[0]}: one of ${Object.keys(scenarios).join(', ')}\n`);
    process.exit(2);
  }
  // The table is the output; the tangle's start-up lines only with LOG_LEVEL=info.
  process.env.LOG_LEVEL ??= 'warn';
  const log = createLogger('drill');
  const tangleDir = await mkdtemp(join(tmpdir(), 'tanglewatt-drill-'));
  const tangle = await startDevTangle(tangleDir, log);
  let slot = 20;
  const drill: Drill = {
    tangle,
    tangleDir,
    node: new NodeApi(tangle.nodes[0]!.restUrl),
    n,
    nextSlot: () => slot++,
    log,
  };
  const rows: Row[] = [];
  try {
    for (const name of chosen) {
      process.stderr.write(`drill: ${name}...\n`);
      const started = Date.now();
      try {
        rows.push(await scenarios[name]!(drill));
      } catch (error) {
        rows.push({
          scenario: name,
          payments: n,
          paidOnce: 0,
          lost: 0,
          paidTwice: 0,
          paidRefused: 0,
          note: `did not finish: ${(error as Error).message.split('\n')[0]}`,
        });
      }
      process.stderr.write(`drill: ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  } finally {
    await tangleDown(tangleDir).catch(() => undefined);
    await rm(tangleDir, { recursive: true, force: true });
  }
  process.stdout.write(`${table(rows)}\n`);
  const bad = rows.some(
    (r) => r.lost > 0 || r.paidTwice > 0 || r.paidRefused > 0 || r.note.startsWith('did not'),
  );
  process.exit(bad ? 1 : 0);
}

await main();

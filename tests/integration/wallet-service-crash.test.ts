import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Balance, Payment } from '@tanglewatt/contract';
import { freePorts } from '@tanglewatt/deploy';
import { generateMnemonic, MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { outputsCreatedFor } from '../support/ledger-scan.js';
import { waitForProgress } from '../support/progress.js';
import { api, prepareWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const node = new NodeApi(tangle.nodes[0]!.restUrl);
const cli = fileURLToPath(new URL('../../wallet-service/bin/wallet-service.mjs', import.meta.url));

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
});

function startService(configFile: string): ChildProcess {
  const proc = spawn(process.execPath, [cli, 'run', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return proc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wallet-service killed with SIGKILL at random points', () => {
  it('still makes exactly one transfer per key, balances exact to the unit', async () => {
    const prepared = await prepareWallet(tangle, { slot: 3 });
    const [port] = await freePorts(1);
    // A fixed port, so every restart answers at the same URL.
    const raw = JSON.parse(await readFile(prepared.configFile, 'utf8'));
    raw.listen.port = port;
    await writeFile(prepared.configFile, JSON.stringify(raw));
    const url = `http://127.0.0.1:${port}`;
    const wallet = { url, token: prepared.token };

    const [payee] = await new MnemonicSigner(generateMnemonic()).addresses({
      count: 1,
      bech32Hrp: tangle.bech32Hrp,
    });
    const startMilestone = (await node.info()).status.confirmedMilestone.index;
    const requests = Array.from({ length: 50 }, (_, i) => ({
      idempotencyKey: `crash/${i}`,
      to: payee!,
      amount: String(20_000 + i),
    }));

    child = startService(prepared.configFile);
    const answers = async () => (await fetch(`${url}/health`).catch(() => undefined)) !== undefined;
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        // A random point after the process answers at all (503 while it recovers its journal, then 200):
        // every run gets somewhere however slowly a loaded machine starts processes.
        await waitForProgress({
          what: 'restarted wallet-service answering on its port',
          probe: answers,
          done: (up) => up,
          stallMs: 60_000,
          ceilingMs: 60_000,
          intervalMs: 50,
        });
        await sleep(Math.random() * 1200);
        if (!killing) break;
        const exited = new Promise((r) => child!.once('exit', r));
        child!.kill('SIGKILL');
        kills++;
        await exited;
        child = startService(prepared.configFile);
      }
    })();

    // A client that retries each request until the service answers, and sends each key twice.
    const acknowledged = new Map<string, number>();
    const send = async (r: (typeof requests)[number]) => {
      for (;;) {
        try {
          const res = await api<Payment>(wallet, 'POST', '/payments', r);
          if (res.status === 200 || res.status === 202) {
            acknowledged.set(r.idempotencyKey, (acknowledged.get(r.idempotencyKey) ?? 0) + 1);
            return;
          }
          // 503: the service holds its port while it starts, and says so; ask again, as the agent does.
          if (res.status !== 503) throw new Error(`unexpected ${res.status}`);
          await sleep(100);
        } catch (error) {
          if ((error as Error).message.startsWith('unexpected')) throw error;
          await sleep(100);
        }
      }
    };
    const rounds = async () => {
      for (let round = 0; round < 2; round++) {
        await Promise.all(requests.map((r, i) => sleep(i * 40).then(() => send(r))));
      }
    };
    // The killer only ends when told to, or when a restart never answers: then that is the failure.
    await Promise.race([rounds(), killer]);
    // Keep killing while settlement is under way.
    await sleep(3_000);
    killing = false;
    await killer;
    expect(kills).toBeGreaterThanOrEqual(3);
    expect([...acknowledged.values()].every((n) => n === 2)).toBe(true);

    const included = async () => {
      try {
        const states = await Promise.all(
          requests.map(
            async (r) =>
              (await api<Payment>(wallet, 'GET', `/payments/${encodeURIComponent(r.idempotencyKey)}`)).body,
          ),
        );
        return states.filter((p) => p.state === 'included');
      } catch {
        return [];
      }
    };
    const payments = await waitForProgress({
      what: 'the 50 payments included after the kills',
      probe: included,
      done: (ps) => ps.length === 50,
      progressed: (before, now) => now.length > before.length,
      show: (ps) => `${ps.length} included`,
      stallMs: 60_000,
      ceilingMs: 480_000,
      intervalMs: 500,
    });
    const end = Math.max(...payments.map((p) => p.milestoneIndex!));

    const created = await outputsCreatedFor(node, payee!, startMilestone, end);
    expect(created).toHaveLength(50);
    const sum = requests.reduce((s, r) => s + BigInt(r.amount), 0n);
    expect(created.reduce((s, o) => s + o.amount, 0n)).toBe(sum);
    expect(new Set(created.map((o) => o.outputId))).toEqual(new Set(payments.map((p) => p.outputId)));

    const allocation = [...tangle.genesis.allocations].sort(
      (a, b) => (a.accountIndex ?? 0) - (b.accountIndex ?? 0),
    )[3]!;
    await expect
      .poll(async () => BigInt((await api<Balance>(wallet, 'GET', '/balance')).body.totalUnits), {
        timeout: 30_000,
      })
      .toBe(BigInt(allocation.amount) - sum);
  }, 900_000); // an outer bound only: the waits inside fail on a stall
});

import type { Balance, Payment } from '@tanglewatt/contract';
import { generateMnemonic, MnemonicSigner, NodeApi } from '@tanglewatt/ledger';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { outputsCreatedFor } from '../support/ledger-scan.js';
import { waitForProgress } from '../support/progress.js';
import { api, startTestWallet, type TestWallet } from '../support/wallets.js';

const tangle = inject('tangle');
const node = new NodeApi(tangle.nodes[0]!.restUrl);

/** What the wallet owns, less deposits it owes back: steady while its own transactions are in flight. */
const balanceOf = async (w: TestWallet) => BigInt((await api<Balance>(w, 'GET', '/balance')).body.totalUnits);
const claimableOf = async (w: TestWallet) =>
  BigInt((await api<Balance>(w, 'GET', '/balance')).body.claimableUnits);

async function waitAllIncluded(w: TestWallet, keys: string[]): Promise<Payment[]> {
  await waitForProgress({
    what: `${keys.length} payments included`,
    probe: () => keys.filter((k) => w.service.store.get(k)?.state === 'included').length,
    done: (n) => n === keys.length,
    stallMs: 60_000,
    ceilingMs: 300_000,
  });
  return keys.map((k) => w.service.store.get(k)!);
}

describe('wallet-service on the real tangle', () => {
  let payer: TestWallet;
  let payee: TestWallet;
  let startMilestone: number;

  beforeAll(async () => {
    startMilestone = (await node.info()).status.confirmedMilestone.index;
    payer = await startTestWallet(tangle, { slot: 1 });
    payee = await startTestWallet(tangle, { slot: 2 });
  });

  afterAll(async () => {
    await payer?.service.stop();
    await payee?.service.stop();
  });

  it('pays 50 distinct keys, each posted twice, with exactly 50 transfers and exact balances', async () => {
    const payerBefore = await balanceOf(payer);
    const payeeBefore = await balanceOf(payee);
    const requests = Array.from({ length: 50 }, (_, i) => ({
      idempotencyKey: `burst/${i}`,
      to: payee.service.address,
      amount: String(10_000 + i),
      metadata: { periodId: `p-${i}`, energyMWs: String(3_600_000 * (i + 1)), priceUnitsPerWh: '10' },
    }));
    // Every request twice, interleaved and concurrent, as a retrying client would.
    const answers = await Promise.all(
      [...requests, ...requests].map((r) => api<Payment>(payer, 'POST', '/payments', r)),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(50);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(50);
    expect(answers.every((a) => a.status === 200 || a.status === 202)).toBe(true);

    const payments = await waitAllIncluded(
      payer,
      requests.map((r) => r.idempotencyKey),
    );
    const sum = requests.reduce((s, r) => s + BigInt(r.amount), 0n);
    for (const p of payments) {
      expect(p.micro).toBe(false);
      expect(p.milestoneIndex).toBeGreaterThan(startMilestone);
      expect(p.blockId).toMatch(/^0x[0-9a-f]{64}$/);
    }

    // The ledger itself: outputs created for the payee since the test began.
    const end = Math.max(...payments.map((p) => p.milestoneIndex!));
    // Leave out what the payee's own transactions (a consolidation of the many small outputs) made.
    const created = (await outputsCreatedFor(node, payee.service.address, startMilestone, end)).filter(
      (o) => !payee.service.store.transaction(o.transactionId),
    );
    expect(created).toHaveLength(50);
    expect(created.map((o) => o.amount).sort((a, b) => Number(a - b))).toEqual(
      requests.map((r) => BigInt(r.amount)),
    );
    expect(new Set(created.map((o) => o.outputId))).toEqual(new Set(payments.map((p) => p.outputId)));

    await expect.poll(() => balanceOf(payer), { timeout: 15_000 }).toBe(payerBefore - sum);
    await expect.poll(() => balanceOf(payee), { timeout: 15_000 }).toBe(payeeBefore + sum);

    // Batching: far fewer transactions than payments.
    expect(new Set(payments.map((p) => p.transactionId)).size).toBeLessThan(50);

    // The same in Prometheus terms: each key counted once however often it was asked, and the node seen.
    const scraped = await fetch(`${payer.service.url}/metrics`, {
      headers: { authorization: `Bearer ${payer.token}` },
    });
    const metrics = await scraped.text();
    const series = (name: string) =>
      Number(
        metrics
          .split('\n')
          .find((line) => line.startsWith(`${name} `))
          ?.slice(name.length + 1),
      );
    expect(series('tanglewatt_wallet_payments_requested_total{kind="basic"}')).toBe(50);
    expect(series('tanglewatt_wallet_payments_included_total{kind="basic"}')).toBe(50);
    expect(series('tanglewatt_wallet_settlement_latency_seconds_count')).toBe(50);
    expect(series('tanglewatt_wallet_node_reachable')).toBe(1);
    expect(series('tanglewatt_wallet_node_confirmed_milestone_index')).toBeGreaterThanOrEqual(end);
  });

  it('sends 1 base unit as a micro-payment whose deposit comes back when the payee claims it', async () => {
    const payerBefore = await balanceOf(payer);
    const payeeBefore = await balanceOf(payee);
    const { status, body } = await api<Payment>(payer, 'POST', '/payments', {
      idempotencyKey: 'micro/1',
      to: payee.service.address,
      amount: '1',
    });
    expect(status).toBe(202);
    expect(body.micro).toBe(true);
    expect(body.depositUnits).toBe('5060');
    const [paid] = await waitAllIncluded(payer, ['micro/1']);
    const output = await node.output(paid!.outputId!);
    expect(output.output.amount).toBe('5061');
    // The payee's scheduled claim spends it, keeps 1 unit and returns the 5060 deposit to the payer.
    await expect
      .poll(async () => (await node.outputMetadata(paid!.outputId!)).isSpent, { timeout: 30_000 })
      .toBe(true);
    await expect.poll(() => claimableOf(payee), { timeout: 15_000 }).toBe(0n);
    await expect.poll(() => balanceOf(payee), { timeout: 15_000 }).toBe(payeeBefore + 1n);
    // The payer paid 5061 and got 5060 back: 1 unit net, to the unit.
    await expect.poll(() => balanceOf(payer), { timeout: 15_000 }).toBe(payerBefore - 1n);
  });

  it('takes back micro-payments nobody claimed once they expire, and pays each expired output again once', async () => {
    const reclaimer = await startTestWallet(tangle, {
      slot: 6,
      settlement: { microExpirationSeconds: 10, consolidateAbove: 2 },
    });
    try {
      const before = await balanceOf(reclaimer);
      const nobody = await new MnemonicSigner(generateMnemonic()).addresses({
        count: 2,
        bech32Hrp: tangle.bech32Hrp,
      });
      for (const [i, to] of nobody.entries()) {
        const res = await api<Payment>(reclaimer, 'POST', '/payments', {
          idempotencyKey: `unclaimed/${i}`,
          to,
          amount: '1',
        });
        expect(res.body.micro).toBe(true);
      }
      const sent = await waitAllIncluded(reclaimer, ['unclaimed/0', 'unclaimed/1']);
      // Before expiry the payer is out amount and deposit.
      await expect.poll(() => balanceOf(reclaimer), { timeout: 10_000 }).toBe(before - 2n * 5061n);
      // After it, both outputs are the payer's again and it spends them itself; the payees were never paid,
      // so each expired output is owed again: one repayment, keyed by the output, pays it with a new output.
      for (const p of sent) {
        await expect
          .poll(async () => (await node.outputMetadata(p.outputId!)).isSpent, { timeout: 40_000 })
          .toBe(true);
        const spentBy = (await node.outputMetadata(p.outputId!)).transactionIdSpent!;
        expect(reclaimer.service.store.transaction(spentBy)?.kind).toBe('consolidation');
        const repayKey = `${p.idempotencyKey}/repay/${p.outputId}`;
        await expect
          .poll(() => reclaimer.service.store.get(p.idempotencyKey)?.expired, { timeout: 40_000 })
          .toEqual([expect.objectContaining({ outputId: p.outputId, takenBackBy: spentBy, repayKey })]);
        // The original stays included (its transaction was); the repayment is the one payment that owes it.
        expect(reclaimer.service.store.get(p.idempotencyKey)?.state).toBe('included');
        await expect
          .poll(() => reclaimer.service.store.get(repayKey)?.state, { timeout: 40_000 })
          .toBe('included');
        const repayment = reclaimer.service.store.get(repayKey)!;
        expect(repayment).toMatchObject({
          to: p.to,
          amount: p.amount,
          repays: { key: p.idempotencyKey, outputId: p.outputId },
        });
      }
    } finally {
      await reclaimer.service.stop();
    }
  }, 300_000);

  describe('refuses bad requests with a clear 4xx and sends nothing', () => {
    const valid = () => ({
      idempotencyKey: `bad/${Math.random()}`,
      to: payee.service.address,
      amount: '5000',
    });
    const cases: [string, (v: ReturnType<typeof valid>) => unknown, number, RegExp][] = [
      ['a negative amount', (v) => ({ ...v, amount: '-5' }), 400, /^amount: a whole number of base units/],
      ['a fractional amount', (v) => ({ ...v, amount: '1.5' }), 400, /^amount: a whole number of base units/],
      [
        'a huge amount',
        (v) => ({ ...v, amount: '99999999999999999999999' }),
        400,
        /^amount: at most 2\^64 - 1 base units/,
      ],
      ['a zero amount', (v) => ({ ...v, amount: '0' }), 400, /^amount: more than 0 base units/],
      ['a numeric amount', (v) => ({ ...v, amount: 5000 }), 400, /^amount: /],
      [
        'a bad address',
        (v) => ({ ...v, to: 'watt1notanaddress' }),
        400,
        /^to: a bech32 Ed25519 address of this network/,
      ],
      [
        'a wrong HRP',
        (v) => ({ ...v, to: 'rms1qzs3qemhgfk60nz782c2kqpww89duew9lgd3nyxnv4vj99p484jywsa6cqc' }),
        400,
        /^to: .*"watt1"/,
      ],
      ['an unknown field', (v) => ({ ...v, extra: 1 }), 400, /^unknown field\(s\): extra/],
      ['a missing key', ({ idempotencyKey: _k, ...v }) => v, 400, /^idempotencyKey: /],
    ];
    it.each(cases)('%s', async (_name, mutate, status, message) => {
      const before = payer.service.store.list().total;
      const res = await api<{ error: { message: string; code: string } }>(
        payer,
        'POST',
        '/payments',
        mutate(valid()),
      );
      expect(res.status).toBe(status);
      expect(res.body.error.message).toMatch(message);
      expect(res.body.error.message).not.toContain('\n');
      expect(payer.service.store.list().total).toBe(before);
    });

    it('malformed JSON', async () => {
      const res = await api<{ error: { message: string } }>(payer, 'POST', '/payments', '{"idempotencyKey":');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe('body: not valid JSON');
    });

    it('a missing token and a wrong token', async () => {
      const before = payer.service.store.list().total;
      expect((await api(payer, 'POST', '/payments', valid(), null)).status).toBe(401);
      expect((await api(payer, 'POST', '/payments', valid(), 'wrong-token')).status).toBe(401);
      expect(payer.service.store.list().total).toBe(before);
    });

    it('the same key for a different payment', async () => {
      const first = { ...valid(), idempotencyKey: 'reuse/1' };
      expect((await api(payer, 'POST', '/payments', first)).status).toBe(202);
      const res = await api<{ error: { code: string; field: string } }>(payer, 'POST', '/payments', {
        ...first,
        amount: '6000',
      });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'idempotencyKey' });
    });
  });

  it('streams milestones and payment changes as server-sent events, milestones pushed by inx-mqtt', async () => {
    const controller = new AbortController();
    const res = await fetch(`${payer.service.url}/events`, {
      signal: controller.signal,
      headers: { authorization: `Bearer ${payer.token}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events: { event: string; data: Record<string, unknown> }[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    })().catch(() => undefined);
    await api(payer, 'POST', '/payments', {
      idempotencyKey: 'feed/1',
      to: payee.service.address,
      amount: '7000',
    });
    await expect
      .poll(
        () =>
          events.some(
            (e) => e.event === 'payment' && e.data.idempotencyKey === 'feed/1' && e.data.state === 'included',
          ),
        {
          timeout: 20_000,
        },
      )
      .toBe(true);
    const confirmed = () => events.filter((e) => e.event === 'milestone' && e.data.confirmed === true);
    await expect.poll(() => confirmed().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const milestones = confirmed();
    expect(milestones.some((e) => e.data.via === 'mqtt')).toBe(true);
    const indexes = milestones.map((e) => e.data.index as number);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    controller.abort();
    await reading;
  });

  it('serves its OpenAPI document and node reads for the dashboard', async () => {
    const doc = await api<{ openapi: string; paths: Record<string, unknown> }>(payer, 'GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/payments');
    const milestones = await api<{ items: { index: number }[] }>(payer, 'GET', '/node/milestones?count=3');
    expect(milestones.body.items).toHaveLength(3);
    const tips = await api<{ tips: string[] }>(payer, 'GET', '/node/tips');
    expect(tips.body.tips.length).toBeGreaterThan(0);
    // Address lookups: another wallet's outputs as seen in followed milestones.
    const payeeView = await api<{ items: { outputId: string; amount: string }[] }>(
      payer,
      'GET',
      `/node/addresses/${payee.service.address}`,
    );
    const payeeOwn = await api<{ items: { outputId: string }[] }>(payee, 'GET', '/outputs');
    const seen = new Set(payeeView.body.items.map((o) => o.outputId));
    expect(payeeView.body.items.length).toBeGreaterThan(0);
    expect(payeeOwn.body.items.some((o) => seen.has(o.outputId))).toBe(true);
    const badAddress = await api<{ error: { field: string } }>(payer, 'GET', '/node/addresses/rms1qqqq');
    expect(badAddress.status).toBe(400);
    expect(badAddress.body.error.field).toBe('address');
    // The blocks it posted, findable again although Stardust has no lookup by tag.
    const posted = await api<{ tag: string; items: { blockId: string; transactionId: string }[] }>(
      payer,
      'GET',
      '/blocks',
    );
    expect(posted.body.tag).toBe('tanglewatt/pay/v1');
    const included = payer.service.store.get('burst/0')!;
    expect(posted.body.items.map((b) => b.blockId)).toContain(included.blockId);
    const bad = await api<{ error: { field: string } }>(payer, 'GET', '/node/blocks/nothex');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('id');
  });
});

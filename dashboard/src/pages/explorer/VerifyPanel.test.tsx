import {
  ed25519PublicKey,
  newX25519SecretKey,
  toHex,
  utf8ToBytes,
  x25519PublicKey,
} from '@tanglewatt/channels';
import { deterministicRandom, hourlyPayment, twoHourlyPeriods } from '@tanglewatt/channels/testing';
import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../../api/config';
import { fakeFetch } from '../../test/fakes';
import { renderWithServices, withFakeFeeds } from '../../test/harness';
import { ExplorerPage } from '../ExplorerPage';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('VerifyPanel.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const TX = `0x${'7a'.repeat(32)}`;
const config: DashboardConfig = { wallets: [{ name: 'Consumer', url: 'http://wallet.test' }], meters: [] };
const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;

/** Period meter-1/1 of a restricted channel, paid in TX naming its messages; the wallet-service serves it all. */
async function servePaidPeriod() {
  const { writer, poster, periods } = await twoHourlyPeriods(
    meterKey,
    'restricted',
    [x25519PublicKey(readerKey)],
    T0,
  );
  const { closed } = periods[1]!;
  const first = writer.message(closed.fromSeq)!;
  const description = {
    v: 1,
    payments: [
      {
        ...hourlyPayment(1, closed.root, T0),
        channel: {
          id: writer.channelId,
          publicKey: toHex(ed25519PublicKey(meterKey)),
          fromSeq: closed.fromSeq,
          toSeq: closed.toSeq,
          lastBlockId: writer.message(closed.toSeq)!.blockId!,
          epochs: { [String(first.epoch)]: first.blockId! },
        },
      },
    ],
  };
  const notFound = { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
  const fetch = fakeFetch((url) => {
    if (url.host !== 'wallet.test') return undefined;
    const path = decodeURIComponent(url.pathname);
    if (path === '/payments/meter-1/1')
      return { body: { idempotencyKey: 'meter-1/1', state: 'included', transactionId: TX } };
    if (path.startsWith('/payments/')) return notFound;
    if (path === `/node/transactions/${TX}`)
      return {
        body: {
          payload: {
            type: 6,
            essence: {
              payload: {
                type: 5,
                tag: hex(utf8ToBytes('tanglewatt/pay/v1')),
                data: hex(utf8ToBytes(JSON.stringify(description))),
              },
            },
          },
        },
      };
    const meta = /^\/node\/blocks\/(0x[0-9a-f]{64})\/metadata$/.exec(path);
    if (meta && poster.blocks.has(meta[1]!))
      return { body: { blockId: meta[1], referencedByMilestoneIndex: 20 } };
    const block = /^\/node\/blocks\/(0x[0-9a-f]{64})$/.exec(path);
    const b = block ? poster.blocks.get(block[1]!) : undefined;
    if (b) return { body: { payload: { type: 5, tag: hex(utf8ToBytes(b.tag)), data: hex(b.bytes) } } };
    if (path === '/node/info') return undefined;
    return notFound;
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch, closed };
}

async function verify(query: string, key = '') {
  const panel = await screen.findByRole('region', { name: 'Verify' }, { timeout: 5000 });
  fireEvent.change(within(panel).getByLabelText('Transaction or period id'), { target: { value: query } });
  fireEvent.change(within(panel).getByLabelText('Reader key (restricted channels)'), {
    target: { value: key },
  });
  fireEvent.click(within(panel).getByRole('button', { name: 'Verify' }));
  return panel;
}

withFakeFeeds();

describe('the explorer’s Verify panel', () => {
  it('passes a period found by its id with the reader key, checked in the page from the ledger', async () => {
    const { closed } = await servePaidPeriod();
    renderWithServices(config, <ExplorerPage query="" />);
    const panel = await verify('meter-1/1', toHex(readerKey));
    const verdict = await within(panel).findByRole('list', { name: 'Verdict' }, { timeout: 10_000 });
    expect(verdict.textContent).toBe(
      `PASS: ${closed.toSeq - closed.fromSeq + 1} messages (seq ${closed.fromSeq}..${closed.toSeq}) verified; root matches; period meter-1/1; signer: the channel's own key (its id is the key's hash)`,
    );
  });

  it('says in one line what is missing: no reader key for a transaction, another reader’s key, no such period', async () => {
    await servePaidPeriod();
    renderWithServices(config, <ExplorerPage query="" />);
    let panel = await verify(TX);
    const noKey = await within(panel).findByRole('list', { name: 'Verdict' }, { timeout: 10_000 });
    expect(noKey.textContent).toMatch(
      /^FAIL WRONG_KEY: no epoch key for epoch \d+: the channel is restricted and no reader key was given/,
    );

    panel = await verify(TX, toHex(newX25519SecretKey()));
    await within(panel).findByText(
      /^FAIL WRONG_KEY: no epoch key for epoch \d+ with this reader key/,
      {},
      { timeout: 10_000 },
    );

    panel = await verify('meter-1/9');
    await within(panel).findByText(
      `FAIL PAYMENT_NOT_FOUND: no payment for period "meter-1/9" among this wallet's payments`,
      {},
      { timeout: 10_000 },
    );
  });

  it('refuses a reader key that is not one before reading anything', async () => {
    const { fetch } = await servePaidPeriod();
    renderWithServices(config, <ExplorerPage query="" />);
    const before = fetch.calls.length;
    const panel = await verify('meter-1/1', 'not a key');
    expect(
      within(panel).getByText('Reader key: 64 hex digits (an X25519 secret key), or empty'),
    ).toBeTruthy();
    expect(
      fetch.calls.slice(before).filter((c) => c.startsWith('/payments') || c.startsWith('/node/blocks')),
    ).toEqual([]);
  });
});

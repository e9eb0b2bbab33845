import {
  ChannelWriter,
  channelIdHex,
  ed25519PublicKey,
  fromHex,
  keyIdOf,
  MemoryWriterStore,
  newEd25519SecretKey,
  newX25519SecretKey,
  type Sample,
  sha256,
  toHex,
  utf8ToBytes,
  x25519PublicKey,
} from '@tanglewatt/channels';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { DashboardConfig } from '../../api/config';
import { fakeFetch } from '../../test/fakes';
import { renderWithServices, withFakeFeeds } from '../../test/harness';
import { ExplorerPage } from '../ExplorerPage';

const T0 = 1_795_500_000_000;
const config: DashboardConfig = {
  wallets: [{ name: 'Producer', url: 'http://wallet.test' }],
  meters: [
    { name: 'Other meter', url: 'http://other.test' },
    { name: 'Consumer meter', url: 'http://meter.test' },
  ],
};

/** 3 messages of 4 readings each, through the real writer; blocks as the node would serve them. */
async function buildChannel(mode: 'public' | 'restricted', readers: Uint8Array[] = []) {
  const signingKey = newEd25519SecretKey();
  const blocks = new Map<string, { tag: string; bytes: Uint8Array }>();
  const order: string[] = [];
  const writer = await ChannelWriter.open({
    store: new MemoryWriterStore(),
    signingKey,
    mode,
    readers: readers.map(x25519PublicKey),
    post: async (tag, bytes) => {
      const id = `0x${toHex(sha256(bytes))}`;
      blocks.set(id, { tag, bytes: bytes.slice() });
      order.push(id);
      return id;
    },
    now: () => T0,
  });
  for (let m = 0; m < 3; m++) {
    const samples: Sample[] = Array.from({ length: 4 }, (_, i) => ({
      timestampMs: T0 + (m * 4 + i) * 1000,
      busVoltageMV: 12_000 + m * 100 + i,
      currentMA: 500 + i,
      powerMW: 6_000 + m * 50 + i,
    }));
    writer.addSamples(samples);
    await writer.flush();
  }
  const publicKey = ed25519PublicKey(signingKey);
  const channelId = channelIdHex(publicKey);
  const index = writer.blockIndex();
  const last = index[index.length - 1]!;
  const status = {
    meterId: 'consumer-1',
    channel: {
      channelId,
      mode,
      signingPublicKey: toHex(publicKey),
      lastSeq: last.seq,
      lastPostedSeq: last.seq,
      lastBlockId: last.blockId,
      unposted: 0,
      pendingSamples: 0,
      awaitingRoots: [],
      lastError: null,
    },
  };
  return { channelId, blocks, index, status, publicKey: toHex(publicKey) };
}

const DID = `did:iota:watt:0x${'d1'.repeat(32)}`;
const ORIGIN = `0x${'0a'.repeat(34)}`;
const methodId = (publicKey: string) => `${DID}#channel-key-${toHex(keyIdOf(fromHex(publicKey, 32)))}`;

/** GET /dids/{did} as the wallet-service answers it, listing these keys from milestone 5. */
function didResolution(publicKeys: string[]) {
  return {
    did: DID,
    originOutputId: ORIGIN,
    aliasId: DID.slice(-66),
    versions: [
      {
        outputId: ORIGIN,
        fromMilestone: 5,
        deactivated: false,
        methods: publicKeys.map((k) => ({ id: methodId(k), publicKey: k })),
      },
    ],
    document: {},
  };
}

function serve(
  ch: Awaited<ReturnType<typeof buildChannel>>,
  dids: (url: URL) => { status?: number; body: unknown } | undefined = () => undefined,
) {
  const notFound = { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
  const fetch = fakeFetch((url) => {
    if (url.host === 'wallet.test' && url.pathname.startsWith('/dids/')) return dids(url) ?? notFound;
    const meta = /^\/node\/blocks\/(0x[0-9a-f]{64})\/metadata$/.exec(url.pathname);
    if (url.host === 'wallet.test' && meta && ch.blocks.has(meta[1]!))
      return { body: { blockId: meta[1], referencedByMilestoneIndex: 20 } };
    if (url.host === 'other.test' && url.pathname === '/status')
      return { body: { meterId: 'x', channel: null } };
    if (url.host === 'meter.test' && url.pathname === '/status') return { body: ch.status };
    if (url.host === 'meter.test' && url.pathname === '/channel/blocks') {
      const limit = Number(url.searchParams.get('limit'));
      return { body: { channelId: ch.channelId, items: ch.index.slice(-limit) } };
    }
    const m = /^\/node\/blocks\/(0x[0-9a-f]{64})$/.exec(url.pathname);
    if (url.host === 'wallet.test' && m) {
      const b = ch.blocks.get(m[1]!);
      if (!b) return notFound;
      return {
        body: {
          protocolVersion: 2,
          parents: [],
          nonce: '0',
          payload: { type: 5, tag: `0x${toHex(utf8ToBytes(b.tag))}`, data: `0x${toHex(b.bytes)}` },
        },
      };
    }
    return notFound;
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

function renderExplorer(query: string, withDid = false) {
  const meters = withDid
    ? config.meters.map((m) =>
        m.url === 'http://meter.test' ? { ...m, did: { did: DID, originOutputId: ORIGIN } } : m,
      )
    : config.meters;
  renderWithServices({ ...config, meters }, <ExplorerPage query={query} />);
}

withFakeFeeds();

describe('the explorer’s channel view', () => {
  it('finds a public channel by its bare id (after block, transaction, milestone) and decodes it', async () => {
    const ch = await buildChannel('public');
    const fetch = serve(ch);
    renderExplorer(ch.channelId);
    await screen.findByRole('heading', { name: 'Channel' }, { timeout: 5000 });
    expect(
      fetch.calls.filter((c) => /^\/node\/(blocks|transactions|milestones)\//.test(c)).slice(0, 3),
    ).toEqual([
      `/node/blocks/0x${ch.channelId}`,
      `/node/transactions/0x${ch.channelId}`,
      `/node/milestones/0x${ch.channelId}`,
    ]);
    expect(screen.getByText('Consumer meter')).toBeTruthy();
    expect(screen.getByText('public')).toBeTruthy();
    expect(screen.getByText('(the channel id is its hash)')).toBeTruthy();
    const last = ch.index[ch.index.length - 1]!;
    expect(document.querySelector(`a[title="${last.blockId}"]`)).toBeTruthy();

    const status = await screen.findByText(/3 verified \(3 data\)/, {}, { timeout: 5000 });
    expect(status).toBeTruthy();
    const first = screen.getByRole('region', { name: 'Message 0' });
    expect(within(first).getByText(/4 samples/)).toBeTruthy();
    const rows = within(first).getAllByRole('row');
    expect(rows).toHaveLength(5); // header + 4 samples
    expect(rows[1]!.textContent).toContain('12.000');
    expect(rows[1]!.textContent).toContain('0.500');
    expect(rows[1]!.textContent).toContain('6.000');
    const third = screen.getByRole('region', { name: 'Message 2' });
    expect(within(third).getAllByRole('row')[4]!.textContent).toContain('12.203');
  });

  it('decodes a restricted channel with the reader key, and says WRONG_KEY for another', async () => {
    const readerKey = newX25519SecretKey();
    const ch = await buildChannel('restricted', [readerKey]);
    const fetch = serve(ch);
    renderExplorer(`channel:${ch.channelId}`);
    await screen.findByRole('heading', { name: 'Channel' }, { timeout: 5000 });
    expect(fetch.calls.some((c) => c.startsWith('/node/transactions'))).toBe(false);
    expect(screen.getByText('restricted')).toBeTruthy();
    const input = await screen.findByLabelText('Reader key', {}, { timeout: 5000 });
    expect(screen.getByText(/never stored and never sent anywhere/)).toBeTruthy();

    fireEvent.change(input, { target: { value: toHex(newX25519SecretKey()) } });
    fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    const failures = await screen.findByRole('list', { name: 'Failures' });
    expect(failures.textContent).toContain('WRONG_KEY');
    expect(screen.getByText(/^0 verified/)).toBeTruthy();

    fireEvent.change(input, { target: { value: 'not a key' } });
    fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/64 hex digits/);

    const callsBefore = fetch.calls.length;
    fireEvent.change(input, { target: { value: toHex(readerKey) } });
    fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    await waitFor(() =>
      expect(screen.getByText(/^4 verified \(3 data, 1 epoch announcement\)/)).toBeTruthy(),
    );
    expect(screen.queryByRole('list', { name: 'Failures' })).toBeNull();
    const first = screen.getByRole('region', { name: 'Message 1' });
    expect(within(first).getAllByRole('row')[1]!.textContent).toContain('12.000');
    // Decoding happens in the page: the key goes nowhere.
    expect(fetch.calls.length).toBe(callsBefore);
    expect(fetch.calls.join()).not.toContain(toHex(readerKey));
  });

  it("checks signatures against the meter's DID document and shows the DID and key of each", async () => {
    const ch = await buildChannel('public');
    const fetch = serve(ch, (url) =>
      decodeURIComponent(url.pathname) === `/dids/${DID}` && url.searchParams.get('origin') === ORIGIN
        ? { body: didResolution([ch.publicKey]) }
        : undefined,
    );
    renderExplorer(`channel:${ch.channelId}`, true);
    await screen.findByText(/3 verified \(3 data\)/, {}, { timeout: 5000 });
    expect(fetch.calls).toContain(`/dids/${encodeURIComponent(DID)}?origin=${ORIGIN}`);
    expect(screen.getByTestId('did').textContent).toBe(DID);
    expect(screen.getByText(/the channel is this DID’s/)).toBeTruthy();
    const signed = screen.getAllByTestId('signed-by');
    expect(signed).toHaveLength(3);
    for (const s of signed) {
      expect(s.textContent).toContain(methodId(ch.publicKey));
      expect(s.textContent).toContain(`key ${ch.publicKey.slice(0, 16)}…`);
      expect(s.textContent).toContain('document version of milestone 5');
    }
  });

  it('refuses every message when the DID document lists another key, and says the channel is not its', async () => {
    const ch = await buildChannel('public');
    const other = toHex(ed25519PublicKey(newEd25519SecretKey()));
    serve(ch, () => ({ body: didResolution([other]) }));
    renderExplorer(`channel:${ch.channelId}`, true);
    const failures = await screen.findByRole('list', { name: 'Failures' }, { timeout: 5000 });
    expect(failures.querySelectorAll('li')).toHaveLength(3);
    expect(failures.textContent).toMatch(/not in the DID document in force at milestone 20/);
    expect(screen.getByText(/^0 verified/)).toBeTruthy();
    expect(screen.getByText(/this channel is not the DID’s/)).toBeTruthy();
    expect(screen.queryByTestId('signed-by')).toBeNull();
  });

  it('says so, and checks nothing, when the DID cannot be resolved', async () => {
    const ch = await buildChannel('public');
    serve(ch, () => ({
      status: 404,
      body: {
        error: {
          code: 'DID_UNRESOLVED',
          message: `${DID} cannot be resolved: output ${ORIGIN} is not an alias output`,
        },
      },
    }));
    renderExplorer(`channel:${ch.channelId}`, true);
    const alert = await screen.findByRole('alert', {}, { timeout: 5000 });
    expect(alert.textContent).toMatch(/The meter’s DID could not be resolved, so no signature is checked\./);
    expect(alert.textContent).toContain(`${DID} cannot be resolved: output ${ORIGIN} is not an alias output`);
    expect(screen.queryByText(/verified/)).toBeNull();
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('checks against a DID typed in when the meter names none, after the agent’s key until then', async () => {
    const ch = await buildChannel('public');
    serve(ch, () => ({ body: didResolution([ch.publicKey]) }));
    renderExplorer(`channel:${ch.channelId}`);
    await screen.findByText(/3 verified \(3 data\)/, {}, { timeout: 5000 });
    expect(screen.getByText(/this meter names no DID/)).toBeTruthy();
    expect(screen.getAllByText(/signature checked against the agent’s key/)).toHaveLength(3);
    fireEvent.change(screen.getByLabelText('Meter DID'), { target: { value: 'did:web:example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/an IOTA DID/);
    fireEvent.change(screen.getByLabelText('Meter DID'), { target: { value: DID } });
    fireEvent.change(screen.getByLabelText('Alias origin output'), { target: { value: ORIGIN } });
    fireEvent.click(screen.getByRole('button', { name: 'Check' }));
    await waitFor(() => expect(screen.getAllByTestId('signed-by')).toHaveLength(3));
    expect(screen.getByTestId('did').textContent).toBe(DID);
  });
});

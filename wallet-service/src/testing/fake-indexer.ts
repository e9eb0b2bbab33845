// Test support: a community indexer that does only what indexer/README.md promises of its REST API and
// stream — outputs by address in booking order, paged with `next`; an output's metadata with its spend;
// tagged blocks by tag prefix (by tag, then milestone; `from`), each block and its metadata; milestones;
// `/health`'s indexed milestone; a stream that sends a milestone's outputs and tagged data, then the
// milestone, and that drops a reader with `event: error` when it falls behind. Its ledger is what the test
// commits to it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeOutput {
  outputId: string;
  amount: bigint;
  /** Ed25519 owner (0x hash). */
  ownerHex: string;
  /** The bech32 address the indexer lists it under. */
  address: string;
  booked: number;
  spent?: number;
}

const MILESTONE_TIME = 1_800_000_000;

export interface FakeTaggedBlock {
  blockId: string;
  /** Text, e.g. tanglewatt/market/v1. */
  tag: string;
  /** The block as HORNET would serve it. */
  block: unknown;
}

/** A made-up milestone id, the same for the same index. */
const milestoneId = (index: number) => `0x${index.toString(16).padStart(64, '0')}`;

const hex = (text: string) => `0x${Buffer.from(text, 'utf8').toString('hex')}`;

export class FakeIndexer {
  indexed = 0;
  readonly outputs = new Map<string, FakeOutput>();
  readonly blocks = new Map<string, FakeTaggedBlock & { milestoneIndex: number }>();
  /** Items per address page (the real one answers up to `limit`, 1000 at most, and `next` while there are more). */
  pageSize = 2;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readers: { res: ServerResponse; address?: string; tag?: string }[] = [];
  port = 0;
  /** A hung indexer: streams stay open and say nothing (REST still answers). */
  silent = false;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.route(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Gone at once, as with SIGKILL: open streams break, calls are refused. Its store is kept. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.readers = [];
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => server?.close(r));
  }

  /** Indexes the next milestone: these outputs created, those spent; streams its events, then the milestone. */
  commit(
    change: { created?: Omit<FakeOutput, 'booked'>[]; spent?: string[]; tagged?: FakeTaggedBlock[] } = {},
  ): number {
    const index = ++this.indexed;
    const events: [string, unknown, string][] = [];
    for (const b of change.tagged ?? []) {
      this.blocks.set(b.blockId, { ...b, milestoneIndex: index });
      events.push(['tagged-data', this.metadata(b.blockId), b.tag]);
    }
    for (const o of change.created ?? []) {
      const output = { ...o, booked: index };
      this.outputs.set(o.outputId, output);
      events.push(['output', { ...this.body(output), change: 'created' }, o.address]);
    }
    for (const id of change.spent ?? []) {
      const output = this.outputs.get(id)!;
      output.spent = index;
      events.push(['output', { ...this.body(output), change: 'spent' }, output.address]);
    }
    for (const reader of this.silent ? [] : this.readers) {
      for (const [name, data, key] of events) {
        const wanted =
          name === 'output'
            ? reader.address === key || (!reader.address && !reader.tag)
            : key.startsWith(reader.tag ?? '') && (reader.tag !== undefined || !reader.address);
        if (wanted) send(reader.res, name, data);
      }
      send(reader.res, 'milestone', { index, timestamp: MILESTONE_TIME + index });
    }
    return index;
  }

  /** Every open stream falls behind: each gets `event: error` and is disconnected. */
  dropReaders(): void {
    for (const { res } of this.readers) {
      res.write(
        'event: error\ndata: {"error":"stream: the reader fell behind; reconnect and catch up over REST"}\n\n',
      );
      res.end();
    }
    this.readers = [];
  }

  get streams(): number {
    return this.readers.length;
  }

  private body(o: FakeOutput) {
    return {
      metadata: {
        outputId: o.outputId,
        blockId: `0x${'b'.repeat(64)}`,
        transactionId: o.outputId.slice(0, 66),
        outputIndex: 0,
        isSpent: o.spent !== undefined,
        ...(o.spent !== undefined
          ? { milestoneIndexSpent: o.spent, milestoneTimestampSpent: MILESTONE_TIME + o.spent }
          : {}),
        milestoneIndexBooked: o.booked,
        milestoneTimestampBooked: MILESTONE_TIME + o.booked,
      },
      output: {
        type: 3,
        amount: o.amount.toString(),
        unlockConditions: [{ type: 0, address: { type: 0, pubKeyHash: o.ownerHex } }],
      },
    };
  }

  private metadata(blockId: string) {
    const b = this.blocks.get(blockId)!;
    return {
      blockId,
      milestoneIndex: b.milestoneIndex,
      milestoneTimestamp: MILESTONE_TIME + b.milestoneIndex,
      tag: hex(b.tag),
      data: '0x',
      ledgerInclusionState: 'noTransaction',
    };
  }

  private route(req: IncomingMessage, res: ServerResponse): ServerResponse | undefined {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    if (path === '/health')
      return json(res, { status: 'ok', connected: true, indexedMilestone: this.indexed, gaps: [] });
    const byAddress = /^\/api\/v1\/addresses\/([^/]+)\/outputs$/.exec(path);
    if (byAddress) {
      const unspent = url.searchParams.get('unspent') === 'true';
      const all = [...this.outputs.values()]
        .filter((o) => o.address === byAddress[1] && (!unspent || o.spent === undefined))
        .sort((a, b) => a.booked - b.booked || (a.outputId < b.outputId ? -1 : 1));
      const after = url.searchParams.get('after');
      const start = after ? all.findIndex((o) => o.outputId === after) + 1 : 0;
      const page = all.slice(start, start + this.pageSize);
      const more = start + this.pageSize < all.length;
      return json(res, {
        address: byAddress[1],
        items: page.map((o) => ({ ...this.body(o), roles: ['address'] })),
        ...(more ? { next: page.at(-1)!.outputId } : {}),
      });
    }
    const output = /^\/api\/v1\/outputs\/(0x[0-9a-f]+)$/.exec(path);
    if (output) {
      const o = this.outputs.get(output[1]!);
      if (!o) return json(res, { error: `output ${output[1]} is not indexed` }, 404);
      return json(res, { ...this.body(o), addresses: [{ address: o.address, roles: ['address'] }] });
    }
    const byTag = /^\/api\/v1\/tags\/([^/]+)\/blocks$/.exec(path);
    if (byTag) {
      const prefix = decodeURIComponent(byTag[1]!);
      const from = Number(url.searchParams.get('from') ?? 0);
      const all = [...this.blocks.values()]
        .filter((b) => b.tag.startsWith(prefix) && b.milestoneIndex >= from)
        .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : a.milestoneIndex - b.milestoneIndex));
      const after = url.searchParams.get('after');
      const start = after ? all.findIndex((b) => b.blockId === after) + 1 : 0;
      const page = all.slice(start, start + this.pageSize);
      return json(res, {
        tag: prefix,
        items: page.map((b) => this.metadata(b.blockId)),
        ...(start + this.pageSize < all.length ? { next: page.at(-1)!.blockId } : {}),
      });
    }
    const block = /^\/api\/v1\/blocks\/(0x[0-9a-f]+)(\/metadata)?$/.exec(path);
    if (block) {
      const b = this.blocks.get(block[1]!);
      if (!b) return json(res, { error: `block ${block[1]} is not indexed` }, 404);
      return json(res, block[2] ? this.metadata(b.blockId) : b.block);
    }
    const milestone = /^\/api\/v1\/milestones\/(\d+)$/.exec(path);
    if (milestone) {
      const index = Number(milestone[1]);
      if (index > this.indexed) return json(res, { error: `milestone ${index} is not indexed` }, 404);
      const tagged = [...this.blocks.values()].filter((b) => b.milestoneIndex === index).length;
      return json(res, {
        index,
        milestoneId: milestoneId(index),
        timestamp: MILESTONE_TIME + index,
        previousMilestoneId: milestoneId(index - 1),
        blocksReferenced: tagged,
        createdOutputs: [...this.outputs.values()].filter((o) => o.booked === index).length,
        consumedOutputs: [...this.outputs.values()].filter((o) => o.spent === index).length,
        taggedBlocks: tagged,
      });
    }
    if (path === '/api/v1/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      const address = url.searchParams.get('address') ?? undefined;
      const tag = url.searchParams.get('tag') ?? undefined;
      this.readers.push({ res, ...(address ? { address } : {}), ...(tag ? { tag } : {}) });
      req.on('close', () => {
        this.readers = this.readers.filter((r) => r.res !== res);
      });
      return;
    }
    json(res, { error: 'not found' }, 404);
  }
}

/** Answers with a JSON body; returns the response so a route can `return json(…)`. */
function json(res: ServerResponse, body: unknown, status = 200): ServerResponse {
  res.writeHead(status, { 'content-type': 'application/json' });
  return res.end(JSON.stringify(body));
}

function send(res: ServerResponse, name: string, data: unknown): void {
  res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

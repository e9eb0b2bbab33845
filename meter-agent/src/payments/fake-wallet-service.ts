import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MarketTrade, paymentRequest } from '@tanglewatt/contract';
import { seededRandom } from '../sensors/prng.js';

/**
 * Plays our wallet-service over HTTP for crash tests of the real agent process: POST /payments answers 202
 * for a new key, 200 for a repeat, 409 for a key reused with another amount, and the odd 503; GET /market
 * and POST /market/ack serve a fixed set of trades.
 */
export class FakeWalletService {
  readonly amounts = new Map<string, string>();
  readonly requests: { key: string; amount: string; status: number }[] = [];
  readonly conflicts: string[] = [];
  readonly #random = seededRandom(99);
  /** What GET /market answers: the trades, and the buyer acknowledgements POST /market/ack made. */
  trades: MarketTrade[] = [];
  readonly acks: string[] = [];
  readonly #failedOnce = new Set<string>();
  server: Server | undefined;
  /** When set, the next new key is recorded as paid but never answered: the agent dies waiting. */
  holdNext: (() => void) | undefined;

  constructor(private readonly token: string) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const send = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        };
        if (req.headers.authorization !== `Bearer ${this.token}`)
          return send(401, { error: { code: 'UNAUTHORIZED', message: 'wrong token' } });
        if (req.method === 'GET' && req.url === '/market')
          return send(200, {
            market: 'test',
            nowMs: Date.now(),
            ledgerIndex: 1,
            trades: this.trades,
            acks: this.acks.map((tradeId) => ({ tradeId, party: 'buyer', messageId: 'a'.repeat(64) })),
          });
        if (req.method === 'POST' && req.url === '/market/ack') {
          this.acks.push((JSON.parse(body) as { tradeId: string }).tradeId);
          return send(202, { messageId: 'a'.repeat(64), blockId: `0x${'b'.repeat(64)}` });
        }
        if (req.method !== 'POST' || req.url !== '/payments')
          return send(404, { error: { code: 'NOT_FOUND', message: 'no' } });
        const parsed = paymentRequest.safeParse(JSON.parse(body));
        if (!parsed.success)
          return send(400, { error: { code: 'INVALID_REQUEST', message: parsed.error.message } });
        const { idempotencyKey: key, amount } = parsed.data;
        const known = this.amounts.get(key);
        let status: number;
        if (known !== undefined) {
          status = known === amount ? 200 : 409;
          if (status === 409) this.conflicts.push(`${key}: ${known} then ${amount}`);
        } else if (!this.#failedOnce.has(key) && this.#random() < 0.25) {
          this.#failedOnce.add(key); // a wallet-service hiccup: the agent must retry with the same key
          status = 503;
        } else {
          this.amounts.set(key, amount);
          status = 202;
        }
        this.requests.push({ key, amount, status });
        if (status === 202 && this.holdNext) {
          this.holdNext();
          this.holdNext = undefined;
          return; // paid here, but the agent never hears of it
        }
        if (status >= 400) return send(status, { error: { code: `HTTP_${status}`, message: 'try again' } });
        const now = new Date().toISOString();
        send(status, {
          ...parsed.data,
          state: 'queued',
          micro: false,
          attempts: 0,
          createdAt: now,
          updatedAt: now,
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

import { CodedError } from '@tanglewatt/errors';
import {
  type ApiErrorBody,
  type Balance,
  type MarketSnapshot,
  marketSnapshot,
  type Payment,
  type PaymentRequest,
} from './schemas.js';

/** A failed call to a wallet-service. `retryable` says whether the same request may succeed later. */
export class WalletServiceError extends CodedError {
  override name = 'WalletServiceError';
  constructor(
    /** The service's own code (see ApiErrorBody), or TIMEOUT, UNREACHABLE or HTTP_<status> when it sent none. */
    code: string,
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export interface WalletServiceClientOptions {
  /** Bearer token for mutating routes (and reads, where the service keeps them private). */
  token?: string;
  timeoutMs?: number;
}

/** Typed access to one wallet-service's REST API. */
export class WalletServiceClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(url: string, options: WalletServiceClientOptions = {}) {
    this.url = url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Asks the service to pay. Safe to repeat with the same idempotency key: the service answers with the
   * payment it already has instead of paying again.
   */
  pay(request: PaymentRequest): Promise<Payment> {
    return this.request<Payment>('POST', '/payments', request);
  }

  async payment(idempotencyKey: string): Promise<Payment | undefined> {
    try {
      return await this.request<Payment>('GET', `/payments/${encodeURIComponent(idempotencyKey)}`);
    } catch (error) {
      if (error instanceof WalletServiceError && error.status === 404) return undefined;
      throw error;
    }
  }

  balance(): Promise<Balance> {
    return this.request<Balance>('GET', '/balance');
  }

  /** The market book as this household rebuilt it: its trades and their acknowledgements (validated). */
  async market(): Promise<MarketSnapshot> {
    const body = await this.request<unknown>('GET', '/market');
    const parsed = marketSnapshot.safeParse(body);
    if (!parsed.success)
      throw new WalletServiceError(
        'BAD_RESPONSE',
        `GET /market: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
        undefined,
        false,
      );
    return parsed.data;
  }

  /** Acknowledges a trade on the market, signed by this household's wallet key. */
  ackTrade(tradeId: string): Promise<{ messageId: string; blockId: string }> {
    return this.request('POST', '/market/ack', { tradeId });
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
      throw new WalletServiceError(
        timedOut ? 'TIMEOUT' : 'UNREACHABLE',
        `wallet-service at ${this.url} ${timedOut ? 'did not answer in time' : 'is unreachable'}`,
        undefined,
        true,
      );
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let parsed: ApiErrorBody | undefined;
    try {
      parsed = JSON.parse(text) as ApiErrorBody;
    } catch {
      // not our error shape
    }
    const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
    throw new WalletServiceError(
      parsed?.error?.code ?? `HTTP_${res.status}`,
      parsed?.error?.message ?? `${method} ${path}: HTTP ${res.status}`,
      res.status,
      retryable,
      parsed?.error?.field,
    );
  }
}

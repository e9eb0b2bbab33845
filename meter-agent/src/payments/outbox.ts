import type { OutboxView } from '@tanglewatt/contract';
import { type Payment, type PaymentRequest, WalletServiceError } from '@tanglewatt/contract';
import type { Clock, Timer } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { PaymentOutcome } from '../store/state.js';

/** The one call the outbox makes; `WalletServiceClient` is one, tests pass a fake. */
export interface PaymentClient {
  pay(request: PaymentRequest): Promise<Payment>;
}

export interface OutboxItem {
  seq: number;
  request: PaymentRequest;
}

/** What the outbox still holds, as the status snapshot shows it. */
export type { OutboxEntryView, OutboxView } from '@tanglewatt/contract';

/** Exponential backoff with jitter: half the window fixed, half random, so retries spread out. */
export function backoffDelayMs(
  failures: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  const windowMs = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return windowMs / 2 + random() * (windowMs / 2);
}

/** 401/403 are a token problem on our side: rejecting the period would lose the payment, so retry. */
function isFinalRejection(error: unknown): error is WalletServiceError {
  return (
    error instanceof WalletServiceError && !error.retryable && error.status !== 401 && error.status !== 403
  );
}

export interface OutboxOptions {
  client: PaymentClient;
  clock: Clock;
  log: Logger;
  /** Journals an outcome; the item leaves the outbox only once this resolved. */
  record(outcome: PaymentOutcome): Promise<void>;
  backoffBaseMs: number;
  backoffCapMs: number;
  random?: () => number;
  onError?(message: string): void;
}

/**
 * Drains the payment outbox, oldest period first, one request at a time, in its own loop: sampling never
 * waits for it. A request is repeated with the same idempotency key until the wallet-service answers;
 * failures back off exponentially (with jitter, up to the cap). A final 4xx marks the period rejected.
 */
export class PaymentOutbox {
  readonly #items: OutboxItem[] = [];
  readonly #attempts = new Map<string, { attempts: number; lastError?: string }>();
  readonly #options: OutboxOptions;
  readonly #random: () => number;
  #failures = 0;
  #nextAttemptMonoMs = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: Timer | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  enqueue(item: OutboxItem): void {
    if (this.#items.some((i) => i.request.idempotencyKey === item.request.idempotencyKey)) return;
    this.#items.push(item);
    this.#items.sort((a, b) => a.seq - b.seq);
    this.#wake?.();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the request in flight (bounded by the client's timeout) has been answered and journaled. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Resolves once the outbox is empty. */
  drained(): Promise<void> {
    if (this.#items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  view(): OutboxView {
    const backingOff = this.#nextAttemptMonoMs > this.#options.clock.monoMs();
    return {
      queued: this.#items.map((i) => ({
        key: i.request.idempotencyKey,
        amount: i.request.amount,
        attempts: this.#attempts.get(i.request.idempotencyKey)?.attempts ?? 0,
        ...(this.#attempts.get(i.request.idempotencyKey)?.lastError
          ? { lastError: this.#attempts.get(i.request.idempotencyKey)?.lastError }
          : {}),
      })),
      nextAttemptAtMs: backingOff
        ? this.#options.clock.nowMs() + (this.#nextAttemptMonoMs - this.#options.clock.monoMs())
        : null,
      consecutiveFailures: this.#failures,
    };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const item = this.#items[0];
      const waitMs = this.#nextAttemptMonoMs - this.#options.clock.monoMs();
      if (!item) {
        for (const resolve of this.#idleWaiters.splice(0)) resolve();
        await this.#sleep(undefined);
      } else if (waitMs > 0) {
        await this.#sleep(waitMs);
      } else {
        await this.#attempt(item);
      }
    }
  }

  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#timer?.cancel();
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      if (ms !== undefined) this.#timer = this.#options.clock.setTimer(ms, done);
    });
  }

  async #attempt(item: OutboxItem): Promise<void> {
    const { log, clock } = this.#options;
    const key = item.request.idempotencyKey;
    const tally = this.#attempts.get(key) ?? { attempts: 0 };
    tally.attempts++;
    this.#attempts.set(key, tally);
    let outcome: PaymentOutcome;
    try {
      const payment = await this.#options.client.pay(item.request);
      if (payment.state === 'failed' || payment.state === 'cancelled') {
        // The wallet-service gave this key up for good: asking again would only answer the same.
        outcome = {
          key,
          atMs: clock.nowMs(),
          result: 'rejected',
          serviceState: payment.state,
          code: payment.state === 'failed' ? 'PAYMENT_FAILED' : 'PAYMENT_CANCELLED',
          reason: payment.error ?? `the wallet-service reports the payment ${payment.state}`,
        };
        log.error({ key, state: payment.state, reason: outcome.reason }, `payment ${payment.state}`);
        this.#options.onError?.(`payment ${key} ${payment.state}: ${outcome.reason}`);
      } else outcome = { key, atMs: clock.nowMs(), result: 'accepted', serviceState: payment.state };
    } catch (error) {
      if (isFinalRejection(error)) {
        outcome = {
          key,
          atMs: clock.nowMs(),
          result: 'rejected',
          code: error.code,
          reason: error.message,
          ...(error.status !== undefined ? { status: error.status } : {}),
        };
        log.error({ key, status: error.status, code: error.code, reason: error.message }, 'payment rejected');
        this.#options.onError?.(`payment ${key} rejected: ${error.message}`);
      } else {
        this.#backOff(key, tally, error);
        return;
      }
    }
    try {
      await this.#options.record(outcome);
    } catch (error) {
      this.#backOff(key, tally, error);
      return;
    }
    if (outcome.result === 'accepted')
      log.info(
        { key, amount: item.request.amount, attempts: tally.attempts, state: outcome.serviceState },
        'payment accepted',
      );
    this.#failures = 0;
    this.#nextAttemptMonoMs = 0;
    this.#items.splice(this.#items.indexOf(item), 1);
    this.#attempts.delete(key);
  }

  #backOff(key: string, tally: { attempts: number; lastError?: string }, error: unknown): void {
    const { clock, log } = this.#options;
    this.#failures++;
    const delayMs = backoffDelayMs(
      this.#failures,
      this.#options.backoffBaseMs,
      this.#options.backoffCapMs,
      this.#random,
    );
    this.#nextAttemptMonoMs = clock.monoMs() + delayMs;
    tally.lastError = errorMessage(error);
    const status = error instanceof WalletServiceError ? error.status : undefined;
    const code = error instanceof WalletServiceError ? error.code : undefined;
    const tokenRefused = status === 401 || status === 403;
    log[tokenRefused ? 'error' : 'warn'](
      { key, attempt: tally.attempts, status, code, retryInMs: Math.round(delayMs) },
      tokenRefused
        ? 'wallet-service refused the token: check walletService token; payments stay queued'
        : `payment not sent yet: ${tally.lastError}`,
    );
    this.#options.onError?.(`payment ${key}: ${tally.lastError}`);
  }
}

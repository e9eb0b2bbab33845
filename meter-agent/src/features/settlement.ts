import type { PaymentRequest } from '@tanglewatt/contract';
import { errorMessage } from '../errors.js';
import type { Feature, Kernel } from '../kernel.js';
import { type PaymentClient, PaymentOutbox } from '../payments/outbox.js';
import { paymentRequestFor } from '../period-record.js';
import { awaitingChannelRoot, type PaymentOutcome, type PeriodRecord, unsettled } from '../store/state.js';

export interface SettlementOptions {
  wallet: PaymentClient;
  /** A channel is open: a period published on it is paid once its root is journaled. */
  channelOpen: boolean;
}

/**
 * Period settlement: every closed period that owes a payment goes to the payment outbox, which asks the
 * wallet-service until it answers and journals the answer. A period published on the channel waits for its
 * root (the channel feature hands it back here once the root is journaled).
 */
export class SettlementFeature implements Feature {
  readonly name = 'settlement';
  readonly #o: SettlementOptions;
  #kernel: Kernel | undefined;
  #outbox: PaymentOutbox | undefined;
  #warnedNoChannel = false;

  constructor(options: SettlementOptions) {
    this.#o = options;
  }

  async start(kernel: Kernel): Promise<void> {
    const { config, clock, log, state } = kernel;
    this.#kernel = kernel;
    this.#outbox = new PaymentOutbox({
      client: this.#o.wallet,
      clock,
      log,
      backoffBaseMs: config.payments.backoffBaseMs,
      backoffCapMs: config.payments.backoffCapMs,
      record: async (outcome) => {
        await state.append({ kind: 'payment', outcome });
        kernel.events.emit('payment', outcome);
        kernel.statusChanged();
      },
      onError: (message) => kernel.problem(message, false),
    });
    for (const period of unsettled(state.state)) this.enqueue(period);
    kernel.on('periodClosed', (record) => {
      if (record.payment.state === 'due') this.enqueue(record);
    });
    kernel.on('snapshot', (s) => {
      s.outbox = this.#outbox!.view();
    });
    this.#outbox.start();
  }

  /** Payments waiting for an answer. */
  get size(): number {
    return this.#outbox?.size ?? 0;
  }

  /** Queues a period's payment (once: the outbox knows each idempotency key). */
  enqueue(period: PeriodRecord): void {
    const kernel = this.#kernel;
    if (!this.#outbox || !kernel) return;
    if (awaitingChannelRoot(period)) {
      // Paid once the channel has sealed the period's last message and its root is journaled.
      if (this.#o.channelOpen) return;
      if (!this.#warnedNoChannel)
        kernel.problem(
          `period ${period.id} was published on a channel that is no longer configured: paying it with the agent's own readings hash`,
        );
      this.#warnedNoChannel = true;
    }
    let request: PaymentRequest;
    try {
      request = paymentRequestFor(period);
    } catch (error) {
      // Not a request the wallet-service could accept, now or ever: record why instead of retrying.
      const key = period.payment.state === 'due' ? period.payment.key : period.id;
      const outcome: PaymentOutcome = {
        key,
        atMs: kernel.clock.nowMs(),
        result: 'rejected',
        code: 'INVALID_REQUEST',
        reason: errorMessage(error),
      };
      void kernel.state.append({ kind: 'payment', outcome }).catch(() => undefined);
      kernel.problem(`payment ${key} cannot be requested: ${outcome.reason}`);
      return;
    }
    this.#outbox.enqueue({ seq: period.seq, request });
  }

  /** Queues a market trade's payment after the open period's own, in the order they became due. */
  enqueueTrade(request: PaymentRequest): void {
    if (!this.#outbox || !this.#kernel) return;
    this.#outbox.enqueue({ seq: this.#kernel.openPeriod.seq, request });
  }

  drained(): Promise<void> {
    return this.#outbox?.drained() ?? Promise.resolve();
  }

  /** Lets the request in flight finish and be journaled; a stuck wallet-service is given up on after 5 s. */
  async stop(): Promise<void> {
    const kernel = this.#kernel;
    if (!this.#outbox || !kernel) return;
    // The request in flight ends within the client's timeout; a stuck fake or socket must not hold up a stop.
    const giveUpMs = Math.min(kernel.config.walletService?.timeoutMs ?? 5000, 5000);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#outbox.stop(),
      new Promise((resolve) => {
        giveUp = setTimeout(resolve, giveUpMs);
      }),
    ]);
    clearTimeout(giveUp);
  }
}

import { errorMessage, MeterAgentError } from '../errors.js';
import type { Relay } from '../hardware/relay.js';
import type { Feature, Kernel } from '../kernel.js';
import { type MarketSource, TradeDesk, tradeIdOfPurchase } from '../market/desk.js';
import { deliveredSince } from '../metering/delivered.js';
import { PrepaidDelivery, type PurchaseProgress, takeInbox } from '../prepaid.js';
import type { PurchaseRecord } from '../store/state.js';
import type { SettlementFeature } from './settlement.js';

const INBOX_EVERY_MS = 2_000;
/** How often trade windows are checked: a window's end opens the relay within this. */
const TRADE_TICK_MS = 1_000;

export interface DeliveryOptions {
  relay: Relay;
  /** Where market trades are read and acknowledged, when `market` is configured. */
  market: MarketSource | undefined;
  /** Trade payments go out through the period settlement's outbox. */
  settlement: SettlementFeature | undefined;
}

/**
 * Delivery: the relay, the prepaid purchases it delivers (from `purchase()` or the inbox) and the market
 * trades that become purchases. The relay is on only while a purchase is owed, the agent runs and the
 * metered sensor gave a valid sample within the gap threshold; this feature stops first, relay off.
 */
export class DeliveryFeature implements Feature {
  readonly name = 'delivery';
  readonly #o: DeliveryOptions;
  #kernel: Kernel | undefined;
  #prepaid: PrepaidDelivery | undefined;
  #desk: TradeDesk | undefined;

  constructor(options: DeliveryOptions) {
    this.#o = options;
  }

  /** Resumes an unfinished purchase with what the sample journal says it already delivered. */
  async start(kernel: Kernel): Promise<void> {
    const { config, state, clock, log, samples } = kernel;
    this.#kernel = kernel;
    const prepaid = new PrepaidDelivery({
      relay: this.#o.relay,
      store: state,
      clock,
      log,
      gapThresholdMs: kernel.gapThresholdMs,
      onError: (m) => kernel.problem(m, false),
      onDone: (done) => this.#desk?.onPurchaseDone(done) ?? Promise.resolve(),
    });
    this.#prepaid = prepaid;
    kernel.activePurchase = () => prepaid.active;
    const activePurchase = [...state.state.purchases.values()].find((p) => !p.done)?.purchase;
    const progress: PurchaseProgress | undefined = activePurchase && {
      purchase: activePurchase,
      deliveredHalfNJ: deliveredSince(
        await samples.readFrom(activePurchase.startMs, clock.nowMs()),
        kernel.metered,
        kernel.gapThresholdMs,
        activePurchase.startMs,
      ),
    };
    const tradeId = activePurchase && tradeIdOfPurchase(activePurchase.id);
    const trade = tradeId === undefined ? undefined : state.state.trades.get(tradeId);
    await prepaid.resume(progress, trade !== undefined && trade.trade.window.endMs <= clock.nowMs());

    const settlement = this.#o.settlement;
    if (config.market && this.#o.market && settlement) {
      this.#desk = new TradeDesk({
        source: this.#o.market,
        state,
        prepaid,
        clock,
        log,
        buyer: config.market.identity ?? config.parties.consumer,
        ack: config.market.ack,
        enqueue: (_due, request) => settlement.enqueueTrade(request),
        onProblem: (message) => kernel.problem(message),
        onChange: () => kernel.statusChanged(),
      });
      this.#desk.resume();
    }

    // Even when no sample gets counted (a stuck journal): the relay goes off after the gap threshold.
    kernel.on('tick', (tick) => {
      void prepaid.tick(tick.wallMs).catch((error) => kernel.problem(`relay: ${errorMessage(error)}`));
    });
    kernel.on('counted', async (sample, deliveredHalfNJ, valid) => {
      const purchase = prepaid.active;
      await prepaid.onSample(sample.tMs, deliveredHalfNJ, valid);
      if (purchase !== prepaid.active) kernel.statusChanged();
    });
    // Not awaited: the desk may be waiting on the wallet-service, and counting must not.
    kernel.on('periodClosed', () => void this.#desk?.onPeriodClosed());
    // With sampling: the purchase inbox, the market book and the trade windows.
    kernel.on('running', () => {
      kernel.every(INBOX_EVERY_MS, () => void this.#pollInbox());
      const desk = this.#desk;
      if (desk && config.market) {
        void desk.poll();
        kernel.every(config.market.pollSeconds * 1000, () => void desk.poll());
        kernel.every(TRADE_TICK_MS, () => void desk.tick());
      }
    });
    kernel.on('snapshot', (s) => {
      const relay = this.#o.relay;
      s.relay = { description: relay.description, on: relay.isOn };
      if (this.#desk) s.trades = this.#desk.views(20);
      const active = prepaid.active;
      s.purchase = active
        ? {
            id: active.purchase.id,
            energyMWs: active.purchase.energyMWs,
            deliveredMWs: (active.deliveredHalfNJ / 2_000_000n).toString(),
            startMs: active.purchase.startMs,
          }
        : null;
    });
  }

  /** Starts a prepaid delivery of `energyMWs`. */
  purchase(energyMWs: bigint, id?: string): Promise<PurchaseRecord> {
    if (!this.#prepaid) throw new MeterAgentError('PURCHASE_REFUSED', 'the agent is not running');
    return this.#prepaid.start(energyMWs, id);
  }

  /**
   * Off first: what follows waits on the network and may outlast systemd's TimeoutStopSec. Then what is
   * being counted (it may end a purchase) and what the trade desk is doing finish.
   */
  async stop(): Promise<void> {
    const kernel = this.#kernel;
    await this.#prepaid?.shutdown().catch((error) => kernel?.problem(`relay: ${errorMessage(error)}`));
    await kernel?.idle();
    await this.#desk?.settled();
  }

  async #pollInbox(): Promise<void> {
    const kernel = this.#kernel;
    if (!this.#prepaid || !kernel) return;
    try {
      for (const request of await takeInbox(kernel.config.dataDir)) {
        try {
          await this.#prepaid.start(BigInt(request.energyMWs), request.id);
          kernel.statusChanged();
        } catch (error) {
          kernel.problem(`purchase ${request.id} refused: ${errorMessage(error)}`);
        }
      }
    } catch (error) {
      kernel.problem(`reading the purchase inbox failed: ${errorMessage(error)}`);
    }
  }
}

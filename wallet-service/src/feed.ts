import { EventEmitter } from 'node:events';
import { type FeedEventData, type MilestoneRef, type NodeStatus, nodeStatusOf } from '@tanglewatt/contract';
import type { NodeApi } from '@tanglewatt/ledger';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

/** What the live feed carries (the contract's FeedEventData); each becomes one server-sent event of that name. */
export type FeedEvents = { [name in keyof FeedEventData]: [FeedEventData[name]] };

/**
 * Node events for the live feed. Milestones come from inx-mqtt (through HORNET's /api/mqtt/v1) the moment
 * the node has them, where it runs; a poll of the node's info covers the rest (status, metrics) and stands
 * in for MQTT when it is not there: milestones arrive at most every second, so a 250 ms poll shows each
 * within a quarter second.
 */
export class LiveFeed extends EventEmitter<FeedEvents> {
  private timer: NodeJS.Timeout | undefined;
  private last: NodeStatus | undefined;
  private lastTipsAt = 0;
  private polling = false;
  private mqtt: MqttClient | undefined;
  private mqttConnected = false;
  /** Highest index announced per kind, so MQTT and polling never announce one milestone twice. */
  private announced = { latest: 0, confirmed: 0 };

  constructor(
    private readonly api: NodeApi,
    private readonly log: Logger,
    private readonly pollMs = 250,
    /** MQTT reconnects: the first after `firstMs`, each further one twice as late, up to `maxMs`. */
    private readonly mqttRetry = { firstMs: 5_000, maxMs: 300_000 },
  ) {
    super();
  }

  /** Subscribes to the node's milestone topics over MQTT; falls back to polling while it is down. */
  connectMqtt(): void {
    const url = `${this.api.url.replace(/^http/, 'ws')}/api/mqtt/v1`;
    const { firstMs, maxMs } = this.mqttRetry;
    const client = mqtt.connect(url, { reconnectPeriod: firstMs, connectTimeout: 5_000 });
    this.mqtt = client;
    // A node without inx-mqtt answers every attempt with 404: back off rather than knock every 5 s for
    // good (polling covers it meanwhile), and still find an inx-mqtt started later.
    let failures = 0;
    this.mqtt.on('connect', () => {
      failures = 0;
      client.options.reconnectPeriod = firstMs;
      this.mqttConnected = true;
      this.mqtt?.subscribe(['milestone-info/latest', 'milestone-info/confirmed']);
      this.log.info({ url }, 'live milestones from inx-mqtt');
    });
    this.mqtt.on('close', () => {
      this.mqttConnected = false;
      // mqtt.js arms each retry just before this event: the period set here applies from the one after.
      client.options.reconnectPeriod = Math.min(firstMs * 2 ** failures, maxMs);
      failures += 1;
    });
    this.mqtt.on('error', () => {
      // 404 from a node without inx-mqtt, or a refused connection: polling covers it.
      this.mqttConnected = false;
    });
    this.mqtt.on('message', (topic, payload) => {
      try {
        const ref = JSON.parse(payload.toString()) as MilestoneRef;
        this.announce(ref, topic.endsWith('confirmed'), 'mqtt');
      } catch {
        // not a milestone-info message
      }
    });
  }

  get viaMqtt(): boolean {
    return this.mqttConnected;
  }

  private announce(ref: MilestoneRef, confirmed: boolean, via: 'mqtt' | 'poll'): void {
    const kind = confirmed ? 'confirmed' : 'latest';
    if (ref.index <= this.announced[kind]) return;
    this.announced[kind] = ref.index;
    this.emit('milestone', { ...ref, confirmed, via });
  }

  get current(): NodeStatus | undefined {
    return this.last;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.mqtt?.end(true);
  }

  private async poll(): Promise<void> {
    // Milestone listeners alone (the ledger view and settlement) need no poll while inx-mqtt brings them.
    const milestoneListeners = this.mqttConnected ? 0 : this.listenerCount('milestone');
    if (this.polling || this.listenerCount('node') + milestoneListeners + this.listenerCount('tips') === 0)
      return;
    this.polling = true;
    try {
      const status = nodeStatusOf(await this.api.info());
      const previous = this.last;
      this.last = status;
      this.announce(status.latestMilestone, false, 'poll');
      this.announce(status.confirmedMilestone, true, 'poll');
      if (!previous || previous.confirmedMilestone.index !== status.confirmedMilestone.index) {
        this.emit('node', status);
      } else if (previous.synced !== status.synced || previous.healthy !== status.healthy) {
        this.emit('node', status);
      }
      if (Date.now() - this.lastTipsAt >= 1000 && this.listenerCount('tips') > 0) {
        this.lastTipsAt = Date.now();
        const tips = await this.api.tips().catch(() => [] as string[]);
        this.emit('tips', { tips, at: Date.now() });
      }
    } catch (error) {
      if (this.last?.synced !== false)
        this.log.warn({ err: (error as Error).message }, 'node status poll failed');
      if (this.last) {
        this.last = { ...this.last, synced: false, healthy: false };
        this.emit('node', this.last);
      }
    } finally {
      this.polling = false;
    }
  }
}

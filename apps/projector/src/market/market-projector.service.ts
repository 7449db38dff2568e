// Consumes the engines' market-events topic and the risk shards' signed-orders topic (same partitioning: by
// market) in a consumer group of its own, and writes orders, trades, candles and the account registry. Each
// batch's rows, the cursors of its markets and the partition's next offset commit in one database transaction;
// the consumer-group offset follows in the log in the background (ProjectionConsumer: a crash in between
// redelivers batches whose events are at or below their cursors and change nothing). Below the stored offset a
// redelivered message is skipped without decoding.
import type { ConsumedBatch, TopicPartition, Transport } from '@parallax/transport';
import { ProjectionConsumer } from '../app/projection-consumer.js';
import type { MarketStore } from '../store/market.store.js';
import { accountsOfSignedOrders, clientOrderIdsOfSignedOrders, MarketProjection, type MarketStep } from './market-projection.js';

export interface MarketProjectorConfig {
  readonly groupId: string;
  readonly marketEvents: string;
  readonly signedOrders: string;
  /** P, the partition count of both topics (the orders topic's). */
  readonly partitions: number;
  readonly maxBatchMessages?: number;
  /** How often the group's offsets are committed to the log (default 1,000 ms). */
  readonly offsetCommitIntervalMs?: number;
}

export interface MarketProjectorObserver {
  committed?(topic: string, partition: number, step: MarketStep | { readonly accounts: number }, highWatermark: number, next: number): void;
  gap?(marketId: number, expected: number, got: number): void;
  unreadable?(topic: string, partition: number, offset: number, reason: string): void;
  offsetCommitFailed?(err: unknown): void;
}

export class MarketProjector {
  private readonly loop: ProjectionConsumer;
  private projection = new MarketProjection();
  /** topic/partition -> next offset the database reflects. */
  private readonly next = new Map<string, number>();

  constructor(
    private readonly config: MarketProjectorConfig,
    private readonly transport: Transport,
    private readonly store: MarketStore,
    private readonly observer: MarketProjectorObserver = {},
  ) {
    this.loop = new ProjectionConsumer(
      { ...config, topics: [config.signedOrders, config.marketEvents] },
      transport,
      { assigned: (parts) => this.assign(parts), batch: (batch) => this.batch(batch) },
      (err) => this.observer.offsetCommitFailed?.(err),
    );
  }

  async start(): Promise<void> {
    // As the engines and the shards declare them (whichever service starts first creates them).
    await this.transport.ensureTopics([
      { name: this.config.marketEvents, partitions: this.config.partitions },
      { name: this.config.signedOrders, partitions: this.config.partitions },
    ]);
    await this.loop.start();
  }

  get stopped(): Promise<void> {
    return this.loop.stopped;
  }

  ready(): boolean {
    return this.loop.ready();
  }

  /** Per market, the last event sequence the rows reflect. */
  cursors(): ReadonlyMap<number, { readonly lastSeq: number; readonly lastTs: number }> {
    return this.projection.allCursors();
  }

  /** Next offset the rows reflect, per partition of `topic`. */
  offsets(topic: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const [k, v] of this.next) {
      const i = k.lastIndexOf('/');
      if (k.slice(0, i) === topic) out.set(Number(k.slice(i + 1)), v);
    }
    return out;
  }

  close(): Promise<void> {
    return this.loop.close();
  }

  private async assign(parts: readonly TopicPartition[]): Promise<void> {
    // The cursors of every market (a rebalance may hand this instance any of them) and the stored offsets.
    this.projection = new MarketProjection(await this.store.cursors());
    this.next.clear();
    for (const topic of new Set(parts.map((p) => p.topic))) for (const [p, n] of await this.store.offsets(topic)) this.next.set(`${topic}/${p}`, n);
  }

  private async batch(batch: ConsumedBatch): Promise<number | undefined> {
    const key = `${batch.topic}/${batch.partition}`;
    const from = this.next.get(key) ?? 0;
    const fresh = batch.messages.filter((m) => m.offset >= from);
    const last = batch.messages.at(-1);
    if (last === undefined) return undefined;
    const next = Math.max(from, last.offset + 1);
    if (fresh.length > 0) {
      if (batch.topic === this.config.signedOrders) {
        const accounts = accountsOfSignedOrders(fresh);
        await this.store.commitAccounts(batch.topic, batch.partition, next, accounts, clientOrderIdsOfSignedOrders(fresh));
        this.observer.committed?.(batch.topic, batch.partition, { accounts: accounts.size }, batch.highWatermark, next);
      } else {
        const step = this.projection.fold(fresh);
        for (const u of step.unreadable) this.observer.unreadable?.(batch.topic, batch.partition, u.offset, u.reason);
        for (const g of step.gaps) this.observer.gap?.(g.marketId, g.expected, g.got);
        await this.store.commitEvents(batch.topic, batch.partition, next, step);
        this.projection.committed(step);
        this.observer.committed?.(batch.topic, batch.partition, step, batch.highWatermark, next);
      }
      this.next.set(key, next);
    }
    // The database holds the position; the group's offset only saves a restart from re-reading.
    return next;
  }
}

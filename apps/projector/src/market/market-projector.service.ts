// Consumes the engines' market-events topic and the risk shards' signed-orders topic (same partitioning: by
// market) in a consumer group of its own, and writes orders, trades, candles and the account registry. Each
// batch's rows, the cursors of its markets and the partition's next offset commit in one database transaction;
// the consumer-group offset follows in the log in the background (OffsetCommitter, about once a second, never
// ahead of the rows: a crash in between redelivers batches whose events are at or below their cursors and change
// nothing). Below the stored offset a redelivered message
// is skipped without decoding.
import { randomUUID } from 'node:crypto';
import type { ConsumedBatch, GroupConsumer, Producer, TopicPartition, Transport } from '@parallax/transport';
import { OffsetCommitter } from '../app/offset-committer.js';
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
  private consumer: GroupConsumer | undefined;
  private producer: Producer | undefined;
  private committer: OffsetCommitter | undefined;
  private projection = new MarketProjection();
  /** topic/partition -> next offset the database reflects. */
  private readonly next = new Map<string, number>();
  private assigned = false;
  private stoppedPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: MarketProjectorConfig,
    private readonly transport: Transport,
    private readonly store: MarketStore,
    private readonly observer: MarketProjectorObserver = {},
  ) {}

  async start(): Promise<void> {
    // As the engines and the shards declare them (whichever service starts first creates them).
    await this.transport.ensureTopics([
      { name: this.config.marketEvents, partitions: this.config.partitions },
      { name: this.config.signedOrders, partitions: this.config.partitions },
    ]);
    // Idempotent rows protect this consumer, not fencing: each process has its own transactional id.
    this.producer = await this.transport.producer({ transactionalId: `${this.config.groupId}.offsets.${randomUUID()}` });
    this.committer = new OffsetCommitter(this.producer, this.config.groupId, this.config.offsetCommitIntervalMs ?? 1_000, (err) => this.observer.offsetCommitFailed?.(err));
    const consumer = await this.transport.consumer({
      groupId: this.config.groupId,
      topics: [this.config.signedOrders, this.config.marketEvents],
      fromBeginning: true,
      ...(this.config.maxBatchMessages === undefined ? {} : { maxBatchSize: this.config.maxBatchMessages }),
    });
    this.consumer = consumer;
    await consumer.run({
      onAssigned: (parts) => this.assign(parts),
      eachBatch: (batch) => this.batch(batch),
    });
    this.stoppedPromise = consumer.stopped;
  }

  get stopped(): Promise<void> {
    return this.stoppedPromise;
  }

  ready(): boolean {
    return this.assigned;
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

  async close(): Promise<void> {
    await this.consumer?.close();
    await this.committer?.close();
    const p = this.producer;
    this.producer = undefined;
    await p?.close();
  }

  private async assign(parts: readonly TopicPartition[]): Promise<void> {
    this.assigned = false;
    // The cursors of every market (a rebalance may hand this instance any of them) and the stored offsets.
    this.projection = new MarketProjection(await this.store.cursors());
    this.next.clear();
    for (const topic of new Set(parts.map((p) => p.topic))) for (const [p, n] of await this.store.offsets(topic)) this.next.set(`${topic}/${p}`, n);
    this.assigned = true;
  }

  private async batch(batch: ConsumedBatch): Promise<void> {
    const key = `${batch.topic}/${batch.partition}`;
    const from = this.next.get(key) ?? 0;
    const fresh = batch.messages.filter((m) => m.offset >= from);
    const last = batch.messages.at(-1);
    if (last === undefined) return;
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
    this.committer?.note(batch.topic, batch.partition, next);
  }
}

// Consume-transform-produce for the account shards this instance owns, on any Transport (Kafka or the
// embedded log): each input batch of a shard partition is applied by its AccountShard, and its orders,
// signed orders, dead letters and the input offset are committed in ONE transaction of a producer whose
// transactional id is bound to the partition (opening it fences a previous owner). On assignment a shard is
// rebuilt by a silent replay of its partition up to the group's committed offset (no snapshots yet: they
// only shorten this replay, see README); on revocation its state is dropped.
import type { RiskMarket } from '@parallax/risk';
import type { ConsumedBatch, GroupConsumer, Producer, TopicPartition, Transport } from '@parallax/transport';
import { AccountShard } from '../shard/account-shard.js';

export interface RiskShardsConfig {
  readonly groupId: string;
  /** The shards' input topic: requests, chain events and account events (S partitions). */
  readonly inputTopic: string;
  readonly ordersTopic: string;
  readonly signedOrdersTopic: string;
  readonly deadLettersTopic: string;
  /** RiskResultBatch answers to client requests (S partitions, like the input); unset = not written. */
  readonly resultsTopic?: string;
  /** S: partitions of the input topic = account shards. */
  readonly shards: number;
  /** P: partitions of the orders / signed-orders topics. */
  readonly marketPartitions: number;
  readonly markets: readonly RiskMarket[];
  readonly maxBatchMessages?: number;
  readonly tsPerSecond?: number;
  readonly expiryMarginTs?: number;
}

interface Owned {
  readonly shard: AccountShard;
  readonly producer: Producer;
}

export class RiskShards {
  private readonly owned = new Map<number, Owned>();
  private consumer: GroupConsumer | null = null;
  /** Counters for tests and metrics: refusals by code, violations, dead letters. */
  readonly counters = { batches: 0, accepted: 0, rejected: new Map<string, number>(), violations: 0, deadLetters: 0 };

  constructor(
    private readonly config: RiskShardsConfig,
    private readonly transport: Transport,
  ) {}

  /** The shard of partition s, if this instance owns it. */
  shard(s: number): AccountShard | undefined {
    return this.owned.get(s)?.shard;
  }

  ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const c = this.config;
    await this.transport.ensureTopics([
      { name: c.inputTopic, partitions: c.shards },
      { name: c.ordersTopic, partitions: c.marketPartitions },
      { name: c.signedOrdersTopic, partitions: c.marketPartitions },
      { name: c.deadLettersTopic, partitions: c.marketPartitions },
      ...(c.resultsTopic === undefined ? [] : [{ name: c.resultsTopic, partitions: c.shards }]),
    ]);
    const consumer = await this.transport.consumer({ groupId: c.groupId, topics: [c.inputTopic], fromBeginning: true, maxBatchSize: c.maxBatchMessages ?? 500 });
    this.consumer = consumer;
    await consumer.run({
      onAssigned: (ps) => this.assigned(ps),
      onRevoked: (ps) => this.drop(ps.map((p) => p.partition)),
      eachBatch: (b) => this.batch(b),
    });
  }

  get stopped(): Promise<void> {
    return this.consumer?.stopped ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.consumer?.close();
    await this.drop([...this.owned.keys()]);
  }

  private async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    const mine = new Set(partitions.filter((tp) => tp.topic === this.config.inputTopic).map((tp) => tp.partition));
    await this.drop([...this.owned.keys()].filter((p) => !mine.has(p)));
    for (const p of [...mine].sort((a, b) => a - b)) if (!this.owned.has(p)) this.owned.set(p, await this.restore(p));
  }

  private async restore(partition: number): Promise<Owned> {
    const c = this.config;
    // Fence the previous owner first: after this, the committed offset read below is final.
    const producer = await this.transport.producer({ transactionalId: `${c.groupId}.${c.inputTopic}.${partition}` });
    try {
      const committed = (await this.transport.committedOffsets(c.groupId, c.inputTopic)).get(partition) ?? 0;
      const shard = new AccountShard(this.optionsFor(partition));
      if (committed > 0) for await (const chunk of this.transport.read(c.inputTopic, partition, 0, committed)) shard.replay(chunk);
      if (shard.nextOffset < committed) shard.snapshot(committed);
      return { shard, producer };
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw err;
    }
  }

  private optionsFor(shard: number): ConstructorParameters<typeof AccountShard>[0] {
    const c = this.config;
    return {
      risk: {
        shard,
        shards: c.shards,
        markets: c.markets,
        ...(c.tsPerSecond === undefined ? {} : { tsPerSecond: c.tsPerSecond }),
        ...(c.expiryMarginTs === undefined ? {} : { expiryMarginTs: c.expiryMarginTs }),
      },
      marketPartitions: c.marketPartitions,
    };
  }

  private async batch(batch: ConsumedBatch): Promise<void> {
    const o = this.owned.get(batch.partition);
    if (o === undefined) throw new Error(`batch for shard ${batch.partition}, which this instance does not own`);
    const r = o.shard.process(batch.messages);
    const next = o.shard.nextOffset;
    const c = this.config;
    await o.producer.transaction((tx) => {
      if (r.signedOrders.length > 0) tx.send(c.signedOrdersTopic, r.signedOrders);
      if (r.orders.length > 0) tx.send(c.ordersTopic, r.orders);
      if (c.resultsTopic !== undefined && r.results.length > 0) tx.send(c.resultsTopic, r.results);
      if (r.deadLetters.length > 0) tx.send(c.deadLettersTopic, r.deadLetters.map((d) => ({ ...d, partition: batch.partition % c.marketPartitions })));
      tx.commitOffsets(c.groupId, [{ topic: c.inputTopic, partition: batch.partition, offset: next }]);
    });
    const k = this.counters;
    k.batches++;
    k.accepted += r.stats.accepted;
    for (const [code, n] of Object.entries(r.stats.rejected)) k.rejected.set(code, (k.rejected.get(code) ?? 0) + n);
    k.violations += r.stats.violations.length;
    k.deadLetters += r.stats.deadLetters;
  }

  private async drop(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) {
      const o = this.owned.get(p);
      if (o === undefined) continue;
      this.owned.delete(p);
      await o.producer.close().catch(() => undefined);
    }
  }
}

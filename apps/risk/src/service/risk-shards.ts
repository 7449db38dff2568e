// Consume-transform-produce for the account shards this instance owns, on any Transport (Kafka or the
// embedded log).
//
// Inputs: three topics with S partitions each, written by three principals (requests: gateway; chain events:
// chain watcher; account events: matching engines). One consumer group, co-partitioned: the member that owns
// shard s owns partition s of all three. Batches of the three arrive in whatever order the transport
// delivers them; each batch is applied by the shard's AccountShard, and in ONE transaction of the shard's
// producer (transactional id bound to the shard: opening it fences a previous owner) go its orders, signed
// orders, dead letters, a journal entry "applied [from, to) of source X" and the batch's input offset
// commit, plus, every so often, a snapshot of the shard. So the journal is exactly the interleaving the
// committed outputs came from.
//
// On assignment a shard restores: newest snapshot (refused if missing while the group has committed input,
// or unreadable), then the journal after it, each entry replayed by reading its input range: the same
// state, whatever order the inputs were appended or are read in now. Restore checks the journal is
// gap-free and ends where the committed offsets are.
import { type RiskStateTopicNames, type RiskTopicNames, riskStateTopicSpecs } from '@parallax/contracts';
import type { RiskMarket } from '@parallax/risk';
import type { ConsumedBatch, GroupConsumer, OutgoingMessage, Producer, TopicPartition, Transport } from '@parallax/transport';
import { AccountShard, RISK_SOURCES, type AccountShardOptions, type RiskSource, type ShardResult } from '../shard/account-shard.js';
import { RiskServiceError } from '../state/errors.js';
import { decodeJournalEntry, decodeShardSnapshot, encodeJournalEntry, encodeShardSnapshot, MAX_SHARD_SNAPSHOT_BYTES, shardSnapshotKey, type ShardSnapshot } from '../state/shard-records.js';

export interface RiskShardsConfig {
  readonly groupId: string;
  /** The three input topics (S partitions each). */
  readonly inputs: RiskTopicNames;
  /** The journal and snapshot topics (S partitions each, written only by the shards). */
  readonly state: RiskStateTopicNames;
  readonly ordersTopic: string;
  readonly signedOrdersTopic: string;
  readonly deadLettersTopic: string;
  /** RiskResultBatch answers to client requests (S partitions, like the inputs); unset = not written. */
  readonly resultsTopic?: string;
  /** S: partitions of every input topic = account shards. */
  readonly shards: number;
  /** P: partitions of the orders / signed-orders topics. */
  readonly marketPartitions: number;
  readonly markets: readonly RiskMarket[];
  readonly maxBatchMessages?: number;
  readonly tsPerSecond?: number;
  readonly expiryMarginTs?: number;
  /** Snapshot a shard after this many applied input messages (default 50 000)… */
  readonly snapshotEveryMessages?: number;
  /** …or when this much time passed since its last snapshot (checked per batch; default 60 000). */
  readonly snapshotEveryMs?: number;
  /**
   * Up to this many input partitions in flight at once (default 12). Batches of one shard are still applied
   * and committed one after the other (its journal order is its commit order); different shards overlap
   * their transaction round trips.
   */
  readonly concurrentPartitions?: number;
  /**
   * Create the topics when missing (default true). false where the deployment creates them (kafka-setup) and
   * the risk principal may not (nor describe their configs): only the inputs' partition counts are checked.
   */
  readonly ensureTopics?: boolean;
}

/** What a restore did (tests, logs, metrics). */
export interface ShardRestore {
  readonly shard: number;
  readonly snapshot: { readonly journalSeq: number; readonly journalNext: number } | null;
  readonly replayedEntries: number;
  readonly replayedMessages: number;
  readonly stateHash: string;
}

interface Owned {
  readonly shard: AccountShard;
  readonly producer: Producer;
  /** Write a snapshot with the next batch (none exists yet, or one is due). */
  snapshotDue: boolean;
  messagesSinceSnapshot: number;
  lastSnapshotAtMs: number;
  /** The shard's batches in order: each waits for the previous one's commit. */
  lock: Promise<void>;
  /**
   * Set when a batch failed after the shard applied it but before its commit: the state is then ahead of
   * the log, and every later batch of the shard is refused (a commit now would leave a gap in the journal);
   * the consumer stops and a new owner restores from the log.
   */
  broken?: Error;
}

/** Observer hooks for metrics (the Nest app fills them); all optional. */
export interface RiskShardsObserver {
  batch?(shard: number, source: string, result: ShardResult, lag: number): void;
  snapshot?(shard: number, bytes: number, atMs: number): void;
  snapshotSkippedFor?(shard: number, reason: string): void;
  restored?(report: ShardRestore): void;
  restoreFailed?(shard: number, code: string, error: Error): void;
  dropped?(shard: number): void;
}

export const transactionalIdFor = (groupId: string, shard: number): string => `${groupId}.shard.${shard}`;

export class RiskShards {
  private readonly owned = new Map<number, Owned>();
  private consumer: GroupConsumer | null = null;
  private assignedOnce = false;
  private restoring = false;
  /** Shards assigned to this instance whose restore has not finished (readiness names them). */
  private pending: number[] = [];
  /** Counters for tests and metrics: refusals by code, violations, dead letters. */
  readonly counters = { batches: 0, accepted: 0, rejected: new Map<string, number>(), violations: 0, deadLetters: 0, snapshots: 0 };
  readonly restores: ShardRestore[] = [];

  constructor(
    private readonly config: RiskShardsConfig,
    private readonly transport: Transport,
    private readonly observer: RiskShardsObserver = {},
  ) {}

  /** The shard s, if this instance owns it. */
  shard(s: number): AccountShard | undefined {
    return this.owned.get(s)?.shard;
  }

  ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Ready: joined the group and every shard it was assigned is restored (an instance may own none). */
  get ready(): boolean {
    return this.consumer !== null && this.assignedOnce && !this.restoring;
  }

  /** What readiness reports: the shards owned (restored) and those still being restored. */
  readiness(): { readonly ready: boolean; readonly joined: boolean; readonly owned: number[]; readonly restoring: number[] } {
    return { ready: this.ready, joined: this.consumer !== null && this.assignedOnce, owned: this.ownedShards(), restoring: [...this.pending] };
  }

  async start(): Promise<void> {
    const c = this.config;
    // ensureTopics false (ENSURE_TOPICS, compose and k8s): kafka-setup created the topics, and the risk principal
    // may neither create them nor describe their configs; only the inputs' partition counts are checked below.
    const topics = (c.ensureTopics ?? true) ? this.transport : { ensureTopics: (): Promise<void> => Promise.resolve() };
    await topics.ensureTopics([
      ...RISK_SOURCES.map((s) => ({ name: c.inputs[s], partitions: c.shards })),
      ...riskStateTopicSpecs(c.state, c.shards),
      // The engines' clock: records carry the log's append time, never a writer's (see topicSpecs).
      { name: c.ordersTopic, partitions: c.marketPartitions, logAppendTime: true },
      { name: c.signedOrdersTopic, partitions: c.marketPartitions },
      { name: c.deadLettersTopic, partitions: c.marketPartitions },
      ...(c.resultsTopic === undefined ? [] : [{ name: c.resultsTopic, partitions: c.shards }]),
    ]);
    for (const s of RISK_SOURCES) {
      const n = await this.transport.partitionCount(c.inputs[s]);
      if (n !== c.shards) throw new RangeError(`input topic ${c.inputs[s]} has ${n} partitions, ACCOUNT_SHARDS is ${c.shards}`);
    }
    const consumer = await this.transport.consumer({
      groupId: c.groupId,
      topics: RISK_SOURCES.map((s) => c.inputs[s]),
      fromBeginning: true,
      maxBatchSize: c.maxBatchMessages ?? 500,
      // Several partitions in flight; a shard's three are serialised by its lock (batch()).
      concurrentPartitions: c.concurrentPartitions ?? 12,
      coPartitioned: true,
    });
    this.consumer = consumer;
    await consumer.run({
      onAssigned: (ps) => this.assigned(ps),
      onRevoked: (ps) => this.drop([...new Set(ps.map((p) => p.partition))]),
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
    this.restoring = true;
    const byShard = new Map<number, Set<string>>();
    for (const tp of partitions) {
      let set = byShard.get(tp.partition);
      if (set === undefined) byShard.set(tp.partition, (set = new Set()));
      set.add(tp.topic);
    }
    // Co-partitioned assignment: a shard comes with all three of its inputs or not at all.
    for (const [s, topics] of byShard) {
      if (topics.size !== RISK_SOURCES.length) throw new Error(`shard ${s} assigned with ${[...topics].join(', ')} only: the group is not co-partitioned`);
    }
    const mine = new Set(byShard.keys());
    await this.drop([...this.owned.keys()].filter((p) => !mine.has(p)));
    this.pending = [...mine].filter((p) => !this.owned.has(p)).sort((a, b) => a - b);
    for (const p of [...this.pending]) {
      this.owned.set(p, await this.restoreOrFail(p));
      this.pending = this.pending.filter((q) => q !== p);
    }
    this.assignedOnce = true;
    this.restoring = false;
  }

  private async restoreOrFail(shard: number): Promise<Owned> {
    try {
      return await this.restore(shard);
    } catch (err) {
      if (err instanceof RiskServiceError) this.observer.restoreFailed?.(shard, err.code, err);
      throw err;
    }
  }

  private async restore(shard: number): Promise<Owned> {
    const c = this.config;
    // Fence the previous owner first: after this, the committed offsets, journal and snapshots are final.
    const producer = await this.transport.producer({ transactionalId: transactionalIdFor(c.groupId, shard) });
    try {
      const { shard: restored, report } = await retryTransient(() => restoreShard(this.transport, c, shard));
      this.restores.push(report);
      this.observer.restored?.(report);
      return { shard: restored, producer, snapshotDue: report.snapshot === null, messagesSinceSnapshot: 0, lastSnapshotAtMs: Date.now(), lock: Promise.resolve() };
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw err;
    }
  }

  private async batch(batch: ConsumedBatch): Promise<void> {
    const o = this.owned.get(batch.partition);
    if (o === undefined) throw new Error(`batch for shard ${batch.partition}, which this instance does not own`);
    // A shard applies and commits one batch at a time, whichever of its inputs it comes from.
    const run = o.lock.then(() => {
      if (o.broken !== undefined) throw new Error(`shard ${batch.partition} is ahead of its log after a failed commit: ${o.broken.message}`);
      return this.apply(batch, o);
    });
    o.lock = run.catch((err: unknown) => {
      o.broken ??= err instanceof Error ? err : new Error(String(err));
    });
    await run;
  }

  private async apply(batch: ConsumedBatch, o: Owned): Promise<void> {
    const c = this.config;
    const due = o.snapshotDue || o.messagesSinceSnapshot >= (c.snapshotEveryMessages ?? 50_000) || Date.now() - o.lastSnapshotAtMs >= (c.snapshotEveryMs ?? 60_000);
    // Taken before the batch is applied: the state of every journal entry committed so far. Its journal
    // position is the journal's committed end now (a lower bound of the next entry's offset; entry numbers
    // tell a restore which entries after it the snapshot already holds).
    const snapshot = due ? await this.takeSnapshot(batch.partition, o) : null;
    const r = o.shard.process(batch.messages);
    const source = o.shard.sourceOf(batch.topic);
    if (r.entry === null && snapshot === null) return; // every message a redelivery: nothing to commit
    const journal: OutgoingMessage[] =
      r.entry === null ? [] : [{ key: String(batch.partition), partition: batch.partition, value: encodeJournalEntry({ shard: batch.partition, ...r.entry }) }];
    await o.producer.transaction((tx) => {
      if (r.signedOrders.length > 0) tx.send(c.signedOrdersTopic, r.signedOrders);
      if (r.orders.length > 0) tx.send(c.ordersTopic, r.orders);
      if (c.resultsTopic !== undefined && r.results.length > 0) tx.send(c.resultsTopic, r.results);
      if (r.deadLetters.length > 0) tx.send(c.deadLettersTopic, r.deadLetters.map((d) => ({ ...d, partition: batch.partition % c.marketPartitions })));
      if (snapshot !== null) tx.send(c.state.snapshots, [snapshot]);
      if (journal.length > 0) tx.send(c.state.journal, journal);
      tx.commitOffsets(c.groupId, [{ topic: batch.topic, partition: batch.partition, offset: o.shard.nextOffsets[source] }]);
    });
    if (snapshot !== null) {
      o.snapshotDue = false;
      o.messagesSinceSnapshot = 0;
      o.lastSnapshotAtMs = Date.now();
      this.counters.snapshots++;
      this.observer.snapshot?.(batch.partition, snapshot.value.length, o.lastSnapshotAtMs);
    }
    o.messagesSinceSnapshot += batch.messages.length;
    const k = this.counters;
    k.batches++;
    k.accepted += r.stats.accepted;
    for (const [code, n] of Object.entries(r.stats.rejected)) k.rejected.set(code, (k.rejected.get(code) ?? 0) + n);
    k.violations += r.stats.violations.length;
    k.deadLetters += r.stats.deadLetters;
    this.observer.batch?.(batch.partition, source, r, Math.max(0, batch.highWatermark - o.shard.nextOffsets[source]));
  }

  private async takeSnapshot(shard: number, o: Owned): Promise<OutgoingMessage | null> {
    const c = this.config;
    const s = o.shard.snapshot();
    if (s.state.length > MAX_SHARD_SNAPSHOT_BYTES) {
      // Too big for one record: keep going without (a restore replays further back) and make it visible.
      this.observer.snapshotSkippedFor?.(shard, 'TOO_LARGE');
      o.snapshotDue = false;
      o.messagesSinceSnapshot = 0;
      o.lastSnapshotAtMs = Date.now();
      return null;
    }
    const journalNext = (await this.transport.endOffsets(c.state.journal)).get(shard) ?? 0;
    const value = encodeShardSnapshot({ shard, shards: c.shards, journalSeq: s.journalSeq, journalNext, inputs: s.inputs, stateHash: s.stateHash, state: s.state });
    return { key: shardSnapshotKey(shard), partition: shard, value };
  }

  private async drop(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) {
      const o = this.owned.get(p);
      if (o === undefined) continue;
      this.owned.delete(p);
      this.observer.dropped?.(p);
      await o.producer.close().catch(() => undefined);
    }
  }
}

/**
 * Retries a restore that failed for a reason other than the logs themselves (a broker's metadata still
 * settling on a just-created topic, a lost connection): a RiskServiceError is a verdict and is not retried.
 */
async function retryTransient<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (err instanceof RiskServiceError || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** The AccountShard options of shard `shard` (also what apps/projector replays with). */
export function shardOptions(c: Pick<RiskShardsConfig, 'shards' | 'markets' | 'tsPerSecond' | 'expiryMarginTs' | 'marketPartitions' | 'inputs'>, shard: number): AccountShardOptions {
  return {
    risk: {
      shard,
      shards: c.shards,
      markets: c.markets,
      ...(c.tsPerSecond === undefined ? {} : { tsPerSecond: c.tsPerSecond }),
      ...(c.expiryMarginTs === undefined ? {} : { expiryMarginTs: c.expiryMarginTs }),
    },
    marketPartitions: c.marketPartitions,
    inputs: c.inputs,
  };
}

/** The newest readable snapshot of a shard, null if it has none; an unreadable newest record is refused. */
export async function readShardSnapshot(transport: Transport, c: RiskShardsConfig, shard: number): Promise<ShardSnapshot | null> {
  let latest: ShardSnapshot | null = null;
  let unreadable: string | null = null;
  for await (const chunk of transport.read(c.state.snapshots, shard, 0)) {
    for (const m of chunk) {
      if (m.key !== shardSnapshotKey(shard)) continue;
      try {
        const s = decodeShardSnapshot(m.value);
        if (s.shard !== shard || s.shards !== c.shards) throw new RiskServiceError('INVALID_SNAPSHOT', `snapshot of shard ${s.shard}/${s.shards} in the partition of shard ${shard}/${c.shards}`);
        latest = s;
        unreadable = null;
      } catch (err) {
        if (!(err instanceof RiskServiceError)) throw err;
        unreadable = `offset ${m.offset}: ${err.message}`;
      }
    }
  }
  if (unreadable !== null) throw new RiskServiceError('UNREADABLE_SNAPSHOT', `shard ${shard}: newest snapshot record unreadable (${unreadable})`);
  return latest;
}

/**
 * Rebuilds shard `shard` from the logs: newest snapshot, then every journal entry after it, each replayed by
 * reading its input range. Refuses (RiskServiceError) whatever would make the state inexact.
 */
export async function restoreShard(transport: Transport, c: RiskShardsConfig, shard: number): Promise<{ shard: AccountShard; report: ShardRestore }> {
  const snap = await readShardSnapshot(transport, c, shard);
  const committed = new Map<string, number | undefined>();
  for (const s of RISK_SOURCES) committed.set(s, (await transport.committedOffsets(c.groupId, c.inputs[s])).get(shard));
  const hasCommitted = [...committed.values()].some((v) => v !== undefined);
  // Every shard writes a snapshot in its first transaction: committed input without one means it was lost.
  if (snap === null && hasCommitted) throw new RiskServiceError('MISSING_SNAPSHOT', `shard ${shard}: the group committed input but the shard has no snapshot`);
  const options = shardOptions(c, shard);
  let restored: AccountShard;
  try {
    restored = AccountShard.restore(options, snap);
  } catch (err) {
    throw new RiskServiceError('INVALID_SNAPSHOT', `shard ${shard}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (snap !== null && restored.engine.stateHash() !== snap.stateHash) {
    throw new RiskServiceError('INVALID_SNAPSHOT', `shard ${shard}: snapshot state hashes to ${restored.engine.stateHash()}, recorded ${snap.stateHash}`);
  }
  const journalFrom = snap?.journalNext ?? 0;
  // Log starts are looked up only when the shard has history (a fresh deployment's topics may still be
  // settling in the cluster's metadata).
  if (hasCommitted) {
    const journalStart = (await transport.startOffsets(c.state.journal)).get(shard) ?? 0;
    if (journalFrom < journalStart) throw new RiskServiceError('REPLAY_INPUT_DELETED', `shard ${shard}: the journal must be read from ${journalFrom} but starts at ${journalStart}`);
  }
  let entries = 0;
  let messages = 0;
  const inputStart = new Map<string, number>();
  const startOf = async (source: RiskSource): Promise<number> => {
    let at = inputStart.get(source);
    if (at === undefined) inputStart.set(source, (at = (await transport.startOffsets(c.inputs[source])).get(shard) ?? 0));
    return at;
  };
  for await (const chunk of transport.read(c.state.journal, shard, journalFrom)) {
    for (const m of chunk) {
      const e = decodeJournalEntry(m.value);
      if (e.shard !== shard) throw new RiskServiceError('UNREADABLE_JOURNAL', `shard ${shard}: journal offset ${m.offset} is an entry of shard ${e.shard}`);
      if (e.seq < restored.journalSeq) continue; // in the snapshot already
      if (e.seq !== restored.journalSeq || e.from !== restored.nextOffsets[e.source]) {
        throw new RiskServiceError('JOURNAL_GAP', `shard ${shard}: journal offset ${m.offset} is entry ${e.seq} (${e.source} [${e.from}, ${e.to})), expected entry ${restored.journalSeq} at ${e.source} ${restored.nextOffsets[e.source]}`);
      }
      const start = await startOf(e.source);
      if (e.from < start) throw new RiskServiceError('REPLAY_INPUT_DELETED', `shard ${shard}: ${e.source} input from ${e.from} was deleted (log starts at ${start})`);
      const input = [];
      for await (const part of transport.read(c.inputs[e.source], shard, e.from, e.to)) input.push(...part);
      restored.replayEntry(e, input);
      entries++;
      messages += input.length;
    }
  }
  for (const s of RISK_SOURCES) {
    const at = committed.get(s);
    if (at !== undefined && at > restored.nextOffsets[s]) {
      throw new RiskServiceError('JOURNAL_MISMATCH', `shard ${shard}: ${s} committed up to ${at}, the journal applies up to ${restored.nextOffsets[s]}`);
    }
  }
  const report: ShardRestore = {
    shard,
    snapshot: snap === null ? null : { journalSeq: snap.journalSeq, journalNext: snap.journalNext },
    replayedEntries: entries,
    replayedMessages: messages,
    stateHash: restored.engine.stateHash(),
  };
  return { shard: restored, report };
}

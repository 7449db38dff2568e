import { performance } from 'node:perf_hooks';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ContractError, decodeDeadLetter, decodeMarketSnapshot, type MarketSnapshot } from '@parallax/contracts';
import { MatchingError, PartitionEngine, type ProcessResult } from '@parallax/matching';
import type { Logger } from '@parallax/observability';
import type { ConsumedBatch, OutgoingMessage, Producer, TopicPartition, Transport } from '@parallax/transport';
import { EngineMetrics } from './engine.metrics.js';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { ENGINE_CONFIG, ENGINE_LOGGER, ENGINE_TRANSPORT } from '../config/matching-engine.tokens.js';

/** The state this instance holds for one owned orders partition. */
interface PartitionWorker {
  readonly partition: number;
  readonly engine: PartitionEngine;
  /** Transactional producer whose id is bound to the partition: opening it fenced any previous owner. */
  readonly producer: Producer;
  readonly log: Logger;
  messagesSinceSnapshot: number;
  lastSnapshotAtMs: number;
}

/** What a restore did (logged, and returned for tests and benchmarks). */
export interface RestoreReport {
  readonly partition: number;
  readonly snapshots: number;
  readonly replayFrom: number;
  readonly committed: number | undefined;
  readonly replayed: number;
  readonly seconds: number;
}

/** Transactional id of the producer of one orders partition (see the README: zombie fencing). */
export function transactionalIdFor(groupId: string, ordersTopic: string, partition: number): string {
  return `${groupId}.${ordersTopic}.${partition}`;
}

/**
 * Consume-transform-produce for the partitions this instance owns: each input batch is matched by the
 * partition's PartitionEngine and its outputs, dead letters, (periodic) snapshots and the input offset are
 * committed in ONE transaction. On assignment a partition is restored from its latest snapshots plus a
 * silent replay up to the group's committed offset; on revocation its state is dropped.
 */
@Injectable()
export class MatchingService implements OnApplicationShutdown {
  private readonly workers = new Map<number, PartitionWorker>();
  private readonly restores: RestoreReport[] = [];

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: MatchingEngineConfig,
    @Inject(ENGINE_TRANSPORT) private readonly transport: Transport,
    @Inject(ENGINE_LOGGER) private readonly log: Logger,
    private readonly metrics: EngineMetrics,
  ) {}

  /** Partitions owned now, ascending. */
  ownedPartitions(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  /** Restores performed by this instance, oldest first. */
  restoreReports(): readonly RestoreReport[] {
    return this.restores;
  }

  /**
   * Ready = it has joined the group and restored every orders partition it was assigned (none is a valid
   * answer: a standby with more replicas than partitions). Not ready while a restore runs, after a
   * revocation until the next assignment, and before the first one.
   */
  readiness(): { readonly ready: boolean; readonly owned: readonly number[]; readonly restoring: readonly number[] } {
    const owned = [...this.workers.keys()].sort((a, b) => a - b);
    return { ready: this.joined && this.restoring.length === 0, owned, restoring: this.restoring };
  }

  private joined = false;
  private restoring: number[] = [];

  async assigned(partitions: readonly TopicPartition[]): Promise<void> {
    this.joined = false;
    this.metrics.rebalances.inc();
    const orders = this.config.topics.orders;
    const owned = new Set(partitions.filter((tp) => tp.topic === orders).map((tp) => tp.partition));
    // Anything not in the new assignment is no longer ours (normally revoked already).
    await this.drop([...this.workers.keys()].filter((p) => !owned.has(p)));
    const fresh = [...owned].filter((p) => !this.workers.has(p)).sort((a, b) => a - b);
    this.log.info({ owned: [...owned].sort((a, b) => a - b), restoring: fresh }, 'partitions assigned');
    this.restoring = [...fresh];
    for (const p of fresh) {
      this.workers.set(p, await this.restoreOrFail(p));
      this.restoring = this.restoring.filter((r) => r !== p);
    }
    this.metrics.partitionsOwned.set(this.workers.size);
    this.joined = true;
  }

  async revoked(partitions: readonly TopicPartition[]): Promise<void> {
    const orders = this.config.topics.orders;
    const lost = partitions.filter((tp) => tp.topic === orders).map((tp) => tp.partition);
    this.log.info({ revoked: lost }, 'partitions revoked');
    // A rebalance is under way: the next assignment says what this instance owns.
    this.joined = false;
    await this.drop(lost);
    this.metrics.partitionsOwned.set(this.workers.size);
  }

  /** One input batch -> one transaction. Throws (stopping the consumer) if the transaction cannot commit. */
  async batch(batch: ConsumedBatch): Promise<void> {
    const w = this.workers.get(batch.partition);
    if (w === undefined) throw new Error(`batch for partition ${batch.partition}, which this instance does not own`);
    const p = String(batch.partition);
    const t0 = performance.now();
    const result = w.engine.process(batch.messages);
    const t1 = performance.now();
    this.metrics.matchLatency.observe((t1 - t0) / 1000);

    w.messagesSinceSnapshot += batch.messages.length;
    const nowMs = Date.now();
    const snapshots =
      w.messagesSinceSnapshot >= this.config.snapshotEveryMessages || nowMs - w.lastSnapshotAtMs >= this.config.snapshotEveryMs
        ? this.takeSnapshot(w)
        : [];
    const next = w.engine.nextOffset;
    const { topics, groupId } = this.config;

    await w.producer.transaction((tx) => {
      if (result.outputs.length > 0) tx.send(topics.marketEvents, result.outputs);
      if (result.deadLetters.length > 0) tx.send(topics.deadLetters, result.deadLetters);
      // Account events ride in the same transaction: the risk shards see a fill exactly when the market does.
      if (result.accountEvents.length > 0 && this.config.accountEvents !== undefined) tx.send(this.config.accountEvents.topic, result.accountEvents);
      if (snapshots.length > 0) tx.send(topics.snapshots, snapshots);
      tx.commitOffsets(groupId, [{ topic: topics.orders, partition: batch.partition, offset: next }]);
    });

    const committedMs = Date.now();
    this.metrics.transactionLatency.observe((performance.now() - t1) / 1000);
    if (snapshots.length > 0) {
      w.messagesSinceSnapshot = 0;
      w.lastSnapshotAtMs = committedMs;
      this.metrics.snapshotTaken(batch.partition, committedMs);
      this.metrics.snapshots.inc({ partition: p });
      this.metrics.snapshotBytes.observe(snapshots.reduce((n, s) => n + s.value.length, 0));
    }
    this.record(w, result, batch, committedMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.drop([...this.workers.keys()]);
  }

  private record(w: PartitionWorker, result: ProcessResult, batch: ConsumedBatch, committedMs: number): void {
    const p = String(w.partition);
    const m = this.metrics;
    const s = result.stats;
    m.inputMessages.inc({ partition: p }, s.messages);
    if (s.duplicates > 0) m.duplicates.inc({ partition: p }, s.duplicates);
    m.eventBatches.inc({ partition: p }, result.outputs.length);
    for (const a of s.applied) {
      const market = String(a.marketId);
      m.commands.inc({ partition: p, market }, a.commands);
      if (a.events > 0) m.events.inc({ partition: p, market }, a.events);
      // sentAtMs 0 = producer did not stamp it; a clock behind ours would give a negative latency.
      if (a.sentAtMs > 0 && committedMs >= a.sentAtMs) m.endToEndLatency.observe((committedMs - a.sentAtMs) / 1000);
    }
    for (const d of result.deadLetters) {
      const { reason, offset, detail } = decodeDeadLetter(d.value);
      m.deadLetters.inc({ partition: p, reason });
      w.log.warn({ offset, reason, detail }, 'input message dead-lettered');
    }
    m.consumerLag.set({ partition: p }, Math.max(0, batch.highWatermark - w.engine.nextOffset));
  }

  /** Snapshot messages of every market of the partition, or none if one cannot be encoded (logged). */
  private takeSnapshot(w: PartitionWorker): OutgoingMessage[] {
    try {
      return w.engine.snapshot();
    } catch (err) {
      // A book whose snapshot exceeds the message limit must not stop matching: keep going without one
      // (recovery then replays further back) and make it visible.
      if (!(err instanceof ContractError)) throw err;
      this.metrics.snapshotFailures.inc({ partition: String(w.partition) });
      w.log.error({ err }, 'snapshot skipped');
      w.messagesSinceSnapshot = 0;
      w.lastSnapshotAtMs = Date.now();
      return [];
    }
  }

  /**
   * A restore that cannot be exact fails loudly: counted, logged, and thrown, which stops the consumer (and
   * the process) rather than serve the partition from partial state. The partition then moves to another
   * member, which refuses it the same way until an operator repairs the snapshots or the log.
   */
  private async restoreOrFail(partition: number): Promise<PartitionWorker> {
    try {
      return await this.restore(partition);
    } catch (err) {
      if (err instanceof MatchingError) {
        this.metrics.restoreFailures.inc({ partition: String(partition), reason: err.code });
        this.log.fatal({ err, partition, reason: err.code }, 'partition restore refused: its state would be partial');
      }
      throw err;
    }
  }

  private async restore(partition: number): Promise<PartitionWorker> {
    const t0 = performance.now();
    const { topics, groupId } = this.config;
    const log = this.log.child({ partition });
    // Open (and thereby fence) the partition's transactional producer FIRST: once a previous owner can no
    // longer commit, the committed offset and snapshots read below are final.
    const producer = await this.transport.producer({ transactionalId: transactionalIdFor(groupId, topics.orders, partition) });
    try {
      const { snapshots, lastAtMs } = await this.readSnapshots(partition, log);
      const committed = (await this.transport.committedOffsets(groupId, topics.orders)).get(partition);
      const accountShards = this.config.accountEvents?.shards;
      const engine = new PartitionEngine({
        partition,
        partitions: this.config.partitions,
        catalogue: this.config.catalogue,
        ...(accountShards === undefined ? {} : { accountShards }),
      });
      const { replayFrom } = engine.restore(snapshots);
      // Kafka (and the embedded log) silently start a read below the log start at the log start: check first.
      const start = (await this.transport.startOffsets(topics.orders)).get(partition) ?? 0;
      // Without a commit the consumer starts at the log start too, so snapshots alone also need their input.
      const replays = committed === undefined ? snapshots.length > 0 : committed > replayFrom;
      if (replays && replayFrom < start) {
        throw new MatchingError(
          'REPLAY_INPUT_DELETED',
          `partition ${partition}: replay must start at offset ${replayFrom} (snapshot) but the orders log starts at ${start} (retention deleted the input)`,
        );
      }
      if (committed !== undefined && committed < start) {
        throw new MatchingError('REPLAY_INPUT_DELETED', `partition ${partition}: input from the committed offset ${committed} to ${start} was deleted before it was matched`);
      }
      let replayed = 0;
      if (committed !== undefined && committed > replayFrom) {
        for await (const chunk of this.transport.read(topics.orders, partition, replayFrom, committed)) {
          engine.replay(chunk);
          replayed += chunk.length;
        }
      } else if (committed !== undefined && committed < replayFrom) {
        // Offsets were reset behind the snapshot (operator action): input below it is skipped, not re-emitted.
        log.warn({ committed, replayFrom }, 'committed offset is behind the snapshot; older input will be skipped');
      }
      const seconds = (performance.now() - t0) / 1000;
      const report: RestoreReport = { partition, snapshots: snapshots.length, replayFrom, committed, replayed, seconds };
      this.restores.push(report);
      this.metrics.restoreSeconds.observe(seconds);
      this.metrics.replayedMessages.inc({ partition: String(partition) }, replayed);
      const at = lastAtMs ?? Date.now();
      this.metrics.snapshotTaken(partition, at);
      log.info({ ...report, markets: engine.marketIds().length }, 'partition restored');
      return { partition, engine, producer, log, messagesSinceSnapshot: 0, lastSnapshotAtMs: at };
    } catch (err) {
      await producer.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Latest snapshot per market of one snapshots partition (compacted, so usually one each). A record that
   * cannot be read, or belongs to another partition, is harmless only if a later readable record of the same
   * key replaced it; otherwise its market's state is unknown and the restore is refused.
   */
  private async readSnapshots(partition: number, log: Logger): Promise<{ snapshots: MarketSnapshot[]; lastAtMs: number | undefined }> {
    const latest = new Map<number, MarketSnapshot>();
    const unreadable = new Map<string | null, string>();
    let lastAtMs: number | undefined;
    for await (const chunk of this.transport.read(this.config.topics.snapshots, partition, 0)) {
      for (const m of chunk) {
        let s: MarketSnapshot;
        try {
          s = decodeMarketSnapshot(m.value);
          if (s.inputPartition !== partition) throw new Error(`snapshot of input partition ${s.inputPartition}`);
        } catch (err) {
          log.error({ err, offset: m.offset, key: m.key }, 'unreadable snapshot record');
          unreadable.set(m.key, `offset ${m.offset}: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        unreadable.delete(m.key);
        latest.set(s.marketId, s);
        lastAtMs = m.timestamp;
      }
    }
    if (unreadable.size > 0) {
      const which = [...unreadable].map(([key, why]) => `key ${String(key)} (${why})`).join('; ');
      throw new MatchingError('UNREADABLE_SNAPSHOT', `partition ${partition}: latest snapshot record unreadable: ${which}`);
    }
    return { snapshots: [...latest.values()], lastAtMs };
  }

  private async drop(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) {
      const w = this.workers.get(p);
      if (w === undefined) continue;
      this.workers.delete(p);
      this.metrics.partitionDropped(p);
      await w.producer.close().catch((err: unknown) => {
        w.log.warn({ err }, 'closing the partition producer failed');
      });
      w.log.info('partition dropped');
    }
  }
}

// Consumes the risk journal (partition s = account shard s) in a consumer group of its own, so several
// projector instances split the shards. On assignment each shard's projection is restored from its database
// row (engine state + journal and input positions, written with the rows); each journal batch is replayed
// against the inputs it names (read outside any group: Transport.read) and its rows and new position commit
// in one transaction. The engine snapshot is stored with them every `snapshotEveryEntries` entries (a snapshot
// costs more than the rows of a batch); a restore starts from it and replays the journal up to the row's
// position without writing. The database row is the position: the group's offset follows in the log in the
// background (ProjectionConsumer) only so that a restart does not re-read the whole journal (entries below the row
// are skipped on redelivery).
import { DEFAULT_ORDERS_RETENTION_MS, riskTopicSpecs, type RiskStateTopicNames, type RiskTopicNames } from '@parallax/contracts';
import { ConfigError } from '@parallax/observability';
import type { RiskMarket } from '@parallax/risk';
import { shardOptions, type RiskSource, type SourceOffsets } from '@parallax/risk-service';
import { TransportError, type ConsumedBatch, type ConsumedMessage, type TopicPartition, type Transport } from '@parallax/transport';
import { ProjectionConsumer } from '../app/projection-consumer.js';
import type { ProjectionStore } from '../store/projection.store.js';
import { ProjectorError, type ProjectorErrorCode } from './projector.errors.js';
import { ShardProjection, type ProjectionStep } from './shard-projection.js';

export interface ProjectorConfig {
  readonly groupId: string;
  readonly inputs: RiskTopicNames;
  readonly journal: RiskStateTopicNames['journal'];
  readonly shards: number;
  readonly marketPartitions: number;
  readonly markets: readonly RiskMarket[];
  readonly expiryMarginTs?: number;
  readonly tsPerSecond?: number;
  readonly maxBatchMessages?: number;
  /** Store the engine snapshot every this many journal entries (default 1,000). */
  readonly snapshotEveryEntries?: number;
  /** How often the group's offsets are committed to the log (default 1,000 ms). */
  readonly offsetCommitIntervalMs?: number;
}

export interface ProjectorObserver {
  committed?(shard: number, step: ProjectionStep, rows: { balances: number; transfers: number }, highWatermark: number): void;
  restored?(shard: number, position: { journalNext: number; journalSeq: number; stateHash: string } | null): void;
  halted?(shard: number, code: ProjectorErrorCode, err: ProjectorError): void;
  offsetCommitFailed?(err: unknown): void;
}

export interface ShardStatus {
  readonly shard: number;
  readonly journalNext: number;
  readonly journalSeq: number;
  /** Per input source, the first offset not yet projected. */
  readonly inputs: SourceOffsets;
  readonly stateHash: string;
  /** Journal entries appended and not yet projected (at the last batch seen). */
  readonly lag: number;
  readonly halted: ProjectorErrorCode | null;
}

export class Projector {
  private readonly loop: ProjectionConsumer;
  /** Journal entries applied since the stored snapshot, per shard. */
  private readonly sinceSnapshot = new Map<number, number>();
  private readonly projections = new Map<number, ShardProjection>();
  private readonly stored = new Map<number, number | null>();
  private readonly lags = new Map<number, number>();
  private readonly halts = new Map<number, ProjectorError>();

  constructor(
    private readonly config: ProjectorConfig,
    private readonly transport: Transport,
    private readonly store: ProjectionStore,
    private readonly observer: ProjectorObserver = {},
  ) {
    this.loop = new ProjectionConsumer(
      { ...config, topics: [config.journal] },
      transport,
      {
        assigned: (parts) => this.assign(parts),
        revoked: (parts) => {
          for (const p of parts) this.drop(p.partition);
        },
        batch: (batch) => this.batch(batch),
      },
      (err) => this.observer.offsetCommitFailed?.(err),
    );
  }

  async start(): Promise<void> {
    const c = this.config;
    // The topics as the risk shards declare them (whichever service starts first creates them), and the
    // shard count they were made with: a projection of S shards over a journal of another count is wrong.
    try {
      await this.transport.ensureTopics([...riskTopicSpecs(c.inputs, c.shards), { name: c.journal, partitions: c.shards, retentionMs: DEFAULT_ORDERS_RETENTION_MS }]);
    } catch (err) {
      if (err instanceof TransportError && err.code === 'TOPIC_EXISTS_WITH_OTHER_PARTITIONS') throw new ConfigError([`ACCOUNT_SHARDS: ${err.message}`]);
      throw err;
    }
    for (const topic of [c.journal, c.inputs.requests, c.inputs.chainEvents, c.inputs.accountEvents]) {
      const n = await this.transport.partitionCount(topic);
      if (n !== c.shards) throw new ConfigError([`ACCOUNT_SHARDS: ${c.shards}, but topic ${topic} has ${n} partitions`]);
    }
    await this.loop.start();
  }

  get stopped(): Promise<void> {
    return this.loop.stopped;
  }

  /** Every owned shard restored from its row (true also while a shard is halted: /ready reports halts apart). */
  ready(): boolean {
    return this.loop.ready();
  }

  halted(): ReadonlyMap<number, ProjectorError> {
    return this.halts;
  }

  status(): ShardStatus[] {
    return [...this.projections.entries()]
      .sort(([a], [b]) => a - b)
      .map(([shard, p]) => ({ shard, ...p.position, stateHash: p.stateHash, lag: this.lags.get(shard) ?? 0, halted: this.halts.get(shard)?.code ?? null }));
  }

  close(): Promise<void> {
    return this.loop.close();
  }

  private async assign(parts: readonly TopicPartition[]): Promise<void> {
    for (const p of parts) if (!this.projections.has(p.partition)) await this.restore(p.partition);
  }

  private drop(shard: number): void {
    this.projections.delete(shard);
    this.stored.delete(shard);
    this.lags.delete(shard);
    this.halts.delete(shard);
    this.sinceSnapshot.delete(shard);
  }

  private async restore(shard: number): Promise<void> {
    // The shard's own engine configuration, built as apps/risk builds it: the replay is only exact with the same.
    const options = shardOptions(this.config, shard);
    const row = await this.store.load(shard);
    let projection: ShardProjection;
    try {
      if (row !== null && row.shards !== this.config.shards) throw new RangeError(`the row was written for ${row.shards} shards, this projector has ${this.config.shards}`);
      projection = new ShardProjection(shard, options, row === null ? undefined : { ...row.snapshot, state: row.state });
      if (row !== null && projection.stateHash !== row.stateHash) throw new RangeError(`the stored state hashes to ${projection.stateHash}, recorded ${row.stateHash}`);
    } catch (err) {
      const e = new ProjectorError('PROJECTION_CONFIG_MISMATCH', `shard ${shard}: ${err instanceof Error ? err.message : String(err)}`);
      this.halt(shard, e);
      throw e;
    }
    if (row !== null && row.snapshot.journalNext < row.journalNext) {
      // The rows are ahead of the snapshot: replay the entries between (their rows are already written).
      try {
        for await (const chunk of this.transport.read(this.config.journal, shard, row.snapshot.journalNext, row.journalNext)) {
          await projection.apply(chunk, (source, from, to) => this.readInput(source, shard, from, to));
        }
        const at = projection.position;
        if (at.journalNext !== row.journalNext || at.journalSeq !== row.journalSeq || JSON.stringify(at.inputs) !== JSON.stringify(row.inputs)) {
          throw new ProjectorError('JOURNAL_GAP', `shard ${shard}: the replay from the snapshot ended at ${JSON.stringify(at)}, the rows are at ${row.journalNext}`);
        }
      } catch (err) {
        if (!(err instanceof ProjectorError)) throw err;
        this.halt(shard, err);
        throw err;
      }
      this.sinceSnapshot.set(shard, row.journalSeq - row.snapshot.journalSeq);
    }
    this.projections.set(shard, projection);
    this.stored.set(shard, row === null ? null : row.journalNext);
    this.observer.restored?.(shard, row === null ? null : { journalNext: row.journalNext, journalSeq: row.journalSeq, stateHash: row.stateHash });
  }

  private async batch(batch: ConsumedBatch): Promise<number | undefined> {
    const shard = batch.partition;
    const projection = this.projections.get(shard);
    if (projection === undefined || this.halts.has(shard)) return undefined;
    let step: ProjectionStep;
    try {
      step = await projection.apply(batch.messages, (source, from, to) => this.readInput(source, shard, from, to));
    } catch (err) {
      if (!(err instanceof ProjectorError)) throw err;
      // The shard stops here (rows at the last good entry); the others keep flowing.
      this.halt(shard, err);
      return undefined;
    }
    this.lags.set(shard, Math.max(0, batch.highWatermark - step.journalNext));
    if (step.entries === 0) return undefined;
    // A failed commit leaves the in-memory projection ahead of the database: stop (a restart resumes from the row).
    const from = this.stored.get(shard) ?? null;
    const since = (this.sinceSnapshot.get(shard) ?? 0) + step.entries;
    const snapshot = from === null || since >= (this.config.snapshotEveryEntries ?? 1_000);
    const rows = await this.store.commit(shard, this.config.shards, from, step, snapshot ? { bytes: projection.snapshot(), hash: projection.stateHash } : undefined);
    this.sinceSnapshot.set(shard, snapshot ? 0 : since);
    this.stored.set(shard, step.journalNext);
    this.observer.committed?.(shard, step, rows, batch.highWatermark);
    return step.journalNext;
  }

  private halt(shard: number, err: ProjectorError): void {
    this.halts.set(shard, err);
    this.observer.halted?.(shard, err.code, err);
  }

  private async readInput(source: RiskSource, shard: number, from: number, to: number): Promise<ConsumedMessage[]> {
    const out: ConsumedMessage[] = [];
    for await (const chunk of this.transport.read(this.config.inputs[source], shard, from, to)) out.push(...chunk);
    return out;
  }
}

// The consume loop every projection of this app runs: a consumer group of its own reading its topics from the
// beginning, each batch handed to the projection, which commits the batch's rows and the partition's next offset
// in ONE database transaction (the database row is the position). The group's offset follows in the log in the
// background (OffsetCommitter, about once an interval, never ahead of the rows: a crash in between redelivers
// batches the projection recognises below its stored position), so a restart does not re-read everything.
import { randomUUID } from 'node:crypto';
import type { ConsumedBatch, GroupConsumer, Producer, TopicPartition, Transport } from '@parallax/transport';
import { OffsetCommitter } from './offset-committer.js';

export interface ProjectionConsumerConfig {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly maxBatchMessages?: number;
  /** How often the group's offsets are committed to the log (default 1,000 ms). */
  readonly offsetCommitIntervalMs?: number;
}

/** What a projection does with its partitions; the loop does the rest. */
export interface ProjectionHandler {
  /** Partitions handed to this member: load what the database holds for them (not ready until it resolves). */
  assigned(parts: readonly TopicPartition[]): Promise<void>;
  /** Partitions taken away (another member projects them from now on). */
  revoked?(parts: readonly TopicPartition[]): void;
  /**
   * Projects one batch of one partition and commits its rows with the partition's next offset (one database
   * transaction). Returns that offset for the group's background commit, or undefined when nothing of the
   * partition is committed. Throwing stops the consumer.
   */
  batch(batch: ConsumedBatch): Promise<number | undefined>;
}

export class ProjectionConsumer {
  private consumer: GroupConsumer | undefined;
  private producer: Producer | undefined;
  private committer: OffsetCommitter | undefined;
  private assigned = false;
  private stoppedPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: ProjectionConsumerConfig,
    private readonly transport: Transport,
    private readonly handler: ProjectionHandler,
    /** A failed offset commit only lengthens the re-read after a restart: reported, not fatal. */
    private readonly offsetCommitFailed: (err: unknown) => void = () => undefined,
  ) {}

  /** Joins the group and starts consuming (the topics must exist). */
  async start(): Promise<void> {
    const c = this.config;
    // Only offsets go through it (no fencing rests on it: the database position does that), so the id is per process.
    this.producer = await this.transport.producer({ transactionalId: `${c.groupId}.offsets.${randomUUID()}` });
    this.committer = new OffsetCommitter(this.producer, c.groupId, c.offsetCommitIntervalMs ?? 1_000, this.offsetCommitFailed);
    const consumer = await this.transport.consumer({
      groupId: c.groupId,
      topics: c.topics,
      fromBeginning: true,
      ...(c.maxBatchMessages === undefined ? {} : { maxBatchSize: c.maxBatchMessages }),
    });
    this.consumer = consumer;
    await consumer.run({
      onAssigned: async (parts) => {
        this.assigned = false;
        await this.handler.assigned(parts);
        this.assigned = true;
      },
      // Only when the projection keeps per-partition state (a revoke costs a round trip on some transports).
      ...(this.handler.revoked === undefined
        ? {}
        : {
            onRevoked: (parts: readonly TopicPartition[]) => {
              this.handler.revoked?.(parts);
              return Promise.resolve();
            },
          }),
      eachBatch: async (batch) => {
        const next = await this.handler.batch(batch);
        if (next !== undefined) this.committer?.note(batch.topic, batch.partition, next);
      },
    });
    this.stoppedPromise = consumer.stopped;
  }

  /** Settles when the consumer stops (rejects with what stopped it). */
  get stopped(): Promise<void> {
    return this.stoppedPromise;
  }

  /** The assigned partitions are loaded. */
  ready(): boolean {
    return this.assigned;
  }

  async close(): Promise<void> {
    await this.consumer?.close();
    await this.committer?.close();
    const p = this.producer;
    this.producer = undefined;
    await p?.close();
  }
}

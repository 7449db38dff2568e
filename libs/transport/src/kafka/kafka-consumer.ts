import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { ConsumerHandlers, GroupConsumer, TopicPartition } from '../transport.js';
import { coPartitionAssigner } from './co-partition-assigner.js';
import { fromKafkaMessage } from './kafka-util.js';

export interface KafkaConsumerSettings {
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxWaitTimeMs: number;
  readonly maxBytesPerPartition: number;
}

export interface KafkaConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly maxBatchSize: number;
  readonly concurrentPartitions: number;
  readonly coPartitioned: boolean;
}

type State = 'new' | 'running' | 'closing' | 'closed' | 'failed';

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/**
 * A group member on kafkajs, with the contract's semantics:
 * - never commits: autoCommit is off, and kafkajs then never commits (offsets move only through
 *   transactions). After every rejoin kafkajs restarts each partition at its committed offset.
 * - onAssigned / onRevoked: kafkajs has neither; both are derived from consecutive GROUP_JOIN events (and
 *   close). They run in order on a chain that every eachBatch waits for, so onAssigned completes before any
 *   batch of the new generation. kafkajs rejoins only after the in-flight batch returned, so a partition is
 *   never delivered by two members at once; but onRevoked for partitions that moved runs when this member
 *   learns the new assignment, which may be after the new owner's onAssigned. On close, onRevoked runs
 *   before the member leaves the group.
 * - a fetch larger than maxBatchSize is handed over in slices of at most maxBatchSize messages.
 * - heartbeats continue while a handler runs (long restores, slow batches).
 * - a handler that throws stops the member: it leaves the group and `stopped` rejects with that error.
 */
export class KafkaGroupConsumer implements GroupConsumer {
  readonly stopped: Promise<void>;
  private state: State = 'new';
  private handlers: ConsumerHandlers | undefined;
  private readonly consumer: Consumer;
  private owned: TopicPartition[] = [];
  private gate: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private shutdownDone: Promise<void> | undefined;
  private resolveStopped!: () => void;
  private rejectStopped!: (error: unknown) => void;

  constructor(
    kafka: Kafka,
    private readonly options: KafkaConsumerOptions,
    private readonly settings: KafkaConsumerSettings,
    private readonly onFinished: (c: KafkaGroupConsumer) => void,
  ) {
    this.stopped = new Promise<void>((resolve, reject) => {
      this.resolveStopped = resolve;
      this.rejectStopped = reject;
    });
    this.stopped.catch(() => undefined);
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      maxBytesPerPartition: settings.maxBytesPerPartition,
      readUncommitted: false,
      ...(options.coPartitioned ? { partitionAssigners: [coPartitionAssigner] } : {}),
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer (lost broker...) unless this says no; a member that failed or
      // is closing must stay down.
      retry: { restartOnFailure: () => Promise.resolve(this.state === 'running') },
    });
  }

  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.state !== 'new') throw new Error(`consumer of group ${this.options.groupId} was already started`);
    this.handlers = handlers;
    this.state = 'running';
    const c = this.consumer;
    c.on(c.events.GROUP_JOIN, (event) => {
      this.onJoin(event.payload.memberAssignment);
    });
    c.on(c.events.CRASH, (event) => {
      this.onCrash(event.payload.error, event.payload.restart);
    });
    try {
      await c.connect();
      await c.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        // kafkajs never hands two batches of one partition out at once, and rejoins only after all returned.
        partitionsConsumedConcurrently: this.options.concurrentPartitions,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'closed';
      this.resolveStopped();
      this.onFinished(this);
      return;
    }
    if (this.state !== 'running') {
      await this.shutdown();
      return;
    }
    this.state = 'closing';
    await Promise.allSettled([...this.inFlight]);
    await this.gate;
    const owned = this.owned;
    this.owned = [];
    if (owned.length > 0) {
      try {
        await this.handlers?.onRevoked?.(owned);
      } catch (error) {
        this.fail(error);
      }
    }
    await this.shutdown();
    // onRevoked may have failed the member meanwhile.
    if (this.current() === 'closing') {
      this.state = 'closed';
      this.resolveStopped();
    }
  }

  /** The state, read without the narrowing TypeScript applies across awaits. */
  private current(): State {
    return this.state;
  }

  private onJoin(assignment: Record<string, number[]>): void {
    const next: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of [...partitions].sort((a, b) => a - b)) next.push({ topic, partition });
    }
    this.gate = this.gate
      .then(async () => {
        if (this.state !== 'running') return;
        const keep = new Set(next.map(key));
        const lost = this.owned.filter((tp) => !keep.has(key(tp)));
        this.owned = next;
        if (lost.length > 0) await this.handlers?.onRevoked?.(lost);
        await this.handlers?.onAssigned?.(next);
      })
      .catch((error: unknown) => {
        this.fail(error);
      });
  }

  private onCrash(error: Error, restart: boolean): void {
    if (restart) {
      // kafkajs left the group and will join again: everything owned is gone until the next GROUP_JOIN.
      this.gate = this.gate
        .then(async () => {
          const lost = this.owned;
          this.owned = [];
          if (lost.length > 0 && this.state === 'running') await this.handlers?.onRevoked?.(lost);
        })
        .catch((e: unknown) => {
          this.fail(e);
        });
      return;
    }
    this.fail(error);
  }

  private onBatch(payload: EachBatchPayload): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    const work = this.deliver(payload);
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  private async deliver(payload: EachBatchPayload): Promise<void> {
    const heartbeat = setInterval(() => {
      // A rebalance in progress shows up here too; kafkajs acts on it after the batch.
      payload.heartbeat().catch(() => undefined);
    }, this.settings.heartbeatIntervalMs);
    try {
      await this.gate;
      const { batch } = payload;
      if (this.state !== 'running' || batch.messages.length === 0) return;
      const messages = batch.messages.map((m) => fromKafkaMessage(batch.topic, batch.partition, m));
      const highWatermark = Number(batch.highWatermark);
      const max = this.options.maxBatchSize;
      for (let i = 0; i < messages.length; i += max) {
        // A failure or close() may come between slices.
        if (this.current() !== 'running') return;
        await this.handlers!.eachBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages: i === 0 && messages.length <= max ? messages : messages.slice(i, i + max),
          highWatermark,
        });
      }
    } catch (error) {
      // Returning (not throwing) keeps kafkajs quiet; the member is stopping and never commits anyway.
      this.fail(error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private fail(error: unknown): void {
    if (this.state !== 'running' && this.state !== 'closing') return;
    this.state = 'failed';
    this.rejectStopped(error);
    // Not awaited: a failing eachBatch must return before kafkajs can stop.
    void this.shutdown();
  }

  private shutdown(): Promise<void> {
    this.shutdownDone ??= (async () => {
      try {
        await this.consumer.disconnect();
      } catch {
        // Leaving is best effort: the session timeout removes a member that could not say goodbye.
      } finally {
        this.onFinished(this);
      }
    })();
    return this.shutdownDone;
  }
}

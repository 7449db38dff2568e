import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { ConsumedBatch, ConsumerHandlers, GroupConsumer, TopicPartition } from '../transport.js';
import { coPartitionedPlan } from '../co-partition.js';
import type { EmbeddedLog } from './embedded-log.js';
import type { PartitionLog } from './partition-log.js';

export interface MemberOptions {
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly maxBatchSize: number;
  readonly coPartitioned?: boolean;
}

/**
 * A delivery loop that always finds data never awaits a macrotask; it yields to the event loop after this
 * long so timers, I/O and MessagePort traffic keep flowing under sustained load.
 */
const YIELD_AFTER_MS = 4;

/**
 * Membership, assignment and committed offsets of one consumer group. Rebalances are serialised: each one
 * (1) pauses every member and waits for its in-flight eachBatch, (2) calls onRevoked on the members that
 * lose partitions (a leaving member loses all of them), (3) starts a new generation: positions reset to the
 * committed offsets (as kafkajs does after every rejoin), onAssigned on every remaining member, then
 * delivery resumes. So a partition is never delivered by two members at once, and a partition is revoked
 * from its old owner before its new owner hears of it.
 */
export class ConsumerGroupCoordinator {
  private readonly members: EmbeddedGroupConsumer[] = [];
  private readonly committed = new Map<string, Map<number, number>>();
  private chain: Promise<void> = Promise.resolve();
  private generationId = 0;

  constructor(
    readonly groupId: string,
    private readonly log: EmbeddedLog,
  ) {}

  get generation(): number {
    return this.generationId;
  }

  commitOffset(topic: string, partition: number, offset: number): void {
    let byPartition = this.committed.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.committed.set(topic, byPartition);
    }
    byPartition.set(partition, offset);
  }

  committedOffsets(topic: string): Map<number, number> {
    return new Map(this.committed.get(topic) ?? []);
  }

  committedOffset(topic: string, partition: number): number | undefined {
    return this.committed.get(topic)?.get(partition);
  }

  /** True if the group has committed offsets on the topic or a member subscribed to it. */
  reads(topic: string): boolean {
    return this.committed.has(topic) || this.members.some((m) => m.options.topics.includes(topic));
  }

  join(member: EmbeddedGroupConsumer): Promise<void> {
    return this.enqueue(async () => {
      this.members.push(member);
      await this.rebalance([]);
    });
  }

  leave(member: EmbeddedGroupConsumer): Promise<void> {
    return this.enqueue(async () => {
      const i = this.members.indexOf(member);
      if (i < 0) return;
      this.members.splice(i, 1);
      await this.rebalance([member]);
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async rebalance(departing: readonly EmbeddedGroupConsumer[]): Promise<void> {
    const members = this.members.slice();
    const plan = this.plan(members);
    await Promise.all([...members, ...departing].map((m) => m.quiesce()));
    await Promise.all([
      ...members.map((m) => m.revokeAllBut(plan.get(m) ?? [])),
      ...departing.map((m) => m.revokeAllBut([])),
    ]);
    this.generationId++;
    await Promise.all(members.map((m) => m.assign(plan.get(m) ?? [])));
  }

  /**
   * Round-robin over the topic-partitions in (topic, partition) order, among the members subscribed to each
   * topic; co-partitioned (members asked for it) as Kafka's co-partitioning assignor does it.
   */
  private plan(members: readonly EmbeddedGroupConsumer[]): Map<EmbeddedGroupConsumer, TopicPartition[]> {
    if (members.length > 0 && members.every((m) => m.options.coPartitioned === true)) {
      const topics = [...new Set(members.flatMap((m) => m.options.topics))];
      // Members join in order; Kafka sorts member ids, which are random: either way a stable order.
      return coPartitionedPlan(members, topics.map((topic) => ({ topic, partitions: this.log.topic(topic).partitions.length })));
    }
    const plan = new Map<EmbeddedGroupConsumer, TopicPartition[]>(members.map((m) => [m, []]));
    const topics = [...new Set(members.flatMap((m) => m.options.topics))].sort();
    const next = new Map<string, number>();
    for (const topic of topics) {
      const subscribed = members.filter((m) => m.options.topics.includes(topic));
      const count = this.log.topic(topic).partitions.length;
      for (let partition = 0; partition < count; partition++) {
        const turn = next.get(topic) ?? 0;
        next.set(topic, turn + 1);
        plan.get(subscribed[turn % subscribed.length]!)!.push({ topic, partition });
      }
    }
    return plan;
  }
}

interface Cursor {
  readonly topic: string;
  readonly partition: number;
  readonly log: PartitionLog;
  position: number;
}

type MemberState = 'new' | 'running' | 'closing' | 'closed' | 'failed';

/** One member of a consumer group in the embedded log, with its own delivery loop. */
export class EmbeddedGroupConsumer implements GroupConsumer {
  readonly stopped: Promise<void>;
  private state: MemberState = 'new';
  private handlers: ConsumerHandlers | undefined;
  private cursors: Cursor[] = [];
  private roundRobin = 0;
  private paused = true;
  private inFlight = false;
  private idleWaiters: (() => void)[] = [];
  private waiter: (() => void) | null = null;
  private signaled = false;
  private resolveStopped!: () => void;
  private rejectStopped!: (error: unknown) => void;
  private readonly wake = (): void => {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w();
    } else {
      this.signaled = true;
    }
  };

  constructor(
    private readonly group: ConsumerGroupCoordinator,
    private readonly log: EmbeddedLog,
    readonly options: MemberOptions,
    private readonly onFinished: (member: EmbeddedGroupConsumer) => void,
  ) {
    this.stopped = new Promise<void>((resolve, reject) => {
      this.resolveStopped = resolve;
      this.rejectStopped = reject;
    });
    // Callers that never look at `stopped` must not get an unhandled rejection.
    this.stopped.catch(() => undefined);
  }

  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.state !== 'new') throw new Error(`consumer of group ${this.group.groupId} was already started`);
    this.handlers = handlers;
    this.state = 'running';
    void this.loop();
    // Handler failures (onAssigned included) surface through `stopped`, as with every transport.
    await this.group.join(this);
  }

  async close(): Promise<void> {
    if (this.state === 'new') {
      this.finish();
      return;
    }
    if (this.state !== 'running') {
      await this.stopped.catch(() => undefined);
      return;
    }
    this.state = 'closing';
    this.wake();
    await this.group.leave(this);
    this.finish();
  }

  // ---- called by the coordinator during a rebalance ----

  /** Stops picking new batches and resolves once the in-flight eachBatch (if any) has returned. */
  quiesce(): Promise<void> {
    this.paused = true;
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async revokeAllBut(keep: readonly TopicPartition[]): Promise<void> {
    const kept = new Set(keep.map(key));
    const lost = this.cursors.filter((c) => !kept.has(key(c)));
    if (lost.length === 0) return;
    for (const c of lost) c.log.removeListener(this.wake);
    this.cursors = this.cursors.filter((c) => kept.has(key(c)));
    // A member that failed is dead: its handlers are not called again.
    if (this.state !== 'running' && this.state !== 'closing') return;
    try {
      await this.handlers?.onRevoked?.(lost.map(({ topic, partition }) => ({ topic, partition })));
    } catch (error) {
      this.fail(error);
    }
  }

  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.state !== 'running') return;
    const held = new Map(this.cursors.map((c) => [key(c), c]));
    this.cursors = partitions.map(({ topic, partition }) => {
      const log = this.log.partition(topic, partition);
      const cursor = held.get(key({ topic, partition })) ?? { topic, partition, log, position: 0 };
      if (!held.has(key(cursor))) log.addListener(this.wake);
      const committed = this.group.committedOffset(topic, partition);
      cursor.position = committed ?? (this.options.fromBeginning ? log.start : log.end);
      return cursor;
    });
    this.roundRobin = 0;
    try {
      await this.handlers?.onAssigned?.(partitions.map(({ topic, partition }) => ({ topic, partition })));
    } catch (error) {
      this.fail(error);
      return;
    }
    // close() or a failure may have happened while onAssigned ran.
    if (!this.isRunning()) return;
    this.paused = false;
    this.wake();
  }

  // ---- delivery ----

  private isRunning(): boolean {
    return this.state === 'running';
  }

  private async loop(): Promise<void> {
    let sliceStart = performance.now();
    while (this.state === 'running') {
      if (this.paused) {
        await this.nextWake();
        continue;
      }
      this.signaled = false;
      const next = this.nextBatch();
      if (!next) {
        await this.nextWake();
        sliceStart = performance.now();
        continue;
      }
      this.inFlight = true;
      try {
        await this.handlers!.eachBatch(next.batch);
        next.cursor.position = next.batch.messages[next.batch.messages.length - 1]!.offset + 1;
      } catch (error) {
        this.fail(error);
      } finally {
        this.inFlight = false;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
      if (performance.now() - sliceStart > YIELD_AFTER_MS) {
        await nextMacrotask();
        sliceStart = performance.now();
      }
    }
  }

  private nextWake(): Promise<void> {
    if (this.signaled) {
      this.signaled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next batch, taking partitions in turn so a busy partition cannot starve the others. */
  private nextBatch(): { cursor: Cursor; batch: ConsumedBatch } | undefined {
    const n = this.cursors.length;
    for (let i = 0; i < n; i++) {
      const cursor = this.cursors[(this.roundRobin + i) % n]!;
      const end = cursor.log.end;
      if (cursor.position >= end) continue;
      const messages = cursor.log.slice(cursor.position, end, this.options.maxBatchSize);
      if (messages.length === 0) {
        // Only transaction markers or removed records left before the end.
        cursor.position = end;
        continue;
      }
      this.roundRobin = (this.roundRobin + i + 1) % n;
      return { cursor, batch: { topic: cursor.topic, partition: cursor.partition, messages, highWatermark: end } };
    }
    return undefined;
  }

  private fail(error: unknown): void {
    if (this.state !== 'running' && this.state !== 'closing') return;
    this.state = 'failed';
    this.paused = true;
    this.wake();
    this.rejectStopped(error);
    void this.group.leave(this).finally(() => {
      this.onFinished(this);
    });
  }

  private finish(): void {
    if (this.state !== 'failed') this.state = 'closed';
    for (const c of this.cursors) c.log.removeListener(this.wake);
    this.cursors = [];
    this.resolveStopped();
    this.onFinished(this);
  }
}

function key(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

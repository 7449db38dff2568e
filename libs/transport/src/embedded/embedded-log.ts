import {
  partitionForKey,
  TransportError,
  type OutgoingMessage,
  type TopicPartitionOffset,
  type TopicSpec,
} from '../transport.js';
import { PartitionLog } from './partition-log.js';
import { ConsumerGroupCoordinator } from './consumer-group.js';

export interface EmbeddedLogOptions {
  /**
   * What a non-compacted partition keeps in memory. 'all' (default): everything. 'consumed': only what some
   * reader may still need, i.e. the records at or above the lowest offset committed on it by any consumer
   * group that reads the topic, and above every retention hold (`holdRetention`). A topic no group reads is
   * kept whole (dead letters wait there to be inspected); a group subscribed without a commit holds all.
   * The single-machine mode uses 'consumed' so a long run stays bounded without deleting unconsumed input.
   */
  readonly retention?: 'all' | 'consumed';
  /**
   * The log's clock: every record appended by one send or transaction is stamped with one reading of it (its
   * append time, the only time readers see; writers cannot set one). Default Date.now; tests pin it.
   */
  readonly clock?: () => number;
}

/** The lowest offset of a partition something outside the consumer groups still needs (e.g. snapshot replay). */
export type RetentionHold = (partition: number) => number;

interface TopicState {
  readonly spec: Required<Omit<TopicSpec, 'retentionMs' | 'logAppendTime'>>;
  readonly partitions: readonly PartitionLog[];
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** A batch of sends, validated and resolved to partitions, ready to append. */
interface ResolvedSend {
  readonly logs: PartitionLog[];
  readonly messages: readonly OutgoingMessage[];
}

/**
 * The embedded partitioned log: the "broker" of the single-machine mode. It holds topics, consumer groups
 * (committed offsets, membership, assignment) and transactional-id epochs. Clients (`EmbeddedTransport`)
 * are views on one log; everything here is synchronous and runs on the thread that owns the log.
 */
export class EmbeddedLog {
  private readonly topics = new Map<string, TopicState>();
  private readonly groups = new Map<string, ConsumerGroupCoordinator>();
  private readonly epochs = new Map<string, number>();
  private readonly holds = new Map<string, RetentionHold[]>();
  private readonly retention: 'all' | 'consumed';

  private readonly clock: () => number;

  constructor(options: EmbeddedLogOptions = {}) {
    // Widened: JavaScript callers can pass anything.
    const retention: string = options.retention ?? 'all';
    if (retention !== 'all' && retention !== 'consumed') throw new RangeError(`retention must be 'all' or 'consumed', got ${retention}`);
    this.retention = retention;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Keeps every record of `topic` at or above `hold(partition)` (with 'consumed' retention), whatever the
   * groups committed: e.g. the matching engine's input from its oldest snapshot on, which a restore replays.
   */
  holdRetention(topic: string, hold: RetentionHold): void {
    this.topic(topic);
    const list = this.holds.get(topic) ?? [];
    list.push(hold);
    this.holds.set(topic, list);
  }

  ensureTopics(specs: readonly TopicSpec[]): void {
    for (const spec of specs) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new TransportError('INVALID_PARTITION', `topic ${spec.name}: partition count ${spec.partitions}`);
      }
      const existing = this.topics.get(spec.name);
      if (existing && existing.spec.partitions !== spec.partitions) {
        throw new TransportError(
          'TOPIC_EXISTS_WITH_OTHER_PARTITIONS',
          `topic ${spec.name} has ${existing.spec.partitions} partitions, asked for ${spec.partitions}`,
        );
      }
    }
    for (const spec of specs) {
      if (this.topics.has(spec.name)) continue;
      const compacted = spec.compacted ?? false;
      const options = { compacted };
      const partitions = Array.from({ length: spec.partitions }, (_, p) => new PartitionLog(spec.name, p, options));
      this.topics.set(spec.name, { spec: { name: spec.name, partitions: spec.partitions, compacted }, partitions });
    }
  }

  topic(name: string): TopicState {
    const topic = this.topics.get(name);
    if (!topic) throw new TransportError('UNKNOWN_TOPIC', `topic ${name} does not exist`);
    return topic;
  }

  partition(topic: string, partition: number): PartitionLog {
    const log = this.topic(topic).partitions[partition];
    if (!Number.isInteger(partition) || !log) {
      throw new TransportError('INVALID_PARTITION', `topic ${topic} has no partition ${partition}`);
    }
    return log;
  }

  group(groupId: string): ConsumerGroupCoordinator {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ConsumerGroupCoordinator(groupId, this);
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Registers a producer for a transactional id and fences every older one: returns its epoch. */
  openTransactionalId(transactionalId: string): number {
    const epoch = (this.epochs.get(transactionalId) ?? -1) + 1;
    this.epochs.set(transactionalId, epoch);
    return epoch;
  }

  isCurrentEpoch(transactionalId: string, epoch: number): boolean {
    return this.epochs.get(transactionalId) === epoch;
  }

  /** Validates a send completely (topic, partitions) before anything is appended. */
  resolve(topic: string, messages: readonly OutgoingMessage[]): ResolvedSend {
    const state = this.topic(topic);
    const count = state.partitions.length;
    const logs: PartitionLog[] = new Array<PartitionLog>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const p = m.partition ?? partitionForKey(m.key, count);
      const log = state.partitions[p];
      if (!Number.isInteger(p) || !log) throw new TransportError('INVALID_PARTITION', `topic ${topic} has no partition ${p}`);
      logs[i] = log;
    }
    return { logs, messages };
  }

  /**
   * Appends resolved sends and applies offset commits as one atomic step: consumers only run after this
   * returns, so they see all of it or none of it. A transaction leaves one marker offset per partition it
   * wrote, as Kafka's commit markers do, so code written against the embedded log cannot assume dense offsets.
   * `copy` copies every value so a producer may reuse its buffers (the worker proxy passes fresh ones).
   */
  commit(
    sends: readonly ResolvedSend[],
    commits: readonly { groupId: string; offsets: readonly TopicPartitionOffset[] }[],
    transactional: boolean,
    copy: boolean,
  ): void {
    for (const c of commits) {
      for (const o of c.offsets) {
        this.partition(o.topic, o.partition);
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
          throw new RangeError(`offset must be a non-negative safe integer, got ${o.offset} for ${o.topic}/${o.partition}`);
        }
      }
    }
    const touched = new Set<PartitionLog>();
    const now = this.clock();
    let previous: PartitionLog | undefined;
    for (const send of sends) {
      const { logs, messages } = send;
      // One copy per send into one buffer, values as views of it: a backing store per message would cost
      // far more (allocation and garbage collection) than the copy itself.
      let slab: Uint8Array | undefined;
      let at = 0;
      if (copy) {
        let total = 0;
        for (const m of messages) total += m.value.byteLength;
        slab = new Uint8Array(total);
      }
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const log = logs[i]!;
        let value = m.value;
        if (slab) {
          slab.set(value, at);
          value = slab.subarray(at, at + value.byteLength);
          at += value.byteLength;
        }
        log.append(m.key, value, m.headers ? { ...m.headers } : NO_HEADERS, now);
        if (log !== previous) {
          touched.add(log);
          previous = log;
        }
      }
    }
    for (const c of commits) {
      const group = this.group(c.groupId);
      for (const o of c.offsets) group.commitOffset(o.topic, o.partition, o.offset);
    }
    for (const log of touched) {
      if (transactional) log.skipOffset();
      log.appended();
    }
    if (this.retention === 'consumed') {
      // A commit can free the partitions it commits on; an append can move a hold (a snapshot written).
      for (const c of commits) for (const o of c.offsets) this.trim(this.partition(o.topic, o.partition));
      for (const log of touched) this.trim(log);
    }
  }

  /** 'consumed' retention of one partition: drop what every reading group committed past and no hold needs. */
  private trim(log: PartitionLog): void {
    if (log.compacted) return;
    let floor = Number.POSITIVE_INFINITY;
    for (const group of this.groups.values()) {
      if (!group.reads(log.topic)) continue;
      const committed = group.committedOffset(log.topic, log.partition);
      // Subscribed, nothing committed yet: it starts at the beginning, so everything is still needed.
      if (committed === undefined) return;
      floor = Math.min(floor, committed);
    }
    if (floor === Number.POSITIVE_INFINITY) return;
    for (const hold of this.holds.get(log.topic) ?? []) floor = Math.min(floor, hold(log.partition));
    log.trimTo(floor);
  }
}

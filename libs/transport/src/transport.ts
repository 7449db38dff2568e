// The partitioned-log contract every Parallax service is written against. Two implementations honour it:
// Kafka (kafkajs, for clusters) and the embedded in-process log (single-machine mode). One contract test
// suite runs against both, so an engine cannot tell which one it is on.
//
// Semantics (both transports):
// - A topic has a fixed number of partitions. A message goes to the partition given explicitly, else to
//   `partitionForKey(key, partitions)`: every message with the same key lands in the same partition, in the
//   order it was sent by one producer.
// - Offsets are per partition, start at 0 and only grow. They are JS numbers (safe integers).
// - Reads are read_committed: messages of an open or aborted transaction are never delivered.
// - A transactional producer's outputs and the consumer-group offsets it commits become visible together,
//   or not at all. Opening a producer with a transactionalId fences any older producer with the same id:
//   the older one's later commits fail with TransportError('PRODUCER_FENCED').
// - Group consumers own disjoint sets of partitions; a partition is delivered to one member at a time. The
//   transport never commits offsets by itself: consumed offsets are committed only through a transaction
//   (or `commitOffsets`), which is what makes consume-transform-produce exactly once.

export interface OutgoingMessage {
  /** Partition key (for Parallax topics: the market or the account). */
  readonly key: string;
  readonly value: Uint8Array;
  /** Explicit partition; when absent the key decides. */
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Uint8Array;
  /** Append time in milliseconds since the epoch (as stamped by the log, informational only). */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Non-empty, in offset order. */
  readonly messages: readonly ConsumedMessage[];
  /** Offset the next message appended to this partition will get (for lag). */
  readonly highWatermark: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** `offset` is the NEXT offset to read (Kafka's convention): committing after message o commits o + 1. */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Log compaction by key (snapshots). */
  readonly compacted?: boolean;
  /**
   * Time-based retention of a new topic in Kafka (`retention.ms`; -1 = forever). Absent: the broker's
   * default. The embedded log ignores it: it keeps what readers still need (EmbeddedLogOptions.retention).
   */
  readonly retentionMs?: number;
  /**
   * Records carry the log's append time, never the writer's (Kafka `message.timestamp.type=LogAppendTime`):
   * readers that take time from the log (the matching engine) cannot be handed a forged time. The embedded
   * log always stamps its own append time.
   */
  readonly logAppendTime?: boolean;
}

export interface Transaction {
  /** Buffered; appended atomically at commit. */
  send(topic: string, messages: readonly OutgoingMessage[]): void;
  /** Commits the group's consumed offsets as part of this transaction. */
  commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): void;
}

export interface Producer {
  /** Non-transactional, idempotent batch append. Resolves when the log has the messages. */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Runs `fill` to collect one transaction's sends and offset commits, then commits them atomically.
   * If `fill` throws, or the commit fails, nothing becomes visible and the error is rethrown.
   * Requires a producer opened with a transactionalId.
   */
  transaction(fill: (tx: Transaction) => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** Enables transactions, and fences older producers with the same id. */
  readonly transactionalId?: string;
}

export interface ConsumerHandlers {
  /**
   * Called after a (re)balance, before any batch of the new generation, with the partitions this member
   * now owns (all of them, not only the new ones). The engine restores state here.
   */
  onAssigned?(partitions: readonly TopicPartition[]): Promise<void>;
  /** Called with the partitions this member lost, before they are handed to another member. */
  onRevoked?(partitions: readonly TopicPartition[]): Promise<void>;
  /** One batch of one partition. Throwing stops the consumer (the error surfaces from `run`'s promise). */
  eachBatch(batch: ConsumedBatch): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a partition with no committed offset starts. Default 'earliest'. */
  readonly fromBeginning?: boolean;
  /** Upper bound on messages handed to one eachBatch call (the embedded log honours it exactly). */
  readonly maxBatchSize?: number;
  /**
   * Up to this many batches of DIFFERENT partitions may be in eachBatch at the same time (never two of one
   * partition). Default 1. A transport may deliver with less concurrency (the embedded log delivers one at a
   * time); handlers must be correct either way. Engines with one transactional producer per partition use it
   * to overlap the commit round trips of their partitions.
   */
  readonly concurrentPartitions?: number;
  /**
   * Co-partitioned assignment: partition p of every subscribed topic goes to the same member (member p mod n
   * of the members in a stable order), so one member owns all inputs keyed to p. The topics must have the
   * same partition count. Every member of the group must ask for it (Kafka refuses a group whose members name
   * different assignors). Default false: the transport's own balanced assignment.
   */
  readonly coPartitioned?: boolean;
}

export interface GroupConsumer {
  /** Starts consuming; resolves once the member is running (batches are then delivered asynchronously). */
  run(handlers: ConsumerHandlers): Promise<void>;
  /** Leaves the group (partitions are rebalanced to the remaining members). */
  close(): Promise<void>;
  /** Rejects if the consumer stopped because a handler threw. */
  readonly stopped: Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'embedded';
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  producer(options?: ProducerOptions): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<GroupConsumer>;
  /**
   * Reads committed messages of one partition in [from, to) outside any group (restore, replay, audit),
   * in batches. `to` defaults to the partition's current end.
   */
  read(topic: string, partition: number, from: number, to?: number): AsyncIterable<readonly ConsumedMessage[]>;
  /** The group's committed offsets for a topic (partition -> next offset); partitions never committed are absent. */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  /** Per partition: the offset the next appended message will get (read_committed end). */
  endOffsets(topic: string): Promise<Map<number, number>>;
  /**
   * Per partition: the first offset still held (Kafka's log start offset; the end when nothing is held).
   * Input below it was deleted by retention: a restore that needs it must fail rather than skip it.
   */
  startOffsets(topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}

export type TransportErrorCode =
  | 'UNKNOWN_TOPIC'
  | 'TOPIC_EXISTS_WITH_OTHER_PARTITIONS'
  | 'LEADER_NOT_AVAILABLE'
  | 'INVALID_PARTITION'
  | 'INVALID_CONFIG'
  | 'NOT_TRANSACTIONAL'
  | 'PRODUCER_FENCED'
  | 'PRODUCER_CLOSED'
  | 'TRANSPORT_CLOSED';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TransportError';
  }
}

/**
 * Key -> partition, identical in every transport and every process: FNV-1a 32-bit over the key's UTF-8
 * bytes, modulo the partition count. (Kafka's own default partitioner is murmur2; Parallax always passes an
 * explicit partition so the mapping does not depend on the client library.)
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new TransportError('INVALID_PARTITION', `partition count ${partitions}`);
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    // UTF-8 encode on the fly so the hash matches a byte-oriented implementation in any language.
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < key.length) {
        const d = key.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      const bytes =
        c < 0x800
          ? [0xc0 | (c >> 6), 0x80 | (c & 63)]
          : c < 0x10000
            ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)]
            : [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)];
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
    }
  }
  return (h >>> 0) % partitions;
}

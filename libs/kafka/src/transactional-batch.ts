import type {
  CompressionTypes,
  Consumer,
  EachBatchHandler,
  EachBatchPayload,
  KafkaMessage,
  Message,
  Producer,
  TopicMessages,
  Transaction,
} from 'kafkajs';
import { KafkaPlumbingError } from './errors.js';

/** A message to produce, with its destination topic. */
export interface OutputMessage extends Message {
  readonly topic: string;
}

/** Where a batch comes from, and which attempt at it this is. Offsets are kafkajs's decimal strings. */
export interface BatchInfo {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  /** Last offset fetched (may be a transaction marker after the last message). */
  readonly lastOffset: string;
  /** The offset committed with the batch: lastOffset + 1, where this group resumes after a commit. */
  readonly nextOffset: string;
  readonly highWatermark: string;
  /** 1 for the first attempt, 2 after one abort, ... */
  readonly attempt: number;
}

/**
 * Messages in -> messages out. Called once per chunk of the batch (the whole batch unless `chunkSize` is
 * set), in offset order. May throw: the transaction is aborted and, within `maxAttempts`, the whole batch
 * is transformed again from its first message - so a stateful transform must undo its changes in `onAbort`.
 */
export type BatchTransform = (
  messages: readonly KafkaMessage[],
  info: BatchInfo,
) => readonly OutputMessage[] | Promise<readonly OutputMessage[]>;

/** The producer for a batch: one for the instance, or one per input partition (see README: zombie fencing). */
export type ProducerSource = Producer | ((source: { readonly topic: string; readonly partition: number }) => Producer | Promise<Producer>);

export interface AbortEvent {
  readonly info: BatchInfo;
  readonly error: unknown;
  /** False when the error is final for this call (attempts exhausted, fencing, rebalance, stale batch). */
  readonly willRetry: boolean;
}

export interface CommitEvent {
  readonly info: BatchInfo;
  readonly inputCount: number;
  readonly outputCount: number;
  readonly durationMs: number;
}

export interface TransactionalBatchOptions {
  /** The consumer group whose offsets are committed inside each transaction. */
  readonly groupId: string;
  /** A connected producer created with a transactionalId (see createTransactionalProducer). */
  readonly producer: ProducerSource;
  readonly transform: BatchTransform;
  /**
   * Messages per transform call. Outputs of each chunk are sent as soon as it is transformed (still inside
   * the one transaction of the batch), which bounds memory and request size for large batches. Default:
   * the whole batch in one call.
   */
  readonly chunkSize?: number;
  /** Attempts per batch before giving up with BATCH_TRANSACTION_FAILED (default 3). */
  readonly maxAttempts?: number;
  /** Backoff before the 2nd attempt, doubled for each next one (default 100 ms). */
  readonly retryBackoffMs?: number;
  readonly compression?: CompressionTypes;
  /** After an abort. Roll back whatever state the transform changed for this batch. */
  readonly onAbort?: (event: AbortEvent) => void | Promise<void>;
  /** After a commit: outputs and consumed offsets are durable. */
  readonly onCommit?: (event: CommitEvent) => void | Promise<void>;
}

// Errors after which retrying with the same producer or the same partition ownership is wrong: the
// producer was fenced by a newer instance, or the group is rebalancing and the partition may move. They are
// rethrown untouched so kafkajs can react (rejoin the group) and the owner can recreate the producer.
const FINAL_KAFKA_ERRORS = new Set([
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

function errorType(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string') return error.type;
  return undefined;
}

function isFinal(error: unknown): boolean {
  const type = errorType(error);
  return type !== undefined && FINAL_KAFKA_ERRORS.has(type);
}

class StaleBatch extends Error {
  override readonly name = 'StaleBatch';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// A kafkajs producer runs one transaction at a time; batches of different partitions that share it wait here.
const producerQueues = new WeakMap<Producer, Promise<unknown>>();

async function exclusively<T>(producer: Producer, work: () => Promise<T>): Promise<T> {
  const previous = producerQueues.get(producer) ?? Promise.resolve();
  const run = previous.then(work, work);
  producerQueues.set(
    producer,
    run.catch(() => undefined),
  );
  return run;
}

function groupByTopic(messages: readonly OutputMessage[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, ...message } of messages) {
    let list = byTopic.get(topic);
    if (list === undefined) {
      list = [];
      byTopic.set(topic, list);
    }
    list.push(message);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
}

async function abortQuietly(transaction: Transaction, cause: unknown): Promise<void> {
  if (!transaction.isActive()) return;
  try {
    await transaction.abort();
  } catch (abortError) {
    throw new KafkaPlumbingError('TRANSACTION_ABORT_FAILED', `abort failed after: ${String(cause)}`, {
      cause: new AggregateError([cause, abortError]),
    });
  }
}

/**
 * An eachBatch handler that makes consume-transform-produce exactly once: for each batch it runs the
 * transform, sends all outputs and commits the batch's offsets (lastOffset + 1) for `groupId` in ONE
 * Kafka transaction, then resolves the batch. Any error aborts the transaction (nothing becomes visible to
 * read_committed consumers) and the batch is retried up to maxAttempts; then the error is thrown to kafkajs,
 * which restarts the consumer from the last committed offsets.
 *
 * Use with `consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch })` - or simply
 * runTransactionalBatches(). The consumer must read committed data only (kafkajs's default).
 */
export function transactionalBatchHandler(options: TransactionalBatchOptions): EachBatchHandler {
  const maxAttempts = options.maxAttempts ?? 3;
  const backoff = options.retryBackoffMs ?? 100;
  const chunkSize = options.chunkSize ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  if (chunkSize !== Number.POSITIVE_INFINITY && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  if (options.groupId.length === 0) throw new RangeError('groupId is required (offsets are committed for it)');

  return async (payload: EachBatchPayload) => {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const first = batch.firstOffset() ?? batch.messages[0]!.offset;
    const last = batch.lastOffset();
    const next = (BigInt(last) + 1n).toString();
    const producer =
      typeof options.producer === 'function'
        ? await options.producer({ topic: batch.topic, partition: batch.partition })
        : options.producer;

    await exclusively(producer, async () => {
      for (let attempt = 1; ; attempt += 1) {
        const info: BatchInfo = {
          topic: batch.topic,
          partition: batch.partition,
          firstOffset: first,
          lastOffset: last,
          nextOffset: next,
          highWatermark: batch.highWatermark,
          attempt,
        };
        const started = performance.now();
        try {
          const outputCount = await transactOnce(producer, payload, info);
          payload.resolveOffset(last);
          await options.onCommit?.({ info, inputCount: batch.messages.length, outputCount, durationMs: performance.now() - started });
          return;
        } catch (error) {
          if (error instanceof StaleBatch) {
            // The consumer was seeked away from this batch: kafkajs refetches from the new position.
            await options.onAbort?.({ info, error, willRetry: false });
            return;
          }
          const abortFailed = error instanceof KafkaPlumbingError && error.code === 'TRANSACTION_ABORT_FAILED';
          const willRetry = attempt < maxAttempts && !isFinal(error) && !abortFailed;
          await options.onAbort?.({ info, error, willRetry });
          if (!willRetry) {
            if (isFinal(error) || abortFailed) throw error;
            throw new KafkaPlumbingError(
              'BATCH_TRANSACTION_FAILED',
              `${batch.topic}[${batch.partition}] offsets ${first}..${last}: gave up after ${attempt} attempt(s): ${String(error)}`,
              { cause: error },
            );
          }
          await sleep(backoff * 2 ** (attempt - 1));
        }
      }
    });
  };

  async function transactOnce(producer: Producer, payload: EachBatchPayload, info: BatchInfo): Promise<number> {
    const { batch } = payload;
    const transaction = await producer.transaction();
    try {
      let outputCount = 0;
      for (let start = 0; start < batch.messages.length; start += chunkSize) {
        const chunk = chunkSize === Number.POSITIVE_INFINITY ? batch.messages : batch.messages.slice(start, start + chunkSize);
        const outputs = await options.transform(chunk, info);
        if (outputs.length > 0) {
          await transaction.sendBatch({
            topicMessages: groupByTopic(outputs),
            ...(options.compression === undefined ? {} : { compression: options.compression }),
          });
          outputCount += outputs.length;
        }
      }
      if (payload.isStale()) throw new StaleBatch(`${info.topic}[${info.partition}] was seeked while its batch was processed`);
      // Best-effort ownership check: kafkajs throws here if the group is rebalancing (with the eager
      // protocol every partition is revoked), so the transaction aborts instead of committing for a
      // partition that may already belong to another member.
      await payload.heartbeat();
      await transaction.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [{ topic: info.topic, partitions: [{ partition: info.partition, offset: info.nextOffset }] }],
      });
      await transaction.commit();
      return outputCount;
    } catch (error) {
      await abortQuietly(transaction, error);
      throw error;
    }
  }
}

export interface RunTransactionalBatchesOptions extends TransactionalBatchOptions {
  /** Partitions processed in parallel (kafkajs default 1). Parallelism pays only with a producer per partition. */
  readonly partitionsConsumedConcurrently?: number;
}

/**
 * Starts `consumer` (connected and subscribed) with transactionalBatchHandler and the settings it relies
 * on: no auto-commit (offsets move only inside transactions) and no auto-resolve (a batch counts as
 * consumed only once its transaction committed).
 */
export async function runTransactionalBatches(consumer: Consumer, options: RunTransactionalBatchesOptions): Promise<void> {
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: transactionalBatchHandler(options),
  });
}

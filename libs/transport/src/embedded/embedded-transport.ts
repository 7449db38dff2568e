import { BufferedTransaction, SerialQueue } from '../buffered-transaction.js';
import {
  TransportError,
  type ConsumedMessage,
  type ConsumerOptions,
  type GroupConsumer,
  type OutgoingMessage,
  type Producer,
  type ProducerOptions,
  type TopicSpec,
  type Transaction,
  type Transport,
} from '../transport.js';
import { EmbeddedGroupConsumer } from './consumer-group.js';
import { EmbeddedLog, type EmbeddedLogOptions } from './embedded-log.js';

/** Messages per batch yielded by `read` (batches are views of the log, not copies). */
const READ_BATCH = 4096;
const DEFAULT_MAX_BATCH = 10_000;

export interface EmbeddedTransportOptions extends EmbeddedLogOptions {
  /** Attach to an existing log instead of creating one (options of the log are then ignored). */
  readonly log?: EmbeddedLog;
}

/** A client of a fresh in-process log (or of `options.log`). */
export function createEmbeddedTransport(options: EmbeddedTransportOptions = {}): EmbeddedTransport {
  return new EmbeddedTransport(options.log ?? new EmbeddedLog(options));
}

/**
 * A client of an embedded log. Several clients may share one log (`client()`), each closing only what it
 * opened - the worker-thread server gives every worker its own client, so a worker that dies leaves its
 * groups cleanly. Consumed values are shared by all readers of the log: treat them as read-only.
 */
export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  private closed = false;
  private readonly producers = new Set<EmbeddedProducer>();
  private readonly consumers = new Set<EmbeddedGroupConsumer>();

  constructor(readonly log: EmbeddedLog) {}

  /** Another client of the same log. */
  client(): EmbeddedTransport {
    return new EmbeddedTransport(this.log);
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    return this.call(() => {
      this.log.ensureTopics(specs);
    });
  }

  partitionCount(topic: string): Promise<number> {
    return this.call(() => this.log.topic(topic).partitions.length);
  }

  producer(options: ProducerOptions = {}): Promise<Producer> {
    return this.call(() => {
      const producer = new EmbeddedProducer(this, options.transactionalId, (p) => this.producers.delete(p));
      this.producers.add(producer);
      return producer;
    });
  }

  consumer(options: ConsumerOptions): Promise<GroupConsumer> {
    return this.call(() => {
      const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH;
      if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
      if (options.topics.length === 0) throw new RangeError('a consumer needs at least one topic');
      for (const topic of options.topics) this.log.topic(topic);
      const consumer = new EmbeddedGroupConsumer(
        this.log.group(options.groupId),
        this.log,
        { topics: [...options.topics], fromBeginning: options.fromBeginning ?? true, maxBatchSize, coPartitioned: options.coPartitioned ?? false },
        (c) => this.consumers.delete(c),
      );
      this.consumers.add(consumer);
      return consumer;
    });
  }

  // An async generator gives callers the same for-await shape as Kafka; the in-memory log has nothing to await.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *read(topic: string, partition: number, from: number, to?: number): AsyncIterable<readonly ConsumedMessage[]> {
    this.assertOpen();
    if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`from must be a non-negative integer, got ${from}`);
    if (to !== undefined && !Number.isSafeInteger(to)) throw new RangeError(`to must be an integer, got ${to}`);
    const log = this.log.partition(topic, partition);
    // `to` is clamped to the end at the time of the call: read never waits for future messages.
    const end = Math.min(to ?? log.end, log.end);
    let position = from;
    while (position < end) {
      this.assertOpen();
      const batch = log.slice(position, end, READ_BATCH);
      if (batch.length === 0) return;
      position = batch[batch.length - 1]!.offset + 1;
      yield batch;
    }
  }

  committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    return this.call(() => {
      this.log.topic(topic);
      return this.log.group(groupId).committedOffsets(topic);
    });
  }

  endOffsets(topic: string): Promise<Map<number, number>> {
    return this.call(() => new Map(this.log.topic(topic).partitions.map((p) => [p.partition, p.end])));
  }

  startOffsets(topic: string): Promise<Map<number, number>> {
    return this.call(() => new Map(this.log.topic(topic).partitions.map((p) => [p.partition, p.start])));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    await Promise.all([...this.producers].map((p) => p.close()));
  }

  assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'the transport is closed');
  }

  /** Runs a synchronous operation as a promise, so errors surface as rejections like in every transport. */
  private call<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      this.assertOpen();
      resolve(op());
    });
  }
}

class EmbeddedProducer implements Producer {
  private closed = false;
  private fenced = false;
  private readonly epoch: number | undefined;
  private readonly queue = new SerialQueue();

  constructor(
    private readonly transport: EmbeddedTransport,
    private readonly transactionalId: string | undefined,
    private readonly onClose: (p: EmbeddedProducer) => void,
  ) {
    this.epoch = transactionalId === undefined ? undefined : transport.log.openTransactionalId(transactionalId);
  }

  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise<void>((resolve) => {
      this.assertUsable();
      const log = this.transport.log;
      log.commit([log.resolve(topic, messages)], [], false, true);
      resolve();
    });
  }

  transaction(fill: (tx: Transaction) => void | Promise<void>): Promise<void> {
    return this.queue.run(async () => {
      this.assertTransactional();
      const tx = new BufferedTransaction();
      try {
        await fill(tx);
      } finally {
        tx.seal();
      }
      // Fencing or closing may have happened while fill was running.
      this.assertTransactional();
      const log = this.transport.log;
      const sends = tx.sends.map((s) => log.resolve(s.topic, s.messages));
      log.commit(sends, tx.commits, true, true);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.onClose(this);
    return Promise.resolve();
  }

  private assertUsable(): void {
    this.transport.assertOpen();
    if (this.closed) throw new TransportError('PRODUCER_CLOSED', 'the producer is closed');
  }

  private assertTransactional(): void {
    this.assertUsable();
    if (this.transactionalId === undefined || this.epoch === undefined) {
      throw new TransportError('NOT_TRANSACTIONAL', 'transactions need a producer opened with a transactionalId');
    }
    if (this.fenced || !this.transport.log.isCurrentEpoch(this.transactionalId, this.epoch)) {
      this.fenced = true;
      throw new TransportError('PRODUCER_FENCED', `a newer producer opened transactional id ${this.transactionalId}`);
    }
  }
}

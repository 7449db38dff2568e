import { Partitioners, type Kafka, type Producer as KafkaJsProducer, type TopicMessages } from 'kafkajs';
import { BufferedTransaction, SerialQueue, type BufferedSend } from '../buffered-transaction.js';
import { partitionForKey, TransportError, type OutgoingMessage, type Producer, type Transaction } from '../transport.js';
import { producerWithCoordinatorCache } from './coordinator-cache.js';
import { isConcurrentTransactionsError, isFencedError, toKafkaMessage } from './kafka-util.js';

export interface KafkaProducerContext {
  readonly kafka: Kafka;
  readonly transactionTimeoutMs: number;
  /** Partition count of a topic (cached; rejects UNKNOWN_TOPIC). */
  partitionCount(topic: string): Promise<number>;
  assertOpen(): void;
}

type State = 'open' | 'fenced' | 'broken' | 'closed';

/**
 * Right after a commit the broker answers the next transaction's AddPartitionsToTxn with CONCURRENT_TRANSACTIONS
 * until it has written the previous one's markers, usually a few ms later; kafkajs has one retry schedule for
 * every error. A flat one (3 ms, x1.3: 3, 4, 5, 7, 9, 11, 14... ms) catches the markers a few ms after they land,
 * where doubling from 10 ms waited 10, 20, 40 ms (measured, paced 50k/s: commit 22-28 -> 11-13 ms per
 * transaction with the coordinator cache). 34 attempts still give a real outage ~45 s (the steps reach the 5 s
 * cap after ~20 s).
 */
const PRODUCER_RETRY = { initialRetryTime: 3, multiplier: 1.3, maxRetryTime: 5_000, retries: 34 } as const;

/**
 * Payload bytes (keys + values) per produce request. A request carries one record batch per partition, and the
 * broker refuses a batch over the topic's max.message.bytes (1 MiB by default): an engine whose input batch
 * produced more output than that must still commit, so large sends are split into several requests.
 */
export const MAX_REQUEST_PAYLOAD_BYTES = 512 * 1024;

/** Splits routed messages into requests of at most MAX_REQUEST_PAYLOAD_BYTES (a bigger message goes alone). */
export function splitRequests(topicMessages: readonly TopicMessages[], maxBytes = MAX_REQUEST_PAYLOAD_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let chunk: TopicMessages['messages'] = [];
    for (const m of messages) {
      const size = (m.value instanceof Buffer ? m.value.length : 0) + (typeof m.key === 'string' ? m.key.length : 0);
      if (bytes + size > maxBytes && bytes > 0) {
        if (chunk.length > 0) current.push({ topic, messages: chunk });
        requests.push(current);
        current = [];
        chunk = [];
        bytes = 0;
      }
      chunk.push(m);
      bytes += size;
    }
    if (chunk.length > 0) current.push({ topic, messages: chunk });
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/**
 * The contract's producer on kafkajs: idempotent, and with a transactionalId, transactional (one request in
 * flight, as transactions require). Transactions are buffered and only touch Kafka at commit, so a `fill`
 * that throws costs nothing, and a Kafka transaction stays open for as short a time as possible.
 */
export class KafkaProducer implements Producer {
  private state: State = 'open';
  private failure: unknown;
  private readonly queue = new SerialQueue();

  private constructor(
    private readonly ctx: KafkaProducerContext,
    private readonly producer: KafkaJsProducer,
    private readonly transactionalId: string | undefined,
    private readonly onClose: (p: KafkaProducer) => void,
  ) {}

  static async open(ctx: KafkaProducerContext, transactionalId: string | undefined, onClose: (p: KafkaProducer) => void): Promise<KafkaProducer> {
    // Coordinators cached: four fewer FindCoordinator round trips per transaction (see coordinator-cache.ts).
    const producer = producerWithCoordinatorCache(ctx.kafka, {
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Parallax always passes the partition; naming a partitioner only silences kafkajs's v2 notice.
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs's default first backoff (300 ms) turned every transaction into ~180-230 ms: see PRODUCER_RETRY.
      retry: PRODUCER_RETRY,
      ...(transactionalId === undefined ? {} : { transactionalId, transactionTimeout: ctx.transactionTimeoutMs }),
    });
    await producer.connect();
    try {
      if (transactionalId !== undefined) {
        // kafkajs registers the transactional id lazily, at the first transaction. Do it now: this is what
        // fences every older producer with the same id (and aborts a transaction it left open).
        const tx = await producer.transaction();
        await tx.abort();
      }
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return new KafkaProducer(ctx, producer, transactionalId, onClose);
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertUsable();
    if (messages.length === 0) return;
    for (const request of splitRequests(await this.resolve([{ topic, messages }]))) {
      await this.producer.sendBatch({ topicMessages: request, acks: -1 });
    }
  }

  transaction(fill: (tx: Transaction) => void | Promise<void>): Promise<void> {
    return this.queue.run(async () => {
      this.assertTransactional();
      const buffered = new BufferedTransaction();
      try {
        await fill(buffered);
      } finally {
        buffered.seal();
      }
      this.assertTransactional();
      if (buffered.isEmpty) return;
      // Validate and route everything before Kafka hears of the transaction.
      const topicMessages = await this.resolve(buffered.sends);
      const tx = await this.producer.transaction();
      try {
        // Sequential requests of one transaction keep their order (idempotent producer, one in flight).
        for (const request of splitRequests(topicMessages)) await tx.sendBatch({ topicMessages: request, acks: -1 });
        for (const commit of buffered.commits) {
          const byTopic = new Map<string, { partition: number; offset: string }[]>();
          for (const o of commit.offsets) {
            const list = byTopic.get(o.topic) ?? [];
            list.push({ partition: o.partition, offset: String(o.offset) });
            byTopic.set(o.topic, list);
          }
          const offsets = { consumerGroupId: commit.groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
          // A transaction that only commits offsets (input that produced no output) starts with
          // AddOffsetsToTxn, which kafkajs does not retry: right after the previous commit the coordinator
          // answers CONCURRENT_TRANSACTIONS until that one's markers are written. Retry it on the same schedule.
          for (let attempt = 0, wait: number = PRODUCER_RETRY.initialRetryTime; ; attempt++) {
            try {
              await tx.sendOffsets(offsets);
              break;
            } catch (error) {
              if (!isConcurrentTransactionsError(error) || attempt >= PRODUCER_RETRY.retries) throw error;
              await new Promise((r) => setTimeout(r, wait));
              wait = Math.min(PRODUCER_RETRY.maxRetryTime, wait * PRODUCER_RETRY.multiplier);
            }
          }
        }
        await tx.commit();
      } catch (error) {
        if (isFencedError(error)) {
          this.state = 'fenced';
          throw new TransportError('PRODUCER_FENCED', `a newer producer opened transactional id ${this.transactionalId}`);
        }
        try {
          await tx.abort();
        } catch {
          // kafkajs cannot abort from where it failed (e.g. a commit that timed out). Re-initialising the id
          // here could fence a legitimate newer owner, so the producer is retired: the caller reopens one.
          this.state = 'broken';
          this.failure = error;
        }
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.onClose(this);
    await this.producer.disconnect();
  }

  private async resolve(sends: readonly BufferedSend[]): Promise<TopicMessages[]> {
    const byTopic = new Map<string, TopicMessages>();
    for (const { topic, messages } of sends) {
      const count = await this.ctx.partitionCount(topic);
      let entry = byTopic.get(topic);
      if (!entry) {
        entry = { topic, messages: [] };
        byTopic.set(topic, entry);
      }
      for (const m of messages) {
        const partition = m.partition ?? partitionForKey(m.key, count);
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
          throw new TransportError('INVALID_PARTITION', `topic ${topic} has no partition ${partition}`);
        }
        entry.messages.push(toKafkaMessage(m, partition));
      }
    }
    return [...byTopic.values()];
  }

  private assertUsable(): void {
    this.ctx.assertOpen();
    if (this.state === 'closed') throw new TransportError('PRODUCER_CLOSED', 'the producer is closed');
    if (this.state === 'broken') {
      throw new TransportError('PRODUCER_CLOSED', `the producer failed and must be reopened: ${String(this.failure)}`);
    }
  }

  private assertTransactional(): void {
    this.assertUsable();
    if (this.transactionalId === undefined) {
      throw new TransportError('NOT_TRANSACTIONAL', 'transactions need a producer opened with a transactionalId');
    }
    if (this.state === 'fenced') {
      throw new TransportError('PRODUCER_FENCED', `a newer producer opened transactional id ${this.transactionalId}`);
    }
  }
}

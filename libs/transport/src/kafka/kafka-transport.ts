import kafkajs, { Kafka, logLevel as KafkaLogLevel, type Admin, type logCreator } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  TransportError,
  type ConsumedMessage,
  type ConsumerOptions,
  type GroupConsumer,
  type Producer,
  type ProducerOptions,
  type TopicSpec,
  type Transport,
} from '../transport.js';
import { KafkaGroupConsumer, type KafkaConsumerSettings } from './kafka-consumer.js';
import { KafkaProducer } from './kafka-producer.js';
import { readPartition } from './kafka-read.js';
import { noDelaySocketFactory } from './socket-factory.js';
import { isUnknownTopicError, withRetry } from './kafka-util.js';
import { kafkaJsSecurity, kafkaSecurityFromEnv, type KafkaSecurity } from './kafka-security.js';

// A runtime enum kafkajs (CommonJS) exposes only on its default export under ESM.
const { ConfigResourceTypes } = kafkajs;

export type KafkaTransportLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogEntry {
  readonly level: Exclude<KafkaTransportLogLevel, 'nothing'>;
  /** kafkajs component, e.g. "Consumer", "Connection". */
  readonly namespace: string;
  readonly message: string;
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface KafkaTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /**
   * Where kafkajs's own logs go (a service passes its pino logger here). Without a sink they are dropped:
   * every failure that matters already surfaces as a rejected promise or through a consumer's `stopped`,
   * and kafkajs logs expected conditions (a fenced producer, an unknown topic) as errors.
   */
  readonly log?: (entry: KafkaLogEntry) => void;
  /** Lowest kafkajs level passed to `log` (default 'warn'). */
  readonly logLevel?: KafkaTransportLogLevel;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Upper bound of an open transaction on the broker (default 60 s). */
  readonly transactionTimeoutMs?: number;
  /**
   * Group membership timing. Defaults: session 10 s (the broker's minimum is 6 s), heartbeat 1 s, rebalance
   * 30 s (how long the group waits for a member to finish its batch and rejoin), fetch wait 250 ms (also
   * bounds how quickly a member notices a rebalance). Replication factor of created topics: the broker's
   * default.
   */
  readonly consumer?: Partial<KafkaConsumerSettings>;
  /** Replication factor for topics created by ensureTopics (default: the broker's default.replication.factor). */
  readonly replicationFactor?: number;
  /**
   * TLS and SASL. Default: kafkaSecurityFromEnv() (KAFKA_SASL_*, KAFKA_SSL*), so that every client an app, a
   * tool or a test opens authenticates the same way without each call site remembering to pass it.
   */
  readonly security?: KafkaSecurity;
}

const LOG_LEVELS: Record<KafkaTransportLogLevel, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

const DEFAULT_MAX_BATCH = 10_000;
const TOPIC_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
/** How long ensureTopics keeps asking a broker that answers retriable errors (a loaded controller, a new leader). */
const CREATE_TOPICS_DEADLINE_MS = 120_000;

function logCreatorFor(sink: (entry: KafkaLogEntry) => void): logCreator {
  const names: Partial<Record<KafkaLogLevel, KafkaLogEntry['level']>> = {
    [KafkaLogLevel.ERROR]: 'error',
    [KafkaLogLevel.WARN]: 'warn',
    [KafkaLogLevel.INFO]: 'info',
    [KafkaLogLevel.DEBUG]: 'debug',
  };
  return () =>
    ({ namespace, level, log }) => {
      const name = names[level];
      if (!name) return;
      const { message, ...extra } = log;
      sink({ level: name, namespace, message, extra });
    };
}

export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  return new KafkaTransport(options);
}

/**
 * The contract on Apache Kafka through kafkajs 2.2.4. Every message is sent with an explicit partition
 * (partitionForKey when the caller gives none; partition counts are cached per topic). Reads and consumers
 * are read_committed; endOffsets is the last stable offset. A transaction's commit becomes visible to
 * readers (and its offsets to committedOffsets) a few milliseconds after `transaction()` resolves: Kafka
 * writes commit markers asynchronously.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private adminConnected: Promise<void> | undefined;
  /** The tail of the admin offset queries: they run one at a time (see topicOffsets). */
  private offsetQueries: Promise<unknown> = Promise.resolve();
  private readonly partitions = new Map<string, number>();
  private readonly producers = new Set<KafkaProducer>();
  private readonly consumers = new Set<KafkaGroupConsumer>();
  private readonly readers = new Set<AsyncGenerator<readonly ConsumedMessage[]>>();
  private readonly settings: KafkaConsumerSettings;
  private closed = false;

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = new Kafka({
      brokers: [...options.brokers],
      clientId: options.clientId,
      logLevel: options.log ? LOG_LEVELS[options.logLevel ?? 'warn'] : KafkaLogLevel.NOTHING,
      ...(options.log ? { logCreator: logCreatorFor(options.log) } : {}),
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      socketFactory: noDelaySocketFactory,
      ...kafkaJsSecurity(options.security ?? kafkaSecurityFromEnv()),
    });
    this.admin = this.kafka.admin();
    this.settings = {
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      heartbeatIntervalMs: 1_000,
      maxWaitTimeMs: 250,
      maxBytesPerPartition: 4 * 1024 * 1024,
      ...options.consumer,
    };
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    for (const spec of specs) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new TransportError('INVALID_PARTITION', `topic ${spec.name}: partition count ${spec.partitions}`);
      }
      if (spec.retentionMs !== undefined && !(Number.isSafeInteger(spec.retentionMs) && (spec.retentionMs === -1 || spec.retentionMs > 0))) {
        throw new RangeError(`topic ${spec.name}: retentionMs must be a positive integer or -1, got ${spec.retentionMs}`);
      }
    }
    // Create only what is missing (asking Kafka to create an existing topic is an error it logs loudly). Each
    // attempt lists again: one that timed out on the controller may have created some of its topics.
    const createTimeoutMs = Math.max(5_000, (this.options.requestTimeoutMs ?? 30_000) - 5_000);
    await withRetry(async () => {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !existing.has(spec.name));
      if (missing.length === 0) return;
      await admin.createTopics({
        // Leaders are waited for below, as a condition: kafkajs's own wait ends in a non-retriable KafkaJSTimeout
        // after `timeout` ("Timed out while waiting for topic leaders", seen at load 22 on 2 cores).
        waitForLeaders: false,
        // How long the controller may take (kafkajs's default, 5 s, is not enough on a loaded machine: the
        // answer is then REQUEST_TIMED_OUT per topic).
        timeout: createTimeoutMs,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          ...(this.options.replicationFactor === undefined ? {} : { replicationFactor: this.options.replicationFactor }),
          configEntries: [
            // Room for one contract message at its 1 MiB limit plus record overhead (Kafka's default is 1 MiB).
            { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
            ...(spec.compacted === true ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
            ...(spec.logAppendTime === true ? [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] : []),
            // Time only: a size bound would delete input by volume, whatever the replay still needs.
            ...(spec.retentionMs === undefined
              ? []
              : [
                  { name: 'retention.ms', value: String(spec.retentionMs) },
                  { name: 'retention.bytes', value: '-1' },
                ]),
          ],
        })),
      });
    }, CREATE_TOPICS_DEADLINE_MS, true, `creating the topics ${specs.map((spec) => spec.name).join(', ')}`);
    await this.waitForLeaders(specs.map((spec) => spec.name));
    // createTopics leaves existing topics alone: check they have the partition count asked for.
    for (const spec of specs) {
      this.partitions.delete(spec.name);
      const actual = await this.createdPartitionCount(spec.name);
      if (actual !== spec.partitions) {
        throw new TransportError(
          'TOPIC_EXISTS_WITH_OTHER_PARTITIONS',
          `topic ${spec.name} has ${actual} partitions, asked for ${spec.partitions}`,
        );
      }
    }
    // A topic created before (or by hand) with writer timestamps would let writers choose the time readers see.
    const stamped = specs.filter((spec) => spec.logAppendTime === true).map((spec) => spec.name);
    if (stamped.length > 0) {
      const { resources } = await withRetry(() =>
        admin.describeConfigs({ includeSynonyms: false, resources: stamped.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['message.timestamp.type'] })) }),
      );
      for (const r of resources) {
        const value = r.configEntries.find((e) => e.configName === 'message.timestamp.type')?.configValue;
        if (value !== 'LogAppendTime') {
          throw new TransportError(
            'INVALID_CONFIG',
            `topic ${r.resourceName} has message.timestamp.type=${String(value)}; it must be LogAppendTime (set it with kafka-configs --alter --add-config message.timestamp.type=LogAppendTime)`,
          );
        }
      }
    }
  }

  /** Until every partition of `topics` has a leader (a new topic's are elected a moment after it exists). */
  private async waitForLeaders(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const started = Date.now();
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      const { topics: found } = await withRetry(() => admin.fetchTopicMetadata({ topics: [...topics] }), CREATE_TOPICS_DEADLINE_MS);
      const leaderless = found.flatMap((t) => t.partitions.filter((p) => p.leader < 0 || p.partitionErrorCode !== 0).map((p) => `${t.name}/${p.partitionId}`));
      const absent = topics.filter((name) => !found.some((t) => t.name === name && t.partitions.length > 0));
      if (leaderless.length === 0 && absent.length === 0) return;
      if (Date.now() - started + delay > CREATE_TOPICS_DEADLINE_MS) {
        throw new TransportError(
          'LEADER_NOT_AVAILABLE',
          `waited ${Date.now() - started} ms for the leaders of new topics; still without one: ${[...absent, ...leaderless].join(', ')}`,
        );
      }
      await sleep(delay);
    }
  }

  /**
   * The partition count of a topic that exists: created by this call, or by another client whose create raced
   * ours (two engines starting on a fresh namespace; ours then failed with "already exists" and did not wait
   * for leaders), which this broker's metadata may not show for a moment.
   */
  private async createdPartitionCount(topic: string): Promise<number> {
    const deadline = Date.now() + 15_000;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await this.partitionCount(topic);
      } catch (error) {
        if (!(error instanceof TransportError && error.code === 'UNKNOWN_TOPIC') || Date.now() + delay > deadline) throw error;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async partitionCount(topic: string): Promise<number> {
    this.assertOpen();
    const cached = this.partitions.get(topic);
    if (cached !== undefined) return cached;
    const admin = await this.connectedAdmin();
    try {
      // An unknown topic is an answer, not a transient state: ensureTopics waits for leaders before returning.
      const { topics } = await withRetry(() => admin.fetchTopicMetadata({ topics: [topic] }), 5_000, false);
      const count = topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (count === 0) throw new TransportError('UNKNOWN_TOPIC', `topic ${topic} does not exist`);
      this.partitions.set(topic, count);
      return count;
    } catch (error) {
      if (isUnknownTopicError(error)) throw new TransportError('UNKNOWN_TOPIC', `topic ${topic} does not exist`);
      throw error;
    }
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    this.assertOpen();
    const producer = await KafkaProducer.open(
      {
        kafka: this.kafka,
        transactionTimeoutMs: this.options.transactionTimeoutMs ?? 60_000,
        partitionCount: (topic) => this.partitionCount(topic),
        assertOpen: () => {
          this.assertOpen();
        },
      },
      options.transactionalId,
      (p) => this.producers.delete(p),
    );
    this.producers.add(producer);
    return producer;
  }

  async consumer(options: ConsumerOptions): Promise<GroupConsumer> {
    this.assertOpen();
    const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
    if (options.topics.length === 0) throw new RangeError('a consumer needs at least one topic');
    const concurrentPartitions = options.concurrentPartitions ?? 1;
    if (!Number.isInteger(concurrentPartitions) || concurrentPartitions < 1) {
      throw new RangeError(`concurrentPartitions must be a positive integer, got ${concurrentPartitions}`);
    }
    for (const topic of options.topics) await this.partitionCount(topic);
    const consumer = new KafkaGroupConsumer(
      this.kafka,
      { groupId: options.groupId, topics: [...options.topics], fromBeginning: options.fromBeginning ?? true, maxBatchSize, concurrentPartitions, coPartitioned: options.coPartitioned ?? false },
      this.settings,
      (c) => this.consumers.delete(c),
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async *read(topic: string, partition: number, from: number, to?: number): AsyncIterable<readonly ConsumedMessage[]> {
    if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`from must be a non-negative integer, got ${from}`);
    if (to !== undefined && !Number.isSafeInteger(to)) throw new RangeError(`to must be an integer, got ${to}`);
    const count = await this.partitionCount(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new TransportError('INVALID_PARTITION', `topic ${topic} has no partition ${partition}`);
    }
    // `to` is clamped to the last stable offset now: every offset below it is decided, so the read ends.
    const stable = (await this.endOffsets(topic)).get(partition) ?? 0;
    const end = Math.min(to ?? stable, stable);
    const reader = readPartition(this.kafka, this.options.clientId, topic, partition, from, end, this.settings);
    this.readers.add(reader);
    try {
      yield* reader;
    } finally {
      this.readers.delete(reader);
    }
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    await this.partitionCount(topic);
    const admin = await this.connectedAdmin();
    const result = await withRetry(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const out = new Map<number, number>();
    for (const t of result) {
      for (const p of t.partitions) {
        const offset = Number(p.offset);
        if (offset >= 0) out.set(p.partition, offset);
      }
    }
    return out;
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    // kafkajs's admin lists offsets with isolation level READ_COMMITTED: `offset` is the last stable offset.
    return new Map((await this.topicOffsets(topic)).map((o) => [o.partition, Number(o.offset)]));
  }

  async startOffsets(topic: string): Promise<Map<number, number>> {
    // `low` is the log start offset (ListOffsets with the EARLIEST timestamp).
    return new Map((await this.topicOffsets(topic)).map((o) => [o.partition, Number(o.low)]));
  }

  /**
   * Every partition's offsets of `topic`, one query at a time on this transport's admin. kafkajs's
   * fetchTopicOffsets reads the partitions from the client's cached metadata, and concurrent calls refresh
   * that cache under each other: a call can find no partition of the topic and throw a TypeError from inside
   * kafkajs ("Cannot destructure property 'partitions' of 'high.pop(...)'"; seen with the projector's shards
   * rebuilding at once), or answer for fewer partitions than the topic has. So the calls are serialised, and an
   * answer that does not cover every partition (or that TypeError) is asked again, within withRetry's deadline.
   */
  private topicOffsets(topic: string): Promise<{ partition: number; offset: string; low: string }[]> {
    const run = async (): Promise<{ partition: number; offset: string; low: string }[]> => {
      const count = await this.partitionCount(topic);
      const admin = await this.connectedAdmin();
      const deadline = Date.now() + 15_000;
      for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
        let offsets: { partition: number; offset: string; low: string }[] | undefined;
        let failure: TypeError | undefined;
        try {
          offsets = await withRetry(() => admin.fetchTopicOffsets(topic));
        } catch (error) {
          if (!(error instanceof TypeError)) throw error;
          failure = error;
        }
        if (offsets !== undefined && new Set(offsets.map((o) => o.partition)).size >= count) return offsets;
        if (Date.now() + delay > deadline) {
          throw failure ?? new Error(`topic ${topic}: offsets for ${offsets?.length ?? 0} of its ${count} partitions`);
        }
        await sleep(delay);
      }
    };
    const result = this.offsetQueries.then(run, run);
    this.offsetQueries = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.readers].map((r) => r.return(undefined).catch(() => undefined)));
    await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)));
    await Promise.all([...this.producers].map((p) => p.close().catch(() => undefined)));
    if (this.adminConnected) await this.admin.disconnect();
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportError('TRANSPORT_CLOSED', 'the transport is closed');
  }

  private async connectedAdmin(): Promise<Admin> {
    this.assertOpen();
    this.adminConnected ??= this.admin.connect();
    try {
      await this.adminConnected;
    } catch (error) {
      this.adminConnected = undefined;
      throw error;
    }
    return this.admin;
  }
}

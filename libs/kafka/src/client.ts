import kafkajs from 'kafkajs';
import { kafkaJsSecurity } from '@parallax/transport';
import type { Kafka, LogEntry, logLevel as KafkajsLogLevel, Producer, RetryOptions } from 'kafkajs';
import type { KafkaClientConfig, KafkaLogLevel } from './config.js';

const { Kafka: KafkaClass, logLevel: LEVELS } = kafkajs;

/** One kafkajs log line, flattened: `fields` holds kafkajs's extra context (broker, groupId, error, ...). */
export interface KafkaLogRecord {
  readonly level: Exclude<KafkaLogLevel, 'nothing'>;
  readonly time: string;
  /** kafkajs component, e.g. Consumer, Producer, Connection, Runner. */
  readonly namespace: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type KafkaLogSink = (record: KafkaLogRecord) => void;

/** Default sink: one JSON object per line on stderr (pino-compatible enough for log shippers, no dependency). */
export function jsonLineLogSink(write: (line: string) => void = (line) => process.stderr.write(line)): KafkaLogSink {
  return (record) => {
    write(`${JSON.stringify({ ...record.fields, level: record.level, time: record.time, logger: 'kafkajs', namespace: record.namespace, msg: record.message })}\n`);
  };
}

const LEVEL_NAMES = new Map<KafkajsLogLevel, KafkaLogRecord['level']>([
  [LEVELS.ERROR, 'error'],
  [LEVELS.WARN, 'warn'],
  [LEVELS.INFO, 'info'],
  [LEVELS.DEBUG, 'debug'],
]);

function toKafkajsLevel(level: KafkaLogLevel): KafkajsLogLevel {
  switch (level) {
    case 'nothing':
      return LEVELS.NOTHING;
    case 'error':
      return LEVELS.ERROR;
    case 'warn':
      return LEVELS.WARN;
    case 'info':
      return LEVELS.INFO;
    case 'debug':
      return LEVELS.DEBUG;
  }
}

export interface CreateKafkaOptions {
  /** Where kafkajs logs go; default jsonLineLogSink() (stderr). */
  readonly logSink?: KafkaLogSink;
  /** Overrides the client-wide retry policy (producers, consumers and admins inherit it). */
  readonly retry?: RetryOptions;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/**
 * A kafkajs client with Parallax defaults: bounded exponential retry (~0.1 s doubling to 5 s, 8 retries, so
 * a broker restart is ridden out but a dead cluster fails in well under a minute), 3 s connect timeout, and
 * logs at config.logLevel (warn by default) through a structured sink instead of kafkajs's console logger.
 */
export function createKafka(config: KafkaClientConfig, options: CreateKafkaOptions = {}): Kafka {
  const sink = options.logSink ?? jsonLineLogSink();
  return new KafkaClass({
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 100, maxRetryTime: 5_000, factor: 0.2, multiplier: 2, retries: 8 },
    logLevel: toKafkajsLevel(config.logLevel),
    // KAFKA_SASL_* / KAFKA_SSL*: the brokers authenticate every client (see @parallax/transport).
    ...kafkaJsSecurity(),
    logCreator: () => (entry: LogEntry) => {
      const { timestamp, message, ...fields } = entry.log;
      sink({ level: LEVEL_NAMES.get(entry.level) ?? 'info', time: timestamp, namespace: entry.namespace, message, fields });
    },
  });
}

export interface TransactionalProducerOptions {
  /** Broker-side limit for an open transaction before the coordinator aborts it (default 60 s). */
  readonly transactionTimeoutMs?: number;
}

/**
 * An idempotent, transactional producer (maxInFlightRequests 1 keeps per-partition order under retries),
 * not connected yet. Note that kafkajs registers the transactionalId (and so fences older producers with
 * it) only at the first transaction(), not at connect(): use connectTransactionalProducer to take over an id.
 */
export function createTransactionalProducer(
  kafka: Kafka,
  transactionalId: string,
  options: TransactionalProducerOptions = {},
): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: options.transactionTimeoutMs ?? 60_000,
    allowAutoTopicCreation: false,
  });
}

/**
 * Creates and connects a transactional producer, and registers its transactionalId with the transaction
 * coordinator at once (an empty transaction, begun and aborted without any request to a partition). From
 * then on any older producer with the same id is fenced - its later sends and commits fail - and the
 * transaction it left open is aborted. Call it when taking over a unit of work (e.g. an input partition).
 */
export async function connectTransactionalProducer(
  kafka: Kafka,
  transactionalId: string,
  options: TransactionalProducerOptions = {},
): Promise<Producer> {
  const producer = createTransactionalProducer(kafka, transactionalId, options);
  await producer.connect();
  try {
    const registration = await producer.transaction();
    await registration.abort();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw error;
  }
  return producer;
}

// Shared set-up for the integration specs: the broker from KAFKA_BROKERS (default: the one
// `bash scripts/kafka.sh start` runs), clients with short test timeouts, and clean-up.
import type { Admin, Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { createKafka } from './client.js';
import { DEFAULT_KAFKA_BROKERS, kafkaConfigFromEnv, parseBrokers } from './config.js';
import { readTopic, uniqueName, type ReadRecord } from './testing.js';

export const brokers = parseBrokers(process.env['KAFKA_BROKERS'] ?? DEFAULT_KAFKA_BROKERS);

/** kafkajs logs nothing in tests unless KAFKA_LOG_LEVEL asks (it logs retriable broker answers as errors). */
export function testKafka(clientId = uniqueName('it')): Kafka {
  const config = kafkaConfigFromEnv({ ...process.env, KAFKA_CLIENT_ID: clientId, KAFKA_LOG_LEVEL: process.env['KAFKA_LOG_LEVEL'] ?? 'nothing' });
  return createKafka(config, { retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 } });
}

/** Consumers that join, fetch and leave quickly (the defaults long-poll 5 s, which every stop() waits out). */
export function testConsumer(kafka: Kafka, groupId: string, extra: Partial<ConsumerConfig> = {}): Consumer {
  return kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    heartbeatInterval: 500,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    allowAutoTopicCreation: false,
    ...extra,
  });
}

/** Fails fast, with the fix, when no broker answers. */
export async function connectAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200 } });
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(
      `no Kafka broker at ${brokers.join(',')} (start one with 'bash scripts/kafka.sh start', or set KAFKA_BROKERS): ${String(error)}`,
      { cause: error },
    );
  }
  return admin;
}

/** Resolves when `condition` holds, polling; rejects after `timeoutMs` with `what`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Runs clean-up steps even if some fail; a test's own failure stays the reported one. */
export async function closeAll(...steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // best effort: a half-started client may refuse to disconnect
    }
  }
}

/**
 * Everything in `topic` at the time of the call, at the given isolation: appends a sentinel to every
 * partition (after all earlier records), reads until each sentinel is seen, and drops the sentinels.
 * Unlike reading "until N records", this also catches duplicates beyond the expected count.
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  partitions: number,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): Promise<ReadRecord[]> {
  const sentinel = uniqueName('end-of-topic');
  const producer = kafka.producer();
  try {
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: sentinel })) });
  } finally {
    await closeAll(() => producer.disconnect());
  }
  const records = await readTopic(kafka, topic, {
    isolation,
    until: (read) => read.filter((record) => record.value === sentinel).length >= partitions,
  });
  return records.filter((record) => !record.value?.startsWith('end-of-topic-'));
}

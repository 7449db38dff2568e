import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { KafkaPlumbingError } from './errors.js';

/**
 * A topic / group / transactional id that no other test run uses: `<prefix>-<base36 time>-<8 hex>`.
 * Kafka names allow [A-Za-z0-9._-]; the prefix must too.
 */
export function uniqueName(prefix = 'test'): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(prefix)) throw new RangeError(`uniqueName prefix '${prefix}' must be 1-200 of [A-Za-z0-9._-]`);
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ReadTopicOptions {
  /** Stop when this returns true for everything read so far. */
  readonly until: (records: readonly ReadRecord[]) => boolean;
  /** read_committed (default) hides open and aborted transactions; read_uncommitted shows every record. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  /** Default 20 s; then READ_TIMEOUT with what was read so far. */
  readonly timeoutMs?: number;
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return out;
}

/**
 * Reads `topic` from the beginning with a throwaway consumer group (never committed) until `until` holds.
 * For tests and operational checks, not for services. Keys, values and headers are decoded as UTF-8.
 */
export async function readTopic(kafka: Kafka, topic: string, options: ReadTopicOptions): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const consumer = kafka.consumer({
    groupId: uniqueName('read'),
    readUncommitted: options.isolation === 'read_uncommitted',
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new KafkaPlumbingError('READ_TIMEOUT', `readTopic(${topic}): condition not met after ${records.length} record(s)`));
      }, options.timeoutMs ?? 20_000);
      if (options.until(records)) {
        resolve();
        return;
      }
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              records.push({
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                key: message.key?.toString('utf8') ?? null,
                value: message.value?.toString('utf8') ?? null,
                headers: headerText(message.headers),
              });
            }
            if (options.until(records)) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

export type KafkaPlumbingErrorCode =
  /** KAFKA_BROKERS / KAFKA_CLIENT_ID / KAFKA_LOG_LEVEL do not describe a usable client. */
  | 'KAFKA_CONFIG_INVALID'
  /** A topic spec handed to ensureTopics is malformed (bad name, partitions, replication, config). */
  | 'TOPIC_SPEC_INVALID'
  /** The topic exists with another partition count: keys would map to other partitions, so never "fix" it silently. */
  | 'TOPIC_PARTITIONS_MISMATCH'
  /** The topic exists with a different value for a config the spec pins (e.g. cleanup.policy). */
  | 'TOPIC_CONFIG_MISMATCH'
  /** A batch could not be committed within its attempts; the cause is attached. */
  | 'BATCH_TRANSACTION_FAILED'
  /** Aborting a failed transaction failed too: the producer's state is unknown and it must be recreated. */
  | 'TRANSACTION_ABORT_FAILED'
  /** readTopic (test/ops helper) did not see what it waited for in time. */
  | 'READ_TIMEOUT';

/** The only error @parallax/kafka throws itself (kafkajs errors that must reach kafkajs pass through as they are). */
export class KafkaPlumbingError extends Error {
  override readonly name = 'KafkaPlumbingError';
  constructor(
    readonly code: KafkaPlumbingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

import { z } from 'zod';
import { optionalBrokerList } from '@parallax/observability';
import type { KafkaConsumerSettings } from '@parallax/transport';

const ms = (min: number) => z.coerce.number().int().min(min).max(3_600_000);

/**
 * The Kafka variables every service reads, to spread into its zod schema: KAFKA_BROKERS (unset = the embedded
 * log), KAFKA_CLIENT_ID, and the consumer-group timing (transport defaults when unset): failover speed against
 * tolerance of pauses.
 */
export function kafkaEnvShape(defaultClientId: string) {
  return {
    KAFKA_BROKERS: optionalBrokerList(),
    KAFKA_CLIENT_ID: z.string().min(1).default(defaultClientId),
    KAFKA_SESSION_TIMEOUT_MS: ms(1).optional(),
    KAFKA_HEARTBEAT_INTERVAL_MS: ms(1).optional(),
    KAFKA_REBALANCE_TIMEOUT_MS: ms(1).optional(),
    KAFKA_MAX_WAIT_MS: ms(0).optional(),
  };
}

export type KafkaEnv = z.infer<z.ZodObject<ReturnType<typeof kafkaEnvShape>>>;

/** What a service needs to open its transport (see createTransport). */
export interface KafkaClientSettings {
  /** undefined = the embedded log. */
  readonly kafkaBrokers: readonly string[] | undefined;
  readonly kafkaClientId: string;
  /** Only what the environment set; the transport's defaults fill the rest. */
  readonly kafkaConsumer: Partial<KafkaConsumerSettings>;
}

export function kafkaSettingsFrom(e: KafkaEnv): KafkaClientSettings {
  return {
    kafkaBrokers: e.KAFKA_BROKERS,
    kafkaClientId: e.KAFKA_CLIENT_ID,
    kafkaConsumer: {
      ...(e.KAFKA_SESSION_TIMEOUT_MS === undefined ? {} : { sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS }),
      ...(e.KAFKA_HEARTBEAT_INTERVAL_MS === undefined ? {} : { heartbeatIntervalMs: e.KAFKA_HEARTBEAT_INTERVAL_MS }),
      ...(e.KAFKA_REBALANCE_TIMEOUT_MS === undefined ? {} : { rebalanceTimeoutMs: e.KAFKA_REBALANCE_TIMEOUT_MS }),
      ...(e.KAFKA_MAX_WAIT_MS === undefined ? {} : { maxWaitTimeMs: e.KAFKA_MAX_WAIT_MS }),
    },
  };
}

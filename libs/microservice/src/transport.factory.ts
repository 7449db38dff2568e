import type { Logger } from '@parallax/observability';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import type { KafkaClientSettings } from './kafka-env.js';

/** Kafka when KAFKA_BROKERS is set (kafkajs logs go to the service's pino logger), else a private embedded log. */
export function createTransport(config: KafkaClientSettings, log: Logger): Transport {
  if (config.kafkaBrokers === undefined) return createEmbeddedTransport();
  const kafkaLog = log.child({ component: 'kafkajs' });
  return createKafkaTransport({
    brokers: config.kafkaBrokers,
    clientId: config.kafkaClientId,
    consumer: config.kafkaConsumer,
    log: ({ level, namespace, message, extra }) => {
      kafkaLog[level]({ namespace, ...extra }, message);
    },
  });
}

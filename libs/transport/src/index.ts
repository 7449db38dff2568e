export type {
  OutgoingMessage,
  ConsumedMessage,
  ConsumedBatch,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  Transaction,
  Producer,
  ProducerOptions,
  ConsumerHandlers,
  ConsumerOptions,
  GroupConsumer,
  Transport,
  TransportErrorCode,
} from './transport.js';
export { TransportError, partitionForKey } from './transport.js';
export { BufferedTransaction } from './buffered-transaction.js';
export { EmbeddedLog, type EmbeddedLogOptions } from './embedded/embedded-log.js';
export { EmbeddedTransport, createEmbeddedTransport, type EmbeddedTransportOptions } from './embedded/embedded-transport.js';
export { serveEmbeddedTransport, type EmbeddedTransportServer } from './embedded/proxy-server.js';
export { connectEmbeddedTransport } from './embedded/proxy-client.js';
export {
  KafkaTransport,
  createKafkaTransport,
  type KafkaTransportOptions,
  type KafkaTransportLogLevel,
  type KafkaLogEntry,
} from './kafka/kafka-transport.js';
export type { KafkaConsumerSettings } from './kafka/kafka-consumer.js';
export {
  kafkaSecurityFromEnv,
  kafkaJsSecurity,
  KAFKA_SECURITY_ENV,
  type KafkaSecurity,
  type KafkaSaslMechanism,
} from './kafka/kafka-security.js';

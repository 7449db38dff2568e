export { KafkaPlumbingError, type KafkaPlumbingErrorCode } from './errors.js';
export { DEFAULT_KAFKA_BROKERS, kafkaConfigFromEnv, parseBrokers, type KafkaClientConfig, type KafkaLogLevel } from './config.js';
export {
  connectTransactionalProducer,
  createKafka,
  createTransactionalProducer,
  jsonLineLogSink,
  type CreateKafkaOptions,
  type KafkaLogRecord,
  type KafkaLogSink,
  type TransactionalProducerOptions,
} from './client.js';
export { ensureTopics, type EnsureTopicsResult, type TopicSpec } from './topics.js';
export {
  runTransactionalBatches,
  transactionalBatchHandler,
  type AbortEvent,
  type BatchInfo,
  type BatchTransform,
  type CommitEvent,
  type OutputMessage,
  type ProducerSource,
  type RunTransactionalBatchesOptions,
  type TransactionalBatchOptions,
} from './transactional-batch.js';
export { readTopic, uniqueName, type ReadRecord, type ReadTopicOptions } from './testing.js';

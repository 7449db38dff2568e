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

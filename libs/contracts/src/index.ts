export { ContractError } from './errors.js';
export type { ContractErrorCode } from './errors.js';
export { CONTRACT_MAGIC, CONTRACT_VERSION, MAX_MESSAGE_BYTES, MessageType, ContractWriter, peekMessageType } from './wire.js';
export type { TopicNames } from './topics.js';
export { DEFAULT_TOPICS, MAX_PARTITIONS, topicSpecs, partitionForMarket, marketKey, deadLetterKey, isValidTopicName } from './topics.js';
export type { MarketDefinition } from './markets.js';
export { MarketCatalogue, parseMarketCatalogue, defaultMarkets } from './markets.js';
export type { CommandBatch } from './commands.js';
export { MAX_COMMANDS_PER_BATCH, encodeCommandBatch, decodeCommandBatch } from './commands.js';
export type { EventBatch } from './events.js';
export { encodeEventBatch, decodeEventBatch, decodeEventBatchEvents } from './events.js';
export type { MarketSnapshot } from './snapshots.js';
export { encodeMarketSnapshot, decodeMarketSnapshot } from './snapshots.js';
export type { DeadLetter } from './dead-letters.js';
export {
  MAX_DEAD_LETTER_VALUE_BYTES,
  MAX_DEAD_LETTER_DETAIL_CHARS,
  MAX_DEAD_LETTER_KEY_CHARS,
  encodeDeadLetter,
  decodeDeadLetter,
} from './dead-letters.js';

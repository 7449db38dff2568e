export { ContractError } from './errors.js';
export type { ContractErrorCode } from './errors.js';
export { CONTRACT_MAGIC, CONTRACT_VERSION, MESSAGE_VERSIONS, messageVersion, MAX_MESSAGE_BYTES, MessageType, ContractWriter, peekMessageType } from './wire.js';
export type { TopicNames, SettlementTopicNames, RiskTopicNames, RiskStateTopicNames } from './catalogue/topics.js';
export { DEFAULT_ACCOUNT_SHARDS, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS, DEFAULT_RISK_RESULTS_TOPIC, riskStateTopicSpecs, riskTopicSpecs } from './catalogue/topics.js';
export { DEFAULT_TOPICS, DEFAULT_ORDERS_RETENTION_MS, MAX_PARTITIONS, topicSpecs, partitionForMarket, marketKey, deadLetterKey, isValidTopicName } from './catalogue/topics.js';
export { DEFAULT_SETTLEMENT_TOPICS, SETTLEMENT_STATUS_KEY, settlementTopicSpecs } from './catalogue/topics.js';
export type { MarketDefinition } from './catalogue/markets.js';
export { MarketCatalogue, parseMarketCatalogue, defaultMarkets } from './catalogue/markets.js';
export type { CommandBatch } from './messages/commands.js';
export { MAX_COMMANDS_PER_BATCH, encodeCommandBatch, decodeCommandBatch } from './messages/commands.js';
export type { EventBatch } from './messages/events.js';
export { encodeEventBatch, decodeEventBatch, decodeEventBatchEvents, MAX_EVENT_BYTES_PER_BATCH } from './messages/events.js';
export type { MarketSnapshot } from './messages/snapshots.js';
export { encodeMarketSnapshot, decodeMarketSnapshot } from './messages/snapshots.js';
export type { DeadLetter } from './messages/dead-letters.js';
export {
  MAX_DEAD_LETTER_VALUE_BYTES,
  MAX_DEAD_LETTER_DETAIL_CHARS,
  MAX_DEAD_LETTER_KEY_CHARS,
  encodeDeadLetter,
  decodeDeadLetter,
} from './messages/dead-letters.js';
export type { SignedOrderBatch, SignedOrderRecord } from './messages/signed-orders.js';
export { CLIENT_ORDER_ID_RE, MAX_CLIENT_ORDER_ID_CHARS } from './messages/client-order-id.js';
export { MAX_SIGNED_ORDERS_PER_BATCH, MAX_SIGNED_ORDER_FEE_RATE, MAX_SIGNED_ORDER_EXPIRY, encodeSignedOrderBatch, decodeSignedOrderBatch } from './messages/signed-orders.js';
export type { SettlementStatus, SettlementStatusKind, FailedFill } from './messages/settlement-status.js';
export {
  SETTLEMENT_STATUSES,
  MAX_FAILED_FILLS,
  MAX_FAILED_FILL_DETAIL_CHARS,
  encodeSettlementStatus,
  decodeSettlementStatus,
} from './messages/settlement-status.js';
export type { RiskRequestBatch, ChainEventBatch, ClientRequest, ChainEvent, NonceFloorRaised, OrderCancelledOnChain, SettlementSkipped } from './messages/risk-inputs.js';
export { MAX_RISK_RECORDS, encodeRiskRequestBatch, decodeRiskRequestBatch, encodeChainEventBatch, decodeChainEventBatch } from './messages/risk-inputs.js';
export type { RiskResult, RiskResultBatch } from './messages/risk-results.js';
export { MAX_RISK_RESULTS, MAX_RESULT_MESSAGE_CHARS, encodeRiskResultBatch, decodeRiskResultBatch } from './messages/risk-results.js';
export type { AccountEventBatch } from './messages/account-events.js';
export { encodeAccountEventBatch, decodeAccountEventBatch, decodeAccountEventBatchEvents } from './messages/account-events.js';

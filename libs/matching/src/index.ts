export { PartitionEngine, defaultBookFactory, GATEWAY_ORDER_ID_SOURCES } from './engine/partition-engine.js';
export type {
  PartitionEngineOptions,
  BookFactory,
  DeadLetterReason,
  AppliedBatch,
  ProcessStats,
  ProcessResult,
  RestoreStats,
  MarketState,
} from './engine/partition-engine.js';
export { MatchingError, type MatchingErrorCode } from './engine/errors.js';
export { syntheticOrderFlow, type SyntheticFlowOptions } from './flow/synthetic-flow.js';
export { crossingFlood, type CrossingFloodOptions } from './flow/crossing-flood.js';

export { PartitionEngine, defaultBookFactory } from './partition-engine.js';
export type {
  PartitionEngineOptions,
  BookFactory,
  DeadLetterReason,
  AppliedBatch,
  ProcessStats,
  ProcessResult,
  RestoreStats,
  MarketState,
} from './partition-engine.js';
export { MatchingError, type MatchingErrorCode } from './errors.js';
export { syntheticOrderFlow, prng, type SyntheticFlowOptions } from './synthetic-flow.js';

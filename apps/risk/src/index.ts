export { AccountShard, RISK_SOURCES } from './shard/account-shard.js';
export type { AccountShardOptions, AppliedCommand, RiskSource, ShardResult, ShardStats, SourceOffsets } from './shard/account-shard.js';
export { RiskShards, restoreShard, readShardSnapshot, shardOptions, transactionalIdFor } from './service/risk-shards.js';
export { decodeJournalEntry, encodeJournalEntry, type JournalEntry } from './state/shard-records.js';
export type { RiskShardsConfig, RiskShardsObserver, ShardRestore } from './service/risk-shards.js';
export { RiskServiceError, type RiskServiceErrorCode } from './state/errors.js';
export { loadRiskConfig, readRiskMarketsFile, riskEngineEnvShape, type RiskServiceConfig } from './config/risk.config.js';
export { startRisk, SERVICE as RISK_SERVICE, type RiskHandle } from './app/risk.app.js';
export { startRiskWorker, type RiskWorker, type RiskWorkerData, type RiskWorkerMessage } from './worker/risk-worker.js';

export { AccountShard } from './shard/account-shard.js';
export type { AccountShardOptions, ShardResult, ShardStats } from './shard/account-shard.js';
export { RiskShards } from './service/risk-shards.js';
export type { RiskShardsConfig } from './service/risk-shards.js';

export { AccountShard } from './shard/account-shard.js';
export type { AccountShardOptions, ShardResult, ShardStats } from './shard/account-shard.js';
export { RiskShards } from './service/risk-shards.js';
export type { RiskShardsConfig } from './service/risk-shards.js';
// Test support (no chain watcher in the test): chain events written as the watcher writes them.
export { publishChainEvents } from './testing/chain-events.js';

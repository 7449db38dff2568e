export { AccountShard } from './shard/account-shard.js';
export type { AccountShardOptions, ShardResult, ShardStats } from './shard/account-shard.js';

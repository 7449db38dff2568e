// Test and benchmark support of the risk service, imported as `@parallax/risk-service/testing`: journal audits
// (re-running a shard's journal, what the shards forwarded, drained inputs), shard audits on a real log
// (writing the shards' inputs, waiting until drained, rebuilding shards, auditing trades) and chain events
// written as the chain watcher writes them (for tests without a watcher), and the shards' and an engine's
// configuration of one test run.
export * from './journal-audit.js';
export * from './shard-audit.js';
export { publishChainEvents } from './chain-events.js';
export { testPipelineConfigs, type TestPipelineConfigs, type TestPipelineOptions } from './pipeline-configs.js';
export { RandomPlaces } from './random-places.js';

// Test support for packages that run the whole exchange in their tests (the bots' end-to-end tests): funding
// and chain events written to the risk shards as the chain watcher would. Not part of the launcher.
export { fundThroughRisk, publish } from './fund.js';

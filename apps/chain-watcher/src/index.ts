export { startChainWatcher, type ChainWatcherHandle, type StartOptions } from './app/bootstrap.js';
export { SERVICE } from './app/app.module.js';
export { loadChainWatcherConfig, DEFAULT_PROGRESS_TOPIC, type ChainWatcherConfig } from './config/chain-watcher.config.js';
export { ChainWatcher, WatcherError, readProgress, type ChainWatcherSettings, type WatcherHealth } from './watch/chain-watcher.js';
export { mapLogs, settledPerAccount, type ContractLog, type MappedRange } from './watch/event-mapper.js';
export { LedgerView, reconcile, type Drift } from './reconcile/ledger-view.js';

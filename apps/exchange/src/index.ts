export { startExchange, type RunningExchange } from './exchange.js';
export { loadExchangeConfig, exchangeNames, type ExchangeConfig, type ExchangeNames } from './exchange.config.js';
export { holdInputForSnapshots, snapshotReplayStart } from './retention.js';

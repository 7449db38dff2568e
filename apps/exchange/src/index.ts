export { startExchange, type RunningExchange } from './exchange.js';
export { loadExchangeConfig, type ExchangeConfig } from './exchange.config.js';

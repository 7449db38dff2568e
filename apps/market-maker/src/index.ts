export { startMarketMaker, DEFAULT_QUOTING, type MarketMakerOptions, type MarketMakerDeps, type RunningMarketMaker, type MarketMakerSnapshot } from './bot/market-maker.js';
export { startTaker, takerOrder, type TakerOptions, type TakerDeps, type RunningTaker } from './bot/taker.js';
export { marketMakerMetrics, takerMetrics, type MarketMakerMetrics, type TakerMetrics } from './bot/metrics.js';
export { computeQuotes, needsRequote, skewedCentre, type Quote, type QuoteParams, type MarketRules } from './strategy/quoting.js';
export { Portfolio, type Fill } from './strategy/portfolio.js';
export { bookMidReference, priceAtDepth, ExternalReference, type BookMidOptions, type MarketView, type ReferencePriceSource, type ViewLevel } from './strategy/reference.js';
export { loadBotConfig, botOptionsFrom, type BotConfig } from './bot.config.js';

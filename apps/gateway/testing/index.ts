export { until } from './until.js';
export { expectLiveTrading, openPage, type LiveTradingSeen, type LivePage, type OpenPageOptions, type PageBatch, type PageBook, type PageTrade } from './live-page.js';
export { ensureReadModelTopics, readModelTopics, startReadModelGateway, TEST_DOMAIN, type ReadModelGateway, type ReadModelTopics } from './read-model-gateway.js';

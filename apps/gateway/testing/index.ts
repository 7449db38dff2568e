export { until } from './until.js';
export { expectLiveTrading, openPage, type LiveTradingSeen, type LivePage, type OpenPageOptions, type PageBatch, type PageBook, type PageTrade } from './live-page.js';

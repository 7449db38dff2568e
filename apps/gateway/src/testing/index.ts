export { openPage, type LivePage, type OpenPageOptions, type PageBatch, type PageBook, type PageTrade } from './live-page.js';

export * from './signing.js';
export * from './book-checksum.js';
export * from './orders.js';
export * from './local-book.js';
export * from './client.js';
export { parallax } from './ccxt/parallax.exchange.js';

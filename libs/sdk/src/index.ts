export * from './signing.js';
export * from './book-checksum.js';
export * from './orders.js';

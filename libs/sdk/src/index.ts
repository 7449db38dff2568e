// The API's EIP-712 Cancel / CancelAll / Login messages live in @parallax/chain (one place for every signed
// type of the deployment); re-exported here, where bot authors look for them.
export {
  cancelTypes,
  cancelAllTypes,
  loginTypes,
  hashCancel,
  hashCancelAll,
  hashLogin,
  signCancel,
  signCancelAll,
  signLogin,
  type CancelMessage,
  type CancelAllMessage,
  type LoginMessage,
} from '@parallax/chain';
export * from './book-checksum.js';
export * from './orders.js';
export * from './local-book.js';
export * from './client.js';
export { parallax } from './ccxt/parallax.exchange.js';

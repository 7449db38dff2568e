export * from './constants.js';
export * from './errors.js';
export * from './order.js';
export * from './fees.js';
export * from './signature.js';
export * from './api-auth.js';
export * from './typed-data.js';
export * from './batch.js';
export * from './markets.js';
export * from './anvil.js';
export * from './client.js';
export * from './local.js';
export * from './submitter/index.js';
export {
  settlementAbi,
  settlementBytecode,
  testTokenAbi,
  testTokenBytecode,
  SOLC_VERSION,
  EVM_VERSION,
} from './generated/contracts.js';

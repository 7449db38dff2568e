export * from './batch-settler.js';
export { DEFAULT_SETTLER_CONFIG, settlerConfig, type SettlerConfig } from './config.js';
export { bumpFees, initialFees, isAcceptedReplacement, gasWithMargin, backoffMs, type Fees } from './fees.js';
export { isTransientRpcError } from './rpc.js';

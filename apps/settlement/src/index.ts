export { startSettlement, type SettlementHandle, type StartOptions } from './app/bootstrap.js';
export {
  loadSettlementConfig,
  parseSettlementMarkets,
  formatSettlementMarkets,
  type SettlementConfig,
} from './config/settlement.config.js';
export { tradesOfEventBatch, type SettlementTrade } from './domain/trades.js';
export { selectBatch, modelledGas, GAS_MODEL, type BatchLimits, type CandidateFill } from './domain/batch-policy.js';
export {
  startLocalSettlementChain,
  localSettlementConfig,
  localOperatorKey,
  DEFAULT_DEPOSITS,
  LOCAL_TOKENS,
  localBaseToken,
  localTokenDecimals,
  type LocalToken,
  type LocalSettlementChain,
  type LocalSettlementOptions,
} from './local/local-settlement.js';
// Test support (signed order flows, expected deltas, the settlement verifier) is `@parallax/settlement/testing`.
export { deployDevChain, type DevChainDeployment } from './deploy/dev-chain-deploy.js';

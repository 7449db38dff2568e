export { startSettlement, type SettlementHandle, type StartOptions } from './app/bootstrap.js';
export {
  loadSettlementConfig,
  parseSettlementMarkets,
  formatSettlementMarkets,
  type SettlementConfig,
} from './config/settlement.config.js';
export { tradesOfEventBatch, type SettlementTrade } from './domain/trades.js';
export { selectBatch, modelledGas, GAS_MODEL, type BatchLimits, type CandidateFill } from './domain/batch-policy.js';
export { signedOrderFlow, produceSignedFlow, flowOrderKey, type SignedFlow, type SignedFlowMessage, type SignedFlowOptions } from './testing/signed-flow.js';
export { expectedDeltas, balanceKey, type ExpectedSettlement } from './testing/reconcile.js';
export {
  startLocalSettlementChain,
  localSettlementConfig,
  localOperatorKey,
  DEFAULT_DEPOSITS,
  type LocalSettlementChain,
  type LocalSettlementOptions,
} from './testing/local-settlement.js';
export { verifySettlement, readTrades, readTopic, waitFor, type VerifyInput, type VerifyReport } from './testing/verify-settlement.js';
export { deployDevChain, type DevChainDeployment } from './deploy/dev-chain-deploy.js';

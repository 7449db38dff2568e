export { RiskEngine, holdFor, type PendingByToken } from './engine/risk-engine.js';
export { RiskError } from './engine/errors.js';
export type { RiskErrorCode } from './engine/errors.js';
export { isAddress, shardForAccount, shardForId, mintId } from './engine/ids.js';
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './engine/snapshot.js';
export { PRICE_SCALE, FEE_SCALE, MAX_FEE_RATE, UINT128_MAX, UINT64_MAX } from './engine/types.js';
export type {
  Address,
  RiskMarket,
  RiskConfig,
  SignedOrder,
  PlaceRequest,
  CancelRequest,
  Deposit,
  WithdrawalRequested,
  WithdrawalCancelled,
  WithdrawalExecuted,
  Settled,
  SettlementSkipped,
  KeyAuthorized,
  KeyRevoked,
  NonceCancelled,
  RiskCommand,
  SignedOrderRecord,
  ForwardedPlace,
  ForwardedCancel,
  Accepted,
  Rejected,
  RiskOutcome,
  RiskRejectCode,
  Violation,
  AccountEventStats,
  BalanceView,
  ParkedSettlement,
  ParkedChainEvents,
  TokenTotals,
  OpenOrderView,
} from './engine/types.js';
// Test and benchmark support (the whole funds flow in one process, the reference the pipeline is audited
// against, and fixtures) is `@parallax/risk/testing`.

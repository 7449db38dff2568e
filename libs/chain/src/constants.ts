/** A price is the quote amount (quote base units) for PRICE_SCALE base units of the base token. */
export const PRICE_SCALE = 10n ** 18n;
/** Fee rates are millionths of the quote amount. */
export const FEE_RATE_SCALE = 1_000_000;
/** The contract's hard cap on any fee rate (10%), whatever an order signs. */
export const MAX_FEE_RATE = 100_000;
/** EIP-7825 (Osaka): no transaction may use more gas than this. Batches must fit under it. */
export const MAX_TX_GAS = 16_777_216n;
/** Layout version of the packed settleBatch calldata. */
export const BATCH_VERSION = 1;
/** The contract's bounds on the (immutable) withdrawal delay, in seconds. */
export const MAX_WITHDRAWAL_DELAY = 30n * 24n * 3600n;
export const MIN_WITHDRAWAL_DELAY = 3600n;
/** The contract's bounds on the (immutable) on-chain cancel / key revocation latency, in seconds. */
export const MIN_CANCEL_DELAY = 60n;
export const MAX_CANCEL_DELAY = 3600n;
/** Seconds between proposeOperator and executeOperatorChange. */
export const OPERATOR_CHANGE_DELAY = 2n * 24n * 3600n;
/**
 * Longest signed lifetime (seconds from signing) the signing helpers accept for an immediate order (IOC, FOK,
 * market): its expiry is its fill deadline on chain, so an unfilled remainder can never be filled later than
 * this, whatever the operator does.
 */
export const MAX_IMMEDIATE_ORDER_LIFETIME = 300n;
/** Bytes per entry of a FillsSettled log (buyer, seller, token indexes, amounts, fees). */
export const SETTLED_FILL_BYTES = 106;

/** Packed layout sizes (bytes), mirrored from ParallaxSettlement.sol. */
export const BATCH_LAYOUT = {
  headerBytes: 6,
  tokenBytes: 20,
  orderBytes: 140,
  fillBytes: 44,
  maxTokens: 255,
  maxOrders: 65_535,
  maxFills: 65_535,
} as const;

/** Name and version of the EIP-712 signing domain. */
export const DOMAIN_NAME = 'Parallax Settlement';
export const DOMAIN_VERSION = '1';

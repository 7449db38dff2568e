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
/** The contract's upper bound on the (immutable) withdrawal delay, in seconds. */
export const MAX_WITHDRAWAL_DELAY = 30n * 24n * 3600n;

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

// Integer domain of the matching core. Everything on the hot path is a JS number that is a safe integer:
// prices are ticks, sizes are lots, ids and logical timestamps are plain non-negative integers.
// Enumerations are small integers (fast to compare, hash and encode); *_NAMES give their stable names.

export const Side = { Buy: 0, Sell: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const OrderType = { Limit: 0, Market: 1 } as const;
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

/** GTC rests until cancelled; IOC trades what it can now; FOK trades all now or nothing; GTT rests until expiresAt. */
export const TimeInForce = { GTC: 0, IOC: 1, FOK: 2, GTT: 3 } as const;
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce];

/** Self-trade prevention mode of the taker (see README). Two orders self-trade when their accountId is equal. */
export const StpMode = {
  None: 0,
  CancelNewest: 1,
  CancelOldest: 2,
  CancelBoth: 3,
  DecrementAndCancel: 4,
} as const;
export type StpMode = (typeof StpMode)[keyof typeof StpMode];

/** Which command an event answers (carried by `rejected` so consumers know what was refused). */
export const CommandType = { Place: 1, Cancel: 2, CancelAll: 3, Amend: 4, Expire: 5 } as const;
export type CommandType = (typeof CommandType)[keyof typeof CommandType];

export const RejectReason = {
  INVALID_TIMESTAMP: 1,
  TIMESTAMP_REGRESSION: 2,
  INVALID_ORDER_ID: 3,
  INVALID_ACCOUNT_ID: 4,
  INVALID_SIDE: 5,
  INVALID_ORDER_TYPE: 6,
  INVALID_TIME_IN_FORCE: 7,
  INVALID_STP_MODE: 8,
  INVALID_PRICE: 9,
  INVALID_SIZE: 10,
  INVALID_EXPIRY: 11,
  EXPIRY_NOT_IN_FUTURE: 12,
  NOTIONAL_OUT_OF_RANGE: 13,
  DUPLICATE_ORDER_ID: 14,
  SIZE_BELOW_MINIMUM: 15,
  NOTIONAL_BELOW_MINIMUM: 16,
  TOO_MANY_OPEN_ORDERS: 17,
  PRICE_OUT_OF_BAND: 18,
  POST_ONLY_NOT_ALLOWED: 19,
  POST_ONLY_WOULD_TAKE: 20,
  ORDER_NOT_FOUND: 21,
  NOT_ORDER_OWNER: 22,
  AMEND_NO_CHANGE: 23,
  /** The side's total resting size would exceed Number.MAX_SAFE_INTEGER lots. */
  BOOK_SIZE_OUT_OF_RANGE: 24,
  /** ts runs further ahead of the market's clock than MarketConfig.maxTimestampStep allows. */
  TIMESTAMP_TOO_FAR_AHEAD: 25,
  /** MarketConfig.uniqueOrderIds: the id is not above every id the market has accepted before. */
  ORDER_ID_REUSED: 26,
} as const;
export type RejectReasonName = keyof typeof RejectReason;
export type RejectReason = (typeof RejectReason)[RejectReasonName];

/** Why an order left the book (or never rested). `remaining` in the done event is the size released unfilled. */
export const DoneReason = {
  /** Fully traded. */
  FILLED: 1,
  /** Cancelled by its owner (cancel or cancel-all). */
  CANCELLED: 2,
  /** GTT order reached its expiry. */
  EXPIRED: 3,
  /** IOC / market remainder with no more eligible liquidity. */
  UNFILLED: 4,
  /** FOK order that could not be filled completely: nothing traded. */
  KILLED: 5,
  /** Cancelled by self-trade prevention. */
  SELF_TRADE: 6,
} as const;
export type DoneReasonName = keyof typeof DoneReason;
export type DoneReason = (typeof DoneReason)[DoneReasonName];

/** Why an order's price or remaining size changed without a trade. */
export const AmendReason = {
  /** Owner amend command. */
  USER: 1,
  /** Self-trade prevention decrement (decrement-and-cancel) of the larger order. */
  SELF_TRADE_DECREMENT: 2,
} as const;
export type AmendReasonName = keyof typeof AmendReason;
export type AmendReason = (typeof AmendReason)[AmendReasonName];

export const EventKind = { Accepted: 1, Rejected: 2, Trade: 3, Done: 4, Amended: 5, Level: 6 } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

function namesOf<K extends string>(o: Record<K, number>): readonly (K | undefined)[] {
  const a: (K | undefined)[] = [];
  for (const k of Object.keys(o) as K[]) a[o[k]] = k;
  return a;
}
const rejectNames = namesOf(RejectReason);
const doneNames = namesOf(DoneReason);
const amendNames = namesOf(AmendReason);

/** Stable UPPER_SNAKE name of a reject reason code (e.g. 14 -> 'DUPLICATE_ORDER_ID'); undefined if unknown. */
export function rejectReasonName(code: number): RejectReasonName | undefined {
  return rejectNames[code];
}
export function doneReasonName(code: number): DoneReasonName | undefined {
  return doneNames[code];
}
export function amendReasonName(code: number): AmendReasonName | undefined {
  return amendNames[code];
}

/**
 * In-book rules of one market. Tick size and lot size are edge concerns (see units.ts): the book only sees
 * integer ticks and lots. All values are non-negative safe integers; 0 disables a rule.
 */
export interface MarketConfig {
  /** Numeric market id (stamped in snapshots; the book does not interpret it). */
  readonly marketId: number;
  /** Minimum order size in lots (0 or 1 = any positive size). */
  readonly minSize: number;
  /** Minimum notional of a limit order in ticks*lots (0 = none). */
  readonly minNotional: number;
  /** Maximum resting orders per account (0 = unlimited). */
  readonly maxOpenOrdersPerAccount: number;
  /** Price band half-width in basis points around the reference price, 1..10000 (0 = no band). */
  readonly priceBandBps: number;
  /** Reference price in ticks used until the first trade (0 = none: no band until a trade happens). */
  readonly initialReferencePrice: number;
  /**
   * Largest step a command's ts may take ahead of the market's clock (same unit as ts; 0 or absent = no
   * bound). Without it one command with a far-future ts would move the clock there for good and every
   * later command would be a regression. Not applied while the clock is still 0 (the first command sets it).
   */
  readonly maxTimestampStep?: number;
  /**
   * Order ids are never reused: a place must carry an id above every id this market has accepted
   * (absent = false: only live ids are refused, as DUPLICATE_ORDER_ID). The high-water mark is kept
   * either way (and in snapshots), so the rule can be switched on later without a gap. The same as
   * `orderIdSources: 1`; ignored when orderIdSources is given.
   */
  readonly uniqueOrderIds?: boolean;
  /**
   * Order ids are never reused, without a global counter: the id's source is `orderId % orderIdSources`
   * (the writer that minted it: a gateway instance, a risk shard), and each source's ids must increase. A
   * place whose id is not above the highest id its source had accepted is ORDER_ID_REUSED, so an id can
   * be used once in the market's life whoever writes it. 0 = no rule (only live ids are refused); 1 = one
   * source (every id above every earlier one). At most MAX_ORDER_ID_SOURCES. Absent: from uniqueOrderIds.
   */
  readonly orderIdSources?: number;
}

/** Largest MarketConfig.orderIdSources (the marks are kept per source in every snapshot). */
export const MAX_ORDER_ID_SOURCES = 4096;

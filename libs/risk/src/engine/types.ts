// The risk engine's domain: accounts are trader addresses, amounts are token base units (bigint), prices
// are the settlement contract's units (quote base units per 1e18 base units). Everything here is plain
// data: commands in, outcomes out (see risk-engine.ts).
import type { CancelOrder, OrderType, PlaceOrder, StpMode, TimeInForce } from '@parallax/order-book';

/** A 20-byte address as lower-case hex ("0x" + 40 chars). Accounts, signers and tokens are addresses. */
export type Address = `0x${string}`;

/** The contract's price unit: quote base units per PRICE_SCALE base units. */
export const PRICE_SCALE = 10n ** 18n;
/** Fee rates are millionths of the quote amount. */
export const FEE_SCALE = 1_000_000n;
/** The settlement contract's MAX_FEE_RATE (10%). */
export const MAX_FEE_RATE = 100_000;
export const UINT128_MAX = (1n << 128n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;

/** How one market maps onto tokens and fees. */
export interface RiskMarket {
  /** Positive safe integer, as in the market catalogue. */
  readonly marketId: number;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  /** Base-token base units per lot (the book's size unit). */
  readonly lotSize: bigint;
  /** Contract price units per tick (the book's price unit); lotSize * tickSize is a multiple of 1e18. */
  readonly tickSize: bigint;
  /**
   * Maker fee in millionths of the quote amount. Negative = a rebate paid to the maker, at most the taker
   * fee in size (so every trade leaves the exchange a non-negative fee).
   */
  readonly makerFeeRate: number;
  /** Taker fee in millionths of the quote amount, 0..MAX_FEE_RATE. */
  readonly takerFeeRate: number;
}

export interface RiskConfig {
  /** The account shard this engine owns (partition of the requests / account-events topics). */
  readonly shard: number;
  /** Number of account shards. Fixed for a deployment: account and order ids are derived from it. */
  readonly shards: number;
  readonly markets: readonly RiskMarket[];
  /** Logical time units (the commands' `ts`) per second of a signed expiry. Default 1000 (ts in ms). */
  readonly tsPerSecond?: number;
  /**
   * Orders stop trading this many ts units before their signed expiry (settlement latency), so no fill is
   * sent to the chain after the order's deadline. Default 0.
   */
  readonly expiryMarginTs?: number;
}

/** The order the trader signed (EIP-712 "Order" of the settlement contract), with its signature. */
export interface SignedOrder {
  readonly trader: Address;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  readonly isBuy: boolean;
  /** uint128; limit price, or the protection price of a market order. */
  readonly price: bigint;
  /** uint128, base units. */
  readonly size: bigint;
  /** Millionths, 0..MAX_FEE_RATE. */
  readonly maxFeeRate: number;
  /** Unix seconds, uint64. */
  readonly expiry: bigint;
  /** uint64. */
  readonly nonce: bigint;
  /** 65 bytes as hex. Verified upstream (gateway); the engine checks its shape and who signed. */
  readonly signature: `0x${string}`;
}

/**
 * A new order. Side, price and size are taken from the signed order (the book can only ever see what was
 * signed); the rest is how the book should treat it.
 */
export interface PlaceRequest {
  readonly type: 'place';
  readonly ts: number;
  /** The account (trader address) the request is keyed by. */
  readonly account: Address;
  /** The address that produced the signature (recovered upstream): the trader or one of its trading keys. */
  readonly signer: Address;
  readonly marketId: number;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  /** GTT only, logical time; 0 otherwise. Capped at the signed expiry. */
  readonly expiresAt: number;
  readonly postOnly: boolean;
  readonly stp: StpMode;
  readonly order: SignedOrder;
  /**
   * The trader's own id for the order (1..36 of [A-Za-z0-9_-]), carried to the signed orders the shard publishes
   * so that any reader finds the order by it; the engine does not use it.
   */
  readonly clientOrderId?: string;
}

export interface CancelRequest {
  readonly type: 'cancel';
  readonly ts: number;
  readonly account: Address;
  readonly signer: Address;
  readonly orderId: number;
}

/** A confirmed on-chain deposit (after the confirmation depth). */
export interface Deposit {
  readonly type: 'deposit';
  readonly account: Address;
  readonly token: Address;
  readonly amount: bigint;
}

/** A confirmed on-chain withdrawal request: its funds must stop backing orders. */
export interface WithdrawalRequested {
  readonly type: 'withdrawalRequested';
  readonly ts: number;
  readonly account: Address;
  readonly token: Address;
  readonly amount: bigint;
}

/** The trader cancelled a pending withdrawal request on chain. */
export interface WithdrawalCancelled {
  readonly type: 'withdrawalCancelled';
  readonly account: Address;
  readonly token: Address;
  readonly amount: bigint;
}

/**
 * A withdrawal left the contract. It is applied from what is reserved for it, then from available; what the
 * chain paid out of a settlement receipt this shard has not matched with its fills yet (parked) waits with
 * that receipt and is applied as soon as it is (ParkedSettlement.withdrawal).
 */
export interface WithdrawalExecuted {
  readonly type: 'withdrawalExecuted';
  readonly account: Address;
  readonly token: Address;
  readonly amount: bigint;
}

/** A settled batch's net effect on one account and token: unsettled amounts become on-chain balance. */
export interface Settled {
  readonly type: 'settled';
  readonly account: Address;
  readonly token: Address;
  readonly received: bigint;
  readonly paid: bigint;
  readonly fees: bigint;
}

/**
 * What a settled batch did NOT settle for one account and token: the fills the contract skipped for lack of
 * funds (its FillsSkipped event), netted per account and token like `settled` (the counterparty's side is its
 * own record, on its own shard). The ledger booked those fills as unsettled when the book reported them;
 * they will never settle, so the engine reverses them: unsettledIn / unsettledOut / feesOwed drop by
 * received / paid / fees, what the fill paid (and its fee) comes back, what it received is taken back, the
 * shard's flow and fee totals are reversed, and `onchain` does not move (the contract moved nothing).
 * Taking back a receipt the account already committed (to open orders, a withdrawal, or further fills)
 * comes from available first, then from heldWithdrawals (that part of the request is short again), and the
 * rest becomes the balance's `deficit`, paid first by whatever the account receives or is released next.
 * A skip that arrives before the fills it reverses waits, parked, like a settlement.
 */
export interface SettlementSkipped {
  readonly type: 'settlementSkipped';
  readonly account: Address;
  readonly token: Address;
  readonly received: bigint;
  readonly paid: bigint;
  readonly fees: bigint;
}

export interface KeyAuthorized {
  readonly type: 'keyAuthorized';
  readonly account: Address;
  readonly key: Address;
}

export interface KeyRevoked {
  readonly type: 'keyRevoked';
  readonly account: Address;
  readonly key: Address;
}

/** The trader cancelled a nonce on chain: no order with it may trade any more. */
export interface NonceCancelled {
  readonly type: 'nonceCancelled';
  readonly ts: number;
  readonly account: Address;
  readonly nonce: bigint;
}

export type RiskCommand =
  | PlaceRequest
  | CancelRequest
  | Deposit
  | WithdrawalRequested
  | WithdrawalCancelled
  | WithdrawalExecuted
  | Settled
  | SettlementSkipped
  | KeyAuthorized
  | KeyRevoked
  | NonceCancelled;

/** The settlement order record forwarded with an accepted place (the `signedOrders` topic's record). */
export interface SignedOrderRecord {
  readonly orderId: number;
  readonly accountId: number;
  readonly trader: Address;
  readonly isBuy: boolean;
  readonly price: bigint;
  readonly size: bigint;
  readonly maxFeeRate: number;
  readonly expiry: bigint;
  readonly nonce: bigint;
  readonly signature: `0x${string}`;
}

export interface ForwardedPlace {
  readonly marketId: number;
  readonly command: PlaceOrder;
  readonly signed: SignedOrderRecord;
}

export interface ForwardedCancel {
  readonly marketId: number;
  readonly command: CancelOrder;
}

export interface Accepted {
  readonly ok: true;
  /** The book command (and its signed order) to send to the market's partition; null for non-orders. */
  readonly place: ForwardedPlace | null;
  /**
   * Cancels to send: a cancel request, an on-chain nonce cancel, or orders cancelled because their holds back
   * a claim the chain does not fund (a withdrawal request beyond available, or the deficit a skipped fill
   * left: see RiskEngine coverClaims).
   */
  readonly cancels: readonly ForwardedCancel[];
}

export interface Rejected {
  readonly ok: false;
  readonly code: RiskRejectCode;
  readonly message: string;
}

export type RiskOutcome = Accepted | Rejected;

/** Stable codes of refused commands: the client (or the chain watcher's alert) learns exactly why. */
export type RiskRejectCode =
  | 'UNKNOWN_COMMAND'
  | 'INVALID_ADDRESS'
  | 'WRONG_SHARD'
  | 'UNKNOWN_MARKET'
  | 'UNKNOWN_TOKEN'
  | 'INVALID_AMOUNT'
  | 'INVALID_TIMESTAMP'
  | 'INVALID_ORDER'
  | 'TRADER_MISMATCH'
  | 'NOT_AUTHORIZED'
  | 'TOKEN_MISMATCH'
  | 'INVALID_SIZE'
  | 'SIZE_OFF_LOT'
  | 'INVALID_PRICE'
  | 'PRICE_OFF_TICK'
  | 'PROTECTION_PRICE_REQUIRED'
  | 'INVALID_FEE_RATE'
  | 'FEE_BOUND_TOO_LOW'
  | 'INVALID_EXPIRY'
  | 'ORDER_EXPIRED'
  | 'INVALID_NONCE'
  | 'NONCE_USED'
  | 'INVALID_SIGNATURE'
  | 'INSUFFICIENT_FUNDS'
  | 'ORDER_NOT_FOUND'
  | 'NOT_ORDER_OWNER'
  | 'CANCEL_PENDING'
  | 'UNKNOWN_ACCOUNT'
  | 'WITHDRAWAL_NOT_FOUND'
  | 'WITHDRAWAL_NOT_COVERED'
  /** No longer produced: a settlement beyond the unsettled amounts is parked (ParkedSettlement). Kept for recorded journals. */
  | 'SETTLEMENT_MISMATCH'
  | 'TOO_MANY_ACCOUNTS';

/**
 * What the engine refused from the book's reports (account events). Not input errors: the book or a writer
 * of the topic broke a rule the signature sets (more than the order's size, a worse price). The event is
 * not applied to that side; this is an alert.
 */
export interface Violation {
  readonly code: 'OVERFILL' | 'PRICE_VIOLATION' | 'AMEND_VIOLATION' | 'MARKET_MISMATCH' | 'ACCOUNT_MISMATCH';
  readonly marketId: number;
  readonly seq: number;
  readonly orderId: number;
  readonly message: string;
}

export interface AccountEventStats {
  /** Events that changed an order of this shard. */
  readonly applied: number;
  /** Events at or below the market's last applied sequence (redelivery). */
  readonly duplicates: number;
  /** Events about no open order of this shard (the other side's shard, or accepted/level events). */
  readonly ignored: number;
  readonly violations: readonly Violation[];
  /**
   * Cancels to send (like Accepted.cancels): orders cancelled because their holds back a claim the chain
   * does not fund (a deficit or withdrawal shortfall left by skipped fills), or asked again after a book
   * refused such a cancel. Usually empty.
   */
  readonly cancels: readonly ForwardedCancel[];
}

/**
 * One account's position in one token, base units. The invariant tying them (checked by checkInvariants
 * and property-tested):
 *
 *   available + heldOrders + heldWithdrawals == onchain + unsettledIn - unsettledOut - feesOwed + deficit
 *
 * and every field is >= 0. `deficit` (RiskEngine.deficit; 0 unless a skipped fill took back a receipt the
 * account had already committed to open orders or spent on other fills) is by how much the holds exceed the
 * account's funds: every later credit (receipts, released holds, deposits) pays it first, and while it is
 * non-zero available and heldWithdrawals are 0, so no new order is accepted.
 */
export interface BalanceView {
  /** The contract's balanceOf as this ledger knows it: deposits - executed withdrawals + settled fills. */
  readonly onchain: bigint;
  /** Free to back new orders or a withdrawal. */
  readonly available: bigint;
  /** The most the account's open orders can still cost in this token (see holdFor). */
  readonly heldOrders: bigint;
  /** Reserved for withdrawal requests made on chain and not yet executed or cancelled. */
  readonly heldWithdrawals: bigint;
  /**
   * Part of a withdrawal request not yet reserved because open orders held it; their cancels are on the
   * way and released funds go here first. A claim, not funds: not part of the invariant's sums.
   */
  readonly withdrawalShortfall: bigint;
  /** Received by fills (and maker rebates) not settled on chain yet. */
  readonly unsettledIn: bigint;
  /** Paid by fills not settled on chain yet (fees excluded). */
  readonly unsettledOut: bigint;
  /** Fees charged by fills not settled on chain yet. */
  readonly feesOwed: bigint;
  /**
   * What skipped fills took back beyond the account's free funds (see the invariant above): owed, paid first
   * by whatever the account receives or is released next. While it is non-zero the account's open orders in
   * this token are cancelled (RiskEngine coverClaims) and no new order is accepted.
   */
  readonly deficit: bigint;
}

/**
 * A settlement applied on chain (received / paid / fees) whose fills this shard has not seen yet: it arrived
 * before the account events of its fills and waits for them (RiskEngine.parked). Outside BalanceView's
 * invariant sums; the contract's balanceOf is onchain + received - paid - fees.
 */
export interface ParkedSettlement {
  readonly received: bigint;
  readonly paid: bigint;
  readonly fees: bigint;
}

/**
 * Everything one balance has waiting for fills this shard has not seen yet: the settlement (as
 * ParkedSettlement), the skipped fills to reverse (settlementSkipped before its fills) and the part of an
 * executed withdrawal the chain paid out of the parked receipt. All outside BalanceView's sums; the
 * contract's balanceOf is onchain + received - paid - fees - withdrawal.
 */
export interface ParkedChainEvents extends ParkedSettlement {
  readonly skippedReceived: bigint;
  readonly skippedPaid: bigint;
  readonly skippedFees: bigint;
  readonly withdrawal: bigint;
}

/**
 * Per-token totals of the shard. Conservation: Σ(available + heldOrders + heldWithdrawals) + fees ==
 * deposits - withdrawals + flow on every shard, and Σ flow == 0 over all shards (what one account receives
 * from a fill, its counterparty paid, wherever its shard is).
 */
export interface TokenTotals {
  readonly deposits: bigint;
  readonly withdrawals: bigint;
  /** Fees collected for the exchange's fee recipient (net of maker rebates), settled or not. */
  readonly fees: bigint;
  /** Net receipts of this shard's accounts from fills (received - paid, fees aside): the cross-shard in-flight amount. */
  readonly flow: bigint;
}

export interface OpenOrderView {
  readonly orderId: number;
  readonly marketId: number;
  readonly accountId: number;
  readonly isBuy: boolean;
  /** Limit (or protection) price in ticks; 0 = an unprotected market sell. */
  readonly priceTicks: number;
  readonly remainingLots: number;
  /** What the order still holds (== holdFor its remaining lots). */
  readonly hold: bigint;
  readonly nonce: bigint;
  readonly cancelRequested: boolean;
}

export type { OrderType, StpMode, TimeInForce };

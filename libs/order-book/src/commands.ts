import type { OrderType, Side, StpMode, TimeInForce } from './types.js';

// Commands are plain objects; the book never keeps a reference to them, so a caller on the hot path may
// reuse one mutable object per command type. Every command carries its logical timestamp `ts`
// (a non-negative safe integer, non-decreasing across the commands of a market).

export interface PlaceOrder {
  readonly type: 'place';
  readonly ts: number;
  /** Caller-assigned, unique among the market's live orders; positive safe integer. */
  readonly orderId: number;
  /** Non-negative safe integer. */
  readonly accountId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  /** Limit price in ticks. Market orders: optional protection price (worst price to trade at), 0 = none. */
  readonly price: number;
  /** Size in lots (positive safe integer). */
  readonly size: number;
  /** Limit: GTC, IOC, FOK or GTT. Market: IOC or FOK. */
  readonly tif: TimeInForce;
  /** GTT only: logical time at which the order expires (it is live while ts < expiresAt). Otherwise 0. */
  readonly expiresAt: number;
  /** Post-only (limit GTC/GTT only): rejected if it would take liquidity. */
  readonly postOnly: boolean;
  readonly stp: StpMode;
}

export interface CancelOrder {
  readonly type: 'cancel';
  readonly ts: number;
  readonly orderId: number;
  /** Must own the order. */
  readonly accountId: number;
}

export interface CancelAll {
  readonly type: 'cancelAll';
  readonly ts: number;
  readonly accountId: number;
}

/**
 * Change the price and/or remaining size of a resting order. Size down at the same price keeps queue
 * priority; a price change or size up moves it to the back (and a new price may trade, see README).
 */
export interface AmendOrder {
  readonly type: 'amend';
  readonly ts: number;
  readonly orderId: number;
  readonly accountId: number;
  /** New limit price in ticks. */
  readonly price: number;
  /** New remaining (open) size in lots. */
  readonly size: number;
}

/** Advance the logical clock: expires every GTT order with expiresAt <= ts. */
export interface ExpireOrders {
  readonly type: 'expire';
  readonly ts: number;
}

export type Command = PlaceOrder | CancelOrder | CancelAll | AmendOrder | ExpireOrders;

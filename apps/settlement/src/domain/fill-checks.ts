// What the settlement service checks before a fill goes near the chain, and how it classifies what the
// chain says about a fill. Pure functions: the loop applies them.
import type { PendingFill, SettlementOrderRecord } from '@parallax/persistence';

/** Reason code of a fill whose trade contradicts its signed orders (a bad record: failed, never settled). */
export const SIGNED_ORDER_MISMATCH = 'SIGNED_ORDER_MISMATCH';
/** Dead-letter reason of a signed order that differs from the one already stored under its (market, orderId). */
export const SIGNED_ORDER_CONFLICT = 'SIGNED_ORDER_CONFLICT';

/**
 * Why a fill's trade and its two signed orders cannot belong together, or undefined when they do. The engine's
 * trade names the maker and taker accounts and the taker's side; the signed orders must be those accounts'
 * orders on those sides. Without this an order id reused (or forged) on the signed-orders topic would settle a
 * trade against another trader's signature. Rows stored before account ids were kept carry none: for them
 * only the sides are checked.
 */
export function signedOrderMismatch(fill: TradeOrders): string | undefined {
  const { maker, taker } = fill;
  if (maker === undefined || taker === undefined) return undefined;
  const problems = [orderContradicts(fill, maker, 'maker'), orderContradicts(fill, taker, 'taker')].filter((p) => p !== undefined);
  return problems.length === 0 ? undefined : problems.join('; ');
}

/** What a fill's trade says of its two orders, and the signed orders stored for them (if any). */
export type TradeOrders = Pick<PendingFill, 'makerOrderId' | 'takerOrderId' | 'makerAccountId' | 'takerAccountId' | 'takerSide' | 'maker' | 'taker'>;

/**
 * Why `order` cannot be the trade's `role` order (another account, or the wrong side), or undefined when it
 * can. Checked at ingest whichever of the two arrives second, and again before a fill is batched.
 */
export function orderContradicts(fill: Omit<TradeOrders, 'maker' | 'taker'>, order: Pick<SettlementOrderRecord, 'accountId' | 'isBuy'>, role: 'maker' | 'taker'): string | undefined {
  const problems: string[] = [];
  const orderId = role === 'maker' ? fill.makerOrderId : fill.takerOrderId;
  const accountId = role === 'maker' ? fill.makerAccountId : fill.takerAccountId;
  if (accountId !== undefined && order.accountId !== accountId) {
    problems.push(`${role} order ${orderId} is signed for account ${order.accountId}, the trade's ${role} is account ${accountId}`);
  }
  const takerBuys = fill.takerSide === 'BUY';
  const buys = role === 'taker' ? takerBuys : !takerBuys;
  if (order.isBuy !== buys) problems.push(`the ${role} ${buys ? 'buys' : 'sells'} but its signed order ${order.isBuy ? 'buys' : 'sells'}`);
  return problems.length === 0 ? undefined : problems.join('; ');
}

/**
 * Contract errors that blame the trader's own order or funds: the fill can never settle as signed, so it fails
 * for good. Every other reason the settler excludes a fill for (an undecodable revert, an error about the
 * batch's encoding, the gas cap, an encoder error) is a fault of this system: the fill stays PENDING, is
 * retried with later batches and raises an alert; it is never failed on the system's account.
 */
export const TRADER_FAULTS: ReadonlySet<string> = new Set([
  'FillUnderfunded', // the trader's balance did not cover the fill (the contract skipped it: FillsSkipped)
  'InvalidSignature', // the order's signature does not recover to its trader
  'CancelledOrder', // the trader cancelled the order (or its nonce) on chain and the cancel took effect
  'OrderExpired', // the signed deadline passed
  'OrderNonceUsed', // the order was already used up or cancelled
  'Overfill', // more than the signed size
  'PriceLimitExceeded', // worse than the signed price
  'FeeRateExceeded', // more than the signed fee bound
]);

export function isTraderFault(reason: string): boolean {
  return TRADER_FAULTS.has(reason);
}

// What the settlement service checks before a fill goes near the chain, and how it classifies what the
// chain says about a fill. Pure functions: the loop applies them.
import type { PendingFill } from '@parallax/persistence';

/** Reason code of a fill whose trade contradicts its signed orders (a bad record: failed, never settled). */
export const SIGNED_ORDER_MISMATCH = 'SIGNED_ORDER_MISMATCH';

/**
 * Why a fill's trade and its two signed orders cannot belong together, or undefined when they do. The engine's
 * trade names the maker and taker accounts and the taker's side; the signed orders must be those accounts'
 * orders on those sides. Without this an order id reused (or forged) on the signed-orders topic would settle a
 * trade against another trader's signature. Rows stored before account ids were kept carry none: for them
 * only the sides are checked.
 */
export function signedOrderMismatch(fill: PendingFill): string | undefined {
  const { maker, taker } = fill;
  if (maker === undefined || taker === undefined) return undefined;
  const problems: string[] = [];
  if (fill.makerAccountId !== undefined && maker.accountId !== fill.makerAccountId) {
    problems.push(`maker order ${fill.makerOrderId} is signed for account ${maker.accountId}, the trade's maker is account ${fill.makerAccountId}`);
  }
  if (fill.takerAccountId !== undefined && taker.accountId !== fill.takerAccountId) {
    problems.push(`taker order ${fill.takerOrderId} is signed for account ${taker.accountId}, the trade's taker is account ${fill.takerAccountId}`);
  }
  const takerBuys = fill.takerSide === 'BUY';
  if (taker.isBuy !== takerBuys) problems.push(`the taker ${takerBuys ? 'buys' : 'sells'} but its signed order ${taker.isBuy ? 'buys' : 'sells'}`);
  if (maker.isBuy === takerBuys) problems.push(`the maker ${takerBuys ? 'sells' : 'buys'} but its signed order ${maker.isBuy ? 'buys' : 'sells'}`);
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

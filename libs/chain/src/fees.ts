// The settlement contract's fee and rebate arithmetic, the one definition every off-chain ledger uses (the
// risk engine imports it as @parallax/chain/fees; the settlement service and the chain watcher through
// @parallax/chain). Pure and import-free on purpose: the risk engine is a pure lib and must not pull viem.
//
// Contract (ParallaxSettlement._applyFills): each side of a fill carries a signed int32 rate in millionths
// of the fill's quote amount. rate >= 0 is a fee, floor(quote * rate / 1e6); rate < 0 is a rebate paid to
// that side, floor(quote * -rate / 1e6). Both round down: a trader never pays a fraction of a base unit more,
// and is never paid one more, than the exact amount, so the rounding dust of a rebate stays with the fee
// recipient. A rebate must not exceed the other side's fee in the same fill (RebateExceedsFee) and at most
// one side may carry a rebate (RebateOnBothSides).

const SCALE = 1_000_000n;

/** Fee of one side at a non-negative rate: floor(quote * rate / 1e6). 0 for a negative rate (a rebate). */
export function feeAmount(quote: bigint, feeRate: number): bigint {
  return feeRate > 0 ? (quote * BigInt(feeRate)) / SCALE : 0n;
}

/** Rebate paid to one side at a signed rate: floor(quote * -rate / 1e6) for rate < 0, else 0. */
export function rebateAmount(quote: bigint, rate: number): bigint {
  return rate < 0 ? (quote * BigInt(-rate)) / SCALE : 0n;
}

/**
 * The signed fee of one side as FillsSettled reports it: feeAmount - rebateAmount (negative: a rebate).
 * Note that this truncates toward zero in both directions, which is what the contract's two floors give.
 */
export function signedFee(quote: bigint, rate: number): bigint {
  return feeAmount(quote, rate) - rebateAmount(quote, rate);
}

/** What a fill moves in fees, as the contract computes it (no bound checks: see fillFeeError). */
export interface FillFees {
  readonly buyFee: bigint;
  readonly sellFee: bigint;
  readonly buyRebate: bigint;
  readonly sellRebate: bigint;
  /** buyFee + sellFee - buyRebate - sellRebate: what the fee recipient is credited (>= 0 for a valid fill). */
  readonly net: bigint;
}

export function fillFees(quote: bigint, buyRate: number, sellRate: number): FillFees {
  const buyFee = feeAmount(quote, buyRate);
  const sellFee = feeAmount(quote, sellRate);
  const buyRebate = rebateAmount(quote, buyRate);
  const sellRebate = rebateAmount(quote, sellRate);
  return { buyFee, sellFee, buyRebate, sellRebate, net: buyFee + sellFee - buyRebate - sellRebate };
}

/**
 * Why the contract would revert a fill's rates, or undefined: 'REBATE_ON_BOTH_SIDES' or
 * 'REBATE_EXCEEDS_FEE' (the rebate of one side above the other side's fee). The per-order fee bound
 * (maxFeeRate, MAX_FEE_RATE) is checked with the orders.
 */
export function fillFeeError(quote: bigint, buyRate: number, sellRate: number): 'REBATE_ON_BOTH_SIDES' | 'REBATE_EXCEEDS_FEE' | undefined {
  if (buyRate < 0 && sellRate < 0) return 'REBATE_ON_BOTH_SIDES';
  const f = fillFees(quote, buyRate, sellRate);
  if (f.buyRebate > f.sellFee || f.sellRebate > f.buyFee) return 'REBATE_EXCEEDS_FEE';
  return undefined;
}

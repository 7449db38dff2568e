// Pure fee and backoff arithmetic of the settler (unit-tested in fees.spec.ts).

export interface Fees {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

/** What nodes (geth, anvil) require of a same-nonce replacement: both fee fields up by at least 10%. */
export const MIN_REPLACEMENT_BUMP_PERCENT = 10n;

/** maxFee = 2 * baseFee + priority (survives ~6 full blocks of base-fee growth), capped; priority <= maxFee. */
export function initialFees(baseFeePerGas: bigint, priorityFeePerGas: bigint, maxFeePerGasCap: bigint): Fees {
  const maxFeePerGas = min(2n * baseFeePerGas + priorityFeePerGas, maxFeePerGasCap);
  return { maxFeePerGas, maxPriorityFeePerGas: min(priorityFeePerGas, maxFeePerGasCap) };
}

/**
 * Fees of a replacement: both fields up by `percent` (rounded up, at least +1 wei), the max fee also at
 * least what initialFees would offer at the current base fee, all capped. Undefined when the cap leaves no
 * room for a bump the node would accept as a replacement (the caller keeps waiting instead).
 */
export function bumpFees(previous: Fees, percent: number, baseFeePerGas: bigint, maxFeePerGasCap: bigint): Fees | undefined {
  const p = BigInt(percent);
  const up = (fee: bigint): bigint => max(ceilDiv(fee * (100n + p), 100n), fee + 1n);
  const maxFeePerGas = min(max(up(previous.maxFeePerGas), 2n * baseFeePerGas + up(previous.maxPriorityFeePerGas)), maxFeePerGasCap);
  const maxPriorityFeePerGas = min(up(previous.maxPriorityFeePerGas), maxFeePerGasCap);
  const fees = { maxFeePerGas, maxPriorityFeePerGas: min(maxPriorityFeePerGas, maxFeePerGas) };
  return isAcceptedReplacement(previous, fees) ? fees : undefined;
}

/** Whether a node would accept `next` as a replacement of `previous` (both fields >= +10%). */
export function isAcceptedReplacement(previous: Fees, next: Fees): boolean {
  const enough = (before: bigint, after: bigint): boolean =>
    after > before && after * 100n >= before * (100n + MIN_REPLACEMENT_BUMP_PERCENT);
  return enough(previous.maxFeePerGas, next.maxFeePerGas) && enough(previous.maxPriorityFeePerGas, next.maxPriorityFeePerGas);
}

/** Gas limit from an estimate: + margin percent, rounded up. */
export function gasWithMargin(estimate: bigint, marginPercent: number): bigint {
  return ceilDiv(estimate * BigInt(100 + marginPercent), 100n);
}

/** Delay before retry number `attempt` (0-based): initial * 2^attempt, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(initialMs * 2 ** Math.min(attempt, 30), maxMs);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

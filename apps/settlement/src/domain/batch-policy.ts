// When a batch closes and which fills it takes: by count, by modelled gas and by age. Pure; time comes in.
//
// The gas model only chooses how many fills to try: the settler then measures the batch on the node and
// defers the tail of a batch whose real gas passes the per-transaction cap. Its figures come from the
// contract's gas benchmark (libs/chain/README.md): ~21.3k per fill with two fresh orders of repeat traders
// (so ~8.5k per order: decode, EIP-712 hash, ecrecover, nonce bits, its 48 bytes of the batch's fill log, 140
// calldata bytes), ~3.9k to apply each fill, plus first-time storage for new traders.
// The model takes the middle road (a repeat trader's order, a fill that writes warm slots), which is right for
// the steady state of a venue; a burst of brand-new traders is what the estimate-and-defer step is for.

export interface BatchLimits {
  readonly maxFills: number;
  readonly maxGas: number;
  readonly maxAgeMs: number;
  /**
   * A fill whose signed orders have not all arrived after this long is reported as overdue (an alert: the
   * ingest's fault, never the trader's); it stays PENDING and settles if its orders come.
   */
  readonly signedOrderWaitMs: number;
}

export const GAS_MODEL = Object.freeze({
  /** Intrinsic 21k, header, batch-id check, BatchSettled and fee logs. */
  perBatch: 60_000,
  /** Decode, hash, ecrecover, nonce bits (and the partial record when there is one), log entry, calldata. */
  perOrder: 12_000,
  /** Balance reads/writes (4 slots), checks, 44 calldata bytes. */
  perFill: 9_000,
});

export function modelledGas(orders: number, fills: number): number {
  return GAS_MODEL.perBatch + orders * GAS_MODEL.perOrder + fills * GAS_MODEL.perFill;
}

export interface CandidateFill {
  /** When the service stored the fill (wall clock, ms). */
  readonly receivedAtMs: number;
  /** Keys of its two orders; undefined while that signed order has not arrived. */
  readonly makerOrder: string | undefined;
  readonly takerOrder: string | undefined;
}

export type CloseReason = 'count' | 'gas' | 'age';

export interface BatchSelection<F extends CandidateFill> {
  /** The fills of the batch to build now (FIFO), empty when no batch should close yet. */
  readonly take: readonly F[];
  readonly reason: CloseReason | undefined;
  readonly modelledGas: number;
  /** Fills that waited longer than signedOrderWaitMs for a signed order: alert on them (they stay PENDING). */
  readonly orphaned: readonly F[];
}

/**
 * Chooses the next batch from pending fills (FIFO order). A fill missing one of its signed orders does not
 * block the fills behind it; after `signedOrderWaitMs` it is reported as orphaned.
 */
export function selectBatch<F extends CandidateFill>(pending: readonly F[], nowMs: number, limits: BatchLimits): BatchSelection<F> {
  const take: F[] = [];
  const orphaned: F[] = [];
  const orders = new Set<string>();
  let reason: CloseReason | undefined;
  let oldest = Number.POSITIVE_INFINITY;
  for (const f of pending) {
    if (f.makerOrder === undefined || f.takerOrder === undefined) {
      if (nowMs - f.receivedAtMs >= limits.signedOrderWaitMs) orphaned.push(f);
      continue;
    }
    if (reason !== undefined) continue;
    const newOrders = (orders.has(f.makerOrder) ? 0 : 1) + (orders.has(f.takerOrder) || f.takerOrder === f.makerOrder ? 0 : 1);
    if (take.length > 0 && modelledGas(orders.size + newOrders, take.length + 1) > limits.maxGas) {
      reason = 'gas';
      continue;
    }
    orders.add(f.makerOrder);
    orders.add(f.takerOrder);
    take.push(f);
    oldest = Math.min(oldest, f.receivedAtMs);
    if (take.length >= limits.maxFills) reason = 'count';
  }
  if (reason === undefined && take.length > 0 && nowMs - oldest >= limits.maxAgeMs) reason = 'age';
  const gas = modelledGas(orders.size, take.length);
  return { take: reason === undefined ? [] : take, reason, modelledGas: reason === undefined ? 0 : gas, orphaned };
}

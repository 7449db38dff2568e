// A market's public data as the gateway (in memory) and the projector (in PostgreSQL) fold it from the engine's
// events: trade records, and OHLCV candles in the book's integer units: prices in ticks, volume in lots of the
// base asset (the traded size, not its notional). One-minute candles are what both keep; longer periods
// (5m .. 1d) are merged from them. Pure: the callers keep what they fold.
import type { TradeEvent } from './events.js';

/** A trade as the read models keep it: the engine's trade event without its type tag. */
export type TradeRecord = Omit<TradeEvent, 'type'>;

export function tradeRecord(e: TradeEvent): TradeRecord {
  return {
    seq: e.seq,
    ts: e.ts,
    price: e.price,
    size: e.size,
    takerSide: e.takerSide,
    makerOrderId: e.makerOrderId,
    takerOrderId: e.takerOrderId,
    makerAccountId: e.makerAccountId,
    takerAccountId: e.takerAccountId,
  };
}

export const MINUTE_MS = 60_000;

export interface Candle {
  /** Start of the period (ms, a multiple of the period). */
  readonly start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Lots of the base asset traded in the period. */
  volume: number;
}

/** The start of the period of `periodMs` holding `ts` (ms; both non-negative, `periodMs` > 0). */
export function candleStart(ts: number, periodMs: number = MINUTE_MS): number {
  return ts - (ts % periodMs);
}

/**
 * Folds one trade into the candle of its period. When `current` is the candle of the trade's period it is widened
 * in place (high/low, close = the trade's price, volume + size) and returned; otherwise (no candle yet, or another
 * period's) the trade opens a new candle, which is returned for the caller to keep. A trade older than `current`
 * is the caller's to refuse before calling.
 */
export function foldTrade(current: Candle | undefined, ts: number, price: number, size: number, periodMs: number = MINUTE_MS): Candle {
  const start = candleStart(ts, periodMs);
  if (current === undefined || current.start !== start) return { start, open: price, high: price, low: price, close: price, volume: size };
  mergeLater(current, price, price, price, size);
  return current;
}

/**
 * The candles of `periodMs` starting at or after `fromMs` (rounded down to the period), oldest first, merged from
 * `candles` (shorter candles, oldest first, each within one period of `periodMs`). A backward scan: the cost is the
 * candles asked for, not all those kept.
 */
export function candlesFrom(candles: readonly Candle[], periodMs: number, fromMs: number): Candle[] {
  const from = candleStart(fromMs, periodMs);
  let i = candles.length;
  while (i > 0 && candles[i - 1]!.start >= from) i--;
  const out: Candle[] = [];
  for (; i < candles.length; i++) {
    const c = candles[i]!;
    const start = candleStart(c.start, periodMs);
    const prev = out.at(-1);
    if (prev !== undefined && prev.start === start) mergeLater(prev, c.high, c.low, c.close, c.volume);
    else out.push({ start, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
  }
  return out;
}

/** Folds what came later in the same period into `c`: its open stays. */
function mergeLater(c: Candle, high: number, low: number, close: number, volume: number): void {
  c.high = Math.max(c.high, high);
  c.low = Math.min(c.low, low);
  c.close = close;
  c.volume += volume;
}

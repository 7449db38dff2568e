// The ticker and candle views of a market, shared by REST (GET /v1/markets/:symbol/ticker and /candles) and the
// WebSocket `ticker` and `candles` channels, so both say the same thing. Read from the gateway's MarketState.
import type { CandleRow, TickerInfo } from '@parallax/sdk';
import type { ApiMarket } from '../markets/market-directory.js';
import type { Candle, MarketState } from './market-state.js';

export const INTERVALS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 } as const;
export type Interval = keyof typeof INTERVALS;
export const INTERVAL_NAMES = Object.keys(INTERVALS) as Interval[];

const DAY_MS = 86_400_000;

/** The ticker's body (the SDK's TickerInfo): rolling 24 h figures at one-minute granularity, ending now. */
export type TickerView = TickerInfo;


export function tickerOf(m: ApiMarket, s: MarketState, now: number): TickerView {
  const u = m.units;
  const { bids, asks } = s.levels(1);
  const last = s.trades.at(-1);
  const since = now - DAY_MS;
  let volume = 0;
  let open: number | undefined;
  let high: number | undefined;
  let low: number | undefined;
  for (let i = s.candles.length - 1; i >= 0; i--) {
    const c = s.candles[i]!;
    if (c.start < since) break;
    volume += c.volume;
    open = c.open;
    high = high === undefined ? c.high : Math.max(high, c.high);
    low = low === undefined ? c.low : Math.min(low, c.low);
  }
  const close = s.candles.at(-1);
  const change = open === undefined || close === undefined ? undefined : close.close - open;
  return {
    market: m.def.symbol,
    seq: s.seq,
    bid: bids[0] === undefined ? null : u.ticksToPrice(bids[0][0]),
    bidVolume: bids[0] === undefined ? null : u.lotsToSize(bids[0][1]),
    ask: asks[0] === undefined ? null : u.ticksToPrice(asks[0][0]),
    askVolume: asks[0] === undefined ? null : u.lotsToSize(asks[0][1]),
    last: last === undefined ? null : u.ticksToPrice(last.price),
    open: open === undefined ? null : u.ticksToPrice(open),
    high: high === undefined ? null : u.ticksToPrice(high),
    low: low === undefined ? null : u.ticksToPrice(low),
    change: change === undefined ? null : `${change < 0 ? '-' : ''}${u.ticksToPrice(Math.abs(change))}`,
    baseVolume: u.lotsToSize(volume),
    timestamp: last?.ts ?? null,
  };
}

export function candleRow(m: ApiMarket, c: Candle): CandleRow {
  const u = m.units;
  return [c.start, u.ticksToPrice(c.open), u.ticksToPrice(c.high), u.ticksToPrice(c.low), u.ticksToPrice(c.close), u.lotsToSize(c.volume)];
}

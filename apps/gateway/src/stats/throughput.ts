// Orders and trades per second through the engines, as this gateway sees them in the engines' events: a ring of
// one-second buckets (wall clock of arrival here) over the last SERIES_SECONDS. Pure: the caller passes the time.
// Events replayed when the gateway starts (it reads the event topic from the beginning) land in the seconds
// they are read in, so the first seconds after a restart show the catch-up, not the engines' rate then.
import type { StatsInfo } from '@parallax/sdk';

export const SERIES_SECONDS = 60;
/** The rate reported is the mean over the last RATE_WINDOW_SECONDS complete seconds. */
export const RATE_WINDOW_SECONDS = 5;

/** The SDK's type is the API's shape: the gateway answers exactly what clients are typed for. */
export type ThroughputSnapshot = StatsInfo;

export class Throughput {
  private readonly orders = new Float64Array(SERIES_SECONDS + 1);
  private readonly trades = new Float64Array(SERIES_SECONDS + 1);
  /** The second (epoch seconds) each slot holds; -1 = empty. */
  private readonly second = new Float64Array(SERIES_SECONDS + 1).fill(-1);
  private totalOrders = 0;
  private totalTrades = 0;

  /** Counts `orders` order events (accepted or rejected places) and `trades` trades seen at `nowMs`. */
  record(nowMs: number, orders: number, trades: number): void {
    if (orders === 0 && trades === 0) return;
    const s = Math.floor(nowMs / 1000);
    const i = s % this.second.length;
    if (this.second[i] !== s) {
      this.second[i] = s;
      this.orders[i] = 0;
      this.trades[i] = 0;
    }
    this.orders[i]! += orders;
    this.trades[i]! += trades;
    this.totalOrders += orders;
    this.totalTrades += trades;
  }

  snapshot(nowMs: number): ThroughputSnapshot {
    const current = Math.floor(nowMs / 1000);
    const series: [number, number, number][] = [];
    let orders = 0;
    let trades = 0;
    for (let s = current - SERIES_SECONDS; s < current; s++) {
      const i = s % this.second.length;
      const o = this.second[i] === s ? this.orders[i]! : 0;
      const t = this.second[i] === s ? this.trades[i]! : 0;
      series.push([s * 1000, o, t]);
      if (s >= current - RATE_WINDOW_SECONDS) {
        orders += o;
        trades += t;
      }
    }
    return {
      timestamp: nowMs,
      windowSeconds: RATE_WINDOW_SECONDS,
      ordersPerSecond: orders / RATE_WINDOW_SECONDS,
      tradesPerSecond: trades / RATE_WINDOW_SECONDS,
      totalOrders: this.totalOrders,
      totalTrades: this.totalTrades,
      series,
    };
  }
}

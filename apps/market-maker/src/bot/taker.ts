// The taker bot: random marketable orders at a configured rate. Each is an IOC limit order whose price is a
// protection price (the best opposite price moved by the slippage bound), so it takes what is there within the
// bound and never rests. Seeded: the same seed sends the same sequence of sides, markets and sizes.
import { createLogger, type Logger } from '@parallax/observability';
import { Prng } from '@parallax/order-book';
import { ParallaxApiError, type MarketInfo } from '@parallax/sdk';
import type { Registry } from 'prom-client';
import type { Address, Hex } from 'viem';
import { metricsEndpoint, takerMetrics, type TakerMetrics } from './metrics.js';
import { botClient } from './signer.js';

export interface TakerOptions {
  readonly gatewayUrl: string;
  /** The key that signs: a trading key the wallet authorized (then set `trader`), or the wallet's. */
  readonly privateKey: Hex;
  /** The wallet this bot trades for when privateKey is one of its trading keys. */
  readonly trader?: Address;
  /** Markets to trade (symbols); default every market the gateway lists. */
  readonly markets?: readonly string[];
  /** Orders per second on average (exponential gaps between orders). Default 1. */
  readonly ratePerSecond?: number;
  /** Order size bounds in base units (uniform between them, rounded to the lot). Defaults 0.1 and 2. */
  readonly minSize?: number;
  readonly maxSize?: number;
  /** The protection price is the best opposite price this many basis points worse. Default 50. */
  readonly slippageBps?: number;
  /** Fee cap signed into each order (millionths); default the market's larger fee rate. */
  readonly maxFeeRate?: number;
  /** PRNG seed (default: from the clock). */
  readonly seed?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
}

export interface TakerDeps {
  readonly logger?: Logger;
  readonly registry?: Registry;
}

export interface RunningTaker {
  close(): Promise<void>;
  readonly metricsUrl?: string;
  readonly trader: string;
  readonly metrics: TakerMetrics;
  /** Orders sent so far, by result ('accepted', 'no_liquidity', or an error code). */
  counts(): Readonly<Record<string, number>>;
}

/** An order the taker would send into a book: side, size and protection price, on the market's grid. */
export function takerOrder(
  market: Pick<MarketInfo, 'tickSize' | 'lotSize' | 'minAmount'>,
  side: 'buy' | 'sell',
  bestOpposite: number,
  size: number,
  slippageBps: number,
): { price: string; amount: string } {
  const tick = Number(market.tickSize);
  const lot = Number(market.lotSize);
  const tickDp = decimals(market.tickSize);
  const lotDp = decimals(market.lotSize);
  const bound = side === 'buy' ? bestOpposite * (1 + slippageBps / 10_000) : bestOpposite * (1 - slippageBps / 10_000);
  // Rounded towards the book: the bound is never looser than asked for.
  const ticks = Math.max(1, side === 'buy' ? Math.floor(bound / tick + 1e-9) : Math.ceil(bound / tick - 1e-9));
  const minLots = Math.max(1, Math.ceil(Number(market.minAmount) / lot - 1e-9));
  const lots = Math.max(minLots, Math.floor(size / lot + 1e-9));
  return { price: (ticks * tick).toFixed(tickDp), amount: (lots * lot).toFixed(lotDp) };
}

function decimals(step: string): number {
  const dot = step.indexOf('.');
  return dot < 0 ? 0 : step.length - dot - 1;
}

export async function startTaker(options: TakerOptions, deps: TakerDeps = {}): Promise<RunningTaker> {
  const log = deps.logger ?? createLogger('taker');
  const metrics = takerMetrics(deps.registry);
  const client = botClient(options.gatewayUrl, { privateKey: options.privateKey, ...(options.trader === undefined ? {} : { trader: options.trader }) });
  const all = await client.markets();
  const symbols = options.markets ?? all.map((m) => m.symbol);
  const markets = symbols.map((s) => {
    const m = all.find((x) => x.symbol === s);
    if (m === undefined) throw new ParallaxApiError(404, 'UNKNOWN_MARKET', `the gateway lists no market ${s}`);
    return m;
  });
  const rate = options.ratePerSecond ?? 1;
  const minSize = options.minSize ?? 0.1;
  const maxSize = Math.max(minSize, options.maxSize ?? 2);
  const slippageBps = options.slippageBps ?? 50;
  const prng = new Prng(options.seed ?? Date.now() % 2 ** 31);
  const counts: Record<string, number> = {};
  const count = (m: string, side: string, result: string): void => {
    counts[result] = (counts[result] ?? 0) + 1;
    metrics.orders.inc({ market: m, side, result });
  };
  const server = options.metricsPort === undefined ? undefined : await metricsEndpoint(metrics.registry, options.metricsHost ?? '127.0.0.1', options.metricsPort);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const once = async (): Promise<void> => {
    const m = markets[prng.nextInt(markets.length)]!;
    const side = prng.nextChance(0.5) ? 'buy' : 'sell';
    const size = minSize + prng.nextFloat() * (maxSize - minSize);
    try {
      const book = await client.book(m.symbol, 1);
      const best = side === 'buy' ? book.asks[0] : book.bids[0];
      if (best === undefined) {
        count(m.symbol, side, 'no_liquidity');
        return;
      }
      const o = takerOrder(m, side, Number(best[0]), size, slippageBps);
      const maxFeeRate = options.maxFeeRate ?? Math.ceil(Math.max(m.makerFeeRate, m.takerFeeRate) * 1_000_000);
      await client.placeOrder(m.symbol, { side, type: 'limit', timeInForce: 'IOC', price: o.price, amount: o.amount, maxFeeRate });
      count(m.symbol, side, 'accepted');
    } catch (err) {
      // A refused order is counted and the next one goes out on schedule: one bad answer never stops the bot.
      count(m.symbol, side, err instanceof ParallaxApiError ? err.code : 'ERROR');
      log.debug({ err, market: m.symbol }, 'taker order failed');
    }
  };

  const schedule = (): void => {
    if (stopped || rate <= 0) return;
    // Exponential gaps: a Poisson stream of orders at `rate` per second.
    const gapMs = (-Math.log(1 - prng.nextFloat()) / rate) * 1000;
    timer = setTimeout(() => {
      inFlight = once().finally(schedule);
    }, gapMs);
  };
  schedule();
  log.info({ trader: client.trader, markets: symbols, ratePerSecond: rate, metrics: server?.url }, 'taker trading');

  const h: RunningTaker = {
    trader: client.trader,
    metrics,
    counts: () => ({ ...counts }),
    close: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
      await server?.close();
    },
  };
  return server === undefined ? h : { ...h, metricsUrl: server.url };
}

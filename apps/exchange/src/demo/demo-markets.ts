// The markets `npm start` shows: the default catalogue (ids 1..MARKETS, the engines' and the chain's markets)
// under readable names. Only the gateway's symbols change: engines and settlement know markets by id. The local
// chain settles odd ids in its 18-decimal test token and even ids in its 8-decimal one (against a 6-decimal
// quote token), so the names follow those decimals; the tokens are test tokens whatever the names say. The
// chain's markets are derived from this catalogue (lot and tick scaled by the tokens' decimals), so the units
// the API shows are the units that settle (demo-markets.e2e.spec.ts checks it for every demo market).
import { defaultMarkets, type MarketDefinition } from '@parallax/contracts';

/** Name and the market maker's opening price of market i + 1 (odd ids 18 decimals, even ids 8 decimals). */
const DEMO_NAMES: readonly (readonly [string, number])[] = [
  ['ETH', 3_000],
  ['BTC', 60_000],
  ['SOL', 150],
  ['WBTC', 60_000],
  ['LINK', 15],
  ['ATOM', 7],
  ['AAVE', 100],
  ['DOT', 5],
];

/** The demo catalogue: ETH-USDC, BTC-USDC, SOL-USDC, ... then M<id>-USDC past the named ones. */
export function demoMarkets(count: number): MarketDefinition[] {
  return defaultMarkets(count).map((m) => {
    const named = DEMO_NAMES[m.marketId - 1];
    if (named === undefined) return m;
    return Object.freeze({ ...m, symbol: `${named[0]}-${m.quoteAsset}`, baseAsset: named[0] });
  });
}

/** Where the market maker starts each market's reference while the book has no price yet (by symbol). */
export function demoStartPrices(markets: readonly MarketDefinition[]): Record<string, number> {
  return Object.fromEntries(markets.map((m) => [m.symbol, DEMO_NAMES[m.marketId - 1]?.[1] ?? 100]));
}

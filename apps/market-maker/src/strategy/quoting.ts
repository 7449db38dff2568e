// The market maker's quoting math, pure: a reference price and an inventory in, the ladder of quotes out.
// Prices are computed in ticks and sizes in lots (integers), so every quote is on the market's grid by
// construction and the exchange never answers PRICE_OFF_TICK or SIZE_OFF_LOT.
import { MarketUnits } from '@parallax/order-book';

export interface QuoteParams {
  /** Distance between the best bid and the best ask, in basis points of the (skewed) centre. */
  readonly spreadBps: number;
  /** Extra distance from one level to the next on each side, in basis points of the centre. */
  readonly levelSpacingBps: number;
  /** Levels per side. */
  readonly levels: number;
  /** Size of the first level, in base units (e.g. 1.5). */
  readonly size: number;
  /** Each further level is this fraction bigger than the first (0.5: 1, 1.5, 2, ... times `size`). */
  readonly sizeGrowth: number;
  /** How far the centre moves against the inventory: basis points per base unit held (long → lower). */
  readonly skewBpsPerUnit: number;
  /** The skew never exceeds this many basis points either way. */
  readonly maxSkewBps: number;
  /** At this long (short) inventory in base units, no more bids (asks) are quoted. 0 = no limit. */
  readonly maxInventory: number;
}

/** What GET /v1/markets says about a market's grid and minimums (decimal strings). */
export interface MarketRules {
  readonly tickSize: string;
  readonly lotSize: string;
  readonly minAmount: string;
  readonly minNotional: string;
}

export interface Quote {
  readonly side: 'buy' | 'sell';
  /** 0 = the best level of its side. */
  readonly level: number;
  readonly priceTicks: number;
  readonly lots: number;
  /** Decimal strings as the API takes them. */
  readonly price: string;
  readonly amount: string;
}

/** Float slack for values that are an exact multiple of a step but not representable in binary (0.29 / 0.01). */
const EPS = 1e-9;

/** The centre after skewing the reference against the inventory, as a price. */
export function skewedCentre(reference: number, inventory: number, p: Pick<QuoteParams, 'skewBpsPerUnit' | 'maxSkewBps'>): number {
  const raw = inventory * p.skewBpsPerUnit;
  const bps = Math.max(-p.maxSkewBps, Math.min(p.maxSkewBps, raw));
  return reference * (1 - bps / 10_000);
}

/**
 * The full ladder: `levels` bids below and asks above the skewed centre, rounded away from it (bids down,
 * asks up) to the tick, sizes rounded down to the lot and raised to the market's minimum size and notional.
 * Levels that would round onto the same tick are pushed one tick further out, so each level is distinct and
 * the best bid stays strictly below the best ask. Bids that would be at or below zero are left out.
 */
export function computeQuotes(reference: number, inventory: number, p: QuoteParams, rules: MarketRules): Quote[] {
  if (!(reference > 0) || !Number.isFinite(reference)) return [];
  const units = new MarketUnits(rules.tickSize, rules.lotSize);
  const tick = Number(rules.tickSize);
  const lot = Number(rules.lotSize);
  const minLots = Math.max(1, Math.ceil(Number(rules.minAmount) / lot - EPS));
  const minNotional = Number(rules.minNotional);
  const centre = skewedCentre(reference, inventory, p);
  const quoteBids = p.maxInventory <= 0 || inventory < p.maxInventory;
  const quoteAsks = p.maxInventory <= 0 || inventory > -p.maxInventory;

  const sizeLots = (level: number, priceTicks: number): number => {
    let lots = Math.floor((p.size * (1 + level * p.sizeGrowth)) / lot + EPS);
    lots = Math.max(lots, minLots);
    if (minNotional > 0) lots = Math.max(lots, Math.ceil(minNotional / (priceTicks * tick * lot) - EPS));
    return lots;
  };

  const out: Quote[] = [];
  let lastBid = Number.POSITIVE_INFINITY;
  let lastAsk = 0;
  for (let i = 0; i < p.levels; i++) {
    const offset = (p.spreadBps / 2 + i * p.levelSpacingBps) / 10_000;
    const bidTicks = Math.min(Math.floor((centre * (1 - offset)) / tick + EPS), lastBid - 1);
    const askTicks = Math.max(Math.ceil((centre * (1 + offset)) / tick - EPS), lastAsk + 1, i === 0 ? bidTicks + 1 : 0);
    lastBid = bidTicks;
    lastAsk = askTicks;
    if (quoteBids && bidTicks >= 1) out.push(quote('buy', i, bidTicks, sizeLots(i, bidTicks), units));
    if (quoteAsks) out.push(quote('sell', i, askTicks, sizeLots(i, askTicks), units));
  }
  return out;
}

function quote(side: 'buy' | 'sell', level: number, priceTicks: number, lots: number, units: MarketUnits): Quote {
  return { side, level, priceTicks, lots, price: units.ticksToPrice(priceTicks), amount: units.lotsToSize(lots) };
}

/**
 * Whether the live ladder is stale: the centre it was built around moved by at least `thresholdBps`, or a level
 * is gone (filled or cancelled by someone else). Checked on every book update; acting only past the threshold
 * keeps the bot from cancelling and replacing its whole ladder on every tick.
 */
export function needsRequote(quotedCentre: number | undefined, centre: number | undefined, thresholdBps: number, liveQuotes: number, wantedQuotes: number): boolean {
  if (centre === undefined) return false;
  if (quotedCentre === undefined) return true;
  if (liveQuotes < wantedQuotes) return true;
  return (Math.abs(centre - quotedCentre) / quotedCentre) * 10_000 >= thresholdBps - EPS;
}

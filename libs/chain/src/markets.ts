// The mapping between the matching engine's integer market units (ticks, lots) and the settlement
// contract's token amounts, and from engine trades to settleBatch input. Pure functions: no I/O.
import { encodePacked, isAddress, keccak256, type Address, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { BatchFill, BatchInput } from './batch.js';
import { MAX_FEE_RATE, MAX_IMMEDIATE_ORDER_LIFETIME, PRICE_SCALE } from './constants.js';
import { ChainError } from './errors.js';
import { assertOrder, hashOrder, quoteAmount, type Order, type SettlementDomain, type SignedOrder } from './order.js';

/** How one engine market maps onto the settlement contract. */
export interface SettlementMarket {
  readonly marketId: number;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  /** Base-token base units per lot (the engine's size unit). */
  readonly lotSize: bigint;
  /** Contract price units (quote base units per 1e18 base units) per tick (the engine's price unit). */
  readonly tickSize: bigint;
  /**
   * The market's own fee rates (millionths of the quote amount), the same numbers the risk shards charge
   * (RISK_MARKETS_FILE): taker 0..MAX_FEE_RATE, maker -taker..MAX_FEE_RATE (negative: a maker rebate). Both
   * or neither; unset: batchInputFor's default fees apply.
   */
  readonly makerFeeRate?: number;
  readonly takerFeeRate?: number;
}

const UINT128_MAX = (1n << 128n) - 1n;

/**
 * Throws ChainError INVALID_MARKET unless the market is usable: positive uint128 lot and tick sizes with
 * lotSize * tickSize a multiple of PRICE_SCALE (then every fill, any lots at any ticks, has an exact integer
 * quote amount, which the contract requires), valid distinct token addresses, a non-negative integer id.
 */
export function assertSettlementMarket(m: SettlementMarket): void {
  const bad = (why: string): never => {
    throw new ChainError('INVALID_MARKET', `settlement market ${String(m.marketId)}: ${why}`);
  };
  if (!Number.isSafeInteger(m.marketId) || m.marketId < 0) bad('marketId must be a non-negative integer');
  if (!isAddress(m.baseToken, { strict: false })) bad(`baseToken ${String(m.baseToken)} is not an address`);
  if (!isAddress(m.quoteToken, { strict: false })) bad(`quoteToken ${String(m.quoteToken)} is not an address`);
  if (m.baseToken.toLowerCase() === m.quoteToken.toLowerCase()) bad('baseToken and quoteToken are the same token');
  for (const [name, v] of [['lotSize', m.lotSize], ['tickSize', m.tickSize]] as const) {
    if (typeof v !== 'bigint' || v <= 0n || v > UINT128_MAX) bad(`${name} must be a positive uint128 bigint, got ${String(v)}`);
  }
  if ((m.lotSize * m.tickSize) % PRICE_SCALE !== 0n) {
    bad(`lotSize ${m.lotSize} * tickSize ${m.tickSize} is not a multiple of ${PRICE_SCALE}: a 1-lot fill at 1 tick would have an inexact quote amount`);
  }
  if ((m.makerFeeRate === undefined) !== (m.takerFeeRate === undefined)) bad('makerFeeRate and takerFeeRate go together');
  if (m.makerFeeRate !== undefined && m.takerFeeRate !== undefined) {
    const why = feeRatesProblem({ makerFeeRate: m.makerFeeRate, takerFeeRate: m.takerFeeRate });
    if (why !== undefined) bad(why);
  }
}

/**
 * Why a maker/taker rate pair is unusable, or undefined: taker must be an integer in 0..MAX_FEE_RATE and maker
 * in -taker..MAX_FEE_RATE (a maker rebate is paid out of the taker fee, so it can never exceed it).
 */
export function feeRatesProblem(fees: SettlementFees): string | undefined {
  const { makerFeeRate: maker, takerFeeRate: taker } = fees;
  if (!Number.isInteger(taker) || taker < 0 || taker > MAX_FEE_RATE) return `takerFeeRate must be an integer in 0..${MAX_FEE_RATE}, got ${String(taker)}`;
  if (!Number.isInteger(maker) || maker < -taker || maker > MAX_FEE_RATE) {
    return `makerFeeRate must be an integer in -takerFeeRate..${MAX_FEE_RATE} (${-taker}..${MAX_FEE_RATE}: a rebate never exceeds the taker fee), got ${String(maker)}`;
  }
  return undefined;
}

/**
 * The signed rates of one fill's buy and sell side: the taker pays min(takerFeeRate, its maxFeeRate); the maker
 * pays min(makerFeeRate, its maxFeeRate), or for a negative makerFeeRate is paid a rebate at
 * min(-makerFeeRate, the taker's rate), so the rebate never exceeds the taker's fee in the fill (equal rates
 * give floor(q * r / 1e6) <= floor(q * t / 1e6)), which the contract requires.
 */
export function fillFeeRates(fees: SettlementFees, takerIsBuy: boolean, takerMaxFeeRate: number, makerMaxFeeRate: number): { buyFeeRate: number; sellFeeRate: number } {
  const taker = Math.min(fees.takerFeeRate, takerMaxFeeRate);
  let maker: number;
  if (fees.makerFeeRate >= 0) maker = Math.min(fees.makerFeeRate, makerMaxFeeRate);
  else {
    const rebate = Math.min(-fees.makerFeeRate, taker);
    maker = rebate === 0 ? 0 : -rebate;
  }
  return takerIsBuy ? { buyFeeRate: taker, sellFeeRate: maker } : { buyFeeRate: maker, sellFeeRate: taker };
}

/** A market's lot and tick as the API and the catalogue state them: decimal strings in whole tokens. */
export interface DecimalMarketUnits {
  /** Base tokens per lot, e.g. "0.001". */
  readonly lotSize: string;
  /** Quote tokens per base token per tick, e.g. "0.01". */
  readonly tickSize: string;
}

/** The ERC-20 decimals of a market's two tokens. */
export interface MarketTokenDecimals {
  readonly base: number;
  readonly quote: number;
}

/** Contract price units (quote base units per PRICE_SCALE base units) = decimal price * 10^priceExponent. */
function priceExponent(d: MarketTokenDecimals): number {
  return d.quote + PRICE_SCALE.toString().length - 1 - d.base;
}

/** The exact integer `decimal * 10^exponent`; undefined when it is not an integer. */
function scaleDecimal(decimal: string, exponent: number): bigint | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (m === null) return undefined;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const digits = BigInt(`${m[1]}${frac}`);
  const shift = exponent - frac.length;
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const div = 10n ** BigInt(-shift);
  return digits % div === 0n ? digits / div : undefined;
}

/** `units * 10^-exponent` as a plain decimal string without trailing zeros. */
function unscale(units: bigint, exponent: number): string {
  if (exponent <= 0) return (units * 10n ** BigInt(-exponent)).toString();
  const s = units.toString().padStart(exponent + 1, '0');
  const whole = s.slice(0, s.length - exponent);
  const frac = s.slice(s.length - exponent).replace(/0+$/, '');
  return frac === '' ? whole : `${whole}.${frac}`;
}

function assertDecimals(d: MarketTokenDecimals, what: string): void {
  for (const [side, v] of [['base', d.base], ['quote', d.quote]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 77) throw new ChainError('INVALID_MARKET', `${what}: ${side} token decimals must be an integer in 0..77, got ${String(v)}`);
  }
}

/**
 * The settlement contract's units of a market whose lot and tick are stated in whole tokens (the catalogue's
 * decimal strings): lotSize = lot * 10^base decimals, tickSize = tick * 10^(quote decimals + 18 - base
 * decimals). This is how a market's on-chain definition is derived from the one the API shows, so the two
 * cannot disagree. Throws ChainError INVALID_MARKET when a unit is not a whole number of token base units.
 */
export function settlementUnits(units: DecimalMarketUnits, decimals: MarketTokenDecimals): { lotSize: bigint; tickSize: bigint } {
  assertDecimals(decimals, `lot ${units.lotSize}, tick ${units.tickSize}`);
  const lotSize = scaleDecimal(units.lotSize, decimals.base);
  const tickSize = scaleDecimal(units.tickSize, priceExponent(decimals));
  if (lotSize === undefined || lotSize <= 0n) {
    throw new ChainError('INVALID_MARKET', `lot ${units.lotSize} is not a positive whole number of base units of a ${decimals.base}-decimal token`);
  }
  if (tickSize === undefined || tickSize <= 0n) {
    throw new ChainError('INVALID_MARKET', `tick ${units.tickSize} is not a positive whole number of price units (${decimals.quote}-decimal quote, ${decimals.base}-decimal base)`);
  }
  return { lotSize, tickSize };
}

/** The inverse of settlementUnits: a settlement market's lot and tick in whole tokens (no trailing zeros). */
export function decimalUnits(market: Pick<SettlementMarket, 'lotSize' | 'tickSize'>, decimals: MarketTokenDecimals): DecimalMarketUnits {
  assertDecimals(decimals, `lot ${market.lotSize}, tick ${market.tickSize}`);
  return { lotSize: unscale(market.lotSize, decimals.base), tickSize: unscale(market.tickSize, priceExponent(decimals)) };
}

/** Whether two decimal strings state the same number ("0.010" and "0.01" do). */
export function sameDecimal(a: string, b: string): boolean {
  const x = scaleDecimal(a, 80);
  return x !== undefined && x === scaleDecimal(b, 80);
}

/**
 * The engine's place order in market units: price in ticks, size in lots. A market order's priceTicks is its
 * protection price (the worst the trader accepts, e.g. from a slippage bound): it must be positive.
 */
export interface PlaceInTicks {
  readonly isBuy: boolean;
  readonly isMarket: boolean;
  readonly priceTicks: number;
  readonly sizeLots: number;
  /** IOC or FOK: it must carry a short signed deadline (market orders are always immediate). */
  readonly immediate?: boolean;
}

/** What only the trader's side knows: who signs, and the order's nonce, expiry and fee bound. */
export interface OrderSigner {
  readonly trader: Address;
  readonly nonce: bigint;
  /** Unix seconds: the order's fill deadline on chain. */
  readonly expiry: bigint;
  /**
   * Unix seconds at signing. Required for immediate orders (IOC, FOK, market), whose expiry must lie within
   * MAX_IMMEDIATE_ORDER_LIFETIME of it, so their unfilled remainder can never be filled later.
   */
  readonly now?: bigint;
  /** Millionths of the quote amount, at most MAX_FEE_RATE. */
  readonly maxFeeRate: number;
}

/**
 * The settlement order to sign for an engine place order: price = priceTicks * tickSize (a market order's
 * protection price; there is no unbounded market order, since the operator could fill it at any price),
 * size = sizeLots * lotSize. An immediate order (IOC, FOK, market) must expire within
 * MAX_IMMEDIATE_ORDER_LIFETIME of signer.now: the contract enforces the expiry, so that is how long its
 * remainder could be filled at worst. Throws ChainError INVALID_MARKET / INVALID_ORDER.
 */
export function orderForPlace(market: SettlementMarket, p: PlaceInTicks, signer: OrderSigner): Order {
  assertSettlementMarket(market);
  const bad = (why: string): never => {
    throw new ChainError('INVALID_ORDER', `market ${market.marketId} order: ${why}`);
  };
  if (!Number.isSafeInteger(p.sizeLots) || p.sizeLots <= 0) bad(`sizeLots must be a positive integer, got ${String(p.sizeLots)}`);
  if (!Number.isSafeInteger(p.priceTicks) || p.priceTicks < 1) {
    bad(
      p.isMarket && p.priceTicks === 0
        ? 'a market order needs a protection price (priceTicks > 0): unbounded market orders are not signed'
        : `priceTicks must be a positive integer, got ${String(p.priceTicks)}`,
    );
  }
  if (p.isMarket || p.immediate === true) {
    const now = signer.now;
    if (typeof now !== 'bigint') bad('an immediate (IOC, FOK, market) order needs signer.now to bound its deadline');
    else if (typeof signer.expiry !== 'bigint' || signer.expiry < now || signer.expiry - now > MAX_IMMEDIATE_ORDER_LIFETIME) {
      bad(`an immediate (IOC, FOK, market) order must expire within ${MAX_IMMEDIATE_ORDER_LIFETIME} s of signing, got expiry ${String(signer.expiry)} at now ${now}`);
    }
  }
  if (!Number.isInteger(signer.maxFeeRate) || signer.maxFeeRate < 0 || signer.maxFeeRate > MAX_FEE_RATE) {
    bad(`maxFeeRate must be an integer in 0..${MAX_FEE_RATE}, got ${String(signer.maxFeeRate)}`);
  }
  const price = BigInt(p.priceTicks) * market.tickSize;
  if (price >= UINT128_MAX) bad(`priceTicks ${p.priceTicks} * tickSize is not a bounded uint128 price`);
  const order: Order = {
    trader: signer.trader,
    baseToken: market.baseToken,
    quoteToken: market.quoteToken,
    isBuy: p.isBuy,
    price,
    size: BigInt(p.sizeLots) * market.lotSize,
    maxFeeRate: signer.maxFeeRate,
    expiry: signer.expiry,
    nonce: signer.nonce,
  };
  assertOrder(order);
  return order;
}

/**
 * Token amounts of a fill of sizeLots at priceTicks: baseAmount = lots * lotSize, price = ticks * tickSize,
 * quote = baseAmount * price / PRICE_SCALE (exact for a valid market). Throws ChainError INVALID_FILL for
 * non-positive or out-of-range inputs.
 */
export function fillAmounts(market: SettlementMarket, priceTicks: number, sizeLots: number): { baseAmount: bigint; price: bigint; quote: bigint } {
  if (!Number.isSafeInteger(priceTicks) || priceTicks <= 0) {
    throw new ChainError('INVALID_FILL', `market ${market.marketId} fill: priceTicks must be a positive integer, got ${String(priceTicks)}`);
  }
  if (!Number.isSafeInteger(sizeLots) || sizeLots <= 0) {
    throw new ChainError('INVALID_FILL', `market ${market.marketId} fill: sizeLots must be a positive integer, got ${String(sizeLots)}`);
  }
  const baseAmount = BigInt(sizeLots) * market.lotSize;
  const price = BigInt(priceTicks) * market.tickSize;
  if (baseAmount > UINT128_MAX || price > UINT128_MAX) {
    throw new ChainError('INVALID_FILL', `market ${market.marketId} fill: ${sizeLots} lots at ${priceTicks} ticks exceed uint128`);
  }
  return { baseAmount, price, quote: quoteAmount(baseAmount, price) };
}

/** One engine trade with the two signed orders behind it. */
export interface TradeFill {
  readonly makerOrder: SignedOrder;
  readonly takerOrder: SignedOrder;
  readonly takerIsBuy: boolean;
  /** Execution price (the maker's), in ticks. */
  readonly priceTicks: number;
  readonly sizeLots: number;
}

export interface MarketTradeFill {
  readonly marketId: number;
  readonly trade: TradeFill;
}

/** Configured fee rates, millionths of the quote amount: taker 0..MAX_FEE_RATE, maker -taker..MAX_FEE_RATE. */
export interface SettlementFees {
  readonly makerFeeRate: number;
  readonly takerFeeRate: number;
}

/**
 * Throws ChainError INVALID_FILL if the trade cannot map onto the market: the taker order's side must be
 * takerIsBuy and the maker's the opposite, both orders must be on the market's base/quote tokens, and price
 * and size must be positive. What only the chain knows (signatures, limits, expiry, funds, earlier fills) is
 * left to the contract's simulation. A batcher calls this per fill to exclude a bad fill on its own.
 */
export function assertTradeFill(market: SettlementMarket, trade: TradeFill): void {
  const bad = (why: string): never => {
    throw new ChainError('INVALID_FILL', `market ${market.marketId} trade: ${why}`);
  };
  if (trade.takerOrder.isBuy !== trade.takerIsBuy) bad(`the taker order is a ${trade.takerOrder.isBuy ? 'buy' : 'sell'} but takerIsBuy is ${trade.takerIsBuy}`);
  if (trade.makerOrder.isBuy === trade.takerIsBuy) bad(`maker and taker orders are both ${trade.takerIsBuy ? 'buys' : 'sells'}`);
  const base = market.baseToken.toLowerCase();
  const quote = market.quoteToken.toLowerCase();
  for (const [role, o] of [['maker', trade.makerOrder], ['taker', trade.takerOrder]] as const) {
    if (o.baseToken.toLowerCase() !== base || o.quoteToken.toLowerCase() !== quote) {
      bad(`the ${role} order trades ${o.baseToken}/${o.quoteToken}, not the market's ${market.baseToken}/${market.quoteToken}`);
    }
  }
  fillAmounts(market, trade.priceTicks, trade.sizeLots);
}

/**
 * settleBatch input for trades of any markets. Fill i of the result is fills[i] (a contract error's fill
 * index points back into `fills`). Orders are listed once each, in order of first use, keyed by their
 * EIP-712 hash: a resting order filled by several trades appears once (the contract requires it). The buy
 * order is the taker's when takerIsBuy, else the maker's. Each fill's rates are fillFeeRates of its market's
 * own rates (SettlementMarket.makerFeeRate / takerFeeRate) or, for a market without them, of `fees`: a
 * negative maker rate becomes a rebate in the fill.
 * Throws ChainError: INVALID_MARKET (no or a bad market config), INVALID_FILL (see assertTradeFill),
 * INVALID_BATCH (fee rates), INVALID_ORDER.
 */
export function batchInputFor(
  domain: SettlementDomain,
  marketOf: (marketId: number) => SettlementMarket | undefined,
  fills: readonly MarketTradeFill[],
  fees: SettlementFees,
): BatchInput {
  const feeProblem = feeRatesProblem(fees);
  if (feeProblem !== undefined) throw new ChainError('INVALID_BATCH', feeProblem);
  const markets = new Map<number, SettlementMarket>();
  const marketFor = (marketId: number): SettlementMarket => {
    let m = markets.get(marketId);
    if (m === undefined) {
      m = marketOf(marketId);
      if (m === undefined) throw new ChainError('INVALID_MARKET', `no settlement config for market ${marketId}`);
      if (m.marketId !== marketId) throw new ChainError('INVALID_MARKET', `the config looked up for market ${marketId} is market ${m.marketId}'s`);
      assertSettlementMarket(m);
      markets.set(marketId, m);
    }
    return m;
  };

  const orders: SignedOrder[] = [];
  const indexByHash = new Map<string, number>();
  const indexOf = (order: SignedOrder): number => {
    const hash = hashOrder(domain, order);
    let idx = indexByHash.get(hash);
    if (idx === undefined) {
      idx = orders.length;
      orders.push(order);
      indexByHash.set(hash, idx);
    }
    return idx;
  };

  const batchFills: BatchFill[] = fills.map(({ marketId, trade }, f) => {
    const market = marketFor(marketId);
    try {
      assertTradeFill(market, trade);
    } catch (e) {
      if (e instanceof ChainError) throw new ChainError(e.code, `fill ${f}: ${e.message}`);
      throw e;
    }
    const { baseAmount, price } = fillAmounts(market, trade.priceTicks, trade.sizeLots);
    const [buy, sell] = trade.takerIsBuy ? [trade.takerOrder, trade.makerOrder] : [trade.makerOrder, trade.takerOrder];
    const rates = market.makerFeeRate !== undefined && market.takerFeeRate !== undefined ? { makerFeeRate: market.makerFeeRate, takerFeeRate: market.takerFeeRate } : fees;
    const { buyFeeRate, sellFeeRate } = fillFeeRates(rates, trade.takerIsBuy, trade.takerOrder.maxFeeRate, trade.makerOrder.maxFeeRate);
    return { buyOrder: indexOf(buy), sellOrder: indexOf(sell), baseAmount, price, buyFeeRate, sellFeeRate };
  });
  return { domain, orders, fills: batchFills };
}

/**
 * A deterministic trader key for dev account `accountId`: private key = keccak256(abi.encodePacked(string
 * seed, uint64 accountId)). FOR TESTS, LOAD GENERATION AND LOCAL MODE ONLY: anyone who knows the seed
 * knows every key, so these accounts must never hold real funds.
 */
export function localTraderAccount(seed: string, accountId: number): LocalAccount {
  if (typeof seed !== 'string') throw new ChainError('INVALID_ORDER', 'the dev key seed must be a string');
  if (!Number.isSafeInteger(accountId) || accountId < 0) {
    throw new ChainError('INVALID_ORDER', `accountId must be a non-negative integer, got ${String(accountId)}`);
  }
  return privateKeyToAccount(keccak256(encodePacked(['string', 'uint64'], [seed, BigInt(accountId)])));
}

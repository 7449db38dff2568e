// Building and signing the body of POST /v1/orders (and the WebSocket `place` op) from a market as
// GET /v1/markets describes it: the trader signs the settlement contract's Order in token base units, the
// API carries the same order in the market's decimal units.
import { orderForPlace, signOrder, signOrderWithKey, type SettlementDomain } from '@parallax/chain';
import { MarketUnits } from '@parallax/order-book';
import type { Address, LocalAccount } from 'viem';

/** One entry of GET /v1/markets (the fields signing needs). */
export interface ApiMarketInfo {
  readonly symbol: string;
  readonly marketId: number;
  readonly baseToken: string;
  readonly quoteToken: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly tickSizeUnits: string;
  readonly lotSizeUnits: string;
}

export interface OrderParams {
  readonly side: 'buy' | 'sell';
  readonly type: 'limit' | 'market';
  /** Limit price, or a market order's protection price (required). */
  readonly price: string;
  readonly amount: string;
  readonly nonce: bigint;
  /** Unix seconds. */
  readonly expiry: bigint;
  readonly maxFeeRate: number;
  readonly timeInForce?: 'GTC' | 'IOC' | 'FOK';
  readonly postOnly?: boolean;
  readonly clientOrderId?: string;
}

export interface PlaceOrderBody {
  market: string;
  side: 'buy' | 'sell';
  type: 'limit' | 'market';
  price: string;
  amount: string;
  timeInForce?: 'GTC' | 'IOC' | 'FOK';
  postOnly?: boolean;
  clientOrderId?: string;
  trader: string;
  nonce: string;
  expiry: string;
  maxFeeRate: number;
  signature: string;
}

/**
 * Signs an order with `account`: the trader's wallet, or a trading key the trader authorized on chain (then
 * pass the trader's address as `trader`: the order is the trader's, the key only signs it).
 */
export async function signPlaceOrder(account: LocalAccount, domain: SettlementDomain, market: ApiMarketInfo, p: OrderParams, trader: Address = account.address): Promise<PlaceOrderBody> {
  const units = new MarketUnits(market.tickSize, market.lotSize);
  const order = orderForPlace(
    {
      marketId: market.marketId,
      baseToken: market.baseToken as Address,
      quoteToken: market.quoteToken as Address,
      lotSize: BigInt(market.lotSizeUnits),
      tickSize: BigInt(market.tickSizeUnits),
    },
    {
      isBuy: p.side === 'buy',
      isMarket: p.type === 'market',
      immediate: p.timeInForce === 'IOC' || p.timeInForce === 'FOK',
      priceTicks: units.priceToTicks(p.price),
      sizeLots: units.sizeToLots(p.amount),
    },
    // `now` lets the signing helper refuse an immediate order whose deadline is not short.
    { trader, nonce: p.nonce, expiry: p.expiry, maxFeeRate: p.maxFeeRate, now: BigInt(Math.floor(Date.now() / 1000)) },
  );
  const signed = trader.toLowerCase() === account.address.toLowerCase() ? await signOrder(account, domain, order) : await signOrderWithKey(account, domain, order);
  const body: PlaceOrderBody = {
    market: market.symbol,
    side: p.side,
    type: p.type,
    price: p.price,
    amount: p.amount,
    trader,
    nonce: p.nonce.toString(),
    expiry: p.expiry.toString(),
    maxFeeRate: p.maxFeeRate,
    signature: signed.signature,
  };
  if (p.timeInForce !== undefined) body.timeInForce = p.timeInForce;
  if (p.postOnly !== undefined) body.postOnly = p.postOnly;
  if (p.clientOrderId !== undefined) body.clientOrderId = p.clientOrderId;
  return body;
}

// Orders and trades as the API returns them: decimal strings in the market's units, CCXT-like names.
import { OrderType, Side, TimeInForce } from '@parallax/order-book';
import type { FillInfo, OrderInfo, TradeInfo } from '@parallax/sdk';
import type { ApiMarket } from '../markets/market-directory.js';
import type { OrderMeta } from '../market-data/market-data.service.js';
import type { OrderState, TradeRecord } from '../market-data/market-state.js';

// The SDK's wire types are the API's contract: the gateway builds exactly what its clients read.
export type OrderView = OrderInfo;
export type TradeView = TradeInfo;
/** A fill as this gateway's memory has it: REST adds its settlement, WebSocket fill events carry none. */
export type FillView = Omit<FillInfo, 'settlement'>;

const TIF = { [TimeInForce.GTC]: 'GTC', [TimeInForce.IOC]: 'IOC', [TimeInForce.FOK]: 'FOK', [TimeInForce.GTT]: 'GTC' } as const;

export function orderView(m: ApiMarket, o: OrderState, meta: OrderMeta | undefined): OrderView {
  const u = m.units;
  return {
    id: String(o.orderId),
    clientOrderId: meta?.clientOrderId ?? null,
    market: m.def.symbol,
    trader: meta?.trader ?? null,
    side: o.side === Side.Buy ? 'buy' : 'sell',
    type: o.orderType === OrderType.Market ? 'market' : 'limit',
    timeInForce: TIF[o.tif],
    price: u.ticksToPrice(o.price),
    amount: u.lotsToSize(o.size),
    filled: u.lotsToSize(o.filled),
    remaining: u.lotsToSize(o.status === 'open' ? o.size - o.filled : 0),
    average: o.filled === 0 ? null : u.ticksToPrice(Math.round(o.notional / o.filled)),
    status: o.status,
    reason: o.reason ?? null,
    timestamp: o.createdTs,
    lastUpdateTimestamp: o.updatedTs,
  };
}

export function tradeView(m: ApiMarket, t: TradeRecord): TradeView {
  return {
    id: String(t.seq),
    market: m.def.symbol,
    price: m.units.ticksToPrice(t.price),
    amount: m.units.lotsToSize(t.size),
    side: t.takerSide === Side.Buy ? 'buy' : 'sell',
    timestamp: t.ts,
  };
}

export function fillView(m: ApiMarket, t: TradeRecord, role: 'maker' | 'taker', orderId: number): FillView {
  const isBuy = (role === 'taker') === (t.takerSide === Side.Buy);
  return {
    id: String(t.seq),
    orderId: String(orderId),
    market: m.def.symbol,
    side: isBuy ? 'buy' : 'sell',
    takerOrMaker: role,
    price: m.units.ticksToPrice(t.price),
    amount: m.units.lotsToSize(t.size),
    timestamp: t.ts,
  };
}

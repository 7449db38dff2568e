// History reads for the REST controllers: order history, orders by id, fills (with each fill's settlement),
// public trades and candles. The projector's read model (PostgreSQL) answers what this gateway's memory does
// not reach (finished orders beyond its window, fills beyond the last 1,000 trades, older trades and candles);
// the live book, open orders and the WebSocket streams stay on the engine's events. Every answer says where
// it comes from and how fresh it is: `asOf.source` ('read-model' or 'gateway') and, per market, the last
// event sequence reflected. A read-model answer is merged with what this gateway holds (fresher: the projector
// trails the engine by its commit cadence), and `asOf.gateway` then names that part's sequence.
import { Inject, Injectable } from '@nestjs/common';
import { CLIENT_ORDER_ID_RE } from '@parallax/contracts';
import { OrderType, Side, TimeInForce } from '@parallax/order-book';
import { ApiError } from '../errors/api.errors.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import type { OrderState, TradeRecord } from '../market-data/market-state.js';
import { MarketDirectory, type ApiMarket } from '../markets/market-directory.js';
import { fillView, orderView, tradeView, type FillView, type OrderView, type TradeView } from '../orders/order-view.js';
import type { Session } from '../orders/orders.service.js';
import {
  FILL_SETTLEMENT_READ_MODEL,
  HISTORY_READ_MODEL,
  type FillSettlementReadModel,
  type FillSettlementRecord,
  type HistoryOrderRecord,
  type HistoryTradeRecord,
  type MarketHistoryReadModel,
} from './history-read-model.js';

export interface AsOf {
  /** 'read-model': the projector's rows; 'gateway': this gateway's memory of the engine's events. */
  readonly source: 'read-model' | 'gateway';
  /** Per market symbol: the last market event sequence reflected (and its engine time, ms, for the read model). */
  readonly markets: Readonly<Record<string, { readonly seq: number; readonly ts?: number }>>;
  /** Read-model answers merged with this gateway's fresher memory: the sequence per market its part reflects. */
  readonly gateway?: Readonly<Record<string, { readonly seq: number }>>;
}

export interface FillSettlementView {
  readonly status: FillSettlementRecord['status'];
  readonly batchId: string | null;
  readonly txHash: string | null;
  /** Gas units: the batch's gas used / its fill count. */
  readonly gasShare: string | null;
  /** Wei: gasShare x the batch's effective gas price. */
  readonly feeShareWei: string | null;
  readonly failureReason: string | null;
}

export interface CandleRow {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export type FillWithSettlement = FillView & { readonly settlement: FillSettlementView | null };

/** Validated by the controllers (query-params.ts): a market symbol, 1..1000, a non-negative cursor. */
export interface HistoryParams {
  readonly market: string | undefined;
  readonly limit: number;
  readonly before: number | undefined;
}

@Injectable()
export class HistoryService {
  constructor(
    private readonly markets: MarketDirectory,
    private readonly data: MarketDataService,
    @Inject(HISTORY_READ_MODEL) private readonly history: MarketHistoryReadModel | null,
    @Inject(FILL_SETTLEMENT_READ_MODEL) private readonly settlement: FillSettlementReadModel | null,
  ) {}

  /**
   * Finished orders, the newest `limit` (oldest first, as before): this gateway's (fresher, and the only ones
   * that know orders a shard refused) together with the read model's.
   */
  async closedOrders(session: Session, p: HistoryParams, inMemory: (symbol: string | undefined) => OrderView[]): Promise<{ orders: OrderView[]; asOf: AsOf }> {
    const symbol = this.symbolOf(p.market);
    const { limit, before } = p;
    const memory = inMemory(symbol).filter((o) => before === undefined || o.lastUpdateTimestamp < before);
    if (this.history === null) return { orders: memory.sort(newestFirst).slice(0, limit).reverse(), asOf: this.memoryAsOf(symbol) };
    const m = symbol === undefined ? undefined : this.markets.get(symbol);
    const rows = await this.history.closedOrders(session.trader, { limit, ...(m === undefined ? {} : { marketId: m.def.marketId }), ...(before === undefined ? {} : { before }) });
    const out = new Map<string, OrderView>(memory.map((o) => [`${o.market}/${o.id}`, o]));
    for (const r of rows) {
      const view = this.viewOf(r);
      if (view !== undefined && !out.has(`${view.market}/${view.id}`)) out.set(`${view.market}/${view.id}`, view);
    }
    return { orders: [...out.values()].sort(newestFirst).slice(0, limit).reverse(), asOf: await this.readModelAsOf(symbol, true) };
  }

  /** One order: from this gateway's memory, else from the read model (an order finished long ago). */
  async order(session: Session, symbol: string, orderId: string, inMemory: () => OrderView): Promise<OrderView & { asOf: AsOf }> {
    try {
      return { ...inMemory(), asOf: this.memoryAsOf(symbol) };
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'ORDER_NOT_FOUND' || this.history === null || !/^[1-9][0-9]{0,15}$/.test(orderId)) throw err;
    }
    const m = this.markets.get(symbol);
    const r = await this.history.order(session.trader, m.def.marketId, Number(orderId));
    const view = r === null ? undefined : this.viewOf(r);
    if (view === undefined) throw new ApiError('ORDER_NOT_FOUND', 'orderId: no such order of this trader in this market');
    return { ...view, asOf: await this.readModelAsOf(symbol) };
  }

  /**
   * One order by its client order id: from this gateway's memory (as before: no asOf), else from the read model
   * (the id travels in the signed-orders log, so the projector knows orders this gateway never saw).
   */
  async orderByClientId(session: Session, symbol: string, clientOrderId: string, inMemory: () => OrderView): Promise<OrderView | (OrderView & { asOf: AsOf })> {
    try {
      return inMemory();
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'ORDER_NOT_FOUND' || this.history === null || !CLIENT_ORDER_ID_RE.test(clientOrderId)) throw err;
    }
    const m = this.markets.get(symbol);
    const r = await this.history.orderByClientId(session.trader, m.def.marketId, clientOrderId);
    const view = r === null ? undefined : this.viewOf(r);
    if (view === undefined) throw new ApiError('ORDER_NOT_FOUND', 'clientOrderId: no such order of this trader in this market');
    return { ...view, asOf: await this.readModelAsOf(symbol) };
  }

  /** The trader's newest `limit` fills (oldest first, as before), each with its settlement (status, batch, transaction, gas share). */
  async fills(session: Session, p: HistoryParams, inMemory: (symbol: string | undefined) => FillView[]): Promise<{ fills: FillWithSettlement[]; asOf: AsOf }> {
    const symbol = this.symbolOf(p.market);
    const { limit, before } = p;
    const newest = (list: FillView[]): FillView[] =>
      list
        .sort((a, b) => b.timestamp - a.timestamp || Number(b.id) - Number(a.id))
        .slice(0, limit)
        .reverse();
    const memory = inMemory(symbol).filter((f) => before === undefined || f.timestamp < before);
    let fills: FillView[];
    let asOf: AsOf;
    if (this.history === null) {
      fills = newest(memory);
      asOf = this.memoryAsOf(symbol);
    } else {
      const m = symbol === undefined ? undefined : this.markets.get(symbol);
      const rows = await this.history.fills(session.trader, { limit, ...(m === undefined ? {} : { marketId: m.def.marketId }), ...(before === undefined ? {} : { before }) });
      const out = new Map<string, FillView>(memory.map((f) => [`${f.market}/${f.id}/${f.takerOrMaker}`, f]));
      for (const r of rows) {
        const market = this.markets.byMarketId(r.marketId);
        const f = market === undefined ? undefined : fillView(market, tradeOf(r), r.role, r.orderId);
        if (f !== undefined && !out.has(`${f.market}/${f.id}/${f.takerOrMaker}`)) out.set(`${f.market}/${f.id}/${f.takerOrMaker}`, f);
      }
      fills = newest([...out.values()]);
      asOf = await this.readModelAsOf(symbol, true);
    }
    return { fills: await this.withSettlement(fills), asOf };
  }

  /** Public trades, newest last: this gateway's recent ones when it holds `limit` of them, else the read model's. */
  async trades(m: ApiMarket, limit: number, before: number | undefined): Promise<{ trades: TradeView[]; asOf: AsOf }> {
    const state = this.data.market(m.def.marketId);
    const memory = (state?.trades ?? []).filter((t) => before === undefined || t.seq < before);
    // Memory answers when it holds enough trades; the read model (every trade) otherwise.
    if (this.history === null || memory.length >= limit) {
      return { trades: memory.slice(-limit).map((t) => tradeView(m, t)), asOf: this.memoryAsOf(m.def.symbol) };
    }
    const merged = new Map<number, TradeRecord>((await this.history.trades(m.def.marketId, limit, before)).map((t) => [t.seq, tradeOf(t)]));
    for (const t of memory) merged.set(t.seq, t);
    const trades = [...merged.values()].sort((a, b) => a.seq - b.seq).slice(-limit);
    return { trades: trades.map((t) => tradeView(m, t)), asOf: await this.readModelAsOf(m.def.symbol, true) };
  }

  /**
   * Candles from `since`: this gateway's (up to 7 days of 1-minute candles) when they cover every period from
   * `since`, else the read model's. `inMemory` aggregates this gateway's candles.
   */
  async candles(m: ApiMarket, periodMs: number, since: number, limit: number, inMemory: () => CandleRow[]): Promise<{ candles: CandleRow[]; asOf: AsOf }> {
    const state = this.data.market(m.def.marketId);
    const first = state?.candles[0]?.start;
    const boundary = first === undefined ? undefined : first - (first % periodMs);
    // Memory's first period may be partial (or older ones dropped): it answers alone only from the period after.
    if (this.history === null || (boundary !== undefined && since >= boundary + periodMs)) return { candles: inMemory(), asOf: this.memoryAsOf(m.def.symbol) };
    const stored = await this.history.candles(m.def.marketId, periodMs, since, limit);
    const byStart = new Map<number, CandleRow>(stored.map((c) => [c.start, c]));
    // Periods memory holds are fresher, except the first one memory may hold only part of: both count a prefix
    // of the same trades there, so the larger volume is the fresher.
    for (const c of inMemory()) {
      const s = byStart.get(c.start);
      if (s === undefined || c.start !== boundary || c.volume >= s.volume) byStart.set(c.start, c);
    }
    const candles = [...byStart.values()].sort((a, b) => a.start - b.start).slice(-limit);
    return { candles, asOf: await this.readModelAsOf(m.def.symbol, true) };
  }

  private async withSettlement(fills: FillView[]): Promise<FillWithSettlement[]> {
    if (this.settlement === null || fills.length === 0) return fills.map((f) => ({ ...f, settlement: null }));
    const keys = fills.map((f) => ({ marketId: this.markets.get(f.market).def.marketId, seq: Number(f.id) }));
    const found = new Map((await this.settlement.fillSettlements(keys)).map((r) => [`${r.marketId}/${r.seq}`, r]));
    return fills.map((f, i) => {
      const k = keys[i]!;
      const r = found.get(`${k.marketId}/${k.seq}`);
      // Not stored by the settlement service yet: it is waiting like a stored, unbatched fill.
      const settlement: FillSettlementView =
        r === undefined
          ? { status: 'pending', batchId: null, txHash: null, gasShare: null, feeShareWei: null, failureReason: null }
          : {
              status: r.status,
              batchId: r.batchId === null ? null : r.batchId.toString(),
              txHash: r.txHash,
              gasShare: r.gasShare === null ? null : r.gasShare.toString(),
              feeShareWei: r.feeShareWei === null ? null : r.feeShareWei.toString(),
              failureReason: r.failureReason,
            };
      return { ...f, settlement };
    });
  }

  private symbolOf(market: string | undefined): string | undefined {
    if (market === undefined) return undefined;
    return this.markets.get(market).def.symbol;
  }

  private viewOf(r: HistoryOrderRecord): OrderView | undefined {
    const m = this.markets.byMarketId(r.marketId);
    if (m === undefined) return undefined;
    const state: OrderState = {
      marketId: r.marketId,
      orderId: r.orderId,
      accountId: r.accountId,
      side: r.side === Side.Sell ? Side.Sell : Side.Buy,
      orderType: r.orderType === OrderType.Market ? OrderType.Market : OrderType.Limit,
      tif: r.tif === TimeInForce.IOC ? TimeInForce.IOC : r.tif === TimeInForce.FOK ? TimeInForce.FOK : r.tif === TimeInForce.GTT ? TimeInForce.GTT : TimeInForce.GTC,
      price: r.price ?? 0,
      size: r.size,
      filled: r.filled,
      notional: Number(r.notional),
      status: r.status,
      reason: r.reason ?? undefined,
      createdTs: r.createdTs,
      updatedTs: r.updatedTs,
    };
    const meta = this.data.metaOf(r.marketId, r.orderId);
    return orderView(m, state, meta ?? (r.trader === null ? undefined : { trader: r.trader as `0x${string}`, nonce: 0n, clientOrderId: undefined }));
  }

  private memoryAsOf(symbol: string | undefined): AsOf {
    const list = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    return { source: 'gateway', markets: Object.fromEntries(list.map((m) => [m.def.symbol, { seq: this.data.market(m.def.marketId)?.seq ?? 0 }])) };
  }

  private async readModelAsOf(symbol: string | undefined, merged = false): Promise<AsOf> {
    const list = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    const rows = (await this.history?.asOf(list.map((m) => m.def.marketId)))?.markets ?? {};
    const markets = Object.fromEntries(list.map((m) => [m.def.symbol, rows[String(m.def.marketId)] ?? { seq: 0, ts: 0 }]));
    return merged ? { source: 'read-model', markets, gateway: this.memoryAsOf(symbol).markets } : { source: 'read-model', markets };
  }
}

const tradeOf = (t: HistoryTradeRecord): TradeRecord => ({ ...t, takerSide: t.takerSide === Side.Sell ? Side.Sell : Side.Buy });

const newestFirst = (a: OrderView, b: OrderView): number => b.lastUpdateTimestamp - a.lastUpdateTimestamp || Number(b.id) - Number(a.id);

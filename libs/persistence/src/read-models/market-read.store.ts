// The read side of the market read model (prisma/schema.prisma: market_orders, market_trades, market_candles,
// account_ids, projector_markets): one definition of the history queries for the projector, which writes the
// rows (apps/projector MarketStore extends this class), and for a gateway that only reads them (apps/gateway,
// with DATABASE_URL). Every answer can say which market event sequence it reflects (asOf).
import type { PrismaClient } from '../generated/client.js';
import { intOf } from './read-model-values.js';

/** As the gateway names an order's state. */
export type MarketOrderStatus = 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';

/** An order as stored: the engine's view (codes, ticks, lots, engine ms) plus its trader when the registry knows it. */
export interface StoredOrder {
  readonly marketId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly trader: string | null;
  /** Engine codes (libs/order-book Side, OrderType, TimeInForce); null for a place the engine rejected. */
  readonly side: number | null;
  readonly orderType: number | null;
  readonly tif: number | null;
  readonly price: number | null;
  readonly size: number;
  readonly filled: number;
  readonly notional: bigint;
  readonly status: MarketOrderStatus;
  readonly reason: string | null;
  readonly createdTs: number;
  readonly updatedTs: number;
  readonly seq: number;
  readonly updatedSeq: number;
}

/** A trade (both sides), keyed by its market's event sequence. */
export interface StoredTrade {
  readonly marketId: number;
  readonly seq: number;
  readonly ts: number;
  readonly price: number;
  readonly size: number;
  readonly takerSide: number;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerAccountId: number;
  readonly takerAccountId: number;
}

/** A trade seen from one of its accounts. */
export interface StoredFill extends StoredTrade {
  readonly role: 'maker' | 'taker';
  readonly orderId: number;
}

export interface StoredCandle {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly trades: number;
}

/** How fresh an answer is: per market, the last event sequence the rows reflect (and its engine time). */
export interface MarketsAsOf {
  readonly markets: Readonly<Record<string, { readonly seq: number; readonly ts: number }>>;
}

export interface HistoryQuery {
  readonly marketId?: number;
  readonly limit: number;
  /** Only rows strictly older than this engine ms (paging backwards). */
  readonly before?: number;
}

export class MarketReadStore {
  constructor(protected readonly prisma: PrismaClient) {}

  async asOf(marketIds?: readonly number[]): Promise<MarketsAsOf> {
    const rows = marketIds === undefined ? await this.prisma.projectorMarket.findMany() : await this.prisma.projectorMarket.findMany({ where: { marketId: { in: [...marketIds] } } });
    return { markets: Object.fromEntries(rows.map((r) => [String(r.marketId), { seq: intOf(r.lastSeq), ts: intOf(r.lastTs) }])) };
  }

  /** The engine account ids the registry knows for a trader (one, once its first order was accepted). */
  async accountIds(trader: string): Promise<number[]> {
    const rows = await this.prisma.accountId.findMany({ where: { address: trader.toLowerCase() } });
    return rows.map((r) => intOf(r.accountId));
  }

  /** A trader's finished orders (filled, canceled, expired, rejected), most recently updated first. */
  async closedOrders(trader: string, q: HistoryQuery): Promise<StoredOrder[]> {
    const ids = await this.accountIds(trader);
    if (ids.length === 0) return [];
    const rows = await this.prisma.marketOrder.findMany({
      where: {
        accountId: { in: ids.map(BigInt) },
        status: { not: 'open' },
        ...(q.marketId === undefined ? {} : { marketId: q.marketId }),
        ...(q.before === undefined ? {} : { updatedTs: { lt: BigInt(q.before) } }),
      },
      orderBy: [{ updatedTs: 'desc' }, { orderId: 'desc' }],
      take: q.limit,
    });
    return rows.map((r) => orderOf(r, trader.toLowerCase()));
  }

  /** One order of a trader (null when it is not the trader's or not projected yet). */
  async order(trader: string, marketId: number, orderId: number): Promise<StoredOrder | null> {
    const ids = await this.accountIds(trader);
    const r = await this.prisma.marketOrder.findUnique({ where: { marketId_orderId: { marketId, orderId: BigInt(orderId) } } });
    if (r === null || !ids.includes(intOf(r.accountId))) return null;
    return orderOf(r, trader.toLowerCase());
  }

  /** A trader's order by the client order id it gave (null when none is projected). */
  async orderByClientId(trader: string, marketId: number, clientOrderId: string): Promise<StoredOrder | null> {
    const address = trader.toLowerCase();
    const ref = await this.prisma.marketClientOrderId.findUnique({ where: { address_marketId_clientOrderId: { address, marketId, clientOrderId } } });
    return ref === null ? null : this.order(address, marketId, intOf(ref.orderId));
  }

  /** A trader's fills (one row per side it was on), newest first. */
  async fills(trader: string, q: HistoryQuery): Promise<StoredFill[]> {
    const ids = (await this.accountIds(trader)).map(BigInt);
    if (ids.length === 0) return [];
    const scope = {
      ...(q.marketId === undefined ? {} : { marketId: q.marketId }),
      ...(q.before === undefined ? {} : { ts: { lt: BigInt(q.before) } }),
    };
    const rows = await this.prisma.marketTrade.findMany({
      where: { ...scope, OR: [{ makerAccountId: { in: ids } }, { takerAccountId: { in: ids } }] },
      orderBy: [{ ts: 'desc' }, { seq: 'desc' }],
      take: q.limit,
    });
    const mine = new Set(ids.map(intOf));
    const out: StoredFill[] = [];
    for (const r of rows) {
      const t = tradeOf(r);
      if (mine.has(t.makerAccountId)) out.push({ ...t, role: 'maker', orderId: t.makerOrderId });
      if (mine.has(t.takerAccountId)) out.push({ ...t, role: 'taker', orderId: t.takerOrderId });
    }
    return out.slice(0, q.limit);
  }

  /** A market's public trades, newest first. */
  async trades(marketId: number, limit: number, beforeSeq?: number): Promise<StoredTrade[]> {
    const rows = await this.prisma.marketTrade.findMany({
      where: { marketId, ...(beforeSeq === undefined ? {} : { seq: { lt: BigInt(beforeSeq) } }) },
      orderBy: { seq: 'desc' },
      take: limit,
    });
    return rows.map(tradeOf);
  }

  /** Candles of `periodMs` (a multiple of a minute dividing a day) from `since`, oldest first, the last `limit`. */
  async candles(marketId: number, periodMs: number, since: number, limit: number): Promise<StoredCandle[]> {
    // Aggregated at read time from the 1-minute rows: open of the first minute, close of the last.
    const rows = await this.prisma.$queryRaw<{ start: bigint; open: bigint; high: bigint; low: bigint; close: bigint; volume: bigint; trades: bigint }[]>`
      SELECT b.start, first.open_ticks AS open, b.high, b.low, last.close_ticks AS close, b.volume, b.trades FROM (
        SELECT start - (start % ${BigInt(periodMs)}) AS start, MIN(start) AS first_min, MAX(start) AS last_min,
               MAX(high_ticks) AS high, MIN(low_ticks) AS low, SUM(volume_lots)::bigint AS volume, SUM(trades)::bigint AS trades
        FROM market_candles WHERE market_id = ${marketId} AND start >= ${BigInt(since)}
        GROUP BY 1 ORDER BY 1 DESC LIMIT ${limit}
      ) b
      JOIN market_candles first ON first.market_id = ${marketId} AND first.start = b.first_min
      JOIN market_candles last ON last.market_id = ${marketId} AND last.start = b.last_min
      ORDER BY b.start ASC`;
    return rows.map((r) => ({ start: intOf(r.start), open: intOf(r.open), high: intOf(r.high), low: intOf(r.low), close: intOf(r.close), volume: intOf(r.volume), trades: intOf(r.trades) }));
  }
}

type OrderRow = Awaited<ReturnType<PrismaClient['marketOrder']['findUniqueOrThrow']>>;
type TradeRow = Awaited<ReturnType<PrismaClient['marketTrade']['findUniqueOrThrow']>>;

function orderOf(r: OrderRow, trader: string | null): StoredOrder {
  return {
    marketId: r.marketId,
    orderId: intOf(r.orderId),
    accountId: intOf(r.accountId),
    trader,
    side: r.side,
    orderType: r.orderType,
    tif: r.tif,
    price: r.priceTicks === null ? null : intOf(r.priceTicks),
    size: intOf(r.sizeLots),
    filled: intOf(r.filledLots),
    notional: BigInt(r.notional.toFixed(0)),
    status: r.status as MarketOrderStatus,
    reason: r.reason,
    createdTs: intOf(r.createdTs),
    updatedTs: intOf(r.updatedTs),
    seq: intOf(r.seq),
    updatedSeq: intOf(r.updatedSeq),
  };
}

function tradeOf(r: TradeRow): StoredTrade {
  return {
    marketId: r.marketId,
    seq: intOf(r.seq),
    ts: intOf(r.ts),
    price: intOf(r.priceTicks),
    size: intOf(r.sizeLots),
    takerSide: r.takerSide,
    makerOrderId: intOf(r.makerOrderId),
    takerOrderId: intOf(r.takerOrderId),
    makerAccountId: intOf(r.makerAccountId),
    takerAccountId: intOf(r.takerAccountId),
  };
}

// The market read model's tables (prisma/schema.prisma: market_orders, market_trades, market_candles,
// account_ids, projector_markets, projector_offsets). One batch's rows, its markets' cursors and the partition's
// offset commit in one transaction; a cursor moves only from the value the writer started from, so a second
// projector instance that applied the same events is refused (PROJECTOR_FENCED) and nothing is applied twice.
// The reads serve the gateway's history endpoints (apps/gateway src/history), each answer with the positions
// it reflects.
import { Prisma, type PrismaClient } from '@parallax/persistence';
import { ProjectorError } from '../projection/projector.errors.js';
import type { CandleDelta, MarketCursor, MarketStep, OrderChange, OrderRow, OrderStatus, TradeRow } from '../market/market-projection.js';

const ROWS_PER_STATEMENT = 500;
const TX_OPTIONS = { timeout: 60_000, maxWait: 30_000 } as const;
const int = (n: bigint | number): number => Number(n);

/** An order as stored: the engine's view (codes, ticks, lots, engine ms) plus its trader when the registry knows it. */
export interface StoredOrder {
  readonly marketId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly trader: string | null;
  readonly side: number | null;
  readonly orderType: number | null;
  readonly tif: number | null;
  readonly price: number | null;
  readonly size: number;
  readonly filled: number;
  readonly notional: bigint;
  readonly status: OrderStatus;
  readonly reason: string | null;
  readonly createdTs: number;
  readonly updatedTs: number;
  readonly seq: number;
  readonly updatedSeq: number;
}

export type StoredTrade = TradeRow;

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

export class MarketStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Every market's cursor. */
  async cursors(): Promise<Map<number, MarketCursor>> {
    const rows = await this.prisma.projectorMarket.findMany();
    return new Map(rows.map((r) => [r.marketId, { lastSeq: int(r.lastSeq), lastTs: int(r.lastTs) }]));
  }

  /** Next offset not reflected, per partition of `topic`. */
  async offsets(topic: string): Promise<Map<number, number>> {
    const rows = await this.prisma.projectorOffset.findMany({ where: { topic } });
    return new Map(rows.map((r) => [r.partition, int(r.next)]));
  }

  /** Commits one market-events batch: rows, cursors (fenced) and the partition's next offset. */
  async commitEvents(topic: string, partition: number, next: number, step: MarketStep): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      for (const [marketId, c] of step.cursors) {
        if (c.from === null) {
          const n = await tx.projectorMarket.createMany({ data: [{ marketId, lastSeq: BigInt(c.to.lastSeq), lastTs: BigInt(c.to.lastTs) }], skipDuplicates: true });
          if (n.count !== 1) throw new ProjectorError('PROJECTOR_FENCED', `market ${marketId}: another projector wrote its first cursor`);
        } else {
          const n = await tx.projectorMarket.updateMany({ where: { marketId, lastSeq: BigInt(c.from.lastSeq) }, data: { lastSeq: BigInt(c.to.lastSeq), lastTs: BigInt(c.to.lastTs) } });
          if (n.count !== 1) throw new ProjectorError('PROJECTOR_FENCED', `market ${marketId}: its cursor is no longer ${c.from.lastSeq} (another projector advanced it)`);
        }
      }
      for (let i = 0; i < step.orders.length; i += ROWS_PER_STATEMENT) await tx.$executeRaw(insertOrders(step.orders.slice(i, i + ROWS_PER_STATEMENT)));
      for (let i = 0; i < step.changes.length; i += ROWS_PER_STATEMENT) await tx.$executeRaw(updateOrders(step.changes.slice(i, i + ROWS_PER_STATEMENT)));
      for (let i = 0; i < step.trades.length; i += ROWS_PER_STATEMENT) await tx.$executeRaw(insertTrades(step.trades.slice(i, i + ROWS_PER_STATEMENT)));
      for (let i = 0; i < step.candles.length; i += ROWS_PER_STATEMENT) await tx.$executeRaw(upsertCandles(step.candles.slice(i, i + ROWS_PER_STATEMENT)));
      await tx.$executeRaw(upsertOffset(topic, partition, next));
    }, TX_OPTIONS);
  }

  /** Commits registry entries seen in one signed-orders batch and the partition's next offset. */
  async commitAccounts(topic: string, partition: number, next: number, accounts: ReadonlyMap<number, string>): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const rows = [...accounts];
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const values = rows.slice(i, i + ROWS_PER_STATEMENT).map(([id, address]) => Prisma.sql`(${BigInt(id)}, ${address})`);
        await tx.$executeRaw`INSERT INTO account_ids (account_id, address) VALUES ${Prisma.join(values)} ON CONFLICT (account_id) DO NOTHING`;
      }
      await tx.$executeRaw(upsertOffset(topic, partition, next));
    }, TX_OPTIONS);
  }

  async asOf(marketIds?: readonly number[]): Promise<MarketsAsOf> {
    const rows = marketIds === undefined ? await this.prisma.projectorMarket.findMany() : await this.prisma.projectorMarket.findMany({ where: { marketId: { in: [...marketIds] } } });
    return { markets: Object.fromEntries(rows.map((r) => [String(r.marketId), { seq: int(r.lastSeq), ts: int(r.lastTs) }])) };
  }

  /** The engine account ids the registry knows for a trader (one, once its first order was accepted). */
  async accountIds(trader: string): Promise<number[]> {
    const rows = await this.prisma.accountId.findMany({ where: { address: trader.toLowerCase() } });
    return rows.map((r) => int(r.accountId));
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
    if (r === null || !ids.includes(int(r.accountId))) return null;
    return orderOf(r, trader.toLowerCase());
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
    const mine = new Set(ids.map(int));
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
    return rows.map((r) => ({ start: int(r.start), open: int(r.open), high: int(r.high), low: int(r.low), close: int(r.close), volume: int(r.volume), trades: int(r.trades) }));
  }
}

type OrderRecord = Awaited<ReturnType<PrismaClient['marketOrder']['findUniqueOrThrow']>>;
type TradeRecord = Awaited<ReturnType<PrismaClient['marketTrade']['findUniqueOrThrow']>>;

function orderOf(r: OrderRecord, trader: string | null): StoredOrder {
  return {
    marketId: r.marketId,
    orderId: int(r.orderId),
    accountId: int(r.accountId),
    trader,
    side: r.side,
    orderType: r.orderType,
    tif: r.tif,
    price: r.priceTicks === null ? null : int(r.priceTicks),
    size: int(r.sizeLots),
    filled: int(r.filledLots),
    notional: BigInt(r.notional.toFixed(0)),
    status: r.status as OrderStatus,
    reason: r.reason,
    createdTs: int(r.createdTs),
    updatedTs: int(r.updatedTs),
    seq: int(r.seq),
    updatedSeq: int(r.updatedSeq),
  };
}

function tradeOf(r: TradeRecord): StoredTrade {
  return {
    marketId: r.marketId,
    seq: int(r.seq),
    ts: int(r.ts),
    price: int(r.priceTicks),
    size: int(r.sizeLots),
    takerSide: r.takerSide,
    makerOrderId: int(r.makerOrderId),
    takerOrderId: int(r.takerOrderId),
    makerAccountId: int(r.makerAccountId),
    takerAccountId: int(r.takerAccountId),
  };
}

const big = (n: number | null): bigint | null => (n === null ? null : BigInt(n));
const num = (v: bigint): Prisma.Sql => Prisma.sql`${v.toString()}::numeric`;

function insertOrders(rows: readonly OrderRow[]): Prisma.Sql {
  const values = rows.map(
    (o) => Prisma.sql`(${o.marketId}, ${BigInt(o.orderId)}, ${BigInt(o.accountId)}, ${o.side}::smallint, ${o.orderType}::smallint, ${o.tif}::smallint,
      ${big(o.price)}::bigint, ${BigInt(o.size)}, ${BigInt(o.filled)}, ${num(o.notional)}, ${o.status}, ${o.reason}, ${BigInt(o.createdTs)}, ${BigInt(o.updatedTs)},
      ${BigInt(o.seq)}, ${BigInt(o.updatedSeq)})`,
  );
  return Prisma.sql`
    INSERT INTO market_orders (market_id, order_id, account_id, side, order_type, tif, price_ticks, size_lots, filled_lots, notional, status, reason,
      created_ts, updated_ts, seq, updated_seq)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (market_id, order_id) DO NOTHING`;
}

function updateOrders(rows: readonly OrderChange[]): Prisma.Sql {
  const values = rows.map(
    (c) => Prisma.sql`(${c.marketId}::integer, ${BigInt(c.orderId)}::bigint, ${BigInt(c.filledDelta)}::bigint, ${num(c.notionalDelta)}, ${big(c.price)}::bigint,
      ${big(c.sizeOverStoredFilled)}::bigint, ${c.status}::varchar, ${c.reason}::varchar, ${BigInt(c.updatedTs)}::bigint, ${BigInt(c.updatedSeq)}::bigint)`,
  );
  // size uses the stored filled lots (before this batch's fills): the amend's remaining is counted from there.
  return Prisma.sql`
    UPDATE market_orders o SET
      filled_lots = o.filled_lots + v.df,
      notional = o.notional + v.dn,
      price_ticks = COALESCE(v.price, o.price_ticks),
      size_lots = CASE WHEN v.size_over IS NULL THEN o.size_lots ELSE o.filled_lots + v.size_over END,
      status = COALESCE(v.status, o.status),
      reason = COALESCE(v.reason, o.reason),
      updated_ts = v.ts,
      updated_seq = v.seq
    FROM (VALUES ${Prisma.join(values)}) AS v(market_id, order_id, df, dn, price, size_over, status, reason, ts, seq)
    WHERE o.market_id = v.market_id AND o.order_id = v.order_id`;
}

function insertTrades(rows: readonly TradeRow[]): Prisma.Sql {
  const values = rows.map(
    (t) => Prisma.sql`(${t.marketId}, ${BigInt(t.seq)}, ${BigInt(t.ts)}, ${BigInt(t.price)}, ${BigInt(t.size)}, ${t.takerSide}::smallint, ${BigInt(t.makerOrderId)},
      ${BigInt(t.takerOrderId)}, ${BigInt(t.makerAccountId)}, ${BigInt(t.takerAccountId)})`,
  );
  return Prisma.sql`
    INSERT INTO market_trades (market_id, seq, ts, price_ticks, size_lots, taker_side, maker_order_id, taker_order_id, maker_account_id, taker_account_id)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (market_id, seq) DO NOTHING`;
}

function upsertCandles(rows: readonly CandleDelta[]): Prisma.Sql {
  const values = rows.map(
    (c) => Prisma.sql`(${c.marketId}, ${BigInt(c.start)}, ${BigInt(c.open)}, ${BigInt(c.high)}, ${BigInt(c.low)}, ${BigInt(c.close)}, ${BigInt(c.volume)}, ${c.trades}, ${BigInt(c.lastSeq)})`,
  );
  return Prisma.sql`
    INSERT INTO market_candles (market_id, start, open_ticks, high_ticks, low_ticks, close_ticks, volume_lots, trades, last_seq)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (market_id, start) DO UPDATE SET
      high_ticks = GREATEST(market_candles.high_ticks, EXCLUDED.high_ticks),
      low_ticks = LEAST(market_candles.low_ticks, EXCLUDED.low_ticks),
      close_ticks = EXCLUDED.close_ticks,
      volume_lots = market_candles.volume_lots + EXCLUDED.volume_lots,
      trades = market_candles.trades + EXCLUDED.trades,
      last_seq = EXCLUDED.last_seq
    WHERE market_candles.last_seq < EXCLUDED.last_seq`;
}

function upsertOffset(topic: string, partition: number, next: number): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO projector_offsets (topic, partition, next, updated_at) VALUES (${topic}, ${partition}, ${BigInt(next)}, now())
    ON CONFLICT (topic, partition) DO UPDATE SET next = GREATEST(projector_offsets.next, EXCLUDED.next), updated_at = now()`;
}

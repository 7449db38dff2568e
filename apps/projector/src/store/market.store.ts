// The market read model's tables (prisma/schema.prisma: market_orders, market_trades, market_candles,
// account_ids, projector_markets, projector_offsets). One batch's rows, its markets' cursors and the partition's
// offset commit in one transaction; a cursor moves only from the value the writer started from, so a second
// projector instance that applied the same events is refused (PROJECTOR_FENCED) and nothing is applied twice.
// The reads (libs/persistence MarketReadStore, shared with a gateway that opens the database read-only) serve
// the gateway's history endpoints, each answer with the positions it reflects.
import { MarketReadStore, Prisma } from '@parallax/persistence';
import { ProjectorError } from '../projection/projector.errors.js';
import type { CandleDelta, ClientOrderIdRow, MarketCursor, MarketStep, OrderChange, OrderRow, TradeRow } from '../market/market-projection.js';

export type { HistoryQuery, MarketsAsOf, StoredCandle, StoredFill, StoredOrder, StoredTrade } from '@parallax/persistence';

const ROWS_PER_STATEMENT = 500;
const TX_OPTIONS = { timeout: 60_000, maxWait: 30_000 } as const;
const int = (n: bigint): number => Number(n);

/** MarketReadStore's queries, and the projector's writes of the same tables. */
export class MarketStore extends MarketReadStore {
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

  /** Commits registry entries and client order ids seen in one signed-orders batch, and the partition's next offset. */
  async commitAccounts(topic: string, partition: number, next: number, accounts: ReadonlyMap<number, string>, clientOrderIds: readonly ClientOrderIdRow[] = []): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const rows = [...accounts];
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const values = rows.slice(i, i + ROWS_PER_STATEMENT).map(([id, address]) => Prisma.sql`(${BigInt(id)}, ${address})`);
        await tx.$executeRaw`INSERT INTO account_ids (account_id, address) VALUES ${Prisma.join(values)} ON CONFLICT (account_id) DO NOTHING`;
      }
      for (let i = 0; i < clientOrderIds.length; i += ROWS_PER_STATEMENT) {
        const values = clientOrderIds.slice(i, i + ROWS_PER_STATEMENT).map((c) => Prisma.sql`(${c.address}, ${c.marketId}, ${c.clientOrderId}, ${BigInt(c.orderId)})`);
        await tx.$executeRaw`INSERT INTO market_client_order_ids (address, market_id, client_order_id, order_id) VALUES ${Prisma.join(values)} ON CONFLICT DO NOTHING`;
      }
      await tx.$executeRaw(upsertOffset(topic, partition, next));
    }, TX_OPTIONS);
  }
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

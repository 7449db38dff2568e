// The market read model as a pure function of the engines' events: orders (accepted, rejected, traded,
// amended, done), trades and 1-minute candles, folded per batch of market-events messages into the row
// changes one database transaction applies. Each market's event sequence is the idempotency key: events at
// or below the market's cursor were applied before (a redelivered batch yields no change), and the cursor
// advances with the rows. The account registry (engine account id -> trader) comes from the signed orders the
// risk shards publish, as the gateway learns it.
import { decodeEventBatch, decodeEventBatchEvents, decodeSignedOrderBatch } from '@parallax/contracts';
import { candleStart, doneReasonName, foldTrade, rejectReasonName, tradeRecord, CommandType, type BookEvent, type Candle } from '@parallax/order-book';
import type { MarketOrderStatus, StoredTrade } from '@parallax/persistence';
import type { ConsumedMessage } from '@parallax/transport';

/** The stored names of an order's state (one definition: libs/persistence's read store). */
export type OrderStatus = MarketOrderStatus;

/** A new market_orders row (its later changes in the same batch folded in). */
export interface OrderRow {
  readonly marketId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly side: number | null;
  readonly orderType: number | null;
  readonly tif: number | null;
  price: number | null;
  size: number;
  filled: number;
  notional: bigint;
  status: OrderStatus;
  reason: string | null;
  readonly createdTs: number;
  updatedTs: number;
  readonly seq: number;
  updatedSeq: number;
}

/** What one batch changed on an order stored by an earlier batch. */
export interface OrderChange {
  readonly marketId: number;
  readonly orderId: number;
  filledDelta: number;
  notionalDelta: bigint;
  price: number | null;
  /** After an amend: size = the stored filled lots + this (fills of the batch before the amend + remaining). */
  sizeOverStoredFilled: number | null;
  status: OrderStatus | null;
  reason: string | null;
  updatedTs: number;
  updatedSeq: number;
}

/** A market_trades row: the shape its reader returns (libs/persistence StoredTrade). */
export type TradeRow = StoredTrade;

/** One minute's trades of one batch: merged into the stored candle (open kept, high/low widened, close replaced). */
export interface CandleDelta extends Candle {
  readonly marketId: number;
  trades: number;
  lastSeq: number;
}

export interface MarketCursor {
  readonly lastSeq: number;
  readonly lastTs: number;
}

export interface MarketStep {
  readonly orders: OrderRow[];
  readonly changes: OrderChange[];
  readonly trades: TradeRow[];
  readonly candles: CandleDelta[];
  /** Markets whose cursor moved: the cursor before (null: no row yet) and after. */
  readonly cursors: Map<number, { readonly from: MarketCursor | null; readonly to: MarketCursor }>;
  readonly events: number;
  /** Events at or below their market's cursor (redelivered). */
  readonly duplicates: number;
  /** Markets whose next event was not cursor + 1 (events this projector never saw: retention, another log). */
  readonly gaps: { readonly marketId: number; readonly expected: number; readonly got: number }[];
  /** Messages that are not valid event batches (skipped; the engine wrote them, so this is a contract bug). */
  readonly unreadable: { readonly offset: number; readonly reason: string }[];
}

function doneStatus(reason: string): OrderStatus {
  return reason === 'FILLED' ? 'filled' : reason === 'EXPIRED' ? 'expired' : 'canceled';
}

/**
 * Folds market-events messages into row changes. `cursors` holds what the database holds (it is updated only
 * by `committed`, after the transaction): a failed commit leaves it untouched.
 */
export class MarketProjection {
  private readonly cursors = new Map<number, MarketCursor>();

  constructor(stored: Iterable<readonly [number, MarketCursor]> = []) {
    for (const [m, c] of stored) this.cursors.set(m, c);
  }

  cursor(marketId: number): MarketCursor | undefined {
    return this.cursors.get(marketId);
  }

  allCursors(): ReadonlyMap<number, MarketCursor> {
    return this.cursors;
  }

  /** The rows `messages` (one partition, offset order) add to what the cursors reflect. */
  fold(messages: readonly ConsumedMessage[]): MarketStep {
    const inserted = new Map<string, OrderRow>();
    const changed = new Map<string, OrderChange>();
    const trades: TradeRow[] = [];
    const candles = new Map<string, CandleDelta>();
    const moved = new Map<number, { from: MarketCursor | null; to: MarketCursor }>();
    const gaps: MarketStep['gaps'] = [];
    const unreadable: MarketStep['unreadable'] = [];
    let events = 0;
    let duplicates = 0;

    const changeOf = (marketId: number, orderId: number, e: BookEvent): OrderChange | OrderRow => {
      const key = `${marketId}/${orderId}`;
      const row = inserted.get(key);
      if (row !== undefined) return row;
      let c = changed.get(key);
      if (c === undefined) {
        c = { marketId, orderId, filledDelta: 0, notionalDelta: 0n, price: null, sizeOverStoredFilled: null, status: null, reason: null, updatedTs: e.ts, updatedSeq: e.seq };
        changed.set(key, c);
      }
      return c;
    };
    const isRow = (x: OrderChange | OrderRow): x is OrderRow => 'createdTs' in x;

    for (const m of messages) {
      let marketId: number;
      let list: BookEvent[];
      try {
        const batch = decodeEventBatch(m.value);
        marketId = batch.marketId;
        list = decodeEventBatchEvents(batch);
      } catch (err) {
        unreadable.push({ offset: m.offset, reason: err instanceof Error ? err.message : String(err) });
        continue;
      }
      const before = moved.get(marketId)?.to ?? this.cursors.get(marketId) ?? null;
      let cursor = before;
      for (const e of list) {
        const last = cursor?.lastSeq ?? 0;
        if (e.seq <= last) {
          duplicates++;
          continue;
        }
        if (e.seq !== last + 1) gaps.push({ marketId, expected: last + 1, got: e.seq });
        cursor = { lastSeq: e.seq, lastTs: e.ts };
        events++;
        this.apply(marketId, e, { inserted, changeOf, isRow, trades, candles });
      }
      if (cursor !== before && cursor !== null) moved.set(marketId, { from: moved.get(marketId)?.from ?? this.cursors.get(marketId) ?? null, to: cursor });
    }
    return { orders: [...inserted.values()], changes: [...changed.values()], trades, candles: [...candles.values()], cursors: moved, events, duplicates, gaps, unreadable };
  }

  /** The step's transaction committed: its cursors are what the database holds now. */
  committed(step: MarketStep): void {
    for (const [m, c] of step.cursors) this.cursors.set(m, c.to);
  }

  private apply(
    marketId: number,
    e: BookEvent,
    s: {
      inserted: Map<string, OrderRow>;
      changeOf: (marketId: number, orderId: number, e: BookEvent) => OrderChange | OrderRow;
      isRow: (x: OrderChange | OrderRow) => x is OrderRow;
      trades: TradeRow[];
      candles: Map<string, CandleDelta>;
    },
  ): void {
    switch (e.type) {
      case 'accepted':
        s.inserted.set(`${marketId}/${e.orderId}`, {
          marketId,
          orderId: e.orderId,
          accountId: e.accountId,
          side: e.side,
          orderType: e.orderType,
          tif: e.tif,
          price: e.price,
          size: e.size,
          filled: 0,
          notional: 0n,
          status: 'open',
          reason: null,
          createdTs: e.ts,
          updatedTs: e.ts,
          seq: e.seq,
          updatedSeq: e.seq,
        });
        break;
      case 'rejected':
        // A rejected place never entered the book: its owner still sees it, rejected with the engine's reason.
        // A rejected cancel changes no order. (A place rejected for a duplicate id must not overwrite the
        // live order: the insert skips an existing key.)
        if (e.command === CommandType.Place && !s.inserted.has(`${marketId}/${e.orderId}`)) {
          s.inserted.set(`${marketId}/${e.orderId}`, {
            marketId,
            orderId: e.orderId,
            accountId: e.accountId,
            side: null,
            orderType: null,
            tif: null,
            price: null,
            size: 0,
            filled: 0,
            notional: 0n,
            status: 'rejected',
            reason: rejectReasonName(e.reason) ?? 'REJECTED',
            createdTs: e.ts,
            updatedTs: e.ts,
            seq: e.seq,
            updatedSeq: e.seq,
          });
        }
        break;
      case 'trade': {
        s.trades.push({ marketId, ...tradeRecord(e) });
        for (const id of [e.makerOrderId, e.takerOrderId]) {
          const o = s.changeOf(marketId, id, e);
          if (s.isRow(o)) {
            o.filled += e.size;
            o.notional += BigInt(e.price) * BigInt(e.size);
          } else {
            o.filledDelta += e.size;
            o.notionalDelta += BigInt(e.price) * BigInt(e.size);
          }
          o.updatedTs = e.ts;
          o.updatedSeq = e.seq;
        }
        const key = `${marketId}/${candleStart(e.ts)}`;
        const c = s.candles.get(key);
        const folded = foldTrade(c, e.ts, e.price, e.size);
        if (c === undefined) s.candles.set(key, { marketId, ...folded, trades: 1, lastSeq: e.seq });
        else {
          c.trades++;
          c.lastSeq = e.seq;
        }
        break;
      }
      case 'done': {
        const o = s.changeOf(marketId, e.orderId, e);
        const reason = doneReasonName(e.reason) ?? 'DONE';
        o.status = doneStatus(reason);
        o.reason = reason;
        o.updatedTs = e.ts;
        o.updatedSeq = e.seq;
        break;
      }
      case 'amended': {
        const o = s.changeOf(marketId, e.orderId, e);
        o.price = e.price;
        if (s.isRow(o)) o.size = o.filled + e.size;
        else o.sizeOverStoredFilled = o.filledDelta + e.size;
        o.updatedTs = e.ts;
        o.updatedSeq = e.seq;
        break;
      }
      case 'level':
        break;
      default:
        e satisfies never;
    }
  }
}

/** engine account id -> trader, from signed-orders messages (undecodable ones skipped: the shards wrote them). */
export function accountsOfSignedOrders(messages: readonly ConsumedMessage[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of messages) {
    try {
      for (const o of decodeSignedOrderBatch(m.value).orders) out.set(o.accountId, o.trader.toLowerCase());
    } catch {
      // Not a signed order batch: nothing of the registry in it.
    }
  }
  return out;
}

/** A trader's client order id and the order it names (market_client_order_ids). */
export interface ClientOrderIdRow {
  readonly address: string;
  readonly marketId: number;
  readonly clientOrderId: string;
  readonly orderId: number;
}

/** The client order ids carried by signed-order batches (the first order of an id in a market keeps it). */
export function clientOrderIdsOfSignedOrders(messages: readonly ConsumedMessage[]): ClientOrderIdRow[] {
  const out = new Map<string, ClientOrderIdRow>();
  for (const m of messages) {
    try {
      const b = decodeSignedOrderBatch(m.value);
      for (const o of b.orders) {
        if (o.clientOrderId === undefined) continue;
        const address = o.trader.toLowerCase();
        const key = `${address}/${b.marketId}/${o.clientOrderId}`;
        if (!out.has(key)) out.set(key, { address, marketId: b.marketId, clientOrderId: o.clientOrderId, orderId: o.orderId });
      }
    } catch {
      // Not a signed order batch: no client order ids in it.
    }
  }
  return [...out.values()];
}

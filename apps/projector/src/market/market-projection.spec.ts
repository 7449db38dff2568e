// MarketProjection against the laws the store relies on: folding a log in any split into batches, applying each
// batch's changes to the previous rows, gives the rows of one fold of the whole log; a redelivered batch yields
// no change; a gap is reported, an undecodable message skipped and named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeEventBatch, encodeSignedOrderBatch, type SignedOrderRecord } from '@parallax/contracts';
import { AmendReason, DoneReason, encodeEvents, OrderType, Prng, Side, TimeInForce, type BookEvent } from '@parallax/order-book';
import type { ConsumedMessage } from '@parallax/transport';
import { clientOrderIdsOfSignedOrders, MarketProjection, type CandleDelta, type MarketStep, type OrderRow } from './market-projection.js';

const message = (offset: number, marketId: number, events: BookEvent[]): ConsumedMessage => ({
  topic: 'events',
  partition: 0,
  offset,
  key: String(marketId),
  timestamp: 0,
  headers: {},
  value: encodeEventBatch({
    marketId,
    inputPartition: 0,
    inputOffset: offset,
    firstSeq: events[0]!.seq,
    lastSeq: events.at(-1)!.seq,
    eventCount: events.length,
    stateHash: '0'.repeat(16),
    sentAtMs: 0,
    events: encodeEvents(events),
  }),
});

/** A random but consistent event log of two markets: accepts, trades against resting orders, amends, dones. */
function log(seed: number): ConsumedMessage[] {
  const prng = new Prng(seed);
  const out: ConsumedMessage[] = [];
  const state = new Map<number, { seq: number; nextId: number; open: { id: number; account: number; left: number }[] }>();
  let ts = 1_000_000;
  for (let i = 0; i < 200; i++) {
    const marketId = 1 + (prng.nextFloat() < 0.5 ? 0 : 1);
    let m = state.get(marketId);
    if (m === undefined) state.set(marketId, (m = { seq: 0, nextId: 1, open: [] }));
    const at = () => ({ seq: ++m.seq, ts });
    ts += Math.floor(prng.nextFloat() * 20_000);
    const events: BookEvent[] = [];
    const account = 1 + Math.floor(prng.nextFloat() * 5);
    const r = prng.nextFloat();
    const resting = m.open[Math.floor(prng.nextFloat() * m.open.length)];
    if (resting !== undefined && r < 0.35) {
      const id = m.nextId++;
      const size = 1 + Math.floor(prng.nextFloat() * resting.left);
      events.push({ type: 'accepted', ...at(), orderId: id, accountId: account, side: Side.Sell, orderType: OrderType.Limit, tif: TimeInForce.IOC, price: 90, size });
      events.push({ type: 'trade', ...at(), makerOrderId: resting.id, makerAccountId: resting.account, takerOrderId: id, takerAccountId: account, takerSide: Side.Sell, price: 95 + Math.floor(prng.nextFloat() * 10), size });
      events.push({ type: 'done', ...at(), orderId: id, accountId: account, reason: DoneReason.FILLED, remaining: 0 });
      resting.left -= size;
      if (resting.left === 0) {
        events.push({ type: 'done', ...at(), orderId: resting.id, accountId: resting.account, reason: DoneReason.FILLED, remaining: 0 });
        m.open.splice(m.open.indexOf(resting), 1);
      }
    } else if (resting !== undefined && r < 0.45) {
      resting.left = 1 + Math.floor(prng.nextFloat() * 5);
      events.push({ type: 'amended', ...at(), orderId: resting.id, accountId: resting.account, price: 99, size: resting.left, reason: AmendReason.USER });
    } else if (resting !== undefined && r < 0.55) {
      events.push({ type: 'done', ...at(), orderId: resting.id, accountId: resting.account, reason: DoneReason.CANCELLED, remaining: resting.left });
      m.open.splice(m.open.indexOf(resting), 1);
    } else {
      const id = m.nextId++;
      const size = 1 + Math.floor(prng.nextFloat() * 9);
      events.push({ type: 'accepted', ...at(), orderId: id, accountId: account, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 100, size });
      m.open.push({ id, account, left: size });
    }
    out.push(message(i, marketId, events));
  }
  return out;
}

interface Rows {
  orders: Map<string, OrderRow>;
  trades: number;
  candles: Map<string, CandleDelta>;
}

/** What the store's SQL does with a step (insert / update deltas / trade insert / candle merge). */
function applyStep(rows: Rows, step: MarketStep): void {
  for (const o of step.orders) if (!rows.orders.has(`${o.marketId}/${o.orderId}`)) rows.orders.set(`${o.marketId}/${o.orderId}`, { ...o });
  for (const c of step.changes) {
    const o = rows.orders.get(`${c.marketId}/${c.orderId}`);
    assert.ok(o, `change of an order never inserted: ${c.marketId}/${c.orderId}`);
    if (c.sizeOverStoredFilled !== null) o.size = o.filled + c.sizeOverStoredFilled;
    o.filled += c.filledDelta;
    o.notional += c.notionalDelta;
    if (c.price !== null) o.price = c.price;
    if (c.status !== null) o.status = c.status;
    if (c.reason !== null) o.reason = c.reason;
    o.updatedTs = c.updatedTs;
    o.updatedSeq = c.updatedSeq;
  }
  rows.trades += step.trades.length;
  for (const d of step.candles) {
    const key = `${d.marketId}/${d.start}`;
    const c = rows.candles.get(key);
    if (c === undefined) rows.candles.set(key, { ...d });
    else Object.assign(c, { high: Math.max(c.high, d.high), low: Math.min(c.low, d.low), close: d.close, volume: c.volume + d.volume, trades: c.trades + d.trades, lastSeq: d.lastSeq });
  }
}

const sorted = <T>(m: Map<string, T>): [string, T][] => [...m].sort(([a], [b]) => a.localeCompare(b));

describe('MarketProjection', () => {
  it('folding in batches (with redeliveries) equals one fold of the whole log', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const messages = log(seed);
      const whole = new MarketProjection().fold(messages);
      assert.deepEqual(whole.gaps, []);
      assert.ok(whole.trades.length > 10 && whole.changes.length === 0, `seed ${seed}: ${whole.trades.length} trades`);
      const p = new MarketProjection();
      const rows: Rows = { orders: new Map(), trades: 0, candles: new Map() };
      const prng = new Prng(seed * 7);
      let duplicates = 0;
      for (let i = 0; i < messages.length; ) {
        const n = 1 + Math.floor(prng.nextFloat() * 9);
        // Sometimes the batch starts a few messages back: a redelivery after a crash before the offset commit.
        const from = Math.max(0, i - (prng.nextFloat() < 0.3 ? Math.floor(prng.nextFloat() * 4) : 0));
        const step = p.fold(messages.slice(from, i + n));
        duplicates += step.duplicates;
        applyStep(rows, step);
        p.committed(step);
        i += n;
      }
      assert.ok(duplicates > 0, 'some batches were redelivered');
      const want: Rows = { orders: new Map(), trades: 0, candles: new Map() };
      applyStep(want, whole);
      assert.deepEqual(sorted(rows.orders), sorted(want.orders), `seed ${seed}`);
      assert.equal(rows.trades, whole.trades.length);
      assert.deepEqual(sorted(rows.candles), sorted(want.candles), `seed ${seed}`);
    }
  });

  it('a redelivered batch changes nothing; a batch the commit lost is folded again', () => {
    const messages = log(9).slice(0, 20);
    const p = new MarketProjection();
    const step = p.fold(messages);
    // Not committed (the transaction failed): the same batch folds to the same changes.
    assert.deepEqual(p.fold(messages), step);
    p.committed(step);
    const again = p.fold(messages);
    assert.equal(again.events, 0);
    assert.equal(again.duplicates, step.events);
    assert.deepEqual([again.orders, again.changes, again.trades, again.candles, again.cursors.size], [[], [], [], [], 0]);
  });

  it('reports a gap with the sequence it expected, and names an undecodable message', () => {
    const accepted = (seq: number, orderId: number): BookEvent => ({ type: 'accepted', seq, ts: seq, orderId, accountId: 1, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.GTC, price: 1, size: 1 });
    const p = new MarketProjection([[3, { lastSeq: 4, lastTs: 4 }]]);
    const bad = { ...message(1, 3, [accepted(5, 1)]), value: new Uint8Array([1, 2, 3]) };
    const step = p.fold([message(0, 3, [accepted(7, 2)]), bad]);
    assert.deepEqual(step.gaps, [{ marketId: 3, expected: 5, got: 7 }]);
    assert.equal(step.unreadable.length, 1);
    assert.equal(step.unreadable[0]!.offset, 1);
    assert.deepEqual(step.cursors.get(3), { from: { lastSeq: 4, lastTs: 4 }, to: { lastSeq: 7, lastTs: 7 } });
  });
});

describe('clientOrderIdsOfSignedOrders', () => {
  const signed = (orderId: number, trader: string, clientOrderId?: string): SignedOrderRecord => ({
    orderId,
    accountId: 4,
    trader: trader as `0x${string}`,
    isBuy: true,
    price: 1n,
    size: 1n,
    maxFeeRate: 0,
    expiry: 1n,
    nonce: BigInt(orderId),
    signature: `0x${'11'.repeat(65)}`,
    ...(clientOrderId === undefined ? {} : { clientOrderId }),
  });
  const message = (offset: number, value: Uint8Array): ConsumedMessage => ({ topic: 'signed', partition: 0, offset, key: null, value, timestamp: 0, headers: {} });

  it('collects each id with its market and order (the first order of an id in a market keeps it), skipping unreadable messages', () => {
    const T = `0x${'ab'.repeat(20)}`;
    const rows = clientOrderIdsOfSignedOrders([
      message(0, encodeSignedOrderBatch({ marketId: 1, orders: [signed(10, T, 'a-1'), signed(11, T)] })),
      message(1, new Uint8Array([1, 2, 3])),
      message(2, encodeSignedOrderBatch({ marketId: 1, orders: [signed(12, T, 'a-1')] })),
      message(3, encodeSignedOrderBatch({ marketId: 2, orders: [signed(13, T, 'a-1')] })),
    ]);
    assert.deepEqual(rows, [
      { address: T, marketId: 1, clientOrderId: 'a-1', orderId: 10 },
      { address: T, marketId: 2, clientOrderId: 'a-1', orderId: 13 },
    ]);
  });
});

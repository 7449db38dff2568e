// The engine's clock and order ids against whoever can write to the orders topic (issue 9): time comes
// from the log's append time, never from the ts a writer puts in its commands, and an order id is used at
// most once per market, each id-minting writer (its source) keeping its own high-water mark.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEventBatch, decodeEventBatchEvents, defaultMarkets, encodeCommandBatch, MarketCatalogue, type MarketSnapshot, decodeMarketSnapshot } from '@parallax/contracts';
import { doneReasonName, OrderType, rejectReasonName, Side, StpMode, TimeInForce, type BookEvent, type Command, type PlaceOrder } from '@parallax/order-book';
import type { ConsumedMessage } from '@parallax/transport';
import { GATEWAY_ORDER_ID_SOURCES, PartitionEngine } from './partition-engine.js';

const MARKET = 1;
const catalogue = new MarketCatalogue(defaultMarkets(1));
const T0 = 1_800_000_000_000; // the log's clock at the start (ms)
const DAY = 86_400_000;
/** A gateway id: (serial) * 16 + instance, as apps/gateway mints them. */
const gid = (serial: number, instance: number): number => serial * GATEWAY_ORDER_ID_SOURCES + instance;

function place(orderId: number, side: Side, price: number, o: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'place', ts: 0, orderId, accountId: side === Side.Buy ? 1 : 2, side, orderType: OrderType.Limit, price, size: 1,
    tif: TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None, ...o,
  };
}

class Log {
  readonly messages: ConsumedMessage[] = [];
  /** Appends one command batch with the log's append time `logTime` (the writer chose the commands' ts). */
  append(logTime: number, ...commands: Command[]): ConsumedMessage {
    const m: ConsumedMessage = {
      topic: 'orders', partition: 0, offset: this.messages.length, key: String(MARKET),
      value: encodeCommandBatch({ marketId: MARKET, sentAtMs: 0, commands }), timestamp: logTime, headers: {},
    };
    this.messages.push(m);
    return m;
  }
}

function engine(): PartitionEngine {
  return new PartitionEngine({ partition: 0, partitions: 1, catalogue });
}

/** The events one message produced. */
function eventsOf(e: PartitionEngine, m: ConsumedMessage): BookEvent[] {
  return e.process([m]).outputs.flatMap((o) => decodeEventBatchEvents(decodeEventBatch(o.value)));
}
const rejects = (events: readonly BookEvent[]): string[] => events.flatMap((x) => (x.type === 'rejected' ? [rejectReasonName(x.reason) ?? String(x.reason)] : []));
const done = (events: readonly BookEvent[]): string[] => events.flatMap((x) => (x.type === 'done' ? [`${x.orderId}:${doneReasonName(x.reason) ?? x.reason}`] : []));

describe('PartitionEngine: time from the log, order ids per source', () => {
  it('a far-future ts written into the commands expires nothing and moves no clock', () => {
    const log = new Log();
    const e = engine();
    // An honest GTT order that lives one hour.
    eventsOf(e, log.append(T0, place(gid(1, 0), Side.Buy, 100, { tif: TimeInForce.GTT, expiresAt: T0 + 3_600_000, ts: T0 })));
    // The attacker writes a command with a ts ten years ahead (its own far-future order and an expire).
    const attack = eventsOf(e, log.append(T0 + 5, place(gid(1, 1), Side.Sell, 200, { ts: T0 + 3650 * DAY }), { type: 'expire', ts: T0 + 3650 * DAY }));
    assert.deepEqual(rejects(attack), []);
    assert.deepEqual(done(attack), [], 'the GTT order is not expired');
    assert.ok(attack.every((x) => x.ts === T0 + 5), 'every event carries the log time, not the written one');
    assert.equal(e.market(MARKET)!.orders, 2);
    // The next honest order (written with a small ts) is accepted at the log's time.
    const next = eventsOf(e, log.append(T0 + 10, place(gid(2, 0), Side.Buy, 101, { ts: 1 })));
    assert.deepEqual(rejects(next), []);
    // And the GTT order expires when the log's time reaches its expiry, not before.
    const later = eventsOf(e, log.append(T0 + 3_600_000, { type: 'expire', ts: 0 }));
    assert.deepEqual(done(later), [`${gid(1, 0)}:EXPIRED`]);
  });

  it('a silence of a day, then an order: accepted (the market is never wedged by a gap)', () => {
    const log = new Log();
    const e = engine();
    eventsOf(e, log.append(T0, place(gid(1, 0), Side.Buy, 100, { ts: T0 })));
    const after = eventsOf(e, log.append(T0 + DAY, place(gid(2, 0), Side.Buy, 100, { ts: T0 + DAY })));
    assert.deepEqual(rejects(after), []);
    assert.equal(e.market(MARKET)!.orders, 2);
  });

  it('writers whose clocks disagree (ts going back between sources), and a log clock stepping back, reject nothing', () => {
    const log = new Log();
    const e = engine();
    // Gateway 0 runs a second ahead of gateway 1: its commands carry later ts and higher ids.
    const a = eventsOf(e, log.append(T0, place(gid(1_000, 0), Side.Buy, 100, { ts: T0 + 1_000 })));
    const b = eventsOf(e, log.append(T0 + 1, place(gid(5, 1), Side.Buy, 99, { ts: T0 - 1_000 })));
    // The broker's clock steps back 50 ms (NTP): the market's clock stays where it was.
    const c = eventsOf(e, log.append(T0 - 50, place(gid(6, 1), Side.Buy, 98, { ts: T0 })));
    assert.deepEqual([...rejects(a), ...rejects(b), ...rejects(c)], []);
    assert.ok(c.every((x) => x.ts === T0 + 1), 'a log time behind the clock runs at the clock');
  });

  it('an order id used before is refused whoever writes it again, and the mark survives snapshot and replay', () => {
    const log = new Log();
    const e = engine();
    eventsOf(e, log.append(T0, place(gid(7, 3), Side.Buy, 100)));
    eventsOf(e, log.append(T0 + 1, { type: 'cancel', ts: 0, orderId: gid(7, 3), accountId: 1 }));
    const snapshots: MarketSnapshot[] = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    // Replayed by another writer (another account, any ts): same id, same source, refused.
    const reused = eventsOf(e, log.append(T0 + 2, place(gid(7, 3), Side.Sell, 300, { accountId: 9 })));
    assert.deepEqual(rejects(reused), ['ORDER_ID_REUSED']);
    // A lower id of the same source, never used, is refused too; other sources are free.
    const lower = eventsOf(e, log.append(T0 + 3, place(gid(6, 3), Side.Sell, 300), place(gid(1, 4), Side.Sell, 300)));
    assert.deepEqual(rejects(lower), ['ORDER_ID_REUSED']);
    // A restarted engine (snapshot + replay of the log after it) answers exactly the same.
    const again = engine();
    again.restore(snapshots, log.messages.slice(0, 2));
    const redo = log.messages.slice(2).flatMap((m) => eventsOf(again, m));
    assert.deepEqual(rejects(redo), ['ORDER_ID_REUSED', 'ORDER_ID_REUSED']);
    assert.equal(again.market(MARKET)!.stateHash, e.market(MARKET)!.stateHash);
  });

  it('risk shards are the sources when they mint the ids (counter * shards + shard): ids out of global order are fine', () => {
    const shards = 4;
    const e = new PartitionEngine({ partition: 0, partitions: 1, catalogue, accountShards: shards });
    const log = new Log();
    // Shard 3 has minted many more ids than shard 0.
    const first = eventsOf(e, log.append(T0, place(500 * shards + 3, Side.Buy, 100), place(2 * shards + 0, Side.Buy, 100), place(3 * shards + 0, Side.Buy, 100)));
    assert.deepEqual(rejects(first), []);
    // Below shard 0's mark (never used, but a shard's ids only increase) and a live one.
    const reused = eventsOf(e, log.append(T0 + 1, place(1 * shards + 0, Side.Sell, 300), place(3 * shards + 0, Side.Sell, 300)));
    assert.deepEqual(rejects(reused), ['ORDER_ID_REUSED', 'DUPLICATE_ORDER_ID']);
  });
});

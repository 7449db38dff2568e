// Property tests: random command sequences through the real book and through the independent reference
// model must give identical events, and the book's invariants must hold after every command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BookEvent } from '../index.js';
import { EventCollector, EventEncoder, OrderBook, Side, decodeEvents, emitTo, encodeEvents } from '../index.js';
import { commandsArb, configArb } from './arbitraries.js';
import { ReferenceBook } from './reference-book.js';

/** Checks the book's invariants against itself, the model and the event history. */
class InvariantChecker {
  private lastSeq = 0;
  /** Open size per live order, maintained only from events (conservation of quantity). */
  private readonly open = new Map<number, number>();
  /** Last reported total per level, from level events. */
  private readonly levels = new Map<string, number>();

  constructor(
    private readonly book: OrderBook,
    private readonly model: ReferenceBook,
  ) {}

  check(events: readonly BookEvent[]): void {
    for (const e of events) {
      assert.equal(e.seq, ++this.lastSeq, 'sequence increases by exactly one');
      this.follow(e);
    }
    const book = this.book;
    const bid = book.bestBid();
    const ask = book.bestAsk();
    assert.ok(bid === 0 || ask === 0 || bid < ask, `book crossed: ${bid} >= ${ask}`);
    let resting = 0;
    for (const side of [Side.Buy, Side.Sell]) {
      const orders = book.orders(side);
      // Same orders in the same priority (price, then FIFO) as the model.
      assert.deepEqual(
        orders.map((o) => [o.orderId, o.accountId, o.price, o.remaining]),
        this.model.ordersOf(side).map((o) => [o.id, o.account, o.price, o.remaining]),
      );
      // Price priority: strictly better levels first.
      const depth = book.depth(side);
      for (let i = 1; i < depth.length; i++) {
        assert.ok(side === Side.Buy ? depth[i - 1]!.price > depth[i]!.price : depth[i - 1]!.price < depth[i]!.price);
      }
      // Level totals are the sums of their orders and match the last level event.
      let sideTotal = 0;
      for (const l of depth) {
        const inLevel = orders.filter((o) => o.price === l.price);
        assert.equal(l.orders, inLevel.length);
        assert.equal(l.size, inLevel.reduce((s, o) => s + o.remaining, 0));
        assert.ok(l.size > 0);
        assert.equal(this.levels.get(`${side}:${l.price}`), l.size, 'level event reports the current total');
        sideTotal += l.size;
      }
      for (const [key, size] of this.levels) {
        if (key.startsWith(`${side}:`) && size > 0) {
          assert.ok(depth.some((l) => `${side}:${l.price}` === key), `level ${key} reported ${size} but is gone`);
        }
      }
      assert.equal(book.sideSize(side), sideTotal);
      // Conservation: what the events say is open is exactly what rests.
      for (const o of orders) assert.equal(this.open.get(o.orderId), o.remaining, `open size of ${o.orderId}`);
      resting += orders.length;
    }
    assert.equal(book.orderCount, resting);
    assert.equal(this.open.size, resting, 'every accepted order is either resting or done');
    for (let a = 1; a <= 3; a++) {
      assert.equal(book.openOrderCount(a), [...book.orders(Side.Buy), ...book.orders(Side.Sell)].filter((o) => o.accountId === a).length);
    }
  }

  private follow(e: BookEvent): void {
    switch (e.type) {
      case 'accepted':
        assert.equal(this.open.has(e.orderId), false);
        this.open.set(e.orderId, e.size);
        return;
      case 'trade': {
        assert.ok(e.size > 0);
        for (const oid of [e.makerOrderId, e.takerOrderId]) {
          const left = this.open.get(oid);
          assert.ok(left !== undefined && left >= e.size, `trade of ${e.size} exceeds open size of ${oid}`);
          this.open.set(oid, left - e.size);
        }
        return;
      }
      case 'amended':
        assert.ok(this.open.has(e.orderId));
        this.open.set(e.orderId, e.size);
        return;
      case 'done':
        assert.equal(this.open.get(e.orderId), e.remaining, `done releases exactly the open size of ${e.orderId}`);
        this.open.delete(e.orderId);
        return;
      case 'level':
        this.levels.set(`${e.side}:${e.price}`, e.size);
        return;
      case 'rejected':
        return;
    }
  }
}

describe('OrderBook properties', () => {
  it('matches the reference model event for event, with invariants after every command', () => {
    fc.assert(
      fc.property(configArb, commandsArb, (config, commands) => {
        const out = new EventCollector();
        const book = new OrderBook(config, out);
        const model = new ReferenceBook(config);
        const checker = new InvariantChecker(book, model);
        for (const cmd of commands) {
          book.apply(cmd);
          const got = out.take();
          assert.deepEqual(got, model.apply(cmd), `events differ for ${JSON.stringify(cmd)}`);
          checker.check(got);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('snapshot at any point + replay of the rest gives identical events, hash and state bytes', () => {
    fc.assert(
      fc.property(configArb, commandsArb, fc.nat(), (config, commands, cut) => {
        const k = cut % (commands.length + 1);
        const outA = new EventCollector();
        const a = new OrderBook(config, outA);
        for (const c of commands.slice(0, k)) a.apply(c);
        const snap = a.snapshot();
        const outB = new EventCollector();
        const b = OrderBook.restore(snap, outB);
        assert.deepEqual(b.snapshot(), snap, 'restore -> snapshot is the identity on bytes');
        assert.equal(b.stateHash(), a.stateHash());
        outA.clear();
        for (const c of commands.slice(k)) {
          a.apply(c);
          b.apply(c);
        }
        assert.deepEqual(outB.events, outA.events);
        assert.deepEqual(encodeEvents(outB.events), encodeEvents(outA.events));
        assert.equal(b.stateHash(), a.stateHash());
        assert.deepEqual(b.snapshot(), a.snapshot());
      }),
      { numRuns: 200 },
    );
  });

  it('event byte encoding round-trips and equals the streaming encoder', () => {
    fc.assert(
      fc.property(configArb, commandsArb, (config, commands) => {
        const out = new EventCollector();
        const enc = new EventEncoder(16);
        const book = new OrderBook(config, out);
        const encoded = new OrderBook(config, enc);
        for (const c of commands) {
          book.apply(c);
          encoded.apply(c);
        }
        const bytes = encodeEvents(out.events);
        assert.deepEqual(enc.bytes(), bytes, 'book -> EventEncoder sink equals encodeEvents(collected)');
        const again = new EventEncoder(16);
        for (const e of out.events) emitTo(again, e);
        assert.deepEqual(again.bytes(), bytes);
        assert.deepEqual(decodeEvents(bytes), out.events);
      }),
      { numRuns: 100 },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventCollector, MarketUnits, OrderBook, OrderType, Side, StpMode, TimeInForce, type Command } from '@parallax/order-book';
import { bookChecksum, LocalBook } from '@parallax/sdk';
import fc from 'fast-check';
import { MarketState } from '../market-data/market-state.js';
import { PriceLadder } from '../market-data/price-ladder.js';
import { BookCoalescer, type MergedDiff } from './book-coalescer.js';

const units = new MarketUnits('0.01', '0.001');
const fmt = (l: Iterable<readonly [number, number]>): [string, string][] => Array.from(l, ([p, q]): [string, string] => [units.ticksToPrice(p), units.lotsToSize(q)]);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const command = fc.oneof(
  fc.record({ kind: fc.constant('place' as const), buy: fc.boolean(), price: fc.integer({ min: 95, max: 105 }), size: fc.integer({ min: 1, max: 5 }), account: fc.integer({ min: 1, max: 4 }), ioc: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(), account: fc.integer({ min: 1, max: 4 }) }),
);

describe('BookCoalescer', () => {
  it('a client applying merged diffs (windows of any length) keeps the server book, checksum verified after each', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 120 }), fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }), (cmds, flushAfter) => {
        const sink = new EventCollector();
        const book = new OrderBook({ marketId: 1, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 }, sink);
        const state = new MarketState(1);
        const client = new LocalBook('M1');
        assert.equal(client.reset({ market: 'M1', seq: 0, bids: [], asks: [], checksum: bookChecksum([], []) }), 'ok');
        let batches = 0;
        const sent: MergedDiff[] = [];
        // A long window: only the explicit flushes below send (as the timer would at a window's end).
        const co = new BookCoalescer(60_000, (d) => {
          sent.push(d);
          const { bids, asks } = state.levels(25);
          assert.equal(client.apply({ market: 'M1', prevSeq: d.prevSeq, seq: d.seq, bids: fmt(d.bids), asks: fmt(d.asks), checksum: bookChecksum(fmt(bids), fmt(asks)) }), 'ok');
        });
        let nextId = 1;
        cmds.forEach((c, i) => {
          const ts = i + 1;
          const cmd: Command =
            c.kind === 'place'
              ? { type: 'place', ts, orderId: nextId++, accountId: c.account, side: c.buy ? Side.Buy : Side.Sell, orderType: OrderType.Limit, price: c.price, size: c.size, tif: c.ioc ? TimeInForce.IOC : TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None }
              : { type: 'cancel', ts, orderId: 1 + (c.pick % nextId), accountId: c.account };
          book.apply(cmd);
          const out = state.apply(sink.take());
          if (out.diff !== undefined) {
            co.add(out.diff);
            batches++;
          }
          if (flushAfter[i] === true) co.flush(1);
        });
        co.flush(1);
        co.close();
        assert.equal(
          sent.reduce((n, d) => n + d.batches, 0),
          batches,
        );
        assert.equal(client.seq, state.bookSeq);
        const { bids, asks } = state.levels(1000);
        assert.deepEqual(client.top(1000), { bids: fmt(bids), asks: fmt(asks) });
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('sends at once when the market was quiet, then at most one diff per window', async () => {
    let now = 1_000;
    const sent: MergedDiff[] = [];
    const co = new BookCoalescer(10, (d) => sent.push(d), () => now);
    co.add({ marketId: 1, prevSeq: 0, seq: 2, ts: 1, bids: [[100, 1]], asks: [] });
    co.add({ marketId: 1, prevSeq: 2, seq: 3, ts: 2, bids: [[100, 0]], asks: [[101, 4]] });
    assert.equal(sent.length, 0, 'batches of one turn merge');
    await turn();
    assert.equal(sent.length, 1);
    assert.deepEqual({ prevSeq: sent[0]!.prevSeq, seq: sent[0]!.seq, firstTs: sent[0]!.firstTs, ts: sent[0]!.ts, batches: sent[0]!.batches, bids: [...sent[0]!.bids], asks: [...sent[0]!.asks] }, { prevSeq: 0, seq: 3, firstTs: 1, ts: 2, batches: 2, bids: [[100, 0]], asks: [[101, 4]] });
    // Within the window: held for the rest of it (a timer), not sent on the next turn.
    now += 3;
    co.add({ marketId: 1, prevSeq: 3, seq: 4, ts: 3, bids: [], asks: [[101, 0]] });
    await turn();
    assert.equal(sent.length, 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.prevSeq, 3);
    // A batch that does not continue the pending diff sends that one first, and starts a new one.
    now += 100;
    co.add({ marketId: 1, prevSeq: 4, seq: 5, ts: 4, bids: [[99, 1]], asks: [] });
    co.add({ marketId: 1, prevSeq: 7, seq: 8, ts: 5, bids: [[98, 1]], asks: [] });
    assert.equal(sent.length, 3);
    assert.deepEqual([sent[2]!.prevSeq, sent[2]!.seq], [4, 5]);
    co.drop(1);
    await turn();
    assert.equal(sent.length, 3, 'a dropped diff is never sent');
    co.close();
  });

  it('asks for the window each time one starts (the fan-out grows it with its subscribers)', async () => {
    const sent: MergedDiff[] = [];
    let windowMs = 0;
    let asked = 0;
    const co = new BookCoalescer(
      () => {
        asked++;
        return windowMs;
      },
      (d) => sent.push(d),
      () => 1_000, // a clock that stands still: the window alone decides
    );
    co.add({ marketId: 1, prevSeq: 0, seq: 1, ts: 1, bids: [[100, 1]], asks: [] });
    await turn();
    assert.equal(sent.length, 1, 'window 0: out on the next turn');
    windowMs = 60_000;
    co.add({ marketId: 1, prevSeq: 1, seq: 2, ts: 2, bids: [[100, 2]], asks: [] });
    await turn();
    assert.equal(sent.length, 1, 'the grown window holds the next diff back');
    assert.equal(asked, 2);
    co.flush(1);
    assert.deepEqual([sent[1]!.prevSeq, sent[1]!.seq], [1, 2]);
    co.close();
  });
});

describe('PriceLadder', () => {
  it('keeps prices in book order through any adds and removes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 60 })), { maxLength: 300 }), fc.boolean(), (ops, descending) => {
        const ladder = new PriceLadder(descending);
        const ref = new Set<number>();
        for (const [add, p] of ops) {
          if (add) {
            ladder.add(p);
            ref.add(p);
          } else {
            ladder.remove(p);
            ref.delete(p);
          }
        }
        const sorted = [...ref].sort((a, b) => (descending ? b - a : a - b));
        assert.deepEqual(ladder.top(1000), sorted);
        assert.deepEqual(ladder.top(3), sorted.slice(0, 3));
        assert.equal(ladder.size, ref.size);
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventCollector, MarketUnits, OrderBook, OrderType, Side, StpMode, TimeInForce, type Command } from '@parallax/order-book';
import { bookChecksum, LocalBook } from '@parallax/sdk';
import fc from 'fast-check';
import { OrderIdGenerator } from '../orders/order-ids.js';
import { MarketState } from './market-state.js';

const units = new MarketUnits('0.01', '0.001');
const fmt = (l: readonly (readonly [number, number])[]): [string, string][] => l.map(([p, q]) => [units.ticksToPrice(p), units.lotsToSize(q)]);

const command = fc.oneof(
  fc.record({ kind: fc.constant('place' as const), buy: fc.boolean(), price: fc.integer({ min: 95, max: 105 }), size: fc.integer({ min: 1, max: 5 }), account: fc.integer({ min: 1, max: 4 }), ioc: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(), account: fc.integer({ min: 1, max: 4 }) }),
);

describe('MarketState and LocalBook', () => {
  it('a client book kept from snapshot + diffs equals the server book and its checksum after every batch', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 120 }), fc.nat({ max: 119 }), (cmds, joinAt) => {
        const sink = new EventCollector();
        const book = new OrderBook({ marketId: 1, minSize: 0, minNotional: 0, maxOpenOrdersPerAccount: 0, priceBandBps: 0, initialReferencePrice: 0 }, sink);
        const state = new MarketState(1);
        const client = new LocalBook('M1');
        let nextId = 1;
        cmds.forEach((c, i) => {
          const ts = i + 1;
          const cmd: Command =
            c.kind === 'place'
              ? { type: 'place', ts, orderId: nextId++, accountId: c.account, side: c.buy ? Side.Buy : Side.Sell, orderType: OrderType.Limit, price: c.price, size: c.size, tif: c.ioc ? TimeInForce.IOC : TimeInForce.GTC, expiresAt: 0, postOnly: false, stp: StpMode.None }
              : { type: 'cancel', ts, orderId: 1 + (c.pick % nextId), accountId: c.account };
          book.apply(cmd);
          const out = state.apply(sink.take());
          // The client joins late: the snapshot is whatever the server holds then.
          if (i === Math.min(joinAt, cmds.length - 1)) {
            const { bids, asks } = state.levels(1000);
            assert.equal(client.reset({ market: 'M1', seq: state.bookSeq, bids: fmt(bids), asks: fmt(asks), checksum: bookChecksum(fmt(bids), fmt(asks)) }), 'ok');
          } else if (client.synced && out.diff !== undefined) {
            const { bids, asks } = state.levels(25);
            const r = client.apply({ market: 'M1', prevSeq: out.diff.prevSeq, seq: out.diff.seq, bids: fmt(out.diff.bids), asks: fmt(out.diff.asks), checksum: bookChecksum(fmt(bids), fmt(asks)) });
            assert.equal(r, 'ok');
          }
        });
        const { bids, asks } = state.levels(1000);
        assert.deepEqual(client.top(1000), { bids: fmt(bids), asks: fmt(asks) });
        // The server's levels are the engine's.
        const engineBids = book.depth(Side.Buy, 1000).map((l) => [l.price, l.size] as [number, number]);
        assert.deepEqual(bids, engineBids);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('detects a missed update and a wrong checksum', () => {
    const b = new LocalBook('M1');
    assert.equal(b.reset({ market: 'M1', seq: 5, bids: [['1.00', '1.000']], asks: [], checksum: bookChecksum([['1.00', '1.000']], []) }), 'ok');
    assert.equal(b.apply({ market: 'M1', prevSeq: 6, seq: 8, bids: [], asks: [], checksum: 0 }), 'gap');
    assert.equal(b.synced, false);
    b.reset({ market: 'M1', seq: 5, bids: [['1.00', '1.000']], asks: [], checksum: bookChecksum([['1.00', '1.000']], []) });
    assert.equal(b.apply({ market: 'M1', prevSeq: 5, seq: 6, bids: [['1.00', '2.000']], asks: [], checksum: bookChecksum([['1.00', '1.000']], []) }), 'checksum');
  });
});

describe('OrderIdGenerator', () => {
  it('never repeats, never goes back, and keeps instances apart, even past 256 ids in one millisecond', () => {
    const clock = (): number => 1_800_000_000_000;
    const a = new OrderIdGenerator(0, clock);
    const b = new OrderIdGenerator(1, clock);
    const seen = new Set<number>();
    let last = 0;
    for (let i = 0; i < 2_000; i++) {
      const id = a.next();
      assert.ok(id > last && Number.isSafeInteger(id));
      last = id;
      seen.add(id);
      const other = b.next();
      // The instance is the id's source for the engine's order-id rule: id % 16.
      assert.equal(id % 16, 0);
      assert.equal(other % 16, 1);
      seen.add(other);
    }
    assert.equal(seen.size, 4_000);
    assert.throws(() => new OrderIdGenerator(16));
  });
});

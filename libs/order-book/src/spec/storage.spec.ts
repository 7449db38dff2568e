// The book keeps orders, levels, accounts and the expiry heap in typed-array records that start small and
// double when full, with free lists for reuse. The property tests use small books; this drives one well
// past every initial capacity (thousands of orders, hundreds of levels per side and accounts, a deep
// expiry heap), through every command type, and requires the same events as the reference model, the
// same resting orders, and a snapshot taken at depth that restores and continues identically.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../index.js';
import { EventCollector, OrderBook, OrderType, Prng, Side, StpMode, TimeInForce } from '../index.js';
import { market } from './helpers.js';
import { ReferenceBook } from './reference-book.js';

function commands(seed: number, count: number): Command[] {
  const rng = new Prng(seed);
  const out: Command[] = [];
  let ts = 1;
  for (let id = 1; id <= count; id++) {
    ts += rng.nextInt(2);
    const accountId = 1 + rng.nextInt(400);
    const r = rng.nextFloat();
    const target = 1 + rng.nextInt(id);
    if (r < 0.7) {
      // Bids on 1000..1399, asks on 1300..1699: hundreds of levels per side, some crossing.
      const buy = rng.nextChance(0.5);
      const gtt = rng.nextChance(0.3);
      out.push({
        type: 'place',
        ts,
        orderId: id,
        accountId,
        side: buy ? Side.Buy : Side.Sell,
        orderType: rng.nextChance(0.05) ? OrderType.Market : OrderType.Limit,
        price: buy ? 1000 + rng.nextInt(400) : 1300 + rng.nextInt(400),
        size: 1 + rng.nextInt(50),
        tif: gtt ? TimeInForce.GTT : TimeInForce.GTC,
        expiresAt: gtt ? ts + 1 + rng.nextInt(3000) : 0,
        postOnly: false,
        stp: rng.nextInt(5) as StpMode,
      });
      const last = out[out.length - 1]!;
      if (last.type === 'place' && last.orderType === OrderType.Market) out[out.length - 1] = { ...last, price: 0, tif: TimeInForce.IOC, expiresAt: 0 };
    } else if (r < 0.85) {
      out.push({ type: 'cancel', ts, orderId: target, accountId: 1 + rng.nextInt(400) });
    } else if (r < 0.97) {
      out.push({ type: 'amend', ts, orderId: target, accountId: 1 + rng.nextInt(400), price: 1000 + rng.nextInt(700), size: 1 + rng.nextInt(60) });
    } else {
      out.push({ type: 'cancelAll', ts, accountId });
    }
  }
  return out;
}

describe('OrderBook storage growth', () => {
  it('grows past every initial capacity and still equals the reference model, through snapshot and restore', () => {
    for (const cap of [0, 30]) {
      const cfg = market({ maxOpenOrdersPerAccount: cap });
      const cmds = commands(20261202 + cap, 12_000);
      const out = new EventCollector();
      const book = new OrderBook(cfg, out);
      const model = new ReferenceBook(cfg);
      const cut = 9_000;
      let maxResting = 0;
      for (let i = 0; i < cut; i++) {
        book.apply(cmds[i]!);
        assert.deepEqual(out.take(), model.apply(cmds[i]!), `command ${i}`);
        maxResting = Math.max(maxResting, book.orderCount);
      }
      assert.ok(maxResting > 1500, `the book reached ${maxResting} resting orders`);
      assert.ok(book.depth(Side.Buy).length + book.depth(Side.Sell).length > 200, 'hundreds of levels');
      const restoredOut = new EventCollector();
      const restored = OrderBook.restore(book.snapshot(), restoredOut);
      for (let i = cut; i < cmds.length; i++) {
        book.apply(cmds[i]!);
        restored.apply(cmds[i]!);
        const events = out.take();
        assert.deepEqual(events, model.apply(cmds[i]!), `command ${i}`);
        assert.deepEqual(restoredOut.take(), events, `restored book, command ${i}`);
      }
      for (const side of [Side.Buy, Side.Sell]) {
        const mine = book.orders(side).map((o) => [o.orderId, o.accountId, o.price, o.remaining, o.tif, o.expiresAt, o.stp]);
        const theirs = model.ordersOf(side).map((o) => [o.id, o.account, o.price, o.remaining, o.tif, o.expiresAt, o.stp]);
        assert.deepEqual(mine, theirs);
      }
      assert.equal(restored.stateHash(), book.stateHash());
      assert.deepEqual(restored.snapshot(), book.snapshot());
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BookEvent } from './index.js';
import {
  AmendReason,
  CommandType,
  DoneReason,
  EventCollector,
  OrderBook,
  OrderBookError,
  OrderType,
  RejectReason,
  Side,
  StpMode,
  TimeInForce,
  rejectReasonName,
} from './index.js';
import {
  Harness,
  amend,
  bare,
  buy,
  cancel,
  cancelAll,
  expire,
  market,
  marketBuy,
  marketSell,
  place,
  sell,
} from './spec/helpers.js';

const B = Side.Buy;
const S = Side.Sell;

const accepted = (orderId: number, accountId: number, side: Side, price: number, size: number, tif: TimeInForce = TimeInForce.GTC, orderType: OrderType = OrderType.Limit) => ({
  type: 'accepted',
  orderId,
  accountId,
  side,
  orderType,
  tif,
  price,
  size,
});
const level = (side: Side, price: number, size: number) => ({ type: 'level', side, price, size });
const trade = (maker: number, makerAcct: number, taker: number, takerAcct: number, takerSide: Side, price: number, size: number) => ({
  type: 'trade',
  makerOrderId: maker,
  makerAccountId: makerAcct,
  takerOrderId: taker,
  takerAccountId: takerAcct,
  takerSide,
  price,
  size,
});
const done = (orderId: number, accountId: number, reason: DoneReason, remaining: number) => ({ type: 'done', orderId, accountId, reason, remaining });
const rejected = (command: CommandType, orderId: number, accountId: number, reason: RejectReason) => ({ type: 'rejected', command, orderId, accountId, reason });
const amended = (orderId: number, accountId: number, price: number, size: number, reason: AmendReason) => ({ type: 'amended', orderId, accountId, price, size, reason });

function rejectOf(events: readonly BookEvent[]): string | undefined {
  const e = events.find((x) => x.type === 'rejected');
  return e?.type === 'rejected' ? rejectReasonName(e.reason) : undefined;
}

describe('OrderBook: resting and price-time priority', () => {
  it('rests a non-crossing limit order and reports the level', () => {
    const h = new Harness();
    assert.deepEqual(bare(h.run(buy(1, 100, 5))), [accepted(1, 1, B, 100, 5), level(B, 100, 5)]);
    assert.equal(h.book.bestBid(), 100);
    assert.equal(h.book.bestAsk(), 0);
    assert.deepEqual(h.book.depth(B), [{ price: 100, size: 5, orders: 1 }]);
  });

  it('keeps levels sorted: best first on both sides, new levels inserted in the middle', () => {
    const h = new Harness();
    h.run(buy(1, 100, 1), buy(2, 102, 1), buy(3, 101, 1), buy(4, 99, 1), sell(5, 110, 1), sell(6, 108, 1), sell(7, 109, 1));
    assert.deepEqual(h.book.depth(B).map((l) => l.price), [102, 101, 100, 99]);
    assert.deepEqual(h.book.depth(S).map((l) => l.price), [108, 109, 110]);
    // Removing a middle level keeps the order.
    h.run(cancel(3), cancel(7));
    assert.deepEqual(h.book.depth(B).map((l) => l.price), [102, 100, 99]);
    assert.deepEqual(h.book.depth(S).map((l) => l.price), [108, 110]);
  });

  it('fills better prices first, then FIFO within a level, at the maker price', () => {
    const h = new Harness();
    h.run(sell(1, 101, 3, { accountId: 11 }), sell(2, 100, 2, { accountId: 12 }), sell(3, 100, 4, { accountId: 13 }));
    const ev = h.run(buy(9, 101, 8, { accountId: 20 }));
    assert.deepEqual(bare(ev), [
      accepted(9, 20, B, 101, 8),
      trade(2, 12, 9, 20, B, 100, 2),
      done(2, 12, DoneReason.FILLED, 0),
      trade(3, 13, 9, 20, B, 100, 4),
      done(3, 13, DoneReason.FILLED, 0),
      level(S, 100, 0),
      trade(1, 11, 9, 20, B, 101, 2),
      level(S, 101, 1),
      done(9, 20, DoneReason.FILLED, 0),
    ]);
    assert.equal(h.book.lastTradePrice, 101);
    assert.deepEqual(h.ids(S), [1]);
  });

  it('rests the remainder of a partially filled limit order', () => {
    const h = new Harness();
    h.run(sell(1, 100, 3, { accountId: 2 }));
    assert.deepEqual(bare(h.run(buy(2, 100, 5))), [
      accepted(2, 1, B, 100, 5),
      trade(1, 2, 2, 1, B, 100, 3),
      done(1, 2, DoneReason.FILLED, 0),
      level(S, 100, 0),
      level(B, 100, 2),
    ]);
    assert.equal(h.book.getOrder(2)?.remaining, 2);
  });

  it('never trades through the limit price', () => {
    const h = new Harness();
    h.run(sell(1, 101, 3, { accountId: 2 }));
    const ev = h.run(buy(2, 100, 5));
    assert.equal(ev.filter((e) => e.type === 'trade').length, 0);
    assert.equal(h.book.bestBid(), 100);
    assert.equal(h.book.bestAsk(), 101);
  });
});

describe('OrderBook: time in force and order types', () => {
  it('IOC trades what it can and releases the rest (never rests)', () => {
    const h = new Harness();
    h.run(sell(1, 100, 3, { accountId: 2 }));
    const ev = h.run(buy(2, 100, 5, { tif: TimeInForce.IOC }));
    assert.deepEqual(bare(ev).slice(-2), [level(S, 100, 0), done(2, 1, DoneReason.UNFILLED, 2)]);
    assert.equal(h.book.orderCount, 0);
  });

  it('market order sweeps levels without a price limit, remainder unfilled', () => {
    const h = new Harness();
    h.run(sell(1, 100, 1, { accountId: 2 }), sell(2, 150, 1, { accountId: 2 }));
    const ev = h.run(marketBuy(3, 5));
    assert.deepEqual(bare(ev), [
      accepted(3, 1, B, 0, 5, TimeInForce.IOC, OrderType.Market),
      trade(1, 2, 3, 1, B, 100, 1),
      done(1, 2, DoneReason.FILLED, 0),
      level(S, 100, 0),
      trade(2, 2, 3, 1, B, 150, 1),
      done(2, 2, DoneReason.FILLED, 0),
      level(S, 150, 0),
      done(3, 1, DoneReason.UNFILLED, 3),
    ]);
  });

  it('market order on an empty side is accepted and released unfilled', () => {
    const h = new Harness();
    assert.deepEqual(bare(h.run(marketSell(1, 5))), [
      accepted(1, 1, S, 0, 5, TimeInForce.IOC, OrderType.Market),
      done(1, 1, DoneReason.UNFILLED, 5),
    ]);
  });

  it('market order with a protection price stops there', () => {
    const h = new Harness();
    h.run(buy(1, 100, 1, { accountId: 2 }), buy(2, 95, 1, { accountId: 2 }), buy(3, 90, 1, { accountId: 2 }));
    const ev = h.run(marketSell(4, 5, { price: 95 }));
    assert.deepEqual(
      ev.flatMap((e) => (e.type === 'trade' ? [e.price] : [])),
      [100, 95],
    );
    assert.deepEqual(bare(ev).at(-1), done(4, 1, DoneReason.UNFILLED, 3));
    assert.equal(h.book.bestBid(), 90);
  });

  it('market orders accept only IOC or FOK', () => {
    const h = new Harness();
    for (const tif of [TimeInForce.GTC, TimeInForce.GTT]) {
      const ev = h.run(marketBuy(1, 5, { tif, expiresAt: tif === TimeInForce.GTT ? 10 : 0 }));
      assert.equal(rejectOf(ev), 'INVALID_TIME_IN_FORCE');
    }
  });

  it('FOK fills completely when liquidity suffices', () => {
    const h = new Harness();
    h.run(sell(1, 100, 3, { accountId: 2 }), sell(2, 101, 3, { accountId: 3 }));
    const ev = h.run(buy(3, 101, 6, { tif: TimeInForce.FOK }));
    assert.equal(ev.filter((e) => e.type === 'trade').length, 2);
    assert.deepEqual(bare(ev).at(-1), done(3, 1, DoneReason.FILLED, 0));
  });

  it('FOK that cannot fill completely is killed with no trade and no book change', () => {
    const h = new Harness();
    h.run(sell(1, 100, 3, { accountId: 2 }), sell(2, 102, 3, { accountId: 3 }));
    const before = h.book.snapshot();
    const ev = h.run(buy(3, 101, 6, { tif: TimeInForce.FOK }));
    assert.deepEqual(bare(ev), [accepted(3, 1, B, 101, 6, TimeInForce.FOK), done(3, 1, DoneReason.KILLED, 6)]);
    const after = OrderBook.restore(h.book.snapshot());
    assert.deepEqual(after.orders(S), OrderBook.restore(before).orders(S));
  });

  it('market FOK: all or nothing against the whole side', () => {
    const h = new Harness();
    h.run(sell(1, 100, 3, { accountId: 2 }));
    assert.deepEqual(bare(h.run(marketBuy(2, 4, { tif: TimeInForce.FOK }))).at(-1), done(2, 1, DoneReason.KILLED, 4));
    assert.deepEqual(bare(h.run(marketBuy(3, 3, { tif: TimeInForce.FOK }))).at(-1), done(3, 1, DoneReason.FILLED, 0));
  });

  it('FOK pre-check accounts for self-trade prevention', () => {
    // Own order (account 1) at the best price, 3 lots of others behind it.
    const setup = (h: Harness) => h.run(sell(1, 100, 5, { accountId: 1 }), sell(2, 100, 3, { accountId: 2 }));
    // cancel-oldest skips the own order: only 3 lots are really available.
    let h = new Harness();
    setup(h);
    assert.deepEqual(bare(h.run(buy(9, 100, 4, { tif: TimeInForce.FOK, stp: StpMode.CancelOldest }))).at(-1), done(9, 1, DoneReason.KILLED, 4));
    assert.equal(h.book.orderCount, 2, 'a killed FOK cancels nothing');
    h = new Harness();
    setup(h);
    const ok = bare(h.run(buy(9, 100, 3, { tif: TimeInForce.FOK, stp: StpMode.CancelOldest })));
    assert.deepEqual(ok.slice(1), [
      done(1, 1, DoneReason.SELF_TRADE, 5),
      trade(2, 2, 9, 1, B, 100, 3),
      done(2, 2, DoneReason.FILLED, 0),
      level(S, 100, 0),
      done(9, 1, DoneReason.FILLED, 0),
    ]);
    // cancel-newest / cancel-both / decrement stop at the own order: nothing before it.
    for (const stp of [StpMode.CancelNewest, StpMode.CancelBoth, StpMode.DecrementAndCancel]) {
      h = new Harness();
      setup(h);
      assert.deepEqual(bare(h.run(buy(9, 100, 1, { tif: TimeInForce.FOK, stp }))).at(-1), done(9, 1, DoneReason.KILLED, 1));
    }
    // Without STP the own order counts as liquidity (self-trade allowed).
    h = new Harness();
    setup(h);
    assert.deepEqual(bare(h.run(buy(9, 100, 8, { tif: TimeInForce.FOK }))).at(-1), done(9, 1, DoneReason.FILLED, 0));
    // Enough liquidity before the own order: fills.
    h = new Harness();
    h.run(sell(1, 99, 4, { accountId: 2 }), sell(2, 100, 5, { accountId: 1 }));
    assert.deepEqual(bare(h.run(buy(9, 100, 4, { tif: TimeInForce.FOK, stp: StpMode.CancelNewest }))).at(-1), done(9, 1, DoneReason.FILLED, 0));
  });
});

describe('OrderBook: GTT expiry', () => {
  it('expires at the first command whose timestamp reaches expiresAt, before that command', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5, { ts: 1, tif: TimeInForce.GTT, expiresAt: 10 }));
    assert.deepEqual(h.run(expire(9)), []);
    assert.equal(h.book.orderCount, 1);
    const ev = h.run(sell(2, 100, 5, { ts: 10, accountId: 2 }));
    assert.deepEqual(bare(ev), [done(1, 1, DoneReason.EXPIRED, 5), level(B, 100, 0), accepted(2, 2, S, 100, 5), level(S, 100, 5)]);
    assert.ok(ev.every((e) => e.ts === 10));
  });

  it('explicit expire sweeps in (expiresAt, orderId) order', () => {
    const h = new Harness();
    h.run(
      buy(5, 100, 1, { ts: 1, tif: TimeInForce.GTT, expiresAt: 20 }),
      buy(3, 100, 1, { ts: 1, tif: TimeInForce.GTT, expiresAt: 20 }),
      buy(4, 99, 1, { ts: 1, tif: TimeInForce.GTT, expiresAt: 15 }),
      buy(6, 98, 1, { ts: 1, tif: TimeInForce.GTT, expiresAt: 30 }),
      buy(7, 97, 1, { ts: 1 }),
    );
    const ev = h.run(expire(25));
    assert.deepEqual(
      ev.flatMap((e) => (e.type === 'done' ? [[e.orderId, e.reason]] : [])),
      [
        [4, DoneReason.EXPIRED],
        [3, DoneReason.EXPIRED],
        [5, DoneReason.EXPIRED],
      ],
    );
    assert.deepEqual(h.ids(B), [6, 7]);
  });

  it('a cancelled GTT order does not expire later; amend keeps the expiry', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5, { ts: 1, tif: TimeInForce.GTT, expiresAt: 10 }), buy(2, 100, 5, { ts: 1, tif: TimeInForce.GTT, expiresAt: 10 }));
    h.run(cancel(1, 1, 2), amend(2, 101, 5, 1, 3));
    const ev = h.run(expire(10));
    assert.deepEqual(bare(ev), [done(2, 1, DoneReason.EXPIRED, 5), level(B, 101, 0)]);
  });

  it('rejects expiry not in the future, and expiry on non-GTT orders', () => {
    const h = new Harness();
    assert.equal(rejectOf(h.run(buy(1, 100, 5, { ts: 5, tif: TimeInForce.GTT, expiresAt: 5 }))), 'EXPIRY_NOT_IN_FUTURE');
    assert.equal(rejectOf(h.run(buy(2, 100, 5, { ts: 5, tif: TimeInForce.GTC, expiresAt: 9 }))), 'INVALID_EXPIRY');
  });

  it('an expiring maker is removed before it could trade', () => {
    const h = new Harness();
    h.run(sell(1, 100, 5, { ts: 1, tif: TimeInForce.GTT, expiresAt: 5, accountId: 2 }));
    const ev = h.run(buy(2, 100, 5, { ts: 5 }));
    assert.equal(ev.filter((e) => e.type === 'trade').length, 0);
    assert.equal(h.book.bestBid(), 100);
  });
});

describe('OrderBook: post-only', () => {
  it('rests when it does not cross', () => {
    const h = new Harness();
    h.run(sell(1, 101, 5, { accountId: 2 }));
    assert.deepEqual(bare(h.run(buy(2, 100, 5, { postOnly: true }))), [accepted(2, 1, B, 100, 5), level(B, 100, 5)]);
  });

  it('is rejected (not slid) when it would take', () => {
    const h = new Harness();
    h.run(sell(1, 101, 5, { accountId: 2 }));
    assert.deepEqual(bare(h.run(buy(2, 101, 5, { postOnly: true }))), [rejected(CommandType.Place, 2, 1, RejectReason.POST_ONLY_WOULD_TAKE)]);
    assert.equal(h.book.bestBid(), 0);
  });

  it('is rejected against own liquidity too', () => {
    const h = new Harness();
    h.run(sell(1, 101, 5));
    assert.equal(rejectOf(h.run(buy(2, 105, 5, { postOnly: true, stp: StpMode.CancelOldest }))), 'POST_ONLY_WOULD_TAKE');
  });

  it('is only allowed on resting limit orders', () => {
    const h = new Harness();
    assert.equal(rejectOf(h.run(buy(1, 100, 5, { postOnly: true, tif: TimeInForce.IOC }))), 'POST_ONLY_NOT_ALLOWED');
    assert.equal(rejectOf(h.run(buy(2, 100, 5, { postOnly: true, tif: TimeInForce.FOK }))), 'POST_ONLY_NOT_ALLOWED');
    assert.equal(rejectOf(h.run(marketBuy(3, 5, { postOnly: true }))), 'POST_ONLY_NOT_ALLOWED');
  });
});

describe('OrderBook: cancel and cancel-all', () => {
  it('cancel releases the remaining size and updates the level', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5), buy(2, 100, 3));
    assert.deepEqual(bare(h.run(cancel(1))), [done(1, 1, DoneReason.CANCELLED, 5), level(B, 100, 3)]);
    assert.deepEqual(bare(h.run(cancel(2))), [done(2, 1, DoneReason.CANCELLED, 3), level(B, 100, 0)]);
    assert.deepEqual(h.book.depth(B), []);
  });

  it('cancel of an unknown order or of another account is rejected', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5, { accountId: 1 }));
    assert.deepEqual(bare(h.run(cancel(2, 1))), [rejected(CommandType.Cancel, 2, 1, RejectReason.ORDER_NOT_FOUND)]);
    assert.deepEqual(bare(h.run(cancel(1, 9))), [rejected(CommandType.Cancel, 1, 9, RejectReason.NOT_ORDER_OWNER)]);
    assert.equal(h.book.orderCount, 1);
  });

  it('cancel removes from the middle of a FIFO queue', () => {
    const h = new Harness();
    h.run(buy(1, 100, 1), buy(2, 100, 1), buy(3, 100, 1));
    h.run(cancel(2));
    assert.deepEqual(h.ids(B), [1, 3]);
    h.run(cancel(3), buy(4, 100, 1));
    assert.deepEqual(h.ids(B), [1, 4]);
  });

  it('cancel-all cancels every order of one account in ascending id order', () => {
    const h = new Harness();
    h.run(sell(2, 110, 2, { accountId: 1 }), buy(5, 100, 1, { accountId: 1 }), buy(3, 99, 3, { accountId: 2 }), buy(1, 98, 4, { accountId: 1 }));
    const ev = h.run(cancelAll(1));
    assert.deepEqual(bare(ev), [
      done(1, 1, DoneReason.CANCELLED, 4),
      level(B, 98, 0),
      done(2, 1, DoneReason.CANCELLED, 2),
      level(S, 110, 0),
      done(5, 1, DoneReason.CANCELLED, 1),
      level(B, 100, 0),
    ]);
    assert.deepEqual(h.ids(B), [3]);
    assert.equal(h.book.openOrderCount(1), 0);
    assert.deepEqual(h.run(cancelAll(1)), [], 'nothing to cancel: no events');
  });
});

describe('OrderBook: amend', () => {
  it('size down keeps queue priority', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5), buy(2, 100, 5));
    assert.deepEqual(bare(h.run(amend(1, 100, 2))), [amended(1, 1, 100, 2, AmendReason.USER), level(B, 100, 7)]);
    assert.deepEqual(h.ids(B), [1, 2]);
  });

  it('size up loses priority (back of the level)', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5), buy(2, 100, 5));
    assert.deepEqual(bare(h.run(amend(1, 100, 6))), [amended(1, 1, 100, 6, AmendReason.USER), level(B, 100, 11)]);
    assert.deepEqual(h.ids(B), [2, 1]);
  });

  it('price change loses priority, even when moving back to the old price', () => {
    const h = new Harness();
    h.run(buy(1, 100, 5), buy(2, 100, 5));
    assert.deepEqual(bare(h.run(amend(1, 99, 5))), [amended(1, 1, 99, 5, AmendReason.USER), level(B, 100, 5), level(B, 99, 5)]);
    h.run(amend(1, 100, 5));
    assert.deepEqual(h.ids(B), [2, 1]);
  });

  it('a price change that crosses trades like a new order', () => {
    const h = new Harness();
    h.run(sell(1, 101, 2, { accountId: 2 }), buy(2, 100, 5));
    assert.deepEqual(bare(h.run(amend(2, 101, 5))), [
      amended(2, 1, 101, 5, AmendReason.USER),
      level(B, 100, 0),
      trade(1, 2, 2, 1, B, 101, 2),
      done(1, 2, DoneReason.FILLED, 0),
      level(S, 101, 0),
      level(B, 101, 3),
    ]);
    h.run(sell(3, 102, 3, { accountId: 2 }));
    const ev = bare(h.run(amend(2, 102, 3)));
    assert.deepEqual(ev.at(-1), done(2, 1, DoneReason.FILLED, 0));
    assert.equal(h.book.orderCount, 0);
    assert.equal(h.book.openOrderCount(1), 0);
  });

  it('rejects no-op, unknown, foreign, invalid and rule-breaking amends', () => {
    const h = new Harness(market({ minSize: 2, minNotional: 300 }));
    h.run(buy(1, 100, 5), sell(2, 110, 5, { accountId: 2, postOnly: true }));
    assert.equal(rejectOf(h.run(amend(1, 100, 5))), 'AMEND_NO_CHANGE');
    assert.equal(rejectOf(h.run(amend(9, 100, 5))), 'ORDER_NOT_FOUND');
    assert.equal(rejectOf(h.run(amend(1, 100, 4, 2))), 'NOT_ORDER_OWNER');
    assert.equal(rejectOf(h.run(amend(1, 0, 4))), 'INVALID_PRICE');
    assert.equal(rejectOf(h.run(amend(1, 100, 0))), 'INVALID_SIZE');
    assert.equal(rejectOf(h.run(amend(1, 100, 1))), 'SIZE_BELOW_MINIMUM');
    assert.equal(rejectOf(h.run(amend(1, 100, 2))), 'NOTIONAL_BELOW_MINIMUM');
    assert.equal(rejectOf(h.run(amend(1, 2 ** 40, 2 ** 20))), 'NOTIONAL_OUT_OF_RANGE');
    assert.equal(rejectOf(h.run(amend(2, 100, 5, 2))), 'POST_ONLY_WOULD_TAKE');
    assert.equal(h.book.getOrder(2)?.price, 110);
    assert.equal(h.book.getOrder(1)?.remaining, 5);
  });
});

describe('OrderBook: self-trade prevention', () => {
  const setup = () => {
    const h = new Harness();
    // Account 1 rests an ask of 4 behind account 2's ask of 2, then 3 more from account 3.
    h.run(sell(1, 100, 2, { accountId: 2 }), sell(2, 100, 4, { accountId: 1 }), sell(3, 100, 3, { accountId: 3 }));
    return h;
  };

  it('none: the account trades with itself', () => {
    const h = setup();
    const ev = bare(h.run(buy(9, 100, 6, { accountId: 1 })));
    assert.deepEqual(ev[3], trade(2, 1, 9, 1, B, 100, 4));
  });

  it('cancel newest: the taker remainder is cancelled, the resting order stays', () => {
    const h = setup();
    assert.deepEqual(bare(h.run(buy(9, 100, 6, { accountId: 1, stp: StpMode.CancelNewest }))), [
      accepted(9, 1, B, 100, 6),
      trade(1, 2, 9, 1, B, 100, 2),
      done(1, 2, DoneReason.FILLED, 0),
      level(S, 100, 7),
      done(9, 1, DoneReason.SELF_TRADE, 4),
    ]);
    assert.deepEqual(h.ids(S), [2, 3]);
  });

  it('cancel newest with no prior trade at the level emits no level event', () => {
    const h = new Harness();
    h.run(sell(1, 100, 4));
    assert.deepEqual(bare(h.run(buy(9, 100, 6, { stp: StpMode.CancelNewest }))), [accepted(9, 1, B, 100, 6), done(9, 1, DoneReason.SELF_TRADE, 6)]);
  });

  it('cancel oldest: the resting order is cancelled and matching continues', () => {
    const h = setup();
    assert.deepEqual(bare(h.run(buy(9, 100, 6, { accountId: 1, stp: StpMode.CancelOldest }))), [
      accepted(9, 1, B, 100, 6),
      trade(1, 2, 9, 1, B, 100, 2),
      done(1, 2, DoneReason.FILLED, 0),
      done(2, 1, DoneReason.SELF_TRADE, 4),
      trade(3, 3, 9, 1, B, 100, 3),
      done(3, 3, DoneReason.FILLED, 0),
      level(S, 100, 0),
      level(B, 100, 1),
    ]);
  });

  it('cancel both: resting order and taker remainder are cancelled', () => {
    const h = setup();
    assert.deepEqual(bare(h.run(buy(9, 100, 6, { accountId: 1, stp: StpMode.CancelBoth }))), [
      accepted(9, 1, B, 100, 6),
      trade(1, 2, 9, 1, B, 100, 2),
      done(1, 2, DoneReason.FILLED, 0),
      done(2, 1, DoneReason.SELF_TRADE, 4),
      level(S, 100, 3),
      done(9, 1, DoneReason.SELF_TRADE, 4),
    ]);
    assert.deepEqual(h.ids(S), [3]);
  });

  it('decrement and cancel: taker larger -> resting cancelled, taker decremented and continues', () => {
    const h = setup();
    assert.deepEqual(bare(h.run(buy(9, 100, 9, { accountId: 1, stp: StpMode.DecrementAndCancel }))), [
      accepted(9, 1, B, 100, 9),
      trade(1, 2, 9, 1, B, 100, 2),
      done(1, 2, DoneReason.FILLED, 0),
      done(2, 1, DoneReason.SELF_TRADE, 4),
      amended(9, 1, 100, 3, AmendReason.SELF_TRADE_DECREMENT),
      trade(3, 3, 9, 1, B, 100, 3),
      done(3, 3, DoneReason.FILLED, 0),
      level(S, 100, 0),
      done(9, 1, DoneReason.FILLED, 0),
    ]);
  });

  it('decrement and cancel: resting larger -> resting decremented (keeps priority), taker cancelled', () => {
    const h = setup();
    assert.deepEqual(bare(h.run(buy(9, 100, 3, { accountId: 1, stp: StpMode.DecrementAndCancel }))), [
      accepted(9, 1, B, 100, 3),
      trade(1, 2, 9, 1, B, 100, 2),
      done(1, 2, DoneReason.FILLED, 0),
      amended(2, 1, 100, 3, AmendReason.SELF_TRADE_DECREMENT),
      level(S, 100, 6),
      done(9, 1, DoneReason.SELF_TRADE, 1),
    ]);
    assert.deepEqual(h.ids(S), [2, 3]);
    assert.equal(h.book.getOrder(2)?.remaining, 3);
  });

  it('decrement and cancel: equal sizes -> both cancelled, no trade', () => {
    const h = new Harness();
    h.run(sell(1, 100, 4));
    assert.deepEqual(bare(h.run(buy(9, 100, 4, { stp: StpMode.DecrementAndCancel }))), [
      accepted(9, 1, B, 100, 4),
      done(1, 1, DoneReason.SELF_TRADE, 4),
      level(S, 100, 0),
      done(9, 1, DoneReason.SELF_TRADE, 4),
    ]);
    assert.equal(h.book.orderCount, 0);
  });

  it('uses the taker mode, not the maker mode', () => {
    const h = new Harness();
    h.run(sell(1, 100, 4, { stp: StpMode.CancelBoth }));
    const ev = bare(h.run(buy(9, 100, 4)));
    assert.deepEqual(ev[1], trade(1, 1, 9, 1, B, 100, 4));
  });
});

describe('OrderBook: market rules', () => {
  it('minimum size', () => {
    const h = new Harness(market({ minSize: 3 }));
    assert.equal(rejectOf(h.run(buy(1, 100, 2))), 'SIZE_BELOW_MINIMUM');
    assert.equal(rejectOf(h.run(marketBuy(2, 2))), 'SIZE_BELOW_MINIMUM');
    assert.equal(rejectOf(h.run(buy(3, 100, 3))), undefined);
  });

  it('minimum notional applies to limit orders (price * size in ticks*lots)', () => {
    const h = new Harness(market({ minNotional: 1000 }));
    assert.equal(rejectOf(h.run(buy(1, 100, 9))), 'NOTIONAL_BELOW_MINIMUM');
    assert.equal(rejectOf(h.run(buy(2, 100, 10))), undefined);
    assert.equal(rejectOf(h.run(marketSell(3, 1))), undefined);
  });

  it('maximum open orders per account counts resting orders only', () => {
    const h = new Harness(market({ maxOpenOrdersPerAccount: 2 }));
    h.run(buy(1, 100, 1), buy(2, 99, 1));
    assert.equal(rejectOf(h.run(buy(3, 98, 1))), 'TOO_MANY_OPEN_ORDERS');
    assert.equal(rejectOf(h.run(buy(4, 98, 1, { accountId: 2 }))), undefined, 'other accounts unaffected');
    assert.equal(rejectOf(h.run(buy(5, 98, 1, { tif: TimeInForce.IOC }))), undefined, 'IOC never rests');
    h.run(cancel(1));
    assert.equal(rejectOf(h.run(buy(6, 98, 1))), undefined, 'cancel frees a slot');
    assert.equal(h.book.openOrderCount(1), 2);
  });

  it('price band around the initial reference, then around the last trade', () => {
    const h = new Harness(market({ priceBandBps: 500, initialReferencePrice: 1000 }));
    assert.equal(rejectOf(h.run(buy(1, 949, 1))), 'PRICE_OUT_OF_BAND');
    assert.equal(rejectOf(h.run(sell(2, 1051, 1))), 'PRICE_OUT_OF_BAND');
    assert.equal(rejectOf(h.run(buy(3, 950, 1))), undefined);
    assert.equal(rejectOf(h.run(sell(4, 1050, 1, { accountId: 2 }))), undefined);
    h.run(buy(5, 1050, 1)); // trades at 1050: new reference
    assert.equal(h.book.referencePrice, 1050);
    // width floor(1050 * 500 / 10000) = floor(52.5) = 52: band 998..1102
    assert.equal(rejectOf(h.run(sell(6, 1103, 1))), 'PRICE_OUT_OF_BAND');
    assert.equal(rejectOf(h.run(sell(7, 1102, 1))), undefined);
    assert.equal(rejectOf(h.run(sell(8, 997, 1, { tif: TimeInForce.IOC }))), 'PRICE_OUT_OF_BAND');
    assert.equal(rejectOf(h.run(sell(9, 998, 1, { tif: TimeInForce.IOC }))), undefined);
  });

  it('no band without a reference price', () => {
    const h = new Harness(market({ priceBandBps: 100 }));
    assert.equal(rejectOf(h.run(buy(1, 1, 1))), undefined);
    assert.equal(rejectOf(h.run(sell(2, 1_000_000, 1))), undefined);
  });

  it('market orders do not trade outside the band fixed at the start of the command', () => {
    const h = new Harness(market({ priceBandBps: 1000, initialReferencePrice: 100 }));
    h.run(sell(1, 110, 1, { accountId: 2 }), sell(2, 105, 1, { accountId: 2 }), sell(3, 104, 1, { accountId: 2 }));
    h.run(sell(4, 100, 1, { accountId: 2 }), buy(5, 95, 1, { accountId: 3 }), marketSell(6, 1, { accountId: 4 }));
    assert.equal(h.book.referencePrice, 95); // band now 86..104 (width floor(9.5) = 9)
    const prices = (ev: BookEvent[]) => ev.flatMap((e) => (e.type === 'trade' ? [e.price] : []));
    // Trades 100 (reference becomes 100, whose band would allow 105..110) and 104, then stops: band of the command.
    const ev = h.run(marketBuy(7, 5, { accountId: 3 }));
    assert.deepEqual(prices(ev), [100, 104]);
    assert.deepEqual(bare(ev).at(-1), done(7, 3, DoneReason.UNFILLED, 3));
    // Reference 104 -> band 94..114: protection 106 is tighter than the band.
    assert.deepEqual(prices(h.run(marketBuy(8, 5, { accountId: 3, price: 106 }))), [105]);
    // Reference 105 -> band 95..115: protection 200 is looser, the band allows 110.
    assert.deepEqual(prices(h.run(marketBuy(9, 5, { accountId: 3, price: 200 }))), [110]);
  });
});

describe('OrderBook: validation', () => {
  const cases: [string, ReturnType<typeof place>][] = [
    ['INVALID_ORDER_ID', buy(0, 100, 1)],
    ['INVALID_ORDER_ID', buy(1.5, 100, 1)],
    ['INVALID_ORDER_ID', buy(2 ** 53, 100, 1)],
    ['INVALID_ACCOUNT_ID', buy(1, 100, 1, { accountId: -1 })],
    ['INVALID_SIDE', place({ orderId: 1, side: 2 as Side })],
    ['INVALID_ORDER_TYPE', buy(1, 100, 1, { orderType: 3 as OrderType })],
    ['INVALID_TIME_IN_FORCE', buy(1, 100, 1, { tif: 9 as TimeInForce })],
    ['INVALID_STP_MODE', buy(1, 100, 1, { stp: 5 as StpMode })],
    ['INVALID_SIZE', buy(1, 100, 0)],
    ['INVALID_SIZE', buy(1, 100, -3)],
    ['INVALID_SIZE', buy(1, 100, 0.5)],
    ['INVALID_SIZE', buy(1, 100, Number.NaN)],
    ['INVALID_PRICE', buy(1, 0, 1)],
    ['INVALID_PRICE', buy(1, 100.5, 1)],
    ['INVALID_PRICE', marketBuy(1, 1, { price: -1 })],
    ['NOTIONAL_OUT_OF_RANGE', buy(1, 2 ** 30, 2 ** 30)],
    ['INVALID_TIMESTAMP', buy(1, 100, 1, { ts: -1 })],
    ['INVALID_TIMESTAMP', buy(1, 100, 1, { ts: 1.5 })],
  ];
  for (const [code, cmd] of cases) {
    it(`${code}: ${JSON.stringify({ id: cmd.orderId, price: cmd.price, size: cmd.size, ts: cmd.ts })}`, () => {
      const h = new Harness();
      const ev = h.run(cmd);
      assert.equal(ev.length, 1);
      assert.equal(rejectOf(ev), code);
      assert.equal(h.book.orderCount, 0);
    });
  }

  it('rejects a duplicate live order id, accepts it again once the order is gone', () => {
    const h = new Harness();
    h.run(buy(1, 100, 1));
    assert.equal(rejectOf(h.run(sell(1, 101, 1))), 'DUPLICATE_ORDER_ID');
    h.run(cancel(1));
    assert.equal(rejectOf(h.run(sell(1, 101, 1))), undefined);
  });

  it('rejects a timestamp going backwards without changing the clock', () => {
    const h = new Harness();
    h.run(buy(1, 100, 1, { ts: 10 }));
    const ev = h.run(cancel(1, 1, 9));
    assert.deepEqual(bare(ev), [rejected(CommandType.Cancel, 1, 1, RejectReason.TIMESTAMP_REGRESSION)]);
    assert.equal(ev[0]?.ts, 10);
    assert.equal(h.book.clock, 10);
    assert.equal(h.book.orderCount, 1);
  });

  it('rejects orders that would push a side total beyond 2^53 - 1 lots', () => {
    const h = new Harness();
    h.run(buy(1, 1, Number.MAX_SAFE_INTEGER - 5));
    assert.equal(rejectOf(h.run(buy(2, 1, 6))), 'BOOK_SIZE_OUT_OF_RANGE');
    assert.equal(rejectOf(h.run(buy(3, 1, 5))), undefined);
    assert.equal(h.book.sideSize(B), Number.MAX_SAFE_INTEGER);
  });

  it('invalid config throws INVALID_MARKET_CONFIG', () => {
    for (const bad of [{ minSize: -1 }, { priceBandBps: 10001 }, { marketId: 1.5 }, { minNotional: Number.NaN }]) {
      assert.throws(
        () => new OrderBook(market(bad)),
        (e: unknown) => e instanceof OrderBookError && e.code === 'INVALID_MARKET_CONFIG',
      );
    }
  });
});

describe('OrderBook: sequence, state hash, snapshot', () => {
  const script = [
    buy(1, 100, 5, { ts: 1 }),
    sell(2, 102, 5, { ts: 2, accountId: 2, tif: TimeInForce.GTT, expiresAt: 50 }),
    buy(3, 99, 4, { ts: 3, accountId: 3, stp: StpMode.DecrementAndCancel }),
    sell(4, 100, 2, { ts: 4, accountId: 3 }),
    amend(3, 99, 2, 3, 5),
  ];

  it('stamps every event with a sequence that grows by exactly one', () => {
    const h = new Harness();
    const ev = h.run(...script, cancel(77, 1, 6), expire(60));
    ev.forEach((e, i) => {
      assert.equal(e.seq, i + 1);
    });
    assert.equal(h.book.sequence, ev.length);
  });

  it('two books fed the same commands agree on events, hash and snapshot bytes', () => {
    const a = new Harness();
    const b = new Harness();
    assert.deepEqual(a.run(...script), b.run(...script));
    assert.equal(a.book.stateHash(), b.book.stateHash());
    assert.deepEqual(a.book.snapshot(), b.book.snapshot());
    assert.match(a.book.stateHash(), /^[0-9a-f]{16}$/);
    b.run(buy(10, 90, 1, { ts: 9 }));
    assert.notEqual(a.book.stateHash(), b.book.stateHash());
  });

  it('the hash depends on event contents, not only on their number', () => {
    const a = new Harness();
    const b = new Harness();
    a.run(buy(1, 100, 5));
    b.run(buy(1, 100, 6));
    assert.equal(a.book.sequence, b.book.sequence);
    assert.notEqual(a.book.stateHash(), b.book.stateHash());
  });

  it('restore(snapshot) continues with identical events and hash', () => {
    const a = new Harness(market({ maxOpenOrdersPerAccount: 5, priceBandBps: 2000, initialReferencePrice: 100 }));
    a.run(...script);
    const restoredOut = new EventCollector();
    const b = OrderBook.restore(a.book.snapshot(), restoredOut);
    assert.equal(b.stateHash(), a.book.stateHash());
    assert.equal(b.sequence, a.book.sequence);
    assert.equal(b.clock, a.book.clock);
    assert.equal(b.referencePrice, a.book.referencePrice);
    assert.deepEqual(b.config, a.book.config);
    assert.deepEqual(b.orders(B), a.book.orders(B));
    assert.deepEqual(b.orders(S), a.book.orders(S));
    assert.equal(b.openOrderCount(3), a.book.openOrderCount(3));
    const more = [marketBuy(20, 3, { ts: 20 }), expire(50), buy(21, 101, 1, { ts: 51 })];
    const ea = a.run(...more);
    for (const c of more) b.apply(c);
    assert.deepEqual(restoredOut.events, ea);
    assert.equal(b.stateHash(), a.book.stateHash());
    assert.deepEqual(b.snapshot(), a.book.snapshot());
  });

  it('rejects corrupted or truncated snapshots with INVALID_SNAPSHOT', () => {
    const h = new Harness();
    h.run(...script);
    const snap = h.book.snapshot();
    const isSnapErr = (e: unknown) => e instanceof OrderBookError && e.code === 'INVALID_SNAPSHOT';
    assert.throws(() => OrderBook.restore(snap.subarray(0, snap.length - 1)), isSnapErr);
    assert.throws(() => OrderBook.restore(new Uint8Array([...snap, 0])), isSnapErr);
    const badMagic = snap.slice();
    badMagic[0] = 0;
    assert.throws(() => OrderBook.restore(badMagic), isSnapErr);
    assert.throws(() => OrderBook.restore(new Uint8Array()), isSnapErr);
    // Flip every byte in turn: restore either throws INVALID_SNAPSHOT or yields a self-consistent book.
    for (let i = 4; i < snap.length; i++) {
      const x = snap.slice();
      x[i] = (x[i]! + 1) & 0xff;
      try {
        const b = OrderBook.restore(x);
        assert.deepEqual(OrderBook.restore(b.snapshot()).snapshot(), b.snapshot());
      } catch (e) {
        assert.ok(isSnapErr(e), String(e));
      }
    }
  });
});

// The two market rules that keep one hostile command from bricking a market or re-using an order's
// identity (issue 9, section 3): a bound on how far a command's ts may run ahead of the clock, and order
// ids that are never reused. Each test plays the attacker's command and checks the market still works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BookEvent, MarketConfig } from './index.js';
import { ByteWriter, EventCollector, OrderBook, OrderBookError, rejectReasonName, Side } from './index.js';
import { Harness, amend, buy, cancel, expire, market, marketBuy, sell } from './spec/helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;

function rejectOf(events: readonly BookEvent[]): string | undefined {
  const r = events.find((e) => e.type === 'rejected');
  return r?.type === 'rejected' ? rejectReasonName(r.reason) : undefined;
}
const isSnapErr = (e: unknown): boolean => e instanceof OrderBookError && e.code === 'INVALID_SNAPSHOT';
const isConfigErr = (e: unknown): boolean => e instanceof OrderBookError && e.code === 'INVALID_MARKET_CONFIG';

/**
 * A snapshot written field by field so one field can be made wrong at a time: magic, `version`, the config
 * and state fields as given, then one bid level at 100 holding order `orderId` (account 1, 1 lot, GTC), no
 * asks, and account 1 with one open order.
 */
function oneOrderSnapshot(version: number, config: readonly number[], state: readonly number[], orderId: number): Uint8Array {
  const w = new ByteWriter();
  for (const b of [0x50, 0x58, 0x4f, 0x42]) w.byte(b);
  w.uint(version);
  for (const x of [...config, ...state]) w.uint(x);
  for (const x of [1, 100, 1, orderId, 1, 1, 0, 0, 0, 0]) w.uint(x); // bids: one level, one order
  for (const x of [0, 1, 1, 1]) w.uint(x); // no asks; account 1 with one order
  return w.finish();
}

describe('market rule: maxTimestampStep', () => {
  const STEP = 60_000;
  const cfg = market({ maxTimestampStep: STEP });

  it('a far-future ts is rejected without moving the clock, and the market keeps trading', () => {
    const h = new Harness(cfg);
    h.run(buy(1, 100, 5, { ts: 1_000 }));
    for (const ts of [1_000 + STEP + 1, MAX, 2 ** 52]) {
      const ev = h.run(sell(2, 100, 1, { ts, accountId: 2 }));
      assert.equal(rejectOf(ev), 'TIMESTAMP_TOO_FAR_AHEAD');
      assert.equal(ev.length, 1);
      assert.equal(ev[0]!.ts, 1_000, 'the rejection carries the book clock, like a regression');
      assert.equal(h.book.clock, 1_000);
    }
    // Every command type is bounded, the expire tick included (it would expire every GTT order at once).
    assert.equal(rejectOf(h.run(cancel(1, 1, 1_000 + STEP + 1))), 'TIMESTAMP_TOO_FAR_AHEAD');
    assert.equal(rejectOf(h.run(amend(1, 100, 4, 1, 1_000 + STEP + 1))), 'TIMESTAMP_TOO_FAR_AHEAD');
    assert.equal(rejectOf(h.run(expire(1_000 + STEP + 1))), 'TIMESTAMP_TOO_FAR_AHEAD');
    // The next honest command (a second later) is accepted and trades.
    const ev = h.run(sell(3, 100, 2, { ts: 2_000, accountId: 2 }));
    assert.equal(rejectOf(ev), undefined);
    assert.ok(ev.some((e) => e.type === 'trade'));
    assert.equal(h.book.clock, 2_000);
  });

  it('exactly the step is allowed, and the bound follows the clock as it advances', () => {
    const h = new Harness(cfg);
    h.run(expire(10));
    assert.equal(rejectOf(h.run(expire(10 + STEP))), undefined);
    assert.equal(rejectOf(h.run(expire(10 + 2 * STEP))), undefined);
    assert.equal(h.book.clock, 10 + 2 * STEP);
    assert.equal(rejectOf(h.run(expire(10 + 3 * STEP + 1))), 'TIMESTAMP_TOO_FAR_AHEAD');
  });

  it('the first command of a fresh book sets the clock (no previous time to bound it by)', () => {
    const h = new Harness(cfg);
    assert.equal(rejectOf(h.run(buy(1, 100, 1, { ts: 1_764_000_000_000 }))), undefined);
    assert.equal(h.book.clock, 1_764_000_000_000);
  });

  it('0 (the default) keeps today behaviour: any forward step is accepted', () => {
    const h = new Harness(market());
    h.run(buy(1, 100, 1, { ts: 1 }));
    assert.equal(rejectOf(h.run(expire(MAX))), undefined);
    assert.equal(h.book.clock, MAX);
  });

  it('replay-deterministic: the rule and the clock travel in the snapshot', () => {
    const h = new Harness(cfg);
    h.run(buy(1, 100, 5, { ts: 1_000 }));
    const out = new EventCollector();
    const b = OrderBook.restore(h.book.snapshot(), out);
    assert.equal(b.config.maxTimestampStep, STEP);
    const cmds = [sell(2, 100, 1, { ts: MAX, accountId: 2 }), sell(3, 100, 1, { ts: 1_500, accountId: 2 })];
    const ea = h.run(...cmds);
    for (const c of cmds) b.apply(c);
    assert.deepEqual(out.events, ea);
    assert.equal(b.stateHash(), h.book.stateHash());
    assert.deepEqual(b.snapshot(), h.book.snapshot());
  });

  it('a bad maxTimestampStep is an INVALID_MARKET_CONFIG', () => {
    for (const bad of [-1, 1.5, Number.NaN, MAX + 1]) {
      assert.throws(() => new OrderBook(market({ maxTimestampStep: bad })), isConfigErr);
    }
  });
});

describe('market rule: uniqueOrderIds', () => {
  const cfg = market({ uniqueOrderIds: true });

  it('an id that was used before (cancelled, filled, killed) is never accepted again', () => {
    const h = new Harness(cfg);
    h.run(buy(1, 100, 5), cancel(1));
    assert.equal(rejectOf(h.run(buy(1, 100, 5))), 'ORDER_ID_REUSED');
    // A filled taker and a market order leave nothing resting but still consume their ids.
    h.run(sell(2, 101, 1, { accountId: 2 }), buy(3, 101, 1), marketBuy(4, 1));
    for (const id of [2, 3, 4]) assert.equal(rejectOf(h.run(buy(id, 99, 1))), 'ORDER_ID_REUSED', `id ${id}`);
    assert.equal(h.book.orderCount, 0);
  });

  it('an id below the high-water mark is refused even if it was never used', () => {
    const h = new Harness(cfg);
    h.run(buy(100, 100, 5));
    assert.equal(rejectOf(h.run(sell(50, 101, 1, { accountId: 2 }))), 'ORDER_ID_REUSED');
    assert.equal(h.book.highestOrderId, 100);
    assert.equal(rejectOf(h.run(sell(101, 101, 1, { accountId: 2 }))), undefined);
  });

  it('a live id still answers DUPLICATE_ORDER_ID (the more precise reason)', () => {
    const h = new Harness(cfg);
    h.run(buy(7, 100, 5));
    assert.equal(rejectOf(h.run(sell(7, 101, 1, { accountId: 2 }))), 'DUPLICATE_ORDER_ID');
  });

  it('a rejected place does not raise the high-water mark (an attacker cannot burn ids it never placed)', () => {
    const h = new Harness(cfg);
    h.run(buy(5, 100, 1));
    assert.equal(rejectOf(h.run(buy(1_000_000, 100, 0))), 'INVALID_SIZE');
    assert.equal(h.book.highestOrderId, 5);
    assert.equal(rejectOf(h.run(buy(6, 100, 1))), undefined);
  });

  it('the high-water mark survives snapshot and restore', () => {
    const h = new Harness(cfg);
    h.run(buy(9, 100, 1), cancel(9));
    assert.equal(h.book.orderCount, 0);
    const b = OrderBook.restore(h.book.snapshot());
    assert.equal(b.highestOrderId, 9);
    assert.equal(b.config.uniqueOrderIds, true);
    const out = new EventCollector();
    b.setSink(out);
    b.apply(buy(9, 100, 1));
    assert.equal(rejectOf(out.take()), 'ORDER_ID_REUSED');
  });

  it('without the rule ids of finished orders may come back (today behaviour), but the mark is kept', () => {
    const h = new Harness(market());
    h.run(buy(9, 100, 1), cancel(9));
    assert.equal(rejectOf(h.run(buy(9, 100, 1))), undefined);
    assert.equal(h.book.highestOrderId, 9);
  });

  it('a non-boolean uniqueOrderIds is an INVALID_MARKET_CONFIG', () => {
    assert.throws(() => new OrderBook({ ...market(), uniqueOrderIds: 1 } as unknown as MarketConfig), isConfigErr);
  });
});

describe('market rule: orderIdSources (a high-water mark per id-minting writer)', () => {
  // 16 sources, as the gateways mint: id = (time, counter) * 16 + instance.
  const N = 16;
  const id = (serial: number, source: number): number => serial * N + source;
  const cfg = market({ orderIdSources: N });

  it('writers whose ids interleave out of global order are all accepted (no global counter needed)', () => {
    const h = new Harness(cfg);
    // Instance 1 lags instance 0 by a millisecond: its ids are below instance 0's highest.
    for (const [serial, source] of [[100, 0], [99, 1], [101, 0], [100, 1], [102, 0]] as const) {
      assert.equal(rejectOf(h.run(buy(id(serial, source), 100, 1))), undefined, `${serial}/${source}`);
    }
    assert.equal(h.book.highestOrderIdOfSource(0), id(102, 0));
    assert.equal(h.book.highestOrderIdOfSource(1), id(100, 1));
    // One global mark (uniqueOrderIds) would have refused the lagging instance.
    const one = new Harness(market({ uniqueOrderIds: true }));
    one.run(buy(id(100, 0), 100, 1));
    assert.equal(rejectOf(one.run(buy(id(99, 1), 100, 1))), 'ORDER_ID_REUSED');
  });

  it('an id used before is refused whoever writes it: the id names its source, whose mark it is not above', () => {
    const h = new Harness(cfg);
    h.run(buy(id(7, 3), 100, 5), cancel(id(7, 3)));
    // Replayed by anyone (the orders topic has no author): same id, same source, refused.
    assert.equal(rejectOf(h.run(buy(id(7, 3), 100, 5, { accountId: 2 }))), 'ORDER_ID_REUSED');
    // Below the source's mark but never used: refused too (a source's ids only increase).
    assert.equal(rejectOf(h.run(buy(id(6, 3), 100, 5))), 'ORDER_ID_REUSED');
    // Filled and killed orders consume their ids as well.
    h.run(sell(id(8, 4), 101, 1, { accountId: 2 }), buy(id(9, 4), 101, 1));
    for (const x of [id(8, 4), id(9, 4)]) assert.equal(rejectOf(h.run(buy(x, 99, 1))), 'ORDER_ID_REUSED');
    // Another source is untouched.
    assert.equal(rejectOf(h.run(buy(id(1, 5), 99, 1))), undefined);
  });

  it('a rejected place leaves its source mark where it was', () => {
    const h = new Harness(cfg);
    h.run(buy(id(5, 2), 100, 1));
    assert.equal(rejectOf(h.run(buy(id(1_000, 2), 100, 0))), 'INVALID_SIZE');
    assert.equal(h.book.highestOrderIdOfSource(2), id(5, 2));
    assert.equal(rejectOf(h.run(buy(id(6, 2), 100, 1))), undefined);
  });

  it('the marks of every source survive snapshot and restore (version 3)', () => {
    const h = new Harness(cfg);
    h.run(buy(id(9, 0), 100, 1), buy(id(4, 7), 100, 1), cancel(id(9, 0)), cancel(id(4, 7)));
    const snap = h.book.snapshot();
    assert.equal(snap[4], 3);
    const b = OrderBook.restore(snap);
    assert.equal(b.config.orderIdSources, N);
    assert.equal(b.highestOrderIdOfSource(0), id(9, 0));
    assert.equal(b.highestOrderIdOfSource(7), id(4, 7));
    assert.deepEqual(b.snapshot(), snap);
    const out = new EventCollector();
    b.setSink(out);
    b.apply(buy(id(4, 7), 100, 1, { ts: 5 }));
    assert.equal(rejectOf(out.take()), 'ORDER_ID_REUSED');
  });

  it('orderIdSources wins over uniqueOrderIds; 0 is off; out-of-range values are an INVALID_MARKET_CONFIG', () => {
    assert.equal(new OrderBook(market({ uniqueOrderIds: true, orderIdSources: 0 })).config.uniqueOrderIds, false);
    assert.equal(new OrderBook(market({ uniqueOrderIds: true })).config.orderIdSources, 1);
    for (const bad of [-1, 1.5, 4097, Number.NaN]) {
      assert.throws(() => new OrderBook(market({ orderIdSources: bad })), isConfigErr, String(bad));
    }
  });

  it('refuses a version-3 snapshot whose source mark is not of its source or above the high-water mark', () => {
    const h = new Harness(market({ orderIdSources: 2 }));
    h.run(buy(5, 100, 1));
    // Layout: magic, version, config (6 fields, step, sources), seq clock lastPrice hashA hashB maxOrderId, marks, sides, accounts.
    const rebuild = (maxId: number, marks: readonly number[]): Uint8Array =>
      oneOrderSnapshot(3, [7, 0, 0, 0, 0, 0, 0, 2], [h.book.sequence, 1, 0, 1, 2, maxId, ...marks], 5);
    assert.equal(OrderBook.restore(rebuild(5, [0, 5])).highestOrderIdOfSource(1), 5);
    assert.equal(OrderBook.restore(rebuild(8, [8, 5])).highestOrderIdOfSource(0), 8);
    assert.throws(() => OrderBook.restore(rebuild(5, [5, 0])), isSnapErr); // 5 is not of source 0
    assert.throws(() => OrderBook.restore(rebuild(5, [0, 7])), isSnapErr); // above the high-water mark
    assert.throws(() => OrderBook.restore(rebuild(5, [0])), isSnapErr); // a mark missing
  });
});

describe('snapshot version 2 and the migration from version 1', () => {
  /** A version-1 snapshot written field by field as version 1 laid it out (no rules, no high-water mark). */
  function v1Snapshot(): Uint8Array {
    const w = new ByteWriter();
    for (const b of [0x50, 0x58, 0x4f, 0x42]) w.byte(b);
    w.uint(1);
    for (const x of [7, 0, 0, 0, 0, 0]) w.uint(x); // config
    for (const x of [12, 30, 0, 0x1234, 0x5678]) w.uint(x); // seq clock lastPrice hashA hashB
    w.uint(1); // bids: one level
    w.uint(100);
    w.uint(2);
    for (const x of [41, 1, 5, 0, 0, 0, 0]) w.uint(x);
    for (const x of [17, 2, 3, 0, 0, 0, 0]) w.uint(x);
    w.uint(0); // asks
    w.uint(2); // accounts
    for (const x of [1, 1, 2, 1]) w.uint(x);
    return w.finish();
  }

  it('restores a version-1 snapshot with the rules off and the largest resting id as the mark', () => {
    const b = OrderBook.restore(v1Snapshot());
    assert.equal(b.config.maxTimestampStep, 0);
    assert.equal(b.config.uniqueOrderIds, false);
    assert.equal(b.highestOrderId, 41);
    assert.equal(b.sequence, 12);
    assert.equal(b.clock, 30);
    assert.deepEqual(
      b.orders(Side.Buy).map((o) => o.orderId),
      [41, 17],
    );
    // Written back it is a version-3 snapshot that restores to the same state.
    const again = b.snapshot();
    assert.equal(again[4], 3);
    assert.deepEqual(OrderBook.restore(again).snapshot(), again);
    assert.equal(OrderBook.restore(again).stateHash(), b.stateHash());
  });

  it('refuses a version-2 snapshot whose high-water mark is below a resting id, or a bad flag', () => {
    const h = new Harness(market({ uniqueOrderIds: true, maxTimestampStep: 5 }));
    h.run(buy(3, 100, 1, { ts: 1 }));
    // Layout: magic, version, config (6 fields, step, flag), seq clock lastPrice hashA hashB maxOrderId, sides,
    // accounts. Written field by field so one field can be made wrong at a time.
    const rebuild = (flag: number, mark: number): Uint8Array =>
      oneOrderSnapshot(2, [7, 0, 0, 0, 0, 0, 5, flag], [h.book.sequence, 1, 0, 1, 2, mark], 3);
    assert.equal(OrderBook.restore(rebuild(1, 3)).highestOrderId, 3);
    // The flag restores as one source whose mark is the high-water mark; off stays off.
    assert.equal(OrderBook.restore(rebuild(1, 3)).config.orderIdSources, 1);
    assert.equal(OrderBook.restore(rebuild(1, 3)).highestOrderIdOfSource(0), 3);
    assert.equal(OrderBook.restore(rebuild(0, 3)).config.orderIdSources, 0);
    const v3 = OrderBook.restore(rebuild(1, 3)).snapshot();
    assert.equal(v3[4], 3);
    assert.equal(OrderBook.restore(v3).highestOrderIdOfSource(0), 3);
    assert.throws(() => OrderBook.restore(rebuild(1, 2)), isSnapErr);
    assert.throws(() => OrderBook.restore(rebuild(2, 3)), isSnapErr);
  });
});

describe('chunked snapshots', () => {
  it('cuts the snapshot into pieces of at most the given size that restore to the same book', () => {
    const h = new Harness(market({ uniqueOrderIds: true }));
    for (let i = 1; i <= 400; i++) h.run(i % 2 === 0 ? buy(i, 100 - (i % 7), 1 + (i % 5), { accountId: i }) : sell(i, 101 + (i % 9), 2, { accountId: i }));
    const whole = h.book.snapshot();
    const chunks = h.book.snapshotChunks(97);
    assert.ok(chunks.length > 10);
    assert.ok(chunks.every((c) => c.length > 0 && c.length <= 97));
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(whole));
    const b = OrderBook.restore(chunks);
    assert.deepEqual(b.snapshot(), whole);
    assert.equal(b.stateHash(), h.book.stateHash());
    assert.deepEqual(h.book.snapshotChunks(whole.length + 1), [whole]);
  });

  // The book can only check structure: two equal-length swapped chunks of like records could parse, so the
  // transport must frame chunks (count, index, digest). What the book guarantees is no silent partial book.
  it('a missing or repeated chunk is an INVALID_SNAPSHOT (and this reordering too), never a partial book', () => {
    const h = new Harness();
    for (let i = 1; i <= 100; i++) h.run(buy(i, 50 + (i % 10), 3, { accountId: i }));
    const chunks = h.book.snapshotChunks(64);
    assert.throws(() => OrderBook.restore(chunks.slice(0, -1)), isSnapErr);
    assert.throws(() => OrderBook.restore([...chunks, chunks[chunks.length - 1]!]), isSnapErr);
    assert.throws(() => OrderBook.restore([]), isSnapErr);
    const swapped = [...chunks];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    try {
      const b = OrderBook.restore(swapped);
      assert.fail(`restored ${b.orderCount} orders from reordered chunks`);
    } catch (e) {
      assert.ok(isSnapErr(e), String(e));
    }
  });

  it('refuses a chunk size that is not a positive integer', () => {
    const h = new Harness();
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => h.book.snapshotChunks(bad), RangeError);
  });
});

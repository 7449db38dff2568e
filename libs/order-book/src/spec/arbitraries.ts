// fast-check arbitraries for order-book command sequences (shared by the property specs).
// Commands are generated as "raw" records and then made concrete in sequence: timestamps accumulate,
// and cancels / amends usually target an order id placed earlier in the same sequence (so they hit).
import fc from 'fast-check';
import type { Command, MarketConfig } from '../index.js';
import { OrderType, Side, StpMode, TimeInForce } from '../index.js';

const baseConfigArb = fc.record({
  marketId: fc.constant(3),
  minSize: fc.constantFrom(0, 0, 0, 2),
  minNotional: fc.constantFrom(0, 0, 0, 250),
  maxOpenOrdersPerAccount: fc.constantFrom(0, 0, 3),
  priceBandBps: fc.constantFrom(0, 0, 300, 10000),
  initialReferencePrice: fc.constantFrom(0, 100),
  maxTimestampStep: fc.constantFrom(0, 0, 10),
  uniqueOrderIds: fc.constantFrom(false, false, true),
});
/** orderIdSources absent (then uniqueOrderIds decides), off, one source, or three. */
export const configArb: fc.Arbitrary<MarketConfig> = fc
  .tuple(baseConfigArb, fc.constantFrom(-1, -1, 0, 1, 3))
  .map(([c, sources]): MarketConfig => (sources < 0 ? c : { ...c, orderIdSources: sources }));

interface History {
  /** [orderId, accountId, price] of earlier place commands, oldest first. */
  placed: [number, number, number][];
}

/** A command before it is made concrete: dt is added to the running clock (negative = regression). */
interface Raw {
  dt: number;
  make: (ts: number, h: History) => Command;
}

const ACCOUNTS = 3;
const MAX_ID = 20;
const account = fc.integer({ min: 1, max: ACCOUNTS });
const size = fc.integer({ min: 1, max: 8 });
// Now and then a jump well past maxTimestampStep (when the config has one).
const dt = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: fc.constantFrom(10, 11, 25) },
);
/** Mostly valid values, sometimes invalid ones, to exercise every rejection path. */
const maybeBad = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 80, arbitrary: good }, { weight: 1, arbitrary: bad });

/** Picks an earlier placed order (recent ones more likely), or a random id when `fresh` / none. */
function target(h: History, pick: number, fresh: boolean, ownerOk: boolean, acct: number): [number, number, number] {
  const n = h.placed.length;
  if (fresh || n === 0) return [1 + (pick % MAX_ID), acct, 100];
  const [orderId, owner, price] = h.placed[n - 1 - (pick % Math.min(n, 12))]!;
  return [orderId, ownerOk ? owner : acct, price];
}

const placeArb: fc.Arbitrary<Raw> = fc
  .record({
    dt,
    /** Fresh ids mostly; sometimes reuse a recent one (duplicate while live, legal once it is gone). */
    reuse: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
    pick: fc.nat(),
    badId: maybeBad(fc.constant(undefined), fc.constantFrom(0, -1, 1.5)),
    accountId: maybeBad(account, fc.constant(-2)),
    side: maybeBad(fc.constantFrom(Side.Buy, Side.Sell), fc.constant(2 as Side)),
    market: fc.integer({ min: 0, max: 5 }).map((x) => x === 0),
    /** Distance from 100: buys mostly below, sells mostly above, so books fill and sometimes cross. */
    offset: fc.integer({ min: -2, max: 5 }),
    badPrice: maybeBad(fc.constant(undefined), fc.constantFrom(0, 2.5, 2 ** 52)),
    protection: fc.oneof(fc.constant(0), fc.integer({ min: 95, max: 105 })),
    size: maybeBad(size, fc.constantFrom(0, -1)),
    tif: maybeBad(
      fc.constantFrom(TimeInForce.GTC, TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTT),
      fc.constant(7 as TimeInForce),
    ),
    expiresIn: fc.integer({ min: -1, max: 10 }),
    postOnly: fc.integer({ min: 0, max: 6 }).map((x) => x === 0),
    stp: maybeBad(
      fc.constantFrom(StpMode.None, StpMode.CancelNewest, StpMode.CancelOldest, StpMode.CancelBoth, StpMode.DecrementAndCancel),
      fc.constant(9 as StpMode),
    ),
  })
  .map(
    (r): Raw => ({
      dt: r.dt,
      make: (ts, h) => {
        const tif = r.market && (r.tif === TimeInForce.GTC || r.tif === TimeInForce.GTT) ? TimeInForce.IOC : r.tif;
        const fresh = h.placed.length + 1;
        const orderId = r.badId ?? (r.reuse ? target(h, r.pick, false, true, 0)[0] : fresh);
        const limitPrice = r.badPrice ?? (r.side === Side.Buy ? 100 - r.offset : 100 + r.offset);
        h.placed.push([orderId, r.accountId, limitPrice]);
        return {
          type: 'place',
          ts,
          orderId,
          accountId: r.accountId,
          side: r.side,
          orderType: r.market ? OrderType.Market : OrderType.Limit,
          price: r.market ? (r.badPrice ?? r.protection) : limitPrice,
          size: r.size,
          tif,
          expiresAt: tif === TimeInForce.GTT ? ts + r.expiresIn : 0,
          postOnly: r.postOnly,
          stp: r.stp,
        };
      },
    }),
  );

const targetArb = fc.record({
  dt,
  pick: fc.nat(),
  fresh: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
  ownerOk: fc.integer({ min: 0, max: 9 }).map((x) => x !== 0),
  account,
});

const cancelArb: fc.Arbitrary<Raw> = targetArb.map((r) => ({
  dt: r.dt,
  make: (ts, h) => {
    const [orderId, accountId] = target(h, r.pick, r.fresh, r.ownerOk, r.account);
    return { type: 'cancel', ts, orderId, accountId };
  },
}));

const amendArb: fc.Arbitrary<Raw> = fc
  .record({
    t: targetArb,
    price: maybeBad(fc.integer({ min: 94, max: 106 }), fc.constant(0)),
    size: maybeBad(size, fc.constant(0)),
    keepPrice: fc.boolean(),
  })
  .map((r) => ({
    dt: r.t.dt,
    make: (ts, h) => {
      // keepPrice: same price as placed (size-only amend, unless the order was re-priced since).
      const [orderId, accountId, placedPrice] = target(h, r.t.pick, r.t.fresh, r.t.ownerOk, r.t.account);
      return { type: 'amend', ts, orderId, accountId, price: r.keepPrice ? placedPrice : r.price, size: r.size };
    },
  }));

const cancelAllArb: fc.Arbitrary<Raw> = fc
  .record({ dt, accountId: maybeBad(account, fc.constant(-1)) })
  .map((r) => ({ dt: r.dt, make: (ts) => ({ type: 'cancelAll', ts, accountId: r.accountId }) }));

const expireArb: fc.Arbitrary<Raw> = fc
  .integer({ min: 0, max: 6 })
  .map((d) => ({ dt: d, make: (ts) => ({ type: 'expire', ts }) }));

export const commandsArb: fc.Arbitrary<Command[]> = fc
  .array(
    fc.oneof(
      { weight: 12, arbitrary: placeArb },
      { weight: 4, arbitrary: cancelArb },
      { weight: 3, arbitrary: amendArb },
      { weight: 1, arbitrary: cancelAllArb },
      { weight: 1, arbitrary: expireArb },
    ),
    { minLength: 1, maxLength: 80, size: 'max' },
  )
  .map((raws) => {
    let clock = 0;
    const h: History = { placed: [] };
    return raws.map((r) => {
      const ts = clock + r.dt;
      if (r.dt >= 0) clock = ts;
      return r.make(ts, h);
    });
  });

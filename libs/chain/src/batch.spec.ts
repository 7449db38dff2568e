// Unit tests of the packed batch codec and amount helpers (no node needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { getAddress, type Address, type Hex } from 'viem';
import { batchByteLength, decodeBatch, encodeBatch, type BatchFill } from './batch.js';
import { BATCH_LAYOUT, MAX_FEE_RATE } from './constants.js';
import { feeAmount } from './fees.js';
import { hashOrder, quoteAmount, settlementDomain, splitSignature, type SignedOrder } from './order.js';

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const domain = settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
const hex = (bytes: number, seed: number): Hex => `0x${(seed.toString(16).padStart(2, '0').repeat(bytes)).slice(0, bytes * 2)}`;
const tokenA: Address = getAddress(hex(20, 0xaa));
const tokenB: Address = getAddress(hex(20, 0xbb));
const tokenC: Address = getAddress(hex(20, 0xcc));

const orderArb = fc.record({
  trader: fc.integer({ min: 1, max: 255 }).map((n) => getAddress(hex(20, n))),
  market: fc.constantFrom([tokenA, tokenB] as const, [tokenC, tokenB] as const, [tokenA, tokenC] as const),
  isBuy: fc.boolean(),
  price: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  size: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  maxFeeRate: fc.integer({ min: 0, max: 0xffffffff }),
  expiry: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  // In range and low-s: the only form the one signature parser (and the contract) accepts.
  r: fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }),
  s: fc.bigInt({ min: 1n, max: SECP256K1_N >> 1n }),
  v: fc.constantFrom(27, 28),
}).map((o): SignedOrder => ({
  trader: o.trader,
  baseToken: o.market[0],
  quoteToken: o.market[1],
  isBuy: o.isBuy,
  price: o.price,
  size: o.size,
  maxFeeRate: o.maxFeeRate,
  expiry: o.expiry,
  nonce: o.nonce,
  signature: `0x${o.r.toString(16).padStart(64, '0')}${o.s.toString(16).padStart(64, '0')}${o.v.toString(16)}`,
}));

test('encode/decode round-trips any batch; fills point at the same orders after sorting by hash', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(orderArb, { minLength: 2, maxLength: 12, selector: (o) => hashOrder(domain, o) }),
      fc.array(
        fc.record({
          a: fc.nat(),
          b: fc.nat(),
          baseAmount: fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }),
          price: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
          // Signed: negative rates are rebates (int32 two's complement on the wire).
          buyFeeRate: fc.integer({ min: -MAX_FEE_RATE, max: MAX_FEE_RATE }),
          sellFeeRate: fc.integer({ min: -MAX_FEE_RATE, max: MAX_FEE_RATE }),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      (orders, rawFills) => {
        const fills: BatchFill[] = rawFills.map((f) => ({ ...f, buyOrder: f.a % orders.length, sellOrder: f.b % orders.length }));
        // Every order must be used: add a fill for each unused one.
        const used = new Set(fills.flatMap((f) => [f.buyOrder, f.sellOrder]));
        orders.forEach((_, i) => {
          if (!used.has(i)) fills.push({ buyOrder: i, sellOrder: i, baseAmount: 1n, price: 1n });
        });
        const enc = encodeBatch({ domain, orders, fills });
        const dec = decodeBatch(enc.data);
        assert.equal((enc.data.length - 2) / 2, batchByteLength(enc.tokens.length, orders.length, fills.length));
        assert.deepEqual(dec.tokens, enc.tokens);
        assert.deepEqual(dec.orders, enc.orders);
        assert.deepEqual(dec.fills, enc.fills);
        // Strictly increasing hashes, and the position map is consistent.
        for (let i = 1; i < enc.orderHashes.length; i++) assert.ok(enc.orderHashes[i - 1]! < enc.orderHashes[i]!);
        orders.forEach((o, i) => {
          assert.deepEqual(enc.orders[enc.orderPosition[i]!], o);
        });
        fills.forEach((f, i) => {
          assert.deepEqual(dec.orders[dec.fills[i]!.buyOrder], orders[f.buyOrder]);
          assert.deepEqual(dec.orders[dec.fills[i]!.sellOrder], orders[f.sellOrder]);
          assert.equal(dec.fills[i]!.buyFeeRate, f.buyFeeRate ?? 0);
          assert.equal(dec.fills[i]!.sellFeeRate, f.sellFeeRate ?? 0);
        });
      },
    ),
    { numRuns: 60 },
  );
});

test('the header and token table follow the documented layout', () => {
  const o = (n: number, isBuy: boolean): SignedOrder => ({
    trader: getAddress(hex(20, n)),
    baseToken: tokenA,
    quoteToken: tokenB.toLowerCase() as Address, // case must not create a second token entry
    isBuy,
    price: 0x0102n,
    size: 0x0304n,
    maxFeeRate: 5,
    expiry: 6n,
    nonce: 7n,
    signature: `${hex(32, 0x11)}${hex(32, 0x22).slice(2)}1b`,
  });
  const enc = encodeBatch({ domain, orders: [o(1, true), o(2, false)], fills: [{ buyOrder: 0, sellOrder: 1, baseAmount: 9n, price: 0x0102n, buyFeeRate: 3, sellFeeRate: 4 }] });
  assert.deepEqual(enc.tokens, [tokenA, tokenB]);
  const d = enc.data.slice(2);
  assert.equal(d.slice(0, 12), '010200020001'); // version 1, 2 tokens, 2 orders, 1 fill
  assert.equal(d.slice(12, 52), tokenA.slice(2).toLowerCase());
  const fillAt = 2 * (BATCH_LAYOUT.headerBytes + 2 * BATCH_LAYOUT.tokenBytes + 2 * BATCH_LAYOUT.orderBytes);
  const fill = d.slice(fillAt);
  assert.equal(fill.length, 2 * BATCH_LAYOUT.fillBytes);
  assert.equal(fill.slice(8, 40), '00'.repeat(15) + '09');
  assert.equal(fill.slice(72, 88), '0000000300000004');
  // A rebate rate is a signed int32 at the same offset: -50 is 0xffffffce.
  const rebate = encodeBatch({ domain, orders: [o(1, true), o(2, false)], fills: [{ buyOrder: 0, sellOrder: 1, baseAmount: 9n, price: 0x0102n, buyFeeRate: 60, sellFeeRate: -50 }] });
  assert.equal(rebate.data.slice(2).slice(fillAt + 72, fillAt + 88), '0000003cffffffce');
  assert.equal(decodeBatch(rebate.data).fills[0]!.sellFeeRate, -50);
  const firstOrder = d.slice(2 * (BATCH_LAYOUT.headerBytes + 2 * BATCH_LAYOUT.tokenBytes), fillAt - 2 * BATCH_LAYOUT.orderBytes);
  assert.equal(firstOrder.slice(40, 44), '0001'); // baseIdx 0, quoteIdx 1
  assert.equal(firstOrder.slice(-2), '1b');
});

test('the encoder refuses what the contract would refuse', () => {
  const base: SignedOrder = {
    trader: getAddress(hex(20, 1)),
    baseToken: tokenA,
    quoteToken: tokenB,
    isBuy: true,
    price: 1n,
    size: 1n,
    maxFeeRate: 0,
    expiry: 1n,
    nonce: 0n,
    signature: `${hex(32, 1)}${hex(32, 2).slice(2)}1c`,
  };
  const sell = { ...base, isBuy: false };
  const fill = { buyOrder: 0, sellOrder: 1, baseAmount: 1n, price: 1n };
  const bad = (orders: SignedOrder[], fills: BatchFill[], code: string): void => {
    assert.throws(() => encodeBatch({ domain, orders, fills }), { code });
  };
  bad([base, sell], [], 'INVALID_BATCH');
  bad([base, sell, { ...base, nonce: 1n }], [fill], 'INVALID_BATCH'); // order 2 unused
  bad([base, base, sell], [fill], 'DUPLICATE_ORDER');
  bad([base, sell], [{ ...fill, sellOrder: 2 }], 'INVALID_FILL');
  bad([base, sell], [{ ...fill, baseAmount: 0n }], 'INVALID_FILL');
  bad([base, sell], [{ ...fill, buyFeeRate: MAX_FEE_RATE + 1 }], 'INVALID_FILL');
  bad([base, sell], [{ ...fill, sellFeeRate: -MAX_FEE_RATE - 1 }], 'INVALID_FILL');
  bad([base, sell], [{ ...fill, sellFeeRate: -0.5 }], 'INVALID_FILL');
  bad([base, sell], [{ ...fill, price: 1n << 128n }], 'INVALID_FILL');
  bad([{ ...base, size: -1n }, sell], [fill], 'INVALID_ORDER');
  bad([{ ...base, maxFeeRate: 1.5 }, sell], [fill], 'INVALID_ORDER');
  bad([{ ...base, signature: '0x1234' }, sell], [fill], 'INVALID_SIGNATURE');
});

test('decodeBatch rejects truncated, padded and foreign data', () => {
  const enc = encodeBatch({
    domain,
    orders: [
      { trader: getAddress(hex(20, 1)), baseToken: tokenA, quoteToken: tokenB, isBuy: true, price: 1n, size: 1n, maxFeeRate: 0, expiry: 1n, nonce: 0n, signature: `${hex(32, 1)}${hex(32, 2).slice(2)}1c` },
    ],
    fills: [{ buyOrder: 0, sellOrder: 0, baseAmount: 1n, price: 1n }],
  });
  assert.throws(() => decodeBatch(enc.data.slice(0, -2) as Hex), { code: 'MALFORMED_BATCH_DATA' });
  assert.throws(() => decodeBatch(`${enc.data}00`), { code: 'MALFORMED_BATCH_DATA' });
  assert.throws(() => decodeBatch(`0x02${enc.data.slice(4)}`), { code: 'MALFORMED_BATCH_DATA' });
  assert.throws(() => decodeBatch('0x'), { code: 'MALFORMED_BATCH_DATA' });
});

test('quote amounts are exact or refused; fees round down', () => {
  const price = 2_000_000_000n; // 2000 USDC (6 decimals) per 1e18 base units
  assert.equal(quoteAmount(10n ** 18n, price), 2_000_000_000n);
  assert.equal(quoteAmount(10n ** 15n, 10_000n), 10n); // lot 0.001, tick 0.01 USDC
  assert.throws(() => quoteAmount(1n, price), { code: 'INEXACT_QUOTE_AMOUNT' });
  assert.equal(feeAmount(999n, 1_000), 0n);
  assert.equal(feeAmount(1_000n, 1_000), 1n);
  assert.equal(feeAmount(1_999_999n, 1), 1n);
  assert.deepEqual(splitSignature(`0x${'ab'.repeat(32)}${'1b'.repeat(32)}00`).v, 27);
  // The high-s twin of a signature is refused by the one parser (the contract refuses it too).
  assert.throws(() => splitSignature(`0x${'ab'.repeat(64)}1b`), { code: 'INVALID_SIGNATURE' });
});

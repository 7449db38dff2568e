// Unit tests of the trade <-> on-chain mapping (no node needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getAddress, recoverTypedDataAddress, type Address } from 'viem';
import { decodeBatch, encodeBatch } from './batch.js';
import { MAX_FEE_RATE, MAX_IMMEDIATE_ORDER_LIFETIME, PRICE_SCALE } from './constants.js';
import { ChainError, type ChainErrorCode } from './errors.js';
import {
  assertSettlementMarket,
  batchInputFor,
  fillFeeRates,
  decimalUnits,
  fillAmounts,
  localTraderAccount,
  orderForPlace,
  sameDecimal,
  settlementUnits,
  type MarketTradeFill,
  type SettlementMarket,
  type TradeFill,
  type OrderSigner,
} from './markets.js';
import { fillFeeError } from './fees.js';
import { orderTypedData, quoteAmount, settlementDomain, signOrder, type SignedOrder } from './order.js';

const isCode = (code: ChainErrorCode) => (e: unknown) => e instanceof ChainError && e.code === code;
const addr = (byte: string): Address => getAddress(`0x${byte.repeat(20)}`);
const domain = settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');

// ETH (18 decimals) / USDC (6): lot 0.001 ETH, tick 0.01 USDC -> lot * tick = 1e19.
const ethUsdc: SettlementMarket = { marketId: 1, baseToken: addr('e1'), quoteToken: addr('c6'), lotSize: 10n ** 15n, tickSize: 10n ** 4n };
// WBTC (8) / USDC (6): lot 0.0001 BTC, tick 0.01 USD (1e14 price units) -> 1e18.
const btcUsdc: SettlementMarket = { marketId: 2, baseToken: addr('b8'), quoteToken: addr('c6'), lotSize: 10n ** 4n, tickSize: 10n ** 14n };
const marketOf = (id: number): SettlementMarket | undefined => [ethUsdc, btcUsdc].find((m) => m.marketId === id);
const signer = { trader: addr('77'), nonce: 1n, expiry: 2_000_000_000n, maxFeeRate: 3_000 };

describe('settlement markets', () => {
  it('accepts lot/tick pairs with exact quote amounts and rejects the rest (INVALID_MARKET)', () => {
    assertSettlementMarket(ethUsdc);
    assertSettlementMarket(btcUsdc);
    // 0.00001 BTC lots at 0.01 USD ticks: 1e3 * 1e14 = 1e17, a 1-lot fill at 1 tick is 0.1 of a quote unit.
    assert.throws(() => { assertSettlementMarket({ ...btcUsdc, lotSize: 10n ** 3n }); }, isCode('INVALID_MARKET'));
    const bad: Partial<Record<keyof SettlementMarket, unknown>>[] = [
      { lotSize: 0n },
      { tickSize: -(10n ** 18n) },
      { tickSize: 10n ** 4n + 1n },
      { lotSize: 1000 },
      { lotSize: 1n << 128n, tickSize: PRICE_SCALE },
      { quoteToken: ethUsdc.baseToken.toLowerCase() },
      { baseToken: '0x1234' },
      { marketId: -1 },
    ];
    for (const patch of bad) {
      assert.throws(() => { assertSettlementMarket({ ...ethUsdc, ...patch } as SettlementMarket); }, isCode('INVALID_MARKET'), JSON.stringify(patch, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
  });

  it('every fill of a valid market has an exact quote amount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 20n }),
        // Bounded so a price of up to 1e9 ticks stays within uint128 even for the coarsest tick (1e18 * k).
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: 1_000_000_000 }),
        (lot, k, ticks, lots) => {
          // The smallest tick that makes lot * tick a multiple of 1e18, times k.
          const g = gcd(lot, PRICE_SCALE);
          const market = { ...ethUsdc, lotSize: lot, tickSize: (PRICE_SCALE / g) * k };
          assertSettlementMarket(market);
          const { baseAmount, price, quote } = fillAmounts(market, ticks, lots);
          assert.equal(quote * PRICE_SCALE, baseAmount * price);
        },
      ),
    );
  });

  it('settlementUnits: whole-token lot and tick to contract units, and back (decimalUnits)', () => {
    // The two markets above, from their decimal edges: ETH 18 / USDC 6, WBTC 8 / USDC 6.
    assert.deepEqual(settlementUnits({ lotSize: '0.001', tickSize: '0.01' }, { base: 18, quote: 6 }), { lotSize: ethUsdc.lotSize, tickSize: ethUsdc.tickSize });
    assert.deepEqual(settlementUnits({ lotSize: '0.0001', tickSize: '0.010' }, { base: 8, quote: 6 }), { lotSize: btcUsdc.lotSize, tickSize: btcUsdc.tickSize });
    // An 8-decimal base with a 0.001 lot is 1e5 base units (not 1e4: that lot is 0.0001).
    assert.equal(settlementUnits({ lotSize: '0.001', tickSize: '0.01' }, { base: 8, quote: 6 }).lotSize, 10n ** 5n);
    assert.deepEqual(decimalUnits(btcUsdc, { base: 8, quote: 6 }), { lotSize: '0.0001', tickSize: '0.01' });
    assert.deepEqual(decimalUnits(ethUsdc, { base: 18, quote: 6 }), { lotSize: '0.001', tickSize: '0.01' });
    // A base with more decimals than quote + 18: the price exponent is negative.
    assert.deepEqual(settlementUnits({ lotSize: '1', tickSize: '3000000' }, { base: 30, quote: 6 }), { lotSize: 10n ** 30n, tickSize: 3n });
    assert.deepEqual(decimalUnits({ lotSize: 10n ** 30n, tickSize: 3n }, { base: 30, quote: 6 }), { lotSize: '1', tickSize: '3000000' });
    // Finer than one base unit, or zero: refused.
    assert.throws(() => settlementUnits({ lotSize: '0.000000001', tickSize: '0.01' }, { base: 8, quote: 6 }), isCode('INVALID_MARKET'));
    assert.throws(() => settlementUnits({ lotSize: '0.001', tickSize: '0.0000001' }, { base: 18, quote: 6 }), isCode('INVALID_MARKET'));
    assert.throws(() => settlementUnits({ lotSize: '0', tickSize: '0.01' }, { base: 18, quote: 6 }), isCode('INVALID_MARKET'));
    assert.throws(() => settlementUnits({ lotSize: '0.001', tickSize: '0.01' }, { base: 18.5, quote: 6 }), isCode('INVALID_MARKET'));
    assert.equal(sameDecimal('0.010', '0.01'), true);
    assert.equal(sameDecimal('0.001', '0.0001'), false);
  });

  it('settlementUnits and decimalUnits are inverse for any representable lot and tick', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 18 }), fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 30n }), (base, quote, lot, tick) => {
        const d = { base, quote };
        const units = decimalUnits({ lotSize: lot, tickSize: tick }, d);
        assert.deepEqual(settlementUnits(units, d), { lotSize: lot, tickSize: tick });
      }),
    );
  });

  it('fillAmounts: lots and ticks to base, price and quote', () => {
    // 3 lots of 0.001 ETH at 2,000.00 USDC = 6 USDC.
    assert.deepEqual(fillAmounts(ethUsdc, 200_000, 3), { baseAmount: 3n * 10n ** 15n, price: 2_000n * 10n ** 6n, quote: 6_000_000n });
    // 1 lot of 0.0001 BTC at 100,000.00 USD = 10 USDC.
    assert.deepEqual(fillAmounts(btcUsdc, 10_000_000, 1), { baseAmount: 10_000n, price: 10n ** 21n, quote: 10_000_000n });
    for (const [ticks, lots] of [[0, 1], [1, 0], [1.5, 1], [1, -1], [Number.MAX_SAFE_INTEGER + 1, 1]]) {
      assert.throws(() => fillAmounts(ethUsdc, ticks!, lots!), isCode('INVALID_FILL'), `${ticks} ticks ${lots} lots`);
    }
    assert.throws(() => fillAmounts({ ...ethUsdc, tickSize: 1n << 100n }, 1 << 30, 1), isCode('INVALID_FILL'));
  });

  it('orderForPlace: limit prices in ticks, unprotected market orders at the bounds', () => {
    const limitBuy = orderForPlace(ethUsdc, { isBuy: true, isMarket: false, priceTicks: 200_000, sizeLots: 7 }, signer);
    assert.deepEqual(limitBuy, {
      trader: signer.trader,
      baseToken: ethUsdc.baseToken,
      quoteToken: ethUsdc.quoteToken,
      isBuy: true,
      price: 2_000_000_000n,
      size: 7n * 10n ** 15n,
      maxFeeRate: 3_000,
      expiry: signer.expiry,
      nonce: signer.nonce,
    });
    // No blank cheques: a market order without a protection price is refused, whatever its side.
    const now = signer.expiry - 60n;
    for (const isBuy of [true, false]) {
      assert.throws(
        () => orderForPlace(ethUsdc, { isBuy, isMarket: true, priceTicks: 0, sizeLots: 1 }, { ...signer, now }),
        (e: unknown) => isCode('INVALID_ORDER')(e) && /protection price/.test((e as Error).message),
      );
    }
    // A market order with a protection price signs that price, with a short deadline.
    assert.equal(orderForPlace(ethUsdc, { isBuy: true, isMarket: true, priceTicks: 5, sizeLots: 1 }, { ...signer, now }).price, 50_000n);
    assert.equal(orderForPlace(ethUsdc, { isBuy: false, isMarket: true, priceTicks: 5, sizeLots: 1 }, { ...signer, now }).price, 50_000n);

    const place = { isBuy: true, isMarket: false, priceTicks: 1, sizeLots: 1 };
    for (const patch of [{ priceTicks: 0 }, { priceTicks: -1 }, { sizeLots: 0 }, { sizeLots: 2.5 }]) {
      assert.throws(() => orderForPlace(ethUsdc, { ...place, ...patch }, signer), isCode('INVALID_ORDER'), JSON.stringify(patch));
    }
    assert.throws(() => orderForPlace(ethUsdc, place, { ...signer, maxFeeRate: MAX_FEE_RATE + 1 }), isCode('INVALID_ORDER'));
    assert.throws(() => orderForPlace(ethUsdc, place, { ...signer, nonce: 1n << 64n }), isCode('INVALID_ORDER'));
    assert.throws(() => orderForPlace({ ...ethUsdc, lotSize: 1n << 127n, tickSize: PRICE_SCALE }, { ...place, sizeLots: 2 }, signer), isCode('INVALID_ORDER'));
    assert.throws(() => orderForPlace({ ...ethUsdc, tickSize: 3n }, place, signer), isCode('INVALID_MARKET'));
  });

  it('orderForPlace: immediate orders (IOC, FOK, market) must carry a short signed deadline', () => {
    const now = 1_900_000_000n;
    const ioc = { isBuy: true, isMarket: false, immediate: true, priceTicks: 10, sizeLots: 1 };
    const mkt = { isBuy: false, isMarket: true, priceTicks: 10, sizeLots: 1 };
    for (const p of [ioc, mkt]) {
      assert.equal(orderForPlace(ethUsdc, p, { ...signer, now, expiry: now + MAX_IMMEDIATE_ORDER_LIFETIME }).expiry, now + MAX_IMMEDIATE_ORDER_LIFETIME);
      assert.equal(orderForPlace(ethUsdc, p, { ...signer, now, expiry: now }).expiry, now);
      // The GTC-style long expiry, a deadline one second too far, one in the past, and no clock at all.
      const signers: OrderSigner[] = [{ ...signer, now, expiry: now + 86_400n }, { ...signer, now, expiry: now + MAX_IMMEDIATE_ORDER_LIFETIME + 1n }, { ...signer, now, expiry: now - 1n }, signer];
      for (const s of signers) {
        assert.throws(() => orderForPlace(ethUsdc, p, s), isCode('INVALID_ORDER'), `${String(s.expiry)} ${String(s.now)}`);
      }
    }
    // A GTC limit order keeps its long expiry without a clock.
    assert.equal(orderForPlace(ethUsdc, { ...ioc, immediate: false }, { ...signer, expiry: now + 86_400n }).expiry, now + 86_400n);
  });

  it('localTraderAccount is deterministic per seed and account', () => {
    const a = localTraderAccount('parallax-dev', 1);
    assert.equal(localTraderAccount('parallax-dev', 1).address, a.address);
    assert.notEqual(localTraderAccount('parallax-dev', 2).address, a.address);
    assert.notEqual(localTraderAccount('parallax-dev2', 1).address, a.address);
    // Pinned: other tools derive the same keys from keccak256(abi.encodePacked(string seed, uint64 id)).
    assert.equal(a.address, '0xD89256dd10bAd26eE055E75B86a0e782BF129ff5');
    assert.throws(() => localTraderAccount('x', -1), isCode('INVALID_ORDER'));
    assert.throws(() => localTraderAccount('x', 0.5), isCode('INVALID_ORDER'));
  });
});

async function place(market: SettlementMarket, account: number, isBuy: boolean, priceTicks: number, sizeLots: number, maxFeeRate: number): Promise<SignedOrder> {
  const trader = localTraderAccount('markets-spec', account);
  const order = orderForPlace(market, { isBuy, isMarket: false, priceTicks, sizeLots }, { trader: trader.address, nonce: BigInt(account), expiry: 2_000_000_000n, maxFeeRate });
  return signOrder(trader, domain, order);
}

describe('batchInputFor', () => {
  const fees = { makerFeeRate: 1_000, takerFeeRate: 2_500 };

  it('maps sides from takerIsBuy, caps fee rates at the signed bound and lists each order once', async () => {
    const maker = await place(ethUsdc, 1, false, 200_000, 10, 500); // resting sell, signs at most 0.05%
    const taker1 = await place(ethUsdc, 2, true, 200_100, 4, 100_000);
    const taker2 = await place(ethUsdc, 3, true, 200_000, 6, 2_000);
    const makerBuy = await place(btcUsdc, 4, true, 10_000_000, 2, 100_000);
    const takerSell = await place(btcUsdc, 5, false, 9_000_000, 2, 100_000);
    const fills: MarketTradeFill[] = [
      { marketId: 1, trade: { makerOrder: maker, takerOrder: taker1, takerIsBuy: true, priceTicks: 200_000, sizeLots: 4 } },
      { marketId: 2, trade: { makerOrder: makerBuy, takerOrder: takerSell, takerIsBuy: false, priceTicks: 10_000_000, sizeLots: 2 } },
      { marketId: 1, trade: { makerOrder: maker, takerOrder: taker2, takerIsBuy: true, priceTicks: 200_000, sizeLots: 6 } },
    ];
    const input = batchInputFor(domain, marketOf, fills, fees);
    assert.deepEqual(input.orders, [taker1, maker, makerBuy, takerSell, taker2]);
    assert.deepEqual(input.fills, [
      // taker buys: taker pays 2,500, the maker's 1,000 is capped at its signed 500.
      { buyOrder: 0, sellOrder: 1, baseAmount: 4n * 10n ** 15n, price: 2_000_000_000n, buyFeeRate: 2_500, sellFeeRate: 500 },
      // taker sells: the buy order is the maker's.
      { buyOrder: 2, sellOrder: 3, baseAmount: 20_000n, price: 10n ** 21n, buyFeeRate: 1_000, sellFeeRate: 2_500 },
      // same maker order again (index 1); the taker's 2,500 is capped at its signed 2,000.
      { buyOrder: 4, sellOrder: 1, baseAmount: 6n * 10n ** 15n, price: 2_000_000_000n, buyFeeRate: 2_000, sellFeeRate: 500 },
    ]);
    assert.equal(input.domain, domain);
  });

  it('round-trips through the packed calldata: same orders, signatures intact, same fills', async () => {
    const maker = await place(ethUsdc, 11, true, 199_000, 20, 1_000);
    const takers = await Promise.all([12, 13, 14].map((a) => place(ethUsdc, a, false, 198_000, 5, 3_000)));
    const fills: MarketTradeFill[] = takers.map((t) => ({ marketId: 1, trade: { makerOrder: maker, takerOrder: t, takerIsBuy: false, priceTicks: 199_000, sizeLots: 5 } }));
    const input = batchInputFor(domain, marketOf, fills, fees);
    const encoded = encodeBatch(input);
    const decoded = decodeBatch(encoded.data);

    assert.equal(decoded.orders.length, 4);
    assert.deepEqual(new Set(decoded.orders.map((o) => o.signature)), new Set([maker, ...takers].map((o) => o.signature)));
    assert.deepEqual(decoded.orders, encoded.orders);
    for (const o of decoded.orders) {
      assert.equal(await recoverTypedDataAddress({ ...orderTypedData(domain, o), signature: o.signature }), o.trader);
    }
    assert.deepEqual(decoded.tokens, [ethUsdc.baseToken, ethUsdc.quoteToken]);
    assert.equal(decoded.fills.length, 3);
    decoded.fills.forEach((f, i) => {
      assert.deepEqual(decoded.orders[f.buyOrder], maker);
      assert.deepEqual(decoded.orders[f.sellOrder], takers[i]);
      assert.equal(f.baseAmount, 5n * 10n ** 15n);
      assert.equal(f.price, 1_990_000_000n);
      assert.equal(f.buyFeeRate, 1_000);
      assert.equal(f.sellFeeRate, 2_500);
    });
  });

  it('refuses trades that cannot map onto their market, naming the fill', async () => {
    const sell = await place(ethUsdc, 21, false, 100, 1, 0);
    const buy = await place(ethUsdc, 22, true, 100, 1, 0);
    const btcBuy = await place(btcUsdc, 23, true, 100, 1, 0);
    const ok: TradeFill = { makerOrder: sell, takerOrder: buy, takerIsBuy: true, priceTicks: 100, sizeLots: 1 };
    const run = (trade: TradeFill, marketId = 1, f = fees) => () => batchInputFor(domain, marketOf, [{ marketId, trade: ok }, { marketId, trade }], f);
    assert.doesNotThrow(run(ok));
    const fill1 = (e: unknown) => isCode('INVALID_FILL')(e) && (e as Error).message.startsWith('fill 1:');
    assert.throws(run({ ...ok, takerIsBuy: false }), fill1); // sides contradict takerIsBuy
    assert.throws(run({ ...ok, makerOrder: buy, takerOrder: buy }), fill1); // two buys
    assert.throws(run({ ...ok, takerOrder: btcBuy }), fill1); // other market's tokens
    assert.throws(run({ ...ok, sizeLots: 0 }), fill1);
    assert.throws(run(ok, 9), isCode('INVALID_MARKET'));
    assert.throws(() => batchInputFor(domain, () => ethUsdc, [{ marketId: 2, trade: ok }], fees), isCode('INVALID_MARKET'));
    assert.throws(() => batchInputFor(domain, () => ({ ...ethUsdc, tickSize: 7n }), [{ marketId: 1, trade: ok }], fees), isCode('INVALID_MARKET'));
    assert.throws(run(ok, 1, { makerFeeRate: MAX_FEE_RATE + 1, takerFeeRate: 0 }), isCode('INVALID_BATCH'));
    assert.throws(run(ok, 1, { makerFeeRate: 0, takerFeeRate: -1 }), isCode('INVALID_BATCH'));
    assert.throws(run(ok, 1, { makerFeeRate: -11, takerFeeRate: 10 }), isCode('INVALID_BATCH')); // rebate above the taker fee
    assert.throws(() => batchInputFor(domain, () => ({ ...ethUsdc, makerFeeRate: -11, takerFeeRate: 10 }), [{ marketId: 1, trade: ok }], fees), isCode('INVALID_MARKET'));
    assert.throws(() => batchInputFor(domain, () => ({ ...ethUsdc, makerFeeRate: -1 }), [{ marketId: 1, trade: ok }], fees), isCode('INVALID_MARKET'));
  });

  it("turns a negative maker rate into a rebate on the maker's side, capped at the taker's applied rate; a market's own rates win", async () => {
    const maker = await place(ethUsdc, 31, false, 200_000, 10, 0); // a maker that signs no fee at all
    const taker = await place(ethUsdc, 32, true, 200_000, 4, 300); // signs at most 300
    const makerBuy = await place(ethUsdc, 33, true, 200_000, 4, 0);
    const takerSell = await place(ethUsdc, 34, false, 200_000, 4, 100_000);
    const fill = (m: SignedOrder, t: SignedOrder, takerIsBuy: boolean): MarketTradeFill => ({ marketId: 1, trade: { makerOrder: m, takerOrder: t, takerIsBuy, priceTicks: 200_000, sizeLots: 4 } });
    const rebating = { makerFeeRate: -200, takerFeeRate: 500 };
    const rates = (input: ReturnType<typeof batchInputFor>) => input.fills.map((f) => [f.buyFeeRate, f.sellFeeRate]);
    // Taker buys at min(500, 300) = 300; the maker (seller) gets a 200 rebate (its signed 0 bounds fees only).
    assert.deepEqual(rates(batchInputFor(domain, marketOf, [fill(maker, taker, true), fill(makerBuy, takerSell, false)], rebating)), [[300, -200], [-200, 500]]);
    // A rebate above what the taker pays here is capped at the taker's rate: 300.
    assert.deepEqual(rates(batchInputFor(domain, marketOf, [fill(maker, taker, true)], { makerFeeRate: -500, takerFeeRate: 500 })), [[300, -300]]);
    // A taker that pays nothing: no rebate (and never -0).
    const freeTaker = await place(ethUsdc, 35, true, 200_000, 4, 0);
    assert.ok(Object.is(batchInputFor(domain, marketOf, [fill(maker, freeTaker, true)], rebating).fills[0]!.sellFeeRate, 0));
    // The market's own rates override the default ones.
    const own = (id: number) => (id === 1 ? { ...ethUsdc, makerFeeRate: -100, takerFeeRate: 250 } : marketOf(id));
    assert.deepEqual(rates(batchInputFor(domain, own, [fill(makerBuy, takerSell, false)], fees)), [[-100, 250]]);
    // Every produced fill passes the contract's rebate checks.
    for (const f of batchInputFor(domain, marketOf, [fill(maker, taker, true), fill(makerBuy, takerSell, false)], rebating).fills) {
      assert.equal(fillFeeError(quoteAmount(f.baseAmount, f.price), f.buyFeeRate ?? 0, f.sellFeeRate ?? 0), undefined);
    }
  });

  it('fillFeeRates never yields a rebate the contract would refuse (random rates, bounds and amounts)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_FEE_RATE }),
        fc.integer({ min: 0, max: MAX_FEE_RATE }),
        fc.integer({ min: 0, max: MAX_FEE_RATE }),
        fc.integer({ min: 0, max: MAX_FEE_RATE }),
        fc.boolean(),
        fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }),
        (taker, makerMag, takerMax, makerMax, takerIsBuy, quote) => {
          const makerFeeRate = -Math.min(makerMag, taker);
          const r = fillFeeRates({ makerFeeRate, takerFeeRate: taker }, takerIsBuy, takerMax, makerMax);
          assert.equal(fillFeeError(quote, r.buyFeeRate, r.sellFeeRate), undefined);
          const takerRate = takerIsBuy ? r.buyFeeRate : r.sellFeeRate;
          assert.ok(takerRate >= 0 && takerRate <= takerMax);
        },
      ),
    );
  });
});

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_FEE_RATE } from './constants.js';
import { feeAmount, fillFeeError, fillFees, rebateAmount, signedFee } from './fees.js';

const quoteArb = fc.bigInt({ min: 0n, max: (1n << 196n) - 1n }); // the contract's quote amounts stay below 2^256 / 1e18

test('fees and rebates round down: the dust stays with the fee recipient', () => {
  assert.equal(feeAmount(999n, 1_000), 0n);
  assert.equal(feeAmount(1_000n, 1_000), 1n);
  assert.equal(feeAmount(1_999_999n, 1), 1n);
  assert.equal(feeAmount(1_000n, -1_000), 0n); // a negative rate charges no fee
  assert.equal(rebateAmount(999n, -1_000), 0n);
  assert.equal(rebateAmount(1_000n, -1_000), 1n);
  assert.equal(rebateAmount(1_999_999n, -1), 1n);
  assert.equal(rebateAmount(1_000n, 1_000), 0n); // a fee rate pays no rebate
  assert.equal(signedFee(1_999_999n, -1), -1n);
  assert.equal(signedFee(1_999_999n, 1), 1n);
  // Equal rates: the rebate equals the fee; the taker's fee of 1_999 at 500 is 0, so is a rebate at -500.
  assert.deepEqual(fillFees(1_999n, 500, -500), { buyFee: 0n, sellFee: 0n, buyRebate: 0n, sellRebate: 0n, net: 0n });
  assert.deepEqual(fillFees(10_000n, 300, -100), { buyFee: 3n, sellFee: 0n, buyRebate: 0n, sellRebate: 1n, net: 2n });
});

test('fillFeeError names what the contract reverts on', () => {
  assert.equal(fillFeeError(1_000_000n, 100, -100), undefined);
  assert.equal(fillFeeError(1_000_000n, -100, 100), undefined);
  assert.equal(fillFeeError(1_000_000n, 100, -101), 'REBATE_EXCEEDS_FEE');
  assert.equal(fillFeeError(1_000_000n, -101, 100), 'REBATE_EXCEEDS_FEE');
  assert.equal(fillFeeError(1_000_000n, 0, -1), 'REBATE_EXCEEDS_FEE'); // a rebate on a fill with no fee
  assert.equal(fillFeeError(999n, 0, -1_000), undefined); // ...unless it rounds to nothing
  assert.equal(fillFeeError(1n, -1, -1), 'REBATE_ON_BOTH_SIDES'); // even when both round to nothing
});

test('a rebate at most the taker rate never exceeds the taker fee, and the recipient never goes negative', () => {
  fc.assert(
    fc.property(quoteArb, fc.integer({ min: 0, max: MAX_FEE_RATE }), fc.integer({ min: 0, max: MAX_FEE_RATE }), fc.boolean(), (quote, taker, r, takerBuys) => {
      const rebate = -Math.min(r, taker);
      const [buy, sell] = takerBuys ? [taker, rebate] : [rebate, taker];
      const f = fillFees(quote, buy, sell);
      assert.equal(fillFeeError(quote, buy, sell), undefined);
      assert.ok(f.net >= 0n);
      assert.equal(signedFee(quote, buy) + signedFee(quote, sell), f.net);
      // The exact values: floor of the real products.
      assert.equal(f.buyFee * 1_000_000n <= quote * BigInt(Math.max(buy, 0)), true);
      assert.equal((f.buyFee + 1n) * 1_000_000n > quote * BigInt(Math.max(buy, 0)), true);
    }),
  );
});

// The risk ledger charges fees and pays maker rebates with exactly the contract's arithmetic: for random fee
// configurations (maker rebates included), prices, sizes and sides, what one trade moves in the ledger equals
// what libs/chain's fee helpers (the contract's rounding) and settlement's fill rates (fillFeeRates) say the
// chain will move, to the base unit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fillFeeRates, fillFees, signedFee } from '@parallax/chain';
import { Side } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, testMarket } from '../testing/fixtures.js';
import { SingleProcessExchange } from '../testing/single-process.js';
import { MAX_FEE_RATE } from './types.js';

const FUNDS = 10n ** 30n;

describe('risk engine fees and rebates', () => {
  it('one trade moves exactly the contract fee/rebate amounts (random rates, prices, sizes, sides)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_FEE_RATE }),
        fc.integer({ min: 0, max: 2 * MAX_FEE_RATE }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 }),
        (taker, makerPick, price, lots, takerBuys, shards) => {
          // maker in -taker..MAX_FEE_RATE: the half of the picks below MAX_FEE_RATE become rebates.
          const maker = makerPick <= MAX_FEE_RATE ? -Math.min(makerPick, taker) : makerPick - MAX_FEE_RATE;
          const m = testMarket(1, { maker, taker });
          const x = new SingleProcessExchange({ shards, markets: [m] });
          const makerAcct = accountAddress(1);
          const takerAcct = accountAddress(2);
          for (const a of [makerAcct, takerAcct]) {
            for (const t of [QUOTE, m.baseToken]) assert.equal(x.submit({ type: 'deposit', account: a, token: t, amount: FUNDS }).ok, true);
          }
          assert.equal(x.submit(placeRequest(makerAcct, m, { isBuy: !takerBuys, priceTicks: price, lots, nonce: 1n })).ok, true);
          assert.equal(x.submit(placeRequest(takerAcct, m, { isBuy: takerBuys, priceTicks: price, lots, nonce: 1n })).ok, true);
          assert.equal(x.trades.length, 1);
          assert.equal(x.trades[0]!.takerSide, takerBuys ? Side.Buy : Side.Sell);

          const quote = BigInt(lots) * BigInt(price) * ((m.lotSize * m.tickSize) / 10n ** 18n);
          // The rates settlement puts in the fill (both orders signed maxFeeRate 100_000, the fixture default).
          const rates = fillFeeRates({ makerFeeRate: maker, takerFeeRate: taker }, takerBuys, 100_000, 100_000);
          const [buyer, seller] = takerBuys ? [takerAcct, makerAcct] : [makerAcct, takerAcct];
          const available = (a: typeof buyer) => x.engineOf(a).balance(a, QUOTE).available;
          assert.equal(available(buyer), FUNDS - quote - signedFee(quote, rates.buyFeeRate));
          assert.equal(available(seller), FUNDS + quote - signedFee(quote, rates.sellFeeRate));
          const fees = x.engines.reduce((sum, e) => sum + e.totals(QUOTE).fees, 0n);
          assert.equal(fees, fillFees(quote, rates.buyFeeRate, rates.sellFeeRate).net);
          assert.ok(fees >= 0n);
          assert.deepEqual(x.checkInvariants(), []);
        },
      ),
      { numRuns: 300 },
    );
  });
});

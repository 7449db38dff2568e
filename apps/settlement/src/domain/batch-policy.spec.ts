import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GAS_MODEL, modelledGas, selectBatch, type BatchLimits, type CandidateFill } from './batch-policy.js';

interface TestFill extends CandidateFill {
  readonly id: number;
}

/** Marks a signed order that has not arrived yet. */
const MISSING = null;

/** A fill with two orders of its own (`m<id>`, `t<id>`) unless told otherwise. */
function fill(id: number, receivedAtMs: number, makerOrder: string | null = `m${id}`, takerOrder: string | null = `t${id}`): TestFill {
  return { id, receivedAtMs, makerOrder: makerOrder ?? undefined, takerOrder: takerOrder ?? undefined };
}

const ids = (fills: readonly TestFill[]): number[] => fills.map((f) => f.id);

/** Limits under which nothing closes unless the test says so. */
const NEVER: BatchLimits = { maxFills: 1_000, maxGas: 1_000_000_000, maxAgeMs: 1_000_000, signedOrderWaitMs: 1_000_000 };
const limits = (over: Partial<BatchLimits>): BatchLimits => ({ ...NEVER, ...over });

/** Gas of `n` fills that share no order. */
const distinct = (n: number): number => modelledGas(2 * n, n);

describe('modelledGas', () => {
  it('is the per-batch cost plus the per-order and per-fill costs', () => {
    assert.equal(modelledGas(0, 0), GAS_MODEL.perBatch);
    assert.equal(modelledGas(2, 1), 60_000 + 2 * 12_000 + 9_000);
    assert.equal(modelledGas(7, 5), 60_000 + 7 * 12_000 + 5 * 9_000);
  });
});

describe('selectBatch', () => {
  it('returns nothing for no pending fills', () => {
    const s = selectBatch<TestFill>([], 10_000, limits({ maxAgeMs: 0 }));
    assert.deepEqual(s, { take: [], reason: undefined, modelledGas: 0, orphaned: [] });
  });

  it('builds nothing while neither count, gas nor age holds', () => {
    const pending = [fill(1, 100), fill(2, 200)];
    const s = selectBatch(pending, 1_099, limits({ maxFills: 3, maxGas: distinct(3), maxAgeMs: 1_000 }));
    assert.deepEqual(s.take, []);
    assert.equal(s.reason, undefined);
    assert.equal(s.modelledGas, 0);
    assert.deepEqual(s.orphaned, []);
  });

  describe('count', () => {
    it('closes exactly when maxFills ready fills are pending', () => {
      const l = limits({ maxFills: 3 });
      const two = selectBatch([fill(1, 0), fill(2, 0)], 0, l);
      assert.equal(two.reason, undefined);
      assert.deepEqual(two.take, []);

      const three = selectBatch([fill(1, 0), fill(2, 0), fill(3, 0)], 0, l);
      assert.equal(three.reason, 'count');
      assert.deepEqual(ids(three.take), [1, 2, 3]);
      assert.equal(three.modelledGas, distinct(3));
    });

    it('takes the first maxFills in FIFO order and leaves the rest', () => {
      const pending = [fill(5, 40), fill(3, 10), fill(9, 30), fill(1, 20), fill(2, 0)];
      const s = selectBatch(pending, 40, limits({ maxFills: 3 }));
      assert.equal(s.reason, 'count');
      assert.deepEqual(ids(s.take), [5, 3, 9]);
      // The very objects passed in, so the caller can map back to its rows.
      assert.equal(s.take[0], pending[0]);
    });

    it('a batch of one closes at maxFills = 1', () => {
      const s = selectBatch([fill(1, 0), fill(2, 0)], 0, limits({ maxFills: 1 }));
      assert.equal(s.reason, 'count');
      assert.deepEqual(ids(s.take), [1]);
      assert.equal(s.modelledGas, distinct(1));
    });
  });

  describe('gas', () => {
    it('takes fills up to maxGas inclusive and closes before the fill that would exceed it', () => {
      const pending = [fill(1, 0), fill(2, 0), fill(3, 0), fill(4, 0)];
      const exact = selectBatch(pending, 0, limits({ maxGas: distinct(3) }));
      assert.equal(exact.reason, 'gas');
      assert.deepEqual(ids(exact.take), [1, 2, 3]);
      assert.equal(exact.modelledGas, distinct(3));

      const short = selectBatch(pending, 0, limits({ maxGas: distinct(3) - 1 }));
      assert.equal(short.reason, 'gas');
      assert.deepEqual(ids(short.take), [1, 2]);
      assert.equal(short.modelledGas, distinct(2));
    });

    it('does not close on gas while the pending fills fit with room for more', () => {
      const s = selectBatch([fill(1, 0), fill(2, 0), fill(3, 0)], 0, limits({ maxGas: distinct(4) }));
      assert.equal(s.reason, undefined);
      assert.deepEqual(s.take, []);
    });

    it('always takes the first fill, even when it alone is over the budget', () => {
      const s = selectBatch([fill(1, 0), fill(2, 0)], 0, limits({ maxGas: 50_000 }));
      assert.equal(s.reason, 'gas');
      assert.deepEqual(ids(s.take), [1]);
      assert.equal(s.modelledGas, distinct(1));
      assert.ok(s.modelledGas > 50_000);
    });

    it('does not skip the over-budget fill to take a cheaper one behind it (FIFO)', () => {
      // Fill 3 only reuses orders of fill 1, so it alone would fit after fill 1; fill 2 does not.
      const pending = [fill(1, 0), fill(2, 0), fill(3, 0, 'm1', 't1')];
      const s = selectBatch(pending, 0, limits({ maxGas: modelledGas(2, 2) }));
      assert.equal(s.reason, 'gas');
      assert.deepEqual(ids(s.take), [1]);
    });
  });

  describe('age', () => {
    it('closes only once the oldest ready fill is maxAgeMs old', () => {
      const pending = [fill(1, 100), fill(2, 500)];
      const l = limits({ maxAgeMs: 1_000 });
      assert.equal(selectBatch(pending, 1_099, l).reason, undefined);
      const s = selectBatch(pending, 1_100, l);
      assert.equal(s.reason, 'age');
      assert.deepEqual(ids(s.take), [1, 2]);
      assert.equal(s.modelledGas, distinct(2));
    });

    it('measures age on the oldest fill even when it is not first in the list', () => {
      const pending = [fill(1, 500), fill(2, 100)];
      assert.equal(selectBatch(pending, 1_099, limits({ maxAgeMs: 1_000 })).reason, undefined);
      assert.equal(selectBatch(pending, 1_100, limits({ maxAgeMs: 1_000 })).reason, 'age');
    });

    it('ignores the age of fills still waiting for a signed order', () => {
      const pending = [fill(1, 0, MISSING), fill(2, 600)];
      const l = limits({ maxAgeMs: 1_000 });
      const early = selectBatch(pending, 1_100, l);
      assert.equal(early.reason, undefined);
      assert.deepEqual(early.take, []);
      const late = selectBatch(pending, 1_600, l);
      assert.equal(late.reason, 'age');
      assert.deepEqual(ids(late.take), [2]);
    });

    it('maxAgeMs = 0 closes a batch of whatever is ready now', () => {
      const s = selectBatch([fill(1, 50)], 50, limits({ maxAgeMs: 0 }));
      assert.equal(s.reason, 'age');
      assert.deepEqual(ids(s.take), [1]);
    });
  });

  describe('fills missing a signed order', () => {
    it('do not block the ready fills behind them', () => {
      const pending = [fill(1, 0, MISSING), fill(2, 0, 'm2', MISSING), fill(3, 0), fill(4, 0), fill(5, 0)];
      const s = selectBatch(pending, 0, limits({ maxFills: 2 }));
      assert.equal(s.reason, 'count');
      assert.deepEqual(ids(s.take), [3, 4]);
      assert.deepEqual(s.orphaned, []);
    });

    it('are reported orphaned only once they have waited signedOrderWaitMs', () => {
      const pending = [fill(1, 1_000, MISSING), fill(2, 2_000, 'm2', MISSING), fill(3, 3_000, MISSING, MISSING)];
      const l = limits({ signedOrderWaitMs: 500 });
      assert.deepEqual(ids(selectBatch(pending, 1_499, l).orphaned), []);
      assert.deepEqual(ids(selectBatch(pending, 1_500, l).orphaned), [1]);
      assert.deepEqual(ids(selectBatch(pending, 2_500, l).orphaned), [1, 2]);
      const all = selectBatch(pending, 3_500, l);
      assert.deepEqual(ids(all.orphaned), [1, 2, 3]);
      assert.deepEqual(all.take, []);
      assert.equal(all.reason, undefined);
    });

    it('are reported orphaned also behind a batch that closed, and never taken', () => {
      const pending = [fill(1, 0), fill(2, 0), fill(3, 0, MISSING), fill(4, 0), fill(5, 0, 'm5', MISSING)];
      const s = selectBatch(pending, 10_000, limits({ maxFills: 1, signedOrderWaitMs: 10_000 }));
      assert.deepEqual(ids(s.take), [1]);
      assert.deepEqual(ids(s.orphaned), [3, 5]);
    });

    it('a ready fill is never orphaned however old', () => {
      const s = selectBatch([fill(1, 0)], 1e9, limits({ signedOrderWaitMs: 0, maxFills: 5 }));
      assert.deepEqual(s.orphaned, []);
    });
  });

  describe('shared orders', () => {
    it('counts a maker order in many fills once', () => {
      const pending = [fill(1, 0, 'maker'), fill(2, 0, 'maker'), fill(3, 0, 'maker')];
      const s = selectBatch(pending, 0, limits({ maxFills: 3 }));
      assert.equal(s.modelledGas, modelledGas(4, 3));
    });

    it('counts a taker order sweeping many makers once', () => {
      const pending = [fill(1, 0, 'm1', 'taker'), fill(2, 0, 'm2', 'taker'), fill(3, 0, 'm3', 'taker')];
      const s = selectBatch(pending, 0, limits({ maxFills: 3 }));
      assert.equal(s.modelledGas, modelledGas(4, 3));
    });

    it('counts an order once when it is maker in one fill and taker in another', () => {
      const pending = [fill(1, 0, 'a', 'b'), fill(2, 0, 'b', 'c'), fill(3, 0, 'c', 'a')];
      const s = selectBatch(pending, 0, limits({ maxFills: 3 }));
      assert.equal(s.modelledGas, modelledGas(3, 3));
    });

    it('counts an order once when it is both sides of one fill', () => {
      const s = selectBatch([fill(1, 0, 'x', 'x')], 0, limits({ maxFills: 1 }));
      assert.equal(s.modelledGas, modelledGas(1, 1));
      // ...also when deciding whether the fill fits the gas budget.
      const fits = selectBatch([fill(1, 0), fill(2, 0, 'x', 'x'), fill(3, 0)], 0, limits({ maxGas: modelledGas(3, 2) }));
      assert.equal(fits.reason, 'gas');
      assert.deepEqual(ids(fits.take), [1, 2]);
      assert.equal(fits.modelledGas, modelledGas(3, 2));
    });

    it('lets more fills into the gas budget when they share orders', () => {
      const maxGas = modelledGas(4, 3);
      assert.ok(distinct(3) > maxGas, 'three unshared fills would not fit');
      const pending = [fill(1, 0, 'maker'), fill(2, 0, 'maker'), fill(3, 0, 'maker'), fill(4, 0, 'maker')];
      const s = selectBatch(pending, 0, limits({ maxGas }));
      assert.equal(s.reason, 'gas');
      assert.deepEqual(ids(s.take), [1, 2, 3]);
      assert.equal(s.modelledGas, maxGas);
    });
  });

  it('property: take is a FIFO prefix of the ready fills, within maxFills and (beyond one fill) within maxGas', () => {
    const orderKey = fc.option(fc.constantFrom('o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9', 'o10', 'o11'), { nil: undefined, freq: 6 });
    const pendingArb = fc.array(
      fc.record({ receivedAtMs: fc.integer({ min: 0, max: 10_000 }), makerOrder: orderKey, takerOrder: orderKey }),
      { maxLength: 40 },
    );
    const limitsArb = fc.record({
      maxFills: fc.integer({ min: 1, max: 25 }),
      maxGas: fc.integer({ min: 0, max: 1_500_000 }),
      maxAgeMs: fc.integer({ min: 0, max: 12_000 }),
      signedOrderWaitMs: fc.integer({ min: 0, max: 12_000 }),
    });
    fc.assert(
      fc.property(pendingArb, fc.integer({ min: 0, max: 20_000 }), limitsArb, (raw, nowMs, l) => {
        const pending: TestFill[] = raw.map((f, id) => ({ ...f, id }));
        const s = selectBatch(pending, nowMs, l);
        const ready = pending.filter((f) => f.makerOrder !== undefined && f.takerOrder !== undefined);
        const waiting = pending.filter((f) => f.makerOrder === undefined || f.takerOrder === undefined);

        // FIFO: the batch is the ready fills from the front, in order, the same objects.
        assert.ok(s.take.length <= ready.length);
        for (const [i, f] of s.take.entries()) assert.equal(f, ready[i]);
        assert.ok(s.take.length <= l.maxFills);

        const orders = new Set(s.take.flatMap((f) => [f.makerOrder, f.takerOrder]));
        if (s.take.length === 0) {
          assert.equal(s.reason, undefined);
          assert.equal(s.modelledGas, 0);
        } else {
          assert.notEqual(s.reason, undefined);
          assert.equal(s.modelledGas, modelledGas(orders.size, s.take.length));
          if (s.take.length > 1) assert.ok(s.modelledGas <= l.maxGas, `gas ${s.modelledGas} > ${l.maxGas}`);
        }
        if (s.reason === 'count') assert.equal(s.take.length, l.maxFills);
        if (s.reason === 'age') {
          assert.equal(s.take.length, ready.length);
          assert.ok(nowMs - Math.min(...ready.map((f) => f.receivedAtMs)) >= l.maxAgeMs);
        }
        if (s.reason === 'gas') {
          // The next ready fill exists and would have pushed the batch over maxGas.
          const next = ready[s.take.length]!;
          const withNext = new Set([...orders, next.makerOrder, next.takerOrder]);
          assert.ok(modelledGas(withNext.size, s.take.length + 1) > l.maxGas);
        }
        if (s.reason === undefined && ready.length > 0) {
          // Nothing held: fewer than maxFills, all within gas (or only one), none old enough.
          assert.ok(ready.length < l.maxFills);
          assert.ok(nowMs - Math.min(...ready.map((f) => f.receivedAtMs)) < l.maxAgeMs);
        }

        assert.deepEqual(
          s.orphaned,
          waiting.filter((f) => nowMs - f.receivedAtMs >= l.signedOrderWaitMs),
        );
      }),
      { numRuns: 500 },
    );
  });
});

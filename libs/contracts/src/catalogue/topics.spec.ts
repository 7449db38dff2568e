import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContractError } from '../errors.js';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, marketKey, partitionForMarket, SETTLEMENT_STATUS_KEY, settlementTopicSpecs, topicSpecs } from './topics.js';

const invalid = (e: unknown) => e instanceof ContractError && e.code === 'INVALID_FIELD';

describe('topics', () => {
  it('names the agreed default topics', () => {
    assert.deepEqual(DEFAULT_TOPICS, {
      orders: 'parallax.orders.v1',
      marketEvents: 'parallax.market-events.v1',
      snapshots: 'parallax.engine-snapshots.v1',
      deadLetters: 'parallax.dead-letters.v1',
    });
  });

  it('gives orders, events and snapshots the same partition count; only snapshots compacted', () => {
    const specs = topicSpecs(DEFAULT_TOPICS, 12);
    assert.deepEqual(
      specs.map((s) => [s.name, s.partitions, s.compacted === true]),
      [
        ['parallax.orders.v1', 12, false],
        ['parallax.market-events.v1', 12, false],
        ['parallax.engine-snapshots.v1', 12, true],
        ['parallax.dead-letters.v1', 12, false],
      ],
    );
  });

  it('refuses bad partition counts and topic names', () => {
    for (const p of [0, -1, 1.5, NaN, 10_001]) assert.throws(() => topicSpecs(DEFAULT_TOPICS, p), invalid, String(p));
    assert.throws(() => topicSpecs({ ...DEFAULT_TOPICS, orders: 'has space' }, 1), invalid);
    assert.throws(() => topicSpecs({ ...DEFAULT_TOPICS, snapshots: DEFAULT_TOPICS.orders }, 1), invalid);
  });

  it('partitionForMarket is marketId % partitions', () => {
    assert.equal(partitionForMarket(7, 4), 3);
    assert.equal(partitionForMarket(8, 4), 0);
    assert.equal(partitionForMarket(1, 1), 0);
    fc.assert(fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 10_000 }), (m, p) => partitionForMarket(m, p) === m % p));
  });

  it('spreads densely numbered markets evenly: partition loads differ by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 256 }), (markets, partitions) => {
        const load = new Array<number>(partitions).fill(0);
        for (let m = 1; m <= markets; m++) load[partitionForMarket(m, partitions)]!++;
        assert.ok(Math.max(...load) - Math.min(...load) <= 1, `${markets} markets over ${partitions}: ${load.join(',')}`);
      }),
    );
  });

  it('refuses invalid market ids and partition counts', () => {
    for (const [m, p] of [[-1, 4], [1.5, 4], [2 ** 53, 4], [1, 0], [1, 2.5]] as const) {
      assert.throws(() => partitionForMarket(m, p), invalid, `${m} ${p}`);
    }
    assert.equal(marketKey(42), '42');
    assert.throws(() => marketKey(-1), invalid);
  });

  it('settlement topics: signed orders placed like orders, status in one partition', () => {
    assert.deepEqual(DEFAULT_SETTLEMENT_TOPICS, { signedOrders: 'parallax.signed-orders.v1', settlementStatus: 'parallax.settlement-status.v1' });
    assert.deepEqual(settlementTopicSpecs(DEFAULT_SETTLEMENT_TOPICS, 12), [
      { name: 'parallax.signed-orders.v1', partitions: 12 },
      { name: 'parallax.settlement-status.v1', partitions: 1 },
    ]);
    // The orders topic's count for signed orders: the same market lands in the same partition number.
    const ordersSpec = topicSpecs(DEFAULT_TOPICS, 12)[0]!;
    assert.equal(settlementTopicSpecs(DEFAULT_SETTLEMENT_TOPICS, ordersSpec.partitions)[0]!.partitions, ordersSpec.partitions);
    assert.equal(SETTLEMENT_STATUS_KEY, 'settlement');
    for (const p of [0, 1.5, 10_001]) assert.throws(() => settlementTopicSpecs(DEFAULT_SETTLEMENT_TOPICS, p), invalid, String(p));
    assert.throws(() => settlementTopicSpecs({ ...DEFAULT_SETTLEMENT_TOPICS, settlementStatus: 'a b' }, 1), invalid);
    assert.throws(() => settlementTopicSpecs({ signedOrders: 'x', settlementStatus: 'x' }, 1), invalid);
  });
});

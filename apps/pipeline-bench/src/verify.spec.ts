import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultMarkets, encodeCommandBatch, MarketCatalogue, partitionForMarket } from '@parallax/contracts';
import { generateCommands } from '@parallax/load-generator';
import { PartitionEngine } from '@parallax/matching';
import type { ConsumedMessage } from '@parallax/transport';
import { compare, EventCollector, percentile, replayReference } from './verify.js';

const SEED = 7;
const MARKETS = 4;
const PARTITIONS = 2;
const COUNT = 4_000;

/** What a correct pipeline would put on the market-events topic for the seeded workload (batches of 25). */
function pipelineOutput(): ConsumedMessage[] {
  const catalogue = new MarketCatalogue(defaultMarkets(MARKETS));
  const engines = [0, 1].map((p) => new PartitionEngine({ partition: p, partitions: PARTITIONS, catalogue }));
  const offsets = [0, 0];
  const out: ConsumedMessage[] = [];
  for (const [marketId, batches] of generateCommands(SEED, MARKETS, COUNT, { batchSize: 25 })) {
    const p = partitionForMarket(marketId, PARTITIONS);
    for (const b of batches) {
      const msg: ConsumedMessage = { topic: 'o', partition: p, offset: offsets[p]!++, key: null, value: encodeCommandBatch(b), timestamp: 0, headers: {} };
      for (const o of engines[p]!.process([msg]).outputs) out.push({ topic: 'e', partition: p, offset: out.length, key: o.key, value: o.value, timestamp: 0, headers: {} });
    }
  }
  return out;
}

describe('pipeline verification', () => {
  const expected = replayReference(SEED, MARKETS, PARTITIONS, COUNT);
  const output = pipelineOutput();

  it('the reference replay is deterministic and independent of batch size', () => {
    const again = replayReference(SEED, MARKETS, PARTITIONS, COUNT, 7);
    assert.deepEqual([...again.perMarket], [...expected.perMarket]);
    assert.equal(expected.perMarket.size, MARKETS);
    const other = replayReference(SEED + 1, MARKETS, PARTITIONS, COUNT);
    assert.notDeepEqual([...other.perMarket], [...expected.perMarket]);
  });

  it('accepts the complete, ordered output of a correct pipeline', () => {
    const c = new EventCollector();
    c.add(output);
    assert.deepEqual(compare(c, expected), []);
    assert.equal(c.caughtUp(new Map([[0, 1]])), true);
  });

  it('reports a lost event batch as a gap', () => {
    const c = new EventCollector();
    c.add(output.filter((_, i) => i !== 10));
    assert.equal(c.gaps, 1);
    assert.notDeepEqual(compare(c, expected), []);
  });

  it('reports a redelivered event batch as a duplicate', () => {
    const c = new EventCollector();
    c.add([...output.slice(0, 20), output[15]!, ...output.slice(20)]);
    assert.equal(c.duplicates, 1);
    assert.ok(compare(c, expected).some((p) => p.includes('duplicate')));
  });

  it('reports missing tail events and a different command count as a mismatch', () => {
    const c = new EventCollector();
    c.add(output.slice(0, -1));
    assert.ok(compare(c, expected).some((p) => p.includes('reference seq')));
    const full = new EventCollector();
    full.add(output);
    assert.notDeepEqual(compare(full, replayReference(SEED, MARKETS, PARTITIONS, COUNT - 1)), []);
  });

  it('splits latency samples at the end of the warm-up by when their command was due', () => {
    const c = new EventCollector();
    c.add(output.slice(0, 3));
    assert.equal(c.sentAts.length, 3);
    assert.equal(c.latencies.length, 3);
    // Three samples due at t, t+1000, t+2000 ms with latencies 300, 20, 10.
    c.minSentAtMs = 1_000;
    c.sentAts = [1_000, 2_000, 3_000];
    c.latencies = [300, 20, 10];
    const { measured, warmup } = c.latencySplit(1_000);
    assert.deepEqual([...warmup], [300]);
    assert.deepEqual([...measured], [10, 20]);
    const none = c.latencySplit(0);
    assert.deepEqual([...none.measured], [10, 20, 300]);
    assert.equal(none.warmup.length, 0);
  });

  it('percentile picks the nearest rank', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.99), 4);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });
});

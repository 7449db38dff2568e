// Exactly-once audit of a finished run: every good input message of the orders topic is matched, message by
// message, against a single-process replay of the test's own list of good command batches. Stronger than
// comparing folded streams: it pins each EventBatch to the input offset that produced it.
import assert from 'node:assert/strict';
import {
  decodeEventBatch,
  encodeCommandBatch,
  partitionForMarket,
  type CommandBatch,
  type EventBatch,
} from '@parallax/contracts';
import { EventEncoder, OrderBook } from '@parallax/order-book';
import type { ConsumedMessage, Transport } from '@parallax/transport';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { applyAtLogTime, assertSameStreams, engineMarketConfig, goodInputs, readPartitions, readStreams, referenceStreams, sleep } from './test-support.js';

export { readPartitions } from './test-support.js';

interface Expected {
  readonly inputPartition: number;
  readonly inputOffset: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly stateHash: string;
  readonly events: Buffer;
}

/**
 * Per market, the EventBatch each good input message must produce (none when it produced no event): the
 * test's `good` batches replayed on one OrderBook per market, aligned with the orders topic's good messages
 * (which must carry exactly those batches, in that order).
 */
function expectedBatches(config: MatchingEngineConfig, orders: readonly ConsumedMessage[][], good: readonly CommandBatch[]): Map<number, Expected[]> {
  const inputs = goodInputs(config, orders);
  const byMarket = new Map<number, CommandBatch[]>();
  for (const b of good) byMarket.set(b.marketId, [...(byMarket.get(b.marketId) ?? []), b]);
  assert.deepEqual([...inputs.keys()].sort((a, b) => a - b), [...byMarket.keys()].sort((a, b) => a - b), 'markets with good input on the orders topic');
  const out = new Map<number, Expected[]>();
  for (const [marketId, batches] of byMarket) {
    const msgs = inputs.get(marketId)!;
    assert.equal(msgs.length, batches.length, `market ${marketId}: good messages on the orders topic`);
    const enc = new EventEncoder();
    const book = new OrderBook(engineMarketConfig(config, marketId), enc);
    const list: Expected[] = [];
    batches.forEach((b, i) => {
      const { msg, batch } = msgs[i]!;
      assert.ok(
        Buffer.from(encodeCommandBatch({ ...b, sentAtMs: batch.sentAtMs })).equals(Buffer.from(msg.value)),
        `market ${marketId}: good batch ${i} differs from the orders message at ${msg.partition}/${msg.offset}`,
      );
      enc.reset();
      const before = book.sequence;
      applyAtLogTime(book, b.commands, msg.timestamp);
      if (book.sequence === before) return;
      list.push({
        inputPartition: msg.partition,
        inputOffset: msg.offset,
        firstSeq: before + 1,
        lastSeq: book.sequence,
        stateHash: book.stateHash(),
        events: Buffer.from(enc.bytes()),
      });
    });
    out.set(marketId, list);
  }
  return out;
}

export interface ExactlyOnceReport {
  readonly markets: number;
  readonly eventBatches: number;
  readonly goodMessages: number;
}

/**
 * Asserts, from the committed contents of the topics:
 * - every EventBatch sits on its market's partition, and no (market, inputOffset) appears twice except as
 *   consecutive parts of one input whose events exceeded one message (merged back before comparing);
 * - per market, sequences are gap-free from 1 and input offsets strictly increase;
 * - the EventBatches are exactly, in order, those of a single-process replay of `good` (same input offset,
 *   sequences, state hash after each batch, event bytes), so nothing is lost, duplicated or reordered, and
 *   no input outside `good` (poison) produced events;
 * - the folded streams equal `referenceStreams(good)` (same final sequence and state hash per market).
 */
export async function assertExactlyOnce(transport: Transport, config: MatchingEngineConfig, good: readonly CommandBatch[]): Promise<ExactlyOnceReport> {
  const orders = await readPartitions(transport, config.topics.orders, config.partitions);
  const want = expectedBatches(config, orders, good);
  const events = await readPartitions(transport, config.topics.marketEvents, config.partitions);
  // One entry per input message: the parts of an input whose events exceeded one message are merged back.
  const got = new Map<number, Expected[]>();
  const seen = new Set<string>();
  let eventBatches = 0;
  events.forEach((msgs, p) => {
    for (const m of msgs) {
      const b: EventBatch = decodeEventBatch(m.value);
      eventBatches++;
      assert.equal(partitionForMarket(b.marketId, config.partitions), p, `market ${b.marketId} events on partition ${p}`);
      assert.equal(b.inputPartition, p, `market ${b.marketId}: input partition`);
      const list = got.get(b.marketId) ?? [];
      const prev = list.at(-1);
      assert.equal(b.firstSeq, (prev?.lastSeq ?? 0) + 1, `market ${b.marketId}: expected seq ${(prev?.lastSeq ?? 0) + 1}, got ${b.firstSeq} (gap or duplicate)`);
      if (prev !== undefined && b.inputOffset === prev.inputOffset) {
        // The next part of the same input: consecutive (checked above) and stamped with the same final hash.
        assert.equal(b.stateHash, prev.stateHash, `market ${b.marketId}, input offset ${b.inputOffset}: parts disagree on the state hash`);
        list[list.length - 1] = { ...prev, lastSeq: b.lastSeq, events: Buffer.concat([prev.events, Buffer.from(b.events)]) };
        continue;
      }
      const id = `${b.marketId}@${b.inputOffset}`;
      assert.ok(!seen.has(id), `duplicate EventBatch for market ${b.marketId}, input offset ${b.inputOffset} (events offset ${m.offset})`);
      seen.add(id);
      if (prev !== undefined) assert.ok(b.inputOffset > prev.inputOffset, `market ${b.marketId}: input offset ${b.inputOffset} after ${prev.inputOffset}`);
      list.push({ inputPartition: b.inputPartition, inputOffset: b.inputOffset, firstSeq: b.firstSeq, lastSeq: b.lastSeq, stateHash: b.stateHash, events: Buffer.from(b.events) });
      got.set(b.marketId, list);
    }
  });
  const wantMarkets = [...want].filter(([, l]) => l.length > 0).map(([id]) => id);
  assert.deepEqual([...got.keys()].sort((a, b) => a - b), wantMarkets.sort((a, b) => a - b), 'markets with events');
  for (const [marketId, w] of want) {
    const g = got.get(marketId) ?? [];
    const n = Math.min(g.length, w.length);
    for (let i = 0; i < n; i++) {
      const gi = g[i]!;
      const wi = w[i]!;
      const where = `market ${marketId}, event batch ${i} (input offset ${wi.inputOffset})`;
      assert.deepEqual(
        [gi.inputPartition, gi.inputOffset, gi.firstSeq, gi.lastSeq, gi.stateHash],
        [wi.inputPartition, wi.inputOffset, wi.firstSeq, wi.lastSeq, wi.stateHash],
        `${where}: [inputPartition, inputOffset, firstSeq, lastSeq, stateHash]`,
      );
      assert.ok(gi.events.equals(wi.events), `${where}: event bytes differ`);
    }
    assert.equal(g.length, w.length, `market ${marketId}: inputs with events (one event batch each, or consecutive parts of one)`);
  }
  assertSameStreams(await readStreams(transport, config), await referenceStreams(transport, config, good));
  return { markets: want.size, eventBatches, goodMessages: good.length };
}

/** Transaction markers reach readers a few ms after the offsets commit: retry the audit for a while. */
export async function assertExactlyOnceEventually(
  transport: Transport,
  config: MatchingEngineConfig,
  good: readonly CommandBatch[],
  attempts = 20,
): Promise<ExactlyOnceReport> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await assertExactlyOnce(transport, config, good);
    } catch (err) {
      if (attempt >= attempts) throw err;
      await sleep(250);
    }
  }
}

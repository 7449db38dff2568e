import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeDeadLetter,
  decodeEventBatch,
  decodeMarketSnapshot,
  decodeEventBatchEvents,
  defaultMarkets,
  encodeCommandBatch,
  MarketCatalogue,
  MAX_EVENT_BYTES_PER_BATCH,
  MAX_MESSAGE_BYTES,
  partitionForMarket,
  type CommandBatch,
  type EventBatch,
} from '@parallax/contracts';
import { EventEncoder, OrderBook, type Command, type MarketConfig } from '@parallax/order-book';
import type { ConsumedMessage, OutgoingMessage } from '@parallax/transport';
import { MatchingError } from './errors.js';
import { GATEWAY_ORDER_ID_SOURCES, PartitionEngine, type BookFactory } from './partition-engine.js';
import { syntheticOrderFlow } from '../flow/synthetic-flow.js';
import { crossingFlood } from '../flow/crossing-flood.js';

const TOPIC = 'orders';
const PARTITIONS = 3;
const catalogue = new MarketCatalogue(defaultMarkets(9));

/** Markets 3, 6, 9 live on partition 0; 1, 4, 7 on 1; 2, 5, 8 on 2. */
function marketsOf(partition: number): number[] {
  return catalogue
    .all()
    .map((d) => d.marketId)
    .filter((id) => partitionForMarket(id, PARTITIONS) === partition);
}

function msg(partition: number, offset: number, value: Uint8Array, key: string | null = null, timestamp = 0): ConsumedMessage {
  return { topic: TOPIC, partition, offset, key, value, timestamp, headers: {} };
}

/** The log's append time these tests give a batch's message: its first command's ts (the engine ignores the rest). */
function logTimeOf(b: CommandBatch): number {
  return b.commands[0]!.ts;
}

/** A market's book config in the engine: the catalogue's, with the engine's default order-id sources (16). */
function engineConfig(marketId: number): MarketConfig {
  return { ...catalogue.get(marketId)!.config, orderIdSources: GATEWAY_ORDER_ID_SOURCES };
}

/** Command batches as the log of one partition; `gapEvery` leaves offset holes like Kafka's transaction markers. */
function log(batches: readonly CommandBatch[], partition: number, gapEvery = 0): ConsumedMessage[] {
  let offset = 0;
  return batches.map((b, i) => {
    if (gapEvery > 0 && i > 0 && i % gapEvery === 0) offset++;
    return msg(partition, offset++, encodeCommandBatch(b), String(b.marketId), logTimeOf(b));
  });
}

function flow(seed: number, partition: number, batches: number): CommandBatch[] {
  return syntheticOrderFlow({ seed, marketIds: marketsOf(partition), batches, maxCommandsPerBatch: 12 });
}

function engine(partition = 0, books?: BookFactory, checkpointEveryCommands?: number): PartitionEngine {
  return new PartitionEngine({
    partition,
    partitions: PARTITIONS,
    catalogue,
    ...(books === undefined ? {} : { books }),
    ...(checkpointEveryCommands === undefined ? {} : { checkpointEveryCommands }),
  });
}

function values(ms: readonly OutgoingMessage[]): Buffer[] {
  return ms.map((m) => Buffer.from(m.value));
}

/** Feeds `messages` in chunks of the given sizes (cycled), concatenating outputs. */
function run(e: PartitionEngine, messages: readonly ConsumedMessage[], chunks: readonly number[] = [messages.length]) {
  const outputs: OutgoingMessage[] = [];
  const deadLetters: OutgoingMessage[] = [];
  let i = 0;
  let c = 0;
  while (i < messages.length) {
    const n = Math.max(1, chunks[c++ % chunks.length]!);
    const r = e.process(messages.slice(i, i + n));
    outputs.push(...r.outputs);
    deadLetters.push(...r.deadLetters);
    i += n;
  }
  return { outputs, deadLetters };
}

/**
 * Independent reference: each market's commands applied straight to an OrderBook, in order, each batch's at
 * its log time (never before the book's clock), as the engine must run them.
 */
function reference(batches: readonly CommandBatch[]): Map<number, { events: Buffer; hash: string; seq: number }> {
  const books = new Map<number, { book: OrderBook; enc: EventEncoder }>();
  for (const b of batches) {
    let r = books.get(b.marketId);
    if (r === undefined) {
      const enc = new EventEncoder();
      r = { book: new OrderBook(engineConfig(b.marketId), enc), enc };
      books.set(b.marketId, r);
    }
    const ts = Math.max(r.book.clock, logTimeOf(b));
    for (const c of b.commands) r.book.apply({ ...c, ts });
  }
  const out = new Map<number, { events: Buffer; hash: string; seq: number }>();
  for (const [id, r] of books) out.set(id, { events: Buffer.from(r.enc.bytes()), hash: r.book.stateHash(), seq: r.book.sequence });
  return out;
}

/** Per market: concatenated event bytes, last hash and seq, asserting gap-free sequences on the way. */
function perMarket(outputs: readonly OutgoingMessage[]): Map<number, { events: Buffer; hash: string; seq: number }> {
  const acc = new Map<number, { parts: Buffer[]; hash: string; seq: number }>();
  for (const o of outputs) {
    const b: EventBatch = decodeEventBatch(o.value);
    assert.equal(o.key, String(b.marketId));
    assert.equal(o.partition, partitionForMarket(b.marketId, PARTITIONS));
    const a = acc.get(b.marketId) ?? { parts: [], hash: '', seq: 0 };
    assert.equal(b.firstSeq, a.seq + 1, `market ${b.marketId}: sequence gap before ${b.firstSeq}`);
    assert.equal(b.eventCount, b.lastSeq - b.firstSeq + 1);
    a.parts.push(Buffer.from(b.events));
    a.hash = b.stateHash;
    a.seq = b.lastSeq;
    acc.set(b.marketId, a);
  }
  const out = new Map<number, { events: Buffer; hash: string; seq: number }>();
  for (const [id, a] of acc) out.set(id, { events: Buffer.concat(a.parts), hash: a.hash, seq: a.seq });
  return out;
}

describe('PartitionEngine', () => {
  it('matches an independent per-market replay of the same commands, with gap-free sequences', () => {
    const batches = flow(1, 0, 400);
    const { outputs, deadLetters } = run(engine(0), log(batches, 0, 7), [13]);
    assert.equal(deadLetters.length, 0);
    const got = perMarket(outputs);
    const want = reference(batches);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [id, w] of want) {
      const g = got.get(id)!;
      assert.ok(g.events.equals(w.events), `market ${id} event bytes differ`);
      assert.equal(g.hash, w.hash);
      assert.equal(g.seq, w.seq);
    }
    // The flow must actually exercise matching, or this test proves little.
    assert.ok(outputs.length > 300);
  });

  it('splits the events of a 470 KB command batch over several event batches instead of throwing after the book changed', () => {
    const before = flow(8, 0, 60).filter((b) => b.marketId === 3);
    // Times continue from the flow's last one (a market may bound how far time jumps), ids above the flow's.
    const lastTs = Math.max(...before.flatMap((b) => b.commands.map((c) => c.ts)));
    const flood = crossingFlood({ marketId: 3, firstTs: lastTs + 1, sentAtMs: 77 });
    const after = [1, 2, 3].map((k) => crossingFlood({ marketId: 3, commands: 10, firstTs: lastTs + 50_000 + 10 * k, firstOrderId: 2_000_000 + 10 * k }));
    const batches = [...before, flood, ...after];
    const messages = log(batches, 0, 5);
    const floodBytes = messages[before.length]!.value.length;
    assert.ok(floodBytes > 450_000 && floodBytes < 500_000, `the flood is a ~470 KB message (${floodBytes} bytes)`);

    const e = engine(0);
    const { outputs, deadLetters } = run(e, messages, [4]);
    assert.equal(deadLetters.length, 0);
    const floodOffset = messages[before.length]!.offset;
    const parts = outputs.map((o) => decodeEventBatch(o.value)).filter((b) => b.inputOffset === floodOffset);
    assert.ok(parts.length >= 3, `the flood's ~2 MB of events travel in ${parts.length} parts`);
    for (const o of outputs) assert.ok(o.value.length <= MAX_MESSAGE_BYTES, 'every event batch fits the contract limit');
    for (const b of parts) {
      assert.ok(b.events.length <= MAX_EVENT_BYTES_PER_BATCH);
      assert.equal(b.sentAtMs, 77);
      assert.equal(decodeEventBatchEvents(b).length, b.eventCount, 'each part holds whole events');
    }
    // Every part carries the hash after the whole input; the stream as a whole equals the reference replay.
    assert.equal(new Set(parts.map((b) => b.stateHash)).size, 1);
    const want = reference(batches).get(3)!;
    const got = perMarket(outputs).get(3)!;
    assert.ok(got.events.equals(want.events), 'concatenated event bytes equal a straight replay');
    assert.equal(got.hash, want.hash);
    assert.equal(got.seq, want.seq);
    assert.equal(e.market(3)!.stateHash, want.hash);

    // Deterministic: a restart that restores before the flood and replays re-emits byte-identical parts.
    const snapAt = before.length - 2;
    const first = engine(0);
    first.process(messages.slice(0, snapAt));
    const snaps = first.snapshot().map((m) => decodeMarketSnapshot(m.value));
    const second = engine(0);
    second.restore(snaps);
    const again = run(second, messages.slice(snapAt), [3]);
    const tail = outputs.filter((o) => decodeEventBatch(o.value).inputOffset >= messages[snapAt]!.offset);
    assert.deepEqual(values(again.outputs), values(tail));
  });

  it('stamps each event batch with its input offset and the batch sentAtMs', () => {
    const batches = syntheticOrderFlow({ seed: 5, marketIds: [3, 6], batches: 20, maxCommandsPerBatch: 4, sentAtMs: () => 1234 });
    const messages = log(batches, 0, 3);
    const r = engine(0).process(messages);
    assert.equal(r.stats.commands, batches.reduce((n, b) => n + b.commands.length, 0));
    assert.equal(r.stats.events, r.outputs.reduce((n, o) => n + decodeEventBatch(o.value).eventCount, 0));
    for (const o of r.outputs) {
      const b = decodeEventBatch(o.value);
      assert.equal(b.inputPartition, 0);
      assert.equal(b.sentAtMs, 1234);
      assert.ok(messages.some((m) => m.offset === b.inputOffset && decodeMarket(m) === b.marketId));
    }
  });

  it('is deterministic: the same input in any chunking gives byte-identical outputs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), (seed, chunks) => {
        const messages = log(flow(seed, 1, 120), 1, 5);
        const a = run(engine(1), messages);
        const b = run(engine(1), messages, chunks);
        assert.deepEqual(values(b.outputs), values(a.outputs));
      }),
      { numRuns: 25 },
    );
  });

  it('snapshot at any point + restore + replay + rest == uninterrupted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 150 }),
        fc.integer({ min: 0, max: 150 }),
        (seed, cutA, cutB) => {
          const messages = log(flow(seed, 2, 150), 2, 4);
          const snapAt = Math.min(cutA, cutB);
          const committedAt = Math.max(cutA, cutB);
          const whole = run(engine(2), messages);

          // First life: processes up to committedAt, snapshotting at snapAt, then dies.
          const first = engine(2);
          const before = run(first, messages.slice(0, snapAt));
          const snaps = first.snapshot().map((s) => decodeMarketSnapshot(s.value));
          const mid = run(first, messages.slice(snapAt, committedAt));

          // Second life: restore from the snapshot, replay silently up to the committed offset, go on.
          const second = engine(2);
          const replayFrom = snaps.length === 0 ? 0 : Math.min(...snaps.map((s) => s.nextOffset));
          const replay = messages.filter((m) => m.offset >= replayFrom && m.offset < (messages[committedAt]?.offset ?? Infinity));
          second.restore(snaps, replay);
          const after = run(second, messages.slice(committedAt));

          assert.deepEqual(values([...before.outputs, ...mid.outputs, ...after.outputs]), values(whole.outputs));
          const wholeEngine = engine(2);
          run(wholeEngine, messages);
          for (const id of wholeEngine.marketIds()) assert.deepEqual(second.market(id), wholeEngine.market(id));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('restores markets snapshotted at different offsets, replaying each only past its own snapshot', () => {
    const messages = log(flow(8, 0, 90), 0, 6);
    const whole = run(engine(0), messages);
    const e = engine(0);
    const a = run(e, messages.slice(0, 30));
    const older = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    const b = run(e, messages.slice(30, 60));
    const newer = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    // Market 6 only has its older snapshot (as if the newer one were lost); the others have the newer one.
    const mixed = [...older, ...newer.filter((s) => s.marketId !== 6)];
    const r = engine(0);
    const { replayFrom } = r.restore(mixed, messages.slice(30, 60));
    assert.equal(replayFrom, older[0]!.nextOffset);
    const c = run(r, messages.slice(60));
    assert.deepEqual(values([...a.outputs, ...b.outputs, ...c.outputs]), values(whole.outputs));
  });

  it('refuses to restore when a market of the newest snapshot set has no snapshot at all, instead of rebuilding it from part of its log', () => {
    const messages = log(flow(12, 0, 90), 0, 6);
    const e = engine(0);
    run(e, messages.slice(0, 60));
    const snaps = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    assert.equal(snaps.length, 3);
    assert.ok(snaps.every((s) => s.partitionMarkets === 3));
    const lost = snaps.filter((s) => s.marketId !== 6);
    assert.throws(
      () => engine(0).restore(lost, messages.slice(60)),
      (err: unknown) => err instanceof MatchingError && err.code === 'MISSING_SNAPSHOT' && /covers 3 markets, only 2/.test(err.message),
    );
    // A count that does not match the set is refused too (more snapshots than the newest set counts).
    const inflated = snaps.map((s) => ({ ...s, partitionMarkets: 2 }));
    assert.throws(() => engine(0).restore(inflated), (err: unknown) => err instanceof MatchingError && err.code === 'INVALID_SNAPSHOT');
    // With all three the same input restores exactly.
    const r = engine(0);
    r.restore(snaps, []);
    const whole = engine(0);
    run(whole, messages.slice(0, 60));
    for (const id of whole.marketIds()) assert.deepEqual(r.market(id), whole.market(id));
  });

  it('restores from a legacy snapshot set (version 1 records, written before partitionMarkets), skipping only the completeness check', () => {
    /** The record as the previous release wrote it: frame version 1 and no trailing partitionMarkets. */
    const v1 = (m: OutgoingMessage): Uint8Array => {
      assert.equal(m.value[2], 2);
      assert.ok(m.value.at(-1)! < 0x80, 'a one-byte count');
      return Uint8Array.from([0x50, 3, 1, ...m.value.subarray(3, m.value.length - 1)]);
    };
    const messages = log(flow(13, 0, 90), 0, 6);
    const e = engine(0);
    const a = run(e, messages.slice(0, 30));
    const older = e.snapshot().map((m) => decodeMarketSnapshot(v1(m)));
    const b = run(e, messages.slice(30, 60));
    const newerRecords = e.snapshot();
    const legacy = newerRecords.map((m) => decodeMarketSnapshot(v1(m)));
    assert.equal(legacy.length, 3);
    assert.ok(legacy.every((s) => s.partitionMarkets === undefined));
    const whole = engine(0);
    const all = run(whole, messages);

    // The whole legacy set restores exactly and carries on as if never stopped.
    const r = engine(0);
    assert.deepEqual(r.restore(legacy, []), { markets: 3, replayFrom: legacy[0]!.nextOffset });
    const c = run(r, messages.slice(60));
    assert.deepEqual(values([...a.outputs, ...b.outputs, ...c.outputs]), values(all.outputs));
    for (const id of whole.marketIds()) assert.deepEqual(r.market(id), whole.market(id));

    // Without counts a missing market cannot be detected: the set restores as the previous release restored it.
    assert.equal(engine(0).restore(legacy.filter((s) => s.marketId !== 6)).markets, 2);
    // Other checks still apply to legacy snapshots.
    const wrongHash = legacy.map((s) => (s.marketId === 6 ? { ...s, stateHash: '0000000000000000' } : s));
    assert.throws(() => engine(0).restore(wrongHash), (err: unknown) => err instanceof MatchingError && err.code === 'INVALID_SNAPSHOT');

    // Once a counted (new) set is the newest, it is checked, legacy snapshots of its markets counting as present.
    const counted = newerRecords.map((m) => decodeMarketSnapshot(m.value));
    const mixed = [...older, ...counted.filter((s) => s.marketId !== 6)];
    assert.equal(engine(0).restore(mixed).replayFrom, older[0]!.nextOffset);
    assert.throws(
      () => engine(0).restore(counted.filter((s) => s.marketId !== 6)),
      (err: unknown) => err instanceof MatchingError && err.code === 'MISSING_SNAPSHOT',
    );
    // Legacy and counted records at the same offset: the counted ones give the count.
    assert.equal(engine(0).restore([legacy[0]!, ...counted.slice(1)]).markets, 3);
  });

  it('continues sequences across a snapshot (restore verifies seq and hash)', () => {
    const messages = log(flow(9, 0, 60), 0);
    const e = engine(0);
    e.process(messages);
    const snaps = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    assert.equal(snaps.length, 3);
    for (const s of snaps) {
      assert.equal(s.nextOffset, 60);
      assert.equal(s.lastSeq, e.market(s.marketId)!.sequence);
    }
    const r = engine(0);
    r.restore(snaps);
    assert.equal(r.nextOffset, 60);
    const next = syntheticOrderFlow({ seed: 10, marketIds: [3], batches: 1, maxCommandsPerBatch: 3 });
    const cmd: Command = { ...next[0]!.commands[0]!, ts: 1e9 };
    const out = r.process([msg(0, 60, encodeCommandBatch({ marketId: 3, sentAtMs: 0, commands: [cmd] }))]);
    assert.equal(decodeEventBatch(out.outputs[0]!.value).firstSeq, e.market(3)!.sequence + 1);
  });

  it('refuses a snapshot whose hash or sequence does not match its book, or of another partition', () => {
    const e = engine(0);
    e.process(log(flow(2, 0, 30), 0));
    const snaps = e.snapshot().map((s) => decodeMarketSnapshot(s.value));
    const tampered = snaps.map((s, i) => (i === 0 ? { ...s, stateHash: '0000000000000000' } : s));
    assert.throws(() => engine(0).restore(tampered), (err: unknown) => err instanceof MatchingError && err.code === 'INVALID_SNAPSHOT');
    const skewed = snaps.map((s, i) => (i === 0 ? { ...s, lastSeq: s.lastSeq + 1 } : s));
    assert.throws(() => engine(0).restore(skewed), (err: unknown) => err instanceof MatchingError && err.code === 'INVALID_SNAPSHOT');
    assert.throws(() => engine(1).restore(snaps), (err: unknown) => err instanceof MatchingError && err.code === 'INVALID_SNAPSHOT');
    const used = engine(0);
    used.process(log(flow(2, 0, 1), 0));
    assert.throws(() => used.restore(snaps), (err: unknown) => err instanceof MatchingError && err.code === 'ENGINE_NOT_FRESH');
  });

  it('skips redelivered offsets (already reflected in the state)', () => {
    const messages = log(flow(3, 0, 50), 0);
    const e = engine(0);
    const first = e.process(messages.slice(0, 30));
    const again = e.process(messages.slice(20, 50));
    assert.equal(again.stats.duplicates, 10);
    const whole = engine(0).process(messages);
    assert.deepEqual(values([...first.outputs, ...again.outputs]), values(whole.outputs));
  });

  it('dead-letters poison input with a stable reason while the good messages flow', () => {
    const batches = flow(4, 0, 80);
    const good = log(batches, 0);
    const poison: [Uint8Array, string][] = [
      [new Uint8Array([1, 2, 3]), 'MALFORMED_MESSAGE'],
      [encodeCommandBatch({ marketId: 99, sentAtMs: 0, commands: batches[0]!.commands }), 'UNKNOWN_MARKET'],
      [encodeCommandBatch({ marketId: 4, sentAtMs: 0, commands: batches[0]!.commands }), 'WRONG_PARTITION'],
      [encodeCommandBatch(batches[0]!).subarray(0, 9), 'MALFORMED_MESSAGE'],
    ];
    // Interleave: poison at offsets 1000+, good ones keep theirs; the log is then re-sorted by offset.
    const mixed: ConsumedMessage[] = [];
    let offset = 0;
    for (const [i, g] of good.entries()) {
      const p = poison[i / 20];
      if (i % 20 === 0 && p !== undefined) mixed.push(msg(0, offset++, p[0], 'k'));
      mixed.push({ ...g, offset: offset++ });
    }
    const r = engine(0).process(mixed);
    assert.deepEqual(
      r.deadLetters.map((d) => decodeDeadLetter(d.value).reason),
      poison.map(([, reason]) => reason),
    );
    for (const [i, d] of r.deadLetters.entries()) {
      const dl = decodeDeadLetter(d.value);
      assert.equal(d.key, `${TOPIC}/0`);
      assert.equal(dl.topic, TOPIC);
      assert.equal(dl.partition, 0);
      assert.equal(dl.key, 'k');
      assert.deepEqual(Buffer.from(dl.value), Buffer.from(poison[i]![0]));
      assert.ok(dl.detail.length > 0);
    }
    const got = perMarket(r.outputs);
    for (const [id, w] of reference(batches)) assert.ok(got.get(id)!.events.equals(w.events), `market ${id}`);
  });

  it('rolls a market back when the book throws halfway through a batch (checkpoint + journal), and dead-letters it', () => {
    const POISON_ACCOUNT = 666;
    const faulty: BookFactory = {
      create: (config, sink) => explodeOn(new OrderBook(config, sink), POISON_ACCOUNT),
      restore: (bytes, sink) => explodeOn(OrderBook.restore(bytes, sink), POISON_ACCOUNT),
    };
    const batches = flow(6, 0, 300);
    // Every 25th batch gets a bomb appended after its real commands: they are applied, then it throws.
    const bombed = batches.map((b, i) =>
      i % 25 === 24 ? { ...b, commands: [...b.commands, { ...b.commands[0]!, type: 'cancelAll' as const, accountId: POISON_ACCOUNT }] } : b,
    );
    const messages = log(bombed, 0);
    const withFaults = run(engine(0, faulty, 50), messages, [7]);
    assert.equal(withFaults.deadLetters.length, 12);
    for (const d of withFaults.deadLetters) assert.equal(decodeDeadLetter(d.value).reason, 'ENGINE_ERROR');
    // Same as if the bombed batches never existed.
    const clean = run(engine(0), messages.filter((_, i) => i % 25 !== 24));
    assert.deepEqual(values(withFaults.outputs), values(clean.outputs));
  });

  it('snapshot refuses an offset before what it has applied', () => {
    const e = engine(0);
    e.process(log(flow(7, 0, 10), 0));
    assert.throws(() => e.snapshot(5), (err: unknown) => err instanceof MatchingError && err.code === 'OFFSET_REGRESSION');
    assert.equal(e.snapshot(12)[0] !== undefined, true);
    assert.equal(e.nextOffset, 12);
  });

  it('throws (caller bug, not poison) for a message of another partition', () => {
    assert.throws(
      () => engine(0).process([msg(1, 0, new Uint8Array(1))]),
      (err: unknown) => err instanceof MatchingError && err.code === 'FOREIGN_PARTITION',
    );
  });
});

function decodeMarket(m: ConsumedMessage): number {
  return Number(m.key);
}

/** A book that applies a command and then throws if it belongs to `account` (state already mutated). */
function explodeOn(book: OrderBook, account: number): OrderBook {
  return new Proxy(book, {
    get(target, prop) {
      if (prop === 'apply') {
        return (cmd: Command) => {
          target.apply(cmd);
          if (cmd.type !== 'expire' && cmd.accountId === account) throw new Error('injected fault');
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

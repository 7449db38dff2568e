import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, RejectReasonName } from '@parallax/order-book';
import { EventCollector, OrderBook, OrderType, rejectReasonName, StpMode, TimeInForce } from '@parallax/order-book';
import { decodeCommandBatch, defaultMarkets, encodeCommandBatch } from '@parallax/contracts';
import { CommandStream, generateCommands, LoadGeneratorError } from './workload.js';

const flatten = (m: Map<number, { commands: readonly Command[] }[]>): Map<number, Command[]> =>
  new Map([...m].map(([id, batches]) => [id, batches.flatMap((b) => [...b.commands])]));

describe('generateCommands', () => {
  it('is deterministic per seed, and seeds and markets differ', () => {
    const a = generateCommands(7, 4, 4000);
    assert.deepEqual(a, generateCommands(7, 4, 4000));
    const b = generateCommands(8, 4, 4000);
    assert.notDeepEqual(flatten(a).get(1), flatten(b).get(1));
    assert.notDeepEqual(flatten(a).get(1), flatten(a).get(2));
  });

  it('spreads count over markets 1..N round-robin; shorter runs are prefixes; a market ignores the others', () => {
    const long = flatten(generateCommands(3, 5, 5003));
    const short = flatten(generateCommands(3, 5, 1234));
    assert.deepEqual([...long.keys()], [1, 2, 3, 4, 5]);
    assert.deepEqual([...long.values()].map((c) => c.length), [1001, 1001, 1001, 1000, 1000]);
    for (const [id, cmds] of short) assert.deepEqual(cmds, long.get(id)!.slice(0, cmds.length));
    // Market 2's flow is the same with 3 markets as with 5.
    const three = flatten(generateCommands(3, 3, 3003));
    assert.deepEqual(three.get(2), long.get(2));
  });

  it('cuts batches of at most batchSize, and batching does not change the command sequence', () => {
    const g = generateCommands(11, 3, 1000, { batchSize: 37 });
    for (const [id, batches] of g) {
      for (const b of batches) {
        assert.equal(b.marketId, id);
        assert.ok(b.commands.length >= 1 && b.commands.length <= 37);
      }
      assert.deepEqual(batches.slice(0, -1).map((b) => b.commands.length), new Array<number>(batches.length - 1).fill(37));
    }
    assert.deepEqual(flatten(g), flatten(generateCommands(11, 3, 1000, { batchSize: 500 })));
  });

  it('emits only commands the contract encodes and decodes unchanged', () => {
    for (const [, batches] of generateCommands(5, 3, 6000, { batchSize: 250 })) {
      for (const b of batches) assert.deepEqual(decodeCommandBatch(encodeCommandBatch(b)), b);
    }
  });

  it('keeps per-market invariants: increasing ts, unique sequential ids, cancels and amends of earlier own orders', () => {
    const accounts = 50;
    for (const [, cmds] of flatten(generateCommands(21, 3, 30_000, { accounts }))) {
      let ts = 0;
      let nextId = 1;
      const owner = new Map<number, { accountId: number; tif: number }>();
      for (const c of cmds) {
        assert.ok(c.ts > ts, 'ts strictly increases');
        ts = c.ts;
        switch (c.type) {
          case 'place':
            assert.equal(c.orderId, nextId++);
            assert.ok(c.accountId >= 1 && c.accountId <= accounts);
            assert.ok(c.stp === StpMode.None || c.stp === StpMode.CancelNewest);
            assert.ok(c.size >= 1);
            if (c.orderType === OrderType.Limit) assert.ok(c.price >= 1);
            else assert.ok(c.tif === TimeInForce.IOC || c.tif === TimeInForce.FOK);
            assert.equal(c.expiresAt > c.ts, c.tif === TimeInForce.GTT);
            if (c.tif === TimeInForce.GTT) assert.ok(c.expiresAt > c.ts);
            else assert.equal(c.expiresAt, 0);
            if (c.postOnly) assert.ok(c.orderType === OrderType.Limit && (c.tif === TimeInForce.GTC || c.tif === TimeInForce.GTT));
            owner.set(c.orderId, { accountId: c.accountId, tif: c.tif });
            break;
          case 'cancel':
          case 'amend': {
            const o = owner.get(c.orderId);
            assert.ok(o !== undefined, `${c.type} of never-placed order ${c.orderId}`);
            assert.equal(o.accountId, c.accountId);
            assert.ok(o.tif === TimeInForce.GTC || o.tif === TimeInForce.GTT, `${c.type} of an order that never rests`);
            if (c.type === 'amend') assert.ok(c.size >= 1 && c.price >= 1);
            break;
          }
          case 'cancelAll':
            assert.ok(c.accountId >= 1 && c.accountId <= accounts);
            break;
          case 'expire':
            break;
        }
      }
    }
  });

  it('has a realistic mix the book accepts (only post-only refusals), with bounded book depth', () => {
    const count = 60_000;
    const markets = 2;
    const perMarket = flatten(generateCommands(99, markets, count));
    const kinds = new Map<string, number>();
    const rejects = new Map<RejectReasonName | undefined, number>();
    let trades = 0;
    let cancels = 0;
    let cancelRejects = 0;
    for (const def of defaultMarkets(markets)) {
      const sink = new EventCollector();
      const book = new OrderBook(def.config, sink);
      let maxResting = 0;
      for (const c of perMarket.get(def.marketId)!) {
        const key = c.type === 'place' ? (c.orderType === OrderType.Market ? 'market' : 'limit') : c.type;
        kinds.set(key, (kinds.get(key) ?? 0) + 1);
        sink.events.length = 0;
        book.apply(c);
        for (const e of sink.events) {
          if (e.type === 'trade') trades++;
          if (e.type === 'rejected') {
            const name = rejectReasonName(e.reason);
            rejects.set(name, (rejects.get(name) ?? 0) + 1);
            if (c.type === 'cancel') cancelRejects++;
          }
        }
        if (c.type === 'cancel') cancels++;
        maxResting = Math.max(maxResting, book.orderCount);
      }
      assert.ok(maxResting < 6000, `book depth stays bounded (max ${maxResting})`);
    }
    const share = (k: string) => (kinds.get(k) ?? 0) / count;
    assert.ok(share('limit') > 0.4 && share('limit') < 0.75, `limit ${share('limit')}`);
    assert.ok(share('cancel') > 0.15 && share('cancel') < 0.45, `cancel ${share('cancel')}`);
    assert.ok(share('market') > 0.03 && share('market') < 0.15, `market ${share('market')}`);
    assert.ok(share('amend') > 0.01 && share('amend') < 0.1, `amend ${share('amend')}`);
    assert.ok((kinds.get('expire') ?? 0) > 0 && (kinds.get('cancelAll') ?? 0) > 0);
    assert.ok(trades > count / 50, `${trades} trades`);
    // The flow tracks the book exactly, so every cancel and amend finds its order resting.
    assert.ok(cancels > count / 10);
    assert.equal(cancelRejects, 0, `${cancelRejects} of ${cancels} cancels rejected`);
    // The only refusal is a post-only order the fair price has moved through; nothing malformed, no
    // duplicate ids, no time regressions, no cancel or amend of a finished order.
    const allowed = new Set<RejectReasonName | undefined>(['POST_ONLY_WOULD_TAKE']);
    for (const [name, n] of rejects) assert.ok(allowed.has(name), `unexpected rejection ${String(name)} x${n}`);
  });

  it('refuses invalid options', () => {
    const bad: (() => unknown)[] = [
      () => generateCommands(-1, 1, 1),
      () => generateCommands(1.5, 1, 1),
      () => generateCommands(1, 0, 1),
      () => generateCommands(1, 1, -1),
      () => generateCommands(1, 1, 1, { batchSize: 0 }),
      () => generateCommands(1, 1, 1, { batchSize: 65_536 }),
      () => generateCommands(1, 1, 1, { accounts: 0 }),
      () => new CommandStream(1, 100_001),
    ];
    for (const f of bad) assert.throws(f, (e: unknown) => e instanceof LoadGeneratorError && e.message.includes('must be an integer'));
    assert.equal(generateCommands(1, 2, 0).get(1)?.length, 0);
  });
});

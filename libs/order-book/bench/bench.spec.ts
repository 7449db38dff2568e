// Tests of the benchmark's own machinery: the workload is deterministic and realistic, the reference
// runner reads nodejs-order-book's fills correctly, and the docs section is replaced in place.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRun, firstTradeDifference } from './checks.js';
import { NodejsOrderBookRunner } from './nodejs-order-book-runner.js';
import { ParallaxRunner } from './parallax-runner.js';
import { Prng } from '../prng.js';
import { PlainRunner } from './plain-runner.js';
import { REGION_END, REGION_START, extractHistory, replaceRegion } from './report.js';
import type { BookRunner } from './runner.js';
import { percentile, summarize } from './stats.js';
import { TradeTape } from './trade-tape.js';
import type { Workload } from './workload.js';
import { OP_CANCEL, OP_LIMIT, OP_MARKET, SHAPES, generateWorkload, workloadFromOps } from './workload.js';

describe('Prng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.nextU32()),
      xs,
    );
    assert.notDeepEqual(
      Array.from({ length: 5 }, () => c.nextU32()),
      xs,
    );
  });

  it('draws standard normals', () => {
    const r = new Prng(1);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = r.nextNormal();
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(Math.sqrt(sq / n - mean * mean) - 1) < 0.02);
  });
});

describe('generateWorkload', () => {
  const w = generateWorkload(99, 50_000);

  it('gives the same operations for the same seed', () => {
    const again = generateWorkload(99, 50_000);
    assert.deepEqual(again.kind, w.kind);
    assert.deepEqual(again.price, w.price);
    assert.deepEqual(again.size, w.size);
    assert.deepEqual(again.id, w.id);
    assert.equal(again.expected.tradeHash, w.expected.tradeHash);
    assert.notEqual(generateWorkload(100, 50_000).expected.tradeHash, w.expected.tradeHash);
  });

  it('has the 60/10/30 mix, trades, and a book that stays populated', () => {
    const e = w.expected;
    assert.equal(e.limits + e.markets + e.cancels, 50_000);
    assert.ok(Math.abs(e.limits / 50_000 - 0.6) < 0.01, `limits ${e.limits}`);
    assert.ok(Math.abs(e.markets / 50_000 - 0.1) < 0.01, `markets ${e.markets}`);
    assert.ok(Math.abs(e.cancels / 50_000 - 0.3) < 0.01, `cancels ${e.cancels}`);
    assert.ok(e.trades > 10_000);
    assert.ok(e.restingOrders > 1_000 && e.maxRestingOrders < 10_000, `resting ${e.restingOrders} / max ${e.maxRestingOrders}`);
  });

  it('cancels only orders placed before as limits and not yet cancelled, and never mixes buyer and seller accounts', () => {
    const placedAsLimit = new Map<number, number>();
    const cancelled = new Set<number>();
    for (let i = 0; i < w.count; i++) {
      const id = w.id[i]!;
      const k = w.kind[i];
      const buyer = w.account[i]! <= w.params.accounts;
      assert.equal(buyer, w.side[i] === 0, `op ${i}: account ${w.account[i]} on the wrong side`);
      if (k === OP_CANCEL) {
        assert.ok(placedAsLimit.has(id), `op ${i} cancels unknown order ${id}`);
        assert.ok(!cancelled.has(id), `op ${i} cancels order ${id} twice`);
        assert.equal(w.account[i], placedAsLimit.get(id));
        cancelled.add(id);
      } else if (k === OP_LIMIT) {
        assert.ok(w.price[i]! > 0 && w.size[i]! > 0);
        placedAsLimit.set(id, w.account[i]!);
      } else {
        assert.equal(k, OP_MARKET);
        assert.ok(w.size[i]! > 0);
      }
    }
  });
});

describe('NodejsOrderBookRunner', () => {
  it('reads makers, partial fills and prices from nodejs-order-book results', () => {
    const w = workloadFromOps([
      { kind: 'limit', side: 'sell', price: 100, size: 5 }, // 1
      { kind: 'limit', side: 'sell', price: 101, size: 3 }, // 2
      { kind: 'limit', side: 'sell', price: 101, size: 4 }, // 3
      { kind: 'limit', side: 'buy', price: 101, size: 7 }, // 4: takes 5@100 from 1, 2@101 from 2 (partial)
      { kind: 'limit', side: 'buy', price: 102, size: 10 }, // 5: takes 1@101 from 2, 4@101 from 3, rests 5@102
      { kind: 'limit', side: 'buy', price: 98, size: 6 }, // 6
      { kind: 'market', side: 'sell', size: 8 }, // 7: takes 5@102 from 5, 3@98 from 6 (partial)
      { kind: 'cancel', orderId: 6 },
      { kind: 'market', side: 'buy', size: 3 }, // 9: nothing to take
      { kind: 'limit', side: 'sell', price: 99, size: 2 }, // 10: rests
    ]);
    const tape = new TradeTape();
    tape.add(1, 4, 100, 5);
    tape.add(2, 4, 101, 2);
    tape.add(2, 5, 101, 1);
    tape.add(3, 5, 101, 4);
    tape.add(5, 7, 102, 5);
    tape.add(6, 7, 98, 3);
    assert.equal(w.expected.tradeHash, tape.digest(), 'workload model');

    const runner = new NodejsOrderBookRunner();
    runner.run(w, 0, w.count);
    const r = runner.result();
    assert.equal(r.trades, 6);
    assert.equal(r.tradeHash, tape.digest());
    assert.equal(r.cancelsHit, 1);
    assert.equal(r.cancelsMissed, 0);
    assert.equal(r.rejects, 0);
    assert.deepEqual(r.depth, { bids: [], asks: [[99, 2]] });
    assert.deepEqual(
      runner.record(w).map((t) => [t.op, t.maker, t.taker, t.price, t.size]),
      [
        [3, 1, 4, 100, 5],
        [3, 2, 4, 101, 2],
        [4, 2, 5, 101, 1],
        [4, 3, 5, 101, 4],
        [6, 5, 7, 102, 5],
        [6, 6, 7, 98, 3],
      ],
    );
  });

  it('agrees with the workload model on a generated workload', () => {
    assertReproducesModel(new NodejsOrderBookRunner(), generateWorkload(5, 20_000));
  });
});

/**
 * Two asks, a buy that takes the first and part of the second, a market sell that finds no bid, and a
 * cancel of the rest of the second ask: the trades every book must report, by hand.
 */
function assertHandCheckedTrades(runner: BookRunner): void {
  const w = workloadFromOps([
    { kind: 'limit', side: 'sell', price: 100, size: 5 },
    { kind: 'limit', side: 'sell', price: 101, size: 3 },
    { kind: 'limit', side: 'buy', price: 101, size: 7 },
    { kind: 'market', side: 'sell', size: 2 },
    { kind: 'cancel', orderId: 2 },
  ]);
  assert.deepEqual(
    runner.record(w).map((t) => [t.op, t.maker, t.taker, t.price, t.size]),
    [
      [2, 1, 3, 100, 5],
      [2, 2, 3, 101, 2],
    ],
  );
  const r = runner.result();
  assert.equal(r.cancelsHit, 1);
  assert.equal(r.rejects, 0);
  assert.deepEqual(r.depth, { bids: [], asks: [] });
}

/** One full run on a fresh book reproduces the workload model (trades, cancels, no rejects, final book). */
function assertReproducesModel(runner: BookRunner, w: Workload): void {
  runner.reset();
  runner.run(w, 0, w.count);
  assert.deepEqual(checkRun(runner.name, runner.result(), w), []);
}

describe('ParallaxRunner', () => {
  it('reproduces the hand-checked trades', () => {
    assertHandCheckedTrades(new ParallaxRunner());
  });

  it('agrees with the workload model on a generated workload', () => {
    assertReproducesModel(new ParallaxRunner(), generateWorkload(11, 20_000));
  });
});

describe('PlainRunner (the benchmark\'s limit line)', () => {
  it('reproduces the hand-checked trades, partial fills included', () => {
    assertHandCheckedTrades(new PlainRunner());
  });

  for (const shape of SHAPES) {
    it(`agrees with the workload model and Parallax on the ${shape.name} shape`, () => {
      const w = generateWorkload(17, 30_000, shape.params);
      assertReproducesModel(new PlainRunner(), w);
      assertReproducesModel(new ParallaxRunner(), w);
    });
  }
});

describe('SHAPES', () => {
  it('one account per order where asked, a few hundred accounts in the active shape', () => {
    const byName = new Map(SHAPES.map((s) => [s.name, s]));
    const normal = generateWorkload(2, 20_000, byName.get('normal')!.params);
    for (let i = 0; i < normal.count; i++) if (normal.kind[i] !== OP_CANCEL) assert.equal(normal.account[i], normal.id[i]);
    const active = generateWorkload(2, 20_000, byName.get('active')!.params);
    const accounts = new Set(active.account);
    assert.ok(accounts.size <= 300 && accounts.size > 250, `${accounts.size} accounts`);
  });

  it('the deep shape builds a book an order of magnitude deeper than the normal one', () => {
    const byName = new Map(SHAPES.map((s) => [s.name, s]));
    const deep = generateWorkload(2, 200_000, byName.get('deep')!.params);
    const normal = generateWorkload(2, 200_000, byName.get('normal')!.params);
    assert.ok(deep.expected.restingOrders > 10 * normal.expected.restingOrders, `${deep.expected.restingOrders} vs ${normal.expected.restingOrders}`);
    assert.ok(deep.expected.cancels < 0.05 * deep.count);
  });
});

describe('checks', () => {
  const w = generateWorkload(3, 5_000);
  const runner = new NodejsOrderBookRunner();
  runner.run(w, 0, w.count);
  const good = runner.result();

  it('accept a run that reproduces the model', () => {
    assert.deepEqual(checkRun('ref', good, w), []);
  });

  it('flag wrong trades, missed cancels, rejects, and a different final book', () => {
    assert.equal(checkRun('ref', { ...good, tradeHash: '0000000000000000' }, w).length, 1);
    assert.equal(checkRun('ref', { ...good, trades: 0 }, w).length, 2);
    assert.equal(checkRun('ref', { ...good, cancelsHit: good.cancelsHit - 1, cancelsMissed: 1 }, w).length, 1);
    assert.equal(checkRun('ref', { ...good, rejects: 1, rejectDetail: 'X' }, w).length, 1);
    const bids = good.depth.bids.map(([p, s], i): [number, number] => (i === 2 ? [p, s + 1] : [p, s]));
    const f = checkRun('ref', { ...good, depth: { bids, asks: good.depth.asks } }, w);
    assert.equal(f.length, 1);
    assert.match(f[0]!, /bids level 2/);
  });

  it('locate the first differing trade', () => {
    const t = (op: number, size: number) => ({ op, maker: 1, taker: 2, price: 10, size });
    assert.equal(firstTradeDifference([t(1, 1), t(2, 1)], [t(1, 1), t(2, 1)]), -1);
    assert.equal(firstTradeDifference([t(1, 1), t(2, 1)], [t(1, 1), t(2, 2)]), 1);
    assert.equal(firstTradeDifference([t(1, 1)], [t(1, 1), t(2, 1)]), 1);
  });
});

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const a = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    assert.equal(percentile(a, 0.5), 500);
    assert.equal(percentile(a, 0.99), 990);
    assert.equal(percentile(a, 0.999), 999);
    assert.equal(percentile(a, 1), 1000);
    const s = summarize(Float64Array.from([5, 1, 3]), (i) => i !== 0);
    assert.equal(s.samples, 2);
    assert.equal(s.maxNs, 3);
  });
});

describe('docs region', () => {
  const row = '| 2026-01-02 03:04 UTC | 1 | 1,000 | 2.00M | 5.00 µs | 80.0k | 25.0x | met |';

  it('replaces only the book region and keeps the history rows found in it', () => {
    const doc = `# Benchmarks\n\nintro\n\n${REGION_START}\nold\n${row}\n${REGION_END}\n\n<!-- other:start -->\nkeep ${row}\n<!-- other:end -->\n`;
    assert.deepEqual(extractHistory(doc), [row]);
    const out = replaceRegion(doc, 'new body');
    assert.equal(out, `# Benchmarks\n\nintro\n\n${REGION_START}\nnew body\n${REGION_END}\n\n<!-- other:start -->\nkeep ${row}\n<!-- other:end -->\n`);
  });

  it('creates the file body or appends the region when missing', () => {
    assert.ok(replaceRegion('', 'x').startsWith('# Benchmarks'));
    assert.ok(replaceRegion('', 'x').includes(`${REGION_START}\nx\n${REGION_END}`));
    assert.equal(replaceRegion('# B\n\n<!-- other -->\n', 'x'), `# B\n\n<!-- other -->\n\n${REGION_START}\nx\n${REGION_END}\n`);
  });
});

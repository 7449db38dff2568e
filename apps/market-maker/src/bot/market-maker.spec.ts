// The market maker's bookkeeping against an in-process fake of the API (the end-to-end test runs it against
// the real exchange): hostile and malformed messages, refused cancels, lost place answers, a failing reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@parallax/observability';
import { bookChecksum, ParallaxApiError, type MarketInfo, type OrderParams, type ParallaxClient, type PlaceResult } from '@parallax/sdk';
import { Registry } from 'prom-client';
import { startMarketMaker, type RunningMarketMaker } from './market-maker.js';
import type { ReferencePriceSource } from '../strategy/reference.js';

const market = (symbol: string, marketId: number): MarketInfo => ({
  symbol,
  marketId,
  base: symbol.split('-')[0]!,
  quote: 'USDC',
  baseToken: '0x1000000000000000000000000000000000000001',
  quoteToken: '0x2000000000000000000000000000000000000002',
  tickSize: '0.01',
  lotSize: '0.001',
  tickSizeUnits: '10000',
  lotSizeUnits: '1000000000000000',
  minAmount: '0.001',
  minNotional: '0',
  makerFeeRate: 0,
  takerFeeRate: 0,
  status: 'open',
  baseDecimals: 18,
  quoteDecimals: 6,
});

type Handler = (msg: Record<string, unknown>) => void;

/** Just enough of the API for the bot: orders rest, cancels are recorded, failures are injected per call. */
class FakeApi {
  readonly markets = [market('M1-USDC', 1), market('M2-USDC', 2)];
  readonly open = new Map<string, { market: string; side: string; price: string }>();
  readonly cancelled: string[] = [];
  readonly handlers = new Set<Handler>();
  readonly calls: string[] = [];
  /** Set to make the next batch cancel / batch place fail with this error. */
  failBatchCancel: Error | undefined;
  failPlace: Error | undefined;
  /** Orders in this market are answered `rejected` with this reason (as a risk shard refuses an unfunded order). */
  reject: { market: string; reason: string } | undefined;
  /** Client order ids whose single cancel fails with this code. */
  readonly cancelRefusals = new Map<string, string>();

  emit(msg: Record<string, unknown>): void {
    for (const h of this.handlers) h(msg);
  }
}

function fakeClient(api: FakeApi): ParallaxClient {
  const stream = {
    on(h: Handler) {
      api.handlers.add(h);
      return () => api.handlers.delete(h);
    },
    login: () => Promise.resolve(),
    call(msg: Record<string, unknown>) {
      api.calls.push(String(msg['op']));
      return Promise.resolve({});
    },
    subscribe(channel: string, m?: string) {
      if (channel === 'book' && m !== undefined) {
        queueMicrotask(() => {
          api.emit({ event: 'book', type: 'snapshot', market: m, seq: 1, bids: [], asks: [], checksum: bookChecksum([], []) });
        });
      }
      return Promise.resolve();
    },
    book: () => ({ synced: true }),
    close: () => undefined,
    dropConnection: () => undefined,
  };
  const fake = {
    trader: '0x3000000000000000000000000000000000000003',
    markets: () => Promise.resolve(api.markets),
    fills: () => Promise.resolve([]),
    cancelAll(symbol?: string) {
      for (const [id, o] of api.open) if (symbol === undefined || o.market === symbol) api.open.delete(id);
      return Promise.resolve({ markets: [], result: 'accepted' });
    },
    stream: () => stream,
    cancelOrders(list: readonly { symbol: string; clientOrderId?: string }[]) {
      const err = api.failBatchCancel;
      api.failBatchCancel = undefined;
      if (err !== undefined) return Promise.reject(err);
      for (const c of list) {
        api.open.delete(c.clientOrderId!);
        api.cancelled.push(c.clientOrderId!);
      }
      return Promise.resolve([]);
    },
    cancelOrder(_symbol: string, ref: { clientOrderId?: string }) {
      const code = api.cancelRefusals.get(ref.clientOrderId!);
      if (code !== undefined) return Promise.reject(new ParallaxApiError(400, code, 'refused'));
      api.open.delete(ref.clientOrderId!);
      api.cancelled.push(ref.clientOrderId!);
      return Promise.resolve({ id: '1', market: _symbol, result: 'accepted' });
    },
    placeOrders(orders: readonly { symbol: string; params: Omit<OrderParams, 'nonce' | 'expiry'> }[]): Promise<PlaceResult[]> {
      const err = api.failPlace;
      api.failPlace = undefined;
      if (err !== undefined) {
        // The gateway took them, the answer was lost.
        for (const o of orders) api.open.set(o.params.clientOrderId!, { market: o.symbol, side: o.params.side, price: o.params.price });
        return Promise.reject(err);
      }
      return Promise.resolve(
        orders.map((o, i) => {
          const refused = api.reject?.market === o.symbol ? api.reject.reason : undefined;
          if (refused === undefined) api.open.set(o.params.clientOrderId!, { market: o.symbol, side: o.params.side, price: o.params.price });
          const order = { id: String(i), clientOrderId: o.params.clientOrderId!, market: o.symbol, trader: null, side: o.params.side, type: 'limit' as const, timeInForce: 'GTC', price: o.params.price, amount: o.params.amount, filled: '0', remaining: o.params.amount, average: null, status: refused === undefined ? ('open' as const) : ('rejected' as const), reason: refused ?? null, timestamp: 0, lastUpdateTimestamp: 0 };
          return { id: String(i), clientOrderId: o.params.clientOrderId!, market: o.symbol, result: 'answered' as const, duplicate: false, order };
        }),
      );
    },
  };
  return fake as unknown as ParallaxClient;
}

async function until(what: string, f: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function withBot(api: FakeApi, reference: ReferencePriceSource, run: (mm: RunningMarketMaker) => Promise<void>): Promise<void> {
  const mm = await startMarketMaker(
    { gatewayUrl: 'http://fake', privateKey: `0x${'11'.repeat(32)}`, reference, quoting: { levels: 2, skewBpsPerUnit: 0 }, checkIntervalMs: 5 },
    { logger: createLogger('mm-test', 'silent'), registry: new Registry(), client: fakeClient(api) },
  );
  try {
    await run(mm);
  } finally {
    await mm.close();
  }
}

const liveIn = (mm: RunningMarketMaker, m: string): string[] =>
  mm
    .snapshot()
    .quotes.filter((q) => q.market === m)
    .map((q) => q.clientOrderId);

describe('market maker bookkeeping', () => {
  it('arms cancel-on-disconnect and the dead-man switch, then quotes both sides of every market', async () => {
    const api = new FakeApi();
    await withBot(api, { price: () => 100 }, async (mm) => {
      await until('both ladders', () => api.open.size === 8);
      assert.deepEqual(api.calls.slice(0, 2), ['session', 'deadman']);
      assert.equal(liveIn(mm, 'M1-USDC').length, 4);
    });
  });

  it('survives malformed and hostile messages and counts none of their fills', async () => {
    const api = new FakeApi();
    await withBot(api, { price: () => 100 }, async (mm) => {
      await until('the ladders', () => api.open.size === 8);
      const junk: Record<string, unknown>[] = [
        { event: 'book', market: 'M1-USDC', type: 'update', prevSeq: 'x', seq: null, bids: 'nope', asks: [], checksum: 1 },
        { event: 'book', market: 'NOPE', type: 'snapshot' },
        { event: 'fill', fill: null },
        { event: 'fill', fill: { id: '1', orderId: '2', market: 'ELSEWHERE', side: 'buy', price: '1', amount: '1' } },
        { event: 'fill', fill: { id: '2', orderId: '2', market: 'M1-USDC', side: 'buy', price: 'NaN', amount: '1' } },
        { event: 'fill', fill: { id: '3', orderId: '2', market: 'M1-USDC', side: 'buy', price: '100', amount: '-5' } },
        { event: 'order', order: null },
        { event: 'order', order: { clientOrderId: 'not-ours', status: 'canceled' } },
        { event: 'trades', market: 'M1-USDC', trades: 'x' },
        { event: 'mystery' },
      ];
      for (const m of junk) api.emit(m);
      const s = mm.snapshot();
      assert.equal(s.fillsCounted, 0);
      assert.deepEqual(s.positions, { 'M1-USDC': 0, 'M2-USDC': 0 });
      // The broken update put the book out of sync; a fresh snapshot resyncs it and the bot carries on.
      api.emit({ event: 'book', type: 'snapshot', market: 'M1-USDC', seq: 9, bids: [], asks: [], checksum: bookChecksum([], []) });
      assert.equal(mm.snapshot().bookSeq['M1-USDC'], 9);
      api.emit({ event: 'fill', fill: { id: '4', orderId: '2', market: 'M1-USDC', side: 'sell', price: '100.1', amount: '0.5' } });
      assert.equal(mm.snapshot().positions['M1-USDC'], -0.5);
    });
  });

  it('cancels one by one when the batch cancel is refused; a quote it cannot cancel goes with the next requote', async () => {
    const api = new FakeApi();
    let ref = 100;
    await withBot(api, { price: () => ref }, async (mm) => {
      await until('the ladders', () => api.open.size === 8);
      const first = liveIn(mm, 'M1-USDC');
      api.failBatchCancel = new ParallaxApiError(429, 'RATE_LIMITED', 'slow down');
      api.cancelRefusals.set(first[0]!, 'RATE_LIMITED');
      api.cancelRefusals.set(first[1]!, 'ORDER_NOT_FOUND');
      ref = 110;
      await until('the new ladder', () => liveIn(mm, 'M1-USDC').length === 5);
      // Cancelled one by one: the refused one is still tracked (stale), the unknown one forgotten.
      assert.deepEqual(first.filter((id) => api.cancelled.includes(id)).sort(), first.slice(2).sort());
      assert.ok(liveIn(mm, 'M1-USDC').includes(first[0]!));
      assert.ok(!liveIn(mm, 'M1-USDC').includes(first[1]!));
      api.cancelRefusals.clear();
      ref = 120;
      await until('the stale quote cancelled with the next requote', () => api.cancelled.includes(first[0]!));
      await until('only the newest ladder', () => liveIn(mm, 'M1-USDC').length === 4);
    });
  });

  it('cancels quotes whose place answer was lost at the next requote', async () => {
    const api = new FakeApi();
    let ref = 100;
    await withBot(api, { price: () => ref }, async (mm) => {
      await until('the ladders', () => api.open.size === 8);
      api.failPlace = new Error('socket hang up');
      ref = 110;
      // The batch reached the book but the bot never heard back: after the pause it requotes, cancelling them.
      await until('the failed place', () => api.failPlace === undefined && [...api.open.values()].filter((o) => o.market === 'M1-USDC').length === 4);
      const openIn = (m: string): string[] => [...api.open].filter(([, o]) => o.market === m).map(([id]) => id).sort();
      const lost = openIn('M1-USDC');
      assert.deepEqual(liveIn(mm, 'M1-USDC').sort(), lost, 'the unanswered quotes are tracked');
      await until('the lost batch cancelled', () => lost.every((id) => api.cancelled.includes(id)));
      await until('a fresh ladder, all of it tracked', () => openIn('M1-USDC').length === 4 && JSON.stringify(openIn('M1-USDC')) === JSON.stringify(liveIn(mm, 'M1-USDC').sort()));
      assert.ok(lost.every((id) => !api.open.has(id)));
      const text = await mm.metrics.registry.metrics();
      assert.match(text, /parallax_mm_requote_failures_total\{market="M1-USDC",code="ERROR"\} 1/);
    });
  });

  it('counts refused quotes by reason and pauses that market, not the others', async () => {
    const api = new FakeApi();
    api.reject = { market: 'M2-USDC', reason: 'INSUFFICIENT_FUNDS' };
    await withBot(api, { price: () => 100 }, async (mm) => {
      await until('M1 quoted', () => liveIn(mm, 'M1-USDC').length === 4);
      let refused = 0;
      while (refused === 0) {
        refused = (await mm.metrics.requoteFailures.get()).values.filter((v) => v.labels.market === 'M2-USDC' && v.labels.code === 'INSUFFICIENT_FUNDS').reduce((a, v) => a + v.value, 0);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(refused % 4, 0, 'every refused quote of a ladder is counted');
      assert.equal(liveIn(mm, 'M2-USDC').length, 0);
    });
  });

  it('a reference source that throws pauses its market only', async () => {
    const api = new FakeApi();
    const reference: ReferencePriceSource = {
      price: (v) => {
        if (v.market === 'M2-USDC') throw new Error('oracle down');
        return 100;
      },
    };
    await withBot(api, reference, async (mm) => {
      await until('M1 quoted', () => liveIn(mm, 'M1-USDC').length === 4);
      let failures = 0;
      while (failures === 0) {
        failures = (await mm.metrics.requoteFailures.get()).values.filter((v) => v.labels.market === 'M2-USDC' && v.labels.code === 'STRATEGY_ERROR').reduce((a, v) => a + v.value, 0);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(liveIn(mm, 'M2-USDC').length, 0);
      assert.equal(liveIn(mm, 'M1-USDC').length, 4);
    });
  });
});

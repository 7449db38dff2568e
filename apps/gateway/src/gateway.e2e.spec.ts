// The gateway over real HTTP and WebSocket on the embedded log, with the risk shards in process (no engine:
// what the shards forward to the orders topic is read back from it). Hostile input: forged, replayed and wrongly scoped signatures, other traders' orders, malformed and
// oversized bodies, rate limits, and a fuzz run of 10,000 malformed requests.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { settlementDomain, type SettlementMarket } from '@parallax/chain';
import { decodeCommandBatch, defaultMarkets, MarketCatalogue, settlementTopicSpecs, topicSpecs } from '@parallax/contracts';
import type { Address } from '@parallax/risk';
import { RiskShards } from '@parallax/risk-service';
import { publishChainEvents } from '@parallax/risk-service/testing';
import { signCancel, signLogin, signPlaceOrder, type ApiMarketInfo } from '@parallax/sdk';
import { createEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';
import fc from 'fast-check';
import { privateKeyToAccount } from 'viem/accounts';
import { WebSocket } from 'ws';
import { startGateway } from './bootstrap.js';
import type { IntakeItem, OrderIntake } from './intake/order-intake.js';
import { loadGatewayConfig } from './gateway.config.js';

const topics = {
  orders: 'gw.orders',
  marketEvents: 'gw.events',
  snapshots: 'gw.snapshots',
  deadLetters: 'gw.dead',
  signedOrders: 'gw.signed',
  settlementStatus: 'gw.status',
  requests: 'gw.requests',
  riskResults: 'gw.results',
  chainEvents: 'gw.chain',
  accountEvents: 'gw.accounts',
};
const SHARDS = 2;
const riskTopics = [topics.requests, topics.riskResults, topics.chainEvents, topics.accountEvents].map((name) => ({ name, partitions: SHARDS }));
const domain = settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
const settlementMarkets: SettlementMarket[] = [1, 2].map((marketId) => ({
  marketId,
  baseToken: '0x1000000000000000000000000000000000000001',
  quoteToken: '0x2000000000000000000000000000000000000002',
  lotSize: 10n ** 15n,
  tickSize: 10n ** 4n,
}));
const alice = privateKeyToAccount('0x1111111111111111111111111111111111111111111111111111111111111111');
const mallory = privateKeyToAccount('0x2222222222222222222222222222222222222222222222222222222222222222');
const expiry = (): bigint => BigInt(Math.floor(Date.now() / 1000) + 600);

describe('gateway over real HTTP (embedded log)', () => {
  let app: INestApplication;
  let url: string;
  let log: EmbeddedTransport;
  let market: ApiMarketInfo;
  let risk: RiskShards;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  const commandsInLog = async (): Promise<number> => {
    let n = 0;
    for (let p = 0; p < 2; p++) for await (const chunk of log.read(topics.orders, p, 0)) for (const m of chunk) n += decodeCommandBatch(m.value).commands.length;
    return n;
  };

  before(async () => {
    log = createEmbeddedTransport();
    await log.ensureTopics([...topicSpecs(topics, 2), ...settlementTopicSpecs(topics, 2), ...riskTopics]);
    risk = new RiskShards(
      {
        groupId: 'gw.risk',
        inputs: { requests: topics.requests, chainEvents: topics.chainEvents, accountEvents: topics.accountEvents },
        state: { journal: 'gw.risk-journal', snapshots: 'gw.risk-snapshots' },
        ordersTopic: topics.orders,
        signedOrdersTopic: topics.signedOrders,
        deadLettersTopic: topics.deadLetters,
        resultsTopic: topics.riskResults,
        shards: SHARDS,
        marketPartitions: 2,
        markets: settlementMarkets.map((m) => ({ ...m, baseToken: m.baseToken.toLowerCase() as Address, quoteToken: m.quoteToken.toLowerCase() as Address, makerFeeRate: 0, takerFeeRate: 0 })),
      },
      log,
    );
    await risk.start();
    const deposits = [alice, mallory].flatMap((a) =>
      [settlementMarkets[0]!.baseToken, settlementMarkets[0]!.quoteToken].map((token) => ({ type: 'deposit' as const, account: a.address.toLowerCase() as Address, token: token.toLowerCase() as Address, amount: 10n ** 30n })),
    );
    await publishChainEvents(log, topics.chainEvents, SHARDS, deposits);
    ({ app, url } = await startGateway({
      config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_RATE_LIMIT_ACCOUNT: '100000', GATEWAY_RATE_LIMIT_IP: '1000000', GATEWAY_WAIT_RESULT_MS: '200', GATEWAY_WS_MESSAGES_PER_SECOND: '1000000' }),
      transport: log,
      topics,
      accountShards: SHARDS,
      catalogue: new MarketCatalogue(defaultMarkets(2)),
      domain,
      settlementMarkets,
      tokenDecimals: new Map([[settlementMarkets[0]!.baseToken.toLowerCase(), 18]]),
      fees: { makerFeeRate: 100, takerFeeRate: 500 },
    }));
    const markets = (await (await fetch(`${url}/v1/markets`)).json()) as { markets: ApiMarketInfo[] };
    market = markets.markets[0]!;
  });
  after(async () => {
    await app.close();
    await risk.close();
    await log.close();
  });

  it('answers /health and /metrics, and serves the OpenAPI document at /docs', async () => {
    assert.equal((await fetch(`${url}/health`)).status, 200);
    // Ready once the log it writes orders to answers (the broker indicator on terminus).
    const ready = await fetch(`${url}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { details: { broker: { status: string } } }).details.broker.status, 'up');
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^process_resident_memory_bytes\{service="gateway"\}/m);
    const doc = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    for (const p of ['/v1/markets', '/v1/orders', '/v1/orders/batch', '/v1/orders/cancel', '/v1/orders/cancel-all', '/v1/orders/open', '/v1/markets/{symbol}/book', '/v1/markets/{symbol}/candles']) {
      assert.ok(doc.paths[p], `OpenAPI documents ${p}`);
    }
    assert.equal((await fetch(`${url}/docs`)).status, 200);
  });

  it('serves /metrics only on the internal port when GATEWAY_METRICS_PORT is set (not behind the public balancer)', async () => {
    const internal = await startGateway({
      config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0' }),
      transport: log,
      topics,
      accountShards: SHARDS,
      catalogue: new MarketCatalogue(defaultMarkets(2)),
      domain,
      settlementMarkets,
      fees: { makerFeeRate: 100, takerFeeRate: 500 },
    });
    try {
      assert.ok(internal.metricsUrl);
      assert.equal((await fetch(`${internal.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${internal.url}/health`)).status, 200);
      const res = await fetch(`${internal.metricsUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^nodejs_heap_size_used_bytes\{service="gateway"\}/m);
      assert.equal((await fetch(`${internal.metricsUrl}/health`)).status, 404);
    } finally {
      await internal.app.close();
    }
  });

  it('lists markets with tick, lot, fees and the signing domain', () => {
    assert.equal(market.symbol, 'M1-USDC');
    assert.equal(market.tickSize, '0.01');
    assert.equal(market.lotSizeUnits, String(10n ** 15n));
    // Token decimals as configured; a token the gateway was not told about is null, not a guess.
    const m = market as ApiMarketInfo & { baseDecimals: number | null; quoteDecimals: number | null };
    assert.deepEqual([m.baseDecimals, m.quoteDecimals], [18, null]);
  });

  it('accepts a signed order once: the same signed order again creates nothing new', async () => {
    const before = await commandsInLog();
    const body = await signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price: '100.5', amount: '0.25', nonce: 1n, expiry: expiry(), maxFeeRate: 1000, clientOrderId: 'a-1' });
    const first = await post('/v1/orders', body);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body['result'], 'accepted');
    assert.equal(first.body['duplicate'], false);
    const again = await post('/v1/orders', body);
    assert.equal(again.status, 200);
    assert.equal(again.body['duplicate'], true);
    assert.equal(again.body['id'], first.body['id']);
    assert.equal((await commandsInLog()) - before, 1);
  });

  it('refuses forged, altered and wrongly scoped signatures', async () => {
    const body = await signPlaceOrder(alice, domain, market, { side: 'sell', type: 'limit', price: '101', amount: '1', nonce: 2n, expiry: expiry(), maxFeeRate: 1000 });
    const before = await commandsInLog();
    // Mallory signs but claims to be Alice.
    const forged = await signPlaceOrder(mallory, domain, market, { side: 'sell', type: 'limit', price: '101', amount: '1', nonce: 2n, expiry: expiry(), maxFeeRate: 1000 });
    let r = await post('/v1/orders', { ...forged, trader: alice.address });
    assert.equal(r.status, 401);
    assert.deepEqual(Object.keys(r.body), ['error']);
    assert.equal((r.body['error'] as { code: string }).code, 'SIGNER_MISMATCH');
    // Alice's signature with a better price for the counterparty.
    r = await post('/v1/orders', { ...body, price: '100' });
    assert.equal((r.body['error'] as { code: string }).code, 'SIGNER_MISMATCH');
    // Signed for another chain / another contract.
    const other = await signPlaceOrder(alice, settlementDomain(1, domain.verifyingContract), market, { side: 'sell', type: 'limit', price: '101', amount: '1', nonce: 2n, expiry: expiry(), maxFeeRate: 1000 });
    r = await post('/v1/orders', other);
    assert.equal((r.body['error'] as { code: string }).code, 'SIGNER_MISMATCH');
    // A malleated (high-s) twin of a valid signature.
    const sig = body.signature;
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130), 16);
    const twin = `${sig.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    r = await post('/v1/orders', { ...body, signature: twin });
    assert.equal((r.body['error'] as { code: string }).code, 'INVALID_SIGNATURE');
    assert.equal(await commandsInLog(), before, 'nothing reached the log');
  });

  it("cannot cancel another trader's order, and a signed cancel is accepted once", async () => {
    const placed = await post('/v1/orders', await signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price: '99', amount: '1', nonce: 3n, expiry: expiry(), maxFeeRate: 0 }));
    const orderId = BigInt(placed.body['id'] as string);
    const exp = expiry();
    const mal = { trader: mallory.address, marketId: 1, orderId, clientOrderId: '', expiry: exp, nonce: 7n };
    let r = await post('/v1/orders/cancel', { market: 'M1-USDC', orderId: orderId.toString(), trader: mallory.address, expiry: exp.toString(), nonce: '7', signature: await signCancel(mallory, domain, mal) });
    assert.equal(r.status, 404);
    assert.equal((r.body['error'] as { code: string }).code, 'ORDER_NOT_FOUND');
    const msg = { trader: alice.address, marketId: 1, orderId, clientOrderId: '', expiry: exp, nonce: 8n };
    const cancel = { market: 'M1-USDC', orderId: orderId.toString(), trader: alice.address, expiry: exp.toString(), nonce: '8', signature: await signCancel(alice, domain, msg) };
    r = await post('/v1/orders/cancel', cancel);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await post('/v1/orders/cancel', cancel);
    assert.equal(r.status, 409);
    assert.equal((r.body['error'] as { code: string }).code, 'REPLAYED');
    // Alice's cancel signature presented by Mallory for Mallory.
    r = await post('/v1/orders/cancel', { ...cancel, trader: mallory.address, nonce: '9' });
    assert.equal(r.status, 401);
  });

  it('private reads need a signed login and show only the signer\'s orders', async () => {
    const exp = expiry();
    const sig = await signLogin(mallory, domain, { trader: mallory.address, expiry: exp, nonce: 1n });
    const headers = { 'x-parallax-trader': mallory.address, 'x-parallax-expiry': exp.toString(), 'x-parallax-nonce': '1', 'x-parallax-signature': sig };
    const open = (await (await fetch(`${url}/v1/orders/open`, { headers })).json()) as { orders: unknown[] };
    assert.deepEqual(open.orders, []);
    const noAuth = await fetch(`${url}/v1/orders/open`);
    assert.equal(noAuth.status, 401);
    const wrong = await fetch(`${url}/v1/orders/open`, { headers: { ...headers, 'x-parallax-trader': alice.address } });
    assert.equal(wrong.status, 401);
  });

  it('accepts a signed WebSocket login once: a copied login cannot open a second session (which could arm cancel-on-disconnect)', async () => {
    const exp = expiry();
    const login = { op: 'login', id: 1, trader: mallory.address, expiry: exp.toString(), nonce: '77', signature: await signLogin(mallory, domain, { trader: mallory.address, expiry: exp, nonce: 77n }) };
    const reply = async (): Promise<Record<string, unknown>> => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
      try {
        await new Promise((r) => ws.once('open', r));
        const got = new Promise<Record<string, unknown>>((r) => {
          ws.once('message', (d: Buffer) => {
            r(JSON.parse(d.toString()) as Record<string, unknown>);
          });
        });
        ws.send(JSON.stringify(login));
        return await got;
      } finally {
        ws.close();
      }
    };
    const first = await reply();
    assert.equal(first['event'], 'result', JSON.stringify(first));
    const copied = await reply();
    assert.equal(copied['event'], 'error');
    assert.equal((copied['error'] as { code: string }).code, 'REPLAYED');
  });

  it('refuses unknown fields, malformed JSON and oversized bodies with stable codes', async () => {
    const body = await signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price: '100', amount: '1', nonce: 4n, expiry: expiry(), maxFeeRate: 0 });
    let r = await post('/v1/orders', { ...body, accountId: 1 });
    assert.equal(r.status, 400);
    assert.equal((r.body['error'] as { code: string }).code, 'INVALID_FIELD');
    assert.match((r.body['error'] as { message: string }).message, /accountId/);
    r = await post('/v1/orders', '{"market":');
    assert.equal((r.body['error'] as { code: string }).code, 'MALFORMED_JSON');
    r = await post('/v1/orders', JSON.stringify({ ...body, pad: 'x'.repeat(300_000) }));
    assert.equal(r.status, 413);
    assert.equal((r.body['error'] as { code: string }).code, 'PAYLOAD_TOO_LARGE');
    r = await post('/v1/orders', { ...body, price: '100.001' });
    assert.equal((r.body['error'] as { code: string }).code, 'PRICE_OFF_TICK');
  });

  it('streams a book snapshot over the WebSocket and answers bad messages with error events', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    const got: Record<string, unknown>[] = [];
    ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send('not json');
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'book', market: 'M1-USDC' }));
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'orders' }));
    ws.send(JSON.stringify({ op: 'place', order: {} }));
    const deadline = Date.now() + 5_000;
    while (got.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    assert.equal((got[0]!['error'] as { code: string }).code, 'MALFORMED_JSON');
    assert.equal(got[1]!['event'], 'book');
    assert.equal(got[1]!['type'], 'snapshot');
    assert.equal(typeof got[1]!['checksum'], 'number');
    assert.equal(got[2]!['event'], 'result');
    assert.equal((got[3]!['error'] as { code: string }).code, 'NOT_LOGGED_IN');
    assert.equal((got[4]!['error'] as { code: string }).code, 'NOT_LOGGED_IN');
  });

  /** A logged-in WebSocket connection of `who` whose `call` sends a message and resolves with its answer (by id). */
  const wsSession = async (who: typeof alice, loginNonce: bigint): Promise<{ call: (m: Record<string, unknown>) => Promise<Record<string, unknown>>; ws: WebSocket }> => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    await new Promise((r) => ws.once('open', r));
    const waiting = new Map<unknown, (m: Record<string, unknown>) => void>();
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      waiting.get(m['id'])?.(m);
      waiting.delete(m['id']);
    });
    let next = 0;
    const call = (m: Record<string, unknown>): Promise<Record<string, unknown>> =>
      new Promise((r) => {
        const id = `q${next++}`;
        waiting.set(id, r);
        ws.send(JSON.stringify({ ...m, id }));
      });
    const exp = expiry();
    const login = await call({ op: 'login', trader: who.address, expiry: exp.toString(), nonce: loginNonce.toString(), signature: await signLogin(who, domain, { trader: who.address, expiry: exp, nonce: loginNonce }) });
    assert.equal(login['event'], 'result', JSON.stringify(login));
    return { call, ws };
  };
  const errorOf = (m: Record<string, unknown>): { code: string; message: string } => {
    assert.equal(m['event'], 'error', JSON.stringify(m));
    return m['error'] as { code: string; message: string };
  };

  it('places a batch over the WebSocket: all verified before any is submitted, each refusal naming its order', async () => {
    const { call, ws } = await wsSession(alice, 501n);
    try {
      const order = (nonce: bigint, price = '90'): ReturnType<typeof signPlaceOrder> => signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price, amount: '1', nonce, expiry: expiry(), maxFeeRate: 0 });
      const a = await order(601n);
      const b = await order(602n);
      // One bad order refuses the whole batch: the good one before it is not submitted.
      let e = errorOf(await call({ op: 'placeBatch', orders: [a, { ...b, price: 'abc' }] }));
      assert.equal(e.code, 'INVALID_FIELD');
      assert.match(e.message, /^orders\[1\]\.price/);
      e = errorOf(await call({ op: 'placeBatch', orders: [a, { ...b, price: '90.001' }] }));
      assert.equal(e.code, 'PRICE_OFF_TICK');
      assert.match(e.message, /^orders\[1\]\./);
      // Another trader's order on Alice's connection, an empty batch, an oversized one, not an array.
      const m = await signPlaceOrder(mallory, domain, market, { side: 'buy', type: 'limit', price: '90', amount: '1', nonce: 603n, expiry: expiry(), maxFeeRate: 0 });
      assert.equal(errorOf(await call({ op: 'placeBatch', orders: [a, m] })).code, 'SIGNER_MISMATCH');
      assert.equal(errorOf(await call({ op: 'placeBatch', orders: [] })).code, 'INVALID_FIELD');
      assert.equal(errorOf(await call({ op: 'placeBatch', orders: { 0: a } })).code, 'INVALID_FIELD');
      assert.equal(errorOf(await call({ op: 'placeBatch', orders: Array.from({ length: 51 }, () => a) })).code, 'TOO_MANY_ORDERS_IN_BATCH');
      assert.equal(errorOf(await call({ op: 'placeBatch', orders: [a, a] })).code, 'REPLAYED');
      // The good batch: both accepted, each its own new order (so the refused batches above submitted nothing).
      const ok = await call({ op: 'placeBatch', orders: [a, b] });
      assert.equal(ok['event'], 'result', JSON.stringify(ok));
      const results = (ok['data'] as { orders: { result: string; duplicate: boolean; id: string }[] }).orders;
      assert.deepEqual(
        results.map((r) => [r.result, r.duplicate]),
        [
          ['accepted', false],
          ['accepted', false],
        ],
      );
      assert.notEqual(results[0]!.id, results[1]!.id);
      // Sent again, the same signed orders create nothing new.
      const again = await call({ op: 'placeBatch', orders: [a, b] });
      assert.deepEqual((again['data'] as { orders: { id: string; duplicate: boolean }[] }).orders.map((r) => [r.id, r.duplicate]), results.map((r) => [r.id, true]));
    } finally {
      ws.close();
    }
  });

  it('fuzz: 2,000 malformed WebSocket batches all get an error event with a stable code and change no order', async () => {
    const { call, ws } = await wsSession(alice, 502n);
    try {
      const before = await commandsInLog();
      const valid = await signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price: '50', amount: '1', nonce: 98n, expiry: expiry(), maxFeeRate: 0 });
      const anyJson = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(null));
      // Batches whose last order is always refused (well formed, but its signature is for another nonce), so
      // none can be accepted: a valid order with one field replaced, removed or added, arbitrary JSON as
      // orders, and arbitrary `orders` values.
      const mutated: fc.Arbitrary<unknown> = fc.oneof(
        fc.tuple(fc.constantFrom(...Object.keys(valid)), anyJson).map(([k, v]) => ({ ...valid, [k]: v })),
        fc.constantFrom(...Object.keys(valid)).map((k) => ({ ...valid, [k]: undefined })),
        fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyJson).map(([k, v]) => ({ ...valid, [`x${k}`]: v })),
        anyJson as fc.Arbitrary<unknown>,
      );
      const orders = fc.oneof(
        fc.array(mutated, { minLength: 0, maxLength: 5 }).map((xs) => [...xs, { ...valid, nonce: '12345' }] as unknown),
        anyJson as fc.Arbitrary<unknown>,
      );
      const samples = fc.sample(orders, { numRuns: 2_000, seed: 7 });
      const codes = new Map<string, number>();
      for (const o of samples) {
        const m = await call({ op: 'placeBatch', orders: o });
        const e = errorOf(m);
        assert.equal(typeof e.code, 'string');
        assert.doesNotMatch(JSON.stringify(m), /at .*\.js:\d+/, 'no stack trace');
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
      assert.ok(codes.size > 1, `several refusal codes: ${JSON.stringify([...codes])}`);
      assert.equal((await call({ op: 'ping' }))['event'], 'result', 'the connection still answers');
      assert.equal(await commandsInLog(), before, 'no malformed batch reached the log');
    } finally {
      ws.close();
    }
  });

  it('fuzz: 10,000 malformed requests all get a clean 4xx and change no order', async () => {
    const before = await commandsInLog();
    const valid = await signPlaceOrder(alice, domain, market, { side: 'buy', type: 'limit', price: '50', amount: '1', nonce: 99n, expiry: expiry(), maxFeeRate: 0 });
    const paths = ['/v1/orders', '/v1/orders/batch', '/v1/orders/cancel', '/v1/orders/cancel-batch', '/v1/orders/cancel-all'];
    const anyJson = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(null));
    // Valid order with one field replaced by garbage, removed, or an extra field; and arbitrary JSON.
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify(v)),
      fc.tuple(fc.constantFrom(...Object.keys(valid)), anyJson).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
      fc.constantFrom(...Object.keys(valid)).map((k) => JSON.stringify({ ...valid, [k]: undefined })),
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyJson).map(([k, v]) => JSON.stringify({ ...valid, nonce: '12345', [`x${k}`]: v })),
    );
    const samples = fc.sample(fc.tuple(fc.constantFrom(...paths), body), { numRuns: 10_000, seed: 42 });
    let i = 0;
    const statuses = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (i < samples.length) {
        const [path, b] = samples[i++]!;
        const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        assert.ok(res.status >= 400 && res.status < 500, `${path} ${b.slice(0, 200)} -> ${res.status} ${text}`);
        const parsed = JSON.parse(text) as { error: { code: string; message: string } };
        assert.equal(typeof parsed.error.code, 'string');
        assert.doesNotMatch(text, /at .*\.js:\d+/, 'no stack trace');
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal((await fetch(`${url}/health`)).status, 200, 'still up');
    assert.equal(await commandsInLog(), before, 'no malformed request reached the log');
  });
  it('fuzz: 10,000 hostile query strings on every GET endpoint all get 400 INVALID_FIELD naming the parameter', async () => {
    const before = await commandsInLog();
    const int = (min: number, max: number) => ({ kind: 'int' as const, min, max });
    const endpoints: readonly { path: string; params: Record<string, { kind: 'int'; min: number; max: number } | { kind: 'enum'; values: string[] } | { kind: 'market' }> }[] = [
      { path: '/v1/markets', params: {} },
      { path: '/v1/markets/M1-USDC/book', params: { depth: int(1, 1000) } },
      { path: '/v1/markets/M1-USDC/trades', params: { limit: int(1, 1000) } },
      { path: '/v1/markets/M1-USDC/candles', params: { interval: { kind: 'enum', values: ['1m', '5m', '15m', '1h', '4h', '1d'] }, since: int(0, Number.MAX_SAFE_INTEGER), limit: int(1, 5000) } },
      { path: '/v1/markets/M1-USDC/ticker', params: {} },
      { path: '/v1/stats', params: {} },
      { path: '/v1/settlement/batches', params: { limit: int(1, 500) } },
      { path: '/v1/orders/open', params: { market: { kind: 'market' } } },
      { path: '/v1/orders/closed', params: { market: { kind: 'market' } } },
      { path: '/v1/orders/fills', params: { market: { kind: 'market' } } },
      { path: '/v1/orders/M1-USDC/1', params: {} },
      { path: '/v1/orders/M1-USDC/client/c-1', params: {} },
      { path: '/v1/account/balances', params: {} },
      { path: '/v1/account/transfers', params: { limit: int(1, 500) } },
    ];
    const validInt = (p: { min: number; max: number }) => (v: string): boolean => /^[0-9]{1,16}$/.test(v) && Number(v) >= p.min && Number(v) <= p.max;
    // A bad value of one known parameter: any string that does not parse, or an integer out of range.
    const badValue = (p: (typeof endpoints)[number]['params'][string]): fc.Arbitrary<string> => {
      if (p.kind === 'int') {
        return fc.oneof(
          fc.string({ maxLength: 30 }).filter((v) => !validInt(p)(v)),
          fc.constantFrom('abc', '-1', '1.5', '1e3', '0x10', '', ' 5', '+5', 'NaN', 'Infinity', '99999999999999999999', String(p.max + 1), String(p.min - 1)).filter((v) => !validInt(p)(v)),
          fc.bigInt({ min: BigInt(p.max) + 1n, max: 10n ** 30n }).map(String),
          fc.bigInt({ min: -(10n ** 30n), max: -1n }).map(String),
        );
      }
      if (p.kind === 'enum') return fc.string({ maxLength: 12 }).filter((v) => !p.values.includes(v));
      return fc.string({ maxLength: 60 }).filter((v) => !/^[A-Za-z0-9._-]{1,40}$/.test(v));
    };
    const sample = fc.constantFrom(...endpoints).chain((e) => {
      const names = Object.keys(e.params);
      const unknown = fc.tuple(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !names.includes(k) && k !== '__proto__'), fc.string({ maxLength: 20 })).map(([k, v]) => ({ q: [[k, v]] as [string, string][], field: k }));
      if (names.length === 0) return unknown.map((u) => ({ path: e.path, ...u }));
      const bad = fc.constantFrom(...names).chain((k) => badValue(e.params[k]!).map((v) => ({ q: [[k, v]] as [string, string][], field: k })));
      const repeated = fc.constantFrom(...names).map((k) => ({ q: [[k, '1'], [k, '2']] as [string, string][], field: k }));
      const nested = fc.constantFrom(...names).map((k) => ({ q: [[`${k}[a]`, '1']] as [string, string][], field: k }));
      return fc.oneof(bad, unknown, repeated, nested).map((u) => ({ path: e.path, ...u }));
    });
    const samples = fc.sample(sample, { numRuns: 10_000, seed: 7 });
    let i = 0;
    const worker = async (): Promise<void> => {
      while (i < samples.length) {
        const { path, q, field } = samples[i++]!;
        const query = new URLSearchParams();
        for (const [k, v] of q) query.append(k, v);
        const res = await fetch(`${url}${path}?${query.toString()}`);
        const text = await res.text();
        assert.equal(res.status, 400, `${path}?${query.toString()} -> ${res.status} ${text}`);
        const { error } = JSON.parse(text) as { error: { code: string; message: string } };
        assert.equal(error.code, 'INVALID_FIELD', text);
        // The message names the parameter (an unknown one shown quoted, cut at 40 characters).
        assert.ok(error.message.includes(field) || error.message.includes(JSON.stringify(field.slice(0, 40)).slice(1, -1)) || error.message.startsWith('query parameter'), `${path}?${query.toString()}: ${error.message}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    // Sane values still answer.
    for (const path of ['/v1/markets/M1-USDC/book?depth=1000', '/v1/markets/M1-USDC/trades?limit=1', '/v1/markets/M1-USDC/candles?interval=1d&since=0&limit=5000', '/v1/settlement/batches?limit=500']) {
      assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    }
    assert.equal((await fetch(`${url}/health`)).status, 200, 'still up');
    assert.equal(await commandsInLog(), before, 'no request reached the log');
  });
});

describe('gateway rate limits', () => {
  it('limits requests per trader with the standard headers and a stable code', async () => {
    const log = createEmbeddedTransport();
    await log.ensureTopics([...topicSpecs(topics, 1), ...settlementTopicSpecs(topics, 1), ...riskTopics]);
    const { app, url } = await startGateway({
      config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_RATE_LIMIT_ACCOUNT: '5', GATEWAY_RATE_WINDOW_MS: '60000' }),
      transport: log,
      topics,
      accountShards: SHARDS,
      catalogue: new MarketCatalogue(defaultMarkets(1)),
      domain,
      settlementMarkets: settlementMarkets.slice(0, 1),
      fees: { makerFeeRate: 0, takerFeeRate: 0 },
    });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let k = 0; k < 7; k++) {
        last = await fetch(`${url}/v1/orders/open`, { headers: { 'x-parallax-trader': alice.address } });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      assert.ok(last?.headers.get('retry-after-account') ?? last?.headers.get('retry-after'));
      const body = (await last!.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'RATE_LIMITED');
      // Another trader from the same IP is not limited by Alice's budget.
      assert.equal((await fetch(`${url}/v1/orders/open`, { headers: { 'x-parallax-trader': mallory.address } })).status, 401);
      // A batch counts as the orders it carries: 3 of 5, then 3 more do not fit (refused, not counted), 2 do.
      const batch = async (n: number): Promise<number> =>
        (await fetch(`${url}/v1/orders/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orders: Array.from({ length: n }, () => ({})) }) })).status;
      assert.deepEqual([await batch(3), await batch(3), await batch(2), await batch(1)], [400, 429, 400, 429]);
    } finally {
      await app.close();
      await log.close();
    }
  });
});

describe('gateway WebSocket message budget', () => {
  it('counts a placeBatch as one message per order it carries, once', async () => {
    const log = createEmbeddedTransport();
    await log.ensureTopics([...topicSpecs(topics, 1), ...settlementTopicSpecs(topics, 1), ...riskTopics]);
    const { app, url } = await startGateway({
      config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_WS_MESSAGES_PER_SECOND: '10' }),
      transport: log,
      topics,
      accountShards: SHARDS,
      catalogue: new MarketCatalogue(defaultMarkets(1)),
      domain,
      settlementMarkets: settlementMarkets.slice(0, 1),
      fees: { makerFeeRate: 0, takerFeeRate: 0 },
    });
    // The first message of a fresh connection each: its budget window starts with it, so no clock is involved.
    const first = async (msg: unknown): Promise<string> => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
      try {
        await new Promise((r) => ws.once('open', r));
        const got = new Promise<Record<string, unknown>>((r) => {
          ws.once('message', (d: Buffer) => {
            r(JSON.parse(d.toString()) as Record<string, unknown>);
          });
        });
        ws.send(JSON.stringify(msg));
        return ((await got)['error'] as { code: string }).code;
      } finally {
        ws.close();
      }
    };
    try {
      // Ten orders fit a budget of ten (and then need a login); eleven do not.
      assert.equal(await first({ op: 'placeBatch', orders: Array.from({ length: 10 }, () => ({})) }), 'NOT_LOGGED_IN');
      assert.equal(await first({ op: 'placeBatch', orders: Array.from({ length: 11 }, () => ({})) }), 'RATE_LIMITED');
    } finally {
      await app.close();
      await log.close();
    }
  });
});

describe('gateway when the log does not acknowledge', () => {
  it('answers UNAVAILABLE, and a resend of the same signed order goes out again (the shard takes a signed order once)', async () => {
    const log = createEmbeddedTransport();
    await log.ensureTopics([...topicSpecs(topics, 1), ...settlementTopicSpecs(topics, 1), ...riskTopics]);
    const sent: IntakeItem[][] = [];
    let fail = true;
    const intake: OrderIntake = {
      submit(items) {
        sent.push([...items]);
        if (fail) {
          fail = false;
          return Promise.reject(new Error('broker down'));
        }
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const { app, url } = await startGateway(
      {
        config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_WAIT_RESULT_MS: '100' }),
        transport: log,
        topics,
        accountShards: SHARDS,
        catalogue: new MarketCatalogue(defaultMarkets(1)),
        domain,
        settlementMarkets: settlementMarkets.slice(0, 1),
        fees: { makerFeeRate: 0, takerFeeRate: 0 },
      },
      { intake },
    );
    try {
      const markets = (await (await fetch(`${url}/v1/markets`)).json()) as { markets: ApiMarketInfo[] };
      const body = JSON.stringify(await signPlaceOrder(alice, domain, markets.markets[0]!, { side: 'buy', type: 'limit', price: '10', amount: '1', nonce: 5n, expiry: expiry(), maxFeeRate: 0 }));
      const send = async (): Promise<{ status: number; json: Record<string, unknown> }> => {
        const res = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const first = await send();
      assert.equal(first.status, 503);
      assert.equal((first.json['error'] as { code: string }).code, 'UNAVAILABLE');
      // No risk shard answers here: durably in the requests log, but pending.
      const second = await send();
      assert.equal(second.status, 200);
      assert.equal(second.json['result'], 'pending');
      assert.equal(second.json['id'], null);
      assert.equal(sent.length, 2, 'sent twice: the failed attempt and the resend');
      const nonces = sent.map((items) => (items[0]!.kind === 'place' ? items[0]!.request.order.nonce : -1n));
      assert.deepEqual(nonces, [5n, 5n]);
    } finally {
      await app.close();
      await log.close();
    }
  });
});

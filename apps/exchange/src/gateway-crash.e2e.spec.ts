// A gateway killed mid-stream loses no accepted order. A gateway *process* (apps/gateway's dist/main.js, as
// deployed) joins the stack on the real Kafka broker; a client streams signed orders into it and the process is
// killed with SIGKILL while requests are in flight. Every order it acknowledged reaches the engine (the
// launcher's own gateway, another instance, shows it open), none is booked twice, also when the client resends
// every order (acknowledged, in flight or never sent) to the restarted process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { localTraderAccount } from '@parallax/chain';
import { until } from '@parallax/gateway/testing';
import { createLogger } from '@parallax/observability';
import { ParallaxClient, type PlaceOrderBody, type PlaceResult } from '@parallax/sdk';
import { loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';
import { fundThroughRisk } from './testing/fund.js';

const M = 'M1-USDC';
const ORDERS = 240;
/** Acknowledgements the client waits for before the kill (the rest are in flight or not sent yet). */
const KILL_AFTER = 60;

/** Starts dist/main.js of @parallax/gateway with `env`; resolves with the process and its URL once it listens. */
async function startGatewayProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const entry = join(dirname(createRequire(import.meta.url).resolve('@parallax/gateway')), 'main.js');
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      reject(new Error(`the gateway process exited before listening (${signal ?? String(code)})`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { msg?: string; url?: string };
        if (msg.msg === 'gateway listening' && typeof msg.url === 'string') resolve(msg.url);
      } catch {
        // Not a log line of ours.
      }
    });
  });
  await until('the gateway process to be ready', async () => ((await fetch(`${url}/ready`).catch(() => undefined))?.status === 200 ? true : undefined));
  return { child, url };
}

describe('a gateway process killed mid-stream on Kafka', () => {
  let exchange: RunningExchange;
  let env: Record<string, string>;
  let brokers: string[];
  let processes: ChildProcess[] = [];

  before(async () => {
    const list = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
    brokers = list.split(',');
    const config = loadExchangeConfig({
      PARTITIONS: '2',
      MARKETS: '2',
      EXCHANGE_ENGINES: '1',
      GATEWAY_PORT: '0',
      ENGINE_HTTP_PORT_BASE: '0',
      SETTLEMENT_HTTP_PORT: '0',
      EXCHANGE_SETTLEMENT: 'false',
      KAFKA_BROKERS: list,
      // Its own names on the shared broker: other tests' launches never see these topics or groups.
      EXCHANGE_NAMESPACE: `gwcrash${Date.now().toString(36)}`,
    });
    exchange = await startExchange(config, createLogger('gateway-crash-e2e', 'silent'));
    const local = exchange.localChain!;
    const risk = exchange.risk!;
    const inherited: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) inherited[k] = v;
    env = {
      ...inherited,
      KAFKA_BROKERS: list,
      GATEWAY_PORT: '0',
      GATEWAY_INSTANCE: '3',
      GATEWAY_RATE_LIMIT_ACCOUNT: '1000000',
      GATEWAY_RATE_LIMIT_IP: '1000000',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      MARKETS: '2',
      PARTITIONS: '2',
      ACCOUNT_SHARDS: String(risk.shards),
      TOPIC_REQUESTS: risk.topics.requests,
      TOPIC_RISK_RESULTS: risk.resultsTopic,
      TOPIC_CHAIN_EVENTS: risk.topics.chainEvents,
      TOPIC_MARKET_EVENTS: exchange.names.topics.marketEvents,
      TOPIC_SIGNED_ORDERS: exchange.names.settlementTopics.signedOrders,
      TOPIC_SETTLEMENT_STATUS: exchange.names.settlementTopics.settlementStatus,
      CHAIN_ID: String(local.chain.domain.chainId),
      SETTLEMENT_ADDRESS: local.chain.settlement,
      SETTLEMENT_MARKETS: JSON.stringify(local.markets.map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }))),
    };
  });
  after(async () => {
    for (const p of processes) p.kill('SIGKILL');
    processes = [];
    await (exchange as RunningExchange | undefined)?.close();
  });

  it('every order it acknowledged reaches the engine, none twice, also after the client resends them all', async () => {
    const account = localTraderAccount('gateway-crash', 1);
    // Signs against the launcher's gateway (the same deployment); the process gateway takes the orders.
    const other = new ParallaxClient({ url: exchange.gatewayUrl, account });
    await fundThroughRisk(exchange, [account.address], {}, brokers);
    // Distinct prices: an order booked twice would show as two open orders at one price.
    const bodies: PlaceOrderBody[] = [];
    for (let i = 0; i < ORDERS; i++) bodies.push(await other.signOrder(M, { side: 'buy', type: 'limit', price: (40 + i / 100).toFixed(2), amount: '0.001', maxFeeRate: 2_000 }));

    const first = await startGatewayProcess(env);
    processes.push(first.child);
    const acked = new Map<number, string>();
    let next = 0;
    // An object, not a let: the workers set it from their closures.
    const kill = { done: false };
    const killed = (): boolean => kill.done;
    const post = async (url: string, body: PlaceOrderBody): Promise<PlaceResult> => {
      const res = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as PlaceResult;
      assert.equal(res.status, 200, JSON.stringify(json));
      return json;
    };
    const worker = async (): Promise<void> => {
      while (!kill.done && next < ORDERS) {
        const i = next++;
        try {
          const r = await post(first.url, bodies[i]!);
          if (r.result === 'accepted' && r.id !== null) acked.set(i, r.id);
        } catch (err) {
          // Only the kill may fail a request: its outcome is unknown to the client.
          if (!killed()) throw err;
          return;
        }
        if (acked.size >= KILL_AFTER && !killed()) {
          kill.done = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.ok(kill.done, 'killed mid-stream');
    assert.ok(acked.size >= KILL_AFTER && acked.size < ORDERS, `acknowledged ${acked.size} of ${ORDERS} before the kill`);

    // Another gateway shows every acknowledged order open at the engine.
    const ids = new Set(acked.values());
    await until('the acknowledged orders at the engine', async () => {
      const open = await other.openOrders(M);
      const seen = new Set(open.map((o) => o.id));
      return [...ids].every((id) => seen.has(id)) ? true : undefined;
    }, 60_000);

    // The client resends everything to the restarted process: acknowledged orders answer with their id.
    const second = await startGatewayProcess(env);
    processes.push(second.child);
    // Once it has read the log back to the acknowledged orders (it rebuilds its (trader, nonce) index from it).
    const again = new ParallaxClient({ url: second.url, account });
    await until('the restarted gateway to catch up', async () => {
      const seen = new Set((await again.openOrders(M)).map((o) => o.id));
      return [...ids].every((id) => seen.has(id)) ? true : undefined;
    }, 60_000);
    for (let i = 0; i < ORDERS; i++) {
      const r = await post(second.url, bodies[i]!);
      const known = acked.get(i);
      if (known !== undefined) assert.deepEqual([r.id, r.duplicate], [known, true], `order ${i}`);
      else assert.ok(r.id !== null && (r.result === 'accepted' || r.result === 'answered'), JSON.stringify(r));
    }
    const open = await until('all the orders at the engine', async () => {
      const o = await other.openOrders(M);
      return o.length >= ORDERS ? o : undefined;
    }, 60_000);
    assert.equal(open.length, ORDERS, 'none booked twice');
    assert.equal(new Set(open.map((o) => o.price)).size, ORDERS);
    assert.equal(new Set(open.map((o) => o.id)).size, ORDERS);
    await other.cancelAll(M);
  });
});

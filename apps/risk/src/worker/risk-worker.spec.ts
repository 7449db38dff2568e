// Single-machine mode: risk instances in worker threads on the embedded log of the main thread, served as
// Nest apps (/metrics, /health, /ready). Terminating a worker is the embedded equivalent of kill -9: the
// other instance restores its shards from snapshot + journal, and the audit from the logs finds every
// committed output explained by the journal exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeChainEventBatch, encodeRiskRequestBatch, type ClientRequest } from '@parallax/contracts';
import { shardForAccount, type Address } from '@parallax/risk';
import { accountAddress, placeRequest, QUOTE, testMarket } from '@parallax/risk/testing';
import { createEmbeddedTransport } from '@parallax/transport';
import { loadRiskConfig } from '../config/risk.config.js';
import { restoreShard } from '../service/risk-shards.js';
import { drained, rerunJournal, valueMultiset } from '../testing/journal-audit.js';
import { startRiskWorker } from './risk-worker.js';

const SHARDS = 2;
const MARKETS = [1, 2].map((id) => testMarket(id, { maker: 0, taker: 100 }));
/** terminus's body of /ready: the `shards` indicator names what this instance owns and still restores. */
interface ReadyBody {
  readonly status: string;
  readonly details: { readonly shards: { readonly owned: number[]; readonly restoring: number[] } };
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function environment(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'risk-worker-'));
  const marketsFile = join(dir, 'markets.json');
  writeFileSync(marketsFile, JSON.stringify(MARKETS.map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }))));
  return { RISK_MARKETS_FILE: marketsFile, ACCOUNT_SHARDS: String(SHARDS), PARTITIONS: '2', MAX_BATCH_MESSAGES: '5', SNAPSHOT_EVERY_MESSAGES: '25', RISK_HTTP_PORT: '0', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent' };
}

const metric = (text: string, name: string, labels = ''): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(labels))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

describe('risk instances in worker threads (Nest app, embedded log)', () => {
  it('serves /health, /ready and /metrics, and a worker killed mid-stream loses and duplicates nothing', { timeout: 120_000 }, async () => {
    const log = createEmbeddedTransport();
    const env = environment();
    const config = loadRiskConfig(env).shards;
    const a = await startRiskWorker(log, { ...env, RISK_INSTANCE_ID: 'a' });
    const b = await startRiskWorker(log, { ...env, RISK_INSTANCE_ID: 'b' });
    const producer = await log.producer();
    try {
      const traders = Array.from({ length: 8 }, (_, i) => accountAddress(i + 1));
      const unfunded = accountAddress(99);
      await producer.send(
        config.inputs.chainEvents,
        traders.map((acc) => ({ key: acc, partition: shardForAccount(acc, SHARDS), value: encodeChainEventBatch({ sentAtMs: 0, events: [{ type: 'deposit', account: acc, token: QUOTE, amount: 10_000_000n }] }) })),
      );
      const nonces = new Map<Address, bigint>();
      const send = async (round: number): Promise<void> => {
        const reqs: ClientRequest[] = [];
        for (let i = 0; i < 10; i++) {
          const acc = i === 0 ? unfunded : traders[(round + i) % traders.length]!;
          const nonce = (nonces.get(acc) ?? 0n) + 1n;
          nonces.set(acc, nonce);
          reqs.push(placeRequest(acc, MARKETS[i % 2]!, { ts: 1_000 + round * 10 + i, isBuy: true, priceTicks: 90 + (i % 5), lots: 1 + (i % 3), nonce }));
        }
        await producer.send(config.inputs.requests, reqs.map((r) => ({ key: r.account, partition: shardForAccount(r.account, SHARDS), value: encodeRiskRequestBatch({ sentAtMs: 0, requests: [r] }) })));
      };
      const topics = [config.inputs.requests, config.inputs.chainEvents, config.inputs.accountEvents];
      for (let round = 0; round < 10; round++) await send(round);
      for (let i = 0; !(await drained(log, topics.map((topic) => [topic, config.groupId] as const))); i++) {
        if (i > 2000) throw new Error('the shards made no progress');
        await sleep(10);
      }
      for (const w of [a, b]) {
        assert.equal((await fetch(`${w.url}/health`)).status, 200);
        const ready = await fetch(`${w.url}/ready`);
        const body = (await ready.json()) as ReadyBody;
        assert.equal(ready.status, 200, JSON.stringify(body));
        assert.equal(body.status, 'ok');
        assert.deepEqual(body.details.shards.restoring, []);
        assert.equal(body.details.shards.owned.length, 1, 'two instances split two shards');
      }
      const scrape = async () => Promise.all([a, b].map(async (w) => (await fetch(`${w.url}/metrics`)).text()));
      const texts = await scrape();
      const accepted = texts.reduce((n, t) => n + metric(t, 'parallax_risk_orders_accepted_total'), 0);
      assert.equal(accepted, 90, 'every funded order accepted');
      assert.equal(texts.reduce((n, t) => n + metric(t, 'parallax_risk_requests_rejected_total', 'reason="INSUFFICIENT_FUNDS"'), 0), 10);
      for (const name of ['parallax_risk_consumer_lag', 'parallax_risk_snapshot_age_seconds', 'parallax_risk_open_orders', 'parallax_risk_dead_letters_total', 'parallax_risk_snapshots_total', 'parallax_risk_parked_settlement_base_units']) {
        assert.ok(texts.some((t) => t.includes(name)), `${name} exported`);
      }

      // kill -9 of a (no close): b takes its shard, restored from snapshot + journal; more input arrives.
      await a.worker.terminate();
      for (let round = 10; round < 20; round++) await send(round);
      for (let i = 0; !(await drained(log, topics.map((topic) => [topic, config.groupId] as const))); i++) {
        if (i > 3000) throw new Error('the surviving instance did not take over');
        await sleep(10);
      }
      const ready = (await (await fetch(`${b.url}/ready`)).json()) as ReadyBody;
      assert.deepEqual(ready.details.shards.owned, [0, 1]);
      // Audit: each shard as a new owner would restore it = a re-run of its whole journal, whose outputs are
      // exactly the committed ones (nothing lost or doubled across the kill).
      const live = (await (await fetch(`${b.url}/shards`)).json()) as { shard: number; stateHash: string }[];
      const reruns = [];
      for (let s = 0; s < SHARDS; s++) {
        const restored = await restoreShard(log, config, s);
        const rerun = await rerunJournal(log, config, s);
        assert.equal(restored.report.stateHash, rerun.shard.engine.stateHash());
        assert.equal(live.find((x) => x.shard === s)?.stateHash, rerun.shard.engine.stateHash(), `shard ${s}: the surviving worker holds the replayed state`);
        reruns.push(rerun);
      }
      const committed = [];
      for (let p = 0; p < 2; p++) for await (const chunk of log.read(config.ordersTopic, p, 0)) committed.push(...chunk);
      assert.deepEqual(valueMultiset(reruns.flatMap((r) => r.orders)), valueMultiset(committed));
      assert.equal(
        reruns.reduce((n, r) => n + r.signedOrders.length, 0) > 0 && reruns.every((r) => r.shard.engine.openOrderCount > 0),
        true,
      );
      assert.equal(reruns.reduce((n, r) => n + r.shard.engine.openOrderCount, 0), 180, 'every funded order of both phases is open once');
    } finally {
      await producer.close();
      await a.worker.terminate();
      await b.stop();
      await log.close();
    }
  });
});

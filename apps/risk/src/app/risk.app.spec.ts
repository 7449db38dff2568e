// The risk app's probes when a restore is refused: the group committed input for a shard that has no
// snapshot (MISSING_SNAPSHOT). The instance must not serve that shard: /ready and /health answer 503 with
// the reason, and the refusal is counted in /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '@parallax/observability';
import { testMarket } from '@parallax/risk/testing';
import { createEmbeddedTransport } from '@parallax/transport';
import { loadRiskConfig } from '../config/risk.config.js';
import { startRisk } from './risk.app.js';

/** One market (taker fee 100), `shards` account shards, one market partition, any free HTTP port. */
function configWith(shards: number): ReturnType<typeof loadRiskConfig> {
  const marketsFile = join(mkdtempSync(join(tmpdir(), 'risk-app-')), 'markets.json');
  writeFileSync(marketsFile, JSON.stringify([testMarket(1, { maker: 0, taker: 100 })].map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }))));
  return loadRiskConfig({ RISK_MARKETS_FILE: marketsFile, ACCOUNT_SHARDS: String(shards), PARTITIONS: '1', RISK_HTTP_PORT: '0' });
}

describe('risk app probes', () => {
  it('a refused restore makes /health and /ready answer 503 with the reason, counted in /metrics', async () => {
    const config = configWith(1);
    const log = createEmbeddedTransport();
    // The group committed input of shard 0, but no snapshot exists (lost, or the topic was recreated).
    await log.ensureTopics([{ name: config.shards.inputs.requests, partitions: 1 }]);
    const p = await log.producer({ transactionalId: 'elsewhere' });
    await p.transaction((tx) => {
      tx.send(config.shards.inputs.requests, [{ key: 'k', partition: 0, value: Uint8Array.from([1]) }]);
      tx.commitOffsets(config.shards.groupId, [{ topic: config.shards.inputs.requests, partition: 0, offset: 1 }]);
    });
    await p.close();
    const risk = await startRisk(config, log, { logger: createLogger('risk-app-spec', 'silent') });
    try {
      await assert.rejects(risk.stopped, /MISSING_SNAPSHOT/);
      const health = await fetch(`${risk.url}/health`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { status: string; error: { consumer?: { reason: string } } };
      assert.equal(body.status, 'error');
      assert.match(body.error.consumer?.reason ?? '', /MISSING_SNAPSHOT/, 'liveness names the reason');
      const ready = await fetch(`${risk.url}/ready`);
      assert.equal(ready.status, 503);
      const readyBody = (await ready.json()) as { error: Record<string, { status: string; owned?: number[] }> };
      assert.equal(readyBody.error.consumer?.status, 'down');
      assert.deepEqual(readyBody.error.shards?.owned, [], 'the refused shard is not owned');
      assert.deepEqual(await (await fetch(`${risk.url}/shards`)).json(), [], 'the refused shard is not served');
      assert.match(await (await fetch(`${risk.url}/metrics`)).text(), /parallax_risk_restore_failures_total\{[^}]*reason="MISSING_SNAPSHOT"[^}]*\} 1/);
    } finally {
      await risk.close();
      await log.close();
    }
  });

  it('/ready is down until the instance has joined and restored its shards, then up naming them', async () => {
    const config = configWith(2);
    const log = createEmbeddedTransport();
    const risk = await startRisk(config, log, { logger: createLogger('risk-app-spec', 'silent') });
    try {
      type Body = { status: string; details: { shards: { joined: boolean; owned: number[]; restoring: number[] } } };
      let ready = await fetch(`${risk.url}/ready`);
      for (let i = 0; ready.status !== 200; i++) {
        assert.equal(ready.status, 503);
        const body = (await ready.json()) as Body;
        assert.equal(body.status, 'error');
        assert.ok(!body.details.shards.joined || body.details.shards.restoring.length > 0, JSON.stringify(body));
        if (i > 500) throw new Error('never ready');
        await new Promise((r) => setTimeout(r, 10));
        ready = await fetch(`${risk.url}/ready`);
      }
      const body = (await ready.json()) as Body;
      assert.deepEqual(body.details.shards, { status: 'up', joined: true, owned: [0, 1], restoring: [] });
      assert.equal((await fetch(`${risk.url}/health`)).status, 200);
      const shards = (await (await fetch(`${risk.url}/shards`)).json()) as { shard: number; stateHash: string }[];
      assert.deepEqual(shards.map((s) => s.shard), [0, 1], '/shards kept beside the probes');
    } finally {
      await risk.close();
      await log.close();
    }
  });
});

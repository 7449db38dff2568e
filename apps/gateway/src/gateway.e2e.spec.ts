import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { startGateway } from './bootstrap.js';
import { loadGatewayConfig } from './gateway.config.js';

describe('gateway over real HTTP', () => {
  let app: INestApplication;
  let url: string;

  before(async () => {
    ({ app, url } = await startGateway(loadGatewayConfig({ GATEWAY_PORT: '0' })));
  });
  after(async () => {
    await app.close();
  });

  it('answers /health', async () => {
    const res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; service: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.service, 'gateway');
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await res.text(), /^process_resident_memory_bytes\{service="gateway"\}/m);
  });

  it('serves /metrics only on the internal port when GATEWAY_METRICS_PORT is set (not behind the public balancer)', async () => {
    const internal = await startGateway(loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_METRICS_PORT: '0' }));
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

  it('refuses a bad port at boot, naming the variable', () => {
    assert.throws(() => loadGatewayConfig({ GATEWAY_PORT: 'http' }), /GATEWAY_PORT/);
  });
});

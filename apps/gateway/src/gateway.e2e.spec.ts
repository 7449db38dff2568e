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
    assert.match(await res.text(), /parallax_process_resident_memory_bytes\{service="gateway"\}/);
  });

  it('refuses a bad port at boot, naming the variable', () => {
    assert.throws(() => loadGatewayConfig({ GATEWAY_PORT: 'http' }), /GATEWAY_PORT/);
  });
});

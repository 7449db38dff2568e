import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ObservabilityModule } from '../observability.module.js';
import {
  brokerIndicator,
  chainIndicator,
  databaseIndicator,
  dependencyIndicator,
  stateIndicator,
  type HealthIndicatorSession,
  type HealthState,
  type ServiceHealthIndicator,
} from './health-indicators.js';

interface Body {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}

/** A provider of the app, checked through a class indicator (how apps check their own services). */
@Injectable()
class Partitions {
  restoring: number[] = [];
}

@Injectable()
class PartitionsIndicator implements ServiceHealthIndicator {
  readonly key = 'partitions';
  readonly probe = 'readiness';
  constructor(private readonly partitions: Partitions) {}
  check(session: HealthIndicatorSession) {
    const restoring = this.partitions.restoring;
    return restoring.length === 0 ? session.up() : session.down({ restoring });
  }
}

async function serve(health: (ServiceHealthIndicator | typeof PartitionsIndicator)[]): Promise<{ app: INestApplication; get: (path: string) => Promise<{ code: number; body: Body }> }> {
  @Module({ imports: [ObservabilityModule.forService('health-test', { health })], providers: [Partitions, PartitionsIndicator] })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    get: async (path) => {
      const res = await fetch(`${url}${path}`);
      return { code: res.status, body: (await res.json()) as Body };
    },
  };
}

describe('health probes on terminus', () => {
  let liveState: HealthState = { status: 'up' };
  let readyState: HealthState = { status: 'up' };
  let brokerDown = false;
  let app: INestApplication;
  let get: (path: string) => Promise<{ code: number; body: Body }>;

  before(async () => {
    ({ app, get } = await serve([
      stateIndicator('loop', 'liveness', () => liveState),
      stateIndicator('restore', 'readiness', () => readyState),
      brokerIndicator(
        {
          kind: 'fake',
          partitionCount: (topic) => (brokerDown ? Promise.reject(new Error(`UNKNOWN_TOPIC: ${topic}`)) : Promise.resolve(4)),
        },
        'orders',
      ),
      PartitionsIndicator,
    ]));
  });
  after(async () => {
    await app.close();
  });

  it('answers 200 on both probes when every indicator is up, naming the service and each check', async () => {
    const live = await get('/health');
    assert.equal(live.code, 200);
    assert.equal(live.body.status, 'ok');
    assert.deepEqual(Object.keys(live.body.details).sort(), ['loop', 'process']);
    assert.equal(live.body.details['process']?.['service'], 'health-test');
    const ready = await get('/ready');
    assert.equal(ready.code, 200);
    assert.deepEqual(Object.keys(ready.body.details).sort(), ['broker', 'loop', 'partitions', 'process', 'restore']);
    const { responseTime, ...broker } = ready.body.details['broker'] ?? {};
    assert.equal(typeof responseTime, 'number');
    assert.deepEqual(broker, { status: 'up', transport: 'fake', topic: 'orders', partitions: 4 });
  });

  it('a readiness check down answers 503 on /ready only, naming it; liveness stays 200', async () => {
    readyState = { status: 'down', details: { restoring: [2] } };
    brokerDown = true;
    try {
      const ready = await get('/ready');
      assert.equal(ready.code, 503);
      assert.equal(ready.body.status, 'error');
      assert.deepEqual(Object.keys(ready.body.error ?? {}).sort(), ['broker', 'restore']);
      assert.deepEqual(ready.body.error?.['restore'], { status: 'down', restoring: [2] });
      const broker: Record<string, unknown> = ready.body.error['broker'] ?? {};
      assert.match(String(broker['message']), /UNKNOWN_TOPIC: orders/);
      assert.equal((await get('/health')).code, 200);
    } finally {
      readyState = { status: 'up' };
      brokerDown = false;
    }
  });

  it('a liveness check down fails both probes; degraded answers 200 with the details', async () => {
    liveState = { status: 'down', details: { why: 'stuck' } };
    try {
      assert.equal((await get('/health')).code, 503);
      assert.equal((await get('/ready')).code, 503);
      liveState = { status: 'degraded', details: { consecutiveFailures: 3 } };
      const live = await get('/health');
      assert.equal(live.code, 200);
      assert.equal(live.body.status, 'degraded');
      assert.deepEqual(live.body.details['loop'], { status: 'degraded', consecutiveFailures: 3 });
    } finally {
      liveState = { status: 'up' };
    }
  });

  it('a class indicator is the app provider: it sees the app state', async () => {
    app.get(Partitions).restoring = [1, 3];
    try {
      const ready = await get('/ready');
      assert.equal(ready.code, 503);
      assert.deepEqual(ready.body.error?.['partitions'], { status: 'down', restoring: [1, 3] });
    } finally {
      app.get(Partitions).restoring = [];
    }
    assert.equal((await get('/ready')).code, 200);
  });
});

describe('dependency indicators', () => {
  it('a service without indicators answers 200 while it serves HTTP', async () => {
    const { app, get } = await serve([]);
    try {
      const ready = await get('/ready');
      assert.equal(ready.code, 200);
      assert.deepEqual(Object.keys(ready.body.details), ['process']);
    } finally {
      await app.close();
    }
  });

  it('a chain serving another chain id, a database that throws and a dependency that never answers are down', async () => {
    const { app, get } = await serve([
      chainIndicator({ getChainId: () => Promise.resolve(1) }, 31337),
      databaseIndicator('PostgreSQL db:5432/parallax', () => Promise.reject(new Error('connection refused'))),
      dependencyIndicator('rpc', () => new Promise<Record<string, unknown>>(() => undefined), { timeoutMs: 50 }),
    ]);
    try {
      const ready = await get('/ready');
      assert.equal(ready.code, 503);
      assert.match(String(ready.body.error?.['chain']?.['message']), /CHAIN_MISMATCH: the RPC endpoint serves chain 1, expected 31337/);
      assert.match(String(ready.body.error?.['database']?.['message']), /connection refused/);
      assert.equal(ready.body.error?.['rpc']?.['status'], 'down');
      assert.equal((await get('/health')).code, 200, 'dependencies are readiness, not liveness');
    } finally {
      await app.close();
    }
  });

  it('a reachable chain and database are up with what they are', async () => {
    const { app, get } = await serve([
      chainIndicator({ getChainId: () => Promise.resolve(31337) }, 31337),
      databaseIndicator('PostgreSQL db:5432/parallax', () => Promise.resolve([{ one: 1 }])),
    ]);
    try {
      const ready = await get('/ready');
      assert.equal(ready.code, 200);
      assert.equal(ready.body.details['chain']?.['chainId'], 31337);
      assert.equal(ready.body.details['database']?.['database'], 'PostgreSQL db:5432/parallax');
    } finally {
      await app.close();
    }
  });
});

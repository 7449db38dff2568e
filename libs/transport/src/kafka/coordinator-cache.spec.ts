import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { cacheCoordinators, isStaleCoordinatorError, producerWithCoordinatorCache } from './coordinator-cache.js';

class FakeBroker {
  connected = true;
  calls = 0;
  constructor(
    readonly nodeId: number,
    private readonly outcome: () => Promise<string>,
  ) {}
  isConnected(): boolean {
    return this.connected;
  }
  endTxn(): Promise<string> {
    this.calls++;
    return this.outcome();
  }
}

const protocolError = (type: string) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });

function fakeCluster(brokers: FakeBroker[]) {
  let lookups = 0;
  const cluster = {
    findGroupCoordinator: () => {
      const b = brokers[Math.min(lookups, brokers.length - 1)]!;
      lookups++;
      return Promise.resolve(b as object);
    },
  };
  cacheCoordinators(cluster);
  return { cluster, lookups: () => lookups };
}

const endTxn = async (cluster: { findGroupCoordinator(a: { groupId: string; coordinatorType?: number }): Promise<object> }, groupId = 'tx') => {
  const b = (await cluster.findGroupCoordinator({ groupId, coordinatorType: 1 })) as FakeBroker;
  return b.endTxn();
};

describe('coordinator cache', () => {
  it('looks a coordinator up once and sends every later request to the same broker', async () => {
    const broker = new FakeBroker(1, () => Promise.resolve('ok'));
    const { cluster, lookups } = fakeCluster([broker]);
    for (let i = 0; i < 4; i++) assert.equal(await endTxn(cluster), 'ok');
    assert.equal(lookups(), 1);
    assert.equal(broker.calls, 4);
    // Another key (group vs transaction coordinator, another id) is its own lookup.
    await endTxn(cluster, 'other');
    assert.equal(lookups(), 2);
  });

  it('forgets the coordinator after NOT_COORDINATOR or a connection error, not after CONCURRENT_TRANSACTIONS', async () => {
    const outcomes = [protocolError('CONCURRENT_TRANSACTIONS'), protocolError('NOT_COORDINATOR'), new Error('Connection closed')];
    let next = 0;
    const stale = new FakeBroker(1, () => Promise.reject(outcomes[next++]!));
    const fresh = new FakeBroker(2, () => Promise.resolve('ok'));
    const { cluster, lookups } = fakeCluster([stale, stale, fresh]);
    await assert.rejects(endTxn(cluster), /CONCURRENT_TRANSACTIONS/);
    await new Promise((r) => setImmediate(r));
    await assert.rejects(endTxn(cluster), /NOT_COORDINATOR/);
    assert.equal(lookups(), 1, 'a CONCURRENT_TRANSACTIONS answer came from the right coordinator');
    await new Promise((r) => setImmediate(r));
    await assert.rejects(endTxn(cluster), /Connection closed/);
    assert.equal(lookups(), 2, 'NOT_COORDINATOR made it look up again');
    await new Promise((r) => setImmediate(r));
    assert.equal(await endTxn(cluster), 'ok');
    assert.equal(lookups(), 3, 'a connection error made it look up again');
  });

  it('does not cache a broker that is not connected', async () => {
    const broker = new FakeBroker(1, () => Promise.resolve('ok'));
    broker.connected = false;
    const { cluster, lookups } = fakeCluster([broker]);
    await endTxn(cluster);
    await endTxn(cluster);
    assert.equal(lookups(), 2);
  });

  it('classifies errors', () => {
    assert.equal(isStaleCoordinatorError(protocolError('GROUP_COORDINATOR_NOT_AVAILABLE')), true);
    assert.equal(isStaleCoordinatorError(protocolError('INVALID_PRODUCER_EPOCH')), false);
    assert.equal(isStaleCoordinatorError(Object.assign(new Error('timeout'), { name: 'KafkaJSRequestTimeoutError' })), true);
  });

  it('hooks the cluster kafkajs 2.2.4 creates for a producer, and leaves the client as it was', () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'spec', logLevel: logLevel.NOTHING });
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
    assert.ok(symbol, 'kafkajs keeps its cluster factory where the cache expects it (else the cache is silently off)');
    const holder = kafka as unknown as Record<symbol, (o: unknown) => { findGroupCoordinator: unknown }>;
    const factory = holder[symbol]!;
    const created: { findGroupCoordinator: unknown }[] = [];
    holder[symbol] = (o) => {
      const c = factory(o);
      created.push(c);
      return c;
    };
    const wrapped = holder[symbol];
    const plain = Object.getPrototypeOf(factory({})) as { findGroupCoordinator: unknown };
    producerWithCoordinatorCache(kafka, { idempotent: true });
    assert.equal(created.length, 1);
    assert.notEqual(created[0]!.findGroupCoordinator, plain.findGroupCoordinator, 'the producer cluster caches');
    assert.equal(holder[symbol], wrapped, 'the factory is restored');
    kafka.producer({ idempotent: true });
    assert.equal(created[1]!.findGroupCoordinator, plain.findGroupCoordinator, 'other clients are untouched');
  });
});

// Proof that kafkajs 2.2.4 and the broker scripts/kafka.sh runs agree on a protocol version for every API
// Parallax uses. kafkajs picks min(its highest implemented version, the broker's max) and never looks at
// the broker's min (brokers of Kafka 4 dropped old versions, KIP-896), so "connects fine" is not enough:
// the version it will pick must be >= the broker's min for each API.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka, RequestEvent } from 'kafkajs';
import { createTransactionalProducer } from './client.js';
import { brokers, closeAll, connectAdmin, eventually, testConsumer, testKafka } from './spec-support.js';
import { uniqueName } from './testing.js';
import { ensureTopics } from './topics.js';
import { runTransactionalBatches } from './transactional-batch.js';

interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** ApiVersions v0, hand-encoded: the broker's own list, independent of the client under test. */
async function brokerApiVersions(broker: string): Promise<Map<number, VersionRange>> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(colon + 1));
  const clientId = Buffer.from('parallax-api-versions');
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(18, 0); // api key: ApiVersions
  header.writeInt16BE(0, 2); // api version 0 (every broker since 0.10 answers it)
  header.writeInt32BE(7, 4); // correlation id
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length, 0);

  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('ApiVersions timed out')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.concat([size, header])));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
        socket.end();
        resolve(all.subarray(4, 4 + all.readInt32BE(0)));
      }
    });
  });
  assert.equal(response.readInt32BE(0), 7, 'correlation id echoed');
  assert.equal(response.readInt16BE(4), 0, 'ApiVersions error code');
  const count = response.readInt32BE(6);
  const ranges = new Map<number, VersionRange>();
  for (let i = 0, at = 10; i < count; i += 1, at += 6) {
    ranges.set(response.readInt16BE(at), { min: response.readInt16BE(at + 2), max: response.readInt16BE(at + 4) });
  }
  return ranges;
}

// kafkajs's own tables of implemented request versions (the ones its lookup chooses from).
const require = createRequire(import.meta.url);
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Readonly<Record<string, number>>;
const { requests } = require('kafkajs/src/protocol/requests/index.js') as {
  requests: Readonly<Record<string, { versions: readonly string[] }>>;
};
const kafkajsVersion = (require('kafkajs/package.json') as { version: string }).version;

/** Every API the Parallax services, this lib and its tests use through kafkajs. */
const USED_APIS = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'GroupCoordinator', 'JoinGroup',
  'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'ApiVersions', 'CreateTopics',
  'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn',
  'TxnOffsetCommit', 'DescribeConfigs', 'AlterConfigs', 'CreatePartitions', 'DeleteGroups',
];

describe(`kafkajs ${kafkajsVersion} <-> broker protocol negotiation`, { timeout: 120_000 }, () => {
  let kafka: Kafka;
  let admin: Admin;
  let ranges: Map<number, VersionRange>;
  const topics: string[] = [];

  before(async () => {
    kafka = testKafka();
    admin = await connectAdmin(kafka);
    ranges = await brokerApiVersions(brokers[0]!);
  });

  after(async () => {
    await closeAll(
      () => (topics.length > 0 ? admin.deleteTopics({ topics }) : Promise.resolve()),
      () => admin.disconnect(),
    );
  });

  it('is the pinned kafkajs', () => {
    assert.equal(kafkajsVersion, '2.2.4');
  });

  it('the version kafkajs will pick for every used API is one the broker serves', (t) => {
    const table: string[] = [];
    for (const name of USED_APIS) {
      const key = apiKeys[name];
      assert.ok(key !== undefined, `kafkajs knows ${name}`);
      const implemented = (requests[name]?.versions ?? []).map(Number);
      assert.ok(implemented.length > 0, `kafkajs implements ${name}`);
      const range = ranges.get(key);
      assert.ok(range, `broker serves ${name} (key ${key})`);
      const picked = Math.min(Math.max(...implemented), range.max);
      table.push(`${name}: kafkajs ${Math.min(...implemented)}-${Math.max(...implemented)}, broker ${range.min}-${range.max} -> v${picked}`);
      assert.ok(picked >= range.min, `${name}: kafkajs would send v${picked}, broker accepts ${range.min}-${range.max}`);
      assert.ok(implemented.includes(picked), `${name}: kafkajs implements v${picked}`);
    }
    for (const line of table) t.diagnostic(line);
  });

  it('every request of a full produce / transaction / group-consume round trip uses a served version', { timeout: 60_000 }, async () => {
    const input = uniqueName('neg-in');
    const output = uniqueName('neg-out');
    topics.push(input, output);
    const sent: RequestEvent['payload'][] = [];
    const record = (event: RequestEvent): void => void sent.push(event.payload);
    admin.on(admin.events.REQUEST, record);

    await ensureTopics(admin, [{ name: input, partitions: 2 }, { name: output, partitions: 2 }]);
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    plain.on(plain.events.REQUEST, record);
    const producer = createTransactionalProducer(kafka, uniqueName('neg-tx'));
    producer.on(producer.events.REQUEST, record);
    const groupId = uniqueName('neg-group');
    const consumer = testConsumer(kafka, groupId);
    consumer.on(consumer.events.REQUEST, record);
    try {
      await plain.connect();
      await plain.send({ topic: input, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [input], fromBeginning: true });
      let committed = 0;
      await runTransactionalBatches(consumer, {
        groupId,
        producer,
        transform: (messages) => messages.map((m) => ({ topic: output, key: m.key, value: m.value })),
        onCommit: (e) => void (committed += e.inputCount),
      });
      await eventually(() => committed === 10, '10 inputs committed');
      await admin.fetchOffsets({ groupId, topics: [input] });
      await admin.describeGroups([groupId]);
    } finally {
      await closeAll(
        () => consumer.disconnect(),
        () => producer.disconnect(),
        () => plain.disconnect(),
      );
    }

    const used = new Map<string, number>();
    for (const request of sent) {
      const range = ranges.get(request.apiKey);
      assert.ok(range, `broker serves ${request.apiName}`);
      assert.ok(
        request.apiVersion >= range.min && request.apiVersion <= range.max,
        `${request.apiName} v${request.apiVersion} outside the broker's ${range.min}-${range.max}`,
      );
      used.set(request.apiName, request.apiVersion);
    }
    for (const name of ['Produce', 'Fetch', 'InitProducerId', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn', 'JoinGroup', 'SyncGroup', 'OffsetFetch', 'CreateTopics']) {
      assert.ok(used.has(name), `the round trip exercised ${name}`);
    }
  });
});

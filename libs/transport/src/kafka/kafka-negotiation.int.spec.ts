// Proof that kafkajs 2.2.4 and the broker scripts/kafka.sh runs agree on a protocol version for every API
// Parallax uses. kafkajs picks min(its highest implemented version, the broker's max) and never looks at
// the broker's min (brokers of Kafka 4 dropped old versions, KIP-896), so "connects fine" is not enough:
// the version it will pick must be >= the broker's min for each API. The round trip goes through the
// KafkaTransport the services use, and reads the requests it sent from kafkajs's debug log.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { enc, eventually, uniqueName } from '../contract/helpers.js';
import type { TopicPartitionOffset } from '../transport.js';
import { createKafkaTransport, type KafkaLogEntry, type KafkaTransport } from './kafka-transport.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

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

/**
 * The APIs Parallax reaches through kafkajs: the transport's producers, transactions, group consumers, reads
 * and admin calls, and the admin calls of the benchmarks and tests (topic deletion, group inspection).
 */
const USED_APIS = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'GroupCoordinator', 'JoinGroup',
  'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'ApiVersions', 'CreateTopics',
  'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn',
  'TxnOffsetCommit', 'DescribeConfigs', 'AlterConfigs', 'CreatePartitions', 'DeleteGroups',
];

/** kafkajs's Connection logs every request at debug level as "Request <ApiName>(key: <k>, version: <v>)". */
const REQUEST_LINE = /^Request (\w+)\(key: (\d+), version: (\d+)\)$/;

describe(`kafkajs ${kafkajsVersion} <-> broker protocol negotiation`, { timeout: 120_000 }, () => {
  let ranges: Map<number, VersionRange>;
  let t: KafkaTransport;
  const sent: { name: string; key: number; version: number }[] = [];
  const record = (entry: KafkaLogEntry): void => {
    const m = REQUEST_LINE.exec(entry.message);
    if (m) sent.push({ name: m[1]!, key: Number(m[2]), version: Number(m[3]) });
  };

  before(async () => {
    ranges = await brokerApiVersions(brokers[0]!);
    t = createKafkaTransport({
      brokers,
      clientId: uniqueName('negotiation'),
      log: record,
      logLevel: 'debug',
      consumer: { heartbeatIntervalMs: 200, maxWaitTimeMs: 100 },
    });
  });

  after(async () => {
    await t.close();
  });

  it('is the pinned kafkajs', () => {
    assert.equal(kafkajsVersion, '2.2.4');
  });

  it('the version kafkajs will pick for every used API is one the broker serves', (ctx) => {
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
    for (const line of table) ctx.diagnostic(line);
  });

  it('every request of a produce / consume-transform-produce / read round trip through the transport uses a served version', { timeout: 60_000 }, async () => {
    const input = uniqueName('neg-in');
    const output = uniqueName('neg-out');
    const groupId = uniqueName('neg-group');
    await t.ensureTopics([{ name: input, partitions: 2 }, { name: output, partitions: 2 }]);
    const plain = await t.producer();
    const tx = await t.producer({ transactionalId: uniqueName('neg-tx') });
    const consumer = await t.consumer({ groupId, topics: [input], fromBeginning: true });
    try {
      await plain.send(input, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: enc(`v${i}`) })));
      let committed = 0;
      await consumer.run({
        eachBatch: async (batch) => {
          const last = batch.messages.at(-1);
          if (!last) return;
          const offsets: TopicPartitionOffset[] = [{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }];
          await tx.transaction((x) => {
            x.send(output, batch.messages.map((m) => ({ key: m.key ?? '', value: m.value })));
            x.commitOffsets(groupId, offsets);
          });
          committed += batch.messages.length;
        },
      });
      await eventually(() => committed === 10, 30_000, '10 inputs committed');
      await eventually(async () => [...(await t.committedOffsets(groupId, input)).values()].reduce((a, b) => a + b, 0) === 10, 10_000, 'offsets visible');
      await t.endOffsets(output);
    } finally {
      await consumer.close();
      await tx.close();
      await plain.close();
    }

    assert.ok(sent.length > 0, 'kafkajs logged its requests at debug level');
    const used = new Map<string, number>();
    for (const request of sent) {
      const range = ranges.get(request.key);
      assert.ok(range, `broker serves ${request.name}`);
      assert.ok(
        request.version >= range.min && request.version <= range.max,
        `${request.name} v${request.version} outside the broker's ${range.min}-${range.max}`,
      );
      used.set(request.name, request.version);
    }
    for (const name of ['Produce', 'Fetch', 'ListOffsets', 'InitProducerId', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn', 'JoinGroup', 'SyncGroup', 'OffsetFetch', 'CreateTopics']) {
      assert.ok(used.has(name), `the round trip exercised ${name} (used: ${[...used.keys()].join(', ')})`);
    }
  });
});

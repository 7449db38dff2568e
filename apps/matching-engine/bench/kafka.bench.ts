// Throughput and restore time of one in-process engine on a real broker:
//   KAFKA_BROKERS=127.0.0.1:19092 node apps/matching-engine/dist/bench/kafka.bench.js [batches=20000] [maxCommandsPerBatch=40]
// Fresh topics per run; the input is produced first, then one engine drains it (one Kafka transaction per
// input batch), then a second engine restores from the snapshots the first one wrote.
import { performance } from 'node:perf_hooks';
import { topicSpecs } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { createLogger } from '@parallax/observability';
import { createKafkaTransport } from '@parallax/transport';
import { startMatchingEngine } from '../app/bootstrap.js';
import { produce, testConfig, waitForCommitted } from '../testing/test-support.js';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(',');
const batchesArg = Number(process.argv[2] ?? 20_000);
const maxCommands = Number(process.argv[3] ?? 40);
const logger = createLogger('matching-engine', 'silent');
const run = `engine-bench-${Date.now()}`;
const config = testConfig({
  kafkaBrokers: brokers,
  groupId: run,
  topics: { orders: `${run}.orders`, marketEvents: `${run}.events`, snapshots: `${run}.snapshots`, deadLetters: `${run}.dead` },
  partitions: 4,
  maxBatchMessages: 500,
  snapshotEveryMessages: 2_000,
  kafkaConsumer: { maxWaitTimeMs: 50 },
});
const transport = () => createKafkaTransport({ brokers, clientId: run, consumer: config.kafkaConsumer });
const flow = syntheticOrderFlow({ seed: 42, marketIds: config.catalogue.all().map((d) => d.marketId), batches: batchesArg, maxCommandsPerBatch: maxCommands });
const commands = flow.reduce((n, b) => n + b.commands.length, 0);

const io = transport();
await io.ensureTopics(topicSpecs(config.topics, config.partitions));
let t0 = performance.now();
await produce(io, config, flow, 1000);
console.log(`produced ${flow.length} command batches (${commands} commands) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

const engineTransport = transport();
t0 = performance.now();
const engine = await startMatchingEngine(config, engineTransport, { logger });
const booted = performance.now();
await waitForCommitted(io, config, 600_000, [engine.stopped]);
const seconds = (performance.now() - booted) / 1000;
console.log(
  `1 engine on Kafka: boot ${((booted - t0) / 1000).toFixed(2)} s, drained in ${seconds.toFixed(2)} s: ` +
    `${Math.round(commands / seconds).toLocaleString('en')} commands/s, ${Math.round(flow.length / seconds).toLocaleString('en')} input messages/s`,
);
await engine.close();
await engineTransport.close();

const restoreTransport = transport();
const restored = await startMatchingEngine(config, restoreTransport, { logger });
// On Kafka the assignment (and so the restore) arrives after start-up, once the group has formed.
while (restored.service.restoreReports().length < config.partitions) await new Promise((r) => setTimeout(r, 20));
const reports = restored.service.restoreReports();
console.log(
  `restore: ${reports.map((r) => `p${r.partition} ${(r.seconds * 1000).toFixed(0)} ms (${r.snapshots} snapshots, ${r.replayed} replayed)`).join(', ')}`,
);
await restored.close();
await restoreTransport.close();
await io.close();

// Throughput of a consume-transform-produce loop (one transaction per batch) through each transport:
//   node libs/transport/dist/bench/transport.bench.js [--messages N] [--kafka] [--no-embedded]
// The input is written first (timed separately), then one member drains it; the clock stops when the
// committed offsets reach the end of the input. Kafka brokers: KAFKA_BROKERS (default 127.0.0.1:19092).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel, Worker } from 'node:worker_threads';
import { createEmbeddedTransport } from '../embedded/embedded-transport.js';
import { serveEmbeddedTransport } from '../embedded/proxy-server.js';
import { createKafkaTransport } from '../kafka/kafka-transport.js';
import type { Transport } from '../transport.js';
import { startCtp, type CtpOptions } from './ctp.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PARTITIONS = 8;
const VALUE_BYTES = 100;
const PRODUCE_BATCH = 1000;
const MAX_BATCH = arg('--batch', 1000);
let run = 0;

function names(kind: string): CtpOptions {
  run++;
  const tag = `${kind}-${process.pid}-${Date.now().toString(36)}-${run}`;
  return { input: `bench-in-${tag}`, output: `bench-out-${tag}`, groupId: `bench-g-${tag}`, transactionalId: `bench-tx-${tag}`, maxBatchSize: MAX_BATCH };
}

async function fill(t: Transport, topic: string, count: number): Promise<number> {
  const p = await t.producer();
  const value = new Uint8Array(VALUE_BYTES).fill(7);
  const started = performance.now();
  for (let sent = 0; sent < count; sent += PRODUCE_BATCH) {
    const n = Math.min(PRODUCE_BATCH, count - sent);
    await p.send(topic, Array.from({ length: n }, (_, i) => ({ key: `account-${(sent + i) % 512}`, value })));
  }
  const seconds = (performance.now() - started) / 1000;
  await p.close();
  return count / seconds;
}

async function drained(t: Transport, o: CtpOptions, pollMs: number): Promise<void> {
  const ends = await t.endOffsets(o.input);
  for (;;) {
    const committed = await t.committedOffsets(o.groupId, o.input);
    if ([...ends].every(([p, end]) => (committed.get(p) ?? 0) >= end)) return;
    await sleep(pollMs);
  }
}

function report(label: string, count: number, produceRate: number, seconds: number): void {
  const rate = Math.round(count / seconds);
  console.log(`${label.padEnd(34)} ${String(count).padStart(8)} msgs  produce ${Math.round(produceRate).toLocaleString('en').padStart(9)}/s  ctp ${rate.toLocaleString('en').padStart(9)} msgs/s  (${seconds.toFixed(2)} s)`);
}

async function embeddedInProcess(count: number): Promise<void> {
  const t = createEmbeddedTransport();
  const o = names('emb');
  await t.ensureTopics([{ name: o.input, partitions: PARTITIONS }, { name: o.output, partitions: PARTITIONS }]);
  const produceRate = await fill(t, o.input, count);
  const started = performance.now();
  const { consumer } = await startCtp(t, o);
  await drained(t, o, 2);
  report('embedded, in-process', count, produceRate, (performance.now() - started) / 1000);
  await consumer.close();
  await t.close();
}

async function embeddedWorker(count: number, workers: number): Promise<void> {
  const t = createEmbeddedTransport();
  const o = names('wrk');
  await t.ensureTopics([{ name: o.input, partitions: PARTITIONS }, { name: o.output, partitions: PARTITIONS }]);
  const produceRate = await fill(t, o.input, count);
  const started = performance.now();
  const running: Worker[] = [];
  for (let w = 0; w < workers; w++) {
    const { port1, port2 } = new MessageChannel();
    serveEmbeddedTransport(t, port1);
    const worker = new Worker(new URL('./ctp-worker.js', import.meta.url), {
      workerData: { port: port2, options: { ...o, transactionalId: `${o.transactionalId}-${w}` } },
      transferList: [port2],
    });
    running.push(worker);
  }
  await drained(t, o, 2);
  report(`embedded, ${workers} worker${workers > 1 ? 's' : ''} via proxy`, count, produceRate, (performance.now() - started) / 1000);
  for (const w of running) w.postMessage('stop');
  await Promise.all(running.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  await t.close();
}

async function kafka(count: number): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const t = createKafkaTransport({ brokers, clientId: 'transport-bench', consumer: { heartbeatIntervalMs: 500, maxWaitTimeMs: 100 } });
  const o = names('kafka');
  await t.ensureTopics([{ name: o.input, partitions: PARTITIONS }, { name: o.output, partitions: PARTITIONS }]);
  const produceRate = await fill(t, o.input, count);
  const started = performance.now();
  const { consumer } = await startCtp(t, o);
  await drained(t, o, 50);
  report('kafka (kafkajs), one member', count, produceRate, (performance.now() - started) / 1000);
  await consumer.close();

  // read(): a throwaway consumer per call. Latency of a small read, and throughput of a whole partition.
  const ends = await t.endOffsets(o.output);
  let small = 0;
  let n0 = 0;
  const reps = 5;
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    for await (const batch of t.read(o.output, 0, 0, 10)) n0 += batch.length;
    small += performance.now() - s;
  }
  const s = performance.now();
  let n = 0;
  for await (const batch of t.read(o.output, 1, 0)) n += batch.length;
  const full = (performance.now() - s) / 1000;
  console.log(`kafka read(): ${n0 / reps} messages ${(small / reps).toFixed(0)} ms on average; a partition of ${n} (end ${ends.get(1)}) in ${full.toFixed(2)} s = ${Math.round(n / full).toLocaleString('en')} msgs/s`);
  await t.close();
}

const count = arg('--messages', 200_000);
if (!args.includes('--no-embedded')) {
  await embeddedInProcess(count);
  await embeddedWorker(count, 1);
  await embeddedWorker(count, 2);
}
if (args.includes('--kafka')) await kafka(arg('--kafka-messages', 50_000));

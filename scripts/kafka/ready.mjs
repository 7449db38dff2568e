// Readiness probe for scripts/kafka.sh: an open port is not a ready broker, so retry a real admin round trip
// (describeCluster + listTopics) with kafkajs, the client the services use, until it succeeds or time runs out.
//   node scripts/kafka/ready.mjs --brokers 127.0.0.1:19092 [--timeout-ms 60000] [--pid N] [--cluster-id ID] [--once]
// Exit 0: ready (prints one JSON line). 1: timed out / not ready. 2: the broker process (--pid) died.
import kafkajs from 'kafkajs';
import { kafkaClientSecurity } from './client-security.mjs';

const { Kafka, logLevel } = kafkajs;

function parseArgs(argv) {
  const args = { brokers: '127.0.0.1:19092', timeoutMs: 60_000, pid: 0, clusterId: '', once: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    if (flag === '--once') args.once = true;
    else if (flag === '--brokers') { args.brokers = value; i += 1; }
    else if (flag === '--timeout-ms') { args.timeoutMs = Number(value); i += 1; }
    else if (flag === '--pid') { args.pid = Number(value); i += 1; }
    else if (flag === '--cluster-id') { args.clusterId = value; i += 1; }
    else throw new Error(`unknown argument: ${flag}`);
  }
  if (!Number.isFinite(args.timeoutMs) || args.timeoutMs <= 0) throw new Error('--timeout-ms must be a positive number');
  return args;
}

function alive(pid) {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function probe(kafka, expectedClusterId) {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (expectedClusterId && cluster.clusterId !== expectedClusterId) {
      // Someone else's broker answers on this port.
      throw new Error(`cluster id ${cluster.clusterId} answered, expected ${expectedClusterId} (port taken by another broker?)`);
    }
    const topics = await admin.listTopics();
    return { clusterId: cluster.clusterId, controller: cluster.controller, brokers: cluster.brokers.length, topics: topics.length };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const kafka = new Kafka({
    clientId: 'parallax-kafka-ready',
    brokers: args.brokers.split(','),
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    // The broker's super user (kafka.sh passes it): the probe must authenticate like any client.
    ...(await kafkaClientSecurity()),
  });
  const deadline = Date.now() + args.timeoutMs;
  let lastError = 'no attempt made';
  for (;;) {
    if (!alive(args.pid)) {
      console.error(`kafka-ready: broker process ${args.pid} exited before becoming ready`);
      return 2;
    }
    try {
      const info = await probe(kafka, args.clusterId);
      console.log(JSON.stringify({ ready: true, ...info }));
      return 0;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (args.once || Date.now() + 250 > deadline) break;
    await sleep(250);
  }
  console.error(`kafka-ready: broker at ${args.brokers} not ready: ${lastError}`);
  return 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (error) => {
    console.error(`kafka-ready: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

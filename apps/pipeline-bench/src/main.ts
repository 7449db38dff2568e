#!/usr/bin/env node
// npm run bench:pipeline [-- --smoke | options]: see cli.ts for the options, report.ts for the output.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './cli.js';
import { loadAverage } from './cpu.js';
import { runEmbeddedScenario } from './embedded-run.js';
import { runKafkaScenario } from './kafka-run.js';
import { killAllChildren } from './processes.js';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import { printResults, writeDocs, type RunInfo } from './report.js';
import { runRiskStage, type RiskStageResult } from './risk-run.js';
import type { ScenarioResult } from './result.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kafkaScript = `${repoRoot}scripts/kafka.sh`;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

let brokerStartedHere = false;

function stopBrokerIfOurs(): void {
  if (!brokerStartedHere) return;
  brokerStartedHere = false;
  log('stopping the Kafka broker this run started');
  kafka('stop');
}

interface Broker {
  readonly brokers: string[];
  readonly pid: number | null;
  readonly startedHere: boolean;
}

function kafka(cmd: 'status' | 'start' | 'stop'): { code: number; out: string } {
  const r = spawnSync('bash', [kafkaScript, cmd], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/**
 * The local broker authenticates every client (SASL/SCRAM): its test principal's credentials go into this
 * process's environment, which the transport, the engine worker threads and the spawned engines all read.
 */
function adoptLocalCredentials(): void {
  if (process.env['KAFKA_SASL_USERNAME'] !== undefined) return;
  const r = spawnSync('bash', [kafkaScript, 'env'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`could not read the local broker's credentials (scripts/kafka.sh env):\n${r.stderr}`);
  for (const line of r.stdout.split('\n')) {
    const m = /^export (KAFKA_SASL_[A-Z_]+)=(.*)$/.exec(line);
    if (m !== null) process.env[m[1]!] = m[2]!;
  }
}

function ensureBroker(brokersEnv: string | undefined): Broker {
  // scripts/kafka.sh serves 127.0.0.1:$KAFKA_PORT (19092 by default): that broker is the local one.
  const localBroker = `127.0.0.1:${process.env['KAFKA_PORT'] ?? '19092'}`;
  const brokers = (brokersEnv ?? localBroker).split(',').map((b) => b.trim());
  if (brokersEnv !== undefined && brokersEnv !== localBroker) {
    // Someone else's broker: measured without its CPU (its pid is not ours to read).
    return { brokers, pid: null, startedHere: false };
  }
  let status = kafka('status');
  let startedHere = false;
  if (status.code !== 0) {
    log('starting the local Kafka broker (scripts/kafka.sh start)...');
    const started = kafka('start');
    if (started.code !== 0) throw new Error(`could not start Kafka:\n${started.out}`);
    startedHere = true;
    status = kafka('status');
  }
  adoptLocalCredentials();
  const pid = /pid (\d+)/.exec(status.out)?.[1];
  return { brokers, pid: pid === undefined ? null : Number(pid), startedHere };
}

/** The funds-path phase (risk stage included) on one transport; a thrown failure becomes a failed result. */
async function riskPhase(o: BenchOptions, t: Transport, brokerPid: number | null, run: string): Promise<RiskStageResult | null> {
  const r = o.risk;
  if (r === null) return null;
  log(`${t.kind}, funds path: requests -> risk (S=${r.shards}) -> orders -> engine -> account events -> risk, ${r.orders} requests, then the engine alone on the same orders`);
  try {
    const res = await runRiskStage(t, { orders: r.orders, accounts: r.accounts, markets: o.markets, shards: r.shards, partitions: o.partitions, brokerPid, pacedRates: r.rates, pacedSec: r.pacedSec }, run, cpus().length);
    log(`  => ${Math.round(res.requests / res.withRiskSec).toLocaleString('en')} requests/s with risk, ${Math.round(res.accepted / res.engineOnlySec).toLocaleString('en')} orders/s engine alone, ${res.problems.length === 0 ? 'verified' : `FAILED: ${res.problems.slice(0, 3).join('; ')}`}`);
    for (const p of res.paced ?? []) log(`  paced ${p.rate.toLocaleString('en')}/s (sent ${Math.round(p.sentPerSec).toLocaleString('en')}/s): p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms`);
    return res;
  } finally {
    await t.close();
  }
}

async function run(o: BenchOptions, risk: RiskStageResult[]): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const cores = cpus().length;
  const brokersEnv = process.env['KAFKA_BROKERS'];
  // Engine worker threads read process.env too: they must not see a broker list (they use the embedded log).
  delete process.env['KAFKA_BROKERS'];
  const drainTimeoutMs = o.smoke ? 30_000 : 120_000;
  const add = (r: ScenarioResult): void => {
    results.push(r);
    log(`  => ${r.commandsPerSec.toLocaleString('en')} commands/s end to end, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.problems.length === 0 ? 'verified' : `FAILED: ${r.problems.slice(0, 3).join('; ')}`}`);
  };
  let broker: Broker | null = null;
  try {
    if (o.kafka) {
      broker = ensureBroker(brokersEnv);
      brokerStartedHere = broker.startedHere;
      const base = { brokers: broker.brokers, brokerPid: broker.pid, markets: o.markets, batch: o.batch, engineBatch: o.engineBatch, seed: o.seed, drainTimeoutMs, cores, log };
      for (const k of o.engines) {
        const p = Math.max(o.partitions, k);
        log(`kafka, as fast as possible: K=${k} engines, P=${p}, N=${o.markets}, ${o.count} commands`);
        add(await runKafkaScenario({ ...base, name: 'max', partitions: p, engines: k, rate: 0, durationSec: o.maxDurationSec, count: o.count, warmupSec: 0 }));
      }
      const kl = o.latencyEngines;
      for (const p of o.latencyPartitions) {
        for (let run = 1; run <= o.latencyRuns; run++) {
          log(`kafka, paced ${o.rate}/s for ${o.warmupSec} s warm-up + ${o.durationSec} s: K=${kl}, P=${p}, run ${run}/${o.latencyRuns}`);
          const r = await runKafkaScenario({ ...base, name: 'paced', partitions: p, engines: kl, rate: o.rate, durationSec: o.durationSec, warmupSec: o.warmupSec });
          add(o.latencyRuns === 1 ? r : { ...r, repeat: run });
        }
      }
      if (o.failover) {
        log(`kafka, fail-over: K=2, ${o.failoverRate}/s for ${o.failoverDurationSec} s, kill -9 one engine`);
        add(
          await runKafkaScenario({
            ...base,
            name: 'fail-over',
            partitions: Math.max(o.partitions, 2),
            engines: 2,
            rate: o.failoverRate,
            durationSec: o.failoverDurationSec,
            warmupSec: 0,
            killAfterSec: Math.min(5, o.failoverDurationSec / 5),
          }),
        );
      }
      const r = await riskPhase(o, createKafkaTransport({ brokers: broker.brokers, clientId: `pb-risk-${process.pid}` }), broker.pid, `pb-risk-kafka-${process.pid}-${Date.now()}`);
      if (r !== null) risk.push(r);
    }
    if (o.embedded) {
      const base = { markets: o.markets, batch: o.batch, engineBatch: o.engineBatch, seed: o.seed, drainTimeoutMs, cores, log };
      for (const k of o.engines) {
        const p = Math.max(o.partitions, k);
        log(`embedded, as fast as possible: K=${k} worker threads, P=${p}, ${o.count} commands`);
        add(await runEmbeddedScenario({ ...base, name: 'max', partitions: p, engines: k, rate: 0, durationSec: o.maxDurationSec, count: o.count, warmupSec: 0 }));
      }
      for (const p of o.latencyPartitions) {
        log(`embedded, paced ${o.rate}/s for ${o.warmupSec} s warm-up + ${o.durationSec} s: K=${o.latencyEngines}, P=${p}`);
        add(await runEmbeddedScenario({ ...base, name: 'paced', partitions: p, engines: o.latencyEngines, rate: o.rate, durationSec: o.durationSec, warmupSec: o.warmupSec }));
      }
      const r = await riskPhase(o, createEmbeddedTransport(), null, `pb-risk-emb-${process.pid}`);
      if (r !== null) risk.push(r);
    }
  } finally {
    killAllChildren();
    stopBrokerIfOurs();
  }
  return results;
}

async function main(): Promise<number> {
  let o: BenchOptions | null;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (o === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const info: RunInfo & { startedAt: Date } = {
    startedAt: new Date(),
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`,
    loadAtStart: loadAverage(),
    loadAtEnd: '',
    options: o,
  };
  const t0 = Date.now();
  let results: ScenarioResult[];
  let risk: RiskStageResult[] = [];
  if (o.render !== undefined) {
    // Re-render the tables and the docs section from a saved --json file (no run).
    const saved = JSON.parse(readFileSync(o.render, 'utf8'), (_k, v: unknown) => (v === 'Infinity' ? Infinity : v)) as { info: RunInfo & { startedAt: string }; results: ScenarioResult[]; risk?: RiskStageResult[] };
    results = saved.results;
    risk = saved.risk ?? [];
    Object.assign(info, { ...saved.info, startedAt: new Date(saved.info.startedAt), options: { ...saved.info.options, docs: o.docs } });
  } else {
    results = await run(o, risk);
    info.loadAtEnd = loadAverage();
  }
  printResults(results, info, risk);
  // JSON has no Infinity (a latency beyond the histogram's last bucket): kept as the string, read back above.
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ info, results, risk }, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 2));
  if (info.options.docs) {
    writeDocs(`${repoRoot}docs/benchmarks.md`, results, info, risk);
    log('wrote the bench:pipeline section of docs/benchmarks.md');
  }
  const failed = [...results, ...risk].filter((r) => r.problems.length > 0);
  const all = results.length + risk.length;
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${all - failed.length}/${all} scenarios verified`);
  return failed.length === 0 ? 0 : 1;
}

process.on('exit', killAllChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllChildren();
    stopBrokerIfOurs();
    process.exit(130);
  });
}
main().then(
  (code) => {
    process.exitCode = code;
    // kafkajs sockets or timers of a failed scenario must not keep the benchmark alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (e: unknown) => {
    process.stderr.write(`pipeline bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    killAllChildren();
    stopBrokerIfOurs();
    process.exit(1);
  },
);

// One scenario through the real broker: K engine processes (apps/matching-engine dist/main.js), the load
// generator as its own process (its CLI), and the verifying event consumer in this process.
import { topicSpecs, type TopicNames } from '@parallax/contracts';
import { createKafkaTransport, kafkaJsSecurity, type GroupConsumer, type KafkaTransport } from '@parallax/transport';
import { Kafka, logLevel } from 'kafkajs';
import { engineEnv, runTopics } from './engine-env.js';
import { scrapeAll } from './engine-metrics.js';
import { machineBusySec, mainThreadCpuSec, procCpuSec } from './cpu.js';
import { assignment, sleep, spawnEngine, spawnGenerator, stopProcess, waitFor, type EngineProcess } from './processes.js';
import { nameBottleneck, type CpuShare, type FailoverFigures, type Scenario, type ScenarioResult, verifiedResult } from './result.js';
import { EventCollector, replayLog, startEventConsumer } from './verify.js';

export interface KafkaScenario extends Scenario {
  readonly brokers: readonly string[];
  readonly brokerPid: number | null;
  /** kill -9 one engine after this many seconds of load, then start a replacement once the survivor took over. */
  readonly killAfterSec?: number;
}

function kafkaEngineEnv(run: string, topics: TopicNames, s: KafkaScenario): Record<string, string> {
  return {
    ...engineEnv(run, topics, s),
    KAFKA_BROKERS: s.brokers.join(','),
    KAFKA_CLIENT_ID: `engine-${run}`,
    // The broker's minimum session timeout: a killed engine is noticed within ~6 s.
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    KAFKA_REBALANCE_TIMEOUT_MS: '10000',
    KAFKA_MAX_WAIT_MS: '20',
    LOG_LEVEL: 'info',
  };
}


async function deleteTopics(brokers: readonly string[], names: string[]): Promise<void> {
  const admin = new Kafka({ brokers: [...brokers], clientId: 'pipeline-bench-cleanup', logLevel: logLevel.NOTHING, ...kafkaJsSecurity() }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: names, timeout: 10_000 });
  } catch {
    // Best effort: leftover topics of a finished run cost disk only.
  } finally {
    await admin.disconnect();
  }
}

export async function runKafkaScenario(s: KafkaScenario): Promise<ScenarioResult> {
  const run = `pbench-${Date.now()}-${s.engines}e${s.partitions}p`;
  const topics = runTopics(run);
  const admin: KafkaTransport = createKafkaTransport({ brokers: s.brokers, clientId: `${run}-bench`, consumer: { maxWaitTimeMs: 20 } });
  const engines: EngineProcess[] = [];
  let consumer: GroupConsumer | null = null;
  const collector = new EventCollector(s.killAfterSec !== undefined);
  const problems: string[] = [];
  try {
    // The engines' own topic settings (Transport.ensureTopics), as a deployment gets them.
    await admin.ensureTopics(topicSpecs(topics, s.partitions));
    // Readiness: metadata of the new topics is visible to the transport's own admin client.
    await waitFor('topics', async () => ((await admin.partitionCount(topics.orders).catch(() => 0)) === s.partitions ? true : undefined), 30_000, 100);
    const env = kafkaEngineEnv(run, topics, s);
    // Start engines one after another so each boot time is its own (parallel boots on 2 cores distort it).
    for (let i = 0; i < s.engines; i++) engines.push(await spawnEngine(`e${i + 1}`, env));
    // Group stable: every engine's latest assignment, together, covers each partition once.
    await waitFor(
      'engine group to cover all partitions',
      () => {
        const owned = engines.map((e) => assignment(e)?.owned ?? null);
        if (owned.some((o) => o === null)) return undefined;
        const all = owned.flatMap((o) => o ?? []).sort((a, b) => a - b);
        return all.length === s.partitions && all.every((p, i) => p === i) ? true : undefined;
      },
      60_000,
      50,
    );
    consumer = await startEventConsumer(admin, `${run}.verify`, topics.marketEvents, s.partitions, collector, problems);

    const genArgs = ['--markets', String(s.markets), '--rate', String(s.rate), '--batch', String(s.batch), '--seed', String(s.seed), '--topic', topics.orders, '--duration', String(s.warmupSec + s.durationSec)];
    if (s.count !== undefined) genArgs.push('--count', String(s.count));
    const cpuBefore = cpuSample(engines, s.brokerPid);
    const wallStart = Date.now();
    const gen = spawnGenerator(genArgs, { KAFKA_BROKERS: s.brokers.join(','), KAFKA_CLIENT_ID: `${run}-loadgen` });
    // Last reading per pid: a killed engine's or an exited generator's CPU stays at its final value.
    const lastCpu = new Map<number, number>();
    const poll = (): void => {
      for (const pid of [gen.pid, ...engines.map((e) => e.pid)]) {
        const v = procCpuSec(pid);
        if (!Number.isNaN(v)) lastCpu.set(pid, v);
      }
    };
    const genCpuPoll = setInterval(poll, 100);

    const kill = s.killAfterSec === undefined ? undefined : await killAndReplace(s, engines, env, collector, wallStart);
    const report = await gen.report;
    const ends = await admin.endOffsets(topics.orders);
    const inputMessages = [...ends.values()].reduce((a, b) => a + b, 0);
    if (inputMessages !== report.messages) problems.push(`orders topic holds ${inputMessages} messages, the generator sent ${report.messages}`);
    s.log(`  generator: ${report.commands} commands in ${report.messages} messages, ${report.elapsedSec.toFixed(1)} s (${report.commandsPerSec}/s); draining...`);
    const killedByUs = new Set(kill === undefined ? [] : [engines[0]!.pid]);
    try {
      await waitFor(
        'events of every input message',
        () => {
          const dead = engines.find((e) => !killedByUs.has(e.pid) && (e.child.exitCode !== null || e.child.signalCode !== null));
          if (dead !== undefined) {
            const last = dead.logs.slice(-3).map((l) => JSON.stringify(l.entry).slice(0, 600));
            throw new Error(`engine ${dead.name} exited (${String(dead.child.exitCode ?? dead.child.signalCode)}): ${last.join(' | ')}`);
          }
          return collector.caughtUp(ends) ? true : undefined;
        },
        s.drainTimeoutMs,
        10,
      );
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
    poll();
    clearInterval(genCpuPoll);
    const cpuAfter = cpuSample(engines, s.brokerPid);
    const failover = kill === undefined ? undefined : kill.finish();
    const endMs = collector.lastAtMs;
    const wallSec = Math.max(0.001, (endMs - collector.minSentAtMs) / 1000);
    const windowSec = (Date.now() - wallStart) / 1000;
    const cpu: CpuShare[] = [];
    const share = (component: string, sec: number): void => {
      if (!Number.isNaN(sec)) cpu.push({ component, sec, cores: sec / windowSec });
    };
    share('load generator', lastCpu.get(gen.pid) ?? NaN);
    for (const e of engines) share(`engine ${e.name}`, (lastCpu.get(e.pid) ?? NaN) - (cpuBefore.engines.get(e.pid) ?? 0));
    share('event consumer', cpuAfter.main - cpuBefore.main);
    if (s.brokerPid !== null) share('kafka broker', cpuAfter.broker - cpuBefore.broker);
    const machineBusy = (cpuAfter.machine - cpuBefore.machine) / windowSec / s.cores;

    const engineStats = await scrapeAll(engines.filter((e) => e.child.exitCode === null && e.child.signalCode === null).map((e) => e.url));
    // Verification (outside the measured window).
    await consumer.close();
    consumer = null;
    return {
      ...verifiedResult(s, 'kafka', report, inputMessages, collector, wallSec, problems, await replayLog(admin, topics.orders, s.markets, s.partitions)),
      cpu,
      machineBusy,
      bottleneck: nameBottleneck(cpu, machineBusy, s.cores),
      engineBootMs: engines.filter((e) => e.name.startsWith('e')).map((e) => e.startedAtMs - e.spawnedAtMs),
      ...(failover === undefined ? {} : { failover }),
      engineStats,
      problems,
    };
  } finally {
    if (consumer !== null) await consumer.close().catch(() => undefined);
    await Promise.all(engines.map((e) => stopProcess(e.child)));
    await admin.close().catch(() => undefined);
    await deleteTopics(s.brokers, [topics.orders, topics.marketEvents, topics.snapshots, topics.deadLetters]);
  }
}

interface CpuSample {
  readonly engines: Map<number, number>;
  readonly broker: number;
  readonly main: number;
  readonly machine: number;
}

function cpuSample(engines: readonly EngineProcess[], brokerPid: number | null): CpuSample {
  const m = new Map<number, number>();
  for (const e of engines) m.set(e.pid, procCpuSec(e.pid));
  return { engines: m, broker: brokerPid === null ? NaN : procCpuSec(brokerPid), main: mainThreadCpuSec(), machine: machineBusySec() };
}

/** kill -9 the first engine under load; time the survivor's take-over, then a replacement's start. */
async function killAndReplace(
  s: KafkaScenario,
  engines: EngineProcess[],
  env: Record<string, string>,
  collector: EventCollector,
  wallStart: number,
): Promise<{ finish: () => FailoverFigures }> {
  await sleep(Math.max(0, wallStart + s.killAfterSec! * 1000 - Date.now()));
  const victim = engines[0]!;
  const survivor = engines[1]!;
  const killedPartitions = assignment(victim)?.owned ?? [];
  // CPU of the victim is frozen at its last reading: keep the process entry, it reads NaN once gone.
  victim.child.kill('SIGKILL');
  const killAt = Date.now();
  await victim.exited;
  s.log(`  kill -9 ${victim.name} (partitions ${killedPartitions.join(',')}) at ${((killAt - wallStart) / 1000).toFixed(1)} s`);
  const takeover = await waitFor(
    'survivor to own every partition',
    () => {
      const a = assignment(survivor, killAt);
      return a !== undefined && a.owned.length === s.partitions ? a.atMs : undefined;
    },
    60_000,
    10,
  );
  const killed = new Set(killedPartitions);
  const firstAfter = (since: number, parts: ReadonlySet<number>): number | undefined => collector.arrivals.find((a) => a.atMs >= since && parts.has(a.partition))?.atMs;
  const flowingAt = await waitFor('events from the killed partitions', () => firstAfter(takeover, killed), 60_000, 10);
  // Replacement (what an orchestrator does): its boot, its restore under load, its first committed batch.
  const replacement = await spawnEngine(`r${victim.name}`, env);
  engines.push(replacement);
  s.log(`  survivor took over after ${takeover - killAt} ms; replacement ${replacement.name} booted in ${replacement.startedAtMs - replacement.spawnedAtMs} ms`);
  // Bounded by the end of the load (plus slack): after it no batch would come to measure.
  const budget = (): number => Math.max(1_000, wallStart + (s.warmupSec + s.durationSec) * 1000 + 5_000 - Date.now());
  const assigned = await waitFor('replacement to be assigned partitions', () => {
    const a = assignment(replacement);
    return a !== undefined && a.owned.length > 0 ? a : undefined;
  }, budget(), 10).catch(() => undefined);
  const firstBatch =
    assigned === undefined ? undefined : await waitFor('first batch of the replacement', () => firstAfter(assigned.atMs, new Set(assigned.owned)), budget(), 10).catch(() => undefined);
  // Called after the drain. Caught up: first arrival on the killed partitions, after the take-over, with
  // latency under 100 ms.
  const finish = (): FailoverFigures => {
  const caught = collector.arrivals.find((a) => a.atMs >= flowingAt && killed.has(a.partition) && a.latencyMs < 100);
  let worst = 0;
  for (const a of collector.arrivals) if (a.atMs >= killAt && killed.has(a.partition) && a.latencyMs > worst) worst = a.latencyMs;
  return {
    killedEngine: victim.name,
    killedPartitions,
    takeoverMs: takeover - killAt,
    flowingMs: flowingAt - killAt,
    caughtUpMs: caught === undefined ? null : caught.atMs - killAt,
    worstLatencyMs: worst,
    restartBootMs: replacement.startedAtMs - replacement.spawnedAtMs,
    restartAssignedMs: assigned === undefined ? null : assigned.atMs - replacement.spawnedAtMs,
    restartFirstBatchMs: firstBatch === undefined ? null : firstBatch - replacement.spawnedAtMs,
  };
  };
  return { finish };
}

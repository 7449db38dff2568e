// The same scenario on the embedded log (single-machine mode): the log, the load generator and the event
// consumer on this process's main thread, each engine in its own worker thread.
import { performance } from 'node:perf_hooks';
import { topicSpecs } from '@parallax/contracts';
import { runLoadGenerator } from '@parallax/load-generator';
import { startEngineWorker, type EngineWorker } from '@parallax/matching-engine';
import { createEmbeddedTransport, type GroupConsumer } from '@parallax/transport';
import { engineEnv, runTopics } from './engine-env.js';
import { scrapeAll } from './engine-metrics.js';
import { machineBusySec, mainThreadCpuSec } from './cpu.js';
import { waitFor } from './processes.js';
import { nameBottleneck, type CpuShare, type Scenario, type ScenarioResult, verifiedResult } from './result.js';
import { EventCollector, replayLog, startEventConsumer } from './verify.js';

export type EmbeddedScenario = Scenario;

export async function runEmbeddedScenario(s: EmbeddedScenario): Promise<ScenarioResult> {
  const run = `pbench-embedded-${s.engines}e${s.partitions}p`;
  const topics = runTopics(run);
  const log = createEmbeddedTransport();
  const workers: EngineWorker[] = [];
  let consumer: GroupConsumer | null = null;
  const collector = new EventCollector();
  const problems: string[] = [];
  try {
    await log.ensureTopics(topicSpecs(topics, s.partitions));
    const env = { ...engineEnv(run, topics, s), LOG_LEVEL: 'silent' };
    const bootMs: number[] = [];
    for (let i = 0; i < s.engines; i++) {
      const t0 = performance.now();
      workers.push(await startEngineWorker(log, env));
      bootMs.push(performance.now() - t0);
    }
    consumer = await startEventConsumer(log.client(), `${run}.verify`, topics.marketEvents, s.partitions, collector, problems);
    const elu0 = workers.map((w) => w.worker.performance.eventLoopUtilization());
    const main0 = mainThreadCpuSec();
    const proc0 = process.cpuUsage();
    const machine0 = machineBusySec();
    const wallStart = Date.now();
    const report = await runLoadGenerator(log.client(), {
      markets: s.markets,
      seed: s.seed,
      batchSize: s.batch,
      topics,
      rate: s.rate,
      durationSec: s.warmupSec + s.durationSec,
      ...(s.count === undefined ? {} : { totalCommands: s.count }),
    });
    const ends = await log.endOffsets(topics.orders);
    const inputMessages = [...ends.values()].reduce((a, b) => a + b, 0);
    if (inputMessages !== report.messages) problems.push(`orders topic holds ${inputMessages} messages, the generator sent ${report.messages}`);
    s.log(`  generator: ${report.commands} commands in ${report.messages} messages, ${report.elapsedSec.toFixed(1)} s (${report.commandsPerSec}/s); draining...`);
    try {
      await waitFor('events of every input message', () => (collector.caughtUp(ends) ? true : undefined), s.drainTimeoutMs, 5);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
    const windowSec = (Date.now() - wallStart) / 1000;
    const cpu: CpuShare[] = [];
    workers.forEach((w, i) => {
      const elu = w.worker.performance.eventLoopUtilization(elu0[i]);
      cpu.push({ component: `engine worker ${i + 1} (busy)`, sec: elu.active / 1000, cores: elu.utilization });
    });
    const mainSec = mainThreadCpuSec() - main0;
    cpu.push({ component: 'main thread: log + generator + consumer', sec: mainSec, cores: mainSec / windowSec });
    const proc = process.cpuUsage(proc0);
    const procSec = (proc.user + proc.system) / 1e6;
    cpu.push({ component: 'whole process (all threads, GC)', sec: procSec, cores: procSec / windowSec });
    const machineBusy = (machineBusySec() - machine0) / windowSec / s.cores;
    const wallSec = Math.max(0.001, (collector.lastAtMs - collector.minSentAtMs) / 1000);
    const engineStats = await scrapeAll(workers.map((w) => w.url));
    await consumer.close();
    consumer = null;
    return {
      ...verifiedResult(s, 'embedded', report, inputMessages, collector, wallSec, problems, await replayLog(log, topics.orders, s.markets, s.partitions)),
      // The whole-process line double-counts the others: leave it out of the bottleneck sum.
      cpu,
      machineBusy,
      bottleneck: nameBottleneck(cpu.filter((x) => !x.component.startsWith('whole')), machineBusy, s.cores),
      engineBootMs: bootMs,
      engineStats,
      problems,
    };
  } finally {
    if (consumer !== null) await consumer.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
    await log.close().catch(() => undefined);
  }
}

import type { EngineStats } from './engine-metrics.js';
import { compare, percentile, type EventCollector, type Expected } from './verify.js';
// One measured scenario, and how its bottleneck is named from the CPU figures.
export interface CpuShare {
  readonly component: string;
  /** CPU seconds used during the measured window. */
  readonly sec: number;
  /** sec / wall seconds: 1.0 = one core busy the whole time. */
  readonly cores: number;
}

export interface FailoverFigures {
  readonly killedEngine: string;
  readonly killedPartitions: readonly number[];
  /** kill -9 -> survivor's "partitions assigned" listing every partition (session timeout + rebalance + restore). */
  readonly takeoverMs: number;
  /** kill -9 -> first event batch of a killed partition consumed after the take-over. */
  readonly flowingMs: number;
  /** kill -9 -> end-to-end latency on the killed partitions back under 100 ms (backlog drained). */
  readonly caughtUpMs: number | null;
  /** Worst end-to-end latency seen on the killed partitions. */
  readonly worstLatencyMs: number;
  /** Replacement engine: spawn -> process up, -> partitions assigned (after restore), -> first batch it committed consumed. */
  readonly restartBootMs: number;
  readonly restartAssignedMs: number | null;
  readonly restartFirstBatchMs: number | null;
}

export interface ScenarioResult {
  readonly name: string;
  readonly transport: 'kafka' | 'embedded';
  readonly markets: number;
  readonly partitions: number;
  readonly engines: number;
  /** Target commands/s, 0 = as fast as possible. */
  readonly rate: number;
  readonly commands: number;
  readonly inputMessages: number;
  readonly eventBatches: number;
  readonly eventBytes: number;
  /** MAX_BATCH_MESSAGES of the engines: input messages per engine batch (= per transaction). */
  readonly engineBatch: number;
  readonly events: number;
  /** First command batch stamped -> last event batch consumed. */
  readonly wallSec: number;
  readonly commandsPerSec: number;
  /** The load generator's own send rate. */
  readonly generatorPerSec: number;
  /** Latency of the commands due after the warm-up (all of them when there is none). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Seconds at the paced rate before latency is measured (0: none); absent in results saved before it existed. */
  readonly warmupSec?: number;
  /** Latency of the commands due in the warm-up (NaN when there was none). */
  readonly warmupP99Ms?: number;
  readonly warmupMaxMs?: number;
  /** Which of the repeated runs of the same layout this is (1-based; absent when it ran once). */
  readonly repeat?: number;
  readonly cpu: readonly CpuShare[];
  /** Busy share of the whole machine (all processes, including other users), 1.0 = both cores. */
  readonly machineBusy: number;
  readonly bottleneck: string;
  /** Engine boot: spawn -> "matching engine started" (ms, per engine). */
  readonly engineBootMs: readonly number[];
  readonly failover?: FailoverFigures;
  /** From the engines' /metrics (engines alive at the end; a killed one's figures are lost). */
  readonly engineStats: EngineStats;
  readonly problems: readonly string[];
}

/** commitShare: share of the engines' wall time spent in transaction commits (0 when unknown). */
export function nameBottleneck(cpu: readonly CpuShare[], machineBusy: number, cores: number, commitShare = 0): string {
  const sorted = [...cpu].sort((a, b) => b.cores - a.cores);
  const top = sorted[0];
  const ours = cpu.reduce((n, c) => n + c.cores, 0);
  const parts: string[] = [];
  if (top !== undefined && top.cores >= 0.85) parts.push(`${top.component} saturates one core (${pct(top.cores)})`);
  if (machineBusy >= 0.9) {
    parts.push(`machine CPU saturated: ${pct(machineBusy * cores)} of ${cores * 100}% busy (ours ${pct(ours)}, others ${pct(Math.max(0, machineBusy * cores - ours))})`);
  }
  if (parts.length === 0 && commitShare >= 0.5) {
    parts.push(
      `engine transaction commits: engines spend ${pct(commitShare)} of their time waiting on serial commit round trips (CPU not saturated: top ${top === undefined ? '-' : `${top.component} ${pct(top.cores)}`}, machine ${pct(machineBusy * cores)} of ${cores * 100}%)`,
    );
  }
  if (parts.length === 0) {
    parts.push(`no CPU saturation (top: ${top === undefined ? '-' : `${top.component} ${pct(top.cores)}`}, machine ${pct(machineBusy * cores)} of ${cores * 100}%): paced or wait-bound`);
  }
  return parts.join('; ');
}

export const pct = (cores: number): string => `${Math.round(cores * 100)}%`;

export function bottleneckOf(r: ScenarioResult, cores = 2): string {
  const e = r.engineStats;
  const commitShare = e.transactions === 0 ? 0 : e.transactionSec / (r.wallSec * r.engines);
  return nameBottleneck(r.cpu.filter((c) => !c.component.startsWith('whole')), r.machineBusy, cores, commitShare);
}

/** What both transports' scenarios measured, and how they describe themselves. */
export interface ScenarioRun {
  readonly name: string;
  readonly markets: number;
  readonly partitions: number;
  readonly engines: number;
  /** Commands/s; 0 = as fast as possible. */
  readonly rate: number;
  readonly seed: number;
  readonly batch: number;
  /** Engines' MAX_BATCH_MESSAGES. */
  readonly engineBatch: number;
  /** Seconds of load before latency counts (paced phase); the generator runs warmupSec + durationSec. */
  readonly warmupSec: number;
}

/** One scenario of either transport. */
export interface Scenario extends ScenarioRun {
  readonly durationSec: number;
  /** Cap on commands (as-fast-as-possible runs). */
  readonly count?: number;
  /** Upper bound on draining after the generator finished. */
  readonly drainTimeoutMs: number;
  readonly cores: number;
  readonly log: (line: string) => void;
}

/**
 * The verification against a single-process replay of the orders log and the figures common to every scenario. Appends
 * any mismatch to `problems` (a benchmark that does not check its output is not a benchmark).
 */
export function verifiedResult(
  s: ScenarioRun,
  transport: ScenarioResult['transport'],
  generated: { readonly commands: number; readonly commandsPerSec: number },
  inputMessages: number,
  collector: EventCollector,
  wallSec: number,
  problems: string[],
  /** replayLog of the run's orders topic. */
  expected: Expected,
): Pick<
  ScenarioResult,
  | 'name' | 'transport' | 'markets' | 'partitions' | 'engines' | 'rate' | 'commands' | 'inputMessages' | 'eventBatches'
  | 'eventBytes' | 'engineBatch' | 'events' | 'wallSec' | 'commandsPerSec' | 'generatorPerSec' | 'p50Ms' | 'p99Ms' | 'maxMs'
  | 'warmupSec' | 'warmupP99Ms' | 'warmupMaxMs'
> {
  if (expected.commands !== generated.commands) problems.push(`the orders log holds ${expected.commands} commands, the generator sent ${generated.commands}`);
  problems.push(...compare(collector, expected));
  const { measured: lat, warmup } = collector.latencySplit(s.warmupSec * 1000);
  if (lat.length === 0) problems.push(`no latency sample after the ${s.warmupSec} s warm-up`);
  return {
    name: s.name,
    transport,
    markets: s.markets,
    partitions: s.partitions,
    engines: s.engines,
    rate: s.rate,
    commands: generated.commands,
    inputMessages,
    eventBatches: collector.batches,
    eventBytes: collector.bytes,
    engineBatch: s.engineBatch,
    events: collector.events,
    wallSec,
    commandsPerSec: Math.round(generated.commands / wallSec),
    generatorPerSec: generated.commandsPerSec,
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    maxMs: lat.length > 0 ? lat[lat.length - 1]! : NaN,
    warmupSec: s.warmupSec,
    warmupP99Ms: percentile(warmup, 0.99),
    warmupMaxMs: warmup.length > 0 ? warmup[warmup.length - 1]! : NaN,
  };
}

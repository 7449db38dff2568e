// Options of `npm run bench:pipeline` (validated before anything starts).
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run bench:pipeline -- [options]

End-to-end matching pipeline benchmark: load generator -> orders topic -> K matching engines -> market events
-> verifying consumer, through the real Kafka broker and through the embedded log (engines in worker threads).

  --smoke                 small and quick (< 60 s), still verifies everything; does not write the docs
  --markets N             markets 1..N (default 16; smoke 8)
  --partitions P          partitions of the pipeline topics (default 4; raised to K when K > P)
  --engines LIST          engine counts K to measure, e.g. 1,2,4 (default 1,2,4; smoke 1)
  --count C               commands per as-fast-as-possible run (default 1500000; smoke 60000)
  --max-duration S        cap on each as-fast-as-possible run's sending (default 25; smoke 10)
  --rate R                paced latency phase, commands/s (default 50000; smoke 5000)
  --duration S            paced latency phase length (default 15; smoke 4)
  --latency-engines K     engines in the paced phase (default 2; smoke 1)
  --latency-partitions L  partition counts of the paced phase, e.g. 2,4 (default: one partition per engine,
                          then --partitions; smoke: one per engine); a count below K is raised to K
  --latency-runs R        Kafka paced runs per layout (default 3; smoke 1): the machine is noisy, so the
                          verdict is on the median p99 of the runs
  --warmup S              seconds the paced phase runs at its rate before its latency is measured (default
                          3; smoke 1); the warm-up's own p99 is reported beside the measured one
  --failover-rate R       load during the kill -9 phase (default 20000; smoke 3000)
  --failover-duration S   length of the kill -9 phase (default 40; smoke 20)
  --no-failover           skip the kill -9 phase
  --risk-orders N         place requests of the funds-path phase (requests -> risk -> orders -> engine ->
                          account events -> risk, then the engine alone on the same orders; default 100000;
                          smoke 5000)
  --risk-accounts N       funded accounts of the funds-path phase (default 2000; smoke 200)
  --risk-shards S         account shards of the funds-path phase (default 4)
  --risk-rates LIST       paced phases of the funds path after the unpaced one, requests/s, e.g. 10000,20000
                          (default 10000,20000; smoke 2000): p50/p99 at a rate the path sustains
  --risk-paced-duration S seconds each paced phase sends (default 10; smoke 2)
  --no-risk               skip the funds-path phase
  --transport T           kafka | embedded | both (default both)
  --batch B               max commands per message per market (default 100)
  --engine-batch M        engines' MAX_BATCH_MESSAGES, input messages per transaction (default 500, the
                          engine's default; the transport splits large outputs into several requests)
  --seed X                workload seed (default 1)
  --docs / --no-docs      write the docs/benchmarks.md section (default: on, off with --smoke)
  --json FILE             also write the results as JSON
  --render FILE           no run: print (and with --docs write) the results saved by --json
  --help

Environment: KAFKA_BROKERS (default 127.0.0.1:$KAFKA_PORT, 19092 when unset; that local broker is started with
scripts/kafka.sh if not running, and its CPU is measured).`;

export interface BenchOptions {
  readonly smoke: boolean;
  readonly markets: number;
  readonly partitions: number;
  readonly engines: readonly number[];
  readonly count: number;
  readonly maxDurationSec: number;
  readonly rate: number;
  readonly durationSec: number;
  readonly latencyEngines: number;
  /** Partition counts of the paced phase, each >= latencyEngines, distinct, in order. */
  readonly latencyPartitions: readonly number[];
  readonly warmupSec: number;
  readonly latencyRuns: number;
  readonly failover: boolean;
  readonly failoverRate: number;
  readonly failoverDurationSec: number;
  /** The funds-path phase (risk stage included); null = skipped. */
  readonly risk: {
    readonly orders: number;
    readonly accounts: number;
    readonly shards: number;
    /** Paced phases after the unpaced one, requests/s. */
    readonly rates: readonly number[];
    readonly pacedSec: number;
  } | null;
  readonly kafka: boolean;
  readonly embedded: boolean;
  readonly batch: number;
  readonly engineBatch: number;
  readonly seed: number;
  readonly docs: boolean;
  readonly json: string | undefined;
  readonly render: string | undefined;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function num(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || v < min || v > max) throw new UsageError(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return v;
}

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const v = num(name, raw, fallback, min, max);
  if (!Number.isSafeInteger(v)) throw new UsageError(`--${name} must be an integer, got "${String(raw)}"`);
  return v;
}

/** null = --help. */
export function parseOptions(argv: readonly string[]): BenchOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        smoke: { type: 'boolean' },
        markets: { type: 'string' },
        partitions: { type: 'string' },
        engines: { type: 'string' },
        count: { type: 'string' },
        'max-duration': { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        'latency-engines': { type: 'string' },
        'latency-partitions': { type: 'string' },
        warmup: { type: 'string' },
        'latency-runs': { type: 'string' },
        'failover-rate': { type: 'string' },
        'failover-duration': { type: 'string' },
        'no-failover': { type: 'boolean' },
        'risk-orders': { type: 'string' },
        'risk-accounts': { type: 'string' },
        'risk-shards': { type: 'string' },
        'risk-rates': { type: 'string' },
        'risk-paced-duration': { type: 'string' },
        'no-risk': { type: 'boolean' },
        transport: { type: 'string' },
        batch: { type: 'string' },
        'engine-batch': { type: 'string' },
        seed: { type: 'string' },
        docs: { type: 'boolean' },
        'no-docs': { type: 'boolean' },
        json: { type: 'string' },
        render: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return null;
  const smoke = values.smoke === true;
  const engines = (values.engines ?? (smoke ? '1' : '1,2,4')).split(',').map((x) => int('engines', x.trim(), 1, 1, 64));
  const transport = values.transport ?? 'both';
  if (!['kafka', 'embedded', 'both'].includes(transport)) throw new UsageError(`--transport must be kafka, embedded or both, got "${transport}"`);
  const failoverDurationSec = num('failover-duration', values['failover-duration'], smoke ? 20 : 40, 20, 600);
  const partitions = int('partitions', values.partitions, 4, 1, 1024);
  const latencyEngines = int('latency-engines', values['latency-engines'], smoke ? 1 : 2, 1, 64);
  const latencyPartitions = [
    ...new Set(
      values['latency-partitions'] === undefined
        ? smoke
          ? [latencyEngines]
          : [latencyEngines, Math.max(partitions, latencyEngines)]
        : values['latency-partitions'].split(',').map((x) => Math.max(latencyEngines, int('latency-partitions', x.trim(), 1, 1, 1024))),
    ),
  ];
  return {
    smoke,
    markets: int('markets', values.markets, smoke ? 8 : 16, 1, 100_000),
    partitions,
    engines,
    count: int('count', values.count, smoke ? 60_000 : 1_500_000, 1, 1e9),
    maxDurationSec: num('max-duration', values['max-duration'], smoke ? 10 : 25, 1, 3600),
    rate: int('rate', values.rate, smoke ? 5_000 : 50_000, 1, 1e8),
    durationSec: num('duration', values.duration, smoke ? 4 : 15, 1, 3600),
    latencyEngines,
    latencyPartitions,
    warmupSec: num('warmup', values.warmup, smoke ? 1 : 3, 0, 600),
    latencyRuns: int('latency-runs', values['latency-runs'], smoke ? 1 : 3, 1, 100),
    failover: values['no-failover'] !== true,
    failoverRate: int('failover-rate', values['failover-rate'], smoke ? 3_000 : 20_000, 1, 1e8),
    failoverDurationSec,
    risk:
      values['no-risk'] === true
        ? null
        : {
            orders: int('risk-orders', values['risk-orders'], smoke ? 5_000 : 100_000, 1, 1e8),
            accounts: int('risk-accounts', values['risk-accounts'], smoke ? 200 : 2_000, 1, 1e7),
            shards: int('risk-shards', values['risk-shards'], 4, 1, 1024),
            rates: [...new Set((values['risk-rates'] ?? (smoke ? '2000' : '10000,20000')).split(',').map((x) => int('risk-rates', x.trim(), 1, 1, 1e8)))],
            pacedSec: num('risk-paced-duration', values['risk-paced-duration'], smoke ? 2 : 10, 0.1, 3600),
          },
    kafka: transport !== 'embedded',
    embedded: transport !== 'kafka',
    batch: int('batch', values.batch, 100, 1, 10_000),
    engineBatch: int('engine-batch', values['engine-batch'], 500, 1, 100_000),
    seed: int('seed', values.seed, 1, 0, Number.MAX_SAFE_INTEGER),
    docs: values['no-docs'] === true ? false : values.docs === true || !smoke,
    json: values.json,
    render: values.render,
  };
}

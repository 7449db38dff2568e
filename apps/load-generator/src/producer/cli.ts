// Command line of the load generator (parsed and validated before anything connects).
import { parseArgs } from 'node:util';
import { DEFAULT_TOPICS } from '@parallax/contracts';
import type { LoadGeneratorOptions } from './load-generator.js';

export const USAGE = `Usage: node apps/load-generator/dist/main.js --markets N (--duration S | --count C) [options]

Writes seeded order-command batches for markets 1..N to the orders topic.

  --markets N       markets 1..N (required)
  --duration S      stop after S seconds (at a rate: after rate*S commands)
  --count C         stop after C commands in total
  --rate R          commands per second over all markets; 0 = as fast as possible (default 0)
  --batch B         max commands per message per market (default 100)
  --seed X          workload seed (default 1)
  --partitions P    create the pipeline topics with P partitions (if missing) and check the count
  --accounts A      trading accounts 1..A (default 1000)
  --topic T         orders topic (default parallax.orders.v1)
  --help

Environment: KAFKA_BROKERS (comma-separated host:port list, required), KAFKA_CLIENT_ID (default parallax-load-generator).`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly options: LoadGeneratorOptions;
}

function int(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return Number(raw);
}

/** Returns null for --help. Throws UsageError naming the offending flag or variable. */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliConfig | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        markets: { type: 'string' },
        duration: { type: 'string' },
        count: { type: 'string' },
        rate: { type: 'string' },
        batch: { type: 'string' },
        seed: { type: 'string' },
        partitions: { type: 'string' },
        accounts: { type: 'string' },
        topic: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return null;
  const markets = int('markets', values.markets, 1, 100_000);
  if (markets === undefined) throw new UsageError('--markets is required');
  let durationSec: number | undefined;
  if (values.duration !== undefined) {
    durationSec = Number(values.duration);
    if (!/^\d+(\.\d+)?$/.test(values.duration) || !(durationSec > 0)) throw new UsageError(`--duration must be a positive number of seconds, got "${values.duration}"`);
  }
  const totalCommands = int('count', values.count, 0, Number.MAX_SAFE_INTEGER);
  if (durationSec === undefined && totalCommands === undefined) throw new UsageError('give --duration or --count');
  const partitions = int('partitions', values.partitions, 1, 10_000);
  const accounts = int('accounts', values.accounts, 1, 1_000_000_000);
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new UsageError('KAFKA_BROKERS is not set (e.g. KAFKA_BROKERS=127.0.0.1:9092)');
  for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new UsageError(`KAFKA_BROKERS entry "${b}" is not host:port`);
  const options: LoadGeneratorOptions = {
    markets,
    seed: int('seed', values.seed, 0, Number.MAX_SAFE_INTEGER) ?? 1,
    batchSize: int('batch', values.batch, 1, 65_535) ?? 100,
    rate: int('rate', values.rate, 0, 1_000_000_000) ?? 0,
    ...(durationSec !== undefined ? { durationSec } : {}),
    ...(totalCommands !== undefined ? { totalCommands } : {}),
    ...(partitions !== undefined ? { partitions, createTopics: true } : {}),
    ...(accounts !== undefined ? { workload: { accounts } } : {}),
    ...(values.topic !== undefined ? { topics: { ...DEFAULT_TOPICS, orders: values.topic } } : {}),
  };
  return { brokers, clientId: env.KAFKA_CLIENT_ID ?? 'parallax-load-generator', options };
}

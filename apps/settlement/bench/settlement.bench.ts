#!/usr/bin/env node
// Settlement benchmark: gas per fill against batch size for three trader scenarios (through the service's
// BatchSettler), then the whole settlement service's fills/s on the embedded transport, against the matching
// pipeline's trade rate. Every batch and the service run are verified; any failure exits non-zero.
//
//   npm run bench:settlement                 full run (~2-3 min), rewrites the Settlement section of docs/benchmarks.md
//   npm run bench:settlement -- --smoke      small sizes (< 60 s), still verified, leaves the docs alone
//   options: --seed N  --db auto|postgres|pglite  --no-docs  --json FILE  --render FILE (no run: print and
//            write the docs from a saved --json file)
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalSettlementChain } from '../local/local-settlement.js';
import { runGasScenarios } from './gas.js';
import { pipelineRate } from './pipeline-rate.js';
import { renderConsole, writeDocs, type BenchResults } from './report.js';
import { runThroughput } from './throughput.js';

const DOCS = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Options {
  readonly smoke: boolean;
  readonly seed: number;
  readonly db: 'auto' | 'postgres' | 'pglite';
  readonly docs: boolean;
  readonly json: string | undefined;
  readonly render: string | undefined;
}

function options(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      smoke: { type: 'boolean' },
      seed: { type: 'string' },
      db: { type: 'string' },
      'no-docs': { type: 'boolean' },
      json: { type: 'string' },
      render: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: settlement.bench.js [--smoke] [--seed N] [--db auto|postgres|pglite] [--no-docs] [--json FILE] [--render FILE]\n');
    process.exit(0);
  }
  const seed = Number(values.seed ?? '20261129');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${values.seed}`);
  const db = values.db ?? 'auto';
  if (db !== 'auto' && db !== 'postgres' && db !== 'pglite') throw new Error(`--db must be auto, postgres or pglite, got ${db}`);
  const smoke = values.smoke === true;
  return { smoke, seed, db, docs: !smoke && values['no-docs'] !== true, json: values.json, render: values.render };
}

async function run(o: Options): Promise<BenchResults> {
  const started = new Date();
  const loadAtStart = load();
  const t0 = performance.now();
  log(`settlement benchmark${o.smoke ? ' (smoke)' : ''}: seed ${o.seed}, load average ${loadAtStart}`);

  log('part 1: gas per fill against batch size (anvil --enable-tx-gas-limit)');
  const gasChain = await startLocalSettlementChain({ anvil: { enforceTxGasLimit: true } });
  let gas;
  try {
    gas = await runGasScenarios(gasChain, { sizes: o.smoke ? [1, 10, 50] : [1, 10, 100, 500], findMax: !o.smoke, seed: o.seed, log });
  } finally {
    await gasChain.chain.close();
  }

  log('part 2: settlement throughput (startSettlement, embedded transport, anvil automine)');
  const tpChain = await startLocalSettlementChain({ anvil: { enforceTxGasLimit: true } });
  let throughput;
  try {
    throughput = await runThroughput(tpChain, { orders: o.smoke ? 500 : 8_000, traders: 20, maxFills: 500, seed: o.seed, database: o.db, log });
  } finally {
    await tpChain.chain.close();
  }
  log(`  ${throughput.settled} fills in ${(throughput.elapsedMs / 1000).toFixed(2)} s: ${Math.round(throughput.fillsPerSec)} fills/s over ${throughput.batches} batches`);

  log('pipeline trade rate: trades per command of the pipeline workload');
  const pipeline = await pipelineRate(DOCS, o.smoke ? 20_000 : 200_000);

  return {
    startedAt: started.toISOString(),
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} CPUs, Node ${process.version}`,
    loadAtStart,
    loadAtEnd: load(),
    seed: o.seed,
    smoke: o.smoke,
    durationSec: (performance.now() - t0) / 1000,
    gas,
    throughput,
    pipeline,
    problems: [...gas.problems, ...throughput.problems],
  };
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  const results = o.render !== undefined ? (JSON.parse(readFileSync(o.render, 'utf8')) as BenchResults) : await run(o);
  process.stdout.write(renderConsole(results));
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify(results, null, 2));
  if (o.docs && results.problems.length === 0 && !results.smoke) {
    writeDocs(DOCS, results);
    log(`wrote the Settlement section of ${DOCS}`);
  }
  return results.problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    // A stuck handle (HTTP keep-alive, a consumer) must not keep a finished benchmark alive.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`settlement bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

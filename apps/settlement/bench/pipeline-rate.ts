// The matching pipeline's trade rate, for "does settlement keep up": the pipeline benchmark's commands/s as
// docs/benchmarks.md last recorded them, times the trades per command of the same seeded workload (the load
// generator's generateCommands), matched here in-process with the same books.
import { readFileSync } from 'node:fs';
import type { CommandBatch } from '@parallax/contracts';
import { matchBatches } from './match.js';

export interface PipelineRow {
  readonly transport: string;
  readonly phase: string;
  readonly engines: number;
  readonly commandsPerSec: number;
}

export interface PipelineRate {
  /** "Latest run: ..." of the pipeline section, or why there is none. */
  readonly recorded: string;
  readonly rows: PipelineRow[];
  readonly best: PipelineRow | undefined;
  readonly paced: PipelineRow | undefined;
  readonly commands: number;
  readonly trades: number;
  readonly tradesPerCommand: number;
}

interface LoadGeneratorModule {
  generateCommands(seed: number, markets: number, count: number, options?: { batchSize?: number }): Map<number, CommandBatch[]>;
}

export function readPipelineRows(docs: string): { recorded: string; rows: PipelineRow[] } {
  const a = docs.indexOf('<!-- bench:pipeline:start -->');
  const b = docs.indexOf('<!-- bench:pipeline:end -->');
  if (a < 0 || b < a) return { recorded: 'no bench:pipeline section in docs/benchmarks.md', rows: [] };
  const section = docs.slice(a, b);
  const recorded = /Latest run: ([^;]+);/.exec(section)?.[1] ?? 'unknown date';
  const rows: PipelineRow[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| (kafka|embedded) \| ([a-z-]+) \| (\d+) \|.*\*\*([\d,]+)\*\*/.exec(line);
    if (m === null) continue;
    rows.push({ transport: m[1]!, phase: m[2]!, engines: Number(m[3]), commandsPerSec: Number(m[4]!.replaceAll(',', '')) });
  }
  return { recorded, rows };
}

export async function pipelineRate(docsPath: string, commands: number): Promise<PipelineRate> {
  let docs = '';
  try {
    docs = readFileSync(docsPath, 'utf8');
  } catch {
    // no docs: no recorded pipeline rate
  }
  const { recorded, rows } = readPipelineRows(docs);
  const max = rows.filter((r) => r.phase === 'max');
  const best = max.reduce<PipelineRow | undefined>((x, r) => (x === undefined || r.commandsPerSec > x.commandsPerSec ? r : x), undefined);
  const paced = rows.find((r) => r.phase === 'paced' && r.transport === 'kafka');
  // Loaded by name at run time: apps/settlement does not build against the load generator (no project
  // reference), and `npm run build` has built it by the time the benchmark runs.
  const name = '@parallax/load-generator';
  const lg = (await import(name)) as LoadGeneratorModule;
  // The pipeline bench's workload: seed 1, 16 markets, 100 commands per message.
  const batches = lg.generateCommands(1, 16, commands, { batchSize: 100 });
  const matched = matchBatches([...batches.values()].flat(), 16, 4, false);
  return {
    recorded,
    rows,
    best,
    paced,
    commands: matched.commands,
    trades: matched.trades.length,
    tradesPerCommand: matched.trades.length / Math.max(1, matched.commands),
  };
}

// Many markets' order flows interleaved deterministically: global command k goes to market index
// k % markets. Each market's own sequence depends only on (seed, marketId, options), so the first n
// commands of a run are the same whatever the batching or timing, and generateCommands(seed, markets, n)
// reproduces exactly what a run that sent n commands produced (for single-process expected-output replay).
import type { Command } from '@parallax/order-book';
import type { CommandBatch } from '@parallax/contracts';
import { MAX_COMMANDS_PER_BATCH } from '@parallax/contracts';
import { MarketOrderFlow } from './order-flow.js';
import type { WorkloadOptions } from './order-flow.js';

export const MAX_MARKETS = 100_000;

export class LoadGeneratorError extends Error {
  override readonly name = 'LoadGeneratorError';
  constructor(
    readonly code: 'INVALID_OPTION',
    message: string,
  ) {
    super(message);
  }
}

export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new LoadGeneratorError('INVALID_OPTION', `${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function checkWorkload(o: WorkloadOptions): void {
  if (o.accounts !== undefined) checkInt('accounts', o.accounts, 1, 1_000_000_000);
  if (o.targetResting !== undefined) checkInt('targetResting', o.targetResting, 1, 10_000_000);
  if (o.midPrice !== undefined) checkInt('midPrice', o.midPrice, 200, 1_000_000_000_000);
}

/** Market ids 1..markets, as in defaultMarkets(markets). */
export class CommandStream {
  private readonly flows: MarketOrderFlow[] = [];
  private cursor = 0;

  constructor(seed: number, markets: number, options: WorkloadOptions = {}) {
    checkInt('seed', seed, 0, Number.MAX_SAFE_INTEGER);
    checkInt('markets', markets, 1, MAX_MARKETS);
    checkWorkload(options);
    for (let m = 1; m <= markets; m++) this.flows.push(new MarketOrderFlow(seed, m, options));
  }

  get markets(): number {
    return this.flows.length;
  }

  /** Commands generated so far (all markets). */
  get produced(): number {
    return this.cursor;
  }

  marketIdAt(index: number): number {
    return this.flows[index]!.marketId;
  }

  /** Generates the next n commands in global order, appending each to out[marketIndex]. */
  fill(n: number, out: Command[][]): void {
    const flows = this.flows;
    const m = flows.length;
    let i = this.cursor % m;
    for (let k = 0; k < n; k++) {
      out[i]!.push(flows[i]!.next());
      if (++i === m) i = 0;
    }
    this.cursor += n;
  }
}

export interface GenerateOptions extends WorkloadOptions {
  /** Commands per CommandBatch (per market). Default 100. */
  readonly batchSize?: number;
}

/**
 * The first `count` commands (in total, over all markets) of the seeded workload, per market id 1..markets,
 * cut into CommandBatches of up to batchSize commands (sentAtMs 0). The load generator in as-fast-as-possible
 * mode sends exactly these batches; at a paced rate the batch boundaries differ but each market's command
 * sequence is the same, so replaying these per market gives the expected books and event streams.
 */
export function generateCommands(seed: number, markets: number, count: number, options: GenerateOptions = {}): Map<number, CommandBatch[]> {
  checkInt('count', count, 0, Number.MAX_SAFE_INTEGER);
  const batchSize = checkInt('batchSize', options.batchSize ?? 100, 1, MAX_COMMANDS_PER_BATCH);
  const stream = new CommandStream(seed, markets, options);
  const out: Map<number, CommandBatch[]> = new Map();
  const pending: Command[][] = [];
  for (let i = 0; i < markets; i++) {
    pending.push([]);
    out.set(stream.marketIdAt(i), []);
  }
  // Generate in rounds so memory stays one round ahead of the batches.
  const round = markets * batchSize;
  for (let done = 0; done < count; ) {
    const n = Math.min(round, count - done);
    stream.fill(n, pending);
    done += n;
    for (let i = 0; i < markets; i++) {
      const p = pending[i]!;
      if (p.length === 0) continue;
      out.get(stream.marketIdAt(i))!.push({ marketId: stream.marketIdAt(i), sentAtMs: 0, commands: p });
      pending[i] = [];
    }
  }
  return out;
}

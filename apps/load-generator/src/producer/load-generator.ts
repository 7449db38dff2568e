// Sends the seeded workload to the orders topic through any Transport: one CommandBatch message per market
// per send round (up to batchSize commands each), key = marketKey, explicit partition = partitionForMarket.
// One send is in flight at a time, so each partition receives its markets' batches in generation order;
// the next chunk is generated and encoded while the previous send is in flight.
//
// Pacing: open loop at `rate` commands/s (the commands due since the start are generated and sent; a slow
// send is caught up by the next one, never skipped), or as fast as the transport accepts when rate is 0.
import type { Command } from '@parallax/order-book';
import type { OutgoingMessage, Transport } from '@parallax/transport';
import { DEFAULT_TOPICS, encodeCommandBatch, marketKey, MAX_COMMANDS_PER_BATCH, partitionForMarket, topicSpecs } from '@parallax/contracts';
import type { TopicNames } from '@parallax/contracts';
import type { WorkloadOptions } from '../workload/order-flow.js';
import { checkInt, CommandStream, LoadGeneratorError, MAX_MARKETS } from '../workload/workload.js';

export interface LoadGeneratorOptions {
  readonly markets: number;
  readonly seed: number;
  /** Maximum commands per message (per market). */
  readonly batchSize: number;
  /** Commands per second over all markets; 0 = as fast as possible. */
  readonly rate: number;
  /** Stop after this many seconds (at a rate: after rate * durationSec commands). */
  readonly durationSec?: number;
  /** Stop after this many commands. At least one of durationSec / totalCommands is required. */
  readonly totalCommands?: number;
  /** Expected partitions of the orders topic (checked); default: whatever the topic has. */
  readonly partitions?: number;
  /** Create the pipeline topics (topicSpecs(topics, partitions)) first. Needs `partitions`. */
  readonly createTopics?: boolean;
  readonly topics?: TopicNames;
  readonly workload?: WorkloadOptions;
  /** Upper bound on messages per send call. Default 1000. */
  readonly maxMessagesPerSend?: number;
  /** Stops the run early (the report then covers what was sent). */
  readonly signal?: AbortSignal;
  /** Called about once a second. */
  readonly onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  readonly commands: number;
  readonly messages: number;
  readonly elapsedSec: number;
  readonly commandsPerSec: number;
}

export interface LoadReport {
  readonly topic: string;
  readonly markets: number;
  readonly partitions: number;
  readonly seed: number;
  readonly batchSize: number;
  /** Target rate (0 = as fast as possible). */
  readonly rate: number;
  readonly commands: number;
  readonly messages: number;
  /** Encoded message value bytes. */
  readonly bytes: number;
  /** Transport send calls. */
  readonly sends: number;
  readonly elapsedSec: number;
  readonly commandsPerSec: number;
  readonly messagesPerSec: number;
  /** Commands per market id (market 1 first). */
  readonly commandsPerMarket: readonly number[];
  readonly aborted: boolean;
}

const TICK_MS = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoadGenerator(transport: Transport, options: LoadGeneratorOptions): Promise<LoadReport> {
  const markets = checkInt('markets', options.markets, 1, MAX_MARKETS);
  const batchSize = checkInt('batchSize', options.batchSize, 1, MAX_COMMANDS_PER_BATCH);
  const rate = checkInt('rate', options.rate, 0, 1e9);
  const maxMessages = checkInt('maxMessagesPerSend', options.maxMessagesPerSend ?? 1000, 1, 1e6);
  if (options.durationSec === undefined && options.totalCommands === undefined) {
    throw new LoadGeneratorError('INVALID_OPTION', 'give a duration or a total command count');
  }
  if (options.durationSec !== undefined && !(options.durationSec > 0 && options.durationSec <= 1e7)) {
    throw new LoadGeneratorError('INVALID_OPTION', `durationSec must be a positive number of seconds, got ${String(options.durationSec)}`);
  }
  let limit = options.totalCommands === undefined ? Infinity : checkInt('totalCommands', options.totalCommands, 0, Number.MAX_SAFE_INTEGER);
  if (rate > 0 && options.durationSec !== undefined) limit = Math.min(limit, Math.floor(rate * options.durationSec));
  const topics = options.topics ?? DEFAULT_TOPICS;
  const topic = topics.orders;
  if (options.createTopics === true) {
    if (options.partitions === undefined) throw new LoadGeneratorError('INVALID_OPTION', 'createTopics needs partitions');
    await transport.ensureTopics(topicSpecs(topics, options.partitions));
  }
  // The topic's real count decides where engines look for a market: never assume a different one.
  const partitions = await transport.partitionCount(topic);
  if (options.partitions !== undefined && options.partitions !== partitions) {
    throw new LoadGeneratorError('INVALID_OPTION', `${topic} has ${partitions} partitions, not ${options.partitions}`);
  }

  const stream = new CommandStream(options.seed, markets, options.workload);
  const keys: string[] = [];
  const partitionOf: number[] = [];
  for (let i = 0; i < markets; i++) {
    keys.push(marketKey(stream.marketIdAt(i)));
    partitionOf.push(partitionForMarket(stream.marketIdAt(i), partitions));
  }
  const pending: Command[][] = Array.from({ length: markets }, () => []);
  const perMarket = new Array<number>(markets).fill(0);
  // As fast as possible: whole rounds of one full batch per market, so batch boundaries match generateCommands.
  const roundsPerSend = Math.max(1, Math.floor(maxMessages / markets));
  const fastChunk = markets * batchSize * roundsPerSend;
  // Paced: at most ~maxMessages full batches per send.
  const pacedChunk = Math.max(batchSize, maxMessages * batchSize);

  const producer = await transport.producer();
  const deadline = options.durationSec === undefined ? Infinity : options.durationSec * 1000;
  const t0 = performance.now();
  let messages = 0;
  let bytes = 0;
  let sends = 0;
  let aborted = false;
  let lastProgress = 0;
  let inflight: Promise<void> | null = null;
  let lastFillAt = Number.NEGATIVE_INFINITY;
  const elapsedMs = (): number => performance.now() - t0;
  try {
    while (stream.produced < limit) {
      if (options.signal?.aborted === true) {
        aborted = true;
        break;
      }
      const now = elapsedMs();
      let n: number;
      if (rate === 0) {
        if (now >= deadline) break;
        n = Math.min(fastChunk, limit - stream.produced);
      } else {
        // One send per tick at most: what came due since the last one goes out together, one message per market,
        // as a gateway or risk shard batches per market. (Sending whenever the previous send returned made
        // messages of ~5 commands at 50k/s over 16 markets, three times the records for the broker to handle.)
        if (now - lastFillAt < TICK_MS && now < deadline) {
          await sleep(TICK_MS - (now - lastFillAt));
          continue;
        }
        const due = Math.min(limit, Math.floor((rate * Math.min(now, deadline)) / 1000));
        n = Math.min(pacedChunk, due - stream.produced);
        if (n <= 0) {
          if (now >= deadline) break;
          // Sleep until the next command is due (timers are ~1 ms coarse: tick at least TICK_MS).
          await sleep(Math.max(TICK_MS, ((stream.produced + 1) * 1000) / rate - now));
          continue;
        }
        lastFillAt = now;
      }
      // Stamped when the oldest command of this send was due (paced) or now (as fast as possible), not when the
      // transport got to it: end-to-end latency then includes the wait for the tick and any time queued behind
      // a slow send (no coordinated omission).
      const sentAtMs = rate === 0 ? Date.now() : Math.round(Date.now() - (now - (stream.produced * 1000) / rate));
      stream.fill(n, pending);
      const out: OutgoingMessage[] = [];
      for (let i = 0; i < markets; i++) {
        const cmds = pending[i]!;
        if (cmds.length === 0) continue;
        perMarket[i]! += cmds.length;
        const marketId = stream.marketIdAt(i);
        for (let from = 0; from < cmds.length; from += batchSize) {
          const value = encodeCommandBatch({ marketId, sentAtMs, commands: cmds.slice(from, from + batchSize) });
          bytes += value.length;
          out.push({ key: keys[i]!, partition: partitionOf[i]!, value });
        }
        pending[i] = [];
      }
      if (inflight !== null) await inflight;
      inflight = producer.send(topic, out);
      // Observed by the await above or below; keeps a failure during a pacing sleep from going unhandled.
      inflight.catch(() => undefined);
      sends++;
      messages += out.length;
      if (options.onProgress !== undefined && elapsedMs() - lastProgress >= 1000) {
        lastProgress = elapsedMs();
        options.onProgress({ commands: stream.produced, messages, elapsedSec: lastProgress / 1000, commandsPerSec: Math.round((stream.produced * 1000) / lastProgress) });
      }
    }
    if (inflight !== null) await inflight;
  } finally {
    await producer.close();
  }
  const elapsedSec = elapsedMs() / 1000;
  const commands = stream.produced;
  return {
    topic,
    markets,
    partitions,
    seed: options.seed,
    batchSize,
    rate,
    commands,
    messages,
    bytes,
    sends,
    elapsedSec,
    commandsPerSec: elapsedSec > 0 ? Math.round(commands / elapsedSec) : 0,
    messagesPerSec: elapsedSec > 0 ? Math.round(messages / elapsedSec) : 0,
    commandsPerMarket: perMarket,
    aborted,
  };
}

// Matching engines as child processes (dist/main.js configured by environment) for the real-Kafka fault
// tests: they can be killed with SIGKILL (no close, no revoke, an open transaction left behind), and their
// JSON log lines are collected with the time the test received them.
import type { Transport } from '@parallax/transport';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { spawnEngineProcess, type EngineLogLine, type EngineProcess } from '../process/engine-process.js';
import { sleep } from './test-support.js';

export const kafkaBrokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';

export type { EngineProcess } from '../process/engine-process.js';
export type LogEntry = EngineLogLine;

/** Environment of one test run: topics and group named after `run` so concurrent runs never share them. */
export function engineEnv(run: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers,
    KAFKA_CLIENT_ID: `engine-${run}`,
    ENGINE_GROUP_ID: `engine-${run}`,
    TOPIC_ORDERS: `${run}.orders`,
    TOPIC_MARKET_EVENTS: `${run}.market-events`,
    TOPIC_SNAPSHOTS: `${run}.snapshots`,
    TOPIC_DEAD_LETTERS: `${run}.dead-letters`,
    PARTITIONS: '4',
    MARKETS: '8',
    SNAPSHOT_EVERY_MESSAGES: '40',
    MAX_BATCH_MESSAGES: '25',
    // Short timings so a killed member is noticed quickly (6 s is the broker's minimum session timeout).
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    KAFKA_REBALANCE_TIMEOUT_MS: '10000',
    KAFKA_MAX_WAIT_MS: '100',
    ENGINE_HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export function spawnEngine(name: string, env: Record<string, string>): Promise<EngineProcess> {
  return spawnEngineProcess(name, env);
}

/**
 * SIGSTOP: the engine halts wherever it is (mid-transaction or between batches) and commits nothing more until
 * it is killed. Used before kill9 so "uncommitted input at the kill" is a state the test waits for, not a race
 * against an engine that keeps catching up with paced input.
 */
export function freeze(e: EngineProcess): void {
  if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGSTOP');
}

export async function kill9(e: EngineProcess): Promise<void> {
  if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGKILL');
  await e.exited;
}

/** SIGTERM, then SIGKILL if the engine has not exited within `graceMs`. Resolves with the exit code. */
export async function stopGracefully(e: EngineProcess, graceMs = 20_000): Promise<number | null> {
  if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGTERM');
  const timer = setTimeout(() => e.child.kill('SIGKILL'), graceMs);
  try {
    return await e.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function logsWith(e: EngineProcess, msg: string, since = 0): LogEntry[] {
  return e.logs.filter((l) => l.entry['msg'] === msg && l.atMs >= since);
}

/** Partitions the engine owns according to its latest "partitions assigned" line (none before its first). */
export function ownedPartitions(e: EngineProcess): number[] {
  const last = logsWith(e, 'partitions assigned').at(-1);
  return last === undefined ? [] : (last.entry['owned'] as number[]);
}

/** Polls `check` every `everyMs` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function committedOffsets(t: Transport, config: MatchingEngineConfig): Promise<Map<number, number>> {
  return t.committedOffsets(config.groupId, config.topics.orders);
}

export async function committedTotal(t: Transport, config: MatchingEngineConfig): Promise<number> {
  let n = 0;
  for (const v of (await committedOffsets(t, config)).values()) n += v;
  return n;
}

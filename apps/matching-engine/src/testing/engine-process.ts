// Matching engines as child processes (dist/main.js configured by environment) for the real-Kafka fault
// tests: they can be killed with SIGKILL (no close, no revoke, an open transaction left behind), and their
// JSON log lines are collected with the time the test received them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Transport } from '@parallax/transport';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { sleep } from './test-support.js';

const main = fileURLToPath(new URL('../main.js', import.meta.url));

export const kafkaBrokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';

export interface LogEntry {
  readonly entry: Record<string, unknown>;
  /** Date.now() in the test process when the line arrived. */
  readonly receivedAtMs: number;
}

export interface EngineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  /** Date.now() just before spawn. */
  readonly spawnedAtMs: number;
  /** Date.now() when the "matching engine started" line arrived. */
  readonly startedAtMs: number;
  /** Parsed JSON log lines so far. */
  readonly logs: LogEntry[];
  readonly exited: Promise<number | null>;
}

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

export async function spawnEngine(name: string, env: Record<string, string>): Promise<EngineProcess> {
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    env: { ...process.env, ...env, ENGINE_INSTANCE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogEntry[] = [];
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let startedAtMs = 0;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`engine ${name} did not start in time\n${stderr}`));
    }, 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const receivedAtMs = Date.now();
      logs.push({ entry, receivedAtMs });
      if (entry['msg'] === 'matching engine started') {
        clearTimeout(timer);
        startedAtMs = receivedAtMs;
        resolve(String(entry['url']));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      // pino writes fatal errors to stdout: show the last lines too.
      const last = logs.slice(-3).map((l) => JSON.stringify(l.entry));
      reject(new Error(`engine ${name} exited with ${code} before starting\n${stderr}${last.join('\n')}`));
    });
  });
  return { name, child, url, spawnedAtMs, startedAtMs, logs, exited };
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
  return e.logs.filter((l) => l.entry['msg'] === msg && l.receivedAtMs >= since);
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

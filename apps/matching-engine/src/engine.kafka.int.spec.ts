// Fault tests on a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`).
// Engines run as child processes (dist/main.js, configured by environment) so they can be killed with
// SIGKILL: no close, no revoke, an open transaction left behind. The final market event streams must equal
// a single-process replay of the same commands: nothing lost, nothing duplicated, sequences gap-free.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { topicSpecs, type CommandBatch } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { loadMatchingEngineConfig, type MatchingEngineConfig } from './config/matching-engine.config.js';
import { assertSameStreams, produce, readStreams, referenceStreams, sleep, waitForCommitted } from './testing/test-support.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const main = fileURLToPath(new URL('./main.js', import.meta.url));

interface EngineProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Parsed JSON log lines so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

function envFor(run: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
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

async function spawnEngine(env: Record<string, string>): Promise<EngineProcess> {
  const child = spawn(process.execPath, ['--enable-source-maps', main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`engine did not start in time\n${stderr}`));
    }, 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry['msg'] === 'matching engine started') {
        clearTimeout(timer);
        resolve(String(entry['url']));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code} before starting\n${stderr}`));
    });
  });
  return { child, url, logs, exited };
}

async function kill9(e: EngineProcess): Promise<void> {
  if (e.child.exitCode === null) e.child.kill('SIGKILL');
  await e.exited;
}

async function stopGracefully(e: EngineProcess): Promise<void> {
  if (e.child.exitCode === null) e.child.kill('SIGTERM');
  await e.exited;
}

function flow(config: MatchingEngineConfig, seed: number, batches: number): CommandBatch[] {
  return syntheticOrderFlow({ seed, marketIds: config.catalogue.all().map((d) => d.marketId), batches, maxCommandsPerBatch: 10 });
}

async function committedTotal(t: Transport, config: MatchingEngineConfig): Promise<number> {
  let n = 0;
  for (const v of (await t.committedOffsets(config.groupId, config.topics.orders)).values()) n += v;
  return n;
}

/** Commits become visible to readers a few ms after offsets do (Kafka writes markers asynchronously). */
async function assertStreamsEventually(t: Transport, config: MatchingEngineConfig, batches: readonly CommandBatch[]): Promise<void> {
  const want = referenceStreams(config.catalogue, batches);
  for (let attempt = 0; ; attempt++) {
    try {
      assertSameStreams(await readStreams(t, config), want);
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(250);
    }
  }
}

describe('matching engine on Kafka: process faults', { timeout: 240_000 }, () => {
  let transport: Transport;
  const engines: EngineProcess[] = [];

  before(() => {
    transport = createKafkaTransport({ brokers: brokers.split(','), clientId: 'engine-fault-tests' });
  });
  after(async () => {
    await Promise.all(engines.map(kill9));
    await transport.close();
  });

  it('kill -9 of one of two engines mid-stream: the other takes over, nothing lost or duplicated', async () => {
    const run = `engine-it-kill-${Date.now()}`;
    const env = envFor(run);
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const batches = flow(config, 21, 3000);

    const a = await spawnEngine({ ...env, ENGINE_INSTANCE_ID: 'a' });
    engines.push(a);
    const b = await spawnEngine({ ...env, ENGINE_INSTANCE_ID: 'b' });
    engines.push(b);
    const producing = (async () => {
      for (let i = 0; i < batches.length; i += 100) {
        await produce(transport, config, batches.slice(i, i + 100), 100);
        await sleep(30);
      }
    })();
    // Kill a once both engines have committed work and input is still arriving.
    for (let t = 0; (await committedTotal(transport, config)) < 600; t++) {
      if (t > 600) throw new Error('engines made no progress');
      await sleep(50);
    }
    await kill9(a);
    await producing;
    await waitForCommitted(transport, config, 90_000);
    await assertStreamsEventually(transport, config, batches);
    const restored = b.logs.filter((l) => l['msg'] === 'partition restored');
    assert.ok(restored.length >= 3, `b restored the partitions it took over (${restored.length} restores)`);
    await stopGracefully(b);
  });

  it('restarting the only engine after kill -9 restores from its snapshots and continues the identical streams', async () => {
    const run = `engine-it-restart-${Date.now()}`;
    const env = envFor(run, { SNAPSHOT_EVERY_MESSAGES: '30', MAX_BATCH_MESSAGES: '7' });
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const batches = flow(config, 22, 1600);

    const first = await spawnEngine({ ...env, ENGINE_INSTANCE_ID: 'first' });
    engines.push(first);
    await produce(transport, config, batches.slice(0, 800));
    await waitForCommitted(transport, config, 60_000);
    await kill9(first);

    await produce(transport, config, batches.slice(800));
    const second = await spawnEngine({ ...env, ENGINE_INSTANCE_ID: 'second' });
    engines.push(second);
    await waitForCommitted(transport, config, 90_000);
    await assertStreamsEventually(transport, config, batches);
    const restored = second.logs.filter((l) => l['msg'] === 'partition restored');
    assert.equal(restored.length, 4);
    for (const r of restored) {
      assert.ok(Number(r['snapshots']) > 0, `partition ${String(r['partition'])} restored from snapshots`);
      assert.ok(Number(r['replayFrom']) > 0, 'replay starts at the snapshot, not at the beginning');
    }
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    assert.match(metrics, /parallax_engine_commands_total\{/);
    await stopGracefully(second);
  });
});

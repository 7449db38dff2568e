// Fault tests on a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`).
// Engines run as child processes (dist/main.js, configured by environment), are frozen (SIGSTOP) and killed
// with SIGKILL while input is still arriving and they have uncommitted input: no close, no revoke, a
// transaction possibly left open. Afterwards every EventBatch is audited against a single-process replay of the same
// commands (assertExactlyOnce): one per input message that produced events, none twice for the same
// (market, inputOffset), sequences gap-free from 1, identical event bytes and state hashes.
// Start-up and fail-over times are printed (console.log), not asserted: the machine is shared and noisy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topicSpecs, type CommandBatch } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { loadMatchingEngineConfig, type MatchingEngineConfig } from './config/matching-engine.config.js';
import {
  committedOffsets,
  committedTotal,
  engineEnv,
  freeze,
  kafkaBrokers,
  kill9,
  logsWith,
  ownedPartitions,
  spawnEngine,
  stopGracefully,
  waitUntil,
  type EngineProcess,
} from './testing/engine-process.js';
import { assertExactlyOnceEventually } from './testing/exactly-once.js';
import { orderMessages, produce, readDeadLetters, sleep, waitForCommitted } from './testing/test-support.js';

function flow(config: MatchingEngineConfig, seed: number, batches: number): CommandBatch[] {
  return syntheticOrderFlow({ seed, marketIds: config.catalogue.all().map((d) => d.marketId), batches, maxCommandsPerBatch: 10 });
}

/**
 * Sends `pool` from `from` on, `chunk` batches every `pauseMs`, until stop() or the pool runs out.
 * `sent()` is the prefix of the pool sent so far: the input the engines must have matched in the end.
 */
function pacedProducer(transport: Transport, config: MatchingEngineConfig, pool: readonly CommandBatch[], from: number, chunk: number, pauseMs: number) {
  let next = from;
  // An object, not a local: stop() flips it from outside the loop.
  const flags = { stopping: false, finished: false };
  const done = (async () => {
    const producer = await transport.producer();
    try {
      while (!flags.stopping && next < pool.length) {
        const slice = pool.slice(next, next + chunk);
        await producer.send(config.topics.orders, orderMessages(config, slice));
        next += slice.length;
        await sleep(pauseMs);
      }
    } finally {
      flags.finished = true;
      await producer.close();
    }
  })();
  return {
    done,
    /** True once the loop ended (pool exhausted or stopped). */
    finished: () => flags.finished,
    stop: async (): Promise<void> => {
      flags.stopping = true;
      await done;
    },
    sent: (): CommandBatch[] => pool.slice(0, next),
  };
}

/** Rejects when the engine exits (for waitForCommitted's failure watch). */
function dies(e: EngineProcess): Promise<void> {
  return e.exited.then((code) => {
    throw new Error(`engine ${e.name} exited (${code}) during the test`);
  });
}

/** Uncommitted input of the given orders partitions right now (end offset - committed offset). */
async function lagOf(transport: Transport, config: MatchingEngineConfig, partitions: readonly number[]): Promise<number> {
  const ends = await transport.endOffsets(config.topics.orders);
  const committed = await committedOffsets(transport, config);
  let lag = 0;
  for (const p of partitions) lag += (ends.get(p) ?? 0) - (committed.get(p) ?? 0);
  return lag;
}

describe('matching engine on Kafka: process faults', { timeout: 300_000 }, () => {
  let transport: Transport;
  const engines: EngineProcess[] = [];

  before(() => {
    transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'engine-fault-tests' });
  });
  after(async () => {
    await Promise.all(engines.map(kill9));
    await transport.close();
  });

  it('kill -9 of one of two engines mid-stream: the other takes over, nothing lost or duplicated', { timeout: 180_000 }, async () => {
    const run = `engine-it-kill-${Date.now()}`;
    const env = engineEnv(run);
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    // More than the test needs: production runs until the fail-over is measured, so it spans the kill.
    const pool = flow(config, 21, 12_000);
    let input: ReturnType<typeof pacedProducer> | undefined;
    try {
      // Input waits before the first engine starts: start-up = spawn -> first committed transaction.
      await produce(transport, config, pool.slice(0, 200));
      const a = await spawnEngine('a', env);
      engines.push(a);
      const firstCommitMs = await waitUntil('the first committed batch', async () => ((await committedTotal(transport, config)) > 0 ? Date.now() : undefined), 60_000, 10);
      console.log(
        `[kafka faults] start-up of one engine: spawn -> ready ${a.startedAtMs - a.spawnedAtMs} ms, spawn -> first committed batch ${firstCommitMs - a.spawnedAtMs} ms`,
      );

      input = pacedProducer(transport, config, pool, 200, 30, 60);
      const b = await spawnEngine('b', env);
      engines.push(b);
      // Both members own partitions (the rebalance after b joined is over) ...
      await waitUntil(
        'a split of the partitions between a and b',
        () => {
          const pa = ownedPartitions(a);
          const pb = ownedPartitions(b);
          const all = [...pa, ...pb].sort((x, y) => x - y);
          return pa.length > 0 && pb.length > 0 && all.join() === '0,1,2,3' ? true : undefined;
        },
        60_000,
      );
      const victims = ownedPartitions(a);
      // ... and a is committing its partitions after the rebalance.
      const before = await committedOffsets(transport, config);
      await waitUntil(
        'a commit by a after the rebalance',
        async () => {
          const now = await committedOffsets(transport, config);
          return victims.some((p) => (now.get(p) ?? 0) > (before.get(p) ?? 0)) ? true : undefined;
        },
        30_000,
      );
      // Mid-stream: input still arriving, and a still has uncommitted input on its partitions. The engine keeps
      // up with the paced input, so its lag comes and goes: freeze it where it is, then kill it once it has some.
      freeze(a);
      const lag = await waitUntil('uncommitted input on a\'s partitions', async () => {
        const l = await lagOf(transport, config, victims);
        return l > 0 ? l : undefined;
      }, 30_000, 2);
      const killedAtMs = Date.now();
      assert.ok(!input.finished(), 'input is still being produced at the kill');
      await kill9(a);
      const committedAtKill = await committedTotal(transport, config);
      console.log(`[kafka faults] kill -9 of a (partitions ${victims.join(',')}, ${lag} uncommitted input messages, ${committedAtKill} committed overall)`);

      // Fail-over: b restores each victim partition and commits its next batch there.
      const takeover = new Map<number, { assignedMs: number; restoredMs: number; committedMs: number }>();
      await waitUntil(
        'b committing every partition of a',
        async () => {
          const assigned = logsWith(b, 'partitions assigned', killedAtMs).find((l) => victims.every((p) => (l.entry['owned'] as number[]).includes(p)));
          if (assigned === undefined) return undefined;
          const now = await committedOffsets(transport, config);
          for (const p of victims) {
            if (takeover.has(p)) continue;
            const restored = logsWith(b, 'partition restored', killedAtMs).find((l) => l.entry['partition'] === p);
            if (restored === undefined) continue;
            const from = Number(restored.entry['committed'] ?? 0);
            if ((now.get(p) ?? 0) > from) takeover.set(p, { assignedMs: assigned.atMs, restoredMs: restored.atMs, committedMs: Date.now() });
          }
          return takeover.size === victims.length ? true : undefined;
        },
        90_000,
        25,
      );
      const t = [...takeover.values()];
      const ms = (f: (x: (typeof t)[number]) => number) => t.map((x) => f(x) - killedAtMs);
      console.log(
        `[kafka faults] fail-over (session timeout ${env['KAFKA_SESSION_TIMEOUT_MS']} ms): kill -9 -> b assigned ${Math.min(...ms((x) => x.assignedMs))} ms, ` +
          `-> restored ${Math.max(...ms((x) => x.restoredMs))} ms, -> next batch committed on a's partitions ` +
          `${Math.min(...ms((x) => x.committedMs))}..${Math.max(...ms((x) => x.committedMs))} ms ` +
          `(${[...takeover].map(([p, x]) => `p${p} ${x.committedMs - killedAtMs}`).join(', ')})`,
      );

      await input.stop();
      const sent = input.sent();
      await waitForCommitted(transport, config, 90_000, [dies(b)]);
      const report = await assertExactlyOnceEventually(transport, config, sent);
      console.log(
        `[kafka faults] audited ${report.eventBatches} event batches of ${report.markets} markets from ${report.goodMessages} command batches: exactly once`,
      );
      assert.ok(report.goodMessages > committedAtKill, 'input kept flowing after the kill');
      assert.deepEqual(await readDeadLetters(transport, config), [], 'no dead letters from good input');
      assert.ok(logsWith(b, 'partition restored', killedAtMs).length >= victims.length, "b restored a's partitions");
      assert.equal(await stopGracefully(b), 0);
    } finally {
      await input?.stop();
      await Promise.all(engines.map(kill9));
    }
  });

  it('restarting the only engine after a kill -9 mid-stream restores from its snapshots and continues the identical streams', { timeout: 180_000 }, async () => {
    const run = `engine-it-restart-${Date.now()}`;
    const env = engineEnv(run, { SNAPSHOT_EVERY_MESSAGES: '30', MAX_BATCH_MESSAGES: '7' });
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const pool = flow(config, 22, 2400);
    let input: ReturnType<typeof pacedProducer> | undefined;
    try {
      const first = await spawnEngine('first', env);
      engines.push(first);
      input = pacedProducer(transport, config, pool, 0, 10, 40);
      // Kill once every partition has committed past a snapshot (every 30 messages) but input keeps coming.
      await waitUntil(
        'every partition committed 60 messages',
        async () => {
          const c = await committedOffsets(transport, config);
          return [0, 1, 2, 3].every((p) => (c.get(p) ?? 0) >= 60) ? true : undefined;
        },
        60_000,
      );
      freeze(first);
      await waitUntil('uncommitted input', async () => ((await lagOf(transport, config, [0, 1, 2, 3])) > 0 ? true : undefined), 30_000, 2);
      assert.ok(!input.finished(), 'input is still being produced at the kill');
      await kill9(first);
      const committedAtKill = await committedTotal(transport, config);
      await input.stop();
      // The rest of the input arrives while no engine runs.
      await produce(transport, config, pool.slice(input.sent().length));
      const sent = pool;
      assert.ok(committedAtKill < input.sent().length, 'uncommitted input at the kill');

      const second = await spawnEngine('second', env);
      engines.push(second);
      const restartCommitMs = await waitUntil(
        'the restarted engine committing',
        async () => ((await committedTotal(transport, config)) > committedAtKill ? Date.now() : undefined),
        60_000,
        10,
      );
      await waitForCommitted(transport, config, 90_000, [dies(second)]);
      const restored = logsWith(second, 'partition restored');
      const restoreMs = Math.max(...restored.map((l) => Number(l.entry['seconds']) * 1000));
      console.log(
        `[kafka faults] restart after kill -9: spawn -> ready ${second.startedAtMs - second.spawnedAtMs} ms, -> first committed batch ` +
          `${restartCommitMs - second.spawnedAtMs} ms (slowest partition restore ${restoreMs.toFixed(0)} ms, ` +
          `${restored.reduce((n, l) => n + Number(l.entry['replayed']), 0)} messages replayed)`,
      );
      const report = await assertExactlyOnceEventually(transport, config, sent);
      assert.equal(report.goodMessages, pool.length);
      assert.equal(restored.length, 4);
      for (const r of restored) {
        assert.ok(Number(r.entry['snapshots']) > 0, `partition ${String(r.entry['partition'])} restored from snapshots`);
        assert.ok(Number(r.entry['replayFrom']) > 0, 'replay starts at the snapshot, not at the beginning');
      }
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      assert.match(metrics, /parallax_engine_commands_total\{/);
      assert.equal(await stopGracefully(second), 0);
    } finally {
      await input?.stop();
      await Promise.all(engines.map(kill9));
    }
  });
});

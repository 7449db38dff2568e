// The broker start script compose and k8s run (k8s/base/kafka/start.sh), started for real from the Apache Kafka
// jars scripts/kafka.sh fetched (the apache/kafka image's bin/ scripts are two lines of java; shims stand in for
// them): it formats with the SCRAM users, enforces the ACL policy kafka-setup applies, and keeps its topics
// and data across a restart on the same data directory (the volume). On it, the risk shards and the chain
// watcher start as compose and k8s start them (their own principals, no topic creation, the deploy step's
// files) and become ready: the ACL policy and the topics kafka-setup creates are all they need.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startAnvil } from '@parallax/chain';
import { deployDevChain } from '@parallax/settlement';
import { createKafkaTransport, type KafkaSecurity } from '@parallax/transport';
import { root } from './tools.js';

const LIBS = join(root, '.cache/kafka', process.env.KAFKA_VERSION ?? '3.9.2', 'libs');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

const passwords = { admin: 'admin-pw-1', engine: 'engine-pw-2', ingest: 'ingest-pw-3', settlement: 'settlement-pw-4', risk: 'risk-pw-5', chainWatcher: 'chain-watcher-pw-6', projector: 'projector-pw-7' };
const scram = (username: string, password: string): KafkaSecurity => ({ sasl: { mechanism: 'scram-sha-512', username, password } });

describe('k8s/base/kafka/start.sh (the compose and k8s broker)', () => {
  const work = mkdtempSync(join(tmpdir(), 'parallax-kafka-start-'));
  let broker: ChildProcess | undefined;
  let port = 0;
  let controller = 0;

  after(async () => {
    await stopBroker();
    rmSync(work, { recursive: true, force: true });
  });

  async function stopBroker(): Promise<void> {
    const b = broker;
    broker = undefined;
    if (!b || b.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => b.once('exit', () => {
      resolve();
    }));
    b.kill('SIGTERM');
    const timer = setTimeout(() => b.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  function startBroker(port: number, controller: number): ChildProcess {
    const home = join(work, 'kafka-home');
    mkdirSync(join(home, 'bin'), { recursive: true });
    const java = `exec java -Xmx512m -Dlog4j.configuration=file:${join(root, 'scripts/kafka/log4j.properties')} -Dkafka.logs.dir=${join(work, 'logs')} -cp '${LIBS}/*'`;
    writeFileSync(join(home, 'bin/kafka-storage.sh'), `#!/bin/sh\n${java} kafka.tools.StorageTool "$@"\n`);
    writeFileSync(join(home, 'bin/kafka-server-start.sh'), `#!/bin/sh\n${java} kafka.Kafka "$@"\n`);
    for (const f of readdirSync(join(home, 'bin'))) chmodSync(join(home, 'bin', f), 0o755);
    return spawn('sh', [join(root, 'k8s/base/kafka/start.sh')], {
      env: {
        PATH: process.env.PATH ?? '',
        TMPDIR: work,
        KAFKA_HOME: home,
        KAFKA_LISTEN_PORT: String(port),
        KAFKA_CONTROLLER_LISTEN_PORT: String(controller),
        KAFKA_ADVERTISED: `127.0.0.1:${port}`,
        KAFKA_CLUSTER_ID: 'q1Sh-9_ISia_zwGINzRvyQ',
        KAFKA_DATA_DIR: join(work, 'volume'),
        KAFKA_ADMIN_PASSWORD: passwords.admin,
        KAFKA_ENGINE_PASSWORD: passwords.engine,
        KAFKA_INGEST_PASSWORD: passwords.ingest,
        KAFKA_SETTLEMENT_PASSWORD: passwords.settlement,
        KAFKA_RISK_PASSWORD: passwords.risk,
        KAFKA_CHAIN_WATCHER_PASSWORD: passwords.chainWatcher,
        KAFKA_PROJECTOR_PASSWORD: passwords.projector,
      },
      stdio: 'ignore',
    });
  }

  async function untilReady(brokers: string[]): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      assert.ok(broker && broker.exitCode === null, 'the broker exited during start-up');
      const t = createKafkaTransport({ brokers, clientId: 'start-sh-probe', security: scram('admin', passwords.admin), connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 });
      try {
        await t.endOffsets('__missing_is_fine__').catch((error: unknown) => {
          if (!(error instanceof Error) || !/UNKNOWN_TOPIC|does not exist/.test(error.message)) throw error;
        });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      } finally {
        await t.close().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('starts with SCRAM users and ACLs, enforces the policy, and keeps its topics on the volume across a restart', async () => {
    assert.ok(existsSync(LIBS), `no Kafka jars in ${LIBS}: run bash scripts/kafka.sh fetch (npm test does)`);
    [port, controller] = [await freePort(), await freePort()];
    const brokers = [`127.0.0.1:${port}`];
    broker = startBroker(port, controller);
    await untilReady(brokers);

    // kafka-setup: the ACL policy and the topics, as the super user.
    const setup = spawnSync(process.execPath, ['scripts/kafka/acls.mjs', '--brokers', brokers[0] ?? '', '--create-topics'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', PARTITIONS: '2', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'admin', KAFKA_SASL_PASSWORD: passwords.admin },
    });
    assert.equal(setup.status, 0, setup.stderr + setup.stdout);

    const engine = createKafkaTransport({ brokers, clientId: 'parallax-matching-engine', security: scram('parallax-engine', passwords.engine) });
    const ingest = createKafkaTransport({ brokers, clientId: 'parallax-ingest', security: scram('parallax-ingest', passwords.ingest) });
    try {
      const tx = await engine.producer({ transactionalId: 'parallax-matching-engine.parallax.orders.v1.0' });
      await tx.transaction((t) => {
        t.send('parallax.market-events.v1', [{ key: 'm', value: new TextEncoder().encode('event'), partition: 0 }]);
      });
      const p = await ingest.producer();
      await assert.rejects(p.send('parallax.market-events.v1', [{ key: 'm', value: new Uint8Array([1]), partition: 0 }]), /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
      // Nor orders: an order reaches a book only through its account's risk shard. Requests are its own topic.
      await assert.rejects(p.send('parallax.orders.v1', [{ key: 'm', value: new Uint8Array([1]), partition: 0 }]), /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
      await p.send('parallax.requests.v1', [{ key: 'a', value: new Uint8Array([1]), partition: 0 }]);
    } finally {
      await engine.close();
      await ingest.close();
    }

    // Restart on the same volume: formatting is skipped, the users, ACLs, topics and records are still there.
    await stopBroker();
    broker = startBroker(port, controller);
    await untilReady(brokers);
    const reader = createKafkaTransport({ brokers, clientId: 'start-sh-reader', security: scram('admin', passwords.admin) });
    const ingestAgain = createKafkaTransport({ brokers, clientId: 'parallax-ingest', security: scram('parallax-ingest', passwords.ingest) });
    try {
      assert.equal(await reader.partitionCount('parallax.market-events.v1'), 2);
      assert.ok(((await reader.endOffsets('parallax.requests.v1')).get(0) ?? 0) >= 1, 'the request written before the restart is gone');
      const p = await ingestAgain.producer();
      await assert.rejects(p.send('parallax.market-events.v1', [{ key: 'm', value: new Uint8Array([1]), partition: 0 }]), /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
    } finally {
      await reader.close();
      await ingestAgain.close();
    }
  });

  it('the risk shards and the chain watcher start under their own principals, as compose runs them, and become ready', { timeout: 240_000 }, async () => {
    // kafka-setup ran in the test above (PARTITIONS 2, ACCOUNT_SHARDS by default) on this broker.
    assert.ok(broker && broker.exitCode === null, 'the broker of the test above is not running');
    const brokers = `127.0.0.1:${port}`;
    const anvil = await startAnvil();
    const deployDir = join(work, 'deploy');
    const children: ChildProcess[] = [];
    try {
      await deployDevChain(anvil.rpcUrl, deployDir);
      const handoff = Object.fromEntries(
        readFileSync(join(deployDir, 'settlement.env'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('=') && !l.startsWith('OPERATOR_PRIVATE_KEY='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      ) as Record<string, string>;
      const kafka = (user: string, password: string): Record<string, string> => ({
        KAFKA_BROKERS: brokers,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: user,
        KAFKA_SASL_PASSWORD: password,
        ENSURE_TOPICS: 'false',
        PARTITIONS: '2',
      });
      const [riskPort, watcherPort] = [await freePort(), await freePort()];
      const start = (main: string, env: Record<string, string>): ChildProcess => {
        const child = spawn(process.execPath, [main], { cwd: root, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        return child;
      };
      const risk = start('apps/risk/dist/main.js', { ...kafka('parallax-risk', passwords.risk), RISK_MARKETS_FILE: join(deployDir, 'risk-markets.json'), RISK_INSTANCE_ID: 'risk-0', RISK_HTTP_PORT: String(riskPort) });
      const watcher = start('apps/chain-watcher/dist/main.js', { ...kafka('parallax-chain-watcher', passwords.chainWatcher), ...handoff, RPC_URL: anvil.rpcUrl, CHAIN_CONFIRMATIONS: '1', CHAIN_WATCHER_HTTP_PORT: String(watcherPort) });
      const ready = async (name: string, child: ChildProcess, url: string): Promise<Record<string, unknown>> => {
        const errors: string[] = [];
        for (const out of [child.stdout, child.stderr]) out?.on('data', (c: Buffer) => errors.push(c.toString()));
        const deadline = Date.now() + 180_000;
        for (;;) {
          assert.equal(child.exitCode, null, `${name} exited: ${errors.join('').slice(-2000)}`);
          const res = await fetch(url).catch(() => undefined);
          if (res?.status === 200) return (await res.json()) as Record<string, unknown>;
          if (Date.now() > deadline) assert.fail(`${name} never ready: ${res === undefined ? 'no answer' : await res.text()} ${errors.join('').slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      };
      const riskReady = await ready('risk', risk, `http://127.0.0.1:${riskPort}/ready`);
      assert.deepEqual(obj(obj(riskReady.details).shards).owned, [0, 1, 2, 3], 'the one instance owns and restored every shard');
      const watcherReady = await ready('chain-watcher', watcher, `http://127.0.0.1:${watcherPort}/ready`);
      assert.equal(obj(watcherReady.details).watcher !== undefined, true);
    } finally {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) {
                resolve();
                return;
              }
              c.once('exit', () => {
                resolve();
              });
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
            }),
        ),
      );
      await anvil.close();
    }
  });
});

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

// The broker start script compose and k8s run (k8s/base/kafka/start.sh), started for real from the Apache Kafka
// jars scripts/kafka.sh fetched (the apache/kafka image's bin/ scripts are two lines of java; shims stand in for
// them): it formats with the SCRAM users, enforces the ACL policy kafka-setup applies, and keeps its topics
// and data across a restart on the same data directory (the volume).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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

const passwords = { admin: 'admin-pw-1', engine: 'engine-pw-2', ingest: 'ingest-pw-3', settlement: 'settlement-pw-4', risk: 'risk-pw-5', chainWatcher: 'chain-watcher-pw-6' };
const scram = (username: string, password: string): KafkaSecurity => ({ sasl: { mechanism: 'scram-sha-512', username, password } });

describe('k8s/base/kafka/start.sh (the compose and k8s broker)', () => {
  const work = mkdtempSync(join(tmpdir(), 'parallax-kafka-start-'));
  let broker: ChildProcess | undefined;

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
    const [port, controller] = [await freePort(), await freePort()];
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
      await p.send('parallax.orders.v1', [{ key: 'm', value: new Uint8Array([1]), partition: 0 }]);
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
      assert.ok(((await reader.endOffsets('parallax.orders.v1')).get(0) ?? 0) >= 1, 'the order written before the restart is gone');
      const p = await ingestAgain.producer();
      await assert.rejects(p.send('parallax.market-events.v1', [{ key: 'm', value: new Uint8Array([1]), partition: 0 }]), /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
    } finally {
      await reader.close();
      await ingestAgain.close();
    }
  });
});

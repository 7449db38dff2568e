// Fault test: the settlement service (a child process, dist/main.js) and the EVM node are killed with SIGKILL
// in the middle of batches, on a real Kafka broker, PostgreSQL and anvil:
//   1. while a batch is in flight, the node dies (kill -9: anvil mines a block a second and dumps its state
//      every second, so it comes back from an OLDER state: the last blocks, with settled batches, are gone —
//      a reorg deeper than the confirmation depth) and the service, retrying against a dead endpoint, dies too;
//   2. the node restarts on the same port from its state file, the service restarts;
//   3. later the service is killed again while a batch is submitted but not mined, and restarted.
// Afterwards the shared settlement contract test (testing/verify-settlement.ts) must hold: every trade settled
// exactly once (on-chain batch ids 1..N, each once, by the transaction the database recorded) or reported as
// failed with the contract's reason, and every balance equal to deposits plus the model's net fills to the unit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { settlementAbi, startAnvil, type Anvil } from '@parallax/chain';
import { loadMatchingEngineConfig, startMatchingEngine, type EngineProcess, type MatchingEngineHandle } from '@parallax/matching-engine';
import { spawnServiceProcess } from '@parallax/microservice';
import { createPrismaClient, createTestDatabase, SettlementRepository, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { formatSettlementMarkets, type SettlementConfig } from './config/settlement.config.js';
import {
  engineEnvFor,
  localOperatorKey,
  localSettlementConfig,
  runTopics,
  settlementTopicsOf,
  startLocalSettlementChain,
  type LocalSettlementChain,
} from './local/local-settlement.js';
import { produceSignedFlow, signedOrderFlow, type SignedFlow } from './testing/signed-flow.js';
import { verifySettlement, waitFor } from './testing/verify-settlement.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const PARTITIONS = 2;
const main = fileURLToPath(new URL('./main.js', import.meta.url));

function freePort(): Promise<number> {
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

/** SIGKILL to the whole process group of a detached child (anvil is spawned in its own group). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('settlement fault test: kill -9 of the service and of the node mid-batch', { timeout: 300_000 }, () => {
  const run = `settle-fault-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const topics = runTopics(run);

  const dir = mkdtempSync(join(tmpdir(), 'parallax-settle-fault-'));
  const statePath = join(dir, 'state.json');
  const goodStatePath = join(dir, 'state.good.json');
  const anvilArgs = ['--state', statePath, '--state-interval', '1', '--block-time', '1'];
  // anvil rewrites its state file in place: a kill -9 in the middle of a dump leaves it truncated. Like an
  // operator restoring the node's last good snapshot, the test keeps the last copy that parses.
  const keepGoodState = (): void => {
    try {
      const text = readFileSync(statePath, 'utf8');
      JSON.parse(text);
      copyFileSync(statePath, goodStatePath);
    } catch {
      // mid-write or not written yet: keep the previous good copy
    }
  };
  const restoreGoodState = (): boolean => {
    try {
      JSON.parse(readFileSync(statePath, 'utf8'));
      return false;
    } catch {
      copyFileSync(goodStatePath, statePath);
      return true;
    }
  };
  let transport: Transport;
  let local: LocalSettlementChain;
  let restartedNode: Anvil | undefined;
  let db: TestDatabase;
  let prisma: PrismaClient;
  let repo: SettlementRepository;
  let engine: MatchingEngineHandle;
  let config: SettlementConfig;
  let flow: SignedFlow;
  let env: Record<string, string>;
  const children: EngineProcess[] = [];
  const unfunded = 1;

  before(async () => {
    transport = createKafkaTransport({ brokers: brokers.split(','), clientId: run });
    const port = await freePort();
    local = await startLocalSettlementChain({ anvil: { port, args: anvilArgs } });
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
    repo = new SettlementRepository(prisma);
    engine = await startMatchingEngine(
      loadMatchingEngineConfig(engineEnvFor(run, brokers, PARTITIONS, 2)),
      transport,
    );
    flow = await signedOrderFlow({
      seed: 23,
      domain: local.chain.domain,
      markets: local.markets,
      traders: 8,
      traderSeed: run,
      orders: 700,
      commandsPerMessage: 5,
      centerTicks: 180_000,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400),
      maxFeeRate: 2_000,
    });
    for (const [accountId, account] of flow.traders) {
      await local.fundTraders([account.address], accountId === unfunded ? { BASE: 0n, ALT: 0n, QUOTE: 0n } : {});
    }
    // The deposits must be in the node's state file before the node is killed.
    await sleep(2_500);
    config = localSettlementConfig(
      local,
      settlementTopicsOf(topics),
      { kafkaBrokers: brokers.split(','), partitions: PARTITIONS, groupId: `${run}.settlement` },
    );
    env = {
      KAFKA_BROKERS: brokers,
      SETTLEMENT_GROUP_ID: config.groupId,
      TOPIC_MARKET_EVENTS: topics.marketEvents,
      TOPIC_DEAD_LETTERS: topics.deadLetters,
      TOPIC_SIGNED_ORDERS: topics.signedOrders,
      TOPIC_SETTLEMENT_STATUS: topics.settlementStatus,
      PARTITIONS: String(PARTITIONS),
      DATABASE_URL: db.url,
      RPC_URL: local.chain.anvil.rpcUrl,
      CHAIN_ID: String(local.chain.anvil.chainId),
      SETTLEMENT_ADDRESS: local.chain.settlement,
      SETTLEMENT_DEPLOY_BLOCK: String(config.settler.logsFromBlock),
      OPERATOR_PRIVATE_KEY: localOperatorKey(),
      SETTLEMENT_MARKETS: formatSettlementMarkets(config.markets.values()),
      MAKER_FEE_RATE: String(config.fees.makerFeeRate),
      TAKER_FEE_RATE: String(config.fees.takerFeeRate),
      BATCH_MAX_FILLS: '20',
      BATCH_MAX_AGE_MS: '200',
      CONFIRMATIONS: '2',
      REPLACE_AFTER_MS: '4000',
      POLL_INTERVAL_MS: '50',
      SETTLEMENT_HTTP_PORT: '0',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      LOG_LEVEL: 'info',
    };
  });

  after(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await (engine as MatchingEngineHandle | undefined)?.close();
    await (transport as Transport | undefined)?.close();
    await (prisma as PrismaClient | undefined)?.$disconnect();
    await (db as TestDatabase | undefined)?.drop();
    await restartedNode?.close();
    await (local as LocalSettlementChain | undefined)?.chain.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const spawnService = async (name: string): Promise<EngineProcess> => {
    const p = await spawnServiceProcess({ main, name, readyMessage: 'settlement started', env });
    children.push(p);
    return p;
  };
  const kill9 = async (p: EngineProcess): Promise<void> => {
    p.child.kill('SIGKILL');
    await p.exited;
  };
  const confirmedCount = async (): Promise<number> => (await repo.allBatches()).filter((b) => b.status === 'CONFIRMED').length;
  const inFlight = async (): Promise<bigint | undefined> => (await repo.openBatches()).find((b) => b.status === 'SUBMITTED')?.id;
  const onChainLast = (): Promise<bigint> =>
    local.chain.publicClient.readContract({ address: local.chain.settlement, abi: settlementAbi, functionName: 'lastBatchId' });

  it('settles every fill exactly once and reconciles every balance', async () => {
    let service = await spawnService('settlement-1');
    const producer = await transport.producer();
    await produceSignedFlow(producer, { orders: topics.orders, signedOrders: topics.signedOrders }, PARTITIONS, flow.messages);
    await producer.close();

    // 1. Node and service die while a batch is in flight.
    await waitFor('two confirmed batches', async () => ((await confirmedCount()) >= 2 ? true : undefined), 90_000);
    keepGoodState();
    const snapshots = setInterval(keepGoodState, 200);
    const victim = await waitFor('a submitted batch', inFlight, 60_000, 20);
    const beforeKill = await confirmedCount();
    clearInterval(snapshots);
    keepGoodState();
    killGroup(local.chain.anvil.pid);
    await sleep(1_500); // the service now retries against a dead endpoint
    await kill9(service);
    console.log(`killed the node and the service while batch ${victim} was submitted (${beforeKill} batches confirmed)`);

    // 2. The node comes back from its last state dump; the service restarts.
    const storedMax = await repo.maxBatchId();
    if (restoreGoodState()) console.log('the node was killed while writing its state file: restarted from the last good copy');
    restartedNode = await startAnvil({ port: local.chain.anvil.port, chainId: local.chain.anvil.chainId, args: anvilArgs });
    const rewound = await onChainLast();
    console.log(`node restarted: the chain has batches up to ${rewound}, the database up to ${storedMax}`);
    const restartAt = Date.now();
    service = await spawnService('settlement-2');
    console.log(`service restarted in ${service.startedAtMs - restartAt} ms`);
    await waitFor('the chain to pass the batches it lost', async () => ((await onChainLast()) > storedMax ? true : undefined), 90_000);

    // 3. The service dies again with a batch submitted and not mined, and restarts.
    const second = await waitFor('another submitted batch', inFlight, 60_000, 10);
    await kill9(service);
    console.log(`killed the service while batch ${second} was submitted`);
    service = await spawnService('settlement-3');

    const report = await verifySettlement({
      transport,
      config,
      repo,
      local,
      flow,
      unfunded: new Set([unfunded]),
      timeoutMs: 150_000,
      engine: { groupId: `${run}.engine`, ordersTopic: topics.orders },
    });
    console.log(`fault: ${JSON.stringify(report)}; batches lost by the node and re-sent: ${storedMax - rewound}`);
    assert.ok(report.batches > 5, 'several batches');
    service.child.kill('SIGTERM');
    assert.equal(await service.exited, 0, 'the last service instance stops cleanly');
  });
});

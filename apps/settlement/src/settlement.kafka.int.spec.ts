// Trades from the real pipeline end up settled on anvil: signed orders and commands go to a real Kafka broker,
// a real matching engine matches them, the settlement service stores, batches and submits the fills to the
// settlement contract on anvil, with PostgreSQL (a throw-away database) as its store. Checked against the
// test's own model (testing/reconcile.ts): every account's on-chain balance equals its deposits plus the net
// of its settled fills minus fees, to the base unit; every trade is settled exactly once or reported failed
// with the contract's reason; the status topic tells the same story.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadMatchingEngineConfig, startMatchingEngine, type MatchingEngineHandle } from '@parallax/matching-engine';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { startSettlement, type SettlementHandle } from './app/bootstrap.js';
import type { SettlementConfig } from './config/settlement.config.js';
import { engineEnvFor, localSettlementConfig, runTopics, settlementTopicsOf, startLocalSettlementChain, type LocalSettlementChain } from './local/local-settlement.js';
import { produceSignedFlow, signedOrderFlow, type SignedFlow } from './testing/signed-flow.js';
import { verifySettlement } from './testing/verify-settlement.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const PARTITIONS = 2;

describe('settlement on Kafka + PostgreSQL + anvil', { timeout: 240_000 }, () => {
  const run = `settle-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const topics = runTopics(run);

  let transport: Transport;
  let local: LocalSettlementChain;
  let db: TestDatabase;
  let prisma: PrismaClient;
  let engine: MatchingEngineHandle;
  let settlement: SettlementHandle | undefined;
  let config: SettlementConfig;
  let flow: SignedFlow;
  const unfunded = 1; // account 1 deposits nothing: every fill it is in is underfunded (it can never acquire funds)

  before(async () => {
    transport = createKafkaTransport({ brokers: brokers.split(','), clientId: run });
    local = await startLocalSettlementChain();
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url);
    const engineConfig = loadMatchingEngineConfig(engineEnvFor(run, brokers, PARTITIONS, 2));
    engine = await startMatchingEngine(engineConfig, transport);
    flow = await signedOrderFlow({
      seed: 7,
      domain: local.chain.domain,
      markets: local.markets,
      traders: 8,
      traderSeed: run,
      orders: 500,
      commandsPerMessage: 5,
      centerTicks: 200_000,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400),
      maxFeeRate: 2_000,
    });
    for (const [accountId, account] of flow.traders) {
      await local.fundTraders([account.address], accountId === unfunded ? { BASE: 0n, ALT: 0n, QUOTE: 0n } : {});
    }
    config = localSettlementConfig(
      local,
      settlementTopicsOf(topics),
      // databaseUrl: the writer lease is taken on the same PostgreSQL database.
      { kafkaBrokers: brokers.split(','), partitions: PARTITIONS, groupId: `${run}.settlement`, databaseUrl: db.url },
    );
    settlement = await startSettlement(config, transport, { prisma });
  });

  after(async () => {
    // Each may be missing if before() failed part-way.
    await settlement?.close();
    await (engine as MatchingEngineHandle | undefined)?.close();
    await (transport as Transport | undefined)?.close();
    await (prisma as PrismaClient | undefined)?.$disconnect();
    await (db as TestDatabase | undefined)?.drop();
    await (local as LocalSettlementChain | undefined)?.chain.close();
  });

  it('settles every trade of the pipeline once, reports the underfunded ones, and balances reconcile to the base unit', async () => {
    const producer = await transport.producer();
    await produceSignedFlow(producer, { orders: topics.orders, signedOrders: topics.signedOrders }, PARTITIONS, flow.messages);
    await producer.close();
    const report = await verifySettlement({ transport, config, repo: settlement!.repo, local, flow, unfunded: new Set([unfunded]), timeoutMs: 150_000, engine: { groupId: `${run}.engine`, ordersTopic: topics.orders } });
    console.log(`kafka: ${JSON.stringify(report)}`);

    const metrics = await (await fetch(`${settlement!.url}/metrics`)).text();
    const m = /parallax_settlement_fills_settled_total\{[^}]*\} (\d+)/.exec(metrics);
    assert.equal(Number(m?.[1]), report.settled);
  });
});

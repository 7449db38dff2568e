// Part 2: the whole settlement service (startSettlement: ingest consumer, batcher, BatchSettler, confirmations,
// status events) on the embedded transport, fed a pre-signed flow's signed orders, then (clock starts) every
// trade of an in-process match of that flow as the engines' market-events messages. Measured until the last
// fill is SETTLED (confirmed) in the service's database; checked with verifySettlement.
import { DEFAULT_TOPICS, encodeCommandBatch, encodeSignedOrderBatch, marketKey, partitionForMarket, topicSpecs } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@parallax/persistence';
import { createEmbeddedTransport, type OutgoingMessage, type Transport } from '@parallax/transport';
import { startSettlement, type SettlementHandle } from '../app/bootstrap.js';
import { DEFAULT_DEPOSITS, localSettlementConfig, runTopics, settlementTopicsOf, type LocalSettlementChain } from '../local/local-settlement.js';
import { signedOrderFlow } from '../testing/signed-flow.js';
import { verifySettlement, waitFor } from '../testing/verify-settlement.js';
import type { Address } from 'viem';
import { CENTER_TICKS, FEES, fundMany, MAX_FEE_RATE_SIGNED } from './fixtures.js';
import { matchBatches } from './match.js';
import { RpcTimer, type RpcBreakdown } from './rpc-timer.js';

export interface ThroughputOptions {
  readonly orders: number;
  readonly traders: number;
  readonly maxFills: number;
  readonly seed: number;
  readonly database: 'postgres' | 'pglite' | 'auto';
  readonly log: (line: string) => void;
}

export interface ThroughputResult {
  readonly database: string;
  readonly orders: number;
  readonly commands: number;
  readonly trades: number;
  readonly settled: number;
  readonly failed: number;
  readonly batches: number;
  readonly fillsPerBatch: number[];
  readonly gasPerFill: number;
  readonly signMs: number;
  readonly elapsedMs: number;
  readonly fillsPerSec: number;
  /** Time from the first trade written until the first batch was created (ingest + first selection). */
  readonly firstBatchMs: number;
  readonly rpc: Omit<RpcBreakdown, 'byMethod'> & { readonly byMethod: Record<string, { count: number; ms: number }> };
  readonly config: { readonly maxFills: number; readonly maxGas: number; readonly maxAgeMs: number; readonly pollIntervalMs: number; readonly confirmations: number };
  readonly verified: boolean;
  readonly problems: string[];
}

const PARTITIONS = 2;

async function openDatabase(choice: ThroughputOptions['database'], log: (l: string) => void): Promise<{ prisma?: PrismaClient; db?: TestDatabase; name: string }> {
  if (choice === 'pglite') return { name: 'embedded PGlite (in memory)' };
  try {
    const db = await createTestDatabase();
    return { db, prisma: createPrismaClient(db.url), name: 'PostgreSQL (throw-away database on the local server)' };
  } catch (err) {
    if (choice === 'postgres') throw err;
    log(`  PostgreSQL not reachable (${err instanceof Error ? err.message : String(err)}): using embedded PGlite`);
    return { name: 'embedded PGlite (in memory; PostgreSQL not reachable)' };
  }
}

export async function runThroughput(local: LocalSettlementChain, o: ThroughputOptions): Promise<ThroughputResult> {
  const problems: string[] = [];
  const run = `settle-bench-${o.seed}`;
  const topics = runTopics(run);
  const engineGroup = `${run}.engine`;

  // Signing is not settlement's cost: the flow is signed and matched before the clock starts.
  const s0 = performance.now();
  const flow = await signedOrderFlow({
    seed: o.seed,
    domain: local.chain.domain,
    markets: local.markets,
    traders: o.traders,
    traderSeed: `${run}-traders`,
    orders: o.orders,
    commandsPerMessage: 5,
    centerTicks: CENTER_TICKS,
    expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400),
    maxFeeRate: MAX_FEE_RATE_SIGNED,
  });
  const signMs = performance.now() - s0;
  const matched = matchBatches(
    flow.messages.map((m) => m.commands),
    local.markets.length,
    PARTITIONS,
  );
  o.log(`  flow: ${flow.orders.size} signed orders in ${(signMs / 1000).toFixed(1)} s, ${matched.commands} commands -> ${matched.trades.length} trades`);
  const t = local.chain.tokens as Record<keyof typeof DEFAULT_DEPOSITS, Address>;
  await fundMany(
    local,
    [...flow.traders.values()].flatMap((a) => (['BASE', 'ALT', 'QUOTE'] as const).map((sym) => ({ trader: a.address, token: t[sym], amount: DEFAULT_DEPOSITS[sym] }))),
  );

  const rpc = new RpcTimer(local.chain.anvil.rpcUrl);
  await rpc.start();
  const transport: Transport = createEmbeddedTransport();
  const database = await openDatabase(o.database, o.log);
  let settlement: SettlementHandle | undefined;
  try {
    await transport.ensureTopics(topicSpecs({ ...DEFAULT_TOPICS, orders: topics.orders, marketEvents: topics.marketEvents, snapshots: topics.snapshots, deadLetters: topics.deadLetters }, PARTITIONS));
    const config = localSettlementConfig(
      local,
      settlementTopicsOf(topics),
      {
        partitions: PARTITIONS,
        groupId: `${run}.settlement`,
        rpcUrl: rpc.url,
        fees: FEES,
        // PostgreSQL: the writer lease on the same database; otherwise the benchmark runs on embedded PGlite.
        ...(database.db === undefined ? { allowEphemeralDb: true } : { databaseUrl: database.db.url }),
      },
    );
    const tuned = { ...config, batch: { ...config.batch, maxFills: o.maxFills } };
    settlement = await startSettlement(tuned, transport, {
      logger: createLogger('settlement-bench', 'warn'),
      ...(database.prisma === undefined ? {} : { prisma: database.prisma }),
    });
    const producer = await transport.producer({ transactionalId: `${run}.writer` });

    // 1. Signed orders (what the gateway writes first), stored before the clock starts.
    const signed: OutgoingMessage[] = flow.messages
      .filter((m) => m.signed.length > 0)
      .map((m) => ({ key: marketKey(m.marketId), partition: partitionForMarket(m.marketId, PARTITIONS), value: encodeSignedOrderBatch({ marketId: m.marketId, orders: m.signed }) }));
    await producer.send(topics.signedOrders, signed);
    await caughtUp(transport, `${run}.settlement`, topics.signedOrders);
    // The commands, marked consumed by an "engine" group: this run's trades come from the in-process match,
    // and verifySettlement waits for the engines to have committed their input.
    const commands = flow.messages.map((m) => ({ key: marketKey(m.marketId), partition: partitionForMarket(m.marketId, PARTITIONS), value: encodeCommandBatch(m.commands) }));
    await producer.send(topics.orders, commands);
    const ends = await transport.endOffsets(topics.orders);
    await producer.transaction((tx) => {
      tx.commitOffsets(
        engineGroup,
        [...ends].map(([partition, offset]) => ({ topic: topics.orders, partition, offset })),
      );
    });

    // 2. Clock starts: every trade, as the engines' market-events messages.
    const t0 = performance.now();
    await producer.send(topics.marketEvents, matched.eventMessages);
    let firstBatchMs = 0;
    const done = await waitFor(
      'every fill settled or failed',
      async () => {
        const c = await settlement!.repo.fillCounts();
        if (firstBatchMs === 0 && (await settlement!.repo.maxBatchId()) > 0n) firstBatchMs = performance.now() - t0;
        return c.SETTLED + c.FAILED >= matched.trades.length ? c : undefined;
      },
      180_000,
      20,
    );
    const t1 = performance.now();
    await producer.close();
    const elapsedMs = t1 - t0;
    const breakdown = rpc.breakdown(t0, t1);

    const report = await verifySettlement({
      transport,
      config: tuned,
      repo: settlement.repo,
      local,
      flow,
      unfunded: new Set(),
      timeoutMs: 60_000,
      engine: { groupId: engineGroup, ordersTopic: topics.orders },
    }).catch((err: unknown) => {
      problems.push(`verifySettlement: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (report !== undefined && report.trades !== matched.trades.length) problems.push(`the topic holds ${report.trades} trades, the match made ${matched.trades.length}`);
    if (done.FAILED > 0) problems.push(`${done.FAILED} fills failed`);
    const batches = await settlement.repo.allBatches();
    const gas = batches.reduce((s, b) => s + Number(b.gasUsed ?? 0n), 0);
    const fills = batches.reduce((s, b) => s + b.fillCount, 0);
    return {
      database: database.name,
      orders: flow.orders.size,
      commands: matched.commands,
      trades: matched.trades.length,
      settled: done.SETTLED,
      failed: done.FAILED,
      batches: batches.length,
      fillsPerBatch: batches.map((b) => b.fillCount),
      gasPerFill: fills === 0 ? 0 : gas / fills,
      signMs,
      elapsedMs,
      fillsPerSec: (done.SETTLED * 1000) / elapsedMs,
      firstBatchMs,
      rpc: { ...breakdown, byMethod: Object.fromEntries(breakdown.byMethod) },
      config: {
        maxFills: tuned.batch.maxFills,
        maxGas: tuned.batch.maxGas,
        maxAgeMs: tuned.batch.maxAgeMs,
        pollIntervalMs: tuned.settler.pollIntervalMs,
        confirmations: tuned.settler.confirmations,
      },
      verified: report !== undefined && problems.length === 0,
      problems,
    };
  } finally {
    await settlement?.close();
    await transport.close();
    await database.prisma?.$disconnect();
    await database.db?.drop();
    await rpc.close();
  }
}

async function caughtUp(transport: Transport, groupId: string, topic: string): Promise<void> {
  await waitFor(
    `${groupId} to consume ${topic}`,
    async () => {
      const committed = await transport.committedOffsets(groupId, topic);
      for (const [p, end] of await transport.endOffsets(topic)) if ((committed.get(p) ?? 0) < end) return undefined;
      return true;
    },
    60_000,
    20,
  );
}

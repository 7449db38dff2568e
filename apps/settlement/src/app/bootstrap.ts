import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BatchSettler, settlementDomain } from '@parallax/chain';
import { settlementTopicSpecs, topicSpecs, DEFAULT_TOPICS } from '@parallax/contracts';
import { BatchConsumerServer } from '@parallax/microservice';
import { createLogger, NestPinoLogger, type Logger } from '@parallax/observability';
import { brokerIndicator, chainIndicator, ConfigError, databaseIndicator, stateIndicator, type ServiceHealthIndicator } from '@parallax/observability';
import {
  acquireWriterLease,
  createEmbeddedPrismaClient,
  createPrismaClient,
  embeddedWriterLease,
  settlementLockKey,
  SettlementRepository,
  type PrismaClient,
  type WriterLease,
} from '@parallax/persistence';
import type { Transport } from '@parallax/transport';
import { createPublicClient, createWalletClient, defineChain, http, type Chain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { SettlementConfig } from '../config/settlement.config.js';
import { IngestService } from '../ingest/ingest.service.js';
import { SettlementLoop } from '../settle/settlement.loop.js';
import { checkChainAtBoot } from './boot-checks.js';
import { SettlementMetrics } from '../settle/settlement.metrics.js';
import { statusPublisher } from '../settle/status.publisher.js';
import { AppModule, SERVICE } from './app.module.js';

export interface SettlementHandle {
  readonly app: INestApplication;
  /** Base URL of the HTTP side (/metrics, /health, /ready). */
  readonly url: string;
  readonly config: SettlementConfig;
  readonly repo: SettlementRepository;
  readonly loop: SettlementLoop;
  /** Rejects if consumption failed (the process should exit and restart); resolves on close(). */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /**
   * A database client to use instead of opening DATABASE_URL / embedded PGlite (left open on close). The
   * writer lease is still taken on config.databaseUrl when set; without it config.allowEphemeralDb must be
   * set (an embedded database: single process by construction).
   */
  readonly prisma?: PrismaClient;
}

/** Where the database is, without credentials (logged at start). */
export function describeDatabase(config: Pick<SettlementConfig, 'databaseUrl' | 'dataDir'>): string {
  if (config.databaseUrl === undefined) return config.dataDir === undefined ? 'embedded PGlite in memory (ephemeral)' : `embedded PGlite in ${config.dataDir}`;
  try {
    const u = new URL(config.databaseUrl);
    return `PostgreSQL ${u.hostname}${u.port === '' ? '' : `:${u.port}`}${u.pathname}`;
  } catch {
    return 'PostgreSQL (unparsable DATABASE_URL)';
  }
}

/**
 * Starts the settlement service on `transport`: a hybrid Nest app whose microservice side stores trades and
 * signed orders, whose HTTP side serves /metrics, /health and /ready, and a background loop that batches, submits and
 * confirms settlements.
 */
export async function startSettlement(config: SettlementConfig, transport: Transport, options: StartOptions = {}): Promise<SettlementHandle> {
  const log = options.logger ?? createLogger(SERVICE);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      await c().catch((err: unknown) => {
        log.warn({ err }, 'unclean stop');
      });
    }
  };
  try {
    if (config.databaseUrl === undefined && !config.allowEphemeralDb) {
      throw new ConfigError(['DATABASE_URL: required: settlement keeps unsettled fills and its broadcast journal in PostgreSQL (SETTLEMENT_ALLOW_EPHEMERAL_DB=true allows embedded PGlite in development)']);
    }
    const rpc = http(config.rpcUrl, { retryCount: 0, timeout: 10_000 });
    const operatorAccount = privateKeyToAccount(config.operatorKey);
    // Before anything is stored or sent: the right chain, a contract there, its signing domain, our key its operator.
    const chainId = await checkChainAtBoot(createPublicClient({ transport: rpc }), {
      chainId: config.chainId,
      settlement: config.settlement,
      operator: operatorAccount.address,
      deployBlock: config.settler.logsFromBlock,
      domainFor: (id) => settlementDomain(id, config.settlement),
    });

    const database = describeDatabase(config);
    let lease: WriterLease;
    if (config.databaseUrl === undefined) {
      lease = embeddedWriterLease();
      log.warn({ database }, 'settlement runs on an embedded database (SETTLEMENT_ALLOW_EPHEMERAL_DB): development only');
    } else {
      // One writer per contract: a second instance on this database refuses to start (SETTLEMENT_WRITER_LOCKED).
      lease = await acquireWriterLease(config.databaseUrl, settlementLockKey(chainId, config.settlement));
    }
    const heldLease = lease;
    closers.push(() => heldLease.release());
    let prisma = options.prisma;
    if (prisma === undefined) {
      const p = config.databaseUrl === undefined ? await createEmbeddedPrismaClient(config.dataDir) : createPrismaClient(config.databaseUrl);
      prisma = p;
      closers.push(() => p.$disconnect());
    }
    const repo = new SettlementRepository(prisma);

    const { topics, partitions } = config;
    if (config.ensureTopics) {
      await transport.ensureTopics([
        ...topicSpecs({ ...DEFAULT_TOPICS, marketEvents: topics.marketEvents, deadLetters: topics.deadLetters }, partitions).filter(
          (s) => s.name === topics.marketEvents || s.name === topics.deadLetters,
        ),
        ...settlementTopicSpecs({ signedOrders: topics.signedOrders, settlementStatus: topics.settlementStatus }, partitions),
      ]);
    }

    const chain: Chain = defineChain({
      id: chainId,
      name: `chain-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [config.rpcUrl] } },
    });
    const pollingInterval = Math.min(config.settler.pollIntervalMs, 1_000);
    const reader = createPublicClient({ chain, transport: rpc, pollingInterval });
    const operator = createWalletClient({ chain, transport: rpc, account: operatorAccount, pollingInterval });
    const chainLog = log.child({ component: 'settler' });
    const settler = new BatchSettler({ reader, operator }, config.settlement, config.settler, (event, fields) => {
      chainLog.info(fields, event);
    });

    // Ready = its database, chain and broker answer and the loop is not halted (a halt keeps the process up, not
    // ready, so that /ready and /metrics say why; a restart would not cure it). Live = it serves HTTP.
    const started: { current?: { readonly loop: SettlementLoop; readonly ingest: IngestService } } = {};
    const db = prisma;
    const health: ServiceHealthIndicator[] = [
      databaseIndicator(database, () => db.$queryRaw`SELECT 1`),
      chainIndicator(reader, chainId),
      brokerIndicator(transport, topics.marketEvents),
      stateIndicator('loop', 'readiness', () => {
        const s = started.current;
        if (s === undefined) return { status: 'down', details: { loop: 'starting' } };
        const { status, ...loop } = s.loop.health();
        const details = { state: status, ...loop, writer: lease.kind, sequence: s.ingest.sequenceHealth() };
        return { status: status === 'halted' ? 'down' : status === 'degraded' ? 'degraded' : 'up', details };
      }),
    ];
    const app = await NestFactory.create(AppModule.forRoot(config, transport, repo, log, health), { logger: new NestPinoLogger(log) });
    closers.push(() => app.close());
    const metrics = app.get(SettlementMetrics);
    const ingest = app.get(IngestService);
    await ingest.start();
    closers.push(() => ingest.close());

    const statusProducer = await transport.producer();
    closers.push(() => statusProducer.close());
    const loop = new SettlementLoop(
      config,
      repo,
      settler,
      settlementDomain(chainId, config.settlement),
      metrics,
      statusPublisher(statusProducer, topics.settlementStatus),
      log.child({ component: 'loop' }),
      lease,
    );
    started.current = { loop, ingest };
    ingest.onStored(() => {
      loop.wake();
    });

    const server = new BatchConsumerServer(transport, {
      groupId: config.groupId,
      topics: [topics.signedOrders, topics.marketEvents],
      fromBeginning: true,
      maxBatchSize: 1_000,
    });
    app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.listen(config.httpPort, config.httpHost);
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

    const abort = new AbortController();
    const running = loop.run(abort.signal);
    closers.push(async () => {
      abort.abort();
      await running;
    });
    log.info({ url, chainId, settlement: config.settlement, markets: config.markets.size, transport: transport.kind, database, writer: lease.kind }, 'settlement started');
    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      config,
      repo,
      loop,
      stopped: server.stopped,
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

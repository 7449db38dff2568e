import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BatchSettler, settlementDomain } from '@parallax/chain';
import { settlementTopicSpecs, topicSpecs, DEFAULT_TOPICS } from '@parallax/contracts';
import { BatchConsumerServer } from '@parallax/microservice';
import { createLogger, NestPinoLogger, type Logger } from '@parallax/observability';
import { createEmbeddedPrismaClient, createPrismaClient, SettlementRepository, type PrismaClient } from '@parallax/persistence';
import type { Transport } from '@parallax/transport';
import { createPublicClient, createWalletClient, defineChain, http, type Chain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { SettlementConfig } from '../config/settlement.config.js';
import { IngestService } from '../ingest/ingest.service.js';
import { SettlementLoop } from '../settle/settlement.loop.js';
import { SettlementMetrics } from '../settle/settlement.metrics.js';
import { statusPublisher } from '../settle/status.publisher.js';
import { AppModule, SERVICE } from './app.module.js';

export interface SettlementHandle {
  readonly app: INestApplication;
  /** Base URL of the HTTP side (/metrics, /health). */
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
  /** A database client to use instead of DATABASE_URL / embedded PGlite (left open on close). */
  readonly prisma?: PrismaClient;
}

/**
 * Starts the settlement service on `transport`: a hybrid Nest app whose microservice side stores trades and
 * signed orders, whose HTTP side serves /metrics and /health, and a background loop that batches, submits and
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

    const rpc = http(config.rpcUrl, { retryCount: 0, timeout: 10_000 });
    const chainId = config.chainId ?? (await createPublicClient({ transport: rpc }).getChainId());
    const chain: Chain = defineChain({
      id: chainId,
      name: `chain-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [config.rpcUrl] } },
    });
    const pollingInterval = Math.min(config.settler.pollIntervalMs, 1_000);
    const reader = createPublicClient({ chain, transport: rpc, pollingInterval });
    const operator = createWalletClient({ chain, transport: rpc, account: privateKeyToAccount(config.operatorKey), pollingInterval });
    const chainLog = log.child({ component: 'settler' });
    const settler = new BatchSettler({ reader, operator }, config.settlement, config.settler, (event, fields) => {
      chainLog.info(fields, event);
    });

    const app = await NestFactory.create(AppModule.forRoot(config, transport, repo, log), { logger: new NestPinoLogger(log) });
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
    );
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
    log.info({ url, chainId, settlement: config.settlement, markets: config.markets.size, transport: transport.kind }, 'settlement started');
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

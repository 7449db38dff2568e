// The projector as a Nest app like the others: /metrics, /health and /ready through the shared terminus module;
// the Projector consumes the risk journal on the same transport and writes PostgreSQL (or embedded PGlite).
import 'reflect-metadata';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createEmbeddedPrismaClient, createPrismaClient, type PrismaClient } from '@parallax/persistence';
import {
  brokerIndicator,
  createLogger,
  databaseIndicator,
  METRICS_REGISTRY,
  NestPinoLogger,
  ObservabilityModule,
  stateIndicator,
  type Logger,
  type ServiceHealthIndicator,
} from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { Registry } from 'prom-client';
import type { ProjectorServiceConfig } from '../config/projector.config.js';
import { MarketProjector } from '../market/market-projector.service.js';
import { Projector } from '../projection/projector.service.js';
import { MarketStore } from '../store/market.store.js';
import { ProjectionStore } from '../store/projection.store.js';
import { ProjectorMetrics } from './projector.metrics.js';

export const SERVICE = 'projector';

@Module({})
class ProjectorAppModule {
  static forRoot(health: readonly ServiceHealthIndicator[]): DynamicModule {
    return {
      module: ProjectorAppModule,
      imports: [ObservabilityModule.forService(SERVICE, { health })],
      providers: [{ provide: ProjectorMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new ProjectorMetrics(registry) }],
    };
  }
}

export interface ProjectorHandle {
  readonly app: INestApplication;
  /** Base URL of /metrics, /health and /ready. */
  readonly url: string;
  readonly projector: Projector;
  readonly store: ProjectionStore;
  /** Orders, trades and candles from the market events (undefined when not configured). */
  readonly markets: MarketProjector | undefined;
  readonly marketStore: MarketStore;
  /** Resolves on close(); rejects if consumption failed (a failed commit, a fenced instance). */
  readonly stopped: Promise<void>;
  /** Leaves the consumer group, stops HTTP and closes the database client it opened. Not the transport. */
  close(): Promise<void>;
}

export interface ProjectorOptions {
  readonly logger?: Logger;
  /** A client to use instead of opening one from the config (tests; closed by the caller). */
  readonly prisma?: PrismaClient;
}

/** Starts one projector instance on `transport` (Kafka or the embedded log). */
export async function startProjector(config: ProjectorServiceConfig, transport: Transport, options: ProjectorOptions = {}): Promise<ProjectorHandle> {
  const log = (options.logger ?? createLogger(SERVICE)).child({ group: config.projector.groupId });
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      await c().catch((err: unknown) => {
        log.error({ err }, 'close failed');
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
    const db = prisma;
    const store = new ProjectionStore(db);
    const marketStore = new MarketStore(db);
    const started: { projector?: Projector; markets?: MarketProjector } = {};
    const health: ServiceHealthIndicator[] = [
      brokerIndicator(transport, config.projector.journal),
      databaseIndicator(config.databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL', () => db.$queryRaw`SELECT 1`),
      stateIndicator('projection', 'readiness', () => {
        const p = started.projector;
        if (p === undefined || !p.ready()) return { status: 'down', details: { state: 'restoring' } };
        if (config.marketEvents !== undefined && started.markets?.ready() !== true) return { status: 'down', details: { state: 'loading market cursors' } };
        const halted = Object.fromEntries([...p.halted()].map(([shard, e]) => [String(shard), e.code]));
        return Object.keys(halted).length === 0 ? { status: 'up', details: { shards: p.status().length } } : { status: 'down', details: { halted } };
      }),
    ];
    const app = await NestFactory.create(ProjectorAppModule.forRoot(health), { logger: new NestPinoLogger(log) });
    closers.push(() => app.close());
    const metrics = app.get(ProjectorMetrics);
    const projector = new Projector(config.projector, transport, store, {
      committed: (shard, step, rows, highWatermark) => {
        const s = String(shard);
        metrics.entries.inc({ shard: s }, step.entries);
        if (step.duplicates > 0) metrics.duplicates.inc({ shard: s }, step.duplicates);
        metrics.rows.inc({ table: 'account_balances' }, rows.balances);
        metrics.rows.inc({ table: 'account_transfers' }, rows.transfers);
        metrics.journalNext.set({ shard: s }, step.journalNext);
        metrics.lag.set({ shard: s }, Math.max(0, highWatermark - step.journalNext));
      },
      restored: (shard, position) => {
        log.info({ shard, position }, 'shard projection restored');
      },
      offsetCommitFailed: (err) => {
        log.warn({ err }, 'journal group offsets not committed (a restart re-reads more; the rows hold the position)');
      },
      halted: (shard, code, err) => {
        metrics.halt(shard, code);
        log.error({ err, shard, reason: code }, 'shard projection stopped: its rows stay at the last good journal entry');
      },
    });
    started.projector = projector;
    let markets: MarketProjector | undefined;
    if (config.marketEvents !== undefined) {
      const topics = config.marketEvents;
      markets = new MarketProjector(topics, transport, marketStore, {
        committed: (topic, partition, step, highWatermark, next) => {
          const p = String(partition);
          metrics.marketOffset.set({ topic, partition: p }, next);
          metrics.marketLag.set({ topic, partition: p }, Math.max(0, highWatermark - next));
          if ('accounts' in step) return;
          metrics.marketEvents.inc({ partition: p }, step.events);
          if (step.duplicates > 0) metrics.marketDuplicates.inc({ partition: p }, step.duplicates);
          metrics.rows.inc({ table: 'market_orders' }, step.orders.length + step.changes.length);
          metrics.rows.inc({ table: 'market_trades' }, step.trades.length);
          metrics.rows.inc({ table: 'market_candles' }, step.candles.length);
        },
        gap: (marketId, expected, got) => {
          metrics.marketGaps.inc({ market: String(marketId) });
          log.error({ marketId, expected, got }, 'market event sequence gap: events before it were never projected');
        },
        offsetCommitFailed: (err) => {
          log.warn({ err }, 'market group offsets not committed (a restart re-reads more; the rows hold the position)');
        },
        unreadable: (topic, partition, offset, reason) => {
          log.error({ topic, partition, offset, reason }, 'market events message skipped: it does not decode');
        },
      });
      started.markets = markets;
    }
    await app.listen(config.http.port, config.http.host);
    await projector.start();
    closers.push(() => projector.close());
    if (markets !== undefined) {
      const m = markets;
      await m.start();
      closers.push(() => m.close());
    }
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    log.info({ url, shards: config.projector.shards, transport: transport.kind }, 'projector started');
    let closing: Promise<void> | undefined;
    const stopped = Promise.all([projector.stopped, markets?.stopped]).then(() => undefined);
    return { app, url, projector, store, markets, marketStore, stopped, close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

// The risk service as a Nest app like the others: the HTTP side serves /metrics, /health, /ready and
// /shards; the account shards (RiskShards) consume on the same transport. RiskShards keeps its own group
// consumer rather than Nest's batch consumer strategy: it subscribes three co-partitioned topics and
// restores a shard from its journal on assignment, which the strategy's one-topic handler shape does not
// express. /metrics, /health and /ready come from the shared ObservabilityModule (terminus), with the
// indicators of shards.health.ts.
import 'reflect-metadata';
import { type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, METRICS_REGISTRY, NestPinoLogger, ObservabilityModule, type Logger } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { Registry } from 'prom-client';
import type { RiskServiceConfig } from '../config/risk.config.js';
import { RiskShards } from '../service/risk-shards.js';
import { RiskMetrics } from './risk.metrics.js';
import { riskHealthIndicators, RiskShardsController, type RiskFailure } from './shards.health.js';

export const SERVICE = 'risk';

@Module({})
class RiskAppModule {
  static forRoot(shards: RiskShards, failure: RiskFailure): DynamicModule {
    return {
      module: RiskAppModule,
      imports: [ObservabilityModule.forService(SERVICE, { health: riskHealthIndicators(shards, failure) })],
      controllers: [RiskShardsController],
      providers: [
        { provide: RiskMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new RiskMetrics(registry, () => shards) },
        { provide: RiskShards, useValue: shards },
      ],
    };
  }
}

export interface RiskHandle {
  readonly app: INestApplication;
  /** Base URL of the HTTP side (/metrics, /health, /ready). */
  readonly url: string;
  readonly shards: RiskShards;
  /** Settles when consumption ends: resolves on close(), rejects if the shards failed (fenced, restore refused). */
  readonly stopped: Promise<void>;
  /** Leaves the consumer group (its shards move to other members) and stops HTTP. Not the transport. */
  close(): Promise<void>;
}

/** Starts one risk instance on `transport` (Kafka or the embedded log). */
export async function startRisk(config: RiskServiceConfig, transport: Transport, options: { readonly logger?: Logger } = {}): Promise<RiskHandle> {
  const log = (options.logger ?? createLogger(SERVICE)).child({ instance: config.instanceId, group: config.shards.groupId });
  const failure: RiskFailure = {};
  // The metrics live in the app, which needs the shards: the observer reaches them once the app exists.
  const sink: { metrics?: RiskMetrics } = {};
  const shards = new RiskShards(config.shards, transport, {
    batch: (...a) => sink.metrics?.batch(...a),
    snapshot: (...a) => sink.metrics?.snapshot(...a),
    snapshotSkippedFor: (shard, reason) => {
      sink.metrics?.snapshotSkippedFor(shard, reason);
      log.error({ shard, reason }, 'snapshot skipped');
    },
    restored: (report) => {
      sink.metrics?.restored(report);
      log.info(report, 'shard restored');
    },
    restoreFailed: (shard, code, err) => {
      sink.metrics?.restoreFailed(shard, code);
      log.fatal({ err, shard, reason: code }, 'shard restore refused: its state would not be exact');
    },
    dropped: (shard) => sink.metrics?.dropped(shard),
  });
  const app = await NestFactory.create(RiskAppModule.forRoot(shards, failure), { logger: new NestPinoLogger(log) });
  sink.metrics = app.get(RiskMetrics);
  try {
    await app.listen(config.http.port, config.http.host);
    await shards.start();
  } catch (err) {
    await shards.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw err;
  }
  shards.stopped.catch((err: unknown) => {
    failure.error = err instanceof Error ? err : new Error(String(err));
  });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  log.info({ url, shards: config.shards.shards, transport: transport.kind }, 'risk shards started');
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    shards,
    stopped: shards.stopped,
    close: () =>
      (closing ??= (async () => {
        await shards.close();
        await app.close();
      })()),
  };
}

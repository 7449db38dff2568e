import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { topicSpecs } from '@parallax/contracts';
import { ConfigError, createLogger, NestPinoLogger, type Logger } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import { AppModule, SERVICE } from './app.module.js';
import { BatchConsumerServer } from '@parallax/microservice';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { MatchingService } from '../matching/matching.service.js';

export interface MatchingEngineHandle {
  readonly app: INestApplication;
  /** Base URL of the HTTP side (/metrics, /health). */
  readonly url: string;
  readonly service: MatchingService;
  /** Settles when consumption ends: resolves on close(), rejects if the engine failed (e.g. fenced). */
  readonly stopped: Promise<void>;
  /** Leaves the consumer group (its partitions move to other members) and stops HTTP. Not the transport. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
}

/**
 * Starts one matching-engine instance on `transport` (Kafka or the embedded log): a hybrid Nest app whose
 * microservice side consumes the orders topic in batches, and whose HTTP side serves /metrics and /health.
 */
export async function startMatchingEngine(
  config: MatchingEngineConfig,
  transport: Transport,
  options: StartOptions = {},
): Promise<MatchingEngineHandle> {
  const log = (options.logger ?? createLogger(SERVICE)).child({ instance: config.instanceId, group: config.groupId });
  const { topics, partitions } = config;
  if (config.ensureTopics) {
    const accountEvents = config.accountEvents === undefined ? [] : [{ name: config.accountEvents.topic, partitions: config.accountEvents.shards }];
    await transport.ensureTopics([...topicSpecs(topics, partitions, { ordersRetentionMs: config.ordersRetentionMs }), ...accountEvents]);
  }
  for (const t of [topics.orders, topics.marketEvents, topics.snapshots]) {
    const n = await transport.partitionCount(t);
    if (n !== partitions) {
      throw new ConfigError([`PARTITIONS: topic ${t} has ${n} partitions but PARTITIONS=${partitions} (they must be equal)`]);
    }
  }

  const app = await NestFactory.create(AppModule.forRoot(config, transport, log), { logger: new NestPinoLogger(log) });
  const server = new BatchConsumerServer(transport, {
    groupId: config.groupId,
    topics: [topics.orders],
    fromBeginning: true,
    maxBatchSize: config.maxBatchMessages,
    concurrentPartitions: config.concurrentPartitions,
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  try {
    await app.startAllMicroservices();
    await app.listen(config.httpPort, config.httpHost);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  log.info({ url, partitions, markets: config.catalogue.all().length, transport: transport.kind }, 'matching engine started');
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    service: app.get(MatchingService),
    stopped: server.stopped,
    close: () => (closing ??= app.close()),
  };
}

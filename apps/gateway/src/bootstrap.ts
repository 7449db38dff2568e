import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, NestPinoLogger, type Logger } from '@parallax/observability';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './gateway.config.js';

/** Creates and starts the gateway's HTTP server; returns the app and the address it listens on. */
export async function startGateway(
  config: Pick<GatewayConfig, 'GATEWAY_HOST' | 'GATEWAY_PORT'>,
  logger: Logger = createLogger('gateway'),
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(AppModule, { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url };
}

import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './gateway.config.js';

/** Creates and starts the gateway's HTTP server; returns the app and the address it listens on. */
export async function startGateway(config: GatewayConfig): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url };
}

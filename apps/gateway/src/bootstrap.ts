import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger, METRICS_REGISTRY, NestPinoLogger, type Logger } from '@parallax/observability';
import type { Registry } from 'prom-client';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './gateway.config.js';

/**
 * Creates and starts the gateway's HTTP server; returns the app and the address it listens on, and the
 * internal metrics address when GATEWAY_METRICS_PORT is set.
 */
export async function startGateway(
  config: Pick<GatewayConfig, 'GATEWAY_HOST' | 'GATEWAY_PORT'> & { GATEWAY_METRICS_PORT?: number | undefined },
  logger: Logger = createLogger('gateway'),
): Promise<{ app: INestApplication; url: string; metricsUrl?: string }> {
  const app = await NestFactory.create(AppModule, { logger: new NestPinoLogger(logger) });
  app.enableShutdownHooks();
  let metricsUrl: string | undefined;
  if (config.GATEWAY_METRICS_PORT !== undefined) {
    // Registered before the controllers' routes, so it answers first on the public port.
    app.use('/metrics', (_req: unknown, res: { status(code: number): { end(): void } }) => {
      res.status(404).end();
    });
    const server = await serveMetrics(app.get<Registry>(METRICS_REGISTRY), config.GATEWAY_METRICS_PORT, config.GATEWAY_HOST);
    (app.getHttpServer() as Server).on('close', () => server.close());
    const { port } = server.address() as AddressInfo;
    metricsUrl = `http://${config.GATEWAY_HOST === '0.0.0.0' ? '127.0.0.1' : config.GATEWAY_HOST}:${port}`;
  }
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return metricsUrl === undefined ? { app, url } : { app, url, metricsUrl };
}

/** GET /metrics and nothing else, on the internal port. */
async function serveMetrics(registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      },
      () => {
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve();
    });
  });
  return server;
}

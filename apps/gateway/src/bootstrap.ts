import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { type INestApplication, ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { WsAdapter } from '@nestjs/platform-ws';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createLogger, METRICS_REGISTRY, NestPinoLogger, serveMetrics, type Logger } from '@parallax/observability';
import type { Registry } from 'prom-client';
import { AppModule } from './app.module.js';
import { ApiError } from './errors/api.errors.js';
import { ApiExceptionFilter } from './errors/api-exception.filter.js';
import type { GatewayContext } from './gateway.context.js';
import { TradingKeys } from './accounts/trading-keys.js';
import { RiskOrderIntake } from './intake/risk-order-intake.js';
import type { OrderIntake } from './intake/order-intake.js';
import { MarketDataService } from './market-data/market-data.service.js';
import { SettlementStatusService } from './settlement/settlement-status.service.js';

/** The first validation failure, named by its property path ("orders.0.price: price must be ..."). */
function firstProblem(errors: readonly ValidationError[], prefix = ''): string {
  for (const e of errors) {
    const path = `${prefix}${e.property}`;
    const constraints = e.constraints === undefined ? [] : Object.values(e.constraints);
    if (constraints.length > 0) return `${path}: ${constraints[0]!}`;
    if (e.children !== undefined && e.children.length > 0) return firstProblem(e.children, `${path}.`);
  }
  return 'invalid request body';
}

/** The global request-body pipe: unknown properties refused, the first failure an INVALID_FIELD naming its path. */
export function requestValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => new ApiError('INVALID_FIELD', firstProblem(errors)),
  });
}

export interface StartedGateway {
  readonly app: INestApplication;
  readonly url: string;
  /** The internal /metrics address, when GATEWAY_METRICS_PORT is set. */
  readonly metricsUrl?: string;
}

/** Creates and starts the gateway: REST under /v1, OpenAPI at /docs (JSON at /docs-json), WebSocket at /ws. */
export async function startGateway(
  ctx: GatewayContext,
  /** shutdownHooks (default true): close on SIGINT/SIGTERM; false when a launcher owns the signals (npm start). */
  options: { intake?: OrderIntake; logger?: Logger; shutdownHooks?: boolean } = {},
): Promise<StartedGateway> {
  const log = options.logger ?? createLogger('gateway');
  const intake = options.intake ?? (await RiskOrderIntake.open(ctx.transport, ctx.topics.requests, ctx.accountShards, ctx.clock));
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forContext(ctx, intake), { logger: new NestPinoLogger(log), bodyParser: false });
  let metricsUrl: string | undefined;
  try {
    const metricsPort = ctx.config.GATEWAY_METRICS_PORT;
    if (metricsPort !== undefined) {
      // Registered before the controllers' routes, so it answers first on the public port: metrics name
      // internals no trader needs to see; Prometheus scrapes the internal port.
      app.use('/metrics', (_req: unknown, res: { status(code: number): { end(): void } }) => {
        res.status(404).end();
      });
      const server = await serveMetrics(app.get<Registry>(METRICS_REGISTRY), metricsPort, ctx.config.GATEWAY_HOST);
      app.getHttpServer().on('close', () => server.close());
      const { port } = server.address() as AddressInfo;
      metricsUrl = `http://${ctx.config.GATEWAY_HOST === '0.0.0.0' ? '127.0.0.1' : ctx.config.GATEWAY_HOST}:${port}`;
    }
    app.useBodyParser('json', { limit: ctx.config.GATEWAY_BODY_LIMIT_BYTES });
    app.set('trust proxy', false);
    app.disable('x-powered-by');
    app.useGlobalFilters(new ApiExceptionFilter((err) => {
        log.error({ err }, 'unexpected error in a request');
      }));
    app.useGlobalPipes(requestValidationPipe());
    app.useWebSocketAdapter(new WsAdapter(app));
    // Nest's hooks close the app on a signal and then raise it again: inside a launcher that would close the
    // gateway behind the launcher's back and count as a second Ctrl-C.
    if (options.shutdownHooks !== false) app.enableShutdownHooks();
    const doc = new DocumentBuilder()
      .setTitle('Parallax trading API')
      .setDescription('REST API of the Parallax gateway. Orders and cancels are EIP-712 signed by the trader; private reads carry a signed Login in x-parallax-* headers. WebSocket at /ws (book channel: a snapshot, then updates that each cover the book sequences prevSeq..seq, merged over GATEWAY_BOOK_COALESCE_MS, with the CRC32 checksum of the top 25 levels after them). Errors: { error: { code, message } }.')
      .setVersion('1')
      .build();
    SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
    await app.get(MarketDataService).start();
    await app.get(SettlementStatusService).start();
    await app.get(TradingKeys).start();
    await app.listen(ctx.config.GATEWAY_PORT, ctx.config.GATEWAY_HOST);
    // Longer than a load balancer's idle timeout (and clients' keep-alive pools), so the server never closes
    // a kept-alive connection just as a client sends on it.
    const server = app.getHttpServer() as { keepAliveTimeout: number; headersTimeout: number };
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  } catch (err) {
    await app.close();
    await intake.close();
    throw err;
  }
  const close = app.close.bind(app);
  // The intake is not a Nest provider's lifecycle (it may be shared by tests): closed with the app.
  app.close = async () => {
    await close();
    await intake.close();
  };
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return metricsUrl === undefined ? { app, url } : { app, url, metricsUrl };
}

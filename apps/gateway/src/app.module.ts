import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ServeStaticModule } from '@nestjs/serve-static';
import { ThrottlerModule } from '@nestjs/throttler';
import { brokerIndicator, ObservabilityModule } from '@parallax/observability';
import { TradingKeys } from './accounts/trading-keys.js';
import { AccountController } from './account/account.controller.js';
import { ACCOUNT_READ_MODEL } from './account/account-read-model.js';
import { GATEWAY_CONTEXT, type GatewayContext } from './gateway.context.js';
import { FILL_SETTLEMENT_READ_MODEL, HISTORY_READ_MODEL } from './history/history-read-model.js';
import { HistoryService } from './history/history.service.js';
import { ORDER_INTAKE, type OrderIntake } from './intake/order-intake.js';
import { MarketDataService } from './market-data/market-data.service.js';
import { MarketDirectory } from './markets/market-directory.js';
import { MarketsController } from './markets/markets.controller.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { SettlementController } from './settlement/settlement.controller.js';
import { SettlementStatusService } from './settlement/settlement-status.service.js';
import { StatsController } from './stats/stats.controller.js';
import { StatsService } from './stats/stats.service.js';
import { StreamGateway } from './stream/stream.gateway.js';
import { WeightedThrottlerGuard, WeightedThrottlerStorage } from './rate-limit/weighted-throttler.js';

/**
 * The per-account rate-limit key of a request: the trader it names (body or login header) together with the IP
 * it comes from, else the IP. The trader is counted before any signature is checked, so keyed on the trader
 * alone anyone could spend a victim's budget with unsigned junk naming them and get the victim's real cancels
 * refused (429) during a price move.
 */
export function traderOrIp(req: Record<string, unknown>): string {
  const body = req['body'];
  const fromBody = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['trader'] : undefined;
  const headers = req['headers'] as Record<string, unknown> | undefined;
  const who = typeof fromBody === 'string' ? fromBody : headers?.['x-parallax-trader'];
  if (typeof who === 'string' && /^0x[0-9a-fA-F]{40}$/.test(who)) return `trader:${who.toLowerCase()}@ip:${String(req['ip'])}`;
  return `ip:${String(req['ip'])}`;
}

// The live page's static files (apps/gateway/public) and the modules it loads, all from this machine: the charting
// library and the SDK's LocalBook (plain ES modules, no bundle step).
const PAGE_DIR = fileURLToPath(new URL('../public', import.meta.url));
const require = createRequire(import.meta.url);
const CHARTS_DIR = join(dirname(require.resolve('lightweight-charts/package.json')), 'dist');
const SDK_DIR = dirname(require.resolve('@parallax/sdk'));

/** The hashes of the page's inline scripts (its import map): the only inline script the policy allows. */
function inlineScriptHashes(): string {
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8');
  return [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)]
    .map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`)
    .join(' ');
}
const PAGE_POLICY = [
  "default-src 'self'",
  `script-src 'self' ${inlineScriptHashes()}`,
  // lightweight-charts sizes its canvases through style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  // REST and /ws of this origin only.
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function pageHeaders(res: { setHeader(name: string, value: string): void }): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', PAGE_POLICY);
}

@Module({})
export class AppModule {
  static forContext(ctx: GatewayContext, intake: OrderIntake): DynamicModule {
    const c = ctx.config;
    return {
      module: AppModule,
      imports: [
        // Ready when the log it writes orders to answers (and its read models' database, when it opened one).
        ObservabilityModule.forService('gateway', { health: [brokerIndicator(ctx.transport, ctx.topics.requests), ...(ctx.readiness ?? [])] }),
        // A batch counts as the orders (cancels) it carries, in one storage operation (rate-limit/weighted-throttler.ts).
        ThrottlerModule.forRoot({
          storage: new WeightedThrottlerStorage(),
          throttlers: [
            { name: 'ip', ttl: c.GATEWAY_RATE_WINDOW_MS, limit: c.GATEWAY_RATE_LIMIT_IP },
            { name: 'account', ttl: c.GATEWAY_RATE_WINDOW_MS, limit: c.GATEWAY_RATE_LIMIT_ACCOUNT, getTracker: traderOrIp },
          ],
        }),
        // Static files only: the page reads the public REST and WebSocket API like any client. renderPath '/'
        // serves index.html at the root alone, so unknown paths stay the API's 404 (NOT_FOUND).
        ServeStaticModule.forRoot(
          { rootPath: PAGE_DIR, renderPath: '/', serveStaticOptions: { index: 'index.html', setHeaders: pageHeaders } },
          { rootPath: CHARTS_DIR, serveRoot: '/vendor/lightweight-charts', renderPath: '/', serveStaticOptions: { index: false, setHeaders: pageHeaders } },
          { rootPath: SDK_DIR, serveRoot: '/vendor/sdk', renderPath: '/', serveStaticOptions: { index: false, setHeaders: pageHeaders } },
        ),
      ],
      controllers: [MarketsController, OrdersController, StatsController, SettlementController, AccountController],
      providers: [
        { provide: GATEWAY_CONTEXT, useValue: ctx },
        { provide: ORDER_INTAKE, useValue: intake },
        { provide: ACCOUNT_READ_MODEL, useValue: ctx.accountReadModel ?? null },
        { provide: HISTORY_READ_MODEL, useValue: ctx.historyReadModel ?? null },
        { provide: FILL_SETTLEMENT_READ_MODEL, useValue: ctx.fillSettlement ?? null },
        HistoryService,
        { provide: APP_GUARD, useClass: WeightedThrottlerGuard },
        MarketDirectory,
        MarketDataService,
        TradingKeys,
        OrdersService,
        StatsService,
        SettlementStatusService,
        StreamGateway,
      ],
    };
  }
}

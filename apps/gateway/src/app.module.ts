import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ObservabilityModule } from '@parallax/observability';
import { TradingKeys } from './accounts/trading-keys.js';
import { GATEWAY_CONTEXT, type GatewayContext } from './gateway.context.js';
import { ORDER_INTAKE, type OrderIntake } from './intake/order-intake.js';
import { MarketDataService } from './market-data/market-data.service.js';
import { MarketDirectory } from './markets/market-directory.js';
import { MarketsController } from './markets/markets.controller.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { StreamGateway } from './stream/stream.gateway.js';

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

@Module({})
export class AppModule {
  static forContext(ctx: GatewayContext, intake: OrderIntake): DynamicModule {
    const c = ctx.config;
    return {
      module: AppModule,
      imports: [
        ObservabilityModule.forService('gateway'),
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'ip', ttl: c.GATEWAY_RATE_WINDOW_MS, limit: c.GATEWAY_RATE_LIMIT_IP },
            { name: 'account', ttl: c.GATEWAY_RATE_WINDOW_MS, limit: c.GATEWAY_RATE_LIMIT_ACCOUNT, getTracker: traderOrIp },
          ],
        }),
      ],
      controllers: [MarketsController, OrdersController],
      providers: [
        { provide: GATEWAY_CONTEXT, useValue: ctx },
        { provide: ORDER_INTAKE, useValue: intake },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        MarketDirectory,
        MarketDataService,
        TradingKeys,
        OrdersService,
        StreamGateway,
      ],
    };
  }
}

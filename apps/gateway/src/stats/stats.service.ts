// Orders/s and trades/s through the engines, from the engine events the gateway already consumes.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import { Throughput, type ThroughputSnapshot } from './throughput.js';

@Injectable()
export class StatsService implements OnModuleDestroy {
  private readonly throughput = new Throughput();
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  constructor(@Inject(GATEWAY_CONTEXT) ctx: GatewayContext, data: MarketDataService) {
    this.now = ctx.clock ?? Date.now;
    this.unsubscribe = data.onBatch((_marketId, outcome) => {
      this.throughput.record(this.now(), outcome.orders, outcome.trades.length);
    });
  }

  snapshot(): ThroughputSnapshot {
    return this.throughput.snapshot(this.now());
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}

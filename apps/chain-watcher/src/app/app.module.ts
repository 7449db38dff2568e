import { type DynamicModule, Module } from '@nestjs/common';
import { METRICS_REGISTRY, ObservabilityModule, type ServiceHealthIndicator } from '@parallax/observability';
import type { Registry } from 'prom-client';
import { ChainWatcherMetrics } from '../watch/chain-watcher.metrics.js';

export const SERVICE = 'chain-watcher';

/** The chain watcher's HTTP side: /metrics, /health (liveness) and /ready (readiness). */
@Module({})
export class AppModule {
  static forRoot(health: readonly ServiceHealthIndicator[]): DynamicModule {
    return {
      module: AppModule,
      imports: [ObservabilityModule.forService(SERVICE, { health })],
      providers: [{ provide: ChainWatcherMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new ChainWatcherMetrics(registry) }],
    };
  }
}

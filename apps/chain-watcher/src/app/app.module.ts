import { type DynamicModule, Module } from '@nestjs/common';
import { METRICS_REGISTRY, ObservabilityModule, type HealthCheck } from '@parallax/observability';
import type { Registry } from 'prom-client';
import { ChainWatcherMetrics } from '../watch/chain-watcher.metrics.js';

export const SERVICE = 'chain-watcher';

/** The chain watcher's HTTP side: /metrics and /health. */
@Module({})
export class AppModule {
  static forRoot(healthCheck: HealthCheck): DynamicModule {
    return {
      module: AppModule,
      imports: [ObservabilityModule.forService(SERVICE, { healthCheck })],
      providers: [{ provide: ChainWatcherMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new ChainWatcherMetrics(registry) }],
    };
  }
}

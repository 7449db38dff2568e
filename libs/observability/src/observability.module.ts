import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { createMetricsRegistry } from './metrics.js';
import { METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';

/** /metrics (Prometheus text format) and /health for every Parallax app. */
@Module({})
export class ObservabilityModule {
  static forService(service: string): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(service) },
      ],
      exports: [METRICS_REGISTRY, SERVICE_NAME],
    };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController, type HealthCheck } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { createMetricsRegistry } from './metrics.js';
import { HEALTH_CHECK, METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';

/** /metrics (Prometheus text format) and /health for every Parallax app. */
@Module({})
export class ObservabilityModule {
  /** `options.healthCheck`: what /health reports (default: a constant ok while the process serves HTTP). */
  static forService(service: string, options: { readonly healthCheck?: HealthCheck } = {}): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        ...(options.healthCheck === undefined ? [] : [{ provide: HEALTH_CHECK, useValue: options.healthCheck }]),
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(service) },
      ],
      exports: [METRICS_REGISTRY, SERVICE_NAME],
    };
  }
}

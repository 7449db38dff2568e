import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller.js';
import type { ServiceHealthIndicator } from './health/health-indicators.js';
import { MetricsController } from './metrics.controller.js';
import { createMetricsRegistry } from './metrics.js';
import { HEALTH_INDICATORS, METRICS_REGISTRY, SERVICE_NAME } from './observability.tokens.js';

/** /metrics (Prometheus text format), /health (liveness) and /ready (readiness) for every Parallax app. */
@Module({})
export class ObservabilityModule {
  /**
   * `options.health`: the service's indicators (see health-indicators.ts): objects, or classes that the app provides
   * itself (an @Injectable() implementing ServiceHealthIndicator, for a check that needs the app's services).
   * Without any, /health and /ready answer 200 while the process serves HTTP.
   */
  static forService(service: string, options: { readonly health?: readonly (ServiceHealthIndicator | Type<ServiceHealthIndicator>)[] } = {}): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      // Probe failures are answered in the body; logging each one would flood the log during a normal restore.
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [MetricsController, HealthController],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        { provide: HEALTH_INDICATORS, useValue: options.health ?? [] },
        { provide: METRICS_REGISTRY, useFactory: () => createMetricsRegistry(service) },
      ],
      exports: [METRICS_REGISTRY, SERVICE_NAME],
    };
  }
}

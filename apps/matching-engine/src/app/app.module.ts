import { type DynamicModule, Module } from '@nestjs/common';
import { METRICS_REGISTRY, ObservabilityModule, type Logger } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { Registry } from 'prom-client';
import { EngineMetrics } from '../matching/engine.metrics.js';
import type { MatchingEngineConfig } from '../config/matching-engine.config.js';
import { ENGINE_CONFIG, ENGINE_LOGGER, ENGINE_TRANSPORT } from '../config/matching-engine.tokens.js';
import { MatchingService } from '../matching/matching.service.js';
import { OrdersConsumer } from '../consumer/orders.consumer.js';
import { PartitionsHealthIndicator } from './partitions.health.js';

export const SERVICE = 'matching-engine';

/** The matching-engine app: /metrics, /health and /ready over HTTP, order batches through the batch consumer. */
@Module({})
export class AppModule {
  static forRoot(config: MatchingEngineConfig, transport: Transport, log: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [ObservabilityModule.forService(SERVICE, { health: [PartitionsHealthIndicator] })],
      controllers: [OrdersConsumer],
      providers: [
        { provide: ENGINE_CONFIG, useValue: config },
        { provide: ENGINE_TRANSPORT, useValue: transport },
        { provide: ENGINE_LOGGER, useValue: log },
        { provide: EngineMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new EngineMetrics(registry) },
        MatchingService,
        PartitionsHealthIndicator,
      ],
    };
  }
}

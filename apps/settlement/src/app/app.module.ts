import { type DynamicModule, Module } from '@nestjs/common';
import { METRICS_REGISTRY, ObservabilityModule, type Logger, type ServiceHealthIndicator } from '@parallax/observability';
import type { SettlementRepository } from '@parallax/persistence';
import type { Transport } from '@parallax/transport';
import type { Registry } from 'prom-client';
import type { SettlementConfig } from '../config/settlement.config.js';
import { IngestConsumer } from '../ingest/ingest.consumer.js';
import { IngestService } from '../ingest/ingest.service.js';
import { SettlementMetrics } from '../settle/settlement.metrics.js';

export const SERVICE = 'settlement';

/** The settlement app: /metrics, /health and /ready over HTTP, trades and signed orders through the batch consumer. */
@Module({})
export class AppModule {
  static forRoot(config: SettlementConfig, transport: Transport, repo: SettlementRepository, log: Logger, health: readonly ServiceHealthIndicator[]): DynamicModule {
    return {
      module: AppModule,
      imports: [ObservabilityModule.forService(SERVICE, { health })],
      controllers: [IngestConsumer],
      providers: [
        { provide: SettlementMetrics, inject: [METRICS_REGISTRY], useFactory: (registry: Registry) => new SettlementMetrics(registry) },
        {
          provide: IngestService,
          inject: [SettlementMetrics],
          useFactory: (metrics: SettlementMetrics) => new IngestService(config, transport, repo, metrics, log.child({ component: 'ingest' })),
        },
      ],
    };
  }
}

// The bots' Prometheus metrics and a small /metrics endpoint (no framework: the bots are plain processes).
import type { AddressInfo } from 'node:net';
import { createMetricsRegistry, serveMetrics } from '@parallax/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface MarketMakerMetrics {
  readonly registry: Registry;
  readonly quotesLive: Gauge<'market' | 'side'>;
  readonly inventory: Gauge<'asset'>;
  readonly realisedPnl: Gauge<'market'>;
  readonly unrealisedPnl: Gauge<'market'>;
  readonly requoteSeconds: Histogram<'market'>;
  readonly requotes: Counter<'market' | 'reason'>;
  readonly requoteFailures: Counter<'market' | 'code'>;
  readonly resyncs: Counter<'market'>;
  readonly reconnects: Counter;
  readonly fills: Counter<'market' | 'side'>;
}

export function marketMakerMetrics(registry: Registry = createMetricsRegistry('market-maker')): MarketMakerMetrics {
  const r = { registers: [registry] };
  return {
    registry,
    quotesLive: new Gauge({ name: 'parallax_mm_quotes_live', help: 'Open quotes of the market maker', labelNames: ['market', 'side'], ...r }),
    inventory: new Gauge({ name: 'parallax_mm_inventory', help: 'Net change of each asset since start, in asset units', labelNames: ['asset'], ...r }),
    realisedPnl: new Gauge({ name: 'parallax_mm_realised_pnl', help: 'Realised P&L since start, in quote units (fees not included)', labelNames: ['market'], ...r }),
    unrealisedPnl: new Gauge({ name: 'parallax_mm_unrealised_pnl', help: 'Open position marked at the reference, in quote units', labelNames: ['market'], ...r }),
    requoteSeconds: new Histogram({
      name: 'parallax_mm_requote_seconds',
      help: 'From the decision to requote to both the batch cancel and the batch place acknowledged',
      labelNames: ['market'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ...r,
    }),
    requotes: new Counter({ name: 'parallax_mm_requotes_total', help: 'Requotes by reason', labelNames: ['market', 'reason'], ...r }),
    requoteFailures: new Counter({ name: 'parallax_mm_requote_failures_total', help: 'Requotes refused or failed, by error code', labelNames: ['market', 'code'], ...r }),
    resyncs: new Counter({ name: 'parallax_mm_book_resyncs_total', help: 'Book resyncs after a sequence gap or checksum mismatch', labelNames: ['market'], ...r }),
    reconnects: new Counter({ name: 'parallax_mm_reconnects_total', help: 'WebSocket reconnects', ...r }),
    fills: new Counter({ name: 'parallax_mm_fills_total', help: 'Own fills counted (each once)', labelNames: ['market', 'side'], ...r }),
  };
}

export interface TakerMetrics {
  readonly registry: Registry;
  readonly orders: Counter<'market' | 'side' | 'result'>;
}

export function takerMetrics(registry: Registry = createMetricsRegistry('taker')): TakerMetrics {
  return {
    registry,
    orders: new Counter({ name: 'parallax_taker_orders_total', help: 'Taker orders sent, by result', labelNames: ['market', 'side', 'result'], registers: [registry] }),
  };
}

/** Serves GET /metrics for a registry on host:port (port 0: any free port). */
export async function metricsEndpoint(registry: Registry, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = await serveMetrics(registry, port, host);
  const a = server.address() as AddressInfo;
  return {
    url: `http://${host}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

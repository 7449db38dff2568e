import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProjectorErrorCode } from '../projection/projector.errors.js';

/** Prometheus metrics of the projector, registered on the app's registry. */
export class ProjectorMetrics {
  readonly lag: Gauge<'shard'>;
  readonly journalNext: Gauge<'shard'>;
  readonly entries: Counter<'shard'>;
  readonly duplicates: Counter<'shard'>;
  readonly rows: Counter<'table'>;
  readonly halted: Gauge<'shard' | 'reason'>;
  readonly marketEvents: Counter<'partition'>;
  readonly marketDuplicates: Counter<'partition'>;
  readonly marketGaps: Counter<'market'>;
  readonly marketOffset: Gauge<'topic' | 'partition'>;
  readonly marketLag: Gauge<'topic' | 'partition'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.lag = new Gauge({ name: 'parallax_projector_lag_entries', help: 'Risk-journal entries appended and not yet projected, per shard', labelNames: ['shard'], registers });
    this.journalNext = new Gauge({ name: 'parallax_projector_journal_offset', help: 'Next risk-journal offset to project, per shard (what the rows reflect)', labelNames: ['shard'], registers });
    this.entries = new Counter({ name: 'parallax_projector_entries_total', help: 'Risk-journal entries projected and committed', labelNames: ['shard'], registers });
    this.duplicates = new Counter({ name: 'parallax_projector_duplicates_total', help: 'Redelivered journal entries skipped (already projected)', labelNames: ['shard'], registers });
    this.rows = new Counter({ name: 'parallax_projector_rows_written_total', help: 'Rows written, by table', labelNames: ['table'], registers });
    this.marketEvents = new Counter({ name: 'parallax_projector_market_events_total', help: 'Market events applied to orders, trades and candles', labelNames: ['partition'], registers });
    this.marketDuplicates = new Counter({ name: 'parallax_projector_market_duplicates_total', help: 'Redelivered market events skipped (at or below their market cursor)', labelNames: ['partition'], registers });
    this.marketGaps = new Counter({ name: 'parallax_projector_market_gaps_total', help: "Market events that did not continue their market's sequence", labelNames: ['market'], registers });
    this.marketOffset = new Gauge({ name: 'parallax_projector_market_offset', help: 'Next offset the market read model reflects, per topic partition', labelNames: ['topic', 'partition'], registers });
    this.marketLag = new Gauge({ name: 'parallax_projector_market_lag_messages', help: 'Messages appended and not yet projected, per topic partition', labelNames: ['topic', 'partition'], registers });
    this.halted = new Gauge({ name: 'parallax_projector_halted', help: '1 while a shard projection is stopped, by reason', labelNames: ['shard', 'reason'], registers });
  }

  halt(shard: number, reason: ProjectorErrorCode): void {
    this.halted.set({ shard: String(shard), reason }, 1);
  }
}

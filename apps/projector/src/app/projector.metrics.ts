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

  constructor(registry: Registry) {
    const registers = [registry];
    this.lag = new Gauge({ name: 'parallax_projector_lag_entries', help: 'Risk-journal entries appended and not yet projected, per shard', labelNames: ['shard'], registers });
    this.journalNext = new Gauge({ name: 'parallax_projector_journal_offset', help: 'Next risk-journal offset to project, per shard (what the rows reflect)', labelNames: ['shard'], registers });
    this.entries = new Counter({ name: 'parallax_projector_entries_total', help: 'Risk-journal entries projected and committed', labelNames: ['shard'], registers });
    this.duplicates = new Counter({ name: 'parallax_projector_duplicates_total', help: 'Redelivered journal entries skipped (already projected)', labelNames: ['shard'], registers });
    this.rows = new Counter({ name: 'parallax_projector_rows_written_total', help: 'Rows written, by table', labelNames: ['table'], registers });
    this.halted = new Gauge({ name: 'parallax_projector_halted', help: '1 while a shard projection is stopped, by reason', labelNames: ['shard', 'reason'], registers });
  }

  halt(shard: number, reason: ProjectorErrorCode): void {
    this.halted.set({ shard: String(shard), reason }, 1);
  }
}

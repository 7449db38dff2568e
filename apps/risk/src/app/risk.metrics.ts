import { secondsSinceGauge } from '@parallax/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RiskShards, RiskShardsObserver, ShardRestore } from '../service/risk-shards.js';
import type { ParkedSettlement, PendingByToken } from '@parallax/risk';
import type { AccountShard, ShardResult } from '../shard/account-shard.js';

/** Prometheus metrics of one risk instance, registered on the app's registry; fed by RiskShards' observer. */
export class RiskMetrics implements RiskShardsObserver {
  readonly inputMessages: Counter<'shard' | 'source'>;
  readonly accepted: Counter<'shard'>;
  readonly rejected: Counter<'shard' | 'reason'>;
  readonly deadLetters: Counter<'shard'>;
  readonly violations: Counter<'shard'>;
  readonly lag: Gauge<'shard' | 'source'>;
  readonly snapshots: Counter<'shard'>;
  readonly snapshotSkipped: Counter<'shard' | 'reason'>;
  readonly snapshotBytes: Histogram;
  readonly restoreFailures: Counter<'shard' | 'reason'>;
  readonly replayedMessages: Counter<'shard'>;
  private readonly lastSnapshotAt = new Map<number, number>();

  constructor(registry: Registry, shards: () => RiskShards | undefined) {
    const registers = [registry];
    const lastSnapshotAt = this.lastSnapshotAt;
    this.inputMessages = new Counter({ name: 'parallax_risk_input_messages_total', help: 'Input messages consumed, by shard and source (requests, chainEvents, accountEvents)', labelNames: ['shard', 'source'], registers });
    this.accepted = new Counter({ name: 'parallax_risk_orders_accepted_total', help: 'New orders funded (held) and forwarded to their market', labelNames: ['shard'], registers });
    this.rejected = new Counter({ name: 'parallax_risk_requests_rejected_total', help: 'Requests refused, by stable reason code (INSUFFICIENT_FUNDS, NONCE_USED, ...)', labelNames: ['shard', 'reason'], registers });
    this.deadLetters = new Counter({ name: 'parallax_risk_dead_letters_total', help: 'Input messages dead-lettered (undecodable or of the wrong type for their source)', labelNames: ['shard'], registers });
    this.violations = new Counter({ name: 'parallax_risk_book_violations_total', help: 'Book reports not applied (a fill beyond the order or worse than signed): an alert', labelNames: ['shard'], registers });
    this.lag = new Gauge({ name: 'parallax_risk_consumer_lag', help: 'Messages between the shard position and the end of its input partition, as of its last batch', labelNames: ['shard', 'source'], registers });
    this.snapshots = new Counter({ name: 'parallax_risk_snapshots_total', help: 'Shard snapshots written', labelNames: ['shard'], registers });
    this.snapshotSkipped = new Counter({ name: 'parallax_risk_snapshots_skipped_total', help: 'Snapshots not written (state too large for one record)', labelNames: ['shard', 'reason'], registers });
    this.snapshotBytes = new Histogram({ name: 'parallax_risk_snapshot_bytes', help: 'Size of written shard snapshots', buckets: [1e3, 1e4, 1e5, 3e5, 9e5], registers });
    this.restoreFailures = new Counter({ name: 'parallax_risk_restore_failures_total', help: 'Shard restores refused (MISSING_SNAPSHOT, UNREADABLE_SNAPSHOT, JOURNAL_GAP, ...)', labelNames: ['shard', 'reason'], registers });
    this.replayedMessages = new Counter({ name: 'parallax_risk_replayed_messages_total', help: 'Input messages replayed from the journal on restore', labelNames: ['shard'], registers });
    secondsSinceGauge({
      name: 'parallax_risk_snapshot_age_seconds',
      help: 'Seconds since the shard last wrote a snapshot (or was restored)',
      label: 'shard',
      since: lastSnapshotAt,
      registers,
    });
    // Per owned shard, read from its engine at scrape time.
    type Fill = (set: (labels: Record<string, string>, v: number) => void, id: number, s: AccountShard) => void;
    const fromShards = (name: string, help: string, labelNames: string[], fill: Fill): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          const owner = shards();
          if (owner === undefined) return;
          for (const id of owner.ownedShards()) {
            const shard = owner.shard(id);
            if (shard === undefined) continue;
            fill(
              (labels, v) => {
                this.set(labels, v);
              },
              id,
              shard,
            );
          }
        },
      });
    };
    const perShard = (name: string, help: string, value: (s: AccountShard) => number): void => {
      fromShards(name, help, ['shard'], (set, id, s) => {
        set({ shard: String(id) }, value(s));
      });
    };
    perShard('parallax_risk_open_orders', 'Open orders holding funds, by shard', (s) => s.engine.openOrderCount);
    perShard('parallax_risk_accounts', 'Accounts known, by shard', (s) => s.engine.accountCount);
    // Settlements applied on chain whose fills the shard has not seen yet (parked): transient while account
    // events lag chain events; an amount that stays is a settlement no fill will explain (an alert).
    // One scan of a shard's accounts serves the five gauges below in a scrape (they are collected one after
    // the other): the scan is O(accounts) on the shard's thread.
    const scans = new WeakMap<object, { changes: number; pending: Map<string, PendingByToken> }>();
    const pendingOf = (s: AccountShard): Map<string, PendingByToken> => {
      const engine = s.engine;
      const changes = engine.changeCount;
      const hit = scans.get(engine);
      if (hit !== undefined && hit.changes === changes) return hit.pending;
      const pending = engine.pendingByToken();
      scans.set(engine, { changes, pending });
      return pending;
    };
    const parked = (name: string, help: string, value: (p: ParkedSettlement & { balances: number }) => number): void => {
      fromShards(name, help, ['shard', 'token'], (set, id, s) => {
        for (const [token, e] of pendingOf(s)) if (e.parked.balances !== 0) set({ shard: String(id), token }, value(e.parked));
      });
    };
    parked('parallax_risk_parked_settlement_base_units', 'Settled on chain before the shard saw the fills (received + paid + fees, base units), by shard and token', (p) =>
      Number(p.received + p.paid + p.fees),
    );
    parked('parallax_risk_parked_settlement_balances', 'Account balances with a settlement waiting for its fills, by shard and token', (p) => p.balances);
    // Skipped fills (FillsSkipped) whose fills the shard has not seen yet: transient like parked settlements.
    fromShards('parallax_risk_parked_skip_balances', 'Account balances with skipped fills waiting for the fills they reverse, by shard and token', ['shard', 'token'], (set, id, s) => {
      for (const [token, e] of pendingOf(s)) if (e.skipped.balances !== 0) set({ shard: String(id), token }, e.skipped.balances);
    });
    // What skipped fills took back beyond an account's free funds and what cancelling its orders released:
    // the exchange is short of it for those accounts until they deposit or receive it (an alert).
    fromShards('parallax_risk_deficit_accounts', 'Accounts owing a deficit (a skipped fill took back funds they had committed), by shard and token', ['shard', 'token'], (set, id, s) => {
      for (const [token, e] of pendingOf(s)) if (e.deficit.balances !== 0) set({ shard: String(id), token }, e.deficit.balances);
    });
    fromShards('parallax_risk_deficit_base_units', 'Total deficit owed by the accounts (base units), by shard and token', ['shard', 'token'], (set, id, s) => {
      for (const [token, e] of pendingOf(s)) if (e.deficit.balances !== 0) set({ shard: String(id), token }, Number(e.deficit.amount));
    });
    new Gauge({
      name: 'parallax_risk_shards_owned',
      help: 'Account shards this instance owns (restored)',
      registers,
      collect() {
        this.set(shards()?.ownedShards().length ?? 0);
      },
    });
  }

  batch(shard: number, source: string, r: ShardResult, lag: number): void {
    const s = String(shard);
    this.inputMessages.inc({ shard: s, source }, r.stats.messages);
    if (r.stats.accepted > 0) this.accepted.inc({ shard: s }, r.stats.accepted);
    for (const [reason, n] of Object.entries(r.stats.rejected)) this.rejected.inc({ shard: s, reason }, n);
    if (r.stats.deadLetters > 0) this.deadLetters.inc({ shard: s }, r.stats.deadLetters);
    if (r.stats.violations.length > 0) this.violations.inc({ shard: s }, r.stats.violations.length);
    this.lag.set({ shard: s, source }, lag);
  }

  snapshot(shard: number, bytes: number, atMs: number): void {
    this.snapshots.inc({ shard: String(shard) });
    this.snapshotBytes.observe(bytes);
    this.lastSnapshotAt.set(shard, atMs);
  }

  snapshotSkippedFor(shard: number, reason: string): void {
    this.snapshotSkipped.inc({ shard: String(shard), reason });
  }

  restored(report: ShardRestore): void {
    this.replayedMessages.inc({ shard: String(report.shard) }, report.replayedMessages);
    this.lastSnapshotAt.set(report.shard, Date.now());
  }

  restoreFailed(shard: number, code: string): void {
    this.restoreFailures.inc({ shard: String(shard), reason: code });
  }

  dropped(shard: number): void {
    this.lastSnapshotAt.delete(shard);
  }
}

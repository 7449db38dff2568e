import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the settlement service, registered on the app's registry. */
export class SettlementMetrics {
  readonly tradesIngested: Counter<'partition'>;
  readonly signedOrdersIngested: Counter<'partition'>;
  readonly duplicatesIgnored: Counter<'kind'>;
  readonly deadLetters: Counter<'topic' | 'reason'>;
  readonly batches: Counter<'status'>;
  readonly batchFills: Histogram;
  readonly gasPerFill: Histogram;
  readonly batchGas: Histogram;
  readonly settlementLatency: Histogram;
  readonly fillsFailed: Counter<'reason'>;
  readonly fillsSettled: Counter;
  readonly fillsWaiting: Gauge;
  readonly fillsWaitingForOrders: Gauge;
  readonly oldestWaitingSeconds: Gauge;
  readonly lastConfirmedBatch: Gauge;
  readonly replacements: Counter;
  readonly rpcErrors: Counter<'operation'>;
  readonly reorgs: Counter;
  readonly halted: Gauge<'reason'>;
  readonly foreignBatches: Counter;
  readonly badRecords: Counter<'reason'>;
  readonly systemFaults: Counter<'reason'>;
  readonly fillsOverdueForOrders: Gauge;
  readonly sequenceAnomalies: Counter<'kind' | 'market'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.tradesIngested = new Counter({
      name: 'parallax_settlement_trades_ingested_total',
      help: 'Trades read from the market events topic and stored (first time only)',
      labelNames: ['partition'],
      registers,
    });
    this.signedOrdersIngested = new Counter({
      name: 'parallax_settlement_signed_orders_ingested_total',
      help: 'Signed orders read from the signed-orders topic and stored (first time only)',
      labelNames: ['partition'],
      registers,
    });
    this.duplicatesIgnored = new Counter({
      name: 'parallax_settlement_duplicates_ignored_total',
      help: 'Redelivered trades or signed orders that were already stored',
      labelNames: ['kind'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'parallax_settlement_dead_letters_total',
      help: 'Input messages that could not be decoded, dead-lettered with their reason',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.batches = new Counter({
      name: 'parallax_settlement_batches_total',
      help: 'Batch transitions: created, submitted, replaced, mined, reverted, confirmed, dropped',
      labelNames: ['status'],
      registers,
    });
    this.batchFills = new Histogram({
      name: 'parallax_settlement_batch_fills',
      help: 'Fills per mined batch',
      buckets: [1, 2, 5, 10, 25, 50, 100, 200, 300, 400, 500, 650, 1000],
      registers,
    });
    this.gasPerFill = new Histogram({
      name: 'parallax_settlement_gas_per_fill',
      help: 'Gas used per fill of a mined batch (whole transaction / fills)',
      buckets: [10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 60_000, 90_000, 130_000, 200_000],
      registers,
    });
    this.batchGas = new Histogram({
      name: 'parallax_settlement_batch_gas',
      help: 'Gas used by a mined batch transaction',
      buckets: [100_000, 250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000, 12_000_000, 16_777_216],
      registers,
    });
    this.settlementLatency = new Histogram({
      name: 'parallax_settlement_latency_seconds',
      help: 'From a fill being stored by the service to its batch being confirmed',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    this.fillsFailed = new Counter({
      name: 'parallax_settlement_fills_failed_total',
      help: 'Fills that cannot be settled, by reason (a trader fault named by the contract, or a bad record)',
      labelNames: ['reason'],
      registers,
    });
    this.fillsSettled = new Counter({
      name: 'parallax_settlement_fills_settled_total',
      help: 'Fills in confirmed batches (a batch the chain lost and that settles again is counted again)',
      registers,
    });
    this.fillsWaiting = new Gauge({
      name: 'parallax_settlement_fills_waiting',
      help: 'Fills stored and not yet in a batch',
      registers,
    });
    this.fillsWaitingForOrders = new Gauge({
      name: 'parallax_settlement_fills_waiting_for_orders',
      help: 'Waiting fills whose signed orders have not all arrived',
      registers,
    });
    this.oldestWaitingSeconds = new Gauge({
      name: 'parallax_settlement_oldest_waiting_fill_seconds',
      help: 'Age of the oldest fill not yet in a batch',
      registers,
    });
    this.lastConfirmedBatch = new Gauge({
      name: 'parallax_settlement_last_confirmed_batch_id',
      help: 'Highest batch id confirmed at the configured depth',
      registers,
    });
    this.replacements = new Counter({
      name: 'parallax_settlement_tx_replacements_total',
      help: 'Stuck settlement transactions re-sent with bumped fees',
      registers,
    });
    this.rpcErrors = new Counter({
      name: 'parallax_settlement_rpc_errors_total',
      help: 'Failed JSON-RPC round trips (retried)',
      labelNames: ['operation'],
      registers,
    });
    this.reorgs = new Counter({
      name: 'parallax_settlement_reorgs_total',
      help: 'Mined batches that left the chain before confirmation and were re-sent',
      registers,
    });
    this.halted = new Gauge({
      name: 'parallax_settlement_halted',
      help: '1 while the loop is halted for the reason (FOREIGN_BATCH, UNKNOWN_BATCHES_ON_CHAIN, SETTLEMENT_WRITER_LOST): page someone',
      labelNames: ['reason'],
      registers,
    });
    this.foreignBatches = new Counter({
      name: 'parallax_settlement_foreign_batches_total',
      help: 'Batches found on chain whose calldata this service did not send',
      registers,
    });
    this.badRecords = new Counter({
      name: 'parallax_settlement_bad_records_total',
      help: 'Stored fills failed because they contradict their signed orders or the market rules',
      labelNames: ['reason'],
      registers,
    });
    this.systemFaults = new Counter({
      name: 'parallax_settlement_system_faults_total',
      help: 'Fills the chain refused for a reason that is not the trader\'s (kept pending and retried)',
      labelNames: ['reason'],
      registers,
    });
    this.fillsOverdueForOrders = new Gauge({
      name: 'parallax_settlement_fills_overdue_for_orders',
      help: 'Fills waiting longer than SIGNED_ORDER_WAIT_MS for a signed order (kept pending)',
      registers,
    });
    this.sequenceAnomalies = new Counter({
      name: 'parallax_settlement_sequence_anomalies_total',
      help: 'Market-events batches that skip sequence numbers (gap) or contradict stored trades (rewind), per market',
      labelNames: ['kind', 'market'],
      registers,
    });
  }
}

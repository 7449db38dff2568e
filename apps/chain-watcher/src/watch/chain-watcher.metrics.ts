import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the chain watcher and its reconciliation, registered on the app's registry. */
export class ChainWatcherMetrics {
  readonly headBlock: Gauge;
  readonly confirmedBlock: Gauge;
  readonly lagBlocks: Gauge;
  readonly events: Counter<'kind'>;
  readonly rpcErrors: Counter<'operation'>;
  readonly fillsSettled: Counter;
  readonly fillsSkipped: Counter;
  readonly fillsSkippedUnattributed: Counter;
  readonly rangeRetries: Counter<'reason'>;
  readonly halted: Gauge<'reason'>;
  readonly drift: Gauge<'token'>;
  readonly driftingAccounts: Gauge<'token'>;
  readonly reconciliations: Counter<'result'>;
  readonly producerReopens: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.headBlock = new Gauge({ name: 'parallax_chain_watcher_head_block', help: 'Latest block number the RPC node reported', registers });
    this.confirmedBlock = new Gauge({
      name: 'parallax_chain_watcher_confirmed_block',
      help: 'Last block whose events are committed to the chain-events topic (with the progress record)',
      registers,
    });
    this.lagBlocks = new Gauge({ name: 'parallax_chain_watcher_lag_blocks', help: 'Head block minus the last committed block', registers });
    this.events = new Counter({
      name: 'parallax_chain_watcher_events_total',
      help: 'Chain events committed to the chain-events topic, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.rpcErrors = new Counter({
      name: 'parallax_chain_watcher_rpc_errors_total',
      help: 'Failed JSON-RPC calls (the poll is retried)',
      labelNames: ['operation'],
      registers,
    });
    this.producerReopens = new Counter({
      name: 'parallax_chain_watcher_producer_reopens_total',
      help: 'Times the chain-events producer was retired by the transport (a commit it could neither finish nor abort) and reopened',
      registers,
    });
    this.fillsSettled = new Counter({ name: 'parallax_chain_watcher_fills_settled_total', help: 'Fills applied on chain (FillsSettled entries)', registers });
    this.fillsSkipped = new Counter({
      name: 'parallax_chain_watcher_fills_skipped_total',
      help: 'Fills the contract skipped for lack of funds (FillsSkipped): each one is a fill the ledger let through unfunded',
      registers,
    });
    this.fillsSkippedUnattributed = new Counter({
      name: 'parallax_chain_watcher_fills_skipped_unattributed_total',
      help: 'Skipped fills whose batch calldata could not be read (not a direct settleBatch call): not mapped to settlementSkipped',
      registers,
    });
    this.rangeRetries = new Counter({
      name: 'parallax_chain_watcher_range_retries_total',
      help: 'Block ranges read again because the chain changed under the read (a reorg in progress)',
      labelNames: ['reason'],
      registers,
    });
    this.halted = new Gauge({
      name: 'parallax_chain_watcher_halted',
      help: '1 while the watcher refuses to go on (a reorg below the confirmation depth, an undecodable log)',
      labelNames: ['reason'],
      registers,
    });
    this.drift = new Gauge({
      name: 'parallax_reconciliation_drift_base_units',
      help: "Per token, the ledger's on-chain balance minus the contract's balanceOf at the same confirmed block, for the account that differs most (0 = every checked account agrees)",
      labelNames: ['token'],
      registers,
    });
    this.driftingAccounts = new Gauge({
      name: 'parallax_reconciliation_drifting_accounts',
      help: 'Per token, accounts whose ledger balance differs from the contract at the last check',
      labelNames: ['token'],
      registers,
    });
    this.reconciliations = new Counter({
      name: 'parallax_reconciliation_checks_total',
      help: 'Account and token balances compared with the contract, by result (match, drift)',
      labelNames: ['result'],
      registers,
    });
  }
}

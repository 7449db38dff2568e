// One account shard's read model as a pure function of the risk journal: the projector re-runs the shard's
// own RiskEngine over the same inputs in the journaled order (AccountShard.replayEntry, exactly what a risk
// restore does), so the balances it writes are the shard's, to the base unit, without a second ledger
// implementation that could drift. After each journal batch it reports the balances that changed since the
// last report and the deposits / withdrawals the batch applied (or refused), with the journal position they
// reflect; the adapter commits them and that position in one database transaction.
import type { TransferKind } from '@parallax/persistence';
import type { BalanceView } from '@parallax/risk';
import { AccountShard, decodeJournalEntry, type AccountShardOptions, type AppliedCommand, type RiskSource, type SourceOffsets } from '@parallax/risk-service';
import type { ConsumedMessage } from '@parallax/transport';
import { ProjectorError } from './projector.errors.js';

export type { TransferKind } from '@parallax/persistence';

const TRANSFER_KINDS: Readonly<Record<string, TransferKind>> = {
  deposit: 'DEPOSIT',
  withdrawalRequested: 'WITHDRAWAL_REQUESTED',
  withdrawalCancelled: 'WITHDRAWAL_CANCELLED',
  withdrawalExecuted: 'WITHDRAWAL_EXECUTED',
};

export interface BalanceRow {
  readonly account: string;
  readonly token: string;
  readonly balance: BalanceView;
}

export interface TransferRow {
  /** Offset of the ChainEventBatch in the shard's chain-events partition and the event's index in it. */
  readonly inputOffset: number;
  readonly eventIndex: number;
  readonly account: string;
  readonly token: string;
  readonly kind: TransferKind;
  readonly amount: bigint;
  /** The risk engine's refusal code, null when applied. */
  readonly refused: string | null;
  readonly loggedAtMs: number;
}

/** Where a shard's projection stands (what the database row holds besides the rows). */
export interface ProjectionPosition {
  /** Next journal offset to project. */
  readonly journalNext: number;
  /** Journal entries applied. */
  readonly journalSeq: number;
  /** Per input source, the first offset not reflected (what the next entry must start at). */
  readonly inputs: SourceOffsets;
}

export interface ProjectionStep extends ProjectionPosition {
  /** Offset of the last journal entry applied (what the rows reflect); -1 when nothing was. */
  readonly journalOffset: number;
  readonly entries: number;
  readonly duplicates: number;
  readonly balances: BalanceRow[];
  readonly transfers: TransferRow[];
}

/** Reads the committed input of one source of the shard in [from, to). */
export type InputReader = (source: RiskSource, from: number, to: number) => Promise<readonly ConsumedMessage[]>;

export class ShardProjection {
  private readonly shardState: AccountShard;
  private next: number;
  /** account|token -> the values last reported (what the database holds). */
  private readonly written = new Map<string, string>();
  private readonly tokens: readonly string[];

  constructor(
    readonly shard: number,
    options: AccountShardOptions,
    restored?: ProjectionPosition & { readonly state: Uint8Array },
  ) {
    if (options.risk.shard !== shard) throw new RangeError(`projection of shard ${shard} with the options of shard ${options.risk.shard}`);
    this.shardState = restored === undefined ? new AccountShard(options) : AccountShard.restore(options, restored);
    this.next = restored?.journalNext ?? 0;
    this.tokens = [...new Set(options.risk.markets.flatMap((m) => [m.baseToken, m.quoteToken]))].sort();
    // The rows in the database are the state's balances (they were committed together).
    this.changedBalances();
  }

  get position(): ProjectionPosition {
    return { journalNext: this.next, journalSeq: this.shardState.journalSeq, inputs: { ...this.shardState.nextOffsets } };
  }

  get stateHash(): string {
    return this.shardState.engine.stateHash();
  }

  snapshot(): Uint8Array {
    return this.shardState.engine.snapshot();
  }

  get engine(): AccountShard['engine'] {
    return this.shardState.engine;
  }

  /**
   * Applies the journal messages of one batch (the shard's partition, offset order). Entries below the
   * projection's position are redeliveries and skipped. A journal record that does not decode, names another
   * shard or does not continue the shard's journal stops the projection with a ProjectorError (its rows stay
   * at the last good entry): a guessed continuation would be a wrong ledger, not a stale one.
   */
  async apply(journal: readonly ConsumedMessage[], read: InputReader): Promise<ProjectionStep> {
    const transfers: TransferRow[] = [];
    let entries = 0;
    let duplicates = 0;
    let journalOffset = -1;
    for (const m of journal) {
      if (m.offset < this.next) {
        duplicates++;
        continue;
      }
      let e;
      try {
        e = decodeJournalEntry(m.value);
      } catch (err) {
        throw new ProjectorError('UNREADABLE_JOURNAL', `shard ${this.shard} journal offset ${m.offset}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (e.shard !== this.shard) throw new ProjectorError('JOURNAL_MISMATCH', `shard ${this.shard} journal offset ${m.offset} is an entry of shard ${e.shard}`);
      const input = await read(e.source, e.from, e.to);
      try {
        this.shardState.replayEntry(e, input, e.source === 'chainEvents' ? (a) => { this.recordTransfer(a, transfers); } : undefined);
      } catch (err) {
        if (err instanceof RangeError) throw new ProjectorError('JOURNAL_GAP', `shard ${this.shard} journal offset ${m.offset}: ${err.message}`);
        throw err;
      }
      this.next = m.offset + 1;
      journalOffset = m.offset;
      entries++;
    }
    return { ...this.position, journalOffset, entries, duplicates, balances: entries > 0 ? this.changedBalances() : [], transfers };
  }

  private recordTransfer(a: AppliedCommand, out: TransferRow[]): void {
    const c = a.command;
    const kind = TRANSFER_KINDS[c.type];
    if (kind === undefined || !('token' in c) || !('amount' in c)) return;
    out.push({
      inputOffset: a.message.offset,
      eventIndex: a.index,
      account: c.account,
      token: c.token,
      kind,
      amount: c.amount,
      refused: a.outcome.ok ? null : a.outcome.code,
      loggedAtMs: a.message.timestamp,
    });
  }

  /** Every (account, token) whose balance differs from the last report (all of them the first time). */
  private changedBalances(): BalanceRow[] {
    const rows: BalanceRow[] = [];
    const engine = this.shardState.engine;
    for (const account of engine.accountAddresses()) {
      for (const token of this.tokens) {
        const b = engine.balance(account, token as `0x${string}`);
        const key = `${account}|${token}`;
        const values = balanceKey(b);
        const before = this.written.get(key);
        if (before === values || (before === undefined && values === ZERO)) continue;
        this.written.set(key, values);
        rows.push({ account, token, balance: b });
      }
    }
    return rows;
  }
}

const balanceKey = (b: BalanceView): string =>
  [b.onchain, b.available, b.heldOrders, b.heldWithdrawals, b.withdrawalShortfall, b.unsettledIn, b.unsettledOut, b.feesOwed, b.deficit].join(',');
const ZERO = '0,0,0,0,0,0,0,0,0';

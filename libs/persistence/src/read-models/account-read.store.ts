// The read side of the account read model (prisma/schema.prisma: account_balances, account_transfers): one
// definition of the queries for the projector, which writes the rows (apps/projector ProjectionStore extends
// this class), and for a gateway that only reads them (apps/gateway, with DATABASE_URL). Eventually consistent:
// each row names the risk-journal entry it reflects.
import type { PrismaClient } from '../generated/client.js';
import { bigOfDecimal, intOf } from './read-model-values.js';

export type TransferKind = 'DEPOSIT' | 'WITHDRAWAL_REQUESTED' | 'WITHDRAWAL_CANCELLED' | 'WITHDRAWAL_EXECUTED';

/** One row of account_balances: the risk ledger's fields (libs/risk BalanceView) and the journal entry they reflect. */
export interface BalanceRecord {
  readonly account: string;
  readonly token: string;
  readonly shard: number;
  readonly onchain: bigint;
  readonly available: bigint;
  readonly heldOrders: bigint;
  readonly heldWithdrawals: bigint;
  readonly withdrawalShortfall: bigint;
  readonly unsettledIn: bigint;
  readonly unsettledOut: bigint;
  readonly feesOwed: bigint;
  /** Owed after skipped fills took back committed funds (0 normally): see BalanceView.deficit in @parallax/risk. */
  readonly deficit: bigint;
  readonly journalOffset: number;
  readonly journalSeq: number;
}

export interface TransferRecord {
  readonly shard: number;
  readonly inputOffset: number;
  readonly eventIndex: number;
  readonly account: string;
  readonly token: string;
  readonly kind: TransferKind;
  readonly amount: bigint;
  readonly refused: string | null;
  readonly loggedAt: Date;
  readonly journalOffset: number;
}

export class AccountReadStore {
  constructor(protected readonly prisma: PrismaClient) {}

  /** An account's balances, every token it ever held (addresses lower-case). */
  async balances(account: string): Promise<BalanceRecord[]> {
    const rows = await this.prisma.accountBalance.findMany({ where: { account: account.toLowerCase() }, orderBy: { token: 'asc' } });
    return rows.map((r) => ({
      account: r.account,
      token: r.token,
      shard: r.shard,
      onchain: bigOfDecimal(r.onchain),
      available: bigOfDecimal(r.available),
      heldOrders: bigOfDecimal(r.heldOrders),
      heldWithdrawals: bigOfDecimal(r.heldWithdrawals),
      withdrawalShortfall: bigOfDecimal(r.withdrawalShortfall),
      unsettledIn: bigOfDecimal(r.unsettledIn),
      unsettledOut: bigOfDecimal(r.unsettledOut),
      feesOwed: bigOfDecimal(r.feesOwed),
      deficit: bigOfDecimal(r.deficit),
      journalOffset: intOf(r.journalOffset),
      journalSeq: intOf(r.journalSeq),
    }));
  }

  /** An account's deposits and withdrawals, oldest first, at most `limit`. */
  async transfers(account: string, limit = 500): Promise<TransferRecord[]> {
    const rows = await this.prisma.accountTransfer.findMany({ where: { account: account.toLowerCase() }, orderBy: [{ inputOffset: 'asc' }, { eventIndex: 'asc' }], take: limit });
    return rows.map((r) => ({
      shard: r.shard,
      inputOffset: intOf(r.inputOffset),
      eventIndex: r.eventIndex,
      account: r.account,
      token: r.token,
      kind: r.kind,
      amount: bigOfDecimal(r.amount),
      refused: r.refused,
      loggedAt: r.loggedAt,
      journalOffset: intOf(r.journalOffset),
    }));
  }
}

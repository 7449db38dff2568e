// What GET /v1/account/balances and /transfers read: the projector's read model (apps/projector's
// ProjectionStore satisfies it), handed to the gateway by its launcher in GatewayContext.accountReadModel.
// Eventually consistent: each row says which risk-journal entry it reflects.

export interface AccountBalanceRecord {
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

export interface AccountTransferRecord {
  readonly shard: number;
  readonly inputOffset: number;
  readonly eventIndex: number;
  readonly token: string;
  readonly kind: string;
  readonly amount: bigint;
  readonly refused: string | null;
  readonly loggedAt: Date;
  readonly journalOffset: number;
}

export interface AccountReadModel {
  balances(account: string): Promise<readonly AccountBalanceRecord[]>;
  transfers(account: string, limit: number): Promise<readonly AccountTransferRecord[]>;
}

export const ACCOUNT_READ_MODEL = Symbol('AccountReadModel');

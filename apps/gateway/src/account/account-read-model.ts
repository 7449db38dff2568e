// What GET /v1/account/balances and /transfers read: the projector's read model. Its queries are defined once,
// in libs/persistence's AccountReadStore: the launcher hands the projector's store (which extends it) in
// GatewayContext.accountReadModel, a standalone gateway with DATABASE_URL opens its own (database.ts).
// Eventually consistent: each row says which risk-journal entry it reflects.
import type { AccountReadStore, BalanceRecord, TransferRecord } from '@parallax/persistence';

export type AccountBalanceRecord = BalanceRecord;
export type AccountTransferRecord = TransferRecord;

export type AccountReadModel = Pick<AccountReadStore, 'balances' | 'transfers'>;

export const ACCOUNT_READ_MODEL = Symbol('AccountReadModel');

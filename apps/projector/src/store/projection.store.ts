// The read model's tables (prisma/schema.prisma: projector_shards, account_balances, account_transfers).
// A shard's rows and its journal position commit in one transaction, and the position row is advanced only
// from the position the writer started from: a redelivered batch (below the position) was already skipped by
// the projection, and a second projector instance that projected the same entries finds the row moved and is
// refused (PROJECTOR_FENCED), so no entry is ever counted twice. The reads are libs/persistence's AccountReadStore
// (shared with a gateway that opens the database read-only).
import { AccountReadStore, Prisma } from '@parallax/persistence';
import type { SourceOffsets } from '@parallax/risk-service';
import { ProjectorError } from '../projection/projector.errors.js';
import type { BalanceRow, ProjectionStep, TransferRow } from '../projection/shard-projection.js';

export interface StoredShard {
  readonly shard: number;
  readonly shards: number;
  /** What the rows reflect. */
  readonly journalNext: number;
  readonly journalSeq: number;
  readonly inputs: SourceOffsets;
  /** The engine snapshot and the position it was taken at (at or below the rows' position). */
  readonly snapshot: { readonly journalNext: number; readonly journalSeq: number; readonly inputs: SourceOffsets };
  readonly stateHash: string;
  readonly state: Uint8Array;
}

export type { BalanceRecord, TransferRecord } from '@parallax/persistence';

const ROWS_PER_STATEMENT = 500;
const TX_OPTIONS = { timeout: 60_000, maxWait: 30_000 } as const;
const int = (n: bigint | number): number => Number(n);

/** AccountReadStore's queries (balances, transfers), and the projector's writes of the same tables. */
export class ProjectionStore extends AccountReadStore {
  async load(shard: number): Promise<StoredShard | null> {
    const r = await this.prisma.projectorShard.findUnique({ where: { shard } });
    if (r === null) return null;
    return {
      shard: r.shard,
      shards: r.shards,
      journalNext: int(r.journalNext),
      journalSeq: int(r.journalSeq),
      inputs: { requests: int(r.requestsNext), chainEvents: int(r.chainEventsNext), accountEvents: int(r.accountEventsNext) },
      snapshot: {
        journalNext: int(r.snapshotJournalNext),
        journalSeq: int(r.snapshotJournalSeq),
        inputs: { requests: int(r.snapshotRequestsNext), chainEvents: int(r.snapshotChainEventsNext), accountEvents: int(r.snapshotAccountEventsNext) },
      },
      stateHash: r.stateHash,
      state: new Uint8Array(r.state),
    };
  }

  /**
   * Commits one projected batch: its rows and the new position, in one transaction, if the stored position is
   * still `from` (null: no row yet), with the engine snapshot at that position when `state` is given (required
   * for the first row). Returns the rows written.
   */
  async commit(
    shard: number,
    shards: number,
    from: number | null,
    step: ProjectionStep,
    state: { readonly bytes: Uint8Array; readonly hash: string } | undefined,
  ): Promise<{ balances: number; transfers: number }> {
    const position = {
      shards,
      journalNext: BigInt(step.journalNext),
      journalSeq: BigInt(step.journalSeq),
      requestsNext: BigInt(step.inputs.requests),
      chainEventsNext: BigInt(step.inputs.chainEvents),
      accountEventsNext: BigInt(step.inputs.accountEvents),
    };
    const snapshot =
      state === undefined
        ? undefined
        : {
            snapshotJournalNext: position.journalNext,
            snapshotJournalSeq: position.journalSeq,
            snapshotRequestsNext: position.requestsNext,
            snapshotChainEventsNext: position.chainEventsNext,
            snapshotAccountEventsNext: position.accountEventsNext,
            stateHash: state.hash,
            state: new Uint8Array(state.bytes),
          };
    return this.prisma.$transaction(async (tx) => {
      if (from === null) {
        if (snapshot === undefined) throw new RangeError(`shard ${shard}: the first row needs the engine snapshot`);
        const created = await tx.projectorShard.createMany({ data: [{ shard, ...position, ...snapshot }], skipDuplicates: true });
        if (created.count !== 1) throw new ProjectorError('PROJECTOR_FENCED', `shard ${shard}: another projector wrote the shard's first position`);
      } else {
        const moved = await tx.projectorShard.updateMany({ where: { shard, journalNext: BigInt(from) }, data: { ...position, ...snapshot } });
        if (moved.count !== 1) throw new ProjectorError('PROJECTOR_FENCED', `shard ${shard}: the stored position is no longer ${from} (another projector advanced it)`);
      }
      let balances = 0;
      for (let i = 0; i < step.balances.length; i += ROWS_PER_STATEMENT) {
        balances += await tx.$executeRaw(upsertBalances(shard, step, step.balances.slice(i, i + ROWS_PER_STATEMENT)));
      }
      let transfers = 0;
      for (let i = 0; i < step.transfers.length; i += ROWS_PER_STATEMENT) {
        transfers += await tx.$executeRaw(insertTransfers(shard, step, step.transfers.slice(i, i + ROWS_PER_STATEMENT)));
      }
      return { balances, transfers };
    }, TX_OPTIONS);
  }
}

const num = (v: bigint): Prisma.Sql => Prisma.sql`${v.toString()}::numeric`;

function upsertBalances(shard: number, step: ProjectionStep, rows: readonly BalanceRow[]): Prisma.Sql {
  const values = rows.map((r) => {
    const b = r.balance;
    return Prisma.sql`(${r.account}, ${r.token}, ${shard}, ${num(b.onchain)}, ${num(b.available)}, ${num(b.heldOrders)}, ${num(b.heldWithdrawals)},
      ${num(b.withdrawalShortfall)}, ${num(b.unsettledIn)}, ${num(b.unsettledOut)}, ${num(b.feesOwed)}, ${num(b.deficit)}, ${BigInt(step.journalOffset)}, ${BigInt(step.journalSeq)})`;
  });
  return Prisma.sql`
    INSERT INTO account_balances (account, token, shard, onchain, available, held_orders, held_withdrawals, withdrawal_shortfall,
      unsettled_in, unsettled_out, fees_owed, deficit, journal_offset, journal_seq)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (account, token) DO UPDATE SET shard = EXCLUDED.shard, onchain = EXCLUDED.onchain, available = EXCLUDED.available,
      held_orders = EXCLUDED.held_orders, held_withdrawals = EXCLUDED.held_withdrawals, withdrawal_shortfall = EXCLUDED.withdrawal_shortfall,
      unsettled_in = EXCLUDED.unsettled_in, unsettled_out = EXCLUDED.unsettled_out, fees_owed = EXCLUDED.fees_owed, deficit = EXCLUDED.deficit,
      journal_offset = EXCLUDED.journal_offset, journal_seq = EXCLUDED.journal_seq`;
}

function insertTransfers(shard: number, step: ProjectionStep, rows: readonly TransferRow[]): Prisma.Sql {
  const values = rows.map(
    (t) =>
      Prisma.sql`(${shard}, ${BigInt(t.inputOffset)}, ${t.eventIndex}, ${t.account}, ${t.token}, ${t.kind}::"TransferKind", ${num(t.amount)}, ${t.refused},
        ${new Date(t.loggedAtMs)}, ${BigInt(step.journalOffset)})`,
  );
  return Prisma.sql`
    INSERT INTO account_transfers (shard, input_offset, event_index, account, token, kind, amount, refused, logged_at, journal_offset)
    VALUES ${Prisma.join(values)}
    ON CONFLICT (shard, input_offset, event_index) DO NOTHING`;
}

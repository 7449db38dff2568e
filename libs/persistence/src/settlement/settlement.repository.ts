// Persistence of apps/settlement: signed orders, fills, on-chain batches and the journal of their broadcasts.
//
// Callers see plain TypeScript: bigint for on-chain amounts and ids, number for market ids, `0x` strings for
// hex. Decimal(39,0) columns (uint128) cross the boundary as decimal strings, never through Number. Every
// state change that touches several rows is one database transaction, and fill transitions are conditional
// on the expected status, so two writers can never both take the same fill.
import type { Prisma, PrismaClient, SettlementBatch, SettlementFill, SettlementOrder, SettlementTx } from '../generated/client.js';
import type { Side, SettlementBatchStatus, SettlementFillStatus } from '../generated/enums.js';
import { PersistenceError } from '../persistence.errors.js';
import { isUniqueConstraintViolation } from '../prisma-errors.js';

export type Hex = `0x${string}`;

/** A trader-signed order, as the settlement contract verifies it. */
export interface SettlementOrderRecord {
  readonly marketId: number;
  readonly orderId: bigint;
  readonly accountId: bigint;
  /** EVM address; stored lower-case. */
  readonly trader: Hex;
  readonly isBuy: boolean;
  /** uint128, contract price units. */
  readonly price: bigint;
  /** uint128, base units. */
  readonly size: bigint;
  /** uint64, unique per trader. */
  readonly nonce: bigint;
  /** Millionths. */
  readonly maxFeeRate: number;
  /** Unix seconds. */
  readonly expiry: bigint;
  /** 0x + 65 bytes; stored lower-case. */
  readonly signature: Hex;
}

/** A fill's identity: its trade event's market and per-market sequence. */
export interface FillKey {
  readonly marketId: number;
  readonly seq: bigint;
}

/** A trade to settle. */
export interface SettlementFillRecord extends FillKey {
  readonly makerOrderId: bigint;
  readonly takerOrderId: bigint;
  /** The trade's accounts as the engine reported them (undefined only on rows stored before they were kept). */
  readonly makerAccountId?: bigint | undefined;
  readonly takerAccountId?: bigint | undefined;
  readonly takerSide: Side;
  readonly priceTicks: bigint;
  readonly sizeLots: bigint;
  /** Engine logical time of the trade. */
  readonly ts: bigint;
}

/** A stored fill with its two signed orders (undefined while an order has not arrived). */
export interface PendingFill extends SettlementFillRecord {
  /** Arrival order (FIFO). */
  readonly id: bigint;
  readonly status: SettlementFillStatus;
  readonly createdAt: Date;
  readonly maker: SettlementOrderRecord | undefined;
  readonly taker: SettlementOrderRecord | undefined;
}

/** A fill excluded for good, with a stable reason code (<= 64 characters) and an optional free-text detail. */
export interface FailedFill extends FillKey {
  readonly reason: string;
  readonly detail?: string | undefined;
}

export interface SettledFill extends SettlementFillRecord {
  readonly id: bigint;
  readonly batchId: bigint;
}

export interface PendingStats {
  readonly count: number;
  readonly oldestCreatedAt: Date | undefined;
  /** PENDING fills of which the maker or the taker order is not stored yet. */
  readonly waitingForOrders: number;
}

export interface NewBatch {
  /** The contract's batch id (lastBatchId + 1). */
  readonly id: bigint;
  readonly fills: readonly FillKey[];
  readonly orderCount: number;
  readonly gasLimit: bigint;
  /** settleBatch calldata. */
  readonly data: Uint8Array;
}

export interface BatchContents {
  /** Fills that stay in the batch. */
  readonly fills: readonly FillKey[];
  readonly orderCount: number;
  readonly gasLimit: bigint;
  readonly data: Uint8Array;
  /** Fills of the batch excluded for good. */
  readonly failed: readonly FailedFill[];
  /** Fills of the batch sent back to PENDING (they keep their place in the FIFO). */
  readonly released: readonly FillKey[];
}

export interface BatchRow {
  readonly id: bigint;
  readonly status: SettlementBatchStatus;
  readonly fillCount: number;
  readonly orderCount: number;
  readonly gasLimit: bigint;
  readonly data: Uint8Array;
  /** The mined transaction once mined, else the latest broadcast. */
  readonly txHash: Hex | undefined;
  readonly nonce: number | undefined;
  readonly blockNumber: bigint | undefined;
  readonly blockHash: Hex | undefined;
  readonly gasUsed: bigint | undefined;
  readonly effectiveGasPrice: bigint | undefined;
  readonly createdAt: Date;
  readonly submittedAt: Date | undefined;
  readonly minedAt: Date | undefined;
  readonly confirmedAt: Date | undefined;
}

export interface Broadcast {
  readonly hash: Hex;
  readonly nonce: number;
  readonly gasLimit: bigint;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  /** Wall clock of the send, ms since the epoch. */
  readonly sentAtMs: number;
}

export type BroadcastRow = Broadcast;

export interface MinedReceipt {
  readonly hash: Hex;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly gasUsed: bigint;
  readonly effectiveGasPrice: bigint;
  /** Wall clock when the receipt was seen, ms since the epoch. */
  readonly atMs: number;
}

export type FillCounts = Record<SettlementFillStatus, number>;

type Tx = Prisma.TransactionClient;

/** Interactive transactions here touch at most a few thousand rows; PGlite is slower than a server. */
const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;
/** Rows per INSERT: 12 parameters an order stays far below PostgreSQL's 65,535 bind parameters. */
const INSERT_CHUNK = 1_000;
const OPEN_STATUSES: SettlementBatchStatus[] = ['CREATED', 'SUBMITTED', 'MINED'];

const toDecimal = (value: bigint): string => value.toString();
/** Decimal(39,0) -> bigint through its exact decimal string (toFixed never uses exponent notation). */
const fromDecimal = (value: Prisma.Decimal): bigint => BigInt(value.toFixed());
const keyOf = (marketId: number, id: bigint): string => `${marketId}:${id.toString()}`;

function orderFromRow(r: SettlementOrder): SettlementOrderRecord {
  return {
    marketId: r.marketId,
    orderId: r.orderId,
    accountId: r.accountId,
    trader: r.trader as Hex,
    isBuy: r.isBuy,
    price: fromDecimal(r.price),
    size: fromDecimal(r.size),
    nonce: fromDecimal(r.nonce),
    maxFeeRate: r.maxFeeRate,
    expiry: r.expiry,
    signature: r.signature as Hex,
  };
}

function fillFromRow(r: SettlementFill): SettlementFillRecord {
  return {
    marketId: r.marketId,
    seq: r.seq,
    makerOrderId: r.makerOrderId,
    takerOrderId: r.takerOrderId,
    makerAccountId: r.makerAccountId ?? undefined,
    takerAccountId: r.takerAccountId ?? undefined,
    takerSide: r.takerSide,
    priceTicks: r.priceTicks,
    sizeLots: r.sizeLots,
    ts: r.ts,
  };
}

function batchFromRow(r: SettlementBatch): BatchRow {
  return {
    id: r.id,
    status: r.status,
    fillCount: r.fillCount,
    orderCount: r.orderCount,
    gasLimit: r.gasLimit,
    data: new Uint8Array(r.data),
    txHash: (r.txHash ?? undefined) as Hex | undefined,
    nonce: r.nonce ?? undefined,
    blockNumber: r.blockNumber ?? undefined,
    blockHash: (r.blockHash ?? undefined) as Hex | undefined,
    gasUsed: r.gasUsed ?? undefined,
    effectiveGasPrice: r.effectiveGasPrice === null ? undefined : fromDecimal(r.effectiveGasPrice),
    createdAt: r.createdAt,
    submittedAt: r.submittedAt ?? undefined,
    minedAt: r.minedAt ?? undefined,
    confirmedAt: r.confirmedAt ?? undefined,
  };
}

function broadcastFromRow(r: SettlementTx): BroadcastRow {
  return {
    hash: r.hash as Hex,
    nonce: r.nonce,
    gasLimit: r.gasLimit,
    maxFeePerGas: fromDecimal(r.maxFeePerGas),
    maxPriorityFeePerGas: fromDecimal(r.maxPriorityFeePerGas),
    sentAtMs: r.sentAt.getTime(),
  };
}

/** The keys without repeats; a fill listed twice (in one list or across lists) is a caller bug. */
function distinctKeys(...lists: (readonly FillKey[])[]): void {
  const seen = new Set<string>();
  for (const list of lists) {
    for (const k of list) {
      const key = keyOf(k.marketId, k.seq);
      if (seen.has(key)) throw new PersistenceError('SETTLEMENT_INVALID_REQUEST', `Fill ${key} is listed more than once`);
      seen.add(key);
    }
  }
}

/** WHERE (market, seq) IN keys, as one OR per market of `seq IN (...)`. */
/** A signed order's identity. */
export interface OrderKey {
  readonly marketId: number;
  readonly orderId: bigint;
}

/** The key ordersByKey's map uses for (market, orderId). */
export function orderRowKey(marketId: number, orderId: bigint): string {
  return keyOf(marketId, orderId);
}

function groupOrderIds(keys: readonly OrderKey[]): Map<number, bigint[]> {
  const byMarket = new Map<number, bigint[]>();
  for (const k of keys) {
    const ids = byMarket.get(k.marketId);
    if (ids) ids.push(k.orderId);
    else byMarket.set(k.marketId, [k.orderId]);
  }
  return byMarket;
}

function whereOrderKeys(keys: readonly OrderKey[]): Prisma.SettlementOrderWhereInput {
  return { OR: [...groupOrderIds(keys)].map(([marketId, ids]) => ({ marketId, orderId: { in: ids } })) };
}

function whereKeys(keys: readonly FillKey[]): Prisma.SettlementFillWhereInput {
  const byMarket = new Map<number, bigint[]>();
  for (const k of keys) {
    const seqs = byMarket.get(k.marketId);
    if (seqs) seqs.push(k.seq);
    else byMarket.set(k.marketId, [k.seq]);
  }
  return { OR: [...byMarket].map(([marketId, seqs]) => ({ marketId, seq: { in: seqs } })) };
}

/**
 * Moves the listed fills that match `from` with `data`; all of them or none (the caller's transaction
 * rolls back on the thrown conflict).
 */
async function transition(
  tx: Tx,
  keys: readonly FillKey[],
  from: Prisma.SettlementFillWhereInput,
  data: Prisma.SettlementFillUncheckedUpdateManyInput,
  expected: string,
): Promise<void> {
  if (keys.length === 0) return;
  const { count } = await tx.settlementFill.updateMany({ where: { AND: [whereKeys(keys), from] }, data });
  if (count !== keys.length) {
    throw new PersistenceError(
      'SETTLEMENT_FILL_CONFLICT',
      `${String(keys.length - count)} of ${String(keys.length)} fills are not ${expected} (taken by another writer, or unknown)`,
    );
  }
}

/** FAILED with reason/detail; one UPDATE per distinct (reason, detail), which are few in practice. */
async function failInTx(tx: Tx, failed: readonly FailedFill[], from: Prisma.SettlementFillWhereInput, expected: string): Promise<void> {
  const groups = new Map<string, { reason: string; detail: string | null; keys: FillKey[] }>();
  for (const f of failed) {
    const detail = f.detail ?? null;
    const group = JSON.stringify([f.reason, detail]);
    const entry = groups.get(group);
    if (entry) entry.keys.push(f);
    else groups.set(group, { reason: f.reason, detail, keys: [f] });
  }
  for (const { reason, detail, keys } of groups.values()) {
    await transition(tx, keys, from, { status: 'FAILED', batchId: null, failureReason: reason, failureDetail: detail }, expected);
  }
}

async function lockBatch(tx: Tx, batchId: bigint): Promise<SettlementBatch> {
  // FOR UPDATE: state checks below must not race a concurrent transition of the same batch.
  await tx.$executeRaw`SELECT 1 FROM settlement_batches WHERE id = ${batchId} FOR UPDATE`;
  const batch = await tx.settlementBatch.findUnique({ where: { id: batchId } });
  if (!batch) throw new PersistenceError('SETTLEMENT_BATCH_NOT_FOUND', `No settlement batch ${batchId.toString()}`);
  return batch;
}

function notConfirmed(batch: SettlementBatch, what: string): void {
  if (batch.status === 'CONFIRMED') {
    throw new PersistenceError('SETTLEMENT_BATCH_STATE', `Batch ${batch.id.toString()} is CONFIRMED: cannot ${what}`);
  }
}

/** Clears everything a broadcast or a block wrote on a batch. */
const UNSENT = {
  txHash: null,
  nonce: null,
  blockNumber: null,
  blockHash: null,
  gasUsed: null,
  effectiveGasPrice: null,
  submittedAt: null,
  minedAt: null,
  confirmedAt: null,
} as const;

const UNMINED = { blockNumber: null, blockHash: null, gasUsed: null, effectiveGasPrice: null, minedAt: null } as const;

/** A fill's settlement as the API shows it (SettlementRepository.fillSettlements). */
export interface FillSettlementView {
  readonly marketId: number;
  readonly seq: number;
  readonly status: 'pending' | 'batched' | 'settled' | 'failed';
  readonly batchId: bigint | null;
  readonly txHash: string | null;
  /** The batch's gasUsed / fillCount, once mined. */
  readonly gasShare: bigint | null;
  /** gasShare x effectiveGasPrice (wei), once mined. */
  readonly feeShareWei: bigint | null;
  readonly failureReason: string | null;
}

const FILL_STATUS_VIEW = { PENDING: 'pending', BATCHED: 'batched', SETTLED: 'settled', FAILED: 'failed' } as const;

export class SettlementRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores signed orders; ones already stored (market, orderId) are skipped. Returns the rows inserted. */
  async saveOrders(orders: readonly SettlementOrderRecord[]): Promise<number> {
    // One INSERT ... SELECT FROM unnest(arrays) per chunk: ~10x faster than createMany, whose per-row,
    // per-column parameters and Decimal conversions cost ~0.4 ms a row (2,600 signed orders/s) here.
    let inserted = 0;
    for (let i = 0; i < orders.length; i += INSERT_CHUNK) {
      const chunk = orders.slice(i, i + INSERT_CHUNK);
      const col = <T>(f: (o: SettlementOrderRecord) => T): T[] => chunk.map(f);
      inserted += await this.prisma.$executeRaw`
        INSERT INTO settlement_orders (market_id, order_id, account_id, trader, is_buy, price, size, nonce, max_fee_rate, expiry, signature)
        SELECT * FROM unnest(
          ${col((o) => o.marketId)}::int[], ${col((o) => o.orderId.toString())}::text[]::bigint[],
          ${col((o) => o.accountId.toString())}::text[]::bigint[], ${col((o) => o.trader.toLowerCase())}::text[],
          ${col((o) => o.isBuy)}::boolean[], ${col((o) => o.price.toString())}::text[]::numeric[],
          ${col((o) => o.size.toString())}::text[]::numeric[], ${col((o) => o.nonce.toString())}::text[]::numeric[],
          ${col((o) => o.maxFeeRate)}::int[], ${col((o) => o.expiry.toString())}::text[]::bigint[],
          ${col((o) => o.signature.toLowerCase())}::text[])
        ON CONFLICT DO NOTHING`;
    }
    return inserted;
  }

  /** Stores fills as PENDING; ones already stored (market, seq) are skipped whatever their state. Returns the rows inserted. */
  async saveFills(fills: readonly SettlementFillRecord[]): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < fills.length; i += INSERT_CHUNK) {
      const chunk = fills.slice(i, i + INSERT_CHUNK);
      const big = (f: (x: SettlementFillRecord) => bigint): string[] => chunk.map((x) => f(x).toString());
      inserted += await this.prisma.$executeRaw`
        INSERT INTO settlement_fills (market_id, seq, maker_order_id, taker_order_id, maker_account_id, taker_account_id, taker_side, price_ticks, size_lots, ts)
        SELECT * FROM unnest(
          ${chunk.map((x) => x.marketId)}::int[], ${big((x) => x.seq)}::text[]::bigint[],
          ${big((x) => x.makerOrderId)}::text[]::bigint[], ${big((x) => x.takerOrderId)}::text[]::bigint[],
          ${chunk.map((x) => x.makerAccountId?.toString() ?? null)}::text[]::bigint[], ${chunk.map((x) => x.takerAccountId?.toString() ?? null)}::text[]::bigint[],
          ${chunk.map((x) => x.takerSide)}::text[]::side[], ${big((x) => x.priceTicks)}::text[]::bigint[],
          ${big((x) => x.sizeLots)}::text[]::bigint[], ${big((x) => x.ts)}::text[]::bigint[])
        ON CONFLICT DO NOTHING`;
    }
    return inserted;
  }

  /** Up to `limit` PENDING fills, oldest first, with their signed orders (two queries). */
  async pendingFills(limit: number): Promise<PendingFill[]> {
    const rows = await this.prisma.settlementFill.findMany({ where: { status: 'PENDING' }, orderBy: { id: 'asc' }, take: limit });
    return this.withOrders(rows);
  }

  /**
   * PENDING fills split by whether both signed orders are stored: `ready` (up to `limit`, FIFO) can be batched,
   * `waiting` (up to `limit`, FIFO) cannot yet, so fills waiting for an order never hide the ready fills behind
   * them. Reads the queue page by page (by id) and joins the orders in memory: a SQL join here was planned as a
   * nested loop on a fresh table (no statistics yet) and took ~1 s for 1,000 of 5,000 pending fills.
   * At most `maxScan` fills are looked at per call.
   */
  async pendingFillsByReadiness(limit: number, maxScan = limit * 20): Promise<{ ready: PendingFill[]; waiting: PendingFill[] }> {
    const ready: PendingFill[] = [];
    const waiting: PendingFill[] = [];
    let after = -1n;
    for (let scanned = 0; scanned < maxScan && ready.length < limit; ) {
      const rows = await this.prisma.settlementFill.findMany({
        where: { status: 'PENDING', id: { gt: after } },
        orderBy: { id: 'asc' },
        take: limit,
      });
      if (rows.length === 0) break;
      scanned += rows.length;
      after = rows[rows.length - 1]!.id;
      for (const f of await this.withOrders(rows)) {
        if (f.maker !== undefined && f.taker !== undefined) {
          if (ready.length < limit) ready.push(f);
        } else if (waiting.length < limit) {
          waiting.push(f);
        }
      }
      if (rows.length < limit) break;
    }
    return { ready, waiting };
  }

  async pendingStats(): Promise<PendingStats> {
    const rows = await this.prisma.$queryRaw<{ count: number | bigint; oldest: Date | null; waiting: number | bigint }[]>`
      SELECT COUNT(*)::int AS count,
             MIN(f.created_at) AS oldest,
             (COUNT(*) FILTER (WHERE
                NOT EXISTS (SELECT 1 FROM settlement_orders o WHERE o.market_id = f.market_id AND o.order_id = f.maker_order_id)
                OR NOT EXISTS (SELECT 1 FROM settlement_orders o WHERE o.market_id = f.market_id AND o.order_id = f.taker_order_id)))::int AS waiting
      FROM settlement_fills f
      WHERE f.status = 'PENDING'`;
    const row = rows[0];
    return {
      count: Number(row?.count ?? 0),
      oldestCreatedAt: row?.oldest ? new Date(row.oldest) : undefined,
      waitingForOrders: Number(row?.waiting ?? 0),
    };
  }

  /**
   * One transaction: the batch (CREATED), its fills PENDING -> BATCHED, `failed` PENDING -> FAILED. A listed
   * fill that is not PENDING throws SETTLEMENT_FILL_CONFLICT, an existing id SETTLEMENT_BATCH_EXISTS; either
   * way nothing changes.
   */
  async createBatch(batch: NewBatch, failed: readonly FailedFill[] = []): Promise<void> {
    distinctKeys(batch.fills, failed);
    if (batch.fills.length === 0) {
      throw new PersistenceError('SETTLEMENT_INVALID_REQUEST', `Batch ${batch.id.toString()} has no fill (use failFills)`);
    }
    await this.prisma.$transaction(async (tx) => {
      try {
        await tx.settlementBatch.create({
          data: {
            id: batch.id,
            status: 'CREATED',
            fillCount: batch.fills.length,
            orderCount: batch.orderCount,
            gasLimit: batch.gasLimit,
            data: new Uint8Array(batch.data),
          },
        });
      } catch (error) {
        if (isUniqueConstraintViolation(error)) {
          throw new PersistenceError('SETTLEMENT_BATCH_EXISTS', `Settlement batch ${batch.id.toString()} exists already`, { cause: error });
        }
        throw error;
      }
      await transition(tx, batch.fills, { status: 'PENDING' }, { status: 'BATCHED', batchId: batch.id }, 'PENDING');
      await failInTx(tx, failed, { status: 'PENDING' }, 'PENDING');
    }, TX_OPTIONS);
  }

  /** PENDING fills -> FAILED (again FAILED: reason updated). Any other listed fill: SETTLEMENT_FILL_CONFLICT, nothing changes. */
  async failFills(failed: readonly FailedFill[]): Promise<void> {
    distinctKeys(failed);
    if (failed.length === 0) return;
    await this.prisma.$transaction((tx) => failInTx(tx, failed, { status: { in: ['PENDING', 'FAILED'] } }, 'PENDING or FAILED'), TX_OPTIONS);
  }

  /**
   * Journals a broadcast (before it is sent) and marks the batch SUBMITTED with this hash and nonce, unless
   * it is MINED or CONFIRMED already. Re-recording a journaled hash changes nothing.
   */
  async recordBroadcast(batchId: bigint, broadcast: Broadcast): Promise<void> {
    const hash = broadcast.hash.toLowerCase();
    await this.prisma.$transaction(async (tx) => {
      await lockBatch(tx, batchId);
      const { count } = await tx.settlementTx.createMany({
        data: [
          {
            batchId,
            hash,
            nonce: broadcast.nonce,
            gasLimit: broadcast.gasLimit,
            maxFeePerGas: toDecimal(broadcast.maxFeePerGas),
            maxPriorityFeePerGas: toDecimal(broadcast.maxPriorityFeePerGas),
            sentAt: new Date(broadcast.sentAtMs),
          },
        ],
        skipDuplicates: true,
      });
      if (count === 0) {
        const existing = await tx.settlementTx.findUnique({ where: { hash }, select: { batchId: true } });
        if (existing?.batchId !== batchId) {
          throw new PersistenceError('SETTLEMENT_TX_CONFLICT', `Transaction ${hash} is journaled for batch ${String(existing?.batchId)}`);
        }
        return;
      }
      await tx.settlementBatch.updateMany({
        where: { id: batchId, status: { in: ['CREATED', 'SUBMITTED'] } },
        data: { status: 'SUBMITTED', txHash: hash, nonce: broadcast.nonce },
      });
      await tx.settlementBatch.updateMany({ where: { id: batchId, submittedAt: null }, data: { submittedAt: new Date(broadcast.sentAtMs) } });
    }, TX_OPTIONS);
  }

  /** The journaled broadcasts of the batch's current contents (not retired), in sent order. */
  async broadcasts(batchId: bigint): Promise<BroadcastRow[]> {
    const rows = await this.prisma.settlementTx.findMany({ where: { batchId, retiredAt: null }, orderBy: { id: 'asc' } });
    return rows.map(broadcastFromRow);
  }

  /** Every broadcast ever journaled for the batch, retired ones included, in sent order (audit). */
  async journal(batchId: bigint): Promise<(BroadcastRow & { readonly retired: boolean })[]> {
    const rows = await this.prisma.settlementTx.findMany({ where: { batchId }, orderBy: { id: 'asc' } });
    return rows.map((r) => ({ ...broadcastFromRow(r), retired: r.retiredAt !== null }));
  }

  /**
   * Of `fills`, the ones stored under the same (market, seq) with different contents: a trade event that
   * contradicts one already stored (a rewound or forged market-events history). Redeliveries match.
   */
  async contradictingFills(fills: readonly SettlementFillRecord[]): Promise<{ readonly incoming: SettlementFillRecord; readonly stored: SettlementFillRecord }[]> {
    if (fills.length === 0) return [];
    const rows = await this.prisma.settlementFill.findMany({ where: whereKeys(fills) });
    const byKey = new Map(rows.map((r) => [keyOf(r.marketId, r.seq), fillFromRow(r)]));
    const out: { incoming: SettlementFillRecord; stored: SettlementFillRecord }[] = [];
    for (const f of fills) {
      const stored = byKey.get(keyOf(f.marketId, f.seq));
      if (stored === undefined) continue;
      const same =
        stored.makerOrderId === f.makerOrderId &&
        stored.takerOrderId === f.takerOrderId &&
        stored.takerSide === f.takerSide &&
        stored.priceTicks === f.priceTicks &&
        stored.sizeLots === f.sizeLots &&
        (stored.makerAccountId === undefined || stored.makerAccountId === f.makerAccountId) &&
        (stored.takerAccountId === undefined || stored.takerAccountId === f.takerAccountId);
      if (!same) out.push({ incoming: f, stored });
    }
    return out;
  }

  /** The stored signed orders among `keys` (market, orderId), keyed by orderRowKey. */
  async ordersByKey(keys: readonly OrderKey[]): Promise<Map<string, SettlementOrderRecord>> {
    if (keys.length === 0) return new Map();
    const orders = await this.prisma.settlementOrder.findMany({ where: whereOrderKeys(keys) });
    return new Map(orders.map((o) => [keyOf(o.marketId, o.orderId), orderFromRow(o)]));
  }

  /** PENDING fills whose maker or taker order is one of `keys` (market, orderId). */
  async pendingFillsOfOrders(keys: readonly OrderKey[]): Promise<SettlementFillRecord[]> {
    if (keys.length === 0) return [];
    const byMarket = groupOrderIds(keys);
    const rows = await this.prisma.settlementFill.findMany({
      where: {
        status: 'PENDING',
        OR: [...byMarket].flatMap(([marketId, ids]) => [
          { marketId, makerOrderId: { in: ids } },
          { marketId, takerOrderId: { in: ids } },
        ]),
      },
    });
    return rows.map(fillFromRow);
  }

  /** The last market-events sequence stored per market (settlement's continuity check). */
  async sequenceCursors(marketIds: readonly number[]): Promise<Map<number, bigint>> {
    if (marketIds.length === 0) return new Map();
    const rows = await this.prisma.settlementMarketCursor.findMany({ where: { marketId: { in: [...marketIds] } } });
    return new Map(rows.map((r) => [r.marketId, r.lastSeq]));
  }

  /** Raises each market's cursor to `lastSeq` (never lowers it: a rewind is reported, not recorded). */
  async advanceSequenceCursors(cursors: ReadonlyMap<number, bigint>): Promise<void> {
    if (cursors.size === 0) return;
    const entries = [...cursors];
    await this.prisma.$executeRaw`
      INSERT INTO settlement_market_cursors (market_id, last_seq, updated_at)
      SELECT m, s, now() FROM unnest(${entries.map(([m]) => m)}::int[], ${entries.map(([, s]) => s.toString())}::text[]::bigint[]) AS t(m, s)
      ON CONFLICT (market_id) DO UPDATE SET last_seq = GREATEST(settlement_market_cursors.last_seq, EXCLUDED.last_seq), updated_at = now()`;
  }

  /** The batch's transaction is in a block: MINED with the receipt's fields. A CONFIRMED batch is left as it is. */
  async markMined(batchId: bigint, mined: MinedReceipt): Promise<void> {
    const { count } = await this.prisma.settlementBatch.updateMany({
      where: { id: batchId, status: { not: 'CONFIRMED' } },
      data: {
        status: 'MINED',
        txHash: mined.hash.toLowerCase(),
        blockNumber: mined.blockNumber,
        blockHash: mined.blockHash.toLowerCase(),
        gasUsed: mined.gasUsed,
        effectiveGasPrice: toDecimal(mined.effectiveGasPrice),
        minedAt: new Date(mined.atMs),
      },
    });
    if (count === 0) await this.requireBatch(batchId);
  }

  /**
   * One transaction: a MINED batch CONFIRMED, the fills the contract skipped in it (`skipped`, e.g.
   * FillUnderfunded) FAILED with their reason, and its other fills SETTLED. Again on a CONFIRMED batch:
   * nothing changes.
   */
  async markConfirmed(batchId: bigint, atMs: number, skipped: readonly FailedFill[] = []): Promise<void> {
    distinctKeys(skipped);
    await this.prisma.$transaction(async (tx) => {
      const batch = await lockBatch(tx, batchId);
      if (batch.status === 'CONFIRMED') return;
      if (batch.status !== 'MINED') {
        throw new PersistenceError('SETTLEMENT_BATCH_STATE', `Batch ${batchId.toString()} is ${batch.status}, not MINED: cannot confirm it`);
      }
      await tx.settlementBatch.update({ where: { id: batchId }, data: { status: 'CONFIRMED', confirmedAt: new Date(atMs) } });
      if (skipped.length > 0) await failInTx(tx, skipped, { batchId, status: 'BATCHED' }, `BATCHED in batch ${batchId.toString()}`);
      await tx.settlementFill.updateMany({ where: { batchId, status: 'BATCHED' }, data: { status: 'SETTLED' } });
    }, TX_OPTIONS);
  }

  /** A MINED batch's block left the canonical chain: SUBMITTED again, block fields cleared (tx hash kept). */
  async markDropped(batchId: bigint): Promise<void> {
    const { count } = await this.prisma.settlementBatch.updateMany({
      where: { id: batchId, status: 'MINED' },
      data: { status: 'SUBMITTED', ...UNMINED },
    });
    if (count > 0) return;
    const batch = await this.requireBatch(batchId);
    notConfirmed(batch, 'drop it');
  }

  /**
   * The chain no longer has the batches above `lastOnChain` although they were MINED or even CONFIRMED here
   * (a reorg deeper than the confirmation depth, or a node that came back from an older state). One
   * transaction: they are CREATED again (fills BATCHED, block fields and broadcast journal cleared: the
   * rewound chain may reuse those nonces; the entries are retired, not deleted), so they are re-sent under the
   * same ids. Returns the reopened ids.
   */
  async reopenLostBatches(lastOnChain: bigint): Promise<bigint[]> {
    return this.prisma.$transaction(async (tx) => {
      const lost = await tx.settlementBatch.findMany({
        where: { id: { gt: lastOnChain }, status: { in: ['MINED', 'CONFIRMED'] } },
        select: { id: true },
        orderBy: { id: 'asc' },
      });
      const ids = lost.map((b) => b.id);
      if (ids.length === 0) return ids;
      await tx.settlementFill.updateMany({ where: { batchId: { in: ids }, status: 'SETTLED' }, data: { status: 'BATCHED' } });
      await tx.settlementTx.updateMany({ where: { batchId: { in: ids }, retiredAt: null }, data: { retiredAt: new Date() } });
      await tx.settlementBatch.updateMany({ where: { id: { in: ids } }, data: { ...UNSENT, status: 'CREATED' } });
      return ids;
    }, TX_OPTIONS);
  }

  /**
   * After a mined revert, the batch is re-prepared under the same id (one transaction): the kept fills stay,
   * `failed` become FAILED, `released` PENDING; every fill of the batch must be in exactly one of the three
   * lists. The batch is CREATED again and its broadcast journal is retired (kept, never re-sent): the reverted
   * transaction used up its nonce, so none of those broadcasts can be mined any more, and every hash we ever
   * sent stays on record.
   */
  async replaceBatchContents(batchId: bigint, contents: BatchContents): Promise<void> {
    distinctKeys(contents.fills, contents.failed, contents.released);
    if (contents.fills.length === 0) {
      throw new PersistenceError('SETTLEMENT_INVALID_REQUEST', `Batch ${batchId.toString()} would have no fill (use abandonBatch)`);
    }
    await this.prisma.$transaction(async (tx) => {
      const batch = await lockBatch(tx, batchId);
      notConfirmed(batch, 'replace its contents');
      await this.takeOutOfBatch(tx, batchId, contents.failed, contents.released, contents.fills.length);
      const kept = await tx.settlementFill.count({ where: { AND: [whereKeys(contents.fills), { batchId, status: 'BATCHED' }] } });
      if (kept !== contents.fills.length) {
        throw new PersistenceError('SETTLEMENT_FILL_CONFLICT', `${String(contents.fills.length - kept)} kept fills are not BATCHED in batch ${batchId.toString()}`);
      }
      await tx.settlementTx.updateMany({ where: { batchId, retiredAt: null }, data: { retiredAt: new Date() } });
      await tx.settlementBatch.update({
        where: { id: batchId },
        data: {
          ...UNSENT,
          status: 'CREATED',
          fillCount: contents.fills.length,
          orderCount: contents.orderCount,
          gasLimit: contents.gasLimit,
          data: new Uint8Array(contents.data),
        },
      });
    }, TX_OPTIONS);
  }

  /**
   * Deletes a batch left without fills (its id goes to the next batch), in one transaction with its fills
   * FAILED or released to PENDING; every fill of the batch must be listed. Its broadcasts stay in the journal,
   * retired, under the id the next batch will take.
   */
  async abandonBatch(batchId: bigint, failed: readonly FailedFill[], released: readonly FillKey[]): Promise<void> {
    distinctKeys(failed, released);
    await this.prisma.$transaction(async (tx) => {
      const batch = await lockBatch(tx, batchId);
      notConfirmed(batch, 'abandon it');
      await this.takeOutOfBatch(tx, batchId, failed, released, 0);
      await tx.settlementTx.updateMany({ where: { batchId, retiredAt: null }, data: { retiredAt: new Date() } });
      await tx.settlementBatch.delete({ where: { id: batchId } });
    }, TX_OPTIONS);
  }

  /** Batches not yet CONFIRMED, by id. */
  async openBatches(): Promise<BatchRow[]> {
    const rows = await this.prisma.settlementBatch.findMany({ where: { status: { in: OPEN_STATUSES } }, orderBy: { id: 'asc' } });
    return rows.map(batchFromRow);
  }

  async batch(id: bigint): Promise<BatchRow | undefined> {
    const row = await this.prisma.settlementBatch.findUnique({ where: { id } });
    return row ? batchFromRow(row) : undefined;
  }

  /** The batch's fills in FIFO order, with their signed orders. */
  async fillsOfBatch(id: bigint): Promise<PendingFill[]> {
    const rows = await this.prisma.settlementFill.findMany({ where: { batchId: id }, orderBy: { id: 'asc' } });
    return this.withOrders(rows);
  }

  /** When each fill of a batch was stored (settlement latency), without loading its orders. */
  async fillArrivalsOfBatch(id: bigint): Promise<Date[]> {
    const rows = await this.prisma.settlementFill.findMany({ where: { batchId: id }, select: { createdAt: true } });
    return rows.map((r) => r.createdAt);
  }

  /** The highest stored batch id (of those in `statuses`, when given), 0n when there is none. */
  async maxBatchId(statuses?: readonly SettlementBatchStatus[]): Promise<bigint> {
    const where = statuses === undefined ? {} : { status: { in: [...statuses] } };
    const { _max } = await this.prisma.settlementBatch.aggregate({ where, _max: { id: true } });
    return _max.id ?? 0n;
  }

  async fillCounts(): Promise<FillCounts> {
    const counts: FillCounts = { PENDING: 0, BATCHED: 0, SETTLED: 0, FAILED: 0 };
    const groups = await this.prisma.settlementFill.groupBy({ by: ['status'], _count: { _all: true } });
    for (const g of groups) counts[g.status] = g._count._all;
    return counts;
  }

  /** SETTLED fills with their batch id, in FIFO order (reconciliation against the chain). */
  async settledFills(): Promise<SettledFill[]> {
    const rows = await this.prisma.settlementFill.findMany({ where: { status: 'SETTLED' }, orderBy: { id: 'asc' } });
    return rows.map((r) => ({ ...fillFromRow(r), id: r.id, batchId: r.batchId ?? 0n }));
  }

  /** FAILED fills with their reasons, in arrival order (reports and reconciliation tests). */
  async failedFills(): Promise<(FillKey & { readonly reason: string; readonly detail: string | undefined })[]> {
    const rows = await this.prisma.settlementFill.findMany({ where: { status: 'FAILED' }, orderBy: { id: 'asc' } });
    return rows.map((r) => ({ marketId: r.marketId, seq: r.seq, reason: r.failureReason ?? '', detail: r.failureDetail ?? undefined }));
  }

  /** Every batch, by id (reconciliation tests and reports). */
  async allBatches(): Promise<BatchRow[]> {
    const rows = await this.prisma.settlementBatch.findMany({ orderBy: { id: 'asc' } });
    return rows.map(batchFromRow);
  }

  private async requireBatch(batchId: bigint): Promise<SettlementBatch> {
    const batch = await this.prisma.settlementBatch.findUnique({ where: { id: batchId } });
    if (!batch) throw new PersistenceError('SETTLEMENT_BATCH_NOT_FOUND', `No settlement batch ${batchId.toString()}`);
    return batch;
  }

  /** Fills of the batch to FAILED / PENDING; then exactly `remaining` fills may be left in it. */
  private async takeOutOfBatch(
    tx: Tx,
    batchId: bigint,
    failed: readonly FailedFill[],
    released: readonly FillKey[],
    remaining: number,
  ): Promise<void> {
    const inBatch: Prisma.SettlementFillWhereInput = { batchId, status: 'BATCHED' };
    const expected = `BATCHED in batch ${batchId.toString()}`;
    await failInTx(tx, failed, inBatch, expected);
    await transition(tx, released, inBatch, { status: 'PENDING', batchId: null }, expected);
    const left = await tx.settlementFill.count({ where: { batchId } });
    if (left !== remaining) {
      throw new PersistenceError(
        'SETTLEMENT_FILL_CONFLICT',
        `Batch ${batchId.toString()} would keep ${String(left)} fills, ${String(remaining)} listed: every fill must be kept, failed or released`,
      );
    }
  }

  /**
   * Each fill's settlement for the API (read only): status, batch, the batch's transaction and its gas per fill.
   * Fills this service has not stored yet are absent.
   */
  async fillSettlements(keys: readonly { readonly marketId: number; readonly seq: number }[]): Promise<FillSettlementView[]> {
    if (keys.length === 0) return [];
    const rows = await this.prisma.settlementFill.findMany({
      where: { OR: keys.map((k) => ({ marketId: k.marketId, seq: BigInt(k.seq) })) },
      include: { batch: true },
    });
    return rows.map((r) => {
      const b = r.batch;
      const gasShare = b?.gasUsed != null && b.fillCount > 0 ? b.gasUsed / BigInt(b.fillCount) : null;
      return {
        marketId: r.marketId,
        seq: Number(r.seq),
        status: FILL_STATUS_VIEW[r.status],
        batchId: r.batchId,
        txHash: b?.txHash ?? null,
        gasShare,
        feeShareWei: gasShare === null || b?.effectiveGasPrice == null ? null : gasShare * BigInt(b.effectiveGasPrice.toFixed(0)),
        failureReason: r.failureReason,
      };
    });
  }

  private async withOrders(rows: readonly SettlementFill[]): Promise<PendingFill[]> {
    if (rows.length === 0) return [];
    const wanted = new Map<number, Set<bigint>>();
    for (const r of rows) {
      let ids = wanted.get(r.marketId);
      if (!ids) wanted.set(r.marketId, (ids = new Set()));
      ids.add(r.makerOrderId).add(r.takerOrderId);
    }
    const byKey = await this.ordersByKey([...wanted].flatMap(([marketId, ids]) => [...ids].map((orderId) => ({ marketId, orderId }))));
    return rows.map((r) => ({
      ...fillFromRow(r),
      id: r.id,
      status: r.status,
      createdAt: r.createdAt,
      maker: byKey.get(keyOf(r.marketId, r.makerOrderId)),
      taker: byKey.get(keyOf(r.marketId, r.takerOrderId)),
    }));
  }
}

// Integration: SettlementRepository on the PostgreSQL server (a throw-away database migrated by the real
// `prisma migrate deploy`) and on embedded PGlite (migrated in-process): one suite, both backends.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createEmbeddedPrismaClient } from '../embedded.js';
import type { PrismaClient } from '../generated/client.js';
import { PersistenceError, type PersistenceErrorCode } from '../persistence.errors.js';
import { createPrismaClient } from '../prisma-client.js';
import { createTestDatabase } from '../test-database.js';
import {
  SettlementRepository,
  type FillKey,
  type Hex,
  type SettlementFillRecord,
  type SettlementOrderRecord,
} from './settlement.repository.js';

const MAX_U128 = 2n ** 128n - 1n;
const MAX_U64 = 2n ** 64n - 1n;
const MARKET = 7;
const SIGNATURE: Hex = `0x${'ab'.repeat(32)}${'1b'.repeat(33)}`;
const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`;

function order(orderId: bigint, over: Partial<SettlementOrderRecord> = {}): SettlementOrderRecord {
  return {
    marketId: MARKET,
    orderId,
    accountId: 1000n + orderId,
    trader: `0x${orderId.toString(16).padStart(40, '0')}`,
    isBuy: orderId % 2n === 0n,
    price: 2_000n * 10n ** 18n,
    size: 10n ** 18n,
    nonce: orderId,
    maxFeeRate: 1_000,
    expiry: 1_900_000_000n,
    signature: SIGNATURE,
    ...over,
  };
}

/** Fill `seq` of MARKET between maker order 2*seq and taker order 2*seq+1. */
function fill(seq: bigint, over: Partial<SettlementFillRecord> = {}): SettlementFillRecord {
  return {
    marketId: MARKET,
    seq,
    makerOrderId: 2n * seq,
    takerOrderId: 2n * seq + 1n,
    takerSide: 'BUY',
    priceTicks: 200_000n,
    sizeLots: 3n,
    ts: 1_000n + seq,
    ...over,
  };
}

const ordersOf = (...seqs: bigint[]): SettlementOrderRecord[] => seqs.flatMap((s) => [order(2n * s), order(2n * s + 1n)]);
const key = (seq: bigint, marketId = MARKET): FillKey => ({ marketId, seq });
const isCode = (code: PersistenceErrorCode) => (e: unknown) => e instanceof PersistenceError && e.code === code;
const bytes = (...b: number[]) => new Uint8Array(b);

interface Backend {
  readonly name: string;
  open(): Promise<{ prisma: PrismaClient; close: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'PostgreSQL server',
    open: async () => {
      const db = await createTestDatabase();
      const prisma = createPrismaClient(db.url, { maxConnections: 4 });
      return {
        prisma,
        close: async () => {
          await prisma.$disconnect();
          await db.drop();
        },
      };
    },
  },
  {
    name: 'embedded PGlite',
    open: async () => {
      const prisma = await createEmbeddedPrismaClient();
      return { prisma, close: () => prisma.$disconnect() };
    },
  },
];

for (const backend of backends) {
  describe(`SettlementRepository on ${backend.name}`, () => {
    let prisma: PrismaClient;
    let close: () => Promise<void>;
    let repo: SettlementRepository;

    before(async () => {
      ({ prisma, close } = await backend.open());
      repo = new SettlementRepository(prisma);
    });

    after(async () => {
      await close();
    });

    beforeEach(async () => {
      await prisma.$executeRawUnsafe(
        'TRUNCATE settlement_txs, settlement_batches, settlement_fills, settlement_orders RESTART IDENTITY CASCADE',
      );
    });

    it('saves orders and fills idempotently: the same record twice is one row', async () => {
      assert.equal(await repo.saveOrders(ordersOf(1n)), 2);
      assert.equal(await repo.saveOrders([...ordersOf(1n), order(99n)]), 1);
      assert.equal(await repo.saveFills([fill(1n), fill(2n)]), 2);
      assert.equal(await repo.saveFills([fill(2n), fill(1n), fill(1n, { marketId: MARKET + 1 })]), 1);
      assert.equal(await prisma.settlementOrder.count(), 3);
      assert.equal(await prisma.settlementFill.count(), 3);
      // A replayed fill does not reset one that moved on.
      await repo.createBatch({ id: 1n, fills: [key(1n)], orderCount: 2, gasLimit: 1n, data: bytes() }, []);
      assert.equal(await repo.saveFills([fill(1n)]), 0);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 2, BATCHED: 1, SETTLED: 0, FAILED: 0 });
      assert.equal(await repo.saveOrders([]), 0);
      assert.equal(await repo.saveFills([]), 0);
    });

    it('round-trips uint128 / uint64 amounts exactly (2^128 - 1 is past any float)', async () => {
      const maker = order(2n, { price: MAX_U128, size: MAX_U128 - 1n, nonce: MAX_U64, expiry: 2n ** 63n - 1n, trader: '0xABCDEF0000000000000000000000000000000001' });
      const taker = order(3n, { price: 0n, size: 1n, nonce: 0n });
      await repo.saveOrders([maker, taker]);
      await repo.saveFills([fill(1n, { priceTicks: 2n ** 63n - 1n, sizeLots: 2n ** 62n + 1n, ts: 2n ** 60n })]);
      const [got] = await repo.pendingFills(10);
      assert.ok(got);
      assert.deepEqual(got.maker, { ...maker, trader: '0xabcdef0000000000000000000000000000000001' });
      assert.deepEqual(got.taker, taker);
      assert.equal(got.maker.price, 340282366920938463463374607431768211455n);
      assert.equal(got.priceTicks, 2n ** 63n - 1n);
      assert.equal(got.sizeLots, 2n ** 62n + 1n);

      await repo.createBatch({ id: 5n, fills: [key(1n)], orderCount: 2, gasLimit: 16_000_000n, data: bytes(0, 1, 254, 255) }, []);
      const tx = { hash: hash(1), nonce: 7, gasLimit: 2n ** 40n, maxFeePerGas: MAX_U128, maxPriorityFeePerGas: MAX_U128 - 2n, sentAtMs: 1_764_000_000_123 };
      await repo.recordBroadcast(5n, tx);
      assert.deepEqual(await repo.broadcasts(5n), [tx]);
      await repo.markMined(5n, { hash: hash(1), blockNumber: 2n ** 53n + 1n, blockHash: hash(2), gasUsed: 123_456n, effectiveGasPrice: MAX_U128, atMs: 1_764_000_001_000 });
      const batch = await repo.batch(5n);
      assert.equal(batch?.effectiveGasPrice, MAX_U128);
      assert.equal(batch.blockNumber, 2n ** 53n + 1n);
      assert.deepEqual(batch.data, bytes(0, 1, 254, 255));
    });

    it('lists PENDING fills FIFO with their orders, one missing order leaving its side undefined', async () => {
      // Arrival order is not sequence order: FIFO is by arrival (id).
      await repo.saveFills([fill(3n), fill(1n)]);
      await repo.saveFills([fill(2n, { marketId: MARKET + 1 })]);
      await repo.saveOrders([...ordersOf(3n, 1n), order(4n, { marketId: MARKET + 1 })]); // market 8's taker (5) is missing
      await repo.saveOrders([order(5n)]); // same order id in another market must not match

      const pending = await repo.pendingFills(10);
      assert.deepEqual(
        pending.map((f) => [f.marketId, f.seq, f.id, f.status]),
        [
          [MARKET, 3n, 1n, 'PENDING'],
          [MARKET, 1n, 2n, 'PENDING'],
          [MARKET + 1, 2n, 3n, 'PENDING'],
        ],
      );
      assert.deepEqual(pending[0]?.maker, order(6n));
      assert.deepEqual(pending[0].taker, order(7n));
      assert.deepEqual(pending[1]?.maker, order(2n));
      assert.deepEqual(pending[2]?.maker, order(4n, { marketId: MARKET + 1 }));
      assert.equal(pending[2].taker, undefined);
      assert.deepEqual((await repo.pendingFills(2)).map((f) => f.seq), [3n, 1n]);

      const stats = await repo.pendingStats();
      assert.equal(stats.count, 3);
      assert.equal(stats.waitingForOrders, 1);
      assert.ok(stats.oldestCreatedAt instanceof Date);
      assert.ok(Math.abs(stats.oldestCreatedAt.getTime() - Date.now()) < 60_000);

      await repo.failFills([{ ...key(2n, MARKET + 1), reason: 'ORDER_MISSING' }]);
      assert.deepEqual(await repo.pendingStats(), { count: 2, oldestCreatedAt: stats.oldestCreatedAt, waitingForOrders: 0 });
      await repo.failFills([{ ...key(3n), reason: 'A' }, { ...key(1n), reason: 'A' }]);
      assert.deepEqual(await repo.pendingStats(), { count: 0, oldestCreatedAt: undefined, waitingForOrders: 0 });
      assert.deepEqual(await repo.pendingFills(10), []);
    });

    it('createBatch takes PENDING fills only: one already BATCHED fails the whole call and changes nothing', async () => {
      await repo.saveOrders(ordersOf(1n, 2n, 3n));
      await repo.saveFills([fill(1n), fill(2n), fill(3n)]);
      await repo.createBatch({ id: 1n, fills: [key(1n)], orderCount: 2, gasLimit: 100n, data: bytes(1) }, []);

      await assert.rejects(
        repo.createBatch({ id: 2n, fills: [key(2n), key(1n)], orderCount: 4, gasLimit: 200n, data: bytes(2) }, [{ ...key(3n), reason: 'X' }]),
        isCode('SETTLEMENT_FILL_CONFLICT'),
      );
      // A failed fill that is not PENDING is a conflict too.
      await assert.rejects(
        repo.createBatch({ id: 2n, fills: [key(2n)], orderCount: 2, gasLimit: 200n, data: bytes(2) }, [{ ...key(1n), reason: 'X' }]),
        isCode('SETTLEMENT_FILL_CONFLICT'),
      );
      await assert.rejects(
        repo.createBatch({ id: 2n, fills: [key(2n), key(99n)], orderCount: 2, gasLimit: 200n, data: bytes(2) }, []),
        isCode('SETTLEMENT_FILL_CONFLICT'),
      );
      assert.equal(await repo.batch(2n), undefined);
      assert.equal(await repo.maxBatchId(), 1n);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 2, BATCHED: 1, SETTLED: 0, FAILED: 0 });
      assert.deepEqual((await repo.fillsOfBatch(1n)).map((f) => f.seq), [1n]);

      await assert.rejects(
        repo.createBatch({ id: 1n, fills: [key(2n)], orderCount: 2, gasLimit: 1n, data: bytes() }, []),
        isCode('SETTLEMENT_BATCH_EXISTS'),
      );
      await assert.rejects(
        repo.createBatch({ id: 2n, fills: [key(2n), key(2n)], orderCount: 2, gasLimit: 1n, data: bytes() }, []),
        isCode('SETTLEMENT_INVALID_REQUEST'),
      );
      await assert.rejects(repo.failFills([{ ...key(1n), reason: 'X' }]), isCode('SETTLEMENT_FILL_CONFLICT'));
      assert.deepEqual(await repo.fillCounts(), { PENDING: 2, BATCHED: 1, SETTLED: 0, FAILED: 0 });

      await repo.createBatch({ id: 2n, fills: [key(2n)], orderCount: 2, gasLimit: 200n, data: bytes(2) }, [{ ...key(3n), reason: 'ORDER_EXPIRED', detail: 'expiry 1 < 2' }]);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 0, BATCHED: 2, SETTLED: 0, FAILED: 1 });
      const failed = await prisma.settlementFill.findUniqueOrThrow({ where: { marketId_seq: { marketId: MARKET, seq: 3n } } });
      assert.deepEqual([failed.status, failed.failureReason, failed.failureDetail, failed.batchId], ['FAILED', 'ORDER_EXPIRED', 'expiry 1 < 2', null]);
    });

    it('follows a batch CREATED -> SUBMITTED (two broadcasts) -> MINED -> dropped -> MINED -> CONFIRMED', async () => {
      await repo.saveOrders(ordersOf(1n, 2n, 3n));
      await repo.saveFills([fill(1n), fill(2n), fill(3n)]);
      await repo.createBatch({ id: 1n, fills: [key(1n), key(2n)], orderCount: 4, gasLimit: 500_000n, data: bytes(9, 9) }, []);
      let batch = await repo.batch(1n);
      assert.equal(batch?.status, 'CREATED');
      assert.equal(batch.fillCount, 2);
      assert.equal(batch.orderCount, 4);
      assert.equal(batch.txHash, undefined);
      assert.deepEqual((await repo.openBatches()).map((b) => b.id), [1n]);

      const first = { hash: hash(0xa1), nonce: 3, gasLimit: 500_000n, maxFeePerGas: 30n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, sentAtMs: 1_764_000_000_000 };
      const second = { ...first, hash: hash(0xa2), maxFeePerGas: 33n * 10n ** 9n, maxPriorityFeePerGas: 11n * 10n ** 8n, sentAtMs: 1_764_000_030_000 };
      await repo.recordBroadcast(1n, first);
      await repo.recordBroadcast(1n, second);
      await repo.recordBroadcast(1n, first); // replayed journal entry: no change
      assert.deepEqual(await repo.broadcasts(1n), [first, second]);
      batch = await repo.batch(1n);
      assert.equal(batch?.status, 'SUBMITTED');
      assert.equal(batch.txHash, second.hash);
      assert.equal(batch.nonce, 3);
      assert.equal(batch.submittedAt?.getTime(), first.sentAtMs);
      await assert.rejects(repo.recordBroadcast(2n, { ...first, hash: hash(0xb1) }), isCode('SETTLEMENT_BATCH_NOT_FOUND'));

      await assert.rejects(repo.markConfirmed(1n, 1_764_000_100_000), isCode('SETTLEMENT_BATCH_STATE'));
      const mined = { hash: first.hash, blockNumber: 100n, blockHash: hash(0x100), gasUsed: 150_000n, effectiveGasPrice: 12n * 10n ** 9n, atMs: 1_764_000_040_000 };
      await repo.markMined(1n, mined);
      batch = await repo.batch(1n);
      assert.deepEqual(
        [batch?.status, batch?.txHash, batch?.blockNumber, batch?.blockHash, batch?.gasUsed, batch?.effectiveGasPrice, batch?.minedAt?.getTime()],
        ['MINED', first.hash, 100n, hash(0x100), 150_000n, 12n * 10n ** 9n, mined.atMs],
      );
      // A late journal entry of a replacement does not move a mined batch back.
      await repo.recordBroadcast(1n, { ...second, hash: hash(0xa3) });
      assert.equal((await repo.batch(1n))?.status, 'MINED');
      assert.equal((await repo.batch(1n))?.txHash, first.hash);

      await repo.markDropped(1n);
      batch = await repo.batch(1n);
      assert.deepEqual(
        [batch?.status, batch?.txHash, batch?.blockNumber, batch?.blockHash, batch?.gasUsed, batch?.effectiveGasPrice, batch?.minedAt],
        ['SUBMITTED', first.hash, undefined, undefined, undefined, undefined, undefined],
      );
      await repo.markDropped(1n); // not mined: nothing to drop

      await repo.markMined(1n, { ...mined, hash: second.hash, blockNumber: 101n, blockHash: hash(0x101) });
      await repo.markConfirmed(1n, 1_764_000_100_000);
      batch = await repo.batch(1n);
      assert.deepEqual([batch?.status, batch?.txHash, batch?.blockNumber, batch?.confirmedAt?.getTime()], ['CONFIRMED', second.hash, 101n, 1_764_000_100_000]);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 1, BATCHED: 0, SETTLED: 2, FAILED: 0 });
      assert.deepEqual(
        (await repo.settledFills()).map((f) => [f.seq, f.batchId, f.makerOrderId]),
        [
          [1n, 1n, 2n],
          [2n, 1n, 4n],
        ],
      );
      assert.deepEqual((await repo.fillsOfBatch(1n)).map((f) => [f.seq, f.status, f.maker?.orderId, f.taker?.orderId]), [
        [1n, 'SETTLED', 2n, 3n],
        [2n, 'SETTLED', 4n, 5n],
      ]);

      // Idempotent, and nothing moves a confirmed batch.
      await repo.markConfirmed(1n, 1_764_000_200_000);
      await repo.markMined(1n, { ...mined, blockNumber: 999n });
      await assert.rejects(repo.markDropped(1n), isCode('SETTLEMENT_BATCH_STATE'));
      batch = await repo.batch(1n);
      assert.deepEqual([batch?.status, batch?.blockNumber, batch?.confirmedAt?.getTime()], ['CONFIRMED', 101n, 1_764_000_100_000]);
      assert.deepEqual(await repo.openBatches(), []);
      assert.equal(await repo.maxBatchId(), 1n);
      await assert.rejects(repo.markMined(9n, mined), isCode('SETTLEMENT_BATCH_NOT_FOUND'));
      await assert.rejects(repo.markConfirmed(9n, 0), isCode('SETTLEMENT_BATCH_NOT_FOUND'));
    });

    it('replaceBatchContents re-prepares a reverted batch under the same id', async () => {
      await repo.saveOrders(ordersOf(1n, 2n, 3n, 4n));
      await repo.saveFills([fill(1n), fill(2n), fill(3n), fill(4n)]);
      await repo.createBatch({ id: 1n, fills: [key(1n), key(2n), key(3n)], orderCount: 6, gasLimit: 900n, data: bytes(1, 2, 3) }, []);
      await repo.recordBroadcast(1n, { hash: hash(1), nonce: 0, gasLimit: 900n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, sentAtMs: 1_000 });
      await repo.markMined(1n, { hash: hash(1), blockNumber: 5n, blockHash: hash(5), gasUsed: 800n, effectiveGasPrice: 2n, atMs: 2_000 });

      // Every fill of the batch must be accounted for; a fill of another state cannot be released.
      await assert.rejects(
        repo.replaceBatchContents(1n, { fills: [key(1n)], orderCount: 2, gasLimit: 300n, data: bytes(1), failed: [], released: [key(3n)] }),
        isCode('SETTLEMENT_FILL_CONFLICT'),
      );
      await assert.rejects(
        repo.replaceBatchContents(1n, { fills: [key(1n), key(2n)], orderCount: 2, gasLimit: 300n, data: bytes(1), failed: [], released: [key(3n), key(4n)] }),
        isCode('SETTLEMENT_FILL_CONFLICT'),
      );
      assert.equal((await repo.batch(1n))?.status, 'MINED');
      assert.deepEqual(await repo.fillCounts(), { PENDING: 1, BATCHED: 3, SETTLED: 0, FAILED: 0 });

      await repo.replaceBatchContents(1n, {
        fills: [key(1n)],
        orderCount: 2,
        gasLimit: 300n,
        data: bytes(7),
        failed: [{ ...key(2n), reason: 'SIGNATURE_INVALID', detail: 'ecrecover mismatch' }],
        released: [key(3n)],
      });
      const batch = await repo.batch(1n);
      assert.deepEqual(
        [batch?.status, batch?.fillCount, batch?.orderCount, batch?.gasLimit, batch?.data, batch?.txHash, batch?.nonce, batch?.blockNumber, batch?.submittedAt, batch?.minedAt],
        ['CREATED', 1, 2, 300n, bytes(7), undefined, undefined, undefined, undefined, undefined],
      );
      assert.deepEqual(await repo.broadcasts(1n), []);
      assert.deepEqual((await repo.fillsOfBatch(1n)).map((f) => f.seq), [1n]);
      // The released fill keeps its place ahead of later arrivals.
      assert.deepEqual((await repo.pendingFills(10)).map((f) => f.seq), [3n, 4n]);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 2, BATCHED: 1, SETTLED: 0, FAILED: 1 });
      const failed = await prisma.settlementFill.findUniqueOrThrow({ where: { marketId_seq: { marketId: MARKET, seq: 2n } } });
      assert.deepEqual([failed.failureReason, failed.failureDetail, failed.batchId], ['SIGNATURE_INVALID', 'ecrecover mismatch', null]);

      // The same id goes on chain with the new contents.
      await repo.recordBroadcast(1n, { hash: hash(2), nonce: 1, gasLimit: 300n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, sentAtMs: 3_000 });
      await repo.markMined(1n, { hash: hash(2), blockNumber: 6n, blockHash: hash(6), gasUsed: 250n, effectiveGasPrice: 2n, atMs: 4_000 });
      await repo.markConfirmed(1n, 5_000);
      assert.deepEqual((await repo.settledFills()).map((f) => [f.seq, f.batchId]), [[1n, 1n]]);
    });

    it('abandonBatch deletes a batch left without fills, failing or releasing them, so its id is free again', async () => {
      await repo.saveOrders(ordersOf(1n, 2n));
      await repo.saveFills([fill(1n), fill(2n)]);
      await repo.createBatch({ id: 1n, fills: [key(1n), key(2n)], orderCount: 4, gasLimit: 900n, data: bytes(1) }, []);
      await repo.recordBroadcast(1n, { hash: hash(1), nonce: 0, gasLimit: 900n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, sentAtMs: 1_000 });

      await assert.rejects(repo.abandonBatch(1n, [{ ...key(1n), reason: 'X' }], []), isCode('SETTLEMENT_FILL_CONFLICT'));
      assert.equal((await repo.batch(1n))?.status, 'SUBMITTED');
      assert.deepEqual(await repo.fillCounts(), { PENDING: 0, BATCHED: 2, SETTLED: 0, FAILED: 0 });

      await repo.abandonBatch(1n, [{ ...key(1n), reason: 'ORDER_FILLED' }], [key(2n)]);
      assert.equal(await repo.batch(1n), undefined);
      assert.equal(await repo.maxBatchId(), 0n);
      // The broadcast is not live any more, but it stays on record (retired) under the id.
      assert.deepEqual(await repo.broadcasts(1n), []);
      assert.deepEqual((await repo.journal(1n)).map((j) => [j.hash, j.retired]), [[hash(1), true]]);
      assert.deepEqual(await repo.fillCounts(), { PENDING: 1, BATCHED: 0, SETTLED: 0, FAILED: 1 });
      await assert.rejects(repo.abandonBatch(1n, [], []), isCode('SETTLEMENT_BATCH_NOT_FOUND'));

      await repo.createBatch({ id: 1n, fills: [key(2n)], orderCount: 2, gasLimit: 400n, data: bytes(2) }, []);
      assert.deepEqual((await repo.fillsOfBatch(1n)).map((f) => f.seq), [2n]);
      assert.deepEqual((await repo.openBatches()).map((b) => [b.id, b.status, b.fillCount]), [[1n, 'CREATED', 1]]);
    });
  });
}

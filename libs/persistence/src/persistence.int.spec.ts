// Integration: a fresh database on the PostgreSQL server (DATABASE_ADMIN_URL), migrated by the real
// Prisma CLI through `npm run db:migrate`'s path, written and read through the generated client.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import {
  createPrismaClient,
  createTestDatabase,
  defaultMigrationsDir,
  isForeignKeyViolation,
  isUniqueConstraintViolation,
  migrationChecksum,
  PersistenceModule,
  Prisma,
  PrismaService,
  readMigrations,
  type PrismaClient,
  type TestDatabase,
} from './index.js';

const MAKER = '0x1111111111111111111111111111111111111111';
const TAKER = '0x2222222222222222222222222222222222222222';
/** Past 2^53: only a BIGINT column and bigint round-trip it exactly. */
const HUGE = 2n ** 62n + 12_345n;

describe('persistence on PostgreSQL', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  before(async () => {
    db = await createTestDatabase();
    prisma = createPrismaClient(db.url, { maxConnections: 4 });
  });

  after(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  it('records the applied migrations the way Prisma Migrate does', async () => {
    const local = readMigrations(defaultMigrationsDir());
    assert.ok(local.length >= 1);
    const rows = await prisma.$queryRaw<{ migration_name: string; checksum: string; finished: boolean; steps: number }[]>`
      SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count AS steps
      FROM _prisma_migrations ORDER BY migration_name`;
    assert.deepEqual(
      rows.map((r) => [r.migration_name, r.checksum, r.finished, r.steps]),
      local.map((m) => [m.name, m.checksum, true, 1]),
    );
    const first = local[0]!;
    assert.equal(first.checksum, migrationChecksum(readFileSync(join(defaultMigrationsDir(), first.name, 'migration.sql'), 'utf8')));
  });

  it('writes and reads a market with exact decimals and big integers', async () => {
    await prisma.market.create({
      data: {
        id: 'ETH-USDC',
        baseAsset: 'ETH',
        quoteAsset: 'USDC',
        tickSize: '0.01',
        lotSize: '0.000000000000000001',
        minSizeLots: HUGE,
        minNotional: '12345678901234567890.123456789012345678',
      },
    });
    const market = await prisma.market.findUniqueOrThrow({ where: { id: 'ETH-USDC' } });
    assert.equal(market.status, 'ACTIVE');
    assert.equal(market.tickSize.toFixed(), '0.01');
    assert.equal(market.lotSize.toFixed(), '0.000000000000000001');
    assert.equal(market.minNotional.toFixed(), '12345678901234567890.123456789012345678');
    assert.equal(market.minSizeLots, HUGE);
    assert.ok(market.createdAt instanceof Date);
    await assert.rejects(
      prisma.market.create({
        data: { id: 'ETH-USDC2', baseAsset: 'ETH', quoteAsset: 'USDC', tickSize: '1', lotSize: '1', minSizeLots: 1n, minNotional: '1' },
      }),
      (e: unknown) => isUniqueConstraintViolation(e),
      'one market per base/quote pair',
    );
  });

  it('writes orders: client order ids are unique per account, sequences per market', async () => {
    const at = new Date('2026-11-24T10:00:00.123Z');
    const base = {
      marketId: 'ETH-USDC',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      status: 'OPEN',
      createdAt: at,
    } as const;
    await prisma.order.createMany({
      data: [
        { ...base, id: 'o-1', account: MAKER, clientOrderId: 'c-1', priceTicks: 250_000n, sizeLots: HUGE, sequence: 1n },
        { ...base, id: 'o-2', account: TAKER, clientOrderId: 'c-1', side: 'BUY', priceTicks: 260_000n, sizeLots: 10n, sequence: 2n },
        { ...base, id: 'o-3', account: TAKER, clientOrderId: null, type: 'MARKET', timeInForce: 'IOC', priceTicks: null, sizeLots: 5n, sequence: 3n },
      ],
    });
    const makerOrder = await prisma.order.findUniqueOrThrow({ where: { account_clientOrderId: { account: MAKER, clientOrderId: 'c-1' } } });
    assert.equal(makerOrder.id, 'o-1');
    assert.equal(makerOrder.sizeLots, HUGE);
    assert.equal(makerOrder.filledLots, 0n);
    assert.equal(makerOrder.createdAt.toISOString(), at.toISOString());
    assert.equal((await prisma.order.findUniqueOrThrow({ where: { id: 'o-3' } })).priceTicks, null);

    await assert.rejects(
      prisma.order.create({ data: { ...base, id: 'o-4', account: MAKER, clientOrderId: 'c-1', priceTicks: 1n, sizeLots: 1n, sequence: 4n } }),
      (e: unknown) => isUniqueConstraintViolation(e),
      'duplicate client order id for the same account',
    );
    await assert.rejects(
      prisma.order.create({ data: { ...base, id: 'o-5', account: MAKER, clientOrderId: 'c-5', priceTicks: 1n, sizeLots: 1n, sequence: 1n } }),
      (e: unknown) => isUniqueConstraintViolation(e),
      'duplicate market sequence',
    );
    await assert.rejects(
      prisma.order.create({ data: { ...base, marketId: 'NOPE-USDC', id: 'o-6', account: MAKER, priceTicks: 1n, sizeLots: 1n, sequence: 6n } }),
      (e: unknown) => isForeignKeyViolation(e),
      'order of an unknown market',
    );

    const open = await prisma.order.findMany({ where: { account: TAKER, status: 'OPEN' }, orderBy: { sequence: 'asc' } });
    assert.deepEqual(
      open.map((o) => o.id),
      ['o-2', 'o-3'],
    );
  });

  it('writes trades and rejects a replayed per-market trade sequence', async () => {
    const executedAt = new Date('2026-11-24T10:00:01.000Z');
    const trade = {
      marketId: 'ETH-USDC',
      makerOrderId: 'o-1',
      takerOrderId: 'o-2',
      makerAccount: MAKER,
      takerAccount: TAKER,
      priceTicks: 250_000n,
      sizeLots: 4n,
      takerSide: 'BUY',
      executedAt,
    } as const;
    const before = await prisma.order.findUniqueOrThrow({ where: { id: 'o-1' } });
    await prisma.$transaction([
      prisma.trade.create({ data: { ...trade, id: 't-1', sequence: 10n } }),
      prisma.order.update({ where: { id: 'o-1' }, data: { filledLots: { increment: 4n }, status: 'PARTIALLY_FILLED' } }),
      prisma.order.update({ where: { id: 'o-2' }, data: { filledLots: { increment: 4n }, status: 'PARTIALLY_FILLED' } }),
    ]);
    await prisma.trade.create({ data: { ...trade, id: 't-2', sequence: HUGE, sizeLots: 6n } });

    let violation: unknown;
    try {
      await prisma.trade.create({ data: { ...trade, id: 't-3', sequence: 10n } });
    } catch (e) {
      violation = e;
    }
    assert.ok(isUniqueConstraintViolation(violation), `expected P2002, got ${String(violation)}`);
    assert.ok(violation instanceof Prisma.PrismaClientKnownRequestError);
    assert.match(JSON.stringify(violation.meta), /trades_market_id_sequence_key/);

    await assert.rejects(
      prisma.trade.create({ data: { ...trade, id: 't-4', sequence: 11n, makerOrderId: 'missing' } }),
      (e: unknown) => isForeignKeyViolation(e),
    );

    const trades = await prisma.trade.findMany({
      where: { marketId: 'ETH-USDC' },
      orderBy: { sequence: 'asc' },
      include: { makerOrder: true },
    });
    assert.deepEqual(
      trades.map((t) => [t.id, t.sequence, t.sizeLots, t.makerOrder.account]),
      [
        ['t-1', 10n, 4n, MAKER],
        ['t-2', HUGE, 6n, MAKER],
      ],
    );
    const maker = await prisma.order.findUniqueOrThrow({ where: { id: 'o-1' } });
    assert.equal(maker.filledLots, 4n);
    assert.equal(maker.status, 'PARTIALLY_FILLED');
    assert.ok(maker.updatedAt.getTime() >= before.updatedAt.getTime(), '@updatedAt moves on update');
    const volume = await prisma.trade.aggregate({ where: { takerAccount: TAKER }, _sum: { sizeLots: true } });
    assert.equal(volume._sum.sizeLots, 10n);
  });

  it('PersistenceModule connects PrismaService on init and disconnects on close', async () => {
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'persistence_module_spec');
    const sessions = async (): Promise<bigint> => {
      const [row] = await prisma.$queryRaw<[{ n: bigint }]>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'persistence_module_spec'`;
      return row.n;
    };
    const moduleRef = await Test.createTestingModule({
      imports: [PersistenceModule.forRootAsync({ useFactory: () => ({ databaseUrl: url.toString(), maxConnections: 2 }) })],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(PrismaService);
    assert.equal(service.mode, 'postgres');
    assert.equal(await service.market.count(), 1);
    assert.ok((await sessions()) >= 1n, 'the service holds a connection while the module lives');
    await moduleRef.close();
    const deadline = Date.now() + 5000;
    while ((await sessions()) > 0n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await sessions(), 0n, 'closing the module closed the pool');
  });
});

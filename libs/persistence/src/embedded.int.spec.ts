// Integration: embedded PostgreSQL (PGlite) with the same migrations and the same Prisma client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { createEmbeddedPrismaClient, openEmbeddedDatabase, prismaAdapterForPglite } from './embedded.js';
import { PrismaClient } from './generated/client.js';
import { readMigrations } from './migrations.js';
import { PersistenceError } from './persistence.errors.js';
import { PersistenceModule } from './persistence.module.js';
import { isUniqueConstraintViolation } from './prisma-errors.js';
import { PrismaService } from './prisma.service.js';
import { defaultMigrationsDir } from './repository-paths.js';

describe('embedded database (PGlite)', () => {
  let dataDir: string;

  before(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'parallax-pglite-')), 'data');
  });

  after(() => {
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });

  it('migrates a new data dir and stores markets, orders and trades through Prisma', async () => {
    const prisma = await createEmbeddedPrismaClient(dataDir);
    try {
      await prisma.market.create({
        data: { id: 'BTC-USDC', baseAsset: 'BTC', quoteAsset: 'USDC', tickSize: '0.5', lotSize: '0.00001', minSizeLots: 1n, minNotional: '5' },
      });
      const order = {
        marketId: 'BTC-USDC',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'GTC',
        status: 'OPEN',
        priceTicks: 120_000n,
        createdAt: new Date('2026-11-24T00:00:00Z'),
      } as const;
      await prisma.order.create({ data: { ...order, id: 'm', account: '0xaa', sizeLots: 2n ** 40n, sequence: 1n } });
      await prisma.order.create({ data: { ...order, id: 't', account: '0xbb', side: 'SELL', sizeLots: 3n, sequence: 2n } });
      const trade = {
        marketId: 'BTC-USDC',
        makerOrderId: 'm',
        takerOrderId: 't',
        makerAccount: '0xaa',
        takerAccount: '0xbb',
        priceTicks: 120_000n,
        sizeLots: 3n,
        takerSide: 'SELL',
        executedAt: new Date('2026-11-24T00:00:01Z'),
      } as const;
      await prisma.trade.create({ data: { ...trade, id: 'x-1', sequence: 3n } });
      await assert.rejects(prisma.trade.create({ data: { ...trade, id: 'x-2', sequence: 3n } }), (e: unknown) => isUniqueConstraintViolation(e));
      const stored = await prisma.trade.findMany({ include: { makerOrder: true } });
      assert.deepEqual(
        stored.map((t) => [t.id, t.sequence, t.makerOrder.sizeLots]),
        [['x-1', 3n, 2n ** 40n]],
      );
    } finally {
      await prisma.$disconnect();
    }
  });

  it('reopens the data dir with its data and nothing left to migrate', async () => {
    const { pglite, migrations } = await openEmbeddedDatabase(dataDir);
    assert.deepEqual(migrations.appliedMigrationNames, []);
    const prisma = new PrismaClient({ adapter: prismaAdapterForPglite(pglite) });
    try {
      assert.equal(await prisma.trade.count(), 1);
      const rows = await prisma.$queryRaw<{ migration_name: string; checksum: string }[]>`
        SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`;
      assert.deepEqual(
        rows.map((r) => [r.migration_name, r.checksum]),
        readMigrations(defaultMigrationsDir()).map((m) => [m.name, m.checksum]),
      );
    } finally {
      await prisma.$disconnect();
    }
    assert.equal(pglite.closed, true, '$disconnect closes the embedded database');
  });

  it('one process per data dir: a second open is refused (EMBEDDED_DATA_DIR_LOCKED naming it) until the first closes', async () => {
    const first = await createEmbeddedPrismaClient(dataDir);
    try {
      await assert.rejects(
        openEmbeddedDatabase(dataDir),
        (e: unknown) => e instanceof PersistenceError && e.code === 'EMBEDDED_DATA_DIR_LOCKED' && e.message.includes(dataDir),
      );
      const moduleRef = await Test.createTestingModule({ imports: [PersistenceModule.forRoot({ embeddedDataDir: dataDir })] })
        .compile()
        .then(
          () => 'opened',
          (e: unknown) => (e instanceof PersistenceError ? e.code : String(e)),
        );
      assert.equal(moduleRef, 'EMBEDDED_DATA_DIR_LOCKED');
      assert.equal(await first.trade.count(), 1, 'the holder still works');
    } finally {
      await first.$disconnect();
    }
  });

  it('PrismaService without a database URL runs embedded, migrated on init, closed on destroy', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [PersistenceModule.forRoot({ embeddedDataDir: dataDir })] }).compile();
    await moduleRef.init();
    const service = moduleRef.get(PrismaService);
    assert.equal(service.mode, 'embedded');
    assert.equal(await service.order.count(), 2);
    await moduleRef.close();
    // The data dir is free again: another open succeeds.
    const { pglite } = await openEmbeddedDatabase(dataDir);
    await pglite.close();
  });
});

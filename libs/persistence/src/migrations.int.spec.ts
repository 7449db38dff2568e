// Integration: the in-process migrator (used for embedded PGlite) against a real PostgreSQL server,
// checked against the real Prisma CLI: what one applies, the other must accept as applied.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runPrismaCommand } from './migrate-deploy.js';
import { applyMigrations, pgSqlExecutor, readMigrations } from './migrations.js';
import { PersistenceError } from './persistence.errors.js';
import { defaultMigrationsDir } from './repository-paths.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('in-process migrator vs prisma migrate deploy', () => {
  const databases: TestDatabase[] = [];
  let scratch: string;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'parallax-migrations-'));
  });

  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    for (const db of databases) await db.drop();
  });

  it('applies the migrations once, and the Prisma CLI then finds nothing pending', async () => {
    const db = await createTestDatabase({ migrate: false });
    databases.push(db);
    const names = readMigrations(defaultMigrationsDir()).map((m) => m.name);

    const first = await withClient(db.url, (c) => applyMigrations(pgSqlExecutor(c), defaultMigrationsDir()));
    assert.deepEqual(first.appliedMigrationNames, names);
    const second = await withClient(db.url, (c) => applyMigrations(pgSqlExecutor(c), defaultMigrationsDir()));
    assert.deepEqual(second, { appliedMigrationNames: [], editedMigrationNames: [] });

    const deploy = await runPrismaCommand(['migrate', 'deploy'], db.url);
    assert.equal(deploy.exitCode, 0, deploy.output);
    assert.match(deploy.output, /No pending migrations to apply/);
  });

  it('rolls a failing migration back, records it as failed, and refuses to go on (as does the CLI)', async () => {
    const db = await createTestDatabase({ migrate: false });
    databases.push(db);
    const dir = join(scratch, 'failing');
    cpSync(defaultMigrationsDir(), dir, { recursive: true });
    mkdirSync(join(dir, '99990101000000_broken'));
    writeFileSync(join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE must_not_survive (id int);\nSELECT 1/0;\n');

    await assert.rejects(
      withClient(db.url, (c) => applyMigrations(pgSqlExecutor(c), dir)),
      (e: unknown) => e instanceof PersistenceError && e.code === 'MIGRATION_FAILED' && /division by zero/.test(e.message),
    );
    const state = await withClient(db.url, async (c) => {
      const table = await c.query<{ t: string | null }>("SELECT to_regclass('must_not_survive')::text AS t");
      const rows = await c.query<{ migration_name: string; finished: boolean; logs: string | null }>(
        'SELECT migration_name, finished_at IS NOT NULL AS finished, logs FROM _prisma_migrations ORDER BY migration_name',
      );
      return { table: table.rows[0]?.t ?? null, rows: rows.rows };
    });
    assert.equal(state.table, null, 'the failed script left nothing behind');
    const broken = state.rows.find((r) => r.migration_name === '99990101000000_broken');
    assert.ok(broken, 'the failed migration is recorded');
    assert.equal(broken.finished, false);
    assert.match(broken.logs ?? '', /division by zero/);

    await assert.rejects(
      withClient(db.url, (c) => applyMigrations(pgSqlExecutor(c), dir)),
      (e: unknown) => e instanceof PersistenceError && e.code === 'FAILED_MIGRATION_PENDING',
    );
    // The real CLI (through the offline engine) reads the same table the same way.
    const deploy = await runPrismaCommand(['migrate', 'deploy'], db.url);
    assert.notEqual(deploy.exitCode, 0);
    assert.match(deploy.output, /P3009/);
    assert.match(deploy.output, /99990101000000_broken/);
  });
});

// Applies prisma/migrations where the Prisma CLI cannot reach: the embedded PGlite database (in-process,
// no server). It keeps Prisma Migrate's own bookkeeping so a database stays interchangeable with one
// migrated by `prisma migrate deploy`: the same _prisma_migrations table, the same checksum (SHA-256 of
// migration.sql), the same rule that a failed migration blocks later ones until resolved.
// Servers (PostgreSQL) are migrated by the real CLI: see migrate-deploy.ts.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { PersistenceError } from './persistence.errors.js';

/** One migration folder of prisma/migrations. */
export interface MigrationFile {
  /** Folder name, e.g. 20261124070927_init: also the migration's name in _prisma_migrations. */
  readonly name: string;
  readonly script: string;
  /** Hex SHA-256 of migration.sql, as Prisma records it. */
  readonly checksum: string;
}

/** The minimal SQL surface the migrator needs (PGlite and a single pg connection both provide it). */
export interface SqlExecutor {
  /** One parameterised statement; rows as objects. */
  query<Row>(sql: string, params?: readonly unknown[]): Promise<readonly Row[]>;
  /** A multi-statement script in one simple-protocol round trip (one implicit transaction). */
  exec(script: string): Promise<void>;
}

/** A SqlExecutor on one pg connection (a Client, or a PoolClient held for the whole run). */
export function pgSqlExecutor(client: ClientBase): SqlExecutor {
  return {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, [...params])).rows as Row[],
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}

export interface AppliedMigrations {
  readonly appliedMigrationNames: string[];
  /** Applied migrations whose migration.sql changed since (Prisma warns about these in `migrate status`). */
  readonly editedMigrationNames: string[];
}

/** Prisma Migrate's table, as the schema engine creates it on PostgreSQL. */
const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** The advisory lock key Prisma Migrate holds while migrating. */
const MIGRATE_LOCK_KEY = 72707369;

export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/** Reads the migration folders in the order Prisma applies them (by folder name). */
export function readMigrations(migrationsDir: string): MigrationFile[] {
  const lockFile = join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lockFile)) {
    throw new PersistenceError('MIGRATIONS_NOT_FOUND', `No migration_lock.toml in ${migrationsDir}`);
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lockFile, 'utf8'))?.[1];
  if (provider !== 'postgresql') {
    throw new PersistenceError(
      'MIGRATIONS_PROVIDER_MISMATCH',
      `${lockFile} is for provider ${provider ?? '(none)'}, not postgresql`,
    );
  }
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => {
      const script = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: migrationChecksum(script) };
    });
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
  started_at: Date | string;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Applies the migrations not yet applied, in order, recording each in _prisma_migrations the way
 * `prisma migrate deploy` does. Must run on one connection (it holds Prisma's advisory lock).
 */
export async function applyMigrations(db: SqlExecutor, migrationsDir: string): Promise<AppliedMigrations> {
  const migrations = readMigrations(migrationsDir);
  await db.query(`SELECT pg_advisory_lock(${MIGRATE_LOCK_KEY})`);
  try {
    await db.exec(MIGRATIONS_TABLE_DDL);
    const rows = await db.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, started_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
    if (failed) {
      throw new PersistenceError(
        'FAILED_MIGRATION_PENDING',
        `The migration ${failed.migration_name} failed earlier and is not resolved: no further migration is applied (see prisma migrate resolve)`,
      );
    }
    const applied = new Map(rows.filter((r) => r.finished_at !== null && r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const appliedMigrationNames: string[] = [];
    const editedMigrationNames: string[] = [];
    for (const migration of migrations) {
      const previous = applied.get(migration.name);
      if (previous) {
        if (previous.checksum !== migration.checksum) editedMigrationNames.push(migration.name);
        continue;
      }
      const id = randomUUID();
      await db.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, started_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 0)',
        [id, migration.checksum, migration.name],
      );
      try {
        await db.exec(migration.script);
      } catch (error) {
        await db.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, errorMessage(error)]);
        throw new PersistenceError('MIGRATION_FAILED', `Migration ${migration.name} failed: ${errorMessage(error)}`, { cause: error });
      }
      await db.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE id = $1', [id]);
      appliedMigrationNames.push(migration.name);
    }
    return { appliedMigrationNames, editedMigrationNames };
  } finally {
    await db.query(`SELECT pg_advisory_unlock(${MIGRATE_LOCK_KEY})`);
  }
}

// Embedded PostgreSQL (PGlite, WebAssembly, in-process) for `npm start` on one machine without a server.
// Same schema, same migrations (applied by migrations.ts with Prisma's bookkeeping), same Prisma client.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { lockDataDir } from './data-dir-lock.js';
import { PrismaClient } from './generated/client.js';
import { applyMigrations, type AppliedMigrations, type SqlExecutor } from './migrations.js';
import { defaultMigrationsDir } from './repository-paths.js';

export interface EmbeddedDatabaseOptions {
  /** Defaults to the repository's prisma/migrations. */
  readonly migrationsDir?: string;
}

export function pgliteSqlExecutor(db: PGlite): SqlExecutor {
  return {
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await db.query<Row>(sql, [...params])).rows,
    exec: async (script: string) => {
      await db.exec(script);
    },
  };
}

/**
 * A PGlite instance on `dataDir` (undefined: in memory) holding the directory's lock (data-dir-lock.ts) until it is
 * closed: a second opener, in this process or another, gets EMBEDDED_DATA_DIR_LOCKED instead of a corrupt database.
 */
export function newLockedPglite(dataDir?: string): PGlite {
  if (dataDir === undefined) return new PGlite();
  const lock = lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = new PGlite(dataDir);
  } catch (error) {
    lock.release();
    throw error;
  }
  const close = pglite.close.bind(pglite);
  pglite.close = async () => {
    try {
      await close();
    } finally {
      lock.release();
    }
  };
  return pglite;
}

/**
 * Opens (or creates) a PGlite database and brings it up to date with the migrations.
 * `dataDir` undefined: in memory, gone when closed. A data dir is locked for this process (data-dir-lock.ts)
 * until the database is closed: a second opener gets EMBEDDED_DATA_DIR_LOCKED.
 */
export async function openEmbeddedDatabase(
  dataDir?: string,
  options: EmbeddedDatabaseOptions = {},
): Promise<{ pglite: PGlite; migrations: AppliedMigrations }> {
  const pglite = newLockedPglite(dataDir);
  try {
    await pglite.waitReady;
  } catch (error) {
    await pglite.close().catch(() => undefined);
    throw error;
  }
  try {
    const migrations = await applyMigrations(pgliteSqlExecutor(pglite), options.migrationsDir ?? defaultMigrationsDir());
    return { pglite, migrations };
  } catch (error) {
    await pglite.close();
    throw error;
  }
}

/**
 * The PGlite driver adapter factory, with the adapter's dispose closing the database, so that the
 * client's `$disconnect()` releases the data dir (PGlite allows one process per data dir).
 */
export function prismaAdapterForPglite(pglite: PGlite): PrismaPGlite {
  const factory = new PrismaPGlite(pglite);
  return Object.assign(Object.create(factory) as PrismaPGlite, {
    connect: async () => {
      const adapter = await factory.connect();
      return Object.assign(adapter, {
        dispose: async () => {
          if (!pglite.closed) await pglite.close();
        },
      });
    },
  });
}

/**
 * An embedded database with the schema migrated, behind a Prisma client. `$disconnect()` closes it.
 * Opening a fresh database takes seconds (PGlite initialises a cluster); reopening a data dir ~1-2 s.
 */
export async function createEmbeddedPrismaClient(dataDir?: string, options: EmbeddedDatabaseOptions = {}): Promise<PrismaClient> {
  const { pglite } = await openEmbeddedDatabase(dataDir, options);
  return new PrismaClient({ adapter: prismaAdapterForPglite(pglite) });
}

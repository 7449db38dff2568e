// A throw-away PostgreSQL database per test suite: created on the server, migrated exactly as
// `npm run db:migrate` migrates (the real Prisma CLI), dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { runMigrateDeploy } from './migrate-deploy.js';

export const DEFAULT_DATABASE_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

const TEST_DATABASE_PREFIX = 'parallax_test_';
/** Leftovers of crashed runs older than this are dropped when a new test database is made. */
const STALE_AFTER_SECONDS = 6 * 3600;

export interface TestDatabase {
  readonly name: string;
  /** Connection URL of the new database (same server and role as the admin URL). */
  readonly url: string;
  /** Drops the database (terminating open connections). Idempotent. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Server and role that may CREATE DATABASE; defaults to env DATABASE_ADMIN_URL, then the local server. */
  readonly adminUrl?: string;
  /** Apply prisma/migrations with `prisma migrate deploy` (default true). */
  readonly migrate?: boolean;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropStaleTestDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
    `${TEST_DATABASE_PREFIX}%`,
  ]);
  const now = Math.floor(Date.now() / 1000);
  for (const { datname } of rows) {
    const createdAt = Number(/^parallax_test_(\d+)_/.exec(datname)?.[1]);
    if (Number.isFinite(createdAt) && now - createdAt > STALE_AFTER_SECONDS) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => undefined);
    }
  }
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? process.env['DATABASE_ADMIN_URL'] ?? DEFAULT_DATABASE_ADMIN_URL;
  const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, async (admin) => {
    await dropStaleTestDatabases(admin);
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  let dropped = false;
  const database: TestDatabase = {
    name,
    url: withDatabase(adminUrl, name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
  if (options.migrate ?? true) {
    try {
      await runMigrateDeploy(database.url);
    } catch (error) {
      await database.drop();
      throw error;
    }
  }
  return database;
}

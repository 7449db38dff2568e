import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export interface PrismaClientOptions {
  /** Connection pool size (pg's default is 10). */
  readonly maxConnections?: number;
}

/**
 * A Prisma client for a PostgreSQL server (Prisma 7: query compiler in-process, pg through
 * @prisma/adapter-pg; no native engine). Call `$disconnect()` to close the pool.
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg(
    options.maxConnections === undefined
      ? { connectionString: databaseUrl }
      : { connectionString: databaseUrl, max: options.maxConnections },
  );
  return new PrismaClient({ adapter });
}

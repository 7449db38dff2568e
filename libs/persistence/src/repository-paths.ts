import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PersistenceError } from './persistence.errors.js';

let cachedRoot: string | undefined;

/**
 * The monorepo root: the nearest ancestor of this module holding prisma/schema.prisma and the Prisma
 * runner (works from src/ and from dist/, however deep the file).
 */
export function repositoryRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'prisma', 'schema.prisma')) && existsSync(join(dir, 'scripts', 'prisma', 'prisma.mjs'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new PersistenceError('REPOSITORY_NOT_FOUND', 'prisma/schema.prisma not found above the persistence package');
    }
    dir = parent;
  }
}

/** prisma/migrations of the repository. */
export function defaultMigrationsDir(): string {
  return join(repositoryRoot(), 'prisma', 'migrations');
}

/** scripts/prisma/prisma.mjs: the Prisma CLI runner behind `npm run db:*`. */
export function prismaRunnerPath(): string {
  return join(repositoryRoot(), 'scripts', 'prisma', 'prisma.mjs');
}

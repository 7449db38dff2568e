import { spawn } from 'node:child_process';
import { PersistenceError } from './persistence.errors.js';
import { prismaRunnerPath, repositoryRoot } from './repository-paths.js';

export interface PrismaCommandResult {
  /** Everything the CLI printed (stdout and stderr interleaved). */
  readonly output: string;
  readonly exitCode: number;
}

/** Runs the Prisma CLI through scripts/prisma/prisma.mjs with DATABASE_URL set; resolves with any exit code. */
export function runPrismaCommand(args: readonly string[], databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<PrismaCommandResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaRunnerPath(), ...args], {
      cwd: repositoryRoot(),
      env: { ...process.env, DATABASE_URL: databaseUrl, PARALLAX_PRISMA_QUIET: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new PersistenceError('PRISMA_CLI_UNAVAILABLE', `Could not run the Prisma CLI: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ output: Buffer.concat(chunks).toString('utf8'), exitCode: code ?? 1 });
    });
  });
}

export type MigrateDeployResult = PrismaCommandResult;

/**
 * Runs `prisma migrate deploy` against `databaseUrl` through scripts/prisma/prisma.mjs: the same path as
 * `npm run db:migrate` (the real Prisma CLI; the WebAssembly schema engine when no native one is
 * installed, so it works offline). Creates the database if it does not exist.
 */
export async function runMigrateDeploy(databaseUrl: string, options: { timeoutMs?: number } = {}): Promise<MigrateDeployResult> {
  const result = await runPrismaCommand(['migrate', 'deploy'], databaseUrl, options);
  if (result.exitCode !== 0) {
    throw new PersistenceError('MIGRATE_DEPLOY_FAILED', `prisma migrate deploy failed (exit code ${String(result.exitCode)}):\n${result.output}`);
  }
  return result;
}

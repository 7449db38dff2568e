export type PersistenceErrorCode =
  /** prisma/migrations (or the given folder) has no migration_lock.toml / migrations. */
  | 'MIGRATIONS_NOT_FOUND'
  /** The migrations were written for another database provider than PostgreSQL. */
  | 'MIGRATIONS_PROVIDER_MISMATCH'
  /** A migration script failed; the database keeps a failed row in _prisma_migrations. */
  | 'MIGRATION_FAILED'
  /** A previous migration failed and was not resolved: no further migration is applied (Prisma P3009). */
  | 'FAILED_MIGRATION_PENDING'
  /** `prisma migrate deploy` (scripts/prisma/prisma.mjs) exited non-zero. */
  | 'MIGRATE_DEPLOY_FAILED'
  /** The Prisma CLI runner could not be started. */
  | 'PRISMA_CLI_UNAVAILABLE'
  /** The repository root (prisma/, scripts/prisma/) could not be located from this package. */
  | 'REPOSITORY_NOT_FOUND'
  /** A settlement fill is not in the state the operation requires (e.g. already taken by another batch); nothing changed. */
  | 'SETTLEMENT_FILL_CONFLICT'
  /** No settlement batch with that id. */
  | 'SETTLEMENT_BATCH_NOT_FOUND'
  /** A settlement batch with that id exists already. */
  | 'SETTLEMENT_BATCH_EXISTS'
  /** The settlement batch's status does not allow the operation (e.g. confirming a batch that is not mined). */
  | 'SETTLEMENT_BATCH_STATE'
  /** The transaction hash is journaled for another batch. */
  | 'SETTLEMENT_TX_CONFLICT'
  /** The arguments contradict themselves (a fill listed twice, a batch without fills). */
  | 'SETTLEMENT_INVALID_REQUEST'
  /** Another process holds the settlement writer lock of this database (one writer per contract). */
  | 'SETTLEMENT_WRITER_LOCKED'
  /** Another live process (or this one) has the embedded PGlite data directory open: one process per directory. */
  | 'EMBEDDED_DATA_DIR_LOCKED'
  /** This process no longer holds the settlement writer lock (its session ended): it must not broadcast. */
  | 'SETTLEMENT_WRITER_LOST';

/** Errors of the persistence layer, with a stable code. */
export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';

  constructor(
    readonly code: PersistenceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export { PrismaClient, Prisma } from './generated/client.js';
export type { Market, Order, Trade } from './generated/client.js';
export {
  MarketStatus,
  OrderStatus,
  OrderType,
  SettlementBatchStatus,
  SettlementFillStatus,
  Side,
  TimeInForce,
} from './generated/enums.js';
export { createPrismaClient, type PrismaClientOptions } from './prisma-client.js';
export {
  createEmbeddedPrismaClient,
  openEmbeddedDatabase,
  pgliteSqlExecutor,
  prismaAdapterForPglite,
  type EmbeddedDatabaseOptions,
} from './embedded.js';
export {
  applyMigrations,
  migrationChecksum,
  pgSqlExecutor,
  readMigrations,
  type AppliedMigrations,
  type MigrationFile,
  type SqlExecutor,
} from './migrations.js';
export { runMigrateDeploy, runPrismaCommand, type MigrateDeployResult, type PrismaCommandResult } from './migrate-deploy.js';
export { createTestDatabase, DEFAULT_DATABASE_ADMIN_URL, type TestDatabase, type TestDatabaseOptions } from './test-database.js';
export { isUniqueConstraintViolation, isForeignKeyViolation } from './prisma-errors.js';
export { PersistenceError, type PersistenceErrorCode } from './persistence.errors.js';
export { DATA_DIR_LOCK_FILE, lockDataDir, type DataDirLock } from './data-dir-lock.js';
export { PERSISTENCE_OPTIONS, type PersistenceOptions } from './persistence.tokens.js';
export { PrismaService } from './prisma.service.js';
export { PersistenceModule, type PersistenceModuleAsyncOptions } from './persistence.module.js';
export { defaultMigrationsDir, repositoryRoot } from './repository-paths.js';
export {
  SettlementRepository,
  orderRowKey,
  type OrderKey,
  type BatchContents,
  type BatchRow,
  type Broadcast,
  type BroadcastRow,
  type FailedFill,
  type FillCounts,
  type FillKey,
  type FillSettlementView,
  type Hex,
  type MinedReceipt,
  type NewBatch,
  type PendingFill,
  type PendingStats,
  type SettledFill,
  type SettlementFillRecord,
  type SettlementOrderRecord,
} from './settlement/settlement.repository.js';
export { acquireWriterLease, embeddedWriterLease, settlementLockKey, type WriterLease } from './settlement/writer-lease.js';
export { AccountReadStore, type BalanceRecord, type TransferKind, type TransferRecord } from './read-models/account-read.store.js';
export {
  MarketReadStore,
  type HistoryQuery,
  type MarketOrderStatus,
  type MarketsAsOf,
  type StoredCandle,
  type StoredFill,
  type StoredOrder,
  type StoredTrade,
} from './read-models/market-read.store.js';
export { missingReadModelTables, READ_MODEL_TABLES } from './read-models/read-model-schema.js';

// A standalone gateway's read models (DATABASE_URL): the projector's rows (balances, transfers, orders, trades,
// candles) and the settlement service's per-fill status, through the same query definitions the projector and
// settlement use (libs/persistence), on a small pool of its own. Read-only: the gateway runs no migrations and
// writes nothing. The schema belongs to the deployment's migrate step (docker-compose `migrate`, settlement's
// init container in k8s; the gateway's own init container waits for `db:status`). Until the read models' tables
// exist, /ready answers 503 UNAVAILABLE naming the missing ones, so no load balancer routes to it (a read that
// reaches it meanwhile is a 500 INTERNAL without detail). It starts anyway: the tables may appear later.
import { databaseIndicator, type ServiceHealthIndicator } from '@parallax/observability';
import { AccountReadStore, createPrismaClient, MarketReadStore, missingReadModelTables, SettlementRepository } from '@parallax/persistence';
import type { AccountReadModel } from './account/account-read-model.js';
import type { FillSettlementReadModel, MarketHistoryReadModel } from './history/history-read-model.js';

/** The gateway's pool: reads are short, and many gateways share one server with the writers. */
export const GATEWAY_DB_CONNECTIONS = 4;

export interface GatewayDatabase {
  readonly accountReadModel: AccountReadModel;
  readonly historyReadModel: MarketHistoryReadModel;
  readonly fillSettlement: FillSettlementReadModel;
  /** Readiness: the server answers and the read models' tables exist. */
  readonly health: ServiceHealthIndicator;
  close(): Promise<void>;
}

export function openGatewayDatabase(databaseUrl: string, maxConnections = GATEWAY_DB_CONNECTIONS): GatewayDatabase {
  const prisma = createPrismaClient(databaseUrl, { maxConnections });
  return {
    accountReadModel: new AccountReadStore(prisma),
    historyReadModel: new MarketReadStore(prisma),
    fillSettlement: new SettlementRepository(prisma),
    health: databaseIndicator('PostgreSQL (read models, read-only)', async () => {
      const missing = await missingReadModelTables(prisma);
      if (missing.length > 0) throw new Error(`read-model tables missing: ${missing.join(', ')} (the migrations have not been applied yet)`);
    }),
    close: () => prisma.$disconnect(),
  };
}

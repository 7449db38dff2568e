// Whether a database holds the read models' tables: a reader that runs no migrations (the gateway: the
// migrations are applied by the deployment's migrate step, the projector writes the rows) asks this before it
// reports ready, and reports the missing tables by name until they exist.
import type { PrismaClient } from '../generated/client.js';

/** The tables the gateway's history, order, balance and transfer reads query. */
export const READ_MODEL_TABLES = [
  'account_balances',
  'account_transfers',
  'market_orders',
  'market_trades',
  'market_candles',
  'account_ids',
  'market_client_order_ids',
  'projector_markets',
] as const;

/** The read-model tables missing from the database (empty when the schema is there). */
export async function missingReadModelTables(prisma: PrismaClient, tables: readonly string[] = READ_MODEL_TABLES): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ name: string }[]>`SELECT t AS name FROM unnest(${[...tables]}::text[]) AS t WHERE to_regclass(t) IS NULL ORDER BY t`;
  return rows.map((r) => r.name);
}

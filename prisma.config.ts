// Prisma CLI configuration (Prisma 7 reads the datasource URL from here, not from schema.prisma).
//
// DATABASE_URL is read from process.env directly: Prisma's env() throws when the variable is unset, even for
// `prisma generate`, which needs no database. The fallback is the local development database.
// Run the CLI through `npm run db:*` (scripts/prisma/prisma.mjs), which also picks the schema engine
// (native when installed, Prisma's WebAssembly build otherwise) so that migrations work offline.
import { defineConfig } from 'prisma/config';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/parallax';
const shadowDatabaseUrl = process.env['SHADOW_DATABASE_URL'];

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: shadowDatabaseUrl === undefined ? { url: databaseUrl } : { url: databaseUrl, shadowDatabaseUrl },
});

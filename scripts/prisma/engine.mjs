// Prisma's schema engine as WebAssembly, driven through a PostgreSQL driver adapter (no native binary, no
// download). Used by schema-engine.mjs (the stand-in for the native `schema-engine` executable).
//
// Which .wasm: the Prisma CLI package ships the schema engine built from exactly the CLI's engine commit
// (node_modules/prisma/build/schema_engine_bg.wasm) but not its JavaScript bindings; @prisma/schema-engine-wasm
// ships bindings and a build of its own commit. We prefer the CLI's build (same engine as the native binary the
// CLI would download) when its import section matches the bindings exactly, and fall back to the package's.
/* global WebAssembly */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, DriverAdapterError } from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);

/** Postgres OIDs: the internal one-byte "char" type, which adapter-pg 7.10 cannot map, and text. */
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

function wasmCandidates() {
  const out = [];
  const override = process.env['PARALLAX_SCHEMA_ENGINE_WASM'];
  if (override) out.push({ path: override, source: 'PARALLAX_SCHEMA_ENGINE_WASM' });
  try {
    const cliDir = dirname(require.resolve('prisma/package.json'));
    out.push({ path: join(cliDir, 'build', 'schema_engine_bg.wasm'), source: 'prisma CLI' });
  } catch {
    // no CLI package: only the npm package remains
  }
  const pkgDir = dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
  out.push({ path: join(pkgDir, 'schema_engine_bg.wasm'), source: '@prisma/schema-engine-wasm' });
  return out;
}

let loaded;

/**
 * Instantiates the schema engine WebAssembly module once per process.
 * @returns {Promise<{ SchemaEngine: any, version: () => string, wasmPath: string, source: string }>}
 */
export async function loadSchemaEngineWasm() {
  if (loaded) return loaded;
  // The engine's panic hook reports the panic message here before the wasm traps ("unreachable").
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: undefined,
    set_message(message) {
      this.message = message;
    },
  };
  const bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const provided = new Set(Object.keys(bindings));
  for (const candidate of wasmCandidates()) {
    if (!existsSync(candidate.path)) continue;
    const module = new WebAssembly.Module(readFileSync(candidate.path));
    const imports = WebAssembly.Module.imports(module);
    // wasm-bindgen names every import with a hash of its signature: equal names, compatible glue.
    if (!imports.every((i) => i.module === './schema_engine_bg.js' && provided.has(i.name))) continue;
    const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': bindings });
    bindings.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    loaded = { SchemaEngine: bindings.SchemaEngine, version: bindings.version, wasmPath: candidate.path, source: candidate.source };
    return loaded;
  }
  throw new Error('No usable schema engine WebAssembly module (prisma/build or @prisma/schema-engine-wasm)');
}

function charAsText(result) {
  if (Array.isArray(result)) return result.map(charAsText);
  for (const field of result?.fields ?? []) {
    if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  }
  return result;
}

/**
 * pg client that reports Postgres's internal "char" columns (pg_class.relkind, pg_constraint.contype, ...,
 * read by the engine's introspection) as text: pg already decodes them as strings, adapter-pg 7.10 only
 * refuses the OID.
 */
class IntrospectionSafeClient extends pg.Client {
  query(config, values, callback) {
    if (config !== null && typeof config === 'object' && typeof config.submit === 'function') {
      return super.query(config, values, callback);
    }
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err, res) => cb(err, err ? res : charAsText(res));
      return typeof values === 'function' ? super.query(config, wrapped) : super.query(config, values, wrapped);
    }
    return super.query(config, values).then(charAsText);
  }
}

function toDriverError(error) {
  if (error !== null && typeof error === 'object' && typeof error.code === 'string' && typeof error.severity === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: error.code,
      severity: error.severity,
      message: error.message,
      detail: error.detail,
      column: error.column,
      hint: error.hint,
    });
  }
  return error;
}

/**
 * Runs a migration script the way the native engine does: the whole script as one simple-protocol query,
 * which PostgreSQL executes as one implicit transaction. (adapter-pg splits on every ';', which breaks
 * function bodies and string literals and leaves half-applied migrations behind.)
 */
function withWholeScriptExecution(adapter, pool) {
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (error) {
      throw toDriverError(error);
    }
  };
  return adapter;
}

async function connectAdapter(connectionString, onDispose) {
  const pool = new pg.Pool({ connectionString, Client: IntrospectionSafeClient, max: 1 });
  const factory = new PrismaPg(pool, { disposeExternalPool: true });
  const adapter = withWholeScriptExecution(await factory.connect(), pool);
  if (onDispose) {
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await onDispose();
    };
  }
  return adapter;
}

/** Replaces the database name in a PostgreSQL URL. */
export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export function databaseName(url) {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name === '' ? 'postgres' : name;
}

function quoteIdent(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Runs `fn` with a client connected to the server's maintenance database (postgres, else template1),
 * for CREATE / DROP DATABASE.
 */
export async function withMaintenanceClient(url, fn) {
  let lastError;
  for (const db of ['postgres', 'template1']) {
    const client = new pg.Client({ connectionString: withDatabase(url, db) });
    try {
      await client.connect();
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      continue;
    }
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  throw lastError;
}

export async function createDatabase(url) {
  const name = databaseName(url);
  await withMaintenanceClient(url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return name;
}

export async function dropDatabase(url) {
  const name = databaseName(url);
  await withMaintenanceClient(url, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
  return name;
}

/**
 * The migration-aware adapter factory the engine connects through. The shadow database is the configured
 * shadowDatabaseUrl, or a throw-away database created next to the main one and dropped when released
 * (adapter-pg's own connectToShadowDb ignores the database when given a connection string).
 */
export function createAdapterFactory({ url, shadowDatabaseUrl }) {
  const factory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectAdapter(url),
    connectToShadowDb: async () => {
      if (shadowDatabaseUrl) return connectAdapter(shadowDatabaseUrl);
      const shadowUrl = withDatabase(url, `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`);
      await createDatabase(shadowUrl);
      return connectAdapter(shadowUrl, () => dropDatabase(shadowUrl));
    },
  };
  return bindMigrationAwareSqlAdapterFactory(factory);
}

/**
 * Creates a schema engine instance.
 * @param {{ url: string, shadowDatabaseUrl?: string, datamodels?: [string, string][], log?: (line: string) => void }} options
 */
export async function createSchemaEngine({ url, shadowDatabaseUrl, datamodels, log }) {
  const { SchemaEngine } = await loadSchemaEngineWasm();
  const adapterFactory = createAdapterFactory({ url, shadowDatabaseUrl });
  return SchemaEngine.new({ datamodels: datamodels && datamodels.length > 0 ? datamodels : undefined }, log ?? (() => undefined), adapterFactory);
}

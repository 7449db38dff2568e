#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` executable, backed by Prisma's own WebAssembly build of the
// same engine (see engine.mjs). The Prisma CLI runs it when PRISMA_SCHEMA_ENGINE_BINARY points here
// (scripts/prisma/prisma.mjs does that when no native engine is installed), exactly as it runs the native one:
//
//   schema-engine --version
//   schema-engine --datasource '{"url":...}' cli can-connect-to-database | create-database | drop-database
//   schema-engine [--datamodels <file>]... [--datasource '{"url":...,"shadowDatabaseUrl":...}']
//       -> JSON-RPC 2.0, one request per line on stdin, one response per line on stdout,
//          JSON log lines on stderr ({"level","fields":{"message",...},"target"}).
//
// Engine errors keep the native shape (error.data = { is_panic, message, error_code?, meta? }) so the CLI
// prints them, and exits with them, the way it does for the native engine.
/* global WebAssembly */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createDatabase, createSchemaEngine, databaseName, dropDatabase, loadSchemaEngineWasm } from './engine.mjs';

const LOGGER_TARGET = 'schema_engine::logger';

function parseArgs(argv) {
  const out = { datamodels: [], datasource: undefined, cli: undefined, version: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--version' || a === '-V') out.version = true;
    else if (a === '--datamodels') out.datamodels.push(argv[++i]);
    else if (a === '--datasource') out.datasource = JSON.parse(argv[++i]);
    else if (a === '--enabled-preview-features' || a === '--extension-types') i++;
    else if (a === 'cli') out.cli = argv[++i];
    else throw new Error(`schema-engine (wasm): unknown argument ${a}`);
  }
  return out;
}

function logLine(level, message, extra = {}) {
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...extra }, target: LOGGER_TARGET })}\n`,
  );
}

function hostOf(url) {
  const u = new URL(url);
  return `${u.hostname}:${u.port === '' ? '5432' : u.port}`;
}

/** Maps a connection error to the user-facing error the native engine reports. */
function connectionError(error, url) {
  const code = error?.code;
  if (code === '3D000') {
    return { error_code: 'P1003', message: `Database \`${databaseName(url)}\` does not exist on the database server at \`${hostOf(url)}\`.` };
  }
  if (code === '28P01' || code === '28000') {
    return { error_code: 'P1000', message: `Authentication failed against database server at \`${hostOf(url)}\`, the provided database credentials for \`${decodeURIComponent(new URL(url).username)}\` are not valid.` };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') {
    return { error_code: 'P1001', message: `Can't reach database server at \`${hostOf(url)}\`\n\nPlease make sure your database server is running at \`${hostOf(url)}\`.` };
  }
  return { message: String(error?.message ?? error) };
}

async function canConnect(url) {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runCliCommand(command, datasource) {
  // The CLI skips the first stderr line of a `cli` command (the native engine's start-up log line).
  logLine('INFO', 'Starting schema engine CLI (WebAssembly stand-in)');
  const url = datasource?.url;
  if (!url) throw Object.assign(new Error('The datasource URL is missing (--datasource).'), { userFacing: true });
  try {
    switch (command) {
      case 'can-connect-to-database':
        await canConnect(url);
        break;
      case 'create-database':
        await createDatabase(url);
        logLine('INFO', `Database '${databaseName(url)}' was successfully created.`);
        break;
      case 'drop-database':
        await dropDatabase(url);
        logLine('INFO', `The database was successfully dropped.`);
        break;
      default:
        throw new Error(`unknown cli command ${command}`);
    }
    return 0;
  } catch (error) {
    const { message, error_code } = connectionError(error, url);
    logLine('ERROR', message, error_code ? { error_code } : {});
    return 1;
  }
}

/** Error message without the engine's span trace ("   0: schema_engine_wasm::...") appended to it. */
function withoutSpanTrace(message) {
  const at = message.search(/\n\s+0: /);
  return at < 0 ? message : message.slice(0, at);
}

/**
 * The native engine's JSON-RPC error: data = { is_panic, message, error_code?, meta? }. The wasm engine
 * rejects with a JS Error whose `code` is the Prisma error code (P3009, P3018, ...) for known errors, and
 * traps with a WebAssembly.RuntimeError on a panic (its message left in PRISMA_WASM_PANIC_REGISTRY).
 */
function toRpcError(error) {
  const message = String(error?.message ?? error);
  let data;
  if (error instanceof WebAssembly.RuntimeError) {
    const registry = globalThis.PRISMA_WASM_PANIC_REGISTRY;
    data = { is_panic: true, message: registry?.message ?? message, backtrace: error.stack };
  } else if (typeof error?.code === 'string' && /^P\d{4}$/.test(error.code)) {
    data = { is_panic: false, message: withoutSpanTrace(message), error_code: error.code, meta: error.meta ?? {} };
  } else {
    data = { is_panic: false, message };
  }
  return { code: 4466, message: 'An error happened. Check the data field for details.', data };
}

async function serveRpc({ datamodels, datasource }) {
  const files = datamodels.map((path) => [path, readFileSync(path, 'utf8')]);
  let enginePromise;
  const engine = () => {
    enginePromise ??= createSchemaEngine({
      url: datasource?.url ?? 'postgresql://localhost/postgres',
      shadowDatabaseUrl: datasource?.shadowDatabaseUrl,
      datamodels: files,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return enginePromise;
  };

  const methods = {
    getDatabaseVersion: async (params) => (await engine()).version(params ?? undefined),
    version: async (params) => (await engine()).version(params ?? undefined),
    // The wasm build cannot reach a shadow database from createMigration (it is not handed the adapter
    // factory, unlike diff), so `migrate dev` gets the same script from a diff: the migrations replayed on a
    // shadow database -> the schema. That is what the native createMigration renders.
    createMigration: async (params) => {
      const e = await engine();
      try {
        return await e.createMigration(params);
      } catch (error) {
        if (!/shadow DB must be provided/i.test(String(error?.message))) throw error;
      }
      const diff = await e.diff({
        from: { tag: 'migrations', ...params.migrationsList },
        to: { tag: 'schemaDatamodel', files: params.schema.files },
        script: true,
        exitCode: true,
        filters: params.filters,
      });
      const empty = diff.exitCode !== 2;
      if (empty && !params.draft) {
        return { connectorType: 'postgresql', generatedMigrationName: '', migrationScript: null, extension: 'sql' };
      }
      const timestamp = new Date().toISOString().replace(/[-:TZ.]/g, '').slice(0, 14);
      return {
        connectorType: 'postgresql',
        generatedMigrationName: params.migrationName ? `${timestamp}_${params.migrationName}` : timestamp,
        migrationScript: diff.stdout ?? '',
        extension: 'sql',
      };
    },
    // Same limitation for evaluateDataLoss (`migrate dev`): count the steps from the diff and, since the
    // data checks need the shadow connector, warn about every non-empty migration so the CLI asks first.
    evaluateDataLoss: async (params) => {
      const e = await engine();
      try {
        return await e.evaluateDataLoss(params);
      } catch (error) {
        if (!/shadow DB must be provided/i.test(String(error?.message))) throw error;
      }
      const diff = await e.diff({
        from: { tag: 'migrations', ...params.migrationsList },
        to: { tag: 'schemaDatamodel', files: params.schema.files },
        script: true,
        exitCode: true,
        filters: params.filters,
      });
      const migrationSteps = diff.exitCode === 2 ? Math.max(1, (diff.stdout?.match(/^-- \w+$/gm) ?? []).length) : 0;
      const warnings =
        migrationSteps === 0
          ? []
          : [{ stepIndex: 0, message: 'The offline (WebAssembly) schema engine cannot check this change for data loss: review the SQL (migrate dev --create-only) before applying it to a database with data.' }];
      return { migrationSteps, unexecutableSteps: [], warnings };
    },
    createDatabase: async (params) => {
      const url = params?.datasource?.tag === 'ConnectionString' ? params.datasource.url : datasource?.url;
      if (!url) throw new Error('createDatabase: no connection string');
      return { databaseName: await createDatabase(url) };
    },
  };
  const call = async (method, params) => {
    if (Object.hasOwn(methods, method)) return methods[method](params);
    const e = await engine();
    if (typeof e[method] !== 'function' || method.startsWith('_') || method === 'free') {
      throw new Error(`The WebAssembly schema engine does not implement the RPC method \`${method}\`.`);
    }
    const result = (await e[method](params ?? {})) ?? {};
    if (method === 'diff' && typeof result.stdout === 'string') {
      // The native engine hands diff output to the CLI through a `print` request (the CLI owns stdout
      // and --output); the CLI ignores `stdout` in the result.
      await requestClient('print', { content: result.stdout });
      return { ...result, stdout: null };
    }
    return result;
  };

  // Requests from the engine to the CLI (only `print`), answered on stdin.
  const pendingClientRequests = new Map();
  let nextClientRequestId = 1;
  const requestClient = (method, params) =>
    new Promise((resolve, reject) => {
      const id = nextClientRequestId++;
      pendingClientRequests.set(id, { resolve, reject });
      process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });

  // One request at a time, like the native engine's single connection.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } })}\n`);
      return;
    }
    if (request.method === undefined) {
      const pending = pendingClientRequests.get(request.id);
      pendingClientRequests.delete(request.id);
      if (request.error !== undefined) pending?.reject(new Error(JSON.stringify(request.error)));
      else pending?.resolve(request.result);
      return;
    }
    if (request.id === undefined) return; // a notification: nothing to answer
    queue = queue.then(async () => {
      let response;
      try {
        response = { jsonrpc: '2.0', id: request.id, result: await call(request.method, request.params) };
      } catch (error) {
        response = { jsonrpc: '2.0', id: request.id, error: toRpcError(error) };
      }
      process.stdout.write(`${JSON.stringify(response, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    });
  });
  await new Promise((resolve) => rl.on('close', resolve));
  await queue;
  // Like the native engine: stdin closed, work done, exit (pg pools would otherwise idle for seconds).
  process.exit(0);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.version) {
    const { version } = await loadSchemaEngineWasm();
    process.stdout.write(`schema-engine-cli ${version()}\n`);
    return 0;
  }
  if (args.cli) return runCliCommand(args.cli, args.datasource);
  await serveRpc(args);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    logLine('ERROR', String(error?.stack ?? error));
    process.exitCode = 1;
  },
);

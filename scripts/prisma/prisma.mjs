#!/usr/bin/env node
// Runs the real Prisma CLI (node_modules/prisma) with a schema engine that works offline.
//
//   node scripts/prisma/prisma.mjs <prisma args...>      e.g. generate | migrate deploy | migrate status
//
// The CLI downloads its native schema engine on every command unless one is installed (npm 11 skips
// @prisma/engines' postinstall download) or PRISMA_SCHEMA_ENGINE_BINARY names one. Choice of engine:
//   PRISMA_SCHEMA_ENGINE_BINARY set by you  -> used as is
//   PARALLAX_SCHEMA_ENGINE=native           -> the CLI's own behaviour (downloads the native engine: needs internet)
//   PARALLAX_SCHEMA_ENGINE=wasm             -> scripts/prisma/schema-engine.mjs (Prisma's WebAssembly engine)
//   PARALLAX_SCHEMA_ENGINE=auto (default)   -> native if already installed, else wasm
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
const shim = fileURLToPath(new URL('./schema-engine.mjs', import.meta.url));

function installedNativeEngine() {
  const dirs = [];
  try {
    dirs.push(dirname(require.resolve('@prisma/engines/package.json')));
  } catch {
    // not installed
  }
  try {
    dirs.push(dirname(require.resolve('prisma/package.json')));
  } catch {
    // not installed
  }
  for (const dir of dirs) {
    const hit = readdirSync(dir).find((f) => f.startsWith('schema-engine-') && statSync(join(dir, f)).isFile());
    if (hit) return join(dir, hit);
  }
  return undefined;
}

function ensureExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    chmodSync(file, 0o755); // e.g. a checkout that lost the mode bit
  }
}

const env = { ...process.env };
const mode = env['PARALLAX_SCHEMA_ENGINE'] ?? 'auto';
if (!['auto', 'wasm', 'native'].includes(mode)) {
  console.error(`PARALLAX_SCHEMA_ENGINE must be auto, wasm or native (got ${mode})`);
  process.exit(2);
}
let engine = 'PRISMA_SCHEMA_ENGINE_BINARY';
if (env['PRISMA_SCHEMA_ENGINE_BINARY'] === undefined) {
  const native = mode === 'wasm' ? undefined : installedNativeEngine();
  if (mode === 'native' || native !== undefined) {
    engine = native ?? 'native (downloaded by the CLI)';
  } else {
    ensureExecutable(shim);
    env['PRISMA_SCHEMA_ENGINE_BINARY'] = shim;
    engine = 'wasm';
  }
}
// No usage telemetry from build scripts (and no wait on it when offline).
env['CHECKPOINT_DISABLE'] ??= '1';
if (env['PARALLAX_PRISMA_QUIET'] === undefined) console.error(`[prisma] schema engine: ${engine}`);

const cli = join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
if (!existsSync(cli)) {
  console.error(`Prisma CLI not found at ${cli}: run npm ci`);
  process.exit(1);
}
const child = spawn(process.execPath, [cli, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});

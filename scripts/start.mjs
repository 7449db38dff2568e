#!/usr/bin/env node
// `npm start`: builds the monorepo and starts the exchange on this machine (apps/exchange).
// With no KAFKA_BROKERS set it runs the embedded single-machine mode (in-process partitioned log, matching
// engines in worker threads, a local anvil node with the contracts deployed, the gateway); with KAFKA_BROKERS
// the engines join that cluster as processes. See README.md for the variables.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed');
  process.exit(build.status ?? 1);
}

const exchange = spawn(process.execPath, ['--enable-source-maps', 'apps/exchange/dist/main.js'], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => exchange.kill(signal));
exchange.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

#!/usr/bin/env node
// `npm start`: builds the monorepo and starts the exchange on this machine.
// With no KAFKA_BROKERS / DATABASE_URL set it runs the embedded single-machine mode; with them set, the same
// apps attach to the configured Kafka cluster and PostgreSQL server.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function build() {
  for (const [cmd, args] of [
    ['npm', ['run', '--silent', 'generate']],
    ['npx', ['tsc', '-b']],
  ]) {
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`build step failed: ${cmd} ${args.join(' ')}`);
      process.exit(r.status ?? 1);
    }
  }
}

build();
const mode = process.env.KAFKA_BROKERS ? 'kafka' : 'embedded';
console.log(`starting Parallax (${mode} mode)`);

const children = [];
function launch(name, entry) {
  const child = spawn(process.execPath, ['--enable-source-maps', entry], { cwd: root, stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    console.error(`${name} exited (${signal ?? code}); stopping the exchange`);
    shutdown(code ?? 1);
  });
  children.push(child);
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

launch('gateway', 'apps/gateway/dist/main.js');

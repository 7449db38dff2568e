#!/usr/bin/env node
// `npm start`: builds the monorepo and starts the exchange on this machine (apps/exchange). With no
// KAFKA_BROKERS set it runs the embedded single-machine mode (in-process partitioned log, matching engines in
// worker threads, a local anvil node with the contracts deployed, the settlement service, the gateway) and the
// demo (funded test accounts, a market maker and a taker bot); with KAFKA_BROKERS the engines join that
// cluster as processes. Every setting is an environment variable (docs/configuration.md); the flags below are
// shorthands for the common ones: `npm start -- --no-bots --markets 5`.
//
// The exchange runs in this process (imported after the build), so Ctrl-C reaches it once: the first stops
// everything cleanly, a second forces the exit.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const usage = `usage: npm start [-- options]   (or node scripts/start.mjs [options])
  --no-build           start the last build (skip npm run build)
  --no-bots            no market maker, no taker (EXCHANGE_BOTS=false)
  --markets N          demo markets (MARKETS, default 3)
  --taker-rate R       taker orders per second (EXCHANGE_TAKER_RATE, default 2; 0 = no taker)
  --mm-levels N        market maker levels per side (EXCHANGE_MM_LEVELS, default 5)
  --help               this text`;

const flags = { '--no-bots': ['EXCHANGE_BOTS', 'false'] };
const options = { '--markets': 'MARKETS', '--taker-rate': 'EXCHANGE_TAKER_RATE', '--mm-levels': 'EXCHANGE_MM_LEVELS' };
let build = true;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--help' || a === '-h') {
    console.log(usage);
    process.exit(0);
  } else if (a === '--no-build') build = false;
  else if (a in flags) process.env[flags[a][0]] = flags[a][1];
  else if (a in options && i + 1 < args.length) process.env[options[a]] = args[++i];
  else {
    // Values are validated by the exchange's config at boot (one line naming the variable, exit 78).
    console.error(`start: unknown or incomplete option ${a}\n${usage}`);
    process.exit(64);
  }
}

if (build) {
  const interactive = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  const t0 = performance.now();
  if (interactive) console.log('  … building (npm run build)');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: interactive ? ['ignore', 'pipe', 'inherit'] : ['ignore', 2, 'inherit'] });
  if (r.status !== 0) {
    // tsc reports its errors on stdout.
    if (r.stdout) process.stderr.write(r.stdout);
    console.error('build failed');
    process.exit(r.status ?? 1);
  }
  if (interactive) console.log(`  ✓ built (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

process.setSourceMapsEnabled(true);
await import(pathToFileURL(`${root}apps/exchange/dist/main.js`).href);

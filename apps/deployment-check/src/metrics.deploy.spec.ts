// Every metric an alert rule or a dashboard panel reads is one an app really exports: the apps are started as
// their images start them (`node apps/<app>/dist/main.js`: every app the deployment runs, settlement, the chain
// watcher, the risk shards and the projector on the files of a freshly deployed anvil chain, settlement with a
// real PostgreSQL database) and their live /metrics pages are read. A metric no app exports yet is accepted
// only while it is listed, with the work that adds it, in k8s/base/monitoring/expected-metrics.json, and
// only while no app exports it (the list cannot go stale).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startAnvil, type Anvil } from '@parallax/chain';
import { createTestDatabase, type TestDatabase } from '@parallax/persistence';
import { deployDevChain } from '@parallax/settlement';
import { exportedNames, metricsInQuery, PROMETHEUS_SERIES } from './metric-names.js';
import { root } from './tools.js';

const MONITORING = join(root, 'k8s/base/monitoring');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: string[];
}

function startApp(name: string, main: string, env: Record<string, string>): Started {
  const output: string[] = [];
  const child = spawn(process.execPath, [main], {
    cwd: root,
    // No Kafka: each app runs on its embedded log; what it registers for /metrics does not depend on the transport.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { name, child, output };
}

async function scrape(app: Started, url: string, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (app.child.exitCode !== null) assert.fail(`${app.name} exited (${app.child.exitCode}) before serving /metrics:\n${app.output.join('').slice(-3000)}`);
    try {
      const res = await fetch(url);
      if (res.ok) return await res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) assert.fail(`${app.name} served no /metrics at ${url} within ${timeoutMs} ms:\n${app.output.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(app: Started): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => app.child.once('exit', () => {
    resolve();
  }));
  app.child.kill('SIGTERM');
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every query: alert rules (with the rule name) and dashboard panels (with dashboard and panel titles). */
function queries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const file of readdirSync(join(MONITORING, 'rules')).filter((f) => f.endsWith('.yml'))) {
    const rules = parse(readFileSync(join(MONITORING, 'rules', file), 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    for (const g of rules.groups) for (const r of g.rules) out.push({ where: `rule ${r.alert ?? r.record ?? '?'}`, expr: r.expr });
  }
  for (const file of readdirSync(join(MONITORING, 'dashboards')).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'dashboards', file), 'utf8')) as { panels: Panel[] };
    const walk = (panels: readonly Panel[]): void => {
      for (const p of panels) {
        for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `dashboard ${file}, panel "${p.title ?? '?'}"`, expr: t.expr });
        walk(p.panels ?? []);
      }
    };
    walk(dashboard.panels);
  }
  return out;
}

describe('alert rules and dashboards read only metrics the apps export (live /metrics)', () => {
  const apps: Started[] = [];
  const pages = new Map<string, string>();
  let anvil: Anvil | undefined;
  let db: TestDatabase | undefined;
  const deployDir = mkdtempSync(join(tmpdir(), 'parallax-metrics-check-'));

  before(async () => {
    const [enginePort, gatewayPort, gatewayMetricsPort, settlementPort, watcherPort, riskPort, projectorPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const engine = startApp('matching-engine', 'apps/matching-engine/dist/main.js', { ENGINE_HTTP_HOST: '127.0.0.1', ENGINE_HTTP_PORT: String(enginePort) });
    apps.push(engine);

    // Settlement as compose runs it: the deploy step's files, a migrated PostgreSQL database.
    anvil = await startAnvil();
    db = await createTestDatabase();
    await deployDevChain(anvil.rpcUrl, deployDir);
    const handoff = Object.fromEntries(
      readFileSync(join(deployDir, 'settlement.env'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;
    const settlement = startApp('settlement', 'apps/settlement/dist/main.js', {
      ...handoff,
      SETTLEMENT_MARKETS_FILE: join(deployDir, 'markets.json'),
      RPC_URL: anvil.rpcUrl,
      DATABASE_URL: db.url,
      SETTLEMENT_HTTP_HOST: '127.0.0.1',
      SETTLEMENT_HTTP_PORT: String(settlementPort),
    });
    apps.push(settlement);
    // The gateway reads the same hand-off (the deployment orders are signed for), never the operator key.
    const gateway = startApp('gateway', 'apps/gateway/dist/main.js', {
      CHAIN_ID: handoff['CHAIN_ID'] ?? '',
      SETTLEMENT_ADDRESS: handoff['SETTLEMENT_ADDRESS'] ?? '',
      SETTLEMENT_MARKETS_FILE: join(deployDir, 'markets.json'),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_METRICS_PORT: String(gatewayMetricsPort),
    });
    apps.push(gateway);
    // The chain watcher (and its reconciliation) follows the same contract, never holding a key.
    const watcher = startApp('chain-watcher', 'apps/chain-watcher/dist/main.js', {
      CHAIN_ID: handoff['CHAIN_ID'] ?? '',
      SETTLEMENT_ADDRESS: handoff['SETTLEMENT_ADDRESS'] ?? '',
      SETTLEMENT_DEPLOY_BLOCK: handoff['SETTLEMENT_DEPLOY_BLOCK'] ?? '',
      RPC_URL: anvil.rpcUrl,
      CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
      CHAIN_WATCHER_HTTP_PORT: String(watcherPort),
    });
    apps.push(watcher);
    // The risk shards with the deploy step's market file (compose's RISK_MARKETS_FILE), on their embedded log.
    const risk = startApp('risk', 'apps/risk/dist/main.js', {
      RISK_MARKETS_FILE: join(deployDir, 'risk-markets.json'),
      RISK_HTTP_HOST: '127.0.0.1',
      RISK_HTTP_PORT: String(riskPort),
    });
    apps.push(risk);
    // The projector (balances and the market read model) with the same market file, on embedded PGlite.
    const projector = startApp('projector', 'apps/projector/dist/main.js', {
      RISK_MARKETS_FILE: join(deployDir, 'risk-markets.json'),
      PROJECTOR_HTTP_HOST: '127.0.0.1',
      PROJECTOR_HTTP_PORT: String(projectorPort),
    });
    apps.push(projector);

    pages.set('matching-engine', await scrape(engine, `http://127.0.0.1:${enginePort}/metrics`));
    pages.set('gateway', await scrape(gateway, `http://127.0.0.1:${gatewayMetricsPort}/metrics`));
    pages.set('settlement', await scrape(settlement, `http://127.0.0.1:${settlementPort}/metrics`));
    pages.set('chain-watcher', await scrape(watcher, `http://127.0.0.1:${watcherPort}/metrics`));
    pages.set('risk', await scrape(risk, `http://127.0.0.1:${riskPort}/metrics`));
    pages.set('projector', await scrape(projector, `http://127.0.0.1:${projectorPort}/metrics`));
  });

  after(async () => {
    await Promise.all(apps.map(stop));
    await anvil?.close();
    await db?.drop();
    rmSync(deployDir, { recursive: true, force: true });
  });

  it('every app keeps the standard Node metric names (process_*, nodejs_*) for the community dashboards', () => {
    for (const [app, page] of pages) {
      const names = exportedNames(page);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
        assert.ok(names.has(name), `${app} does not export ${name}`);
      }
    }
  });

  it('every service the compose file and the base deploy is scraped here', () => {
    // A new app in the deployment without its live /metrics here would let its panels and rules go unchecked.
    assert.deepEqual([...pages.keys()].sort(), ['chain-watcher', 'gateway', 'matching-engine', 'projector', 'risk', 'settlement']);
    for (const file of ['prometheus.yml', 'prometheus-k8s.yml']) {
      const jobs = (parse(readFileSync(join(MONITORING, file), 'utf8')) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((j) => j.job_name).sort();
      assert.deepEqual(jobs, [...pages.keys()].sort(), `${file} scrapes exactly the apps checked here`);
    }
  });

  it('every metric in a rule or a panel is exported by an app, or listed as expected and exported by none', () => {
    const exported = new Set<string>();
    for (const page of pages.values()) for (const n of exportedNames(page)) exported.add(n);
    const expected = JSON.parse(readFileSync(join(MONITORING, 'expected-metrics.json'), 'utf8')) as Record<string, string>;
    const allowlist = new Set(Object.keys(expected).filter((k) => k !== '//'));
    const all = queries();
    assert.ok(all.length > 30, `only ${all.length} queries found`);
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of all) {
      for (const name of metricsInQuery(expr)) {
        used.add(name);
        if (exported.has(name) || PROMETHEUS_SERIES.has(name) || allowlist.has(name)) continue;
        unknown.push(`${where}: ${name}`);
      }
    }
    assert.deepEqual(unknown, [], 'queries name metrics no app exports (fix the query, or list the metric in expected-metrics.json with the work that adds it)');
    for (const name of allowlist) {
      assert.ok(!exported.has(name), `${name} is exported now: remove it from expected-metrics.json`);
      assert.ok(used.has(name), `${name} is listed in expected-metrics.json but no rule or panel uses it`);
    }
  });
});

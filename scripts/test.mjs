#!/usr/bin/env node
// The one test command (`npm test`): typecheck, lint, unit + property tests, then integration tests
// against real services. It starts what it needs and is not already running (the Kafka broker, from
// Apache Kafka's jars) and stops only what it started. PostgreSQL is expected on DATABASE_ADMIN_URL.
//
//   node scripts/test.mjs                 everything
//   node scripts/test.mjs --tier unit     typecheck + lint + unit/property tests (no services)
//   node scripts/test.mjs --tier integration
//   node scripts/test.mjs --tier deploy   the deployment files, offline: docker-compose config, kustomize + Kubernetes
//                                         schemas, promtool, dashboards and rules against the apps' live /metrics
//   node scripts/test.mjs --no-lint       skip eslint (local iteration)
//   node scripts/test.mjs libs/order-book only the packages under these paths
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const tier = option('--tier') ?? 'all';
if (!['all', 'unit', 'integration', 'deploy'].includes(tier)) {
  console.error(`unknown --tier ${tier} (all | unit | integration | deploy)`);
  process.exit(2);
}
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--tier');

function step(title) {
  console.log(`\n=== ${title}`);
}

function run(cmd, cmdArgs, opts = {}) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(title, cmd, cmdArgs, opts) {
  step(title);
  const status = run(cmd, cmdArgs, opts);
  if (status !== 0) {
    console.error(`\n✖ ${title} failed (exit ${status})`);
    process.exit(status);
  }
}

function specFiles() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.spec.js')) out.push(relative(root, p));
    }
  };
  for (const group of ['libs', 'apps']) {
    for (const pkg of readdirSync(join(root, group))) {
      const dist = join(root, group, pkg, 'dist');
      if (existsSync(dist)) walk(dist);
    }
  }
  return out
    .filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x.replace(/\/$/, ''))))
    .sort();
}

const isIntegration = (f) => f.endsWith('.int.spec.js') || f.endsWith('.e2e.spec.js');
const isDeploy = (f) => f.endsWith('.deploy.spec.js');

must('contract artifacts are up to date (solc-js)', process.execPath, ['contracts/build.mjs', '--check']);
must('hash event methods are up to date (generate-hash)', process.execPath, ['libs/order-book/scripts/generate-hash.mjs', '--check']);
must('generate (Prisma client)', 'npm', ['run', '--silent', 'generate']);
must('typecheck (tsc -b)', 'npx', ['tsc', '-b']);
if (!flag('--no-lint')) must('lint (eslint, type-aware, zero warnings)', 'npx', ['eslint', '.', '--max-warnings', '0']);

const files = specFiles();
const unit = files.filter((f) => !isIntegration(f) && !isDeploy(f));
const integration = files.filter(isIntegration);
const deploy = files.filter(isDeploy);
let failed = false;

function nodeTest(title, list, extra = [], env = process.env) {
  if (list.length === 0) {
    console.error(`\n✖ ${title}: no test files found — refusing to report an empty run as passing`);
    failed = true;
    return;
  }
  step(`${title} (${list.length} files)`);
  const status = run(process.execPath, ['--test', '--test-reporter=spec', ...extra, ...list], { env });
  if (status !== 0) failed = true;
}

if (tier === 'all' || tier === 'unit') nodeTest('unit and property tests', unit);
if (tier === 'all' || tier === 'deploy') {
  // The real tools (Debian's docker-compose and prometheus, kubectl) and the apps started for their /metrics.
  if (deploy.length > 0 || tier === 'deploy') {
    nodeTest('deployment checks (compose, kustomize, promtool, live metrics)', deploy, ['--test-concurrency=1'], {
      ...process.env,
      DATABASE_ADMIN_URL: process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    });
  }
}

let startedKafka = false;
const stopServices = () => {
  if (startedKafka) {
    step('stopping the Kafka broker this run started');
    run('bash', ['scripts/kafka.sh', 'stop']);
    startedKafka = false;
  }
};
process.on('SIGINT', () => {
  stopServices();
  process.exit(130);
});

if ((tier === 'all' || tier === 'integration') && integration.length > 0) {
  const env = { ...process.env };
  if (!env.KAFKA_BROKERS) {
    // A broker already running on the port (a developer's) is used and left running; one we start, we stop.
    const running = spawnSync('bash', ['scripts/kafka.sh', 'status'], { cwd: root, stdio: 'ignore' }).status === 0;
    if (running) {
      step('using the local Kafka broker that is already running');
    } else {
      step('starting a local Kafka broker (scripts/kafka.sh)');
      // stdout carries the broker's client passwords: keep them out of the log (they are read below).
      const status = run('bash', ['scripts/kafka.sh', 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (status !== 0) {
        console.error('\n✖ could not start Kafka');
        process.exit(status);
      }
      startedKafka = true;
    }
    // The broker authenticates every client (SASL/SCRAM) and enforces ACLs: every test takes the test
    // principal's credentials from the environment (@parallax/transport reads KAFKA_SASL_*), and the ACL test
    // the other principals' from KAFKA_CREDENTIALS_FILE.
    const printed = spawnSync('bash', ['scripts/kafka.sh', 'env'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (printed.status !== 0) {
      console.error('\n✖ could not read the Kafka broker\'s client environment (bash scripts/kafka.sh env)');
      stopServices();
      process.exit(1);
    }
    for (const line of printed.stdout.split('\n')) {
      const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
      if (m) env[m[1]] = m[2];
    }
  }
  env.DATABASE_ADMIN_URL ??= 'postgresql://postgres@127.0.0.1:5432/postgres';
  // Integration suites share one broker, one PostgreSQL server and a 2-core machine: run files one at a time.
  try {
    nodeTest('integration tests (real Kafka, PostgreSQL, anvil)', integration, ['--test-concurrency=1'], env);
  } finally {
    stopServices();
  }
} else if (tier === 'integration') {
  console.error('\n✖ no integration test files found');
  failed = true;
}

if (failed) {
  console.error('\n✖ tests failed');
  process.exit(1);
}
console.log('\n✔ all checks passed');

// The deployment files, checked offline with the real tools: docker-compose config (Debian's docker-compose),
// kustomize build of every overlay validated against the Kubernetes schemas (kubernetes-models), promtool
// check config / rules (Debian's prometheus), and what an operator relies on in them (no committed secret,
// metrics off the public load balancer, health-gated start order, data on volumes).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { mustRun, root, run, yamlDocuments, type Manifest } from './tools.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);

interface ComposeService {
  image?: string;
  command?: unknown;
  environment?: Record<string, string | null>;
  healthcheck?: Obj;
  depends_on?: Record<string, { condition: string }>;
  volumes?: unknown[];
  ports?: unknown[];
  restart?: string;
}

/** docker-compose v1 prints a volume as `source:target:mode`, v2 as an object. */
function mounts(volume: unknown, source: string, target: string): boolean {
  if (typeof volume === 'string') return volume === `${source}:${target}` || volume.startsWith(`${source}:${target}:`);
  return obj(volume).source === source && obj(volume).target === target;
}

function composeConfig(files: readonly string[], env: Record<string, string> = {}): { services: Record<string, ComposeService>; volumes: Obj } {
  const out = mustRun('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], env);
  return parse(out) as { services: Record<string, ComposeService>; volumes: Obj };
}

describe('docker-compose (parsed by docker-compose config, no engine)', () => {
  const REAL_CHAIN = {
    RPC_URL: 'https://rpc.example.invalid',
    CHAIN_ID: '8453',
    SETTLEMENT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    SETTLEMENT_DEPLOY_BLOCK: '100',
    OPERATOR_PRIVATE_KEY: `0x${'11'.repeat(32)}`,
    SETTLEMENT_MARKETS: '[]',
    RISK_MARKETS_FILE: '/etc/parallax/risk-markets.json',
  };

  it('loads with no variables set, every long-running service has a health check, and start-up waits on health', () => {
    const { services, volumes } = composeConfig(['docker-compose.yml']);
    const oneShot = ['kafka-setup', 'migrate', 'deploy'];
    for (const name of oneShot) assert.equal(services[name]?.restart, 'no', `${name} is a one-shot step`);
    for (const [name, s] of Object.entries(services)) {
      if (!oneShot.includes(name)) assert.ok(s.healthcheck, `service ${name} has no health check`);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const want = oneShot.includes(dep) ? 'service_completed_successfully' : 'service_healthy';
        assert.equal(condition, want, `${name} -> ${dep}`);
      }
    }
    // The engines wait for ACLs/topics, settlement for ACLs, migrations and the contract deployment.
    assert.deepEqual(Object.keys(services['matching-engine']?.depends_on ?? {}).sort(), ['kafka-setup']);
    assert.deepEqual(Object.keys(services.settlement?.depends_on ?? {}).sort(), ['deploy', 'kafka-setup', 'migrate']);
    // The risk shards and the chain watcher wait for the topics and the deployment they follow.
    assert.deepEqual(Object.keys(services.risk?.depends_on ?? {}).sort(), ['deploy', 'kafka-setup']);
    assert.deepEqual(Object.keys(services['chain-watcher']?.depends_on ?? {}).sort(), ['deploy', 'kafka-setup']);
    assert.match(JSON.stringify(services.risk?.healthcheck?.test), /\/ready/, 'risk is healthy when its shards are restored');
    assert.match(JSON.stringify(services['chain-watcher']?.healthcheck?.test), /\/ready/, 'the watcher is healthy when it follows the chain');
    // The projector replays the shards' journal with their markets file, into the migrated database.
    assert.deepEqual(Object.keys(services.projector?.depends_on ?? {}).sort(), ['deploy', 'kafka-setup', 'migrate']);
    assert.match(JSON.stringify(services.projector?.healthcheck?.test), /\/ready/, 'the projector is healthy when every shard is restored');
    assert.equal(services.projector?.environment?.RISK_MARKETS_FILE, services.risk?.environment?.RISK_MARKETS_FILE, 'the projector replays with the shards\' markets');
    // One S everywhere: the engines' account events, the risk shards' inputs, the watcher's chain events.
    const shards = new Set(['matching-engine', 'risk', 'chain-watcher', 'kafka-setup', 'gateway', 'projector'].map((n) => services[n]?.environment?.ACCOUNT_SHARDS));
    assert.equal(shards.size, 1, `ACCOUNT_SHARDS differs: ${[...shards].join(', ')}`);
    assert.ok([...shards][0], 'ACCOUNT_SHARDS is set');
    // The watcher never holds the operator key; it reads the deploy step's hand-off and drops it.
    assert.match(JSON.stringify(services['chain-watcher']?.command), /unset OPERATOR_PRIVATE_KEY/);
    // No image from outside: the chain runs from the app image, which the compose file builds.
    for (const name of ['anvil', 'deploy', 'kafka-setup', 'migrate', 'matching-engine', 'settlement', 'gateway', 'risk', 'chain-watcher', 'projector']) {
      assert.equal(services[name]?.image, 'parallax:local', name);
    }
    assert.ok(volumes['kafka-data'] && volumes['pg-data'] && volumes.deploy);
  });

  it('keeps Kafka and PostgreSQL data on their volumes', () => {
    const { services } = composeConfig(['docker-compose.yml']);
    const kafka = services.kafka;
    const dataDir = kafka?.environment?.KAFKA_DATA_DIR;
    assert.ok(dataDir);
    assert.ok(arr(kafka.volumes).some((v) => mounts(v, 'kafka-data', dataDir)), 'kafka-data is mounted at KAFKA_DATA_DIR');
    const pg = services.postgres;
    assert.ok(pg?.environment?.PGDATA?.startsWith('/var/lib/postgresql/data/'), 'PGDATA is a subdirectory of the volume');
    assert.ok(arr(pg?.volumes).some((v) => mounts(v, 'pg-data', '/var/lib/postgresql/data')));
  });

  it('authenticates every Kafka client: each service has its own principal, none the super user but kafka-setup', () => {
    const { services } = composeConfig(['docker-compose.yml']);
    const principals: Record<string, string> = {
      'matching-engine': 'parallax-engine',
      settlement: 'parallax-settlement',
      gateway: 'parallax-ingest',
      risk: 'parallax-risk',
      'chain-watcher': 'parallax-chain-watcher',
      projector: 'parallax-projector',
      'kafka-setup': 'admin',
    };
    for (const [name, user] of Object.entries(principals)) {
      const env = services[name]?.environment ?? {};
      assert.equal(env.KAFKA_SASL_MECHANISM, 'scram-sha-512', name);
      assert.equal(env.KAFKA_SASL_USERNAME, user, name);
      assert.ok(env.KAFKA_SASL_PASSWORD, `${name} has a password`);
    }
  });

  it("the gateway reads the projector's read models: the same database, once migrated, and is healthy only when ready", () => {
    const { services } = composeConfig(['docker-compose.yml']);
    const gateway = services.gateway;
    assert.ok(gateway?.environment?.DATABASE_URL, 'the gateway has DATABASE_URL (history, balances and transfers from PostgreSQL)');
    assert.equal(gateway.environment.DATABASE_URL, services.projector?.environment?.DATABASE_URL, 'the database the projector writes');
    assert.deepEqual(Object.keys(gateway.depends_on ?? {}).sort(), ['deploy', 'kafka-setup', 'migrate']);
    assert.match(JSON.stringify(gateway.healthcheck?.test), /\/ready/, 'healthy when its log and read-model tables answer');
  });

  it('the real-chain override refuses to load without its variables, naming the first, and sets them when given', () => {
    const missing = run('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.real-chain.yml', 'config']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /RPC_URL/);
    const { services } = composeConfig(['docker-compose.yml', 'docker-compose.real-chain.yml'], REAL_CHAIN);
    const env = services.settlement?.environment ?? {};
    assert.equal(env.SETTLEMENT_ADDRESS, REAL_CHAIN.SETTLEMENT_ADDRESS);
    assert.equal(env.RPC_URL, REAL_CHAIN.RPC_URL);
    assert.equal(env.CONFIRMATIONS, '12');
    // The watcher follows the same contract at the same depth; the risk shards get the operator's market file.
    const watcher = services['chain-watcher']?.environment ?? {};
    assert.equal(watcher.SETTLEMENT_ADDRESS, REAL_CHAIN.SETTLEMENT_ADDRESS);
    assert.equal(watcher.RPC_URL, REAL_CHAIN.RPC_URL);
    assert.equal(watcher.CHAIN_CONFIRMATIONS, '12');
    assert.ok(arr(services.risk?.volumes).some((v) => mounts(v, REAL_CHAIN.RISK_MARKETS_FILE, '/config/risk-markets.json')));
  });
});

const overlays = ['k8s/base', ...readdirSync(join(root, 'k8s/overlays')).map((d) => `k8s/overlays/${d}`)];

async function validate(doc: Manifest): Promise<void> {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  const modulePath =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group === '' ? '' : `${group}/`}${version}`;
  const models = (await import(modulePath)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[doc.kind];
  assert.ok(Model, `${doc.apiVersion} ${doc.kind} ${doc.metadata.name}: no schema for this kind`);
  try {
    new Model(doc).validate();
  } catch (error) {
    assert.fail(`${doc.kind}/${doc.metadata.name} is not a valid ${doc.apiVersion} ${doc.kind}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function build(dir: string): Manifest[] {
  return yamlDocuments(mustRun('kubectl', ['kustomize', dir])).filter((d): d is Manifest => d !== null);
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  readinessProbe?: Obj;
  livenessProbe?: Obj;
  volumeMounts?: { name: string; mountPath: string }[];
  ports?: { name?: string; containerPort: number }[];
}

function podSpec(doc: Manifest): Obj | undefined {
  const spec = obj(doc.spec);
  if (doc.kind === 'Job') return obj(obj(spec.template).spec);
  if (doc.kind === 'Deployment' || doc.kind === 'StatefulSet') return obj(obj(spec.template).spec);
  return undefined;
}

describe('Kubernetes (kustomize build of every overlay, validated against the schemas)', () => {
  for (const dir of overlays) {
    it(`${dir} builds, and every object is valid for its kind`, async () => {
      const docs = build(dir);
      assert.ok(docs.length > 20, `${dir} built only ${docs.length} objects`);
      for (const doc of docs) await validate(doc);
    });
  }

  it('commits no Secret, and takes every secret by reference', () => {
    for (const dir of overlays) {
      const secrets = build(dir).filter((d) => d.kind === 'Secret');
      assert.deepEqual(secrets.map((s) => s.metadata.name), [], `${dir} commits Secrets`);
    }
    const text = readdirSync(join(root, 'k8s/base')).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(root, 'k8s/base', f), 'utf8')).join('\n');
    assert.ok(!/OPERATOR_PRIVATE_KEY:\s*"?0x/.test(text), 'an operator key in the manifests');
    assert.ok(!/postgresql:\/\/[^:\s/]+:[^@\s<]+@/.test(text), 'a database password in a URL in the manifests');
  });

  it('the app image comes from the kustomize images: entry, workloads have probes, engines are named by their pods', () => {
    const docs = build('k8s/base');
    const kustomization = parse(readFileSync(join(root, 'k8s/base/kustomization.yaml'), 'utf8')) as { images: { name: string; newName: string; newTag: string }[] };
    const entry = kustomization.images.find((i) => i.name === 'parallax');
    assert.ok(entry);
    const appImage = `${entry.newName}:${entry.newTag}`;
    let appContainers = 0;
    for (const doc of docs) {
      const spec = podSpec(doc);
      if (!spec) continue;
      const containers = arr(spec.containers) as Container[];
      for (const c of [...containers, ...(arr(spec.initContainers) as Container[])]) {
        assert.doesNotMatch(c.image, /:latest$|^parallax(:|$)/, `${doc.metadata.name}/${c.name} uses ${c.image}`);
        if (c.image === appImage) appContainers++;
      }
      for (const c of containers) {
        if (doc.kind !== 'Job') {
          assert.ok(c.readinessProbe, `${doc.metadata.name}/${c.name} has no readiness probe`);
          assert.ok(c.livenessProbe, `${doc.metadata.name}/${c.name} has no liveness probe`);
        }
      }
    }
    assert.ok(appContainers >= 5, `only ${appContainers} containers run ${appImage}`);
    const engine = docs.find((d) => d.kind === 'StatefulSet' && d.metadata.name === 'matching-engine');
    assert.ok(engine);
    const engineContainer = (arr(podSpec(engine)?.containers) as Container[])[0];
    assert.deepEqual(engineContainer?.env?.find((e) => e.name === 'ENGINE_INSTANCE_ID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(obj(obj(engineContainer.readinessProbe).httpGet).path, '/ready');
    // The terminus probes: readiness is /ready (partitions restored; database, chain and broker answer; the log
    // answers), liveness the bare /health, on every service that serves them.
    for (const name of ['matching-engine', 'settlement', 'gateway', 'risk', 'chain-watcher', 'projector']) {
      const doc = docs.find((d) => (d.kind === 'Deployment' || d.kind === 'StatefulSet') && d.metadata.name === name);
      assert.ok(doc, name);
      const c = (arr(podSpec(doc)?.containers) as Container[])[0];
      assert.equal(obj(obj(c?.readinessProbe).httpGet).path, '/ready', `${name} readiness`);
      assert.equal(obj(obj(c?.livenessProbe).httpGet).path, '/health', `${name} liveness`);
    }
  });

  it('risk shards are named by their pods; one chain watcher follows the contract settlement uses; S agrees', () => {
    const docs = build('k8s/base');
    const workload = (name: string): Manifest => {
      const doc = docs.find((d) => (d.kind === 'Deployment' || d.kind === 'StatefulSet') && d.metadata.name === name);
      assert.ok(doc, name);
      return doc;
    };
    const container = (name: string): Container => {
      const c = (arr(podSpec(workload(name))?.containers) as Container[])[0];
      assert.ok(c, name);
      return c;
    };
    const env = (c: Container, name: string): unknown => c.env?.find((e) => e.name === name);
    assert.equal(workload('risk').kind, 'StatefulSet');
    assert.deepEqual(obj(env(container('risk'), 'RISK_INSTANCE_ID')).valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(obj(env(container('risk'), 'KAFKA_SASL_PASSWORD')).valueFrom, { secretKeyRef: { name: 'parallax-kafka', key: 'risk-password' } });
    // One watcher per chain and contract (a second fences the first): one replica, never two during a rollout.
    const watcher = workload('chain-watcher');
    assert.equal(obj(watcher.spec).replicas, 1);
    assert.equal(obj(obj(watcher.spec).strategy).type, 'Recreate');
    const w = container('chain-watcher');
    for (const [name, key] of [['RPC_URL', 'RPC_URL'], ['CHAIN_ID', 'CHAIN_ID'], ['SETTLEMENT_ADDRESS', 'SETTLEMENT_ADDRESS'], ['SETTLEMENT_DEPLOY_BLOCK', 'SETTLEMENT_DEPLOY_BLOCK'], ['CHAIN_CONFIRMATIONS', 'CONFIRMATIONS']] as const) {
      assert.deepEqual(obj(env(w, name)).valueFrom, { configMapKeyRef: { name: 'parallax-settlement-config', key } }, `chain watcher ${name}`);
    }
    assert.deepEqual(obj(env(w, 'KAFKA_SASL_PASSWORD')).valueFrom, { secretKeyRef: { name: 'parallax-kafka', key: 'chain-watcher-password' } });
    assert.ok(!JSON.stringify(podSpec(watcher)).includes('parallax-settlement"'), 'the watcher never mounts the operator key Secret');
    // ACCOUNT_SHARDS comes from the one ConfigMap every Kafka workload and kafka-setup read.
    const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'parallax-config');
    assert.ok(obj(config?.data).ACCOUNT_SHARDS);
    for (const doc of docs.filter((d) => ['matching-engine', 'risk', 'chain-watcher', 'gateway', 'kafka-setup', 'projector'].includes(d.metadata.name) && podSpec(d))) {
      const c = (arr(podSpec(doc)?.containers) as Container[])[0];
      assert.ok(JSON.stringify(c).includes('"parallax-config"'), `${doc.metadata.name} reads parallax-config`);
      assert.equal(env(c as Container, 'ACCOUNT_SHARDS'), undefined, `${doc.metadata.name} overrides ACCOUNT_SHARDS`);
    }
    // Prometheus finds both (plain config and the operator overlay).
    const operator = build('k8s/overlays/prometheus-operator').filter((d) => d.kind === 'PodMonitor').map((d) => d.metadata.name);
    for (const name of ['risk', 'chain-watcher', 'projector']) assert.ok(operator.includes(name), `no PodMonitor for ${name}`);
    for (const file of ['prometheus.yml', 'prometheus-k8s.yml']) {
      const jobs = (parse(readFileSync(join(root, 'k8s/base/monitoring', file), 'utf8')) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((j) => j.job_name);
      for (const name of ['risk', 'chain-watcher', 'projector']) assert.ok(jobs.includes(name), `${file} does not scrape ${name}`);
    }
  });

  it('migrates on every rollout: settlement applies the migrations in an init container, the others wait for them', () => {
    for (const dir of overlays) {
      const docs = build(dir);
      const migrates = (c: Container): boolean => (c.command ?? []).join(' ').includes('db:migrate');
      const usesDatabase = (c: Container): boolean => (c.env ?? []).some((e) => e.name === 'DATABASE_URL');
      // No Job migrates: a Job's template is immutable, so one would run once per name and not on an upgrade.
      for (const job of docs.filter((d) => d.kind === 'Job')) {
        for (const c of arr(podSpec(job)?.containers) as Container[]) assert.ok(!migrates(c), `${dir}: Job ${job.metadata.name} migrates`);
      }
      const settlement = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'settlement');
      assert.ok(settlement, `${dir}: no settlement Deployment`);
      // A single replica replaced with Recreate: one migrator at a time, no older writer running meanwhile.
      assert.equal(obj(settlement.spec).replicas, 1);
      assert.equal(obj(obj(settlement.spec).strategy).type, 'Recreate');
      const init = arr(podSpec(settlement)?.initContainers) as Container[];
      const migrator = init.find(migrates);
      assert.ok(migrator, `${dir}: settlement does not migrate in an init container`);
      assert.deepEqual(migrator.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom, { secretKeyRef: { name: 'parallax-db', key: 'DATABASE_URL' } });
      // Every other workload on the database waits for this release's schema and never migrates itself.
      for (const doc of docs.filter((d) => d !== settlement && (d.kind === 'Deployment' || d.kind === 'StatefulSet'))) {
        const containers = arr(podSpec(doc)?.containers) as Container[];
        const inits = arr(podSpec(doc)?.initContainers) as Container[];
        for (const c of [...containers, ...inits]) assert.ok(!migrates(c), `${dir}: ${doc.metadata.name}/${c.name} migrates`);
        if (containers.some(usesDatabase)) {
          assert.ok(
            inits.some((c) => (c.command ?? []).join(' ').includes('db:status')),
            `${dir}: ${doc.metadata.name} uses the database without waiting for the migrations`,
          );
        }
      }
    }
  });

  it("gives the gateway the projector's database (same Secret), waits for the migrations, and lets it reach PostgreSQL", () => {
    for (const dir of overlays) {
      const docs = build(dir);
      const workload = (name: string): Manifest | undefined => docs.find((d) => (d.kind === 'Deployment' || d.kind === 'StatefulSet') && d.metadata.name === name);
      const main = (name: string): Container | undefined => (arr(podSpec(workload(name)!)?.containers) as Container[]).find((c) => c.name === name);
      const dbOf = (c: Container | undefined) => c?.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom;
      const gateway = main('gateway');
      assert.ok(dbOf(gateway), `${dir}: the gateway has no DATABASE_URL`);
      assert.deepEqual(dbOf(gateway), dbOf(main('projector')), `${dir}: the gateway reads another database than the projector writes`);
      const inits = arr(podSpec(workload('gateway')!)?.initContainers) as Container[];
      assert.ok(inits.some((c) => (c.command ?? []).join(' ').includes('db:status')), `${dir}: the gateway does not wait for the migrations`);
      assert.deepEqual(obj(gateway?.readinessProbe).httpGet, { path: '/ready', port: 'http' });
      const pg = docs.find((d) => d.kind === 'NetworkPolicy' && JSON.stringify(obj(d.spec).podSelector).includes('"postgres"'));
      assert.ok(pg && JSON.stringify(obj(pg.spec).ingress).includes('"gateway"'), `${dir}: no NetworkPolicy lets the gateway reach PostgreSQL`);
    }
  });

  it('keeps metrics off the public load balancer, and denies by default with NetworkPolicies', () => {
    const docs = build('k8s/base');
    const metricsPorts = new Set<number | string>(['metrics']);
    for (const doc of docs) {
      for (const c of arr(podSpec(doc)?.containers) as Container[]) {
        for (const p of c.ports ?? []) if (p.name === 'metrics') metricsPorts.add(p.containerPort);
      }
    }
    const publicServices = docs.filter((d) => d.kind === 'Service' && ['LoadBalancer', 'NodePort'].includes(String(obj(d.spec).type)));
    assert.ok(publicServices.length > 0);
    for (const s of publicServices) {
      for (const p of arr(obj(s.spec).ports)) {
        const port = obj(p);
        assert.ok(!metricsPorts.has(port.targetPort as number | string) && !metricsPorts.has(port.port as number), `${s.metadata.name} exposes a metrics port`);
      }
    }
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
    const deny = policies.find((p) => Object.keys(obj(obj(p.spec).podSelector)).length === 0 && arr(obj(p.spec).ingress).length === 0);
    assert.ok(deny, 'no default-deny ingress policy');
    assert.ok(policies.some((p) => JSON.stringify(p.spec).includes('"kafka"')), 'no policy admits Kafka clients');
  });

  it('keeps PostgreSQL data in a subdirectory of its volume and Kafka data on its volume', () => {
    const docs = build('k8s/base');
    const container = (name: string): Container => {
      const d = docs.find((x) => x.kind === 'StatefulSet' && x.metadata.name === name);
      assert.ok(d, name);
      const c = (arr(podSpec(d)?.containers) as Container[])[0];
      assert.ok(c);
      return c;
    };
    const pg = container('postgres');
    const pgMount = pg.volumeMounts?.find((m) => m.name === 'data')?.mountPath;
    const pgData = pg.env?.find((e) => e.name === 'PGDATA')?.value;
    assert.ok(pgMount && pgData?.startsWith(`${pgMount}/`), `PGDATA ${pgData} under ${pgMount}`);
    const kafka = container('kafka');
    assert.equal(kafka.env?.find((e) => e.name === 'KAFKA_DATA_DIR')?.value, kafka.volumeMounts?.find((m) => m.name === 'data')?.mountPath);
  });

  it('the Prometheus Operator overlay carries exactly the alert rules Prometheus loads from the rule file', () => {
    const docs = build('k8s/overlays/prometheus-operator');
    const rule = docs.find((d) => d.kind === 'PrometheusRule');
    assert.ok(rule);
    const file = parse(readFileSync(join(root, 'k8s/base/monitoring/rules/parallax.yml'), 'utf8')) as { groups: unknown };
    assert.deepEqual(obj(rule.spec).groups, file.groups, 'k8s/overlays/prometheus-operator/prometheus-rule.yaml differs from the rule file');
    const monitors = docs.filter((d) => d.kind === 'PodMonitor').map((d) => d.metadata.name).sort();
    // Every workload with a metrics port has its PodMonitor, and no PodMonitor selects nothing.
    const withMetrics = docs
      .filter((d) => (d.kind === 'Deployment' || d.kind === 'StatefulSet') && (arr(podSpec(d)?.containers) as Container[]).some((c) => (c.ports ?? []).some((p) => p.name === 'metrics')))
      .map((d) => d.metadata.name)
      .sort();
    assert.deepEqual(monitors, withMetrics);
    assert.ok(monitors.includes('risk') && monitors.includes('chain-watcher'));
  });
});

describe('Prometheus (promtool)', () => {
  for (const config of ['k8s/base/monitoring/prometheus.yml', 'k8s/base/monitoring/prometheus-k8s.yml']) {
    it(`promtool check config ${config} (with its rule files)`, () => {
      const out = mustRun('promtool', ['check', 'config', config]);
      assert.match(out, /SUCCESS: 1 rule files found|SUCCESS: \d+ rules found/, out);
    });
  }
  it('every alert has its section in docs/operations.md (what it means, what to do)', () => {
    const headings = readFileSync(join(root, 'docs/operations.md'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('### '))
      .flatMap((l) => l.slice(4).split(' / ').map((n) => n.trim()));
    const rules = parse(readFileSync(join(root, 'k8s/base/monitoring/rules/parallax.yml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])));
    assert.ok(alerts.includes('ParallaxChainWatcherHalted') && alerts.includes('ParallaxRiskShardLag'));
    assert.deepEqual(alerts.filter((a) => !headings.includes(a)), [], 'alerts without a section in docs/operations.md');
  });

  it('promtool check rules on every rule file', () => {
    const dir = 'k8s/base/monitoring/rules';
    const files = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yml')).map((f) => `${dir}/${f}`);
    assert.ok(files.length > 0);
    assert.match(mustRun('promtool', ['check', 'rules', ...files]), /SUCCESS/);
  });
});

describe('the image runs what it ships', () => {
  // What `npm prune --omit=dev` keeps is what the lockfile does not mark dev (direct or transitive).
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const kept = (name: string): boolean => {
    const entry = lock.packages[`node_modules/${name}`];
    return entry !== undefined && entry.dev !== true;
  };
  const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));

  // `npm prune --omit=dev` in the Dockerfile removes devDependencies: what the migrate step and kafka-setup run
  // must import only runtime dependencies (and the workspace's own packages).
  for (const dir of ['scripts/prisma', 'scripts/kafka']) {
    it(`${dir} imports only runtime dependencies`, () => {
      for (const file of readdirSync(join(root, dir)).filter((f) => f.endsWith('.mjs'))) {
        const text = readFileSync(join(root, dir, file), 'utf8');
        const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require(?:\.resolve)?\(\s*)'([^'.][^']*)'/g)].map((m) => m[1] ?? '');
        for (const spec of specs) {
          if (spec.startsWith('node:') || spec.startsWith('@parallax/')) continue;
          assert.ok(kept(packageOf(spec)), `${dir}/${file} imports ${spec}, which npm prune --omit=dev removes`);
        }
      }
    });
  }

  // The apps compose and k8s run, from their production sources (specs, test support and benchmarks excluded).
  for (const app of ['matching-engine', 'settlement', 'gateway', 'risk', 'chain-watcher', 'projector']) {
    it(`apps/${app} imports only runtime dependencies`, () => {
      const files: string[] = [];
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory() && !['testing', 'bench'].includes(entry.name)) walk(path);
          else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) files.push(path);
        }
      };
      walk(join(root, 'apps', app, 'src'));
      assert.ok(files.length > 3, `apps/${app}: ${files.length} source files`);
      for (const file of files) {
        const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\(\s*)'([^'.][^']*)'/g)].map((m) => m[1] ?? '');
        for (const spec of specs) {
          if (spec.startsWith('node:') || spec.startsWith('@parallax/')) continue;
          assert.ok(kept(packageOf(spec)), `${file} imports ${spec}, which npm prune --omit=dev removes`);
        }
      }
    });
  }
});

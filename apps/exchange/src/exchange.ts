import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { settlementDomain } from '@parallax/chain';
import { erc20Abi, type Address } from 'viem';
import { DEFAULT_ACCOUNT_SHARDS, DEFAULT_RISK_RESULTS_TOPIC, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS, defaultMarkets, MarketCatalogue, riskStateTopicSpecs, riskTopicSpecs, settlementTopicSpecs, topicSpecs, type MarketDefinition, type RiskStateTopicNames, type RiskTopicNames } from '@parallax/contracts';
import { DEFAULT_PROGRESS_TOPIC, loadChainWatcherConfig, startChainWatcher, type ChainWatcherHandle } from '@parallax/chain-watcher';
import { loadProjectorConfig, startProjector, type ProjectorHandle } from '@parallax/projector';
import { loadGatewayConfig, startGateway } from '@parallax/gateway';
import { startEngineWorker, type EngineWorker } from '@parallax/matching-engine';
import { isPrettyFormat, type Logger } from '@parallax/observability';
import { startRiskWorker } from '@parallax/risk-service';
import { createEmbeddedTransport, createKafkaTransport, type EmbeddedTransport, type Transport } from '@parallax/transport';
import { localSettlementConfig, startLocalSettlementChain, startSettlement, type LocalSettlementChain, type SettlementHandle } from '@parallax/settlement';
import { exchangeNames, type ExchangeConfig, type ExchangeNames } from './exchange.config.js';
import { followNewHeads } from './new-heads.js';
import { holdInputForSnapshots } from './retention.js';

export interface RunningExchange {
  readonly mode: 'embedded' | 'kafka';
  /** Topics, groups and client ids of this launch (namespaced by EXCHANGE_NAMESPACE). */
  readonly names: ExchangeNames;
  readonly gatewayUrl: string;
  /** HTTP base URLs of the engines (/metrics, /health); in Kafka mode the ports they were given. */
  readonly engineUrls: readonly string[];
  /** The in-process log (embedded mode only). */
  readonly log: EmbeddedTransport | undefined;
  readonly chain: { readonly rpcUrl: string; readonly settlement: string; readonly tokens: Readonly<Record<string, string>> } | undefined;
  /** The local chain with its markets and funding helper (when EXCHANGE_LOCAL_CHAIN). */
  readonly localChain: LocalSettlementChain | undefined;
  /** The settlement service (when EXCHANGE_SETTLEMENT and a local chain). */
  readonly settlement: SettlementHandle | undefined;
  /**
   * The account shards every order passes through (when there is a chain, hence markets to trade): their
   * three input topics (requests: the gateway; chain events: the chain watcher; account events: the
   * engines), answers topic, group, shard count and /metrics URLs. Funds reach them only through the chain
   * watcher (deposits on the local chain, e.g. its funding helper's).
   */
  readonly risk: { readonly topics: RiskTopicNames; readonly resultsTopic: string; readonly groupId: string; readonly shards: number; readonly urls: readonly string[] } | undefined;
  /** The chain watcher feeding the risk shards from the local chain (deposits, withdrawals, keys, settlements). */
  readonly chainWatcher: ChainWatcherHandle | undefined;
  /** The read model of balances, holds and transfers (PostgreSQL when DATABASE_URL, else its own PGlite). */
  readonly projector: ProjectorHandle | undefined;
  /** Settles when any component stops on its own (a crash); the launcher then shuts everything down. */
  readonly failed: Promise<Error>;
  close(): Promise<void>;
}

/** What a launcher may add to the configuration (npm start's demo uses both). */
export interface StartExchangeOptions {
  /** The gateway's market catalogue (ids 1..MARKETS); default `defaultMarkets(MARKETS)`. */
  readonly markets?: readonly MarketDefinition[];
  /** Told as each part is up: 'engines', 'chain', 'settlement', 'gateway' (with what the log line says). */
  readonly progress?: (step: 'engines' | 'chain' | 'settlement' | 'gateway', fields: Record<string, unknown>) => void;
}

/**
 * Account shards of the launcher's risk stage: the deployment default (DEFAULT_ACCOUNT_SHARDS), so that a
 * launch on a cluster agrees with the engines' and the services' defaults on the account topics. Fixed:
 * account and order ids are minted from it, so it can never change for a deployment's data.
 */
const ACCOUNT_SHARDS = DEFAULT_ACCOUNT_SHARDS;

/**
 * The chain watcher's poll on the local chain when CHAIN_WATCHER_POLL_MS is not set: a fallback only, since
 * the node's newHeads subscription wakes the watcher for every block (new-heads.ts). It bounds how late a
 * block is seen while that subscription is down (reconnecting).
 */
export const LOCAL_CHAIN_WATCHER_POLL_MS = 5_000;

interface RiskNames {
  readonly inputs: RiskTopicNames;
  readonly state: RiskStateTopicNames;
  readonly resultsTopic: string;
  readonly groupId: string;
}

/** The risk stage's Kafka names, namespaced like the rest of the launch. */
function riskNames(config: ExchangeConfig): RiskNames {
  const ns = config.EXCHANGE_NAMESPACE;
  const name = (n: string): string => (ns === undefined ? n : `${ns}.${n}`);
  return {
    inputs: { requests: name(DEFAULT_RISK_TOPICS.requests), chainEvents: name(DEFAULT_RISK_TOPICS.chainEvents), accountEvents: name(DEFAULT_RISK_TOPICS.accountEvents) },
    state: { journal: name(DEFAULT_RISK_STATE_TOPICS.journal), snapshots: name(DEFAULT_RISK_STATE_TOPICS.snapshots) },
    resultsTopic: name(DEFAULT_RISK_RESULTS_TOPIC),
    groupId: name('parallax-risk'),
  };
}

/** Environment of the risk instance (worker thread or process), like the engines'. */
function riskEnv(config: ExchangeConfig, names: ExchangeNames, risk: RiskNames, marketsFile: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return {
    ...env,
    KAFKA_CLIENT_ID: risk.groupId,
    RISK_GROUP_ID: risk.groupId,
    RISK_INSTANCE_ID: 'risk-0',
    TOPIC_REQUESTS: risk.inputs.requests,
    TOPIC_CHAIN_EVENTS: risk.inputs.chainEvents,
    TOPIC_ACCOUNT_EVENTS: risk.inputs.accountEvents,
    TOPIC_RISK_JOURNAL: risk.state.journal,
    TOPIC_RISK_SNAPSHOTS: risk.state.snapshots,
    TOPIC_RISK_RESULTS: risk.resultsTopic,
    TOPIC_ORDERS: names.topics.orders,
    TOPIC_SIGNED_ORDERS: names.settlementTopics.signedOrders,
    TOPIC_DEAD_LETTERS: names.topics.deadLetters,
    ACCOUNT_SHARDS: String(ACCOUNT_SHARDS),
    PARTITIONS: String(config.PARTITIONS),
    RISK_MARKETS_FILE: marketsFile,
    RISK_HTTP_PORT: '0',
    LOG_FORMAT: isPrettyFormat(config.LOG_FORMAT) ? 'pretty' : 'json',
  };
}

/** A service's process entry (dist/main.js beside the package's dist/index.js). */
function entryOf(pkg: string): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(pkg)), 'main.js');
}

/** Runs a service as a child process; its exit is reported as a failure, close() stops it with SIGTERM. */
function spawnService(entry: string, env: Record<string, string>, what: string, reportFailure: (err: Error) => void): { child: ChildProcess; close(): Promise<void> } {
  const child = spawn(process.execPath, ['--enable-source-maps', entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    reportFailure(new Error(`${what} exited (${signal ?? String(code)})`));
  });
  return {
    child,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        child.removeAllListeners('exit');
        child.once('exit', () => {
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Engine environment shared by every engine of this exchange. */
function engineEnv(config: ExchangeConfig, names: ExchangeNames, i: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return {
    ...env,
    // Set last, over anything inherited: the names are what keeps this launch out of other deployments.
    KAFKA_CLIENT_ID: names.engineClientId,
    ENGINE_GROUP_ID: names.engineGroupId,
    TOPIC_ORDERS: names.topics.orders,
    TOPIC_MARKET_EVENTS: names.topics.marketEvents,
    TOPIC_SNAPSHOTS: names.topics.snapshots,
    TOPIC_DEAD_LETTERS: names.topics.deadLetters,
    PARTITIONS: String(config.PARTITIONS),
    MARKETS: String(config.MARKETS),
    ENGINE_INSTANCE_ID: `engine-${i}`,
    // The engines report fills, cancels and rejections to the account shards (their funds holds).
    TOPIC_ACCOUNT_EVENTS: riskNames(config).inputs.accountEvents,
    ACCOUNT_SHARDS: String(config.EXCHANGE_LOCAL_CHAIN ? ACCOUNT_SHARDS : 0),
    // Resolved once here, so that every engine (thread or process) writes the format the launcher writes.
    LOG_FORMAT: isPrettyFormat(config.LOG_FORMAT) ? 'pretty' : 'json',
    ENGINE_HTTP_PORT: String(config.ENGINE_HTTP_PORT_BASE === 0 ? 0 : config.ENGINE_HTTP_PORT_BASE + i),
  };
}

/**
 * Starts the whole exchange on this machine. Embedded mode: one in-process partitioned log, the matching
 * engines in worker threads on it, the gateway, and (optionally) anvil with the contracts deployed. Kafka
 * mode: the engines as child processes in one consumer group on the configured cluster.
 */
export async function startExchange(config: ExchangeConfig, logger: Logger, options: StartExchangeOptions = {}): Promise<RunningExchange> {
  const progress = options.progress ?? (() => undefined);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((err: unknown) => {
        logger.warn({ err }, 'unclean stop');
      });
    }
  };
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => {
    reportFailure = resolve;
  });

  const names = exchangeNames(config);
  // One catalogue for every part: the gateway shows it, and the local chain's markets are derived from it (lot
  // and tick in whole tokens, scaled by the test tokens' decimals), so the API and the chain cannot disagree.
  const catalogue = new MarketCatalogue(options.markets ?? defaultMarkets(config.MARKETS));
  try {
    let log: EmbeddedTransport | undefined;
    const engineUrls: string[] = [];
    if (config.KAFKA_BROKERS === undefined) {
      const embedded = createEmbeddedTransport({ retention: config.EXCHANGE_LOG_RETENTION });
      log = embedded;
      closers.push(() => embedded.close());
      const r = riskNames(config);
      await embedded.ensureTopics([
        ...topicSpecs(names.topics, config.PARTITIONS),
        ...riskTopicSpecs(r.inputs, ACCOUNT_SHARDS),
        ...riskStateTopicSpecs(r.state, ACCOUNT_SHARDS),
        { name: r.resultsTopic, partitions: ACCOUNT_SHARDS },
      ]);
      holdInputForSnapshots(embedded.log, names.topics);
      const workers: EngineWorker[] = [];
      for (let i = 0; i < config.EXCHANGE_ENGINES; i++) {
        const w = await startEngineWorker(embedded, engineEnv(config, names, i));
        workers.push(w);
        engineUrls.push(w.url);
        closers.push(() => w.stop());
        w.exited.then(
          () => undefined,
          (err: unknown) => {
            reportFailure(err instanceof Error ? err : new Error(String(err)));
          },
        );
      }
      logger.info({ engines: engineUrls, partitions: config.PARTITIONS }, 'matching engines running in worker threads');
      progress('engines', { engines: engineUrls.length, partitions: config.PARTITIONS, threads: true });
    } else {
      const entry = entryOf('@parallax/matching-engine');
      const children: ChildProcess[] = [];
      for (let i = 0; i < config.EXCHANGE_ENGINES; i++) {
        const env = engineEnv(config, names, i);
        const p = spawnService(entry, env, `matching engine ${i}`, reportFailure);
        children.push(p.child);
        engineUrls.push(`http://127.0.0.1:${env['ENGINE_HTTP_PORT'] ?? '?'}`);
        closers.push(() => p.close());
      }
      logger.info(
        { engines: children.length, brokers: config.KAFKA_BROKERS, group: names.engineGroupId, orders: names.topics.orders },
        'matching engines started as processes',
      );
      progress('engines', { engines: children.length, partitions: config.PARTITIONS, threads: false });
    }

    let chain: RunningExchange['chain'];
    let localChain: LocalSettlementChain | undefined;
    let settlement: SettlementHandle | undefined;
    if (config.EXCHANGE_LOCAL_CHAIN) {
      const local = await startLocalSettlementChain({ markets: catalogue.all() });
      localChain = local;
      closers.push(() => local.chain.close());
      chain = { rpcUrl: local.chain.anvil.rpcUrl, settlement: local.chain.settlement, tokens: local.chain.tokens };
      logger.info(chain, 'local EVM node with the settlement contract deployed');
      progress('chain', chain);
      if (config.EXCHANGE_SETTLEMENT) {
        // Settlement runs in this process: on the embedded log, or on its own Kafka client.
        let transport: Transport;
        if (log === undefined) {
          const kafka = createKafkaTransport({ brokers: config.KAFKA_BROKERS ?? [], clientId: names.settlementClientId });
          closers.push(() => kafka.close());
          transport = kafka;
        } else {
          transport = log;
        }
        const settlementConfig = localSettlementConfig(local, { ...names.settlementTopics, marketEvents: names.topics.marketEvents, deadLetters: names.topics.deadLetters }, {
          groupId: names.settlementGroupId,
          partitions: config.PARTITIONS,
          databaseUrl: config.DATABASE_URL,
          // The one-machine launcher is for development: without DATABASE_URL it may run on embedded PGlite.
          allowEphemeralDb: true,
          dataDir: config.EXCHANGE_DATA_DIR,
          httpPort: config.SETTLEMENT_HTTP_PORT,
        });
        const s = await startSettlement(settlementConfig, transport, { logger: logger.child({ service: 'settlement' }) });
        settlement = s;
        closers.push(() => s.close());
        s.stopped.then(
          () => undefined,
          (err: unknown) => {
            reportFailure(err instanceof Error ? err : new Error(String(err)));
          },
        );
        logger.info({ url: s.url, database: settlementConfig.databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL' }, 'settlement service running');
        progress('settlement', { url: s.url, database: settlementConfig.databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL' });
      }
    }

    // The risk stage: every order reaches its market only through its account's shard, which holds what the
    // order can cost. A worker thread on the embedded log, or a process on Kafka (like the engines).
    const risk = riskNames(config);
    const riskUrls: string[] = [];
    let projecting: Promise<ProjectorHandle> | undefined;
    if (localChain !== undefined) {
      const fees = settlement?.config.fees ?? { makerFeeRate: 0, takerFeeRate: 0 };
      const dir = await mkdtemp(join(tmpdir(), 'parallax-risk-'));
      closers.push(() => rm(dir, { recursive: true, force: true }));
      const marketsFile = join(dir, 'markets.json');
      const markets = localChain.markets.map((m) => ({
        marketId: m.marketId,
        baseToken: m.baseToken.toLowerCase(),
        quoteToken: m.quoteToken.toLowerCase(),
        lotSize: m.lotSize.toString(),
        tickSize: m.tickSize.toString(),
        makerFeeRate: fees.makerFeeRate,
        takerFeeRate: fees.takerFeeRate,
      }));
      await writeFile(marketsFile, JSON.stringify(markets));
      const env = riskEnv(config, names, risk, marketsFile);
      // The projector replays the shards' journal with the same engine settings (the risk environment), into
      // the read model the gateway's /v1/account endpoints serve. Started now, awaited before the gateway.
      const ns = config.EXCHANGE_NAMESPACE;
      const projectorConfig = loadProjectorConfig({
        ...env,
        KAFKA_CLIENT_ID: ns === undefined ? 'parallax-projector' : `${ns}.parallax-projector`,
        PROJECTOR_GROUP_ID: ns === undefined ? 'parallax-projector' : `${ns}.parallax-projector`,
        TOPIC_MARKET_EVENTS: names.topics.marketEvents,
        PROJECTOR_HTTP_PORT: '0',
        ...(config.DATABASE_URL === undefined ? {} : { DATABASE_URL: config.DATABASE_URL }),
        ...(config.EXCHANGE_DATA_DIR === undefined ? {} : { PROJECTOR_DATA_DIR: join(config.EXCHANGE_DATA_DIR, 'projector') }),
      });
      let projectorTransport: Transport;
      if (log === undefined) {
        const kafka = createKafkaTransport({ brokers: config.KAFKA_BROKERS ?? [], clientId: projectorConfig.kafkaClientId });
        closers.push(() => kafka.close());
        projectorTransport = kafka;
      } else {
        projectorTransport = log;
      }
      projecting = startProjector(projectorConfig, projectorTransport, { logger: logger.child({ service: 'projector' }) });
      if (log === undefined) {
        const p = spawnService(entryOf('@parallax/risk-service'), env, 'risk shards', reportFailure);
        closers.push(() => p.close());
        logger.info({ shards: ACCOUNT_SHARDS, group: risk.groupId }, 'risk shards started as a process');
      } else {
        const w = await startRiskWorker(log, env);
        riskUrls.push(w.url);
        closers.push(() => w.stop());
        w.exited.then(
          () => undefined,
          (err: unknown) => {
            reportFailure(err instanceof Error ? err : new Error(String(err)));
          },
        );
        logger.info({ shards: ACCOUNT_SHARDS, url: w.url }, 'risk shards running in a worker thread');
      }
    }

    // The chain watcher: the contract's events (deposits, withdrawals, trading keys, settled fills) become
    // the shards' chain events, each block as soon as it is mined (a local node does not reorg). The node's
    // newHeads subscription wakes it for every block; its own poll (CHAIN_WATCHER_POLL_MS, 5 s here) is only
    // the fallback while that subscription is down, so an idle exchange does not poll the node.
    let chainWatcher: ChainWatcherHandle | undefined;
    if (localChain !== undefined) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
      const ns = config.EXCHANGE_NAMESPACE;
      const watcherConfig = loadChainWatcherConfig({
        ...env,
        ...(config.KAFKA_BROKERS === undefined ? {} : { KAFKA_BROKERS: config.KAFKA_BROKERS.join(',') }),
        KAFKA_CLIENT_ID: ns === undefined ? 'parallax-chain-watcher' : `${ns}.parallax-chain-watcher`,
        RPC_URL: localChain.chain.anvil.rpcUrl,
        CHAIN_ID: String(localChain.chain.domain.chainId),
        SETTLEMENT_ADDRESS: localChain.chain.settlement,
        SETTLEMENT_DEPLOY_BLOCK: '1',
        CHAIN_CONFIRMATIONS: '1',
        CHAIN_WATCHER_POLL_MS: env['CHAIN_WATCHER_POLL_MS'] ?? String(LOCAL_CHAIN_WATCHER_POLL_MS),
        TOPIC_CHAIN_EVENTS: risk.inputs.chainEvents,
        TOPIC_CHAIN_WATCHER_PROGRESS: ns === undefined ? DEFAULT_PROGRESS_TOPIC : `${ns}.${DEFAULT_PROGRESS_TOPIC}`,
        ACCOUNT_SHARDS: String(ACCOUNT_SHARDS),
        CHAIN_WATCHER_HTTP_PORT: '0',
        LOG_FORMAT: isPrettyFormat(config.LOG_FORMAT) ? 'pretty' : 'json',
      });
      let transport: Transport;
      if (log === undefined) {
        const kafka = createKafkaTransport({ brokers: config.KAFKA_BROKERS ?? [], clientId: watcherConfig.kafkaClientId });
        closers.push(() => kafka.close());
        transport = kafka;
      } else {
        transport = log;
      }
      const w = await startChainWatcher(watcherConfig, transport, { logger: logger.child({ service: 'chain-watcher' }) });
      chainWatcher = w;
      closers.push(() => w.close());
      const heads = followNewHeads(localChain.chain.anvil.rpcUrl, () => {
        w.watcher.wake();
      }, logger.child({ component: 'new-heads' }));
      closers.push(() => {
        heads.close();
        return Promise.resolve();
      });
      w.stopped.then(
        () => undefined,
        (err: unknown) => {
          reportFailure(err instanceof Error ? err : new Error(String(err)));
        },
      );
      logger.info({ url: w.url, chainEvents: risk.inputs.chainEvents }, 'chain watcher following the local chain');
    }

    // The gateway writes requests to the risk shards and reads the engines' events and the shards' answers
    // on the same log (in Kafka mode through its own client).
    let gatewayTransport: Transport;
    if (log === undefined) {
      const kafka = createKafkaTransport({ brokers: config.KAFKA_BROKERS ?? [], clientId: names.gatewayClientId });
      closers.push(() => kafka.close());
      gatewayTransport = kafka;
    } else {
      gatewayTransport = log;
    }
    await gatewayTransport.ensureTopics([
      ...topicSpecs(names.topics, config.PARTITIONS),
      ...settlementTopicSpecs(names.settlementTopics, config.PARTITIONS),
      ...riskTopicSpecs(risk.inputs, ACCOUNT_SHARDS),
      { name: risk.resultsTopic, partitions: ACCOUNT_SHARDS },
    ]);
    let projector: ProjectorHandle | undefined;
    if (projecting !== undefined) {
      const p = await projecting;
      projector = p;
      closers.push(() => p.close());
      p.stopped.then(
        () => undefined,
        (err: unknown) => {
          reportFailure(err instanceof Error ? err : new Error(String(err)));
        },
      );
      logger.info({ url: p.url, database: config.DATABASE_URL === undefined ? 'embedded PGlite' : 'PostgreSQL' }, 'projector writing balances, transfers, orders, trades and candles');
      if (log !== undefined) {
        // The projector reads the shards' inputs by the ranges their journal names, outside any consumer group
        // (its position is its database row): the embedded log must keep what it has not projected yet, or a
        // trimmed input would stop it. Nothing is held back on Kafka, whose retention is by time.
        const embeddedLog = log.log;
        const positionOf = (shard: number) => p.projector.status().find((x) => x.shard === shard);
        embeddedLog.holdRetention(risk.state.journal, (shard) => positionOf(shard)?.journalNext ?? 0);
        for (const source of ['requests', 'chainEvents', 'accountEvents'] as const) {
          embeddedLog.holdRetention(risk.inputs[source], (shard) => positionOf(shard)?.inputs[source] ?? 0);
        }
      }
    }
    const gateway: { app: INestApplication; url: string } = await startGateway({
      config: loadGatewayConfig({ ...process.env, GATEWAY_HOST: config.GATEWAY_HOST, GATEWAY_PORT: String(config.GATEWAY_PORT) }),
      transport: gatewayTransport,
      topics: { requests: risk.inputs.requests, riskResults: risk.resultsTopic, chainEvents: risk.inputs.chainEvents, marketEvents: names.topics.marketEvents, signedOrders: names.settlementTopics.signedOrders, settlementStatus: names.settlementTopics.settlementStatus },
      accountShards: ACCOUNT_SHARDS,
      catalogue,
      // Without a chain no market can take signed orders: the gateway then serves no markets.
      domain: localChain?.chain.domain ?? settlementDomain(31337, '0x0000000000000000000000000000000000000000'),
      settlementMarkets: localChain?.markets ?? [],
      tokenDecimals: localChain === undefined ? new Map() : await tokenDecimalsOf(localChain),
      fees: settlement?.config.fees ?? { makerFeeRate: 0, takerFeeRate: 0 },
      ...(projector === undefined ? {} : { accountReadModel: projector.store, historyReadModel: projector.marketStore }),
      ...(settlement === undefined ? {} : { fillSettlement: settlement.repo }),
    }, { logger: logger.child({ service: 'gateway' }), shutdownHooks: false });
    closers.push(() => gateway.app.close());
    progress('gateway', { url: gateway.url });

    return {
      mode: config.KAFKA_BROKERS === undefined ? 'embedded' : 'kafka',
      names,
      gatewayUrl: gateway.url,
      engineUrls,
      log,
      chain,
      localChain,
      settlement,
      risk: localChain === undefined ? undefined : { topics: risk.inputs, resultsTopic: risk.resultsTopic, groupId: risk.groupId, shards: ACCOUNT_SHARDS, urls: riskUrls },
      chainWatcher,
      projector,
      failed,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The ERC-20 decimals of the local chain's market tokens, read from the tokens (what GET /v1/markets shows). */
async function tokenDecimalsOf(local: LocalSettlementChain): Promise<Map<string, number>> {
  const tokens = new Set<Address>(local.markets.flatMap((m) => [m.baseToken, m.quoteToken]));
  const out = new Map<string, number>();
  for (const address of tokens) {
    out.set(address.toLowerCase(), await local.chain.publicClient.readContract({ address, abi: erc20Abi, functionName: 'decimals' }));
  }
  return out;
}

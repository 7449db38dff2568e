// The benchmark's exchange behind the gateway, in its own thread: the embedded log, the risk shards and (in a
// worker of its own) the matching engine. The gateway, in the main thread, reaches the log over a MessagePort
// exactly as a service in a worker does (connectEmbeddedTransport), so the main thread's CPU time is the
// gateway's own work: HTTP, validation, signatures, its log client and its read side.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { SettlementMarket } from '@parallax/chain';
import { DEFAULT_RISK_RESULTS_TOPIC, DEFAULT_RISK_STATE_TOPICS, DEFAULT_RISK_TOPICS, DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, riskTopicSpecs, settlementTopicSpecs, topicSpecs } from '@parallax/contracts';
import { startEngineWorker } from '@parallax/matching-engine';
import type { Address } from '@parallax/risk';
import { RiskShards } from '@parallax/risk-service';
import { publishChainEvents } from '@parallax/risk-service/testing';
import { createEmbeddedTransport, serveEmbeddedTransport } from '@parallax/transport';

export interface StackTask {
  readonly port: MessagePort;
  readonly partitions: number;
  readonly shards: number;
  readonly settlementMarkets: readonly SettlementMarket[];
  /** Funded with both tokens of the first market. */
  readonly traders: readonly string[];
}

export type StackMessage = { readonly ready: true } | { readonly stopped: true } | { readonly error: string };

async function run(task: StackTask): Promise<() => Promise<void>> {
  const { partitions, shards } = task;
  const log = createEmbeddedTransport();
  await log.ensureTopics([
    ...topicSpecs(DEFAULT_TOPICS, partitions),
    ...settlementTopicSpecs(DEFAULT_SETTLEMENT_TOPICS, partitions),
    ...riskTopicSpecs(DEFAULT_RISK_TOPICS, shards),
    { name: DEFAULT_RISK_RESULTS_TOPIC, partitions: shards },
  ]);
  const risk = new RiskShards(
    {
      groupId: 'bench-risk',
      inputs: DEFAULT_RISK_TOPICS,
      state: DEFAULT_RISK_STATE_TOPICS,
      ordersTopic: DEFAULT_TOPICS.orders,
      signedOrdersTopic: DEFAULT_SETTLEMENT_TOPICS.signedOrders,
      deadLettersTopic: DEFAULT_TOPICS.deadLetters,
      resultsTopic: DEFAULT_RISK_RESULTS_TOPIC,
      shards,
      marketPartitions: partitions,
      markets: task.settlementMarkets.map((m) => ({ ...m, baseToken: m.baseToken.toLowerCase() as Address, quoteToken: m.quoteToken.toLowerCase() as Address, makerFeeRate: 0, takerFeeRate: 0 })),
    },
    log,
  );
  await risk.start();
  const m0 = task.settlementMarkets[0]!;
  await publishChainEvents(
    log,
    DEFAULT_RISK_TOPICS.chainEvents,
    shards,
    task.traders.flatMap((t) => [m0.baseToken, m0.quoteToken].map((token) => ({ type: 'deposit' as const, account: t.toLowerCase() as Address, token: token.toLowerCase() as Address, amount: 10n ** 30n }))),
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const engine = await startEngineWorker(log, {
    ...env,
    PARTITIONS: String(partitions),
    MARKETS: '2',
    ENGINE_INSTANCE_ID: 'bench-engine',
    ENGINE_HTTP_PORT: '0',
    TOPIC_ACCOUNT_EVENTS: DEFAULT_RISK_TOPICS.accountEvents,
    ACCOUNT_SHARDS: String(shards),
  });
  const server = serveEmbeddedTransport(log, task.port);
  return async () => {
    await server.close();
    await engine.stop();
    await risk.close();
    await log.close();
  };
}

const task = workerData as StackTask;
run(task).then(
  (stop) => {
    parentPort!.once('message', () => {
      stop().then(
        () => { parentPort!.postMessage({ stopped: true } satisfies StackMessage); },
        (e: unknown) => { parentPort!.postMessage({ error: String(e) } satisfies StackMessage); },
      );
    });
    parentPort!.postMessage({ ready: true } satisfies StackMessage);
  },
  (e: unknown) => {
    parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies StackMessage);
  },
);

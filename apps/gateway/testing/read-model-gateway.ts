// A gateway answering from the projector's read models, for API tests on an embedded log (one account shard,
// the default catalogue's first market, the local chain's settlement domain), and the signed-in HTTP reads the
// tests make of it.
import type { INestApplication } from '@nestjs/common';
import { settlementDomain, type SettlementMarket } from '@parallax/chain';
import { defaultMarkets, MarketCatalogue, settlementTopicSpecs, topicSpecs } from '@parallax/contracts';
import { signLogin } from '@parallax/sdk';
import type { EmbeddedTransport } from '@parallax/transport';
import type { PrivateKeyAccount } from 'viem/accounts';
import { startGateway } from '../bootstrap.js';
import { loadGatewayConfig } from '../gateway.config.js';
import type { GatewayContext, GatewayTopics } from '../gateway.context.js';

/** The settlement domain of the first contract deployed on a fresh anvil (orders and logins are signed in it). */
export const TEST_DOMAIN = settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');

export interface ReadModelTopics extends GatewayTopics {
  readonly orders: string;
  readonly snapshots: string;
  readonly deadLetters: string;
  readonly settlementStatus: string;
}

/** Every topic the gateway reads or writes, named `<prefix>.<role>` (the events topic may be named apart). */
export function readModelTopics(prefix: string, marketEvents = `${prefix}.events`): ReadModelTopics {
  return {
    orders: `${prefix}.orders`,
    marketEvents,
    snapshots: `${prefix}.snapshots`,
    deadLetters: `${prefix}.dead`,
    signedOrders: `${prefix}.signed`,
    settlementStatus: `${prefix}.status`,
    requests: `${prefix}.requests`,
    riskResults: `${prefix}.risk-results`,
    chainEvents: `${prefix}.chain-events`,
  };
}

export interface ReadModelGateway {
  readonly app: INestApplication;
  readonly url: string;
  /** The Login headers of `who` (signing for `as`, default itself), valid until `expiry` (s; default in 5 minutes). */
  loginHeaders(who: PrivateKeyAccount, as?: string, expiry?: bigint): Promise<Record<string, string>>;
  /** GET `path` with `headers`: the status and the JSON body. */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Creates `topics` on `log` (one partition each), and the `extra` ones (the test's own). */
export function ensureReadModelTopics(log: EmbeddedTransport, topics: ReadModelTopics, extra: readonly string[] = []): Promise<void> {
  return log.ensureTopics([...topicSpecs(topics, 1), ...settlementTopicSpecs(topics, 1), ...[topics.requests, topics.riskResults, topics.chainEvents, ...extra].map((name) => ({ name, partitions: 1 }))]);
}

/** A gateway on `log` (its topics created) reading the given read models besides its own memory of `log`. */
export async function startReadModelGateway(
  log: EmbeddedTransport,
  topics: ReadModelTopics,
  settlementMarket: SettlementMarket,
  readModels: Pick<GatewayContext, 'accountReadModel' | 'historyReadModel' | 'fillSettlement'>,
): Promise<ReadModelGateway> {
  const { app, url } = await startGateway({
    config: loadGatewayConfig({ GATEWAY_PORT: '0', GATEWAY_RATE_LIMIT_ACCOUNT: '100000', GATEWAY_RATE_LIMIT_IP: '1000000' }),
    transport: log,
    topics,
    accountShards: 1,
    catalogue: new MarketCatalogue(defaultMarkets(1)),
    domain: TEST_DOMAIN,
    settlementMarkets: [settlementMarket],
    fees: { makerFeeRate: -50, takerFeeRate: 300 },
    ...readModels,
  });
  return {
    app,
    url,
    loginHeaders: async (who, as = who.address, expiry = BigInt(Math.floor(Date.now() / 1000) + 300)) => ({
      'x-parallax-trader': as,
      'x-parallax-expiry': expiry.toString(),
      'x-parallax-nonce': '9',
      'x-parallax-signature': await signLogin(who, TEST_DOMAIN, { trader: who.address, expiry, nonce: 9n }),
    }),
    get: async (path, headers = {}) => {
      const res = await fetch(`${url}${path}`, { headers });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}

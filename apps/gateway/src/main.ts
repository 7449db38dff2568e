// A gateway process on a Kafka cluster: the catalogue of MARKETS default markets and the settlement deployment
// named by the environment (GATEWAY_CHAIN_ID, GATEWAY_SETTLEMENT_CONTRACT, GATEWAY_SETTLEMENT_MARKETS as JSON
// [{ marketId, baseToken, quoteToken, lotSize, tickSize }] with sizes as decimal strings of base units).
import { assertSettlementMarket, settlementDomain, type SettlementMarket } from '@parallax/chain';
import { DEFAULT_SETTLEMENT_TOPICS, DEFAULT_TOPICS, defaultMarkets, MarketCatalogue } from '@parallax/contracts';
import { bootConfig, ConfigError, createLogger, loadConfig, optionalBrokerList } from '@parallax/observability';
import { createKafkaTransport } from '@parallax/transport';
import { z } from 'zod';
import { startGateway } from './bootstrap.js';
import { loadGatewayConfig } from './gateway.config.js';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x address');
const units = z.string().regex(/^[1-9][0-9]{0,38}$/, 'must be a positive integer string');
const env = z.object({
  KAFKA_BROKERS: optionalBrokerList().pipe(z.array(z.string()).min(1, 'the gateway process needs a Kafka cluster')),
  MARKETS: z.coerce.number().int().min(1).max(1_000_000).default(12),
  GATEWAY_CHAIN_ID: z.coerce.number().int().min(1),
  GATEWAY_SETTLEMENT_CONTRACT: address,
  GATEWAY_SETTLEMENT_MARKETS: z.string().transform((s, ctx) => {
    try {
      return z.array(z.strictObject({ marketId: z.int().min(1), baseToken: address, quoteToken: address, lotSize: units, tickSize: units })).parse(JSON.parse(s));
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON list of settlement markets: ${e instanceof Error ? e.message : String(e)}` });
      return z.NEVER;
    }
  }),
  MAKER_FEE_RATE: z.coerce.number().int().min(0).max(100_000).default(0),
  TAKER_FEE_RATE: z.coerce.number().int().min(0).max(100_000).default(0),
});

// A bad value stops start-up with one line naming the variable (exit 78): the gateway's own settings first.
const config = bootConfig('gateway', () => loadGatewayConfig());
const e = bootConfig('gateway', () => loadConfig(env));
const log = createLogger('gateway', config.LOG_LEVEL, config.LOG_FORMAT);
try {
  const settlementMarkets: SettlementMarket[] = e.GATEWAY_SETTLEMENT_MARKETS.map((m) => ({
    marketId: m.marketId,
    baseToken: m.baseToken as `0x${string}`,
    quoteToken: m.quoteToken as `0x${string}`,
    lotSize: BigInt(m.lotSize),
    tickSize: BigInt(m.tickSize),
  }));
  bootConfig('gateway', () => {
    try {
      settlementMarkets.forEach(assertSettlementMarket);
    } catch (err) {
      throw new ConfigError([`GATEWAY_SETTLEMENT_MARKETS: ${err instanceof Error ? err.message : String(err)}`]);
    }
  });
  const transport = createKafkaTransport({ brokers: e.KAFKA_BROKERS, clientId: `parallax-gateway-${config.GATEWAY_INSTANCE}` });
  const { url } = await startGateway({
    config,
    transport,
    topics: { orders: DEFAULT_TOPICS.orders, marketEvents: DEFAULT_TOPICS.marketEvents, signedOrders: DEFAULT_SETTLEMENT_TOPICS.signedOrders },
    catalogue: new MarketCatalogue(defaultMarkets(e.MARKETS)),
    domain: settlementDomain(e.GATEWAY_CHAIN_ID, e.GATEWAY_SETTLEMENT_CONTRACT as `0x${string}`),
    settlementMarkets,
    fees: { makerFeeRate: e.MAKER_FEE_RATE, takerFeeRate: e.TAKER_FEE_RATE },
  }, { logger: log });
  log.info({ url }, 'gateway listening');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}

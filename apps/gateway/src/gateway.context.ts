// What the gateway is started with besides its environment: the log it writes to and reads events from,
// the market catalogue, and the settlement deployment orders are signed for.
import type { SettlementDomain, SettlementMarket } from '@parallax/chain';
import type { MarketCatalogue } from '@parallax/contracts';
import type { ServiceHealthIndicator } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import type { AccountReadModel } from './account/account-read-model.js';
import type { GatewayConfig } from './gateway.config.js';
import type { FillSettlementReadModel, MarketHistoryReadModel } from './history/history-read-model.js';

export interface GatewayTopics {
  /** The risk shards' requests topic (RiskRequestBatch, S partitions, keyed by account): orders and cancels go there. */
  readonly requests: string;
  /** The risk shards' answers (RiskResultBatch): minted order ids and refusals. */
  readonly riskResults: string;
  readonly marketEvents: string;
  /** Written by the risk shards: each accepted order with its order id, account id and trader. */
  readonly signedOrders: string;
  /** The settlement service's status topic: the source of GET /v1/settlement/batches (absent = no settlement). */
  readonly settlementStatus?: string;
  /**
   * The chain watcher's ChainEventBatch messages (other message types on it are skipped): the gateway reads
   * the trading-key authorizations from them to accept a Login signed by a trader's key.
   */
  readonly chainEvents: string;
}

export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly transport: Transport;
  readonly topics: GatewayTopics;
  /** S, the account shard count of the risk shards (partition of an account's requests). */
  readonly accountShards: number;
  readonly catalogue: MarketCatalogue;
  /** The EIP-712 domain orders, cancels and logins are signed in. */
  readonly domain: SettlementDomain;
  /** Token addresses and base units of each catalogue market. */
  readonly settlementMarkets: readonly SettlementMarket[];
  /**
   * ERC-20 decimals of the markets' tokens, by lowercased address (shown by GET /v1/markets, so clients turn
   * the base-unit balances of /v1/account/balances into amounts). A token missing here shows `null`.
   */
  readonly tokenDecimals?: ReadonlyMap<string, number>;
  /** Fee rates charged, millionths of the quote amount (shown by GET /v1/markets). */
  readonly fees: { readonly makerFeeRate: number; readonly takerFeeRate: number };
  /** The projector's read model behind GET /v1/account/balances and /transfers (absent: they answer UNAVAILABLE). */
  readonly accountReadModel?: AccountReadModel;
  /** The projector's orders, trades and candles behind the history reads (absent: this gateway's memory only). */
  readonly historyReadModel?: MarketHistoryReadModel;
  /** The settlement service's per-fill status on /v1/orders/fills (absent: settlement null). */
  readonly fillSettlement?: FillSettlementReadModel;
  /** More /ready checks besides the log's (a standalone gateway's database: database.ts). */
  readonly readiness?: readonly ServiceHealthIndicator[];
  /** Wall clock, ms (tests move it). */
  readonly clock?: () => number;
}

export const GATEWAY_CONTEXT = Symbol('GatewayContext');

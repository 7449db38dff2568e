// What the history endpoints read beyond this gateway's memory: the projector's market read model (orders,
// trades, 1-minute candles in PostgreSQL; the queries are libs/persistence's MarketReadStore) and the settlement
// service's per-fill status (SettlementRepository.fillSettlements). The launcher hands over the projector's and
// settlement's own stores in GatewayContext.historyReadModel / .fillSettlement; a standalone gateway with
// DATABASE_URL opens them read-only (database.ts). Eventually consistent: every answer says which market event
// sequence it reflects (`asOf`).
import type { FillSettlementView, HistoryQuery as StoredHistoryQuery, MarketReadStore, SettlementRepository, StoredCandle, StoredFill, StoredOrder, StoredTrade } from '@parallax/persistence';

export type HistoryOrderRecord = StoredOrder;
export type HistoryTradeRecord = StoredTrade;
export type HistoryFillRecord = StoredFill;
export type HistoryCandleRecord = StoredCandle;
export type HistoryQuery = StoredHistoryQuery;

export type MarketHistoryReadModel = Pick<MarketReadStore, 'asOf' | 'closedOrders' | 'order' | 'orderByClientId' | 'fills' | 'trades' | 'candles'>;

/** One fill's settlement as the settlement service's tables hold it. */
export type FillSettlementRecord = FillSettlementView;

export type FillSettlementReadModel = Pick<SettlementRepository, 'fillSettlements'>;

export const HISTORY_READ_MODEL = Symbol('MarketHistoryReadModel');
export const FILL_SETTLEMENT_READ_MODEL = Symbol('FillSettlementReadModel');

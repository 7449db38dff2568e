// What the history endpoints read beyond this gateway's memory: the projector's market read model (orders,
// trades, 1-minute candles in PostgreSQL; apps/projector's MarketStore satisfies it) and the settlement service's
// per-fill status (SettlementRepository.fillSettlements satisfies it). The launcher hands them over in
// GatewayContext.historyReadModel / .fillSettlement. Eventually consistent: every answer says which market event
// sequence it reflects (`asOf`).

export interface HistoryOrderRecord {
  readonly marketId: number;
  readonly orderId: number;
  readonly accountId: number;
  /** The registry's trader of accountId (null until the projector has seen it). */
  readonly trader: string | null;
  /** Engine codes (libs/order-book Side, OrderType, TimeInForce); null for a place the engine rejected. */
  readonly side: number | null;
  readonly orderType: number | null;
  readonly tif: number | null;
  readonly price: number | null;
  readonly size: number;
  readonly filled: number;
  readonly notional: bigint;
  readonly status: 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';
  readonly reason: string | null;
  readonly createdTs: number;
  readonly updatedTs: number;
}

export interface HistoryTradeRecord {
  readonly marketId: number;
  readonly seq: number;
  readonly ts: number;
  readonly price: number;
  readonly size: number;
  readonly takerSide: number;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerAccountId: number;
  readonly takerAccountId: number;
}

export interface HistoryFillRecord extends HistoryTradeRecord {
  readonly role: 'maker' | 'taker';
  readonly orderId: number;
}

export interface HistoryCandleRecord {
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export interface HistoryQuery {
  readonly marketId?: number;
  readonly limit: number;
  /** Only rows strictly older than this engine time (ms): paging backwards. */
  readonly before?: number;
}

export interface MarketHistoryReadModel {
  /** Per market id: the last event sequence (and its engine time) the rows reflect. */
  asOf(marketIds?: readonly number[]): Promise<{ readonly markets: Readonly<Record<string, { readonly seq: number; readonly ts: number }>> }>;
  closedOrders(trader: string, q: HistoryQuery): Promise<readonly HistoryOrderRecord[]>;
  order(trader: string, marketId: number, orderId: number): Promise<HistoryOrderRecord | null>;
  fills(trader: string, q: HistoryQuery): Promise<readonly HistoryFillRecord[]>;
  trades(marketId: number, limit: number, beforeSeq?: number): Promise<readonly HistoryTradeRecord[]>;
  candles(marketId: number, periodMs: number, since: number, limit: number): Promise<readonly HistoryCandleRecord[]>;
}

/** One fill's settlement as the settlement service's tables hold it. */
export interface FillSettlementRecord {
  readonly marketId: number;
  readonly seq: number;
  readonly status: 'pending' | 'batched' | 'settled' | 'failed';
  readonly batchId: bigint | null;
  /** The batch's mined transaction (else its latest broadcast). */
  readonly txHash: string | null;
  /** The batch's gas used divided by its fill count (gas units), once mined. */
  readonly gasShare: bigint | null;
  /** gasShare x the effective gas price (wei), once mined. */
  readonly feeShareWei: bigint | null;
  readonly failureReason: string | null;
}

export interface FillSettlementReadModel {
  fillSettlements(keys: readonly { readonly marketId: number; readonly seq: number }[]): Promise<readonly FillSettlementRecord[]>;
}

export const HISTORY_READ_MODEL = Symbol('MarketHistoryReadModel');
export const FILL_SETTLEMENT_READ_MODEL = Symbol('FillSettlementReadModel');

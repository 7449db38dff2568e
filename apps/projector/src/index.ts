export { startProjector, SERVICE as PROJECTOR_SERVICE, type ProjectorHandle, type ProjectorOptions } from './app/projector.app.js';
export { loadProjectorConfig, type ProjectorServiceConfig } from './config/projector.config.js';
export { Projector, type ProjectorConfig, type ProjectorObserver, type ShardStatus } from './projection/projector.service.js';
export { ShardProjection, type BalanceRow, type ProjectionStep, type TransferRow, type TransferKind } from './projection/shard-projection.js';
export { ProjectorError, type ProjectorErrorCode } from './projection/projector.errors.js';
export { ProjectionStore, type BalanceRecord, type StoredShard, type TransferRecord } from './store/projection.store.js';
export { MarketProjector, type MarketProjectorConfig, type MarketProjectorObserver } from './market/market-projector.service.js';
export { MarketProjection, accountsOfSignedOrders, clientOrderIdsOfSignedOrders, type ClientOrderIdRow, type MarketStep, type OrderRow, type OrderChange, type CandleDelta, type MarketCursor } from './market/market-projection.js';
export { MarketStore, type StoredOrder, type StoredTrade, type StoredFill, type StoredCandle, type MarketsAsOf, type HistoryQuery } from './store/market.store.js';

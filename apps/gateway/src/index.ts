export { startGateway, type StartedGateway } from './bootstrap.js';
export { loadGatewayConfig, type GatewayConfig } from './gateway.config.js';
export type { GatewayContext, GatewayTopics } from './gateway.context.js';
export type { OrderIntake, IntakeItem } from './intake/order-intake.js';
export { API_ERRORS, type ApiErrorCode } from './errors/api.errors.js';
export type { AccountReadModel, AccountBalanceRecord, AccountTransferRecord } from './account/account-read-model.js';
export type { MarketHistoryReadModel, FillSettlementReadModel, FillSettlementRecord, HistoryOrderRecord, HistoryFillRecord, HistoryTradeRecord, HistoryCandleRecord } from './history/history-read-model.js';
export { loadStandaloneConfig, startStandaloneGateway, type StandaloneConfig, type StandaloneGateway } from './standalone.js';
export { openGatewayDatabase, type GatewayDatabase } from './database.js';

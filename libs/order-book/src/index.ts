export {
  Side,
  OrderType,
  TimeInForce,
  StpMode,
  CommandType,
  RejectReason,
  DoneReason,
  AmendReason,
  EventKind,
  rejectReasonName,
  doneReasonName,
  amendReasonName,
  MAX_ORDER_ID_SOURCES,
} from './types.js';
export type { MarketConfig, RejectReasonName, DoneReasonName, AmendReasonName } from './types.js';
export type { Command, PlaceOrder, CancelOrder, CancelAll, AmendOrder, ExpireOrders } from './commands.js';
export type {
  EventSink,
  BookEvent,
  AcceptedEvent,
  RejectedEvent,
  TradeEvent,
  DoneEvent,
  AmendedEvent,
  LevelEvent,
} from './events.js';
export { NullSink, EventCollector, emitTo } from './events.js';
export { OrderBook } from './order-book.js';
export type { OrderView, LevelView } from './order-book.js';
export { EventEncoder, encodeEvents, decodeEvents } from './codec.js';
export { MarketUnits } from './units.js';
export { MINUTE_MS, candleStart, foldTrade, candlesFrom, tradeRecord } from './market-data.js';
export type { Candle, TradeRecord } from './market-data.js';
export { OrderBookError } from './errors.js';
// The deterministic varint writer the event codec uses; topic contracts build their frames on it.
export { ByteWriter } from './bytes.js';
export type { OrderBookErrorCode } from './errors.js';
// Seeded pseudo-random numbers for workloads, benchmarks and tests (see prng.ts).
export { Prng, deriveSeed } from './prng.js';

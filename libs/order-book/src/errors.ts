/** Stable codes thrown at the edges of the order book (decimal conversion, config, snapshot decoding). */
export type OrderBookErrorCode =
  | 'INVALID_DECIMAL'
  | 'TOO_MANY_DIGITS'
  | 'VALUE_OUT_OF_RANGE'
  | 'PRICE_NOT_POSITIVE'
  | 'SIZE_NOT_POSITIVE'
  | 'PRICE_OFF_TICK'
  | 'SIZE_OFF_LOT'
  | 'INVALID_TICK_SIZE'
  | 'INVALID_LOT_SIZE'
  | 'INVALID_MARKET_CONFIG'
  | 'INVALID_SNAPSHOT'
  | 'INVALID_EVENT_BYTES';

/** Domain error of the order book edges. Matching itself never throws: it emits `rejected` events. */
export class OrderBookError extends Error {
  override readonly name = 'OrderBookError';
  constructor(
    readonly code: OrderBookErrorCode,
    message: string,
  ) {
    super(message);
  }
}

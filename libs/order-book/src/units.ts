// Edge conversion between API decimal strings and the book's integer ticks / lots.
// This is the ONLY module of the order book that uses decimal.js.
import { OrderBookError } from './errors.js';

/** Converts prices and sizes of one market between decimal strings and integer ticks / lots. */
export class MarketUnits {
  constructor(
    readonly tickSize: string,
    readonly lotSize: string,
  ) {
    throw new OrderBookError('INVALID_TICK_SIZE', 'not implemented');
  }
  /** Decimal price string -> ticks. Throws OrderBookError (INVALID_DECIMAL, TOO_MANY_DIGITS, PRICE_NOT_POSITIVE, PRICE_OFF_TICK, VALUE_OUT_OF_RANGE). */
  priceToTicks(_price: string): number {
    throw new Error('not implemented');
  }
  /** Decimal size string -> lots. Throws OrderBookError (INVALID_DECIMAL, TOO_MANY_DIGITS, SIZE_NOT_POSITIVE, SIZE_OFF_LOT, VALUE_OUT_OF_RANGE). */
  sizeToLots(_size: string): number {
    throw new Error('not implemented');
  }
  /** Ticks -> canonical decimal string (no exponent, trailing zeros trimmed). */
  ticksToPrice(_ticks: number): string {
    throw new Error('not implemented');
  }
  /** Lots -> canonical decimal string. */
  lotsToSize(_lots: number): string {
    throw new Error('not implemented');
  }
  /** ticks*lots -> quote amount as a decimal string (price * size). */
  notionalToQuote(_ticksTimesLots: number): string {
    throw new Error('not implemented');
  }
}

// Edge conversion between API decimal strings and the book's integer ticks / lots.
// This is the ONLY module of the order book that uses decimal.js; nothing here runs inside matching.
import { Decimal } from 'decimal.js';
import { OrderBookError } from './errors.js';
import type { OrderBookErrorCode } from './errors.js';

/** Longest accepted decimal string (characters) and most digits in it. */
export const MAX_DECIMAL_LENGTH = 64;
export const MAX_DECIMAL_DIGITS = 40;

// Private Decimal constructor: enough precision that a non-integer quotient of two <=40-digit decimals is
// never rounded to an integer once the integer part is known to fit in 16 digits, and plain notation.
const D = Decimal.clone({ precision: 160, rounding: Decimal.ROUND_DOWN, toExpNeg: -1000, toExpPos: 1000 });
type Dec = InstanceType<typeof D>;

const DECIMAL = /^-?\d+(\.\d+)?$/;
const MAX_SAFE = new D(Number.MAX_SAFE_INTEGER);

/** Parses a plain decimal string (no exponent, no '+', no surrounding spaces). */
function parseDecimal(value: unknown, what: string): Dec {
  if (typeof value !== 'string') throw new OrderBookError('INVALID_DECIMAL', `${what} must be a decimal string`);
  if (value.length > MAX_DECIMAL_LENGTH) {
    throw new OrderBookError('TOO_MANY_DIGITS', `${what} is longer than ${MAX_DECIMAL_LENGTH} characters`);
  }
  if (!DECIMAL.test(value)) throw new OrderBookError('INVALID_DECIMAL', `${what} "${value}" is not a plain decimal number`);
  let digits = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits > MAX_DECIMAL_DIGITS) {
    throw new OrderBookError('TOO_MANY_DIGITS', `${what} "${value}" has more than ${MAX_DECIMAL_DIGITS} digits`);
  }
  return new D(value);
}

function parseStep(value: unknown, what: string, code: OrderBookErrorCode): Dec {
  let d: Dec;
  try {
    d = parseDecimal(value, what);
  } catch (e) {
    if (e instanceof OrderBookError) throw new OrderBookError(code, e.message);
    throw e;
  }
  if (!d.isPositive() || d.isZero()) throw new OrderBookError(code, `${what} must be positive`);
  return d;
}

/**
 * Converts prices and sizes of one market between decimal strings and integer ticks / lots.
 * Prices must be positive multiples of tickSize, sizes positive multiples of lotSize, and the resulting
 * integers must be safe (<= 2^53 - 1). Formatting uses the step's number of decimal places ("1.50").
 */
export class MarketUnits {
  private readonly tick: Dec;
  private readonly lot: Dec;
  private readonly tickDp: number;
  private readonly lotDp: number;

  constructor(
    readonly tickSize: string,
    readonly lotSize: string,
  ) {
    this.tick = parseStep(tickSize, 'tick size', 'INVALID_TICK_SIZE');
    this.lot = parseStep(lotSize, 'lot size', 'INVALID_LOT_SIZE');
    this.tickDp = this.tick.decimalPlaces();
    this.lotDp = this.lot.decimalPlaces();
  }

  /** Decimal price string -> ticks. Throws OrderBookError (INVALID_DECIMAL, TOO_MANY_DIGITS, PRICE_NOT_POSITIVE, VALUE_OUT_OF_RANGE, PRICE_OFF_TICK). */
  priceToTicks(price: string): number {
    return toSteps(price, this.tick, 'price', 'PRICE_NOT_POSITIVE', 'PRICE_OFF_TICK', this.tickSize);
  }

  /** Decimal size string -> lots. Throws OrderBookError (INVALID_DECIMAL, TOO_MANY_DIGITS, SIZE_NOT_POSITIVE, VALUE_OUT_OF_RANGE, SIZE_OFF_LOT). */
  sizeToLots(size: string): number {
    return toSteps(size, this.lot, 'size', 'SIZE_NOT_POSITIVE', 'SIZE_OFF_LOT', this.lotSize);
  }

  /** Ticks -> decimal string with the tick size's decimal places. Throws VALUE_OUT_OF_RANGE. */
  ticksToPrice(ticks: number): string {
    return this.tick.times(checkCount(ticks, 'ticks')).toFixed(this.tickDp);
  }

  /** Lots -> decimal string with the lot size's decimal places. Throws VALUE_OUT_OF_RANGE. */
  lotsToSize(lots: number): string {
    return this.lot.times(checkCount(lots, 'lots')).toFixed(this.lotDp);
  }

  /** ticks*lots -> quote amount (price * size) as a decimal string. Throws VALUE_OUT_OF_RANGE. */
  notionalToQuote(ticksTimesLots: number): string {
    return this.tick.times(this.lot).times(checkCount(ticksTimesLots, 'notional')).toFixed(this.tickDp + this.lotDp);
  }
}

function checkCount(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new OrderBookError('VALUE_OUT_OF_RANGE', `${what} must be a non-negative safe integer, got ${String(n)}`);
  }
  return n;
}

function toSteps(
  value: string,
  step: Dec,
  what: string,
  notPositive: OrderBookErrorCode,
  offGrid: OrderBookErrorCode,
  stepText: string,
): number {
  const d = parseDecimal(value, what);
  if (!d.isPositive() || d.isZero()) throw new OrderBookError(notPositive, `${what} must be positive, got "${value}"`);
  const q = d.div(step);
  if (q.gt(MAX_SAFE)) throw new OrderBookError('VALUE_OUT_OF_RANGE', `${what} "${value}" is too large for this market`);
  if (!q.isInteger()) throw new OrderBookError(offGrid, `${what} "${value}" is not a multiple of ${stepText}`);
  return q.toNumber();
}

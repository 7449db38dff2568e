// The API's stable error codes. Every failure a client can cause is one of these, with an HTTP status and a
// message naming the field; the single exception filter (api-exception.filter.ts) maps them to responses and
// WebSocket errors, and maps anything else to INTERNAL without details.

export const API_ERRORS = {
  INVALID_FIELD: 400,
  MALFORMED_JSON: 400,
  UNKNOWN_MARKET: 404,
  MARKET_CLOSED: 409,
  PRICE_OFF_TICK: 400,
  SIZE_OFF_LOT: 400,
  PRICE_NOT_POSITIVE: 400,
  SIZE_NOT_POSITIVE: 400,
  VALUE_OUT_OF_RANGE: 400,
  PROTECTION_PRICE_REQUIRED: 400,
  INVALID_SIGNATURE: 401,
  SIGNER_MISMATCH: 401,
  SIGNATURE_EXPIRED: 401,
  EXPIRY_TOO_FAR: 400,
  ORDER_EXPIRED: 400,
  REPLAYED: 409,
  DUPLICATE_CLIENT_ORDER_ID: 409,
  ORDER_NOT_FOUND: 404,
  NOT_LOGGED_IN: 401,
  TOO_MANY_SUBSCRIPTIONS: 429,
  TOO_MANY_ORDERS_IN_BATCH: 400,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return API_ERRORS[this.code];
  }
}

/** The body of every error response and WebSocket error. */
export interface ApiErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

/** Stable codes of contract violations (also used as dead-letter reasons). */
export type ContractErrorCode =
  | 'MALFORMED_MESSAGE'
  | 'UNSUPPORTED_VERSION'
  | 'WRONG_MESSAGE_TYPE'
  | 'MESSAGE_TOO_LARGE'
  | 'INVALID_FIELD'
  | 'UNKNOWN_MARKET';

/**
 * The only error the contract encoders, decoders and catalogue parser throw. Decoders throw it for any
 * hostile input, so a consumer can dead-letter on `instanceof ContractError` and rethrow anything else.
 */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(
    readonly code: ContractErrorCode,
    message: string,
  ) {
    super(message);
  }
}

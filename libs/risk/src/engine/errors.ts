export type RiskErrorCode =
  /** The engine's configuration is unusable (shards, markets, fees, units). */
  | 'INVALID_CONFIG'
  /** A snapshot that is malformed, of another shard or configuration, or does not reproduce its state hash. */
  | 'INVALID_SNAPSHOT'
  /** restore() on an engine that already holds state. */
  | 'ENGINE_NOT_FRESH';

/** Errors of the engine itself. Commands never throw: a refused command is a `Rejected` outcome. */
export class RiskError extends Error {
  constructor(
    readonly code: RiskErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'RiskError';
  }
}

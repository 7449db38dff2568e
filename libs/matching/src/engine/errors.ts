export type MatchingErrorCode =
  /** A message of another partition was handed to a partition engine (caller bug, not poison input). */
  | 'FOREIGN_PARTITION'
  /** restore() on an engine that already holds state. */
  | 'ENGINE_NOT_FRESH'
  /** A snapshot that does not reproduce the state it describes (wrong partition, hash or sequence). */
  | 'INVALID_SNAPSHOT'
  /**
   * A market of the partition's newest snapshot set has no snapshot at all (lost or deleted): rebuilding it
   * from the replayed part of the log alone would silently diverge.
   */
  | 'MISSING_SNAPSHOT'
  /** A snapshot record that cannot be decoded and is not superseded by a later record of its key. */
  | 'UNREADABLE_SNAPSHOT'
  /** Input a restore must replay (or the consumer must read next) is below the log's start: retention deleted it. */
  | 'REPLAY_INPUT_DELETED'
  /** snapshot(nextOffset) with an offset before what the engine has already processed. */
  | 'OFFSET_REGRESSION'
  /** Rebuilding a market after a failed command batch failed too: the engine cannot vouch for its state. */
  | 'ROLLBACK_FAILED';

/** Errors of the partition engine itself (never raised for bad input: bad input becomes a dead letter). */
export class MatchingError extends Error {
  constructor(
    readonly code: MatchingErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'MatchingError';
  }
}

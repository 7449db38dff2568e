// Why a shard refuses to restore: each of these means its state would not be exactly what the journal and
// inputs say, so it stops (the partition moves on to another member, which refuses it the same way) rather
// than serve orders from a wrong ledger. The matching engine's restore guard uses the same codes.
export type RiskServiceErrorCode =
  /** The group committed input for the shard (so it had state), but there is no snapshot to start from. */
  | 'MISSING_SNAPSHOT'
  /** The newest snapshot record of the shard does not decode. */
  | 'UNREADABLE_SNAPSHOT'
  /** A snapshot that decodes but is of another shard/shard count, or does not reproduce its state hash. */
  | 'INVALID_SNAPSHOT'
  /** A journal record that does not decode. */
  | 'UNREADABLE_JOURNAL'
  /** Journal entries missing or out of order (a gap in the entry numbers or input ranges). */
  | 'JOURNAL_GAP'
  /** The committed input offsets are ahead of what the journal says was applied. */
  | 'JOURNAL_MISMATCH'
  /** Retention deleted journal or input records a restore needs. */
  | 'REPLAY_INPUT_DELETED';

export class RiskServiceError extends Error {
  constructor(
    readonly code: RiskServiceErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'RiskServiceError';
  }
}

// Stable codes of the projector's refusals: each stops the shard's projection (its rows stay at the last good
// journal entry, /ready says why) rather than write a ledger that is not the shard's.
export type ProjectorErrorCode =
  /** A risk-journal record does not decode. */
  | 'UNREADABLE_JOURNAL'
  /** A journal record in a shard's partition names another shard. */
  | 'JOURNAL_MISMATCH'
  /** An entry does not continue the shard's journal or its inputs (a gap, retention took input). */
  | 'JOURNAL_GAP'
  /** The stored projection was written for another shard count or markets file. */
  | 'PROJECTION_CONFIG_MISMATCH'
  /** Another projector instance advanced the shard's row first (this one is a zombie). */
  | 'PROJECTOR_FENCED';

export class ProjectorError extends Error {
  constructor(
    readonly code: ProjectorErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ProjectorError';
  }
}

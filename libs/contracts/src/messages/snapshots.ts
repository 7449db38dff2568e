// `snapshots` topic (compacted; key = marketKey, partition = partitionForMarket): the latest book state of
// a market together with the input position it reflects, so an engine restores and replays from nextOffset.
//
// Version 2 (written): marketId, inputPartition, nextOffset, lastSeq, stateHash (8 raw bytes), book
// (length-prefixed OrderBook.snapshot() bytes; the book validates them on restore), then partitionMarkets
// (>= 1).
// Version 1 (read only; written by releases before partitionMarkets): the same without partitionMarkets. It
// decodes with partitionMarkets undefined (unknown), so snapshots a previous release left in the compacted
// topic still restore after an upgrade; a restore then cannot check that no market's snapshot is missing.
import { checkUint, ContractReader, ContractWriter, invalidField, MAX_MESSAGE_BYTES, MessageType, readStateHash, writeStateHash } from '../wire.js';

export interface MarketSnapshot {
  readonly marketId: number;
  readonly inputPartition: number;
  /** First input (orders topic) offset NOT reflected in the book. */
  readonly nextOffset: number;
  /** Sequence of the last event the book emitted (0 if none). */
  readonly lastSeq: number;
  /** OrderBook.stateHash() of the book. */
  readonly stateHash: string;
  /** OrderBook.snapshot() bytes. */
  readonly book: Uint8Array;
  /**
   * Markets of the input partition snapshotted together at this nextOffset (the engine snapshots all of a
   * partition's markets at once), so a restore can tell that one market's snapshot is missing. >= 1.
   * Undefined only when decoded from a version 1 record (the count is unknown); the encoder requires it.
   */
  readonly partitionMarkets: number | undefined;
}

const shared = new ContractWriter();

export function encodeMarketSnapshot(s: MarketSnapshot): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.MarketSnapshot);
  w.uint(checkUint(s.marketId, 'marketId'));
  w.uint(checkUint(s.inputPartition, 'inputPartition'));
  w.uint(checkUint(s.nextOffset, 'nextOffset'));
  w.uint(checkUint(s.lastSeq, 'lastSeq'));
  writeStateHash(w, s.stateHash, 'stateHash');
  const book = s.book;
  if (!(book instanceof Uint8Array)) invalidField('book', book, 'bytes');
  if (book.length === 0) invalidField('book', 0, 'non-empty bytes');
  w.blob(book);
  // Always the newest version: an unknown count (version 1) is read, never written.
  if (s.partitionMarkets === undefined) invalidField('partitionMarkets', undefined, 'a count >= 1 (version 1 snapshots are not written)');
  const markets = checkUint(s.partitionMarkets, 'partitionMarkets');
  if (markets < 1) invalidField('partitionMarkets', markets, '>= 1 (the snapshot counts its own market)');
  w.uint(markets);
  return w.finish('market snapshot');
}

export function decodeMarketSnapshot(bytes: Uint8Array): MarketSnapshot {
  const r = new ContractReader(bytes, MessageType.MarketSnapshot);
  const marketId = r.uint();
  const inputPartition = r.uint();
  const nextOffset = r.uint();
  const lastSeq = r.uint();
  const stateHash = readStateHash(r);
  const book = r.blob('book', MAX_MESSAGE_BYTES);
  if (book.length === 0) r.fail('INVALID_FIELD', 'book must not be empty');
  let partitionMarkets: number | undefined;
  if (r.version >= 2) {
    partitionMarkets = r.uint();
    if (partitionMarkets < 1) r.fail('INVALID_FIELD', 'partitionMarkets must be >= 1 (the snapshot counts its own market)');
  }
  r.end();
  return { marketId, inputPartition, nextOffset, lastSeq, stateHash, book, partitionMarkets };
}

// Test support: MarketSnapshot version 1, as the encoder of the release before partitionMarkets wrote it
// (frame version byte 1, no partitionMarkets). Only decoders read this layout now.
import fc from 'fast-check';
import type { MarketSnapshot } from '../messages/snapshots.js';
import { encodeMarketSnapshot } from '../messages/snapshots.js';
import { CONTRACT_MAGIC, ContractWriter, MessageType, writeStateHash } from '../wire.js';
import { snapshotArb } from './arbitraries.js';

export function encodeMarketSnapshotV1(s: MarketSnapshot): Uint8Array {
  const w = new ContractWriter(64);
  w.raw(Uint8Array.from([CONTRACT_MAGIC, MessageType.MarketSnapshot, 1]));
  w.uint(s.marketId);
  w.uint(s.inputPartition);
  w.uint(s.nextOffset);
  w.uint(s.lastSeq);
  writeStateHash(w, s.stateHash, 'stateHash');
  w.blob(s.book);
  return w.finish('market snapshot');
}

/** The layout a snapshot decodes from: version 1 when its count is unknown, else the current one. */
export function reencodeMarketSnapshot(s: MarketSnapshot): Uint8Array {
  return s.partitionMarkets === undefined ? encodeMarketSnapshotV1(s) : encodeMarketSnapshot(s);
}

export const legacySnapshotArb: fc.Arbitrary<MarketSnapshot> = snapshotArb.map((s) => ({ ...s, partitionMarkets: undefined }));

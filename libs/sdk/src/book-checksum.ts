// The book checksum the gateway sends with every book snapshot and diff (the Kraken / OKX practice).
import { crc32 } from 'node:zlib';

/** Levels per side the checksum covers. */
export const CHECKSUM_DEPTH = 25;

/**
 * CRC32 (unsigned) of the top CHECKSUM_DEPTH levels as the client sees them: "bid levels|ask levels", each
 * level "price:size" in the API's decimal strings, levels joined by ",". A client that keeps its book from
 * snapshot + diffs computes the same value, or knows its book is wrong and resyncs.
 */
export function bookChecksum(bids: readonly (readonly [string, string])[], asks: readonly (readonly [string, string])[]): number {
  const side = (levels: readonly (readonly [string, string])[]): string =>
    levels
      .slice(0, CHECKSUM_DEPTH)
      .map(([p, s]) => `${p}:${s}`)
      .join(',');
  return crc32(`${side(bids)}|${side(asks)}`) >>> 0;
}

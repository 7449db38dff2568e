// The watcher's committed position: the last block whose events are on the chain-events topic, with its hash
// (to notice a reorg below the depth). One record per chain and contract on a compacted, one-partition
// topic, written in the same transaction as the events.
import type { Address, Hex } from 'viem';

export interface Progress {
  readonly chainId: number;
  /** Lower-case. */
  readonly settlement: Address;
  readonly block: bigint;
  readonly hash: Hex;
}

const VERSION = 1;
const MAX_BYTES = 512;

export function progressKey(chainId: number, settlement: string): string {
  return `${chainId}:${settlement.toLowerCase()}`;
}

export function encodeProgress(p: Progress): Uint8Array {
  return Buffer.from(JSON.stringify({ v: VERSION, chainId: p.chainId, settlement: p.settlement.toLowerCase(), block: p.block.toString(), hash: p.hash }));
}

/** undefined for anything that is not a progress record of this version. */
export function decodeProgress(bytes: Uint8Array): Progress | undefined {
  if (bytes.length > MAX_BYTES) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as Record<string, unknown>;
  if (r.v !== VERSION || !Number.isSafeInteger(r.chainId) || (r.chainId as number) < 1) return undefined;
  if (typeof r.settlement !== 'string' || !/^0x[0-9a-f]{40}$/.test(r.settlement)) return undefined;
  if (typeof r.block !== 'string' || !/^(0|[1-9]\d{0,19})$/.test(r.block)) return undefined;
  if (typeof r.hash !== 'string' || !/^0x[0-9a-f]{64}$/.test(r.hash)) return undefined;
  return { chainId: r.chainId as number, settlement: r.settlement as Address, block: BigInt(r.block), hash: r.hash as Hex };
}

// The one parser of 65-byte secp256k1 signatures (r || s || v) in the project: what the gateway recovers on
// its hot path and what the batch encoder hands to the contract. Strict, like the contract: v is 27/28
// (0/1 accepted as the same recovery ids), r and s are in 1..n-1 and s is in the lower half of the curve
// order, so a signature has exactly one accepted form (its high-s twin is refused, never a second order).
import type { Hex } from 'viem';
import { ChainError } from './errors.js';

/** secp256k1's group order n, and n / 2. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N >> 1n;
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

export interface ParsedSignature {
  readonly r: Hex;
  readonly s: Hex;
  /** 27 or 28, as the contract reads it. */
  readonly v: 27 | 28;
  /** v - 27, as recovery libraries take it. */
  readonly recid: 0 | 1;
  /** r || s (64 bytes). */
  readonly rs: Uint8Array;
}

/** Parses a signature; throws ChainError INVALID_SIGNATURE (naming what is wrong) for anything else. */
export function parseSignature(signature: unknown): ParsedSignature {
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) throw new ChainError('INVALID_SIGNATURE', 'signature must be 65 bytes as 0x-prefixed hex');
  const rs = new Uint8Array(64);
  for (let i = 0; i < 64; i++) rs[i] = Number.parseInt(signature.slice(2 + i * 2, 4 + i * 2), 16);
  const vByte = Number.parseInt(signature.slice(130, 132), 16);
  const recid = vByte >= 27 ? vByte - 27 : vByte;
  if (recid !== 0 && recid !== 1) throw new ChainError('INVALID_SIGNATURE', `signature v must be 27 or 28, got ${vByte}`);
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (r === 0n || r >= N) throw new ChainError('INVALID_SIGNATURE', 'signature r is out of range');
  if (s === 0n || s > HALF_N) throw new ChainError('INVALID_SIGNATURE', 'signature s must be in the lower half of the curve order');
  return { r: `0x${signature.slice(2, 66).toLowerCase()}`, s: `0x${signature.slice(66, 130).toLowerCase()}`, v: recid === 0 ? 27 : 28, recid, rs };
}

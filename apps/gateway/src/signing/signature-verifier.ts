// Who signed a digest: the gateway's hot path (one recovery per order, cancel and login). libsecp256k1
// through the npm `secp256k1` package (its linux-x64 build ships inside the package) recovers ~20x faster
// than viem's pure-JS curve on this machine (bench:api measures both on this path); viem stays the fallback
// and the reference the tests compare against.
import { createRequire } from 'node:module';
import { hexToBytes, keccak256, recoverAddress, type Address, type Hex } from 'viem';
import { ApiError } from '../errors/api.errors.js';

interface Secp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
}

// secp256k1 is a CommonJS package with native bindings; createRequire keeps it out of the ESM graph's typings.
const secp256k1 = createRequire(import.meta.url)('secp256k1') as Secp256k1;

/** secp256k1's group order n, and n / 2: a signature with s > n/2 is the malleated twin of a valid one. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export type RecoverEngine = 'libsecp256k1' | 'viem';

const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/** Parses a 65-byte r||s||v signature; refuses malformed, high-s and bad-v signatures with INVALID_SIGNATURE. */
export function parseSignature(signature: string): { rs: Uint8Array; recid: number } {
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) {
    throw new ApiError('INVALID_SIGNATURE', 'signature must be 65 bytes as 0x-prefixed hex');
  }
  const bytes = hexToBytes(signature as Hex);
  const v = bytes[64]!;
  const recid = v >= 27 ? v - 27 : v;
  if (recid !== 0 && recid !== 1) throw new ApiError('INVALID_SIGNATURE', `signature v must be 27 or 28, got ${v}`);
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(bytes[i]!);
  if (s === 0n || s > HALF_N) throw new ApiError('INVALID_SIGNATURE', 'signature s must be in the lower half of the curve order');
  return { rs: bytes.subarray(0, 64), recid };
}

/** The address that signed `digest` (32-byte hash). Throws ApiError INVALID_SIGNATURE. */
export function recoverSigner(digest: Hex, signature: string): Address {
  const { rs, recid } = parseSignature(signature);
  let pub: Uint8Array;
  try {
    pub = secp256k1.ecdsaRecover(rs, recid, hexToBytes(digest), false);
  } catch {
    throw new ApiError('INVALID_SIGNATURE', 'the signature does not recover to a public key');
  }
  const hash = keccak256(pub.subarray(1), 'bytes');
  let out = '0x';
  for (let i = 12; i < 32; i++) out += hash[i]!.toString(16).padStart(2, '0');
  return out as Address;
}

/** recoverSigner through viem (pure JS): the reference implementation, and the benchmark's baseline. */
export async function recoverSignerViem(digest: Hex, signature: string): Promise<Address> {
  parseSignature(signature);
  try {
    return (await recoverAddress({ hash: digest, signature: signature as Hex })).toLowerCase() as Address;
  } catch {
    throw new ApiError('INVALID_SIGNATURE', 'the signature does not recover to a public key');
  }
}

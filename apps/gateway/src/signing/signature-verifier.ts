// Who signed a digest: the gateway's hot path (one recovery per order, cancel and login). libsecp256k1
// through the npm `secp256k1` package (its linux-x64 build ships inside the package) recovers ~20x faster
// than viem's pure-JS curve on this machine (bench:api measures both on this path); viem stays the fallback
// and the reference the tests compare against.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ChainError, parseSignature } from '@parallax/chain';
import { hexToBytes, recoverAddress, type Address, type Hex } from 'viem';
import { ApiError } from '../errors/api.errors.js';

interface Secp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
}

// secp256k1 is a CommonJS package with native bindings; createRequire keeps it out of the ESM graph's typings.
const secp256k1 = createRequire(import.meta.url)('secp256k1') as Secp256k1;

/** The one signature parser (@parallax/chain), its refusal as the API's INVALID_SIGNATURE. */
function parse(signature: string): { rs: Uint8Array; recid: number } {
  try {
    return parseSignature(signature);
  } catch (e) {
    if (e instanceof ChainError) throw new ApiError('INVALID_SIGNATURE', e.message);
    throw e;
  }
}

/** The address that signed `digest` (32-byte hash). Throws ApiError INVALID_SIGNATURE. */
export function recoverSigner(digest: Hex, signature: string): Address {
  const { rs, recid } = parse(signature);
  const who = recoverParsed(rs, recid, hexToBytes(digest));
  if (who === undefined) throw new ApiError('INVALID_SIGNATURE', 'the signature does not recover to a public key');
  return who;
}

/** The signature check's parser (INVALID_SIGNATURE as an ApiError), for callers that recover elsewhere. */
export const parseSignatureForRecovery = parse;

/**
 * The recovery itself on parsed bytes (64-byte r||s, recovery id, 32-byte digest): the lower-case address, or
 * undefined when the signature does not recover to a public key. The recovery pool's workers run this too.
 */
export function recoverParsed(rs: Uint8Array, recid: number, msg32: Uint8Array): Address | undefined {
  let pub: Uint8Array;
  try {
    pub = secp256k1.ecdsaRecover(rs, recid, msg32, false);
  } catch {
    return undefined;
  }
  // The address: the last 20 bytes of the keccak-256 of the public key (Node's OpenSSL keccak: ~4x viem's
  // pure-JS one on 64 bytes).
  return `0x${createHash('keccak-256').update(pub.subarray(1)).digest().toString('hex', 12, 32)}`;
}

/** recoverSigner through viem (pure JS): the reference implementation, and the benchmark's baseline. */
export async function recoverSignerViem(digest: Hex, signature: string): Promise<Address> {
  parse(signature);
  try {
    return (await recoverAddress({ hash: digest, signature: signature as Hex })).toLowerCase() as Address;
  } catch {
    throw new ApiError('INVALID_SIGNATURE', 'the signature does not recover to a public key');
  }
}

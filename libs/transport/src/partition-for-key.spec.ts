import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { partitionForKey, TransportError } from './transport.js';

// Reference FNV-1a over UTF-8 bytes, written the plain way.
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(key)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

describe('partitionForKey', () => {
  it('matches published FNV-1a 32-bit vectors', () => {
    const big = 2 ** 32; // modulo 2^32 keeps the full hash
    assert.equal(partitionForKey('', big), 0x811c9dc5);
    assert.equal(partitionForKey('a', big), 0xe40c292c);
    assert.equal(partitionForKey('foobar', big), 0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of any string, surrogate pairs included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 4096 }), (key, n) => {
        const p = partitionForKey(key, n);
        assert.equal(p, fnv1a(key) % n);
        assert.ok(p >= 0 && p < n);
      }),
    );
  });

  it('refuses a non-positive partition count', () => {
    assert.throws(() => partitionForKey('x', 0), (e: unknown) => e instanceof TransportError && e.code === 'INVALID_PARTITION');
  });
});

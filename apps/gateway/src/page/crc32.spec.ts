// The page's browser CRC-32 (public/crc32.js, which the SDK's bookChecksum imports in place of node:zlib there)
// must equal Node's, or every book update in the browser would fail its checksum and resubscribe forever.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';

type Crc32 = (data: string | Uint8Array) => number;

describe("the page's crc32 module", () => {
  it('equals zlib.crc32 for any string (UTF-8) and any bytes', async () => {
    const mod = (await import(new URL('../../public/crc32.js', import.meta.url).href)) as { crc32: Crc32 };
    assert.equal(mod.crc32(''), 0);
    assert.equal(mod.crc32('123456789'), 0xcbf43926); // the CRC-32/IEEE check value
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => mod.crc32(s) === zlibCrc32(s) >>> 0),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => mod.crc32(b) === zlibCrc32(b) >>> 0),
      { numRuns: 1_000 },
    );
  });
});

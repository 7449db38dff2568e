// CRC-32 (IEEE, as Node's zlib.crc32) of a string's UTF-8 bytes: what the SDK's bookChecksum needs in a browser.
/* global TextEncoder */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}
const utf8 = new TextEncoder();

export function crc32(data) {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  let crc = 0xffffffff;
  for (const b of bytes) crc = TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

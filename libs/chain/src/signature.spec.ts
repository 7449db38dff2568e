import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recoverAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { parseSignature } from './signature.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const refused = { code: 'INVALID_SIGNATURE' };

test('parses what wallets sign, and refuses the high-s twin, bad v, out-of-range r/s and malformed input', async () => {
  const account = privateKeyToAccount(`0x${'42'.repeat(32)}`);
  const hash: Hex = `0x${'07'.repeat(32)}`;
  for (let i = 0; i < 20; i++) {
    const h: Hex = `0x${i.toString(16).padStart(2, '0')}${hash.slice(4)}`;
    const sig = await account.sign({ hash: h });
    const p = parseSignature(sig);
    assert.equal(`0x${p.r.slice(2)}${p.s.slice(2)}${p.v.toString(16)}`, sig.toLowerCase());
    assert.equal(p.recid, p.v - 27);
    assert.equal(await recoverAddress({ hash: h, signature: sig }), account.address);
    // v as a 0/1 recovery id is the same signature.
    assert.deepEqual(parseSignature(`${sig.slice(0, 130)}0${p.recid}`), p);
    // The malleated twin (n - s, flipped v) recovers to the same key: refused, so one order has one signature.
    const s = BigInt(p.s);
    const twin = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(p.v === 27 ? 28 : 27).toString(16)}`;
    assert.throws(() => parseSignature(twin), refused);
  }
  const r = '11'.repeat(32);
  const s = '22'.repeat(32);
  assert.throws(() => parseSignature(`0x${r}${s}1d`), refused);
  assert.throws(() => parseSignature(`0x${r}${s}02`), refused);
  assert.throws(() => parseSignature(`0x${'00'.repeat(32)}${s}1b`), refused);
  assert.throws(() => parseSignature(`0x${r}${'00'.repeat(32)}1b`), refused);
  assert.throws(() => parseSignature(`0x${N.toString(16)}${s}1b`), refused);
  for (const bad of [undefined, 42, '', '0x', `0x${r}${s}`, `0x${r}${s}1b00`, `0x${r}${s}zz`, `${r}${s}1b`]) assert.throws(() => parseSignature(bad), refused);
});

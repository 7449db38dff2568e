import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { getAddress, keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ChainError } from './errors.js';
import { hashOrder, hashOrderTypedData, recoverOrderSigner, settlementDomain, signOrder, signOrderWithKey, type Order } from './order.js';

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(`0x${Buffer.from(b).toString('hex')}`));
const uint = (bits: bigint) => fc.bigInt({ min: 0n, max: (1n << bits) - 1n });
const order: fc.Arbitrary<Order> = fc.record({
  trader: address,
  baseToken: address,
  quoteToken: address,
  isBuy: fc.boolean(),
  price: uint(128n),
  size: uint(128n).filter((s) => s > 0n),
  maxFeeRate: fc.integer({ min: 0, max: 100_000 }),
  expiry: uint(64n),
  nonce: uint(64n),
});

describe('hashOrder', () => {
  it('equals the generic EIP-712 typed-data hash for any order and domain', () => {
    fc.assert(
      fc.property(order, address, fc.integer({ min: 1, max: 2 ** 40 }), (o, contract, chainId) => {
        const domain = settlementDomain(chainId, contract);
        assert.equal(hashOrder(domain, o), hashOrderTypedData(domain, o));
      }),
      { numRuns: 300 },
    );
  });

  it('tells domains apart (chain id, contract) even with the separator cache', () => {
    const o: Order = {
      trader: getAddress('0x00000000000000000000000000000000000000a1'),
      baseToken: getAddress('0x00000000000000000000000000000000000000b1'),
      quoteToken: getAddress('0x00000000000000000000000000000000000000c1'),
      isBuy: true,
      price: 10n ** 20n,
      size: 10n ** 18n,
      maxFeeRate: 1_000,
      expiry: 2_000_000_000n,
      nonce: 7n,
    };
    const a = settlementDomain(1, getAddress('0x00000000000000000000000000000000000000d1'));
    const b = settlementDomain(2, a.verifyingContract);
    const c = settlementDomain(1, getAddress('0x00000000000000000000000000000000000000d2'));
    const hashes = new Set([hashOrder(a, o), hashOrder(b, o), hashOrder(c, o), hashOrder(a, { ...o, nonce: 8n })]);
    assert.equal(hashes.size, 4);
    assert.equal(hashOrder(a, o), hashOrderTypedData(a, o));
  });
});

describe('signing', () => {
  const trader = privateKeyToAccount(keccak256(toHex('order.spec trader')));
  const key = privateKeyToAccount(keccak256(toHex('order.spec key')));
  const domain = settlementDomain(31337, getAddress('0x00000000000000000000000000000000000000d1'));
  const base: Order = {
    trader: trader.address,
    baseToken: getAddress('0x00000000000000000000000000000000000000b1'),
    quoteToken: getAddress('0x00000000000000000000000000000000000000c1'),
    isBuy: true,
    price: 10n ** 20n,
    size: 10n ** 18n,
    maxFeeRate: 1_000,
    expiry: 2_000_000_000n,
    nonce: 7n,
  };
  const invalidOrder = (e: unknown): boolean => e instanceof ChainError && e.code === 'INVALID_ORDER' && /protection price/.test(e.message);

  it('refuses blank cheques: a buy at 2^128-1 or a sell at 0, by the trader or a key', async () => {
    for (const o of [{ ...base, isBuy: true, price: (1n << 128n) - 1n }, { ...base, isBuy: false, price: 0n }]) {
      await assert.rejects(signOrder(trader, domain, o), invalidOrder);
      await assert.rejects(signOrderWithKey(key, domain, o), invalidOrder);
    }
    // The nearest bounded prices sign.
    await signOrder(trader, domain, { ...base, isBuy: true, price: (1n << 128n) - 2n });
    await signOrder(trader, domain, { ...base, isBuy: false, price: 1n });
  });

  it('a key signs the trader-named order; the signer recovers as the key, not the trader', async () => {
    const byKey = await signOrderWithKey(key, domain, base);
    assert.equal(byKey.trader, trader.address);
    assert.equal(await recoverOrderSigner(domain, byKey), key.address);
    const byTrader = await signOrder(trader, domain, base);
    assert.equal(await recoverOrderSigner(domain, byTrader), trader.address);
    // signOrder still refuses a foreign account.
    await assert.rejects(signOrder(key, domain, base), (e: unknown) => e instanceof ChainError && e.code === 'INVALID_ORDER');
  });
});

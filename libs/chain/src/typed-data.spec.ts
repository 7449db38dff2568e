import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hashTypedData } from 'viem';
import { hashCancel, hashLogin } from './api-auth.js';
import { settlementDomain } from './order.js';
import { EIP712_TYPES, encodeType, typesOf } from './typed-data.js';

describe('the EIP-712 type table', () => {
  it("names the contract's Order exactly as the contract hashes it", () => {
    const sol = readFileSync(new URL('../../../contracts/src/ParallaxSettlement.sol', import.meta.url), 'utf8');
    assert.ok(sol.includes(`"${encodeType('Order')}"`), encodeType('Order'));
  });

  it('gives every API message its own primary type over the same table', () => {
    assert.deepEqual(Object.keys(EIP712_TYPES).sort(), ['Cancel', 'CancelAll', 'Login', 'Order']);
    const domain = settlementDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
    const trader = '0x1111111111111111111111111111111111111111';
    const login = { trader, expiry: 10n, nonce: 1n } as const;
    assert.equal(hashLogin(domain, login), hashTypedData({ domain, types: typesOf('Login'), primaryType: 'Login', message: login }));
    const cancel = { trader, marketId: 1, orderId: 5n, clientOrderId: '', expiry: 10n, nonce: 1n } as const;
    assert.notEqual(hashCancel(domain, cancel), hashLogin(domain, login));
    assert.equal(encodeType('CancelAll'), 'CancelAll(address trader,uint32 marketId,uint64 expiry,uint64 nonce)');
  });
});

// Contract tests of what traders control on chain: cancelling orders (by hash, by nonce floor) after the
// cancel delay, and trading keys (authorize with expiry, sign as the trader, revoke after the delay).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { maxUint64, zeroAddress, type Address } from 'viem';
import { encodeBatch } from '../batch.js';
import { authorizeTradingKey, cancelNoncesBelow, cancelOrderOnChain, parseSettlementEvents, revokeTradingKey } from '../client.js';
import { settlementAbi } from '../generated/contracts.js';
import { startLocalChain, type LocalChain } from '../local.js';
import { hashOrder, signOrderWithKey, type SignedOrder } from '../order.js';
import { ONE, PRICE, account, chainNow, expectRevert, makeOrder, settle, signed } from './support.js';

let lc: LocalChain;
let BASE: Address;
let QUOTE: Address;
let seq = 0;

before(async () => {
  lc = await startLocalChain({ withdrawalDelay: 3_600n, cancelDelay: 120n });
  BASE = lc.tokens['BASE']!;
  QUOTE = lc.tokens['QUOTE']!;
});

after(async () => {
  await lc.close();
});

type Acct = ReturnType<typeof account>;

async function trader(): Promise<Acct> {
  const a = account(`order-control-${seq++}`);
  await lc.fund(a.address, BASE, 10n * ONE);
  await lc.fund(a.address, QUOTE, 100_000_000_000n);
  await lc.testClient.setBalance({ address: a.address, value: ONE });
  return a;
}

/** Advances the chain clock so the next block is at `t` or later (by whole seconds from the latest block). */
async function advanceTo(t: bigint): Promise<void> {
  const now = await chainNow(lc);
  if (t > now) await lc.testClient.increaseTime({ seconds: Number(t - now) });
  await lc.testClient.mine({ blocks: 1 });
}

const fill = (baseAmount: bigint) => [{ buyOrder: 0, sellOrder: 1, baseAmount, price: PRICE }];
/** Position of `order` in the encoded (hash-sorted) order list of a batch of [buy, sell]. */
const position = (buy: SignedOrder, sell: SignedOrder, which: 0 | 1): bigint =>
  BigInt(encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: fill(1n) }).orderPosition[which]!);

describe('cancelOrder', () => {
  test('takes effect after cancelDelay: fills before it stand (partial fill included), fills after revert CancelledOrder', async () => {
    const now = await chainNow(lc);
    const [buyer, seller] = [await trader(), await trader()];
    const buy = await signed(lc, buyer, now, { isBuy: true, size: ONE });
    const sell = await signed(lc, seller, now, { isBuy: false, size: 10n * ONE });
    const h = hashOrder(lc.domain, buy);
    const receipt = await cancelOrderOnChain(lc.wallet(buyer), lc.publicClient, lc.settlement, h);
    const at = (await lc.publicClient.getBlock({ blockHash: receipt.blockHash })).timestamp + lc.cancelDelay;
    assert.deepEqual(parseSettlementEvents(receipt.logs)[0]?.args, { trader: buyer.address, orderHash: h, effectiveAt: at });
    // Inside the window the operator may still settle what it matched before the cancel.
    await settle(lc, [buy, sell], fill(ONE / 4n));
    // A second cancel never postpones the first.
    await advanceTo(at - 60n);
    const again = await cancelOrderOnChain(lc.wallet(buyer), lc.publicClient, lc.settlement, h);
    const repeated = parseSettlementEvents(again.logs)[0];
    assert.ok(repeated?.eventName === 'OrderCancelled');
    assert.equal(repeated.args.effectiveAt, at);
    await advanceTo(at + 1n);
    // The order has a recorded partial fill (its signature is not re-checked); the cancel still binds.
    await expectRevert(settle(lc, [buy, sell], fill(ONE / 4n)), 'CancelledOrder', [position(buy, sell, 0)]);
    // The counterparty's order is untouched by it.
    const other = await signed(lc, await trader(), await chainNow(lc), { isBuy: true });
    await settle(lc, [other, sell], fill(ONE));
  });

  test("is keyed by the caller: a stranger cancelling another trader's order hash changes nothing", async () => {
    const now = await chainNow(lc);
    const [buyer, seller, stranger] = [await trader(), await trader(), await trader()];
    const buy = await signed(lc, buyer, now, { isBuy: true });
    const sell = await signed(lc, seller, now, { isBuy: false });
    await cancelOrderOnChain(lc.wallet(stranger), lc.publicClient, lc.settlement, hashOrder(lc.domain, buy));
    await advanceTo((await chainNow(lc)) + lc.cancelDelay + 1n);
    await settle(lc, [buy, sell], fill(ONE));
  });
});

describe('cancelNoncesBelow', () => {
  test('kills every nonce below the floor after cancelDelay; the floor only rises; a pending raise keeps the old floor in force', async () => {
    const [buyer, seller] = [await trader(), await trader()];
    const read = () => lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'nonceFloor', args: [buyer.address] });
    const receipt = await cancelNoncesBelow(lc.wallet(buyer), lc.publicClient, lc.settlement, 5n);
    const at = (await lc.publicClient.getBlock({ blockHash: receipt.blockHash })).timestamp + lc.cancelDelay;
    assert.deepEqual(parseSettlementEvents(receipt.logs)[0]?.args, { trader: buyer.address, nonceFloor: 5n, effectiveAt: at });
    assert.deepEqual(await read(), [0n, 5n, at]);
    await expectRevert(
      lc.publicClient.simulateContract({ address: lc.settlement, abi: settlementAbi, functionName: 'cancelNoncesBelow', args: [5n], account: buyer }),
      'NonceFloorNotRaised',
      [5n, 5n],
    );
    const now = await chainNow(lc);
    const sell = await signed(lc, seller, now, { isBuy: false, size: 10n * ONE });
    const b4 = await signed(lc, buyer, now, { isBuy: true, nonce: 4n });
    const b5 = await signed(lc, buyer, now, { isBuy: true, nonce: 5n });
    const b3 = await signed(lc, buyer, now, { isBuy: true, nonce: 3n });
    await settle(lc, [b3, sell], fill(ONE / 2n)); // still inside the window
    await advanceTo(at + 1n);
    assert.deepEqual(await read(), [5n, 5n, at]);
    await expectRevert(settle(lc, [b4, sell], fill(ONE / 2n)), 'CancelledOrder', [position(b4, sell, 0)]);
    await expectRevert(settle(lc, [b3, sell], fill(ONE / 2n)), 'CancelledOrder', [position(b3, sell, 0)]);
    await settle(lc, [b5, sell], fill(ONE));
    // Raising again: until the new floor's time, 5 stays in force (nonce 7 still fills), then 8 applies.
    const raise = await cancelNoncesBelow(lc.wallet(buyer), lc.publicClient, lc.settlement, 8n);
    const at2 = (await lc.publicClient.getBlock({ blockHash: raise.blockHash })).timestamp + lc.cancelDelay;
    assert.deepEqual(await read(), [5n, 8n, at2]);
    const b7 = await signed(lc, buyer, await chainNow(lc), { isBuy: true, nonce: 7n });
    const b6 = await signed(lc, buyer, await chainNow(lc), { isBuy: true, nonce: 6n });
    await settle(lc, [b7, sell], fill(ONE));
    await advanceTo(at2 + 1n);
    await expectRevert(settle(lc, [b6, sell], fill(ONE)), 'CancelledOrder', [position(b6, sell, 0)]);
  });
});

describe('trading keys', () => {
  test('an authorized key signs as the trader until its expiry; before authorization or after expiry it is refused', async () => {
    const [owner, seller] = [await trader(), await trader()];
    const key = account(`order-control-key-${seq++}`);
    const now = await chainNow(lc);
    const sell = await signed(lc, seller, now, { isBuy: false, size: 10n * ONE });
    const byKey = await signOrderWithKey(key, lc.domain, makeOrder(lc, owner, now, { isBuy: true, nonce: 1n }));
    await expectRevert(settle(lc, [byKey, sell], fill(ONE)), 'InvalidSignature', [position(byKey, sell, 0)]);

    const expiry = now + 1_000n;
    const receipt = await authorizeTradingKey(lc.wallet(owner), lc.publicClient, lc.settlement, key.address, expiry);
    assert.deepEqual(parseSettlementEvents(receipt.logs)[0]?.args, { trader: owner.address, key: key.address, expiry });
    const { receipt: settled } = await settle(lc, [byKey, sell], fill(ONE / 2n));
    // The fill moved the trader's balances, not the key's.
    const entry = parseSettlementEvents(settled.logs).find((e) => e.eventName === 'FillsSettled');
    assert.ok(entry?.args.fills?.toLowerCase().includes(owner.address.slice(2).toLowerCase()));

    // The key cannot sign for someone else.
    const forSeller = await signOrderWithKey(key, lc.domain, makeOrder(lc, seller, now, { isBuy: false, nonce: 99n }));
    const b2 = await signed(lc, owner, now, { isBuy: true, nonce: 2n });
    await expectRevert(settle(lc, [b2, forSeller], fill(ONE)), 'InvalidSignature', [position(b2, forSeller, 1)]);

    // Past its expiry a fresh key-signed order is refused.
    await advanceTo(expiry + 1n);
    const late = await signOrderWithKey(key, lc.domain, makeOrder(lc, owner, await chainNow(lc), { isBuy: true, nonce: 3n }));
    await expectRevert(settle(lc, [late, sell], fill(ONE)), 'InvalidSignature', [position(late, sell, 0)]);
  });

  test('revocation takes effect after cancelDelay; authorize and revoke validate their input', async () => {
    const [owner, seller] = [await trader(), await trader()];
    const key = account(`order-control-key-${seq++}`);
    const now = await chainNow(lc);
    const sim = (functionName: 'authorizeTradingKey' | 'revokeTradingKey', args: readonly unknown[]): Promise<unknown> =>
      lc.publicClient.simulateContract({ address: lc.settlement, abi: settlementAbi, functionName, args: args as never, account: owner });
    await expectRevert(sim('authorizeTradingKey', [zeroAddress, now + 100n]), 'ZeroAddress');
    await expectRevert(sim('authorizeTradingKey', [key.address, now - 1n]), 'InvalidKeyExpiry', [now - 1n]);
    await expectRevert(sim('authorizeTradingKey', [key.address, maxUint64 + 1n]), 'InvalidKeyExpiry', [maxUint64 + 1n]);
    await expectRevert(sim('revokeTradingKey', [key.address]), 'KeyNotAuthorized', [owner.address, key.address]);

    await authorizeTradingKey(lc.wallet(owner), lc.publicClient, lc.settlement, key.address, now + 86_400n);
    const revoked = await revokeTradingKey(lc.wallet(owner), lc.publicClient, lc.settlement, key.address);
    const until = (await lc.publicClient.getBlock({ blockHash: revoked.blockHash })).timestamp + lc.cancelDelay;
    assert.deepEqual(parseSettlementEvents(revoked.logs)[0]?.args, { trader: owner.address, key: key.address, validUntil: until });
    const sell = await signed(lc, seller, now, { isBuy: false, size: 10n * ONE });
    const o1 = await signOrderWithKey(key, lc.domain, makeOrder(lc, owner, now, { isBuy: true, nonce: 1n, size: 10n * ONE }));
    const o2 = await signOrderWithKey(key, lc.domain, makeOrder(lc, owner, now, { isBuy: true, nonce: 2n }));
    await settle(lc, [o1, sell], fill(ONE)); // inside the window: what was matched still settles
    await advanceTo(until + 1n);
    await expectRevert(settle(lc, [o2, sell], fill(ONE)), 'InvalidSignature', [position(o2, sell, 0)]);
    // o1 is partially filled (1 of its 10): the revoked key's signature no longer fills its remainder either.
    assert.equal(await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'filledAmount', args: [hashOrder(lc.domain, o1)] }), ONE);
    await expectRevert(settle(lc, [o1, sell], fill(ONE)), 'InvalidSignature', [position(o1, sell, 0)]);
    // The trader's own signature is unaffected.
    await settle(lc, [await signed(lc, owner, await chainNow(lc), { isBuy: true, nonce: 3n }), sell], fill(ONE));
  });
});

// Contract tests of ParallaxSettlement against a real anvil node: every rule and every revert path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeFunctionData, getAddress, maxUint256, zeroAddress, type Address, type Hex } from 'viem';
import { BATCH_LAYOUT, MAX_FEE_RATE, MAX_TX_GAS, OPERATOR_CHANGE_DELAY } from '../constants.js';
import { encodeBatch, decodeBatch } from '../batch.js';
import { decodeContractRevert } from '../errors.js';
import {
  decodeFillsSettled,
  decodeOrdersFilled,
  deploySettlement,
  deployTestToken,
  expectSuccess,
  parseSettlementEvents,
  settleBatch,
  skippedFillsOf,
  type OrderFillTotal,
} from '../client.js';
import { settlementAbi, testTokenAbi } from '../generated/contracts.js';
import { quirkyTokenAbi, quirkyTokenBytecode } from '../generated/test-contracts.js';
import { startLocalChain, type LocalChain } from '../local.js';
import { feeAmount, rebateAmount } from '../fees.js';
import { hashOrder, orderTypedData, quoteAmount, settlementDomain, signOrder } from '../order.js';
import {
  ONE,
  PRICE,
  account,
  balanceOf,
  chainNow,
  expectRevert,
  makeOrder,
  nextBatchId,
  patch,
  settle,
  settleRaw,
  signed,
  tokenBalance,
  type OrderFields,
} from './support.js';

const { headerBytes, tokenBytes, orderBytes, fillBytes } = BATCH_LAYOUT;

/** The entries of the single OrdersFilled log of a settlement receipt (and checks it carries `batchId`). */
function ordersFilled(logs: Parameters<typeof parseSettlementEvents>[0], batchId?: bigint): OrderFillTotal[] {
  const events = parseSettlementEvents(logs).flatMap((e) => (e.eventName === 'OrdersFilled' ? [e.args] : []));
  assert.equal(events.length, 1, 'one OrdersFilled log per batch');
  if (batchId !== undefined) assert.equal(events[0]!.batchId, batchId);
  const fills = events[0]!.fills;
  assert.ok(fills !== undefined);
  return decodeOrdersFilled(fills);
}

let lc: LocalChain;
let BASE: Address;
let QUOTE: Address;
let labelSeq = 0;
/** A fresh trader per call, funded with base and quote in the vault. */
async function trader(base = 10n * ONE, quote = 100_000_000_000n): Promise<ReturnType<typeof account>> {
  const acct = account(`settlement-spec-${labelSeq++}`);
  if (base > 0n) await lc.fund(acct.address, BASE, base);
  if (quote > 0n) await lc.fund(acct.address, QUOTE, quote);
  return acct;
}

before(async () => {
  lc = await startLocalChain({ withdrawalDelay: 86_400n });
  BASE = lc.tokens['BASE']!;
  QUOTE = lc.tokens['QUOTE']!;
});

after(async () => {
  await lc.close();
});

describe('signing domain and order hash', () => {
  test('eip712Domain matches the TS domain and hashOrder matches the contract', async () => {
    const domain = await lc.publicClient.getEip712Domain({ address: lc.settlement });
    assert.equal(domain.domain.name, lc.domain.name);
    assert.equal(domain.domain.version, lc.domain.version);
    assert.equal(domain.domain.chainId, lc.domain.chainId);
    assert.equal(domain.domain.verifyingContract, lc.domain.verifyingContract);
    const now = await chainNow(lc);
    const order = makeOrder(lc, account('hash'), now, { isBuy: true, maxFeeRate: 250, nonce: 77n });
    const onChain = await lc.publicClient.readContract({
      address: lc.settlement,
      abi: settlementAbi,
      functionName: 'hashOrder',
      args: [order],
    });
    assert.equal(onChain, hashOrder(lc.domain, order));
  });
});

describe('deposits', () => {
  test('deposit and depositFor credit internal balances and emit Deposited', async () => {
    const t = account('depositor');
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    const w = lc.wallet(t);
    await expectSuccess(lc.publicClient, await w.writeContract({ address: QUOTE, abi: testTokenAbi, functionName: 'mint', args: [t.address, 5_000n] }), 'mint');
    await expectSuccess(lc.publicClient, await w.writeContract({ address: QUOTE, abi: testTokenAbi, functionName: 'approve', args: [lc.settlement, maxUint256] }), 'approve');
    const receipt = await expectSuccess(
      lc.publicClient,
      await w.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'deposit', args: [QUOTE, 3_000n] }),
      'deposit',
    );
    const [event] = parseSettlementEvents(receipt.logs);
    assert.equal(event?.eventName, 'Deposited');
    assert.deepEqual(event.args, { trader: t.address, token: QUOTE, from: t.address, amount: 3_000n, balance: 3_000n });
    assert.equal(await balanceOf(lc, QUOTE, t.address), 3_000n);
    assert.equal(await tokenBalance(lc, QUOTE, t.address), 2_000n);

    await lc.fund(t.address, QUOTE, 500n); // depositFor from the funder
    assert.equal(await balanceOf(lc, QUOTE, t.address), 3_500n);
  });

  test('rejects zero amounts, zero traders, missing allowance and non-contract tokens', async () => {
    const t = account('bad-depositor');
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    const sim = (functionName: 'deposit' | 'depositFor', args: readonly unknown[]): Promise<unknown> =>
      lc.publicClient.simulateContract({
        address: lc.settlement,
        abi: settlementAbi,
        functionName,
        args: args as never,
        account: t,
      });
    await expectRevert(sim('deposit', [QUOTE, 0n]), 'ZeroAmount');
    await expectRevert(sim('depositFor', [zeroAddress, QUOTE, 1n]), 'ZeroAddress');
    await expectRevert(sim('deposit', [QUOTE, 1n]), 'TokenTransferFailed', [QUOTE]); // no allowance, no tokens
    // An EOA (or any unlisted token) never reaches the token call: only listed tokens are deposited.
    await expectRevert(sim('deposit', [t.address, 1n]), 'TokenNotListed', [t.address]);
  });

  test('the token allowlist: only the owner lists; unlisted deposits revert; delisting keeps withdrawals open', async () => {
    const t = await trader(0n, 5_000n);
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    const other = await deployTestToken(lc.owner, lc.publicClient, { name: 'Unlisted', symbol: 'UNL', decimals: 6 });
    const w = lc.wallet(t);
    await expectSuccess(lc.publicClient, await w.writeContract({ address: other, abi: testTokenAbi, functionName: 'mint', args: [t.address, 5_000n] }), 'mint');
    await expectSuccess(lc.publicClient, await w.writeContract({ address: other, abi: testTokenAbi, functionName: 'approve', args: [lc.settlement, maxUint256] }), 'approve');
    const sim = (who: Address, functionName: 'deposit' | 'setTokenListed', args: readonly unknown[]): Promise<unknown> =>
      lc.publicClient.simulateContract({ address: lc.settlement, abi: settlementAbi, functionName, args: args as never, account: who });
    await expectRevert(sim(t.address, 'deposit', [other, 1_000n]), 'TokenNotListed', [other]);
    await expectRevert(sim(t.address, 'setTokenListed', [other, true]), 'NotOwner', [t.address]);
    await expectRevert(sim(lc.owner.account.address, 'setTokenListed', [zeroAddress, true]), 'ZeroAddress');
    const listed = await expectSuccess(
      lc.publicClient,
      await lc.owner.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [other, true] }),
      'list',
    );
    assert.deepEqual(parseSettlementEvents(listed.logs)[0]?.args, { token: other, listed: true });
    await expectSuccess(lc.publicClient, await w.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'deposit', args: [other, 1_000n] }), 'deposit');
    assert.equal(await balanceOf(lc, other, t.address), 1_000n);
    // Delisted: no new deposit, but the balance still withdraws through the escape hatch.
    await expectSuccess(
      lc.publicClient,
      await lc.owner.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [other, false] }),
      'delist',
    );
    await expectRevert(sim(t.address, 'deposit', [other, 1n]), 'TokenNotListed', [other]);
    await expectSuccess(lc.publicClient, await w.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [other, 1_000n] }), 'request');
    await expectSuccess(lc.publicClient, await lc.operator.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [t.address, other] }), 'execute');
    assert.equal(await tokenBalance(lc, other, t.address), 5_000n);
  });

  test('fee-on-transfer and no-return tokens; deposits are guarded against re-entrancy', async () => {
    const hash = await lc.owner.deployContract({ abi: quirkyTokenAbi, bytecode: quirkyTokenBytecode });
    const quirky = getAddress((await expectSuccess(lc.publicClient, hash, 'deploy quirky')).contractAddress!);
    const t = account('quirky-user');
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    const w = lc.wallet(t);
    const call = async (address: Address, data: Hex): Promise<void> => {
      await expectSuccess(lc.publicClient, await w.sendTransaction({ to: address, data, gas: 500_000n }), 'call');
    };
    const q = (functionName: string, args: readonly unknown[]): Hex =>
      encodeFunctionData({ abi: quirkyTokenAbi, functionName: functionName as never, args: args });
    await expectSuccess(
      lc.publicClient,
      await lc.owner.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [quirky, true] }),
      'list quirky',
    );
    await call(quirky, q('mint', [t.address, 1_000_000n]));
    await call(quirky, q('approve', [lc.settlement, maxUint256]));

    // 1% transfer fee and no return value: the vault credits what it received.
    await call(quirky, q('configure', [100n, true]));
    await call(lc.settlement, encodeFunctionData({ abi: settlementAbi, functionName: 'deposit', args: [quirky, 10_000n] }));
    assert.equal(await balanceOf(lc, quirky, t.address), 9_900n);

    // Withdraw through the escape hatch works with a no-return token too.
    await call(lc.settlement, encodeFunctionData({ abi: settlementAbi, functionName: 'requestWithdrawal', args: [quirky, 9_900n] }));
    await lc.testClient.increaseTime({ seconds: Number(lc.withdrawalDelay) });
    await call(lc.settlement, encodeFunctionData({ abi: settlementAbi, functionName: 'executeWithdrawal', args: [t.address, quirky] }));
    assert.equal(await balanceOf(lc, quirky, t.address), 0n);

    // A token that calls deposit again from inside transferFrom hits the guard.
    await call(quirky, q('configure', [0n, false]));
    await call(
      quirky,
      q('setReenter', [lc.settlement, encodeFunctionData({ abi: settlementAbi, functionName: 'deposit', args: [quirky, 1n] })]),
    );
    await call(lc.settlement, encodeFunctionData({ abi: settlementAbi, functionName: 'deposit', args: [quirky, 1_000n] }));
    const succeeded = await lc.publicClient.readContract({ address: quirky, abi: quirkyTokenAbi, functionName: 'lastReenterSucceeded' });
    const revertData = await lc.publicClient.readContract({ address: quirky, abi: quirkyTokenAbi, functionName: 'lastReenterRevert' });
    assert.equal(succeeded, false);
    assert.equal(decodeContractRevert(revertData)?.name, 'Reentrancy');
    assert.equal(await balanceOf(lc, quirky, t.address), 1_000n);
  });
});

describe('settleBatch: a valid batch', () => {
  test('moves balances exactly, charges bounded fees, records fills and emits events', async () => {
    const now = await chainNow(lc);
    const buyer = await trader(0n, 10_000_000_000n);
    const seller = await trader(5n * ONE, 0n);
    // The buyer bids 2100, the seller asks 1900: the fill at 2000 is inside both limits.
    const buy = await signed(lc, buyer, now, { isBuy: true, price: 2_100_000_000n, size: 2n * ONE, maxFeeRate: 1_000 });
    const sell = await signed(lc, seller, now, { isBuy: false, price: 1_900_000_000n, size: 3n * ONE, maxFeeRate: 500 });
    const base = (3n * ONE) / 2n;
    const fills = [{ buyOrder: 0, sellOrder: 1, baseAmount: base, price: PRICE, buyFeeRate: 1_000, sellFeeRate: 500 }];
    const feeBefore = await balanceOf(lc, QUOTE, lc.feeRecipient);
    const { batch, batchId, receipt } = await settle(lc, [buy, sell], fills);

    const quote = quoteAmount(base, PRICE); // 3000 USDC
    assert.equal(quote, 3_000_000_000n);
    const buyFee = feeAmount(quote, 1_000);
    const sellFee = feeAmount(quote, 500);
    assert.equal(await balanceOf(lc, QUOTE, buyer.address), 10_000_000_000n - quote - buyFee);
    assert.equal(await balanceOf(lc, BASE, buyer.address), base);
    assert.equal(await balanceOf(lc, BASE, seller.address), 5n * ONE - base);
    assert.equal(await balanceOf(lc, QUOTE, seller.address), quote - sellFee);
    assert.equal(await balanceOf(lc, QUOTE, lc.feeRecipient), feeBefore + buyFee + sellFee);

    const read = <T>(functionName: string, args: readonly unknown[]): Promise<T> =>
      lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: functionName as never, args: args });
    const buyHash = hashOrder(lc.domain, buy);
    const sellHash = hashOrder(lc.domain, sell);
    // The buy order is partially filled (1.5 of 2): its amount is recorded, its nonce is not used yet.
    assert.equal(await read<bigint>('filledAmount', [buyHash]), base);
    assert.equal(await read<bigint>('filledAmount', [sellHash]), base);
    assert.equal(await read<boolean>('isNonceUsed', [buyer.address, 0n]), false);
    assert.equal(await read<bigint>('lastBatchId', []), batchId);

    const events = parseSettlementEvents(receipt.logs);
    // One packed log for the batch, entries in order-hash order (the encoded order list's order).
    const byHash = (a: { orderHash: Hex }, b: { orderHash: Hex }): number => (a.orderHash < b.orderHash ? -1 : 1);
    assert.deepEqual(
      ordersFilled(receipt.logs, batchId),
      [
        { orderHash: buyHash, filledTotal: base },
        { orderHash: sellHash, filledTotal: base },
      ].sort(byHash),
    );
    const fees = events.filter((e) => e.eventName === 'FeesCollected');
    assert.deepEqual(fees.map((e) => e.args), [{ batchId, token: QUOTE, recipient: lc.feeRecipient, amount: buyFee + sellFee }]);
    const settled = events.at(-1);
    assert.equal(settled?.eventName, 'BatchSettled');
    assert.deepEqual(settled.args, { batchId, orderCount: 2n, fillCount: 1n });

    // The calldata decodes back to the same batch.
    const decoded = decodeBatch(batch.data);
    assert.deepEqual(decoded.orders, batch.orders);
    assert.deepEqual(decoded.fills, batch.fills);
  });

  test('completing an order marks its nonce used and clears its partial record; every batch re-checks its signature', async () => {
    const now = await chainNow(lc);
    const maker = await trader();
    const taker1 = await trader();
    const taker2 = await trader();
    const ask = await signed(lc, maker, now, { isBuy: false, size: 2n * ONE, nonce: 5n });
    const bid1 = await signed(lc, taker1, now, { isBuy: true });
    const bid2 = await signed(lc, taker2, now, { isBuy: true });
    await settle(lc, [ask, bid1], [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }]);
    const askHash = hashOrder(lc.domain, ask);
    const filledOf = (h: Hex): Promise<bigint> =>
      lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'filledAmount', args: [h] });
    assert.equal(await filledOf(askHash), ONE);

    // A recorded partial fill does not excuse the signature: a later batch needs a valid one again (so a
    // revoked trading key stops the orders it signed even after their first fill).
    const garbage: Hex = `0x${'11'.repeat(64)}1b`;
    const askPos = BigInt(encodeBatch({ domain: lc.domain, orders: [{ ...ask, signature: garbage }, bid2], fills: [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }] }).orderPosition[0]!);
    await expectRevert(settle(lc, [{ ...ask, signature: garbage }, bid2], [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }]), 'InvalidSignature', [askPos]);
    const { receipt } = await settle(lc, [ask, bid2], [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }]);
    assert.equal(receipt.status, 'success');
    assert.equal(await filledOf(askHash), 0n);
    const used = await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'isNonceUsed', args: [maker.address, 5n] });
    assert.equal(used, true);
    assert.equal(ordersFilled(receipt.logs).find((e) => e.orderHash === askHash)?.filledTotal, 2n * ONE);

    // ...but the fields are still bound by the hash: a changed order with a garbage signature fails.
    const bid3 = await signed(lc, await trader(), now, { isBuy: true });
    await expectRevert(
      settle(lc, [{ ...ask, nonce: 6n, signature: garbage }, bid3], [{ buyOrder: 1, sellOrder: 0, baseAmount: ONE, price: PRICE }]),
      'InvalidSignature',
    );
  });

  test('a self-trade is allowed and leaves the trader whole (minus fees)', async () => {
    const now = await chainNow(lc);
    const t = await trader(ONE, 2_000_000_000n);
    const buy = await signed(lc, t, now, { isBuy: true, nonce: 1n });
    const sell = await signed(lc, t, now, { isBuy: false, nonce: 2n });
    await settle(lc, [buy, sell], [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }]);
    assert.equal(await balanceOf(lc, BASE, t.address), ONE);
    assert.equal(await balanceOf(lc, QUOTE, t.address), 2_000_000_000n);
  });

  test('many fills across markets and traders conserve every token exactly (model check)', async () => {
    const now = await chainNow(lc);
    const hash = await lc.owner.deployContract({ abi: testTokenAbi, bytecode: (await import('../generated/contracts.js')).testTokenBytecode, args: ['Other', 'OTH', 8] });
    const other = getAddress((await expectSuccess(lc.publicClient, hash, 'deploy')).contractAddress!);
    await expectSuccess(lc.publicClient, await lc.funder.writeContract({ address: other, abi: testTokenAbi, functionName: 'approve', args: [lc.settlement, maxUint256] }), 'approve');
    await expectSuccess(lc.publicClient, await lc.owner.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [other, true] }), 'list');

    const traders = [] as ReturnType<typeof account>[];
    for (let i = 0; i < 6; i++) {
      const t = await trader(20n * ONE, 1_000_000_000_000n);
      await lc.fund(t.address, other, 10n ** 12n);
      traders.push(t);
    }
    const tokens = [BASE, QUOTE, other];
    const participants = [...traders.map((t) => t.address), lc.feeRecipient];
    const before = new Map<string, bigint>();
    for (const token of tokens) for (const p of participants) before.set(`${token}:${p}`, await balanceOf(lc, token, p));

    // Deterministic pseudo-random fills: market BASE/QUOTE and OTH/QUOTE, random sizes, prices, fee rates.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const orders = [];
    const fills = [];
    const model = new Map(before);
    const add = (token: Address, who: Address, delta: bigint): void => {
      const key = `${token}:${who}`;
      model.set(key, (model.get(key) ?? 0n) + delta);
    };
    for (let f = 0; f < 40; f++) {
      const useOther = rnd(2) === 1;
      const baseToken = useOther ? other : BASE;
      // OTH has 8 decimals: lot 1e4 units and ticks of 1e14 make base * price a multiple of 1e18.
      const lot = useOther ? 10_000n : 10n ** 15n;
      const tick = useOther ? 10n ** 14n : 10_000n;
      const b = traders[rnd(6)]!;
      let s = traders[rnd(6)]!;
      if (s === b) s = traders[(traders.indexOf(b) + 1) % 6]!;
      const price = tick * BigInt(1 + rnd(50_000));
      const base = lot * BigInt(1 + rnd(1_000));
      const buyRate = rnd(2_000);
      const sellRate = rnd(2_000);
      orders.push(await signed(lc, b, now, { isBuy: true, baseToken, price: price + tick * BigInt(rnd(10)), size: base, maxFeeRate: 2_000, nonce: BigInt(1_000 + f) }));
      orders.push(await signed(lc, s, now, { isBuy: false, baseToken, price: price - tick * BigInt(rnd(1)), size: base * 2n, maxFeeRate: 2_000, nonce: BigInt(2_000 + f) }));
      fills.push({ buyOrder: 2 * f, sellOrder: 2 * f + 1, baseAmount: base, price, buyFeeRate: buyRate, sellFeeRate: sellRate });
      const quote = quoteAmount(base, price);
      const bf = feeAmount(quote, buyRate);
      const sf = feeAmount(quote, sellRate);
      add(QUOTE, b.address, -(quote + bf));
      add(baseToken, b.address, base);
      add(baseToken, s.address, -base);
      add(QUOTE, s.address, quote - sf);
      add(QUOTE, lc.feeRecipient, bf + sf);
    }
    await settle(lc, orders, fills);
    for (const token of tokens) {
      let sumBefore = 0n;
      let sumAfter = 0n;
      for (const p of participants) {
        const actual = await balanceOf(lc, token, p);
        assert.equal(actual, model.get(`${token}:${p}`), `balance of ${p} in ${token}`);
        sumBefore += before.get(`${token}:${p}`)!;
        sumAfter += actual;
      }
      assert.equal(sumAfter, sumBefore, `sum of balances of ${token} is conserved`);
    }
    // The vault holds exactly what all internal balances add up to for the token only this test used.
    let otherSum = 0n;
    for (const p of participants) otherSum += await balanceOf(lc, other, p);
    assert.equal(await tokenBalance(lc, other, lc.settlement), otherSum);
  });
});

describe('settleBatch: nonce state (used and partial bits, 128 nonces per word)', () => {
  const read = <T>(functionName: 'filledAmount' | 'isNonceUsed', args: readonly unknown[]): Promise<T> =>
    lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName, args: args as never }) as Promise<T>;
  const garbage: Hex = `0x${'11'.repeat(64)}1b`;

  test('a partial fill, an overfill attempt, then completion in a later batch', async () => {
    const now = await chainNow(lc);
    const maker = await trader();
    const ask = await signed(lc, maker, now, { isBuy: false, size: 3n * ONE, nonce: 9n });
    const askHash = hashOrder(lc.domain, ask);
    const bid = async (size = 3n * ONE) => signed(lc, await trader(), now, { isBuy: true, size });
    const fill = (baseAmount: bigint) => [{ buyOrder: 0, sellOrder: 1, baseAmount, price: PRICE }];

    const first = await settle(lc, [await bid(), ask], fill(ONE));
    assert.equal(await read<bigint>('filledAmount', [askHash]), ONE);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 9n]), false);
    assert.equal(ordersFilled(first.receipt.logs, first.batchId).find((e) => e.orderHash === askHash)?.filledTotal, ONE);

    // 2.5 more would make 3.5 of 3: the recorded 1 is found through the partial bit and counted.
    const b2 = await bid();
    const askIdx = BigInt(encodeBatch({ domain: lc.domain, orders: [b2, ask], fills: fill(ONE) }).orderPosition[1]!);
    await expectRevert(settle(lc, [b2, ask], fill((5n * ONE) / 2n)), 'Overfill', [0n, askIdx]);
    // The same with a garbage signature: refused for the signature (a record never stands in for it).
    await expectRevert(settle(lc, [b2, { ...ask, signature: garbage }], fill((5n * ONE) / 2n)), 'InvalidSignature', [askIdx]);

    // 1.5 more: still partial (2.5 of 3), a second batch adding to the record.
    await settle(lc, [b2, ask], fill((3n * ONE) / 2n));
    assert.equal(await read<bigint>('filledAmount', [askHash]), (5n * ONE) / 2n);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 9n]), false);
    // 0.5 completes it: used, record dropped, the order (and its nonce) dead afterwards.
    const done = await settle(lc, [await bid(), ask], fill(ONE / 2n));
    assert.equal(ordersFilled(done.receipt.logs, done.batchId).find((e) => e.orderHash === askHash)?.filledTotal, 3n * ONE);
    assert.equal(await read<bigint>('filledAmount', [askHash]), 0n);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 9n]), true);
    const b4 = await bid();
    const pos = BigInt(encodeBatch({ domain: lc.domain, orders: [b4, ask], fills: fill(ONE) }).orderPosition[1]!);
    await expectRevert(settle(lc, [b4, ask], fill(ONE / 2n)), 'OrderNonceUsed', [pos]);
  });

  test('two orders sharing a nonce keep separate records: neither overfilled nor wrongly blocked', async () => {
    const now = await chainNow(lc);
    const maker = await trader(20n * ONE);
    // A and B: same trader and nonce, different hashes (different prices).
    const a = await signed(lc, maker, now, { isBuy: false, size: 2n * ONE, nonce: 40n });
    const b = await signed(lc, maker, now, { isBuy: false, size: 2n * ONE, price: PRICE - 1_000_000n, nonce: 40n });
    const aHash = hashOrder(lc.domain, a);
    const bHash = hashOrder(lc.domain, b);
    const bid = async () => signed(lc, await trader(), now, { isBuy: true, size: 10n * ONE });
    const fill = (baseAmount: bigint) => [{ buyOrder: 0, sellOrder: 1, baseAmount, price: PRICE }];

    await settle(lc, [await bid(), a], fill((3n * ONE) / 2n)); // A partial: 1.5 of 2, the nonce's partial bit set
    // B is fresh although the nonce's partial bit is set: its own record (none) is read, so it is not blocked
    // by A's 1.5 and not admitted without a signature.
    const b1 = await bid();
    await expectRevert(settle(lc, [b1, { ...b, signature: garbage }], fill(ONE)), 'InvalidSignature');
    const bIdx = BigInt(encodeBatch({ domain: lc.domain, orders: [b1, b], fills: fill(ONE) }).orderPosition[1]!);
    await expectRevert(settle(lc, [b1, b], fill(2n * ONE + 10n ** 15n)), 'Overfill', [0n, bIdx]);
    await settle(lc, [b1, b], fill((3n * ONE) / 2n)); // B partial: 1.5 of 2 (A's 1.5 did not count against it)
    assert.equal(await read<bigint>('filledAmount', [aHash]), (3n * ONE) / 2n);
    assert.equal(await read<bigint>('filledAmount', [bHash]), (3n * ONE) / 2n);
    // Each is bounded by its own record: 0.6 more overfills B (2.1 of 2).
    const b2 = await bid();
    const bIdx2 = BigInt(encodeBatch({ domain: lc.domain, orders: [b2, b], fills: fill(ONE) }).orderPosition[1]!);
    await expectRevert(settle(lc, [b2, b], fill((6n * ONE) / 10n)), 'Overfill', [0n, bIdx2]);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 40n]), false);

    // Completing A marks the nonce used: B, though only partially filled, is dead with it (as before).
    await settle(lc, [await bid(), a], fill(ONE / 2n));
    assert.equal(await read<bigint>('filledAmount', [aHash]), 0n);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 40n]), true);
    const b3 = await bid();
    const bIdx3 = BigInt(encodeBatch({ domain: lc.domain, orders: [b3, b], fills: fill(ONE) }).orderPosition[1]!);
    await expectRevert(settle(lc, [b3, b], fill(ONE / 10n)), 'OrderNonceUsed', [bIdx3]);
    await expectRevert(settle(lc, [b3, { ...b, signature: garbage }], fill(ONE / 10n)), 'OrderNonceUsed', [bIdx3]);
  });

  test('two orders sharing a nonce in one batch: one completes, one fills partially; both dead afterwards', async () => {
    const now = await chainNow(lc);
    const maker = await trader(20n * ONE);
    const a = await signed(lc, maker, now, { isBuy: false, size: ONE, nonce: 41n });
    const b = await signed(lc, maker, now, { isBuy: false, size: 2n * ONE, price: PRICE - 1_000_000n, nonce: 41n });
    const buy = await signed(lc, await trader(), now, { isBuy: true, size: 10n * ONE });
    const { receipt } = await settle(lc, [buy, a, b], [
      { buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE },
      { buyOrder: 0, sellOrder: 2, baseAmount: ONE, price: PRICE },
    ]);
    const totals = new Map(ordersFilled(receipt.logs).map((e) => [e.orderHash, e.filledTotal]));
    assert.equal(totals.get(hashOrder(lc.domain, a)), ONE);
    assert.equal(totals.get(hashOrder(lc.domain, b)), ONE);
    assert.equal(await read<boolean>('isNonceUsed', [maker.address, 41n]), true);
    const buy2 = await signed(lc, await trader(), now, { isBuy: true, size: 10n * ONE });
    const pos = encodeBatch({ domain: lc.domain, orders: [buy2, b], fills: [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }] }).orderPosition;
    await expectRevert(settle(lc, [buy2, b], [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE / 2n, price: PRICE }]), 'OrderNonceUsed', [BigInt(pos[1]!)]);
  });

  test('isNonceUsed: two bits per nonce, 128 nonces per word; a partial bit never reads as a used nonce', async () => {
    const now = await chainNow(lc);
    const maker = await trader(20n * ONE);
    const used = (nonce: bigint): Promise<boolean> => read<boolean>('isNonceUsed', [maker.address, nonce]);
    const sellOf = (nonce: bigint, size = ONE) => signed(lc, maker, now, { isBuy: false, size, nonce });
    const take = async (sell: Awaited<ReturnType<typeof sellOf>>, baseAmount: bigint) =>
      settle(lc, [await signed(lc, await trader(), now, { isBuy: true, size: 10n * ONE }), sell], [{ buyOrder: 0, sellOrder: 1, baseAmount, price: PRICE }]);
    const max = 2n ** 64n - 1n;
    // Complete nonces at both ends of a word and the last nonce of all; leave 128 partially filled.
    for (const nonce of [0n, 127n, 129n, max]) await take(await sellOf(nonce), ONE);
    const partial = await sellOf(128n, 2n * ONE);
    await take(partial, ONE);
    const expected = new Map<bigint, boolean>([
      [0n, true], [1n, false], [126n, false], [127n, true], [128n, false], [129n, true], [130n, false],
      [255n, false], [256n, false], [max - 1n, false], [max, true],
    ]);
    for (const [nonce, want] of expected) assert.equal(await used(nonce), want, `isNonceUsed(${nonce})`);
    assert.throws(() => decodeOrdersFilled(`0x${'00'.repeat(47)}`), { code: 'MALFORMED_BATCH_DATA' });
    // Nonce 128's partial bit sits just below nonce 129's used bit and just above 127's: neighbours unaffected,
    // and the partial order itself completes normally.
    await take(partial, ONE);
    assert.equal(await used(128n), true);
    assert.equal(await used(130n), false);
    await take(await sellOf(130n), ONE);
    assert.equal(await used(130n), true);
  });
});

describe('settleBatch: revert paths', () => {
  async function pair(overrides: { buy?: Partial<OrderFields>; sell?: Partial<OrderFields> } = {}) {
    const now = await chainNow(lc);
    const buyer = await trader();
    const seller = await trader();
    const buy = await signed(lc, buyer, now, { isBuy: true, ...overrides.buy });
    const sell = await signed(lc, seller, now, { isBuy: false, ...overrides.sell });
    return { buyer, seller, buy, sell, now };
  }
  const oneFill = [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }];

  test('only the operator can settle', async () => {
    const { buy, sell } = await pair();
    const batch = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill });
    await expectRevert(
      settleBatch(lc.owner, lc.publicClient, lc.settlement, await nextBatchId(lc), batch),
      'NotOperator',
      [lc.owner.account.address],
    );
  });

  test('batch ids are sequential: a skipped id, a replayed batch and id 0 revert', async () => {
    const { buy, sell } = await pair({ buy: { size: 2n * ONE }, sell: { size: 2n * ONE } });
    const batch = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill });
    const id = await nextBatchId(lc);
    await expectRevert(settleBatch(lc.operator, lc.publicClient, lc.settlement, id + 1n, batch), 'BatchOutOfOrder', [id, id + 1n]);
    await settleBatch(lc.operator, lc.publicClient, lc.settlement, id, batch);
    // Resubmitting after a crash (same id, same data) is refused: the fills cannot settle twice.
    await expectRevert(settleBatch(lc.operator, lc.publicClient, lc.settlement, id, batch), 'BatchAlreadySettled', [id, id]);
    await expectRevert(settleBatch(lc.operator, lc.publicClient, lc.settlement, 0n, batch), 'BatchAlreadySettled', [0n, id]);
    // A mined (not simulated) replay reverts too and leaves balances untouched.
    const before = await balanceOf(lc, BASE, buy.trader);
    await assert.rejects(
      settleBatch(lc.operator, lc.publicClient, lc.settlement, id, batch, { simulate: false, gas: 1_000_000n }),
      (err: Error) => err.message.includes('reverted'),
    );
    assert.equal(await balanceOf(lc, BASE, buy.trader), before);
  });

  test('signatures: wrong signer, tampered field, high-s twin, bad v', async () => {
    const { buy, sell, now } = await pair();
    const mallory = account('mallory');
    const forged = await signOrder(mallory, lc.domain, { ...makeOrder(lc, mallory, now, { isBuy: true }) });
    const idx = (orders: Parameters<typeof encodeBatch>[0]['orders'], i: number): bigint =>
      BigInt(encodeBatch({ domain: lc.domain, orders, fills: oneFill }).orderPosition[i]!);

    // Signed by mallory but claiming to be the buyer's order.
    const stolen = { ...buy, signature: forged.signature };
    await expectRevert(settle(lc, [stolen, sell], oneFill), 'InvalidSignature', [idx([stolen, sell], 0)]);
    // A field changed after signing (a better price for the counterparty).
    const tampered = { ...buy, price: buy.price + 1_000_000n };
    await expectRevert(settle(lc, [tampered, sell], oneFill), 'InvalidSignature', [idx([tampered, sell], 0)]);
    // The malleable twin (n - s, flipped v) of a valid signature is rejected.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${buy.signature.slice(66, 130)}`);
    const v = Number.parseInt(buy.signature.slice(130), 16);
    const twin = `${buy.signature.slice(2, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    // The encoder refuses both (the one signature parser): put them in the calldata by hand, for the contract.
    const valid = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill }).data;
    const withSig = (sig: string): Hex => {
      const at = valid.indexOf(buy.signature.slice(2).toLowerCase());
      assert.ok(at > 0);
      return `${valid.slice(0, at)}${sig}${valid.slice(at + 130)}` as Hex;
    };
    assert.throws(() => encodeBatch({ domain: lc.domain, orders: [{ ...buy, signature: `0x${twin}` }, sell], fills: oneFill }), { code: 'INVALID_SIGNATURE' });
    await expectRevert(settleRaw(lc, withSig(twin)), 'InvalidSignature');
    await expectRevert(settleRaw(lc, withSig(`${buy.signature.slice(2, 130)}1d`)), 'InvalidSignature');
  });

  test('signatures for another chain or another contract do not verify', async () => {
    const { buyer, sell, now } = await pair();
    const order = makeOrder(lc, buyer, now, { isBuy: true });
    const otherChain = await signOrder(buyer, settlementDomain(1, lc.settlement), order);
    const otherContract = await signOrder(buyer, settlementDomain(lc.domain.chainId, account('elsewhere').address), order);
    for (const bad of [otherChain, otherContract]) {
      const pos = encodeBatch({ domain: lc.domain, orders: [bad, sell], fills: oneFill }).orderPosition[0]!;
      await expectRevert(settle(lc, [bad, sell], oneFill), 'InvalidSignature', [BigInt(pos)]);
    }
    // The typed data a wallet would be asked to sign carries this contract and chain.
    assert.deepEqual(orderTypedData(lc.domain, order).domain, lc.domain);
  });

  test('an order never fills beyond its signed size, within a batch or across batches', async () => {
    const { buyer, buy, sell, now } = await pair({ buy: { size: ONE }, sell: { size: 10n * ONE } });
    const enc = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill });
    const buyIdx = BigInt(enc.orderPosition[0]!);
    // Two fills of 0.6 against a 1.0 buy order in one batch.
    const twoFills = [
      { buyOrder: 0, sellOrder: 1, baseAmount: (6n * ONE) / 10n, price: PRICE },
      { buyOrder: 0, sellOrder: 1, baseAmount: (6n * ONE) / 10n, price: PRICE },
    ];
    await expectRevert(settle(lc, [buy, sell], twoFills), 'Overfill', [1n, buyIdx]);

    // 0.6 in one batch, then 0.5 in the next overfills; 0.4 completes it; after that the nonce is used.
    await settle(lc, [buy, sell], [twoFills[0]!]);
    await expectRevert(settle(lc, [buy, sell], [{ ...twoFills[0]!, baseAmount: ONE / 2n }]), 'Overfill', [0n, buyIdx]);
    await settle(lc, [buy, sell], [{ ...twoFills[0]!, baseAmount: (4n * ONE) / 10n }]);
    await expectRevert(settle(lc, [buy, sell], [{ ...twoFills[0]!, baseAmount: 1n * 10n ** 12n }]), 'OrderNonceUsed', [buyIdx]);
    // Another order of the same trader reusing that nonce is dead as well.
    const sameNonce = await signed(lc, buyer, now, { isBuy: true, price: PRICE + 1n * 10n ** 6n });
    const pos = BigInt(encodeBatch({ domain: lc.domain, orders: [sameNonce, sell], fills: oneFill }).orderPosition[0]!);
    await expectRevert(settle(lc, [sameNonce, sell], oneFill), 'OrderNonceUsed', [pos]);
  });

  test('the sell side is bounded by its size too', async () => {
    const { buy, sell } = await pair({ buy: { size: 10n * ONE }, sell: { size: ONE } });
    const sellIdx = BigInt(encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill }).orderPosition[1]!);
    const part = { buyOrder: 0, sellOrder: 1, baseAmount: (6n * ONE) / 10n, price: PRICE };
    await expectRevert(settle(lc, [buy, sell], [part, part]), 'Overfill', [1n, sellIdx]);
    await settle(lc, [buy, sell], [part]);
    await expectRevert(settle(lc, [buy, sell], [part]), 'Overfill', [0n, sellIdx]);
  });

  test('never at a worse price than signed', async () => {
    const { buy, sell } = await pair({ buy: { price: PRICE }, sell: { price: PRICE } });
    const pos = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill }).orderPosition;
    // Above the buyer's limit.
    await expectRevert(settle(lc, [buy, sell], [{ ...oneFill[0]!, price: PRICE + 1_000_000n }]), 'PriceLimitExceeded', [0n, BigInt(pos[0]!)]);
    // Below the seller's limit.
    await expectRevert(settle(lc, [buy, sell], [{ ...oneFill[0]!, price: PRICE - 1_000_000n }]), 'PriceLimitExceeded', [0n, BigInt(pos[1]!)]);
  });

  test('expired orders are rejected', async () => {
    const now = await chainNow(lc);
    const { buy, sell } = await pair({ buy: { expiry: now - 1n } });
    const pos = BigInt(encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill }).orderPosition[0]!);
    await expectRevert(settle(lc, [buy, sell], oneFill), 'OrderExpired', [pos, now - 1n]);
  });

  test('a fill a trader cannot pay for is skipped and reported; the rest of the batch settles; its orders are untouched', async () => {
    const now = await chainNow(lc);
    const poorBuyer = await trader(0n, 1_000n);
    const poorSeller = await trader(ONE / 2n, 0n);
    const richBuyer = await trader();
    const richSeller = await trader();
    const buy = await signed(lc, poorBuyer, now, { isBuy: true });
    const sell = await signed(lc, richSeller, now, { isBuy: false });
    const buy2 = await signed(lc, richBuyer, now, { isBuy: true, size: 2n * ONE });
    const sell2 = await signed(lc, poorSeller, now, { isBuy: false });
    const fills = [
      { buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }, // the buyer lacks quote
      { buyOrder: 2, sellOrder: 1, baseAmount: ONE / 4n, price: PRICE }, // fine
      { buyOrder: 2, sellOrder: 3, baseAmount: ONE, price: PRICE }, // the seller lacks base
    ];
    const before = await Promise.all([balanceOf(lc, QUOTE, poorBuyer.address), balanceOf(lc, BASE, poorSeller.address), balanceOf(lc, QUOTE, richBuyer.address)]);
    const { batch, batchId, receipt } = await settle(lc, [buy, sell, buy2, sell2], fills);
    assert.deepEqual(skippedFillsOf(receipt, lc.settlement), [0, 2]);
    const skippedEvent = parseSettlementEvents(receipt.logs).find((e) => e.eventName === 'FillsSkipped');
    assert.equal(skippedEvent?.args.batchId, batchId);
    // Only the funded fill moved anything; the skipped fills' orders have nothing recorded.
    assert.equal(await balanceOf(lc, QUOTE, poorBuyer.address), before[0]);
    assert.equal(await balanceOf(lc, BASE, poorSeller.address), before[1]);
    assert.equal(await balanceOf(lc, QUOTE, richBuyer.address), before[2] - 500_000_000n);
    const totals = ordersFilled(receipt.logs, batchId);
    const hashes = batch.orderHashes;
    assert.deepEqual(
      totals.map((t) => t.orderHash).sort(),
      [hashOrder(lc.domain, sell), hashOrder(lc.domain, buy2)].map((h) => h.toLowerCase()).sort(),
    );
    for (const o of [buy, sell2]) {
      const h = hashOrder(lc.domain, o);
      assert.ok(hashes.includes(h));
      assert.equal(await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'filledAmount', args: [h] }), 0n);
    }
    // The skipped orders settle later, in full, once funded: nothing of them was consumed.
    await lc.fund(poorBuyer.address, QUOTE, 2_000_000_000n);
    await lc.fund(poorSeller.address, BASE, ONE);
    const later = await settle(lc, [buy, sell, buy2, sell2], [
      { buyOrder: 0, sellOrder: 1, baseAmount: ONE * 3n / 4n, price: PRICE },
      { buyOrder: 2, sellOrder: 3, baseAmount: ONE * 3n / 4n, price: PRICE },
    ]);
    assert.deepEqual(skippedFillsOf(later.receipt, lc.settlement), []);
  });

  test('the fee counts: a buyer with the notional but not the fee is skipped', async () => {
    const now = await chainNow(lc);
    const exact = await trader(0n, 1_000_000_000n);
    const seller = await trader();
    const buy = await signed(lc, exact, now, { isBuy: true, maxFeeRate: 10 });
    const sell = await signed(lc, seller, now, { isBuy: false });
    const half = { buyOrder: 0, sellOrder: 1, baseAmount: ONE / 2n, price: PRICE };
    const { receipt } = await settle(lc, [buy, sell], [{ ...half, buyFeeRate: 10 }]);
    assert.deepEqual(skippedFillsOf(receipt, lc.settlement), [0]);
    const ok = await settle(lc, [buy, sell], [{ ...half, buyFeeRate: 0 }]);
    assert.deepEqual(skippedFillsOf(ok.receipt, lc.settlement), []);
    assert.equal(await balanceOf(lc, QUOTE, exact.address), 0n);
  });

  test('FillsSettled names both traders, the tokens, amounts and fees of every applied fill, in fill order', async () => {
    const now = await chainNow(lc);
    const b = await trader();
    const s1 = await trader();
    const buy = await signed(lc, b, now, { isBuy: true, maxFeeRate: 1_000 });
    const sell = await signed(lc, s1, now, { isBuy: false, maxFeeRate: 2_000, price: PRICE / 2n });
    const { receipt, batch } = await settle(lc, [buy, sell], [
      { buyOrder: 0, sellOrder: 1, baseAmount: ONE / 4n, price: PRICE, buyFeeRate: 1_000, sellFeeRate: 2_000 },
      { buyOrder: 0, sellOrder: 1, baseAmount: ONE / 2n, price: PRICE / 2n, buyFeeRate: 0, sellFeeRate: 7 },
    ]);
    const ev = parseSettlementEvents(receipt.logs).find((e) => e.eventName === 'FillsSettled');
    assert.ok(ev?.args.tokens !== undefined && ev.args.fills !== undefined);
    assert.deepEqual(ev.args.tokens, batch.tokens);
    const q1 = quoteAmount(ONE / 4n, PRICE);
    const q2 = quoteAmount(ONE / 2n, PRICE / 2n);
    assert.deepEqual(decodeFillsSettled(ev.args.tokens, ev.args.fills), [
      { buyer: b.address, seller: s1.address, baseToken: BASE, quoteToken: QUOTE, baseAmount: ONE / 4n, quoteAmount: q1, buyFee: feeAmount(q1, 1_000), sellFee: feeAmount(q1, 2_000) },
      { buyer: b.address, seller: s1.address, baseToken: BASE, quoteToken: QUOTE, baseAmount: ONE / 2n, quoteAmount: q2, buyFee: 0n, sellFee: feeAmount(q2, 7) },
    ]);
  });

  test('fee rates are bounded by the signed maximum and by MAX_FEE_RATE', async () => {
    const { buy, sell } = await pair({ buy: { maxFeeRate: 100 }, sell: { maxFeeRate: 200_000 } });
    const pos = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill }).orderPosition;
    await expectRevert(settle(lc, [buy, sell], [{ ...oneFill[0]!, buyFeeRate: 101 }]), 'FeeRateExceeded', [0n, BigInt(pos[0]!)]);
    // The seller signed up to 20%, but the contract caps every rate at 10%. The encoder refuses such a rate
    // too, so patch the encoded fill's sellFeeRate field.
    const { buy: b2, sell: s2 } = await pair({ buy: { maxFeeRate: 100 }, sell: { maxFeeRate: 200_000 } });
    const enc2 = encodeBatch({ domain: lc.domain, orders: [b2, s2], fills: oneFill });
    const fillAt = headerBytes + enc2.tokens.length * tokenBytes + 2 * orderBytes;
    const tooHigh = patch(enc2.data, fillAt + 40, (MAX_FEE_RATE + 1).toString(16).padStart(8, '0'));
    await expectRevert(settleRaw(lc, tooHigh), 'FeeRateExceeded', [0n, BigInt(enc2.orderPosition[1]!)]);
  });

  test('quote amounts must be exact integers', async () => {
    const { buy, sell } = await pair();
    await expectRevert(settle(lc, [buy, sell], [{ ...oneFill[0]!, baseAmount: ONE + 1n }]), 'InexactQuoteAmount', [0n]);
  });

  test('sides and markets must match', async () => {
    const { buy, sell, now } = await pair();
    const otherBuy = await signed(lc, await trader(), now, { isBuy: true });
    await expectRevert(settle(lc, [buy, otherBuy], oneFill), 'SideMismatch', [0n]);
    await expectRevert(settle(lc, [sell, buy], oneFill), 'SideMismatch', [0n]);
    const inverted = await signed(lc, await trader(), now, { isBuy: false, baseToken: QUOTE, quoteToken: BASE });
    await expectRevert(settle(lc, [buy, inverted], oneFill), 'MarketMismatch', [0n]);
  });

  test('malformed batches: version, length, empty, token table, indexes, flags, order sorting, zero fill', async () => {
    const { buy, sell } = await pair();
    const enc = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: oneFill });
    const data = enc.data;
    const ordersAt = headerBytes + 2 * tokenBytes;
    const fillAt = ordersAt + 2 * orderBytes;
    await expectRevert(settleRaw(lc, patch(data, 0, '02')), 'UnsupportedBatchVersion', [2]);
    await expectRevert(settleRaw(lc, `${data}00`), 'MalformedBatch', [BigInt((data.length - 2) / 2), BigInt((data.length - 2) / 2 + 1)]);
    await expectRevert(settleRaw(lc, data.slice(0, -2) as Hex), 'MalformedBatch');
    await expectRevert(settleRaw(lc, '0x'), 'UnsupportedBatchVersion', [0]);
    // fillCount 0 and no fill bytes.
    await expectRevert(settleRaw(lc, patch(data, 4, '0000').slice(0, 2 + fillAt * 2) as Hex), 'EmptyBatch');
    // The second token entry repeats the first.
    await expectRevert(settleRaw(lc, patch(data, headerBytes + tokenBytes, data.slice(2 + headerBytes * 2, 2 + (headerBytes + tokenBytes) * 2))), 'DuplicateToken', [1n]);
    // Order 0's base token index 7 (only 2 tokens).
    await expectRevert(settleRaw(lc, patch(data, ordersAt + 20, '07')), 'InvalidTokenIndex', [0n]);
    // Order 0's flags byte 0x02.
    await expectRevert(settleRaw(lc, patch(data, ordersAt + 22, '02')), 'InvalidOrderFlags', [0n]);
    // Fill 0's sell index points past the orders.
    await expectRevert(settleRaw(lc, patch(data, fillAt + 2, '0002')), 'InvalidOrderIndex', [0n]);
    // Zero base amount.
    await expectRevert(settleRaw(lc, patch(data, fillAt + 4, '00'.repeat(16))), 'ZeroFill', [0n]);
    // Orders swapped (hashes no longer increasing) and the same order twice.
    const o0 = data.slice(2 + ordersAt * 2, 2 + (ordersAt + orderBytes) * 2);
    const o1 = data.slice(2 + (ordersAt + orderBytes) * 2, 2 + fillAt * 2);
    await expectRevert(settleRaw(lc, patch(data, ordersAt, o1 + o0)), 'UnsortedOrders', [1n]);
    await expectRevert(settleRaw(lc, patch(data, ordersAt, o0 + o0)), 'UnsortedOrders', [1n]);
    // The encoder refuses what the contract refuses.
    assert.throws(() => encodeBatch({ domain: lc.domain, orders: [buy, buy, sell], fills: oneFill }), { code: 'DUPLICATE_ORDER' });
    assert.throws(() => encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: [] }), { code: 'INVALID_BATCH' });
    assert.equal(fillBytes, 44);
  });
});

describe('settleBatch: maker rebates (negative fill rates)', () => {
  /** A fill of `quote` quote base units at PRICE (base = quote * 1e18 / PRICE, exact for PRICE = 2e9). */
  const fillOf = (quote: bigint, buyFeeRate: number, sellFeeRate: number) => ({ buyOrder: 0, sellOrder: 1, baseAmount: (quote * ONE) / PRICE, price: PRICE, buyFeeRate, sellFeeRate });
  async function pair(buyMax: number, sellMax: number, buyerQuote = 100_000_000_000n) {
    const now = await chainNow(lc);
    const buyer = await trader(0n, buyerQuote);
    const seller = await trader(10n * ONE, 0n);
    const buy = await signed(lc, buyer, now, { isBuy: true, size: 10n * ONE, maxFeeRate: buyMax });
    const sell = await signed(lc, seller, now, { isBuy: false, size: 10n * ONE, maxFeeRate: sellMax });
    const pos = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: [fillOf(2n, 0, 0)] }).orderPosition;
    return { buyer, seller, buy, sell, buyIdx: BigInt(pos[0]!), sellIdx: BigInt(pos[1]!) };
  }

  test('a rebate on either side is paid out of the same fill\'s fee: exact balances, signed FillsSettled fees, FeesCollected net', async () => {
    // The maker signed a 0 fee bound: a rebate costs it nothing, so the bound does not limit it.
    const { buyer, seller, buy, sell } = await pair(1_000, 0);
    const q1 = 3_000_000_001n; // odd: both floors drop dust
    const q2 = 1_234_567n;
    const feeBefore = await balanceOf(lc, QUOTE, lc.feeRecipient);
    const { receipt, batchId } = await settle(lc, [buy, sell], [fillOf(q1, 1_000, -250), fillOf(q2, 1_000, -1_000)]);
    const fee1 = feeAmount(q1, 1_000);
    const reb1 = rebateAmount(q1, -250);
    const fee2 = feeAmount(q2, 1_000);
    const reb2 = rebateAmount(q2, -1_000);
    assert.equal(reb1, 750_000n);
    assert.equal(reb2, fee2); // equal rates: the rebate is the whole fee
    assert.equal(await balanceOf(lc, QUOTE, buyer.address), 100_000_000_000n - q1 - fee1 - q2 - fee2);
    assert.equal(await balanceOf(lc, QUOTE, seller.address), q1 + reb1 + q2 + reb2);
    assert.equal(await balanceOf(lc, QUOTE, lc.feeRecipient), feeBefore + fee1 - reb1 + fee2 - reb2);
    const events = parseSettlementEvents(receipt.logs);
    const collected = events.flatMap((e) => (e.eventName === 'FeesCollected' ? [e.args] : []));
    assert.deepEqual(collected, [{ batchId, token: QUOTE, recipient: lc.feeRecipient, amount: fee1 - reb1 + fee2 - reb2 }]);
    const ev = events.find((e) => e.eventName === 'FillsSettled');
    assert.ok(ev?.eventName === 'FillsSettled' && ev.args.tokens !== undefined && ev.args.fills !== undefined);
    const entries = decodeFillsSettled(ev.args.tokens, ev.args.fills);
    assert.deepEqual(entries.map((e) => [e.buyFee, e.sellFee]), [[fee1, -reb1], [fee2, -reb2]]);
    // An observer reconciles: per token, the entries' fees sum to FeesCollected.
    assert.equal(entries.reduce((a, e) => a + e.buyFee + e.sellFee, 0n), collected[0]!.amount);

    // The buy side as the maker: the buyer pays quote - rebate, the seller quote - fee.
    const other = await pair(0, 2_000);
    const q = 777_777_777n;
    await settle(lc, [other.buy, other.sell], [fillOf(q, -2_000, 2_000)]);
    assert.equal(await balanceOf(lc, QUOTE, other.buyer.address), 100_000_000_000n - q + rebateAmount(q, -2_000));
    assert.equal(await balanceOf(lc, QUOTE, other.seller.address), q - feeAmount(q, 2_000));
  });

  test('a buyer whose rebate covers the shortfall is not skipped (funds are checked against quote + fee - rebate)', async () => {
    const q = 1_000_000_000n;
    const rebate = rebateAmount(q, -500);
    const { buyer, buy, sell } = await pair(0, 1_000, q - rebate);
    const { receipt } = await settle(lc, [buy, sell], [fillOf(q, -500, 1_000)]);
    assert.deepEqual(skippedFillsOf(receipt, lc.settlement), []);
    assert.equal(await balanceOf(lc, QUOTE, buyer.address), 0n);
    // One base unit of quote less and the same fill is skipped.
    const short = await pair(0, 1_000, q - rebate - 1n);
    const r2 = await settle(lc, [short.buy, short.sell], [fillOf(q, -500, 1_000)]);
    assert.deepEqual(skippedFillsOf(r2.receipt, lc.settlement), [0]);
  });

  test('hostile: a rebate above the other side\'s fee reverts RebateExceedsFee, naming the fill, order, rebate and fee', async () => {
    const { buy, sell, buyIdx, sellIdx } = await pair(1_000, 1_000);
    const q = 1_000_000n;
    // The second fill is the bad one: 101 > 100.
    await expectRevert(settle(lc, [buy, sell], [fillOf(q, 100, -100), fillOf(q, 100, -101)]), 'RebateExceedsFee', [1n, sellIdx, 101n, 100n]);
    await expectRevert(settle(lc, [buy, sell], [fillOf(q, -101, 100)]), 'RebateExceedsFee', [0n, buyIdx, 101n, 100n]);
    // A rebate on a fill whose other side pays no fee.
    await expectRevert(settle(lc, [buy, sell], [fillOf(q, 0, -1)]), 'RebateExceedsFee', [0n, sellIdx, 1n, 0n]);
    // Rounding edges: at quote 1999 a 1000 fee is 1 (1.999) and a 1001 rebate 2 (2.000999): refused, though
    // the rates differ by one; at quote 999 both round to 0 and the fill stands (nothing moves in fees).
    await expectRevert(settle(lc, [buy, sell], [fillOf(1_999n, 1_000, -1_001)]), 'RebateExceedsFee', [0n, sellIdx, 2n, 1n]);
    const feeBefore = await balanceOf(lc, QUOTE, lc.feeRecipient);
    await settle(lc, [buy, sell], [fillOf(998n, 1_000, -1_001)]);
    assert.equal(await balanceOf(lc, QUOTE, lc.feeRecipient), feeBefore);
  });

  test('hostile: rebates on both sides revert RebateOnBothSides, even when both round to nothing', async () => {
    const { buy, sell } = await pair(1_000, 1_000);
    await expectRevert(settle(lc, [buy, sell], [fillOf(2n, -1, -1)]), 'RebateOnBothSides', [0n]);
    await expectRevert(settle(lc, [buy, sell], [fillOf(2n, 10, 10), fillOf(10_000_000n, -100, -100)]), 'RebateOnBothSides', [1n]);
  });

  test('hostile: a huge negative rate in raw calldata is still bounded by the fee; a fee rate keeps its signed bound', async () => {
    const { buy, sell, sellIdx, buyIdx } = await pair(100_000, 50);
    const enc = encodeBatch({ domain: lc.domain, orders: [buy, sell], fills: [fillOf(1_000_000n, 100_000, 0)] });
    const fillAt = headerBytes + enc.tokens.length * tokenBytes + 2 * orderBytes;
    // sellRate = int32 min (-2^31): the rebate would be 2^31 per 1e6 of quote.
    await expectRevert(settleRaw(lc, patch(enc.data, fillAt + 40, '80000000')), 'RebateExceedsFee', [0n, sellIdx, (1_000_000n * 2n ** 31n) / 1_000_000n, 100_000n]);
    // A positive rate above the seller's signed 50 is still FeeRateExceeded (a sign bit is not a loophole).
    await expectRevert(settleRaw(lc, patch(enc.data, fillAt + 40, '00000033')), 'FeeRateExceeded', [0n, sellIdx]);
    // 0x7fffffff is the largest positive int32: above MAX_FEE_RATE.
    await expectRevert(settleRaw(lc, patch(enc.data, fillAt + 36, '7fffffff')), 'FeeRateExceeded', [0n, buyIdx]);
  });
});

describe('withdrawals and the escape hatch', () => {
  async function request(t: ReturnType<typeof account>, token: Address, amount: bigint) {
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    return expectSuccess(
      lc.publicClient,
      await lc.wallet(t).writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [token, amount], gas: 200_000n }),
      'requestWithdrawal',
    );
  }
  const simulateExecute = (caller: ReturnType<typeof account> | Address, t: Address, token: Address): Promise<unknown> =>
    lc.publicClient.simulateContract({ address: lc.settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [t, token], account: caller });
  async function execute(caller: Parameters<typeof lc.wallet>[0], t: Address, token: Address) {
    await lc.testClient.setBalance({ address: caller.address, value: ONE });
    await simulateExecute(caller as ReturnType<typeof account>, t, token);
    return expectSuccess(
      lc.publicClient,
      await lc.wallet(caller).writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [t, token], gas: 300_000n }),
      'executeWithdrawal',
    );
  }

  test('without the operator: nobody can execute before the delay, anyone can after it, funds go to the trader', async () => {
    const t = await trader(ONE, 0n);
    const receipt = await request(t, BASE, ONE);
    const [requested] = parseSettlementEvents(receipt.logs);
    const block = await lc.publicClient.getBlock({ blockHash: receipt.blockHash });
    assert.deepEqual(requested?.args, { trader: t.address, token: BASE, amount: ONE, availableAt: block.timestamp + lc.withdrawalDelay });
    const stranger = account('stranger');
    await expectRevert(simulateExecute(t, t.address, BASE), 'WithdrawalNotReady', [t.address, BASE, block.timestamp + lc.withdrawalDelay]);
    await expectRevert(simulateExecute(stranger, t.address, BASE), 'WithdrawalNotReady');
    await lc.testClient.increaseTime({ seconds: Number(lc.withdrawalDelay) - 10 });
    await lc.testClient.mine({ blocks: 1 });
    await expectRevert(simulateExecute(stranger, t.address, BASE), 'WithdrawalNotReady');
    await lc.testClient.increaseTime({ seconds: 10 });
    await lc.testClient.mine({ blocks: 1 });

    const walletBefore = await tokenBalance(lc, BASE, t.address);
    const done = await execute(stranger, t.address, BASE);
    const executed = parseSettlementEvents(done.logs).find((e) => e.eventName === 'WithdrawalExecuted');
    assert.deepEqual(executed?.args, { trader: t.address, token: BASE, amount: ONE, balance: 0n });
    assert.equal(await tokenBalance(lc, BASE, t.address), walletBefore + ONE);
    assert.equal(await tokenBalance(lc, BASE, stranger.address), 0n);
    assert.equal(await balanceOf(lc, BASE, t.address), 0n);
    await expectRevert(simulateExecute(stranger, t.address, BASE), 'NoPendingWithdrawal', [t.address, BASE]);
  });

  test('the operator can execute a requested withdrawal at once', async () => {
    const t = await trader(0n, 5_000n);
    await request(t, QUOTE, 4_000n);
    await execute(lc.operator.account, t.address, QUOTE);
    assert.equal(await balanceOf(lc, QUOTE, t.address), 1_000n);
    assert.equal(await tokenBalance(lc, QUOTE, t.address), 4_000n);
  });

  test('requests are validated, can be replaced and cancelled', async () => {
    const t = await trader(0n, 5_000n);
    await lc.testClient.setBalance({ address: t.address, value: ONE });
    const sim = (functionName: 'requestWithdrawal' | 'cancelWithdrawal', args: readonly unknown[]): Promise<unknown> =>
      lc.publicClient.simulateContract({ address: lc.settlement, abi: settlementAbi, functionName, args: args as never, account: t });
    await expectRevert(sim('requestWithdrawal', [QUOTE, 0n]), 'ZeroAmount');
    await expectRevert(sim('requestWithdrawal', [QUOTE, 5_001n]), 'InsufficientBalance', [t.address, QUOTE, 5_000n, 5_001n]);
    await expectRevert(sim('cancelWithdrawal', [QUOTE]), 'NoPendingWithdrawal', [t.address, QUOTE]);
    await request(t, QUOTE, 1_000n);
    await request(t, QUOTE, 2_000n); // replaces the first
    const pending = await lc.publicClient.readContract({ address: lc.settlement, abi: settlementAbi, functionName: 'pendingWithdrawal', args: [t.address, QUOTE] });
    assert.equal(pending[0], 2_000n);
    const cancelled = await expectSuccess(
      lc.publicClient,
      await lc.wallet(t).writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'cancelWithdrawal', args: [QUOTE], gas: 100_000n }),
      'cancel',
    );
    assert.deepEqual(parseSettlementEvents(cancelled.logs)[0]?.args, { trader: t.address, token: QUOTE, amount: 2_000n });
    await expectRevert(simulateExecute(lc.operator.account.address, t.address, QUOTE), 'NoPendingWithdrawal');
  });

  test('a withdrawal whose balance was spent entirely pays 0 and clears the request (no revert, no transfer)', async () => {
    const now = await chainNow(lc);
    const seller = await trader(ONE, 0n);
    const buyer = await trader(0n, 2_000_000_000n);
    await request(seller, BASE, ONE);
    await settle(lc, [await signed(lc, buyer, now, { isBuy: true }), await signed(lc, seller, now, { isBuy: false })], [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }]);
    const paid = await execute(lc.operator.account, seller.address, BASE);
    assert.deepEqual(parseSettlementEvents(paid.logs).find((e) => e.eventName === 'WithdrawalExecuted')?.args, { trader: seller.address, token: BASE, amount: 0n, balance: 0n });
    assert.equal(await tokenBalance(lc, BASE, seller.address), 0n);
    await expectRevert(simulateExecute(seller, seller.address, BASE), 'NoPendingWithdrawal');
  });

  test('fills matched before a request still settle during the delay; the withdrawal then finds less', async () => {
    // The trade-off: a request does not lock funds (that would let a trader void matched fills), so the
    // operator has the whole delay to settle what was matched; after it, the trader can always leave.
    const now = await chainNow(lc);
    const seller = await trader(ONE, 0n);
    const buyer = await trader(0n, 2_000_000_000n);
    const sell = await signed(lc, seller, now, { isBuy: false });
    const buy = await signed(lc, buyer, now, { isBuy: true });
    await request(seller, BASE, ONE);
    await settle(lc, [buy, sell], [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE / 2n, price: PRICE }]);
    await lc.testClient.increaseTime({ seconds: Number(lc.withdrawalDelay) });
    await lc.testClient.mine({ blocks: 1 });
    // It pays what is left (min(requested, balance)): fills can shrink a withdrawal, never block it.
    const paid = await execute(account('hatch-stranger'), seller.address, BASE);
    assert.deepEqual(parseSettlementEvents(paid.logs).find((e) => e.eventName === 'WithdrawalExecuted')?.args, { trader: seller.address, token: BASE, amount: ONE / 2n, balance: 0n });
    assert.equal(await tokenBalance(lc, BASE, seller.address), ONE / 2n);
    assert.equal(await balanceOf(lc, BASE, seller.address), 0n);
    assert.equal(await balanceOf(lc, QUOTE, seller.address), 1_000_000_000n);
  });
});

describe('administration', () => {
  test('owner changes the operator only through a timelock; fee recipient; two-step ownership transfer', async () => {
    const stranger = account('admin-stranger');
    await lc.testClient.setBalance({ address: stranger.address, value: ONE });
    type AdminFn = 'proposeOperator' | 'executeOperatorChange' | 'cancelOperatorChange' | 'setFeeRecipient' | 'transferOwnership' | 'acceptOwnership';
    const sim = (who: ReturnType<typeof account> | Address, functionName: AdminFn, args: readonly unknown[], address: Address = lc.settlement): Promise<unknown> =>
      lc.publicClient.simulateContract({ address, abi: settlementAbi, functionName, args: args as never, account: who });
    await expectRevert(sim(stranger, 'proposeOperator', [stranger.address]), 'NotOwner', [stranger.address]);
    await expectRevert(sim(stranger, 'executeOperatorChange', []), 'NotOwner');
    await expectRevert(sim(stranger, 'cancelOperatorChange', []), 'NotOwner');
    await expectRevert(sim(stranger, 'setFeeRecipient', [stranger.address]), 'NotOwner');
    await expectRevert(sim(stranger, 'transferOwnership', [stranger.address]), 'NotOwner');
    await expectRevert(sim(lc.owner.account.address, 'proposeOperator', [zeroAddress]), 'ZeroAddress');
    await expectRevert(sim(lc.owner.account.address, 'setFeeRecipient', [zeroAddress]), 'ZeroAddress');
    await expectRevert(sim(stranger, 'acceptOwnership', []), 'NotPendingOwner', [stranger.address]);
    await expectRevert(sim(lc.owner.account.address, 'executeOperatorChange', []), 'NoPendingOperator');
    await expectRevert(sim(lc.owner.account.address, 'cancelOperatorChange', []), 'NoPendingOperator');

    // Deploy a separate instance so the shared one keeps its operator.
    const settlement = await deploySettlement(lc.owner, lc.publicClient, {
      owner: lc.owner.account.address,
      operator: lc.operator.account.address,
      feeRecipient: lc.feeRecipient,
      withdrawalDelay: 3_600n,
      cancelDelay: 60n,
    });
    const w = (fn: 'proposeOperator' | 'transferOwnership', arg: Address) =>
      lc.owner.writeContract({ address: settlement, abi: settlementAbi, functionName: fn, args: [arg], gas: 100_000n });
    const w0 = (fn: 'executeOperatorChange' | 'cancelOperatorChange') =>
      lc.owner.writeContract({ address: settlement, abi: settlementAbi, functionName: fn, gas: 100_000n });
    const read = (fn: 'operator' | 'owner' | 'pendingOperator') => lc.publicClient.readContract({ address: settlement, abi: settlementAbi, functionName: fn });
    // A proposal can be dropped.
    await expectSuccess(lc.publicClient, await w('proposeOperator', account('dropped').address), 'propose');
    const dropped = await expectSuccess(lc.publicClient, await w0('cancelOperatorChange'), 'cancel');
    assert.deepEqual(parseSettlementEvents(dropped.logs)[0]?.args, { proposedOperator: account('dropped').address });
    assert.equal(await read('pendingOperator'), zeroAddress);
    // A proposal takes effect only after OPERATOR_CHANGE_DELAY.
    const proposed = await expectSuccess(lc.publicClient, await w('proposeOperator', stranger.address), 'proposeOperator');
    const at = (await lc.publicClient.getBlock({ blockHash: proposed.blockHash })).timestamp + OPERATOR_CHANGE_DELAY;
    assert.deepEqual(parseSettlementEvents(proposed.logs)[0]?.args, { currentOperator: lc.operator.account.address, proposedOperator: stranger.address, effectiveAt: at });
    await expectRevert(sim(lc.owner.account.address, 'executeOperatorChange', [], settlement), 'OperatorChangeNotReady', [at]);
    await lc.testClient.setNextBlockTimestamp({ timestamp: at - 1n });
    await lc.testClient.mine({ blocks: 1 });
    await expectRevert(sim(lc.owner.account.address, 'executeOperatorChange', [], settlement), 'OperatorChangeNotReady', [at]);
    assert.equal(await read('operator'), lc.operator.account.address);
    await lc.testClient.setNextBlockTimestamp({ timestamp: at });
    const changed = await expectSuccess(lc.publicClient, await w0('executeOperatorChange'), 'executeOperatorChange');
    assert.deepEqual(parseSettlementEvents(changed.logs)[0]?.args, { previousOperator: lc.operator.account.address, newOperator: stranger.address });
    assert.equal(await read('operator'), stranger.address);
    assert.equal(await read('pendingOperator'), zeroAddress);
    await expectSuccess(lc.publicClient, await w('transferOwnership', stranger.address), 'transferOwnership');
    assert.equal(await read('owner'), lc.owner.account.address);
    await expectSuccess(
      lc.publicClient,
      await lc.wallet(stranger).writeContract({ address: settlement, abi: settlementAbi, functionName: 'acceptOwnership', gas: 100_000n }),
      'accept',
    );
    assert.equal(await read('owner'), stranger.address);
    // The old operator is out.
    const { buy, sell } = await (async () => {
      const now = await chainNow(lc);
      return { buy: await signed(lc, account('x1'), now, { isBuy: true }), sell: await signed(lc, account('x2'), now, { isBuy: false }) };
    })();
    const data = encodeBatch({ domain: settlementDomain(lc.domain.chainId, settlement), orders: [buy, sell], fills: [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }] });
    await expectRevert(settleBatch(lc.operator, lc.publicClient, settlement, 1n, data), 'NotOperator', [lc.operator.account.address]);
  });

  test('constructor checks: zero addresses, withdrawal delay and cancel delay bounds', async () => {
    const base = { owner: lc.owner.account.address, operator: lc.operator.account.address, feeRecipient: lc.feeRecipient, withdrawalDelay: 3_600n, cancelDelay: 60n };
    const deploy = (patchParams: Partial<typeof base>) => deploySettlement(lc.owner, lc.publicClient, { ...base, ...patchParams });
    await expectRevert(deploy({ operator: zeroAddress }), 'ZeroAddress');
    await expectRevert(deploy({ withdrawalDelay: 31n * 86_400n }), 'InvalidWithdrawalDelay', [31n * 86_400n]);
    // No zero (or token) withdrawal delay: the operator needs time to settle fills matched before a request.
    await expectRevert(deploy({ withdrawalDelay: 0n }), 'InvalidWithdrawalDelay', [0n]);
    await expectRevert(deploy({ withdrawalDelay: 3_599n }), 'InvalidWithdrawalDelay', [3_599n]);
    await expectRevert(deploy({ cancelDelay: 59n }), 'InvalidCancelDelay', [59n]);
    await expectRevert(deploy({ cancelDelay: 3_601n, withdrawalDelay: 86_400n }), 'InvalidCancelDelay', [3_601n]);
    // The bounds themselves deploy.
    await deploy({ withdrawalDelay: 3_600n, cancelDelay: 3_600n });
    await deploy({ withdrawalDelay: 30n * 86_400n, cancelDelay: 60n });
  });

  test('a batch within the tx gas cap settles with the explicit cap as gas limit', async () => {
    const { receipt } = await settle(
      lc,
      [await signed(lc, await trader(), await chainNow(lc), { isBuy: true }), await signed(lc, await trader(), await chainNow(lc), { isBuy: false })],
      [{ buyOrder: 0, sellOrder: 1, baseAmount: ONE, price: PRICE }],
      { gas: MAX_TX_GAS },
    );
    assert.ok(receipt.gasUsed < MAX_TX_GAS);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LedgerView, reconcile } from '../reconcile/ledger-view.js';
import type { DecodedBatch, SignedOrder } from '@parallax/chain';
import { mapLogs, MappingError, pairKey, settledPerAccount, skippedPerAccount, type ContractLog } from './event-mapper.js';
import { decodeProgress, encodeProgress } from './progress.js';

const A = `0x${'aa'.repeat(20)}` as const;
const B = `0x${'bb'.repeat(20)}` as const;
const BASE = `0x${'b1'.repeat(20)}` as const;
const QUOTE = `0x${'c2'.repeat(20)}` as const;
const times = new Map([[10n, 1_700_000_000n]]);
let index = 0;
const log = (eventName: string, args: Record<string, unknown>): ContractLog => ({ eventName, args, blockNumber: 10n, logIndex: index++ });

// Two's complement: a negative fee (a maker rebate) is how FillsSettled carries it.
const u128 = (x: bigint): string => BigInt.asUintN(128, x).toString(16).padStart(32, '0');
function fill(buyer: string, seller: string, baseIdx: number, quoteIdx: number, base: bigint, quote: bigint, buyFee: bigint, sellFee: bigint): string {
  return `${buyer.slice(2)}${seller.slice(2)}${baseIdx.toString(16).padStart(2, '0')}${quoteIdx.toString(16).padStart(2, '0')}${u128(base)}${u128(quote)}${u128(buyFee)}${u128(sellFee)}`;
}
const isMapping = (code: MappingError['code']) => (e: unknown) => e instanceof MappingError && e.code === code;

describe('event mapper', () => {
  it('nets a batch per account and token: the buyer receives base and pays quote + fee, the seller the reverse', () => {
    const fills = `0x${fill(A, B, 0, 1, 5n, 100n, 2n, 1n)}${fill(B, A, 0, 1, 3n, 60n, 1n, 0n)}${fill(A, B, 0, 1, 1n, 20n, 0n, 0n)}` as const;
    const { events, fills: n } = settledPerAccount([BASE, QUOTE], fills);
    assert.equal(n, 3);
    assert.deepEqual(events, [
      { type: 'settled', account: A, token: BASE, received: 6n, paid: 3n, fees: 0n },
      { type: 'settled', account: A, token: QUOTE, received: 60n, paid: 120n, fees: 2n },
      { type: 'settled', account: B, token: BASE, received: 3n, paid: 6n, fees: 0n },
      { type: 'settled', account: B, token: QUOTE, received: 120n, paid: 60n, fees: 2n },
    ]);
  });

  it('maps a negative (rebate) fee to what the side received: fees stay what it was charged', () => {
    // Fill 1: A buys 5 for 100, pays a 3 fee; B, the maker, gets a 2 rebate. Fill 2: B buys as the maker with a 1 rebate.
    const fills = `0x${fill(A, B, 0, 1, 5n, 100n, 3n, -2n)}${fill(B, A, 0, 1, 3n, 60n, -1n, 1n)}` as const;
    assert.deepEqual(settledPerAccount([BASE, QUOTE], fills).events, [
      { type: 'settled', account: A, token: BASE, received: 5n, paid: 3n, fees: 0n },
      { type: 'settled', account: A, token: QUOTE, received: 60n, paid: 100n, fees: 4n },
      { type: 'settled', account: B, token: BASE, received: 3n, paid: 5n, fees: 0n },
      { type: 'settled', account: B, token: QUOTE, received: 103n, paid: 60n, fees: 0n },
    ]);
    // The largest rebate an int128 field can carry decodes as a rebate, not as a 2^128 - 1 fee.
    const aq = settledPerAccount([BASE, QUOTE], `0x${fill(A, B, 0, 1, 1n, 1n, -(1n << 127n), 0n)}`).events.find((e) => e.account === A && e.token === QUOTE);
    assert.deepEqual(aq, { type: 'settled', account: A, token: QUOTE, received: 1n << 127n, paid: 1n, fees: 0n });
  });

  it('refuses a fills blob that is not whole entries or names a token outside the batch', () => {
    assert.throws(() => settledPerAccount([BASE, QUOTE], `0x${fill(A, B, 0, 1, 1n, 1n, 0n, 0n)}00`), isMapping('MALFORMED_LOG'));
    assert.throws(() => settledPerAccount([BASE, QUOTE], `0x${fill(A, B, 0, 2, 1n, 1n, 0n, 0n)}`), isMapping('MALFORMED_LOG'));
    assert.throws(() => settledPerAccount([BASE, 'nonsense'], `0x${fill(A, B, 0, 1, 1n, 1n, 0n, 0n)}`), isMapping('MALFORMED_LOG'));
    assert.throws(() => settledPerAccount([BASE, QUOTE], 'zz'), isMapping('MALFORMED_LOG'));
  });

  it('releases a replaced request and the unpaid part of an executed one; needs the state before the range', () => {
    const key = pairKey(A, BASE);
    const logs = [
      log('WithdrawalRequested', { trader: A, token: BASE, amount: 7n, availableAt: 0n }),
      log('WithdrawalExecuted', { trader: A, token: BASE, amount: 4n, balance: 0n }),
      log('WithdrawalRequested', { trader: A, token: BASE, amount: 2n, availableAt: 0n }),
      log('WithdrawalExecuted', { trader: A, token: BASE, amount: 0n, balance: 0n }),
    ];
    const { events, touched } = mapLogs(logs, times, new Map([[key, 5n]]));
    const ts = 1_700_000_000_000;
    assert.deepEqual(events, [
      { type: 'withdrawalCancelled', account: A, token: BASE, amount: 5n },
      { type: 'withdrawalRequested', ts, account: A, token: BASE, amount: 7n },
      { type: 'withdrawalExecuted', account: A, token: BASE, amount: 4n },
      { type: 'withdrawalCancelled', account: A, token: BASE, amount: 3n },
      { type: 'withdrawalRequested', ts, account: A, token: BASE, amount: 2n },
      { type: 'withdrawalCancelled', account: A, token: BASE, amount: 2n },
    ]);
    assert.deepEqual([...touched], [key]);
    assert.throws(() => mapLogs(logs, times, new Map()), isMapping('UNKNOWN_PENDING_WITHDRAWAL'));
    assert.throws(() => mapLogs([log('WithdrawalExecuted', { trader: A, token: BASE, amount: 9n })], times, new Map([[key, 5n]])), isMapping('MALFORMED_LOG'));
  });

  it('lower-cases addresses, stamps block time in ms, ignores administration, counts skipped fills', () => {
    const upper = `0x${'AB'.repeat(20)}`;
    const { events, skippedFills } = mapLogs(
      [
        log('Deposited', { trader: upper, token: BASE, from: B, amount: 3n, balance: 3n }),
        log('TokenListed', { token: BASE, listed: true }),
        log('FillsSkipped', { batchId: 1n, fillIndexes: [0n, 2n] }),
        log('NoncesCancelled', { trader: A, nonceFloor: 9n, effectiveAt: 0n }),
        log('OrderCancelled', { trader: A, orderHash: `0x${'EF'.repeat(32)}`, effectiveAt: 0n }),
      ],
      times,
      new Map(),
    );
    assert.deepEqual(events, [
      { type: 'deposit', account: upper.toLowerCase(), token: BASE, amount: 3n },
      { type: 'nonceFloorRaised', ts: 1_700_000_000_000, account: A, floor: 9n },
      { type: 'orderCancelled', ts: 1_700_000_000_000, account: A, orderHash: `0x${'ef'.repeat(32)}` },
    ]);
    assert.equal(skippedFills, 2);
    // The watcher's clock when it is ahead of the block: the cancels this causes must not go back in time.
    const later = mapLogs([log('NoncesCancelled', { trader: A, nonceFloor: 9n, effectiveAt: 0n })], times, new Map(), 1_800_000_000_000);
    assert.deepEqual(later.events, [{ type: 'nonceFloorRaised', ts: 1_800_000_000_000, account: A, floor: 9n }]);
    assert.throws(() => mapLogs([log('Deposited', { trader: 'x', token: BASE, amount: 1n })], times, new Map()), isMapping('MALFORMED_LOG'));
    assert.throws(() => mapLogs([log('Deposited', { trader: A, token: BASE, amount: -1n })], times, new Map()), isMapping('MALFORMED_LOG'));
    assert.throws(() => mapLogs([{ ...log('NoncesCancelled', { trader: A, nonceFloor: 1n }), blockNumber: 11n }], times, new Map()), isMapping('MISSING_BLOCK_TIME'));
  });
});

describe('skipped fills', () => {
  const order = (trader: `0x${string}`, isBuy: boolean): SignedOrder => ({
    trader,
    baseToken: BASE,
    quoteToken: QUOTE,
    isBuy,
    price: 2_000_000_000n,
    size: 10n ** 18n,
    maxFeeRate: 2_000,
    expiry: 0n,
    nonce: 1n,
    signature: `0x${'00'.repeat(65)}`,
  });
  const batch: DecodedBatch = {
    version: 1,
    tokens: [BASE, QUOTE],
    orders: [order(B, false), order(A, true)],
    fills: [
      { buyOrder: 1, sellOrder: 0, baseAmount: 10n ** 17n, price: 2_000_000_000n, buyFeeRate: 2_000, sellFeeRate: 1_000 },
      { buyOrder: 1, sellOrder: 0, baseAmount: 3n * 10n ** 17n, price: 2_000_000_000n, buyFeeRate: 2_000, sellFeeRate: 1_000 },
    ],
  };

  it('maps the skipped indexes of the calldata to what the contract would have moved, with its rounding', () => {
    // Fill 1 only: 0.3 BASE for 600_000_000 QUOTE; fees 1_200_000 (buyer) and 600_000 (seller).
    assert.deepEqual(skippedPerAccount(batch, [1n]), [
      { type: 'settlementSkipped', account: A, token: BASE, received: 3n * 10n ** 17n, paid: 0n, fees: 0n },
      { type: 'settlementSkipped', account: A, token: QUOTE, received: 0n, paid: 600_000_000n, fees: 1_200_000n },
      { type: 'settlementSkipped', account: B, token: BASE, received: 0n, paid: 3n * 10n ** 17n, fees: 0n },
      { type: 'settlementSkipped', account: B, token: QUOTE, received: 600_000_000n, paid: 0n, fees: 600_000n },
    ]);
    assert.throws(() => skippedPerAccount(batch, [2n]), isMapping('MALFORMED_LOG'));
    // A skipped fill with a maker rebate (signed rate): the rebate it would have paid comes back as received.
    const rebating: DecodedBatch = { ...batch, fills: [{ ...batch.fills[1]!, buyFeeRate: 2_000, sellFeeRate: -1_500 }] };
    assert.deepEqual(skippedPerAccount(rebating, [0n]).filter((e) => e.token === QUOTE), [
      { type: 'settlementSkipped', account: A, token: QUOTE, received: 0n, paid: 600_000_000n, fees: 1_200_000n },
      { type: 'settlementSkipped', account: B, token: QUOTE, received: 600_900_000n, paid: 0n, fees: 0n },
    ]);
    assert.throws(() => skippedPerAccount(batch, ['1']), isMapping('MALFORMED_LOG'));
  });

  it('counts a skip it cannot attribute instead of guessing', () => {
    const skip: ContractLog = { eventName: 'FillsSkipped', args: { batchId: 1n, fillIndexes: [0n, 1n] }, blockNumber: 10n, logIndex: 0, transactionHash: `0x${'01'.repeat(32)}` };
    const unknown = mapLogs([skip], times, new Map());
    assert.deepEqual([unknown.events, unknown.skippedFills, unknown.unattributedSkips], [[], 2, 2]);
    const known = mapLogs([skip], times, new Map(), 0, new Map([[skip.transactionHash!, batch]]));
    assert.equal(known.unattributedSkips, 0);
    assert.equal(known.events.length, 4);
  });
});

describe('ledger view and reconciliation', () => {
  it('follows deposits, executed withdrawals and settlements, and names every pair that differs', async () => {
    const v = new LedgerView();
    v.apply({ type: 'deposit', account: A, token: BASE, amount: 10n });
    v.apply({ type: 'withdrawalRequested', ts: 0, account: A, token: BASE, amount: 4n });
    v.apply({ type: 'withdrawalExecuted', account: A, token: BASE, amount: 4n });
    v.apply({ type: 'settled', account: A, token: BASE, received: 1n, paid: 2n, fees: 0n });
    v.apply({ type: 'settled', account: A, token: QUOTE, received: 50n, paid: 0n, fees: 3n });
    assert.equal(v.balance(A, BASE), 5n);
    assert.equal(v.balance(A, QUOTE), 47n);
    const chain = new Map([
      [pairKey(A, BASE), 5n],
      [pairKey(A, QUOTE), 48n],
    ]);
    const r = await reconcile(v, v.pairs(), 1, (a, t) => Promise.resolve(chain.get(pairKey(a, t)) ?? 0n));
    assert.equal(r.checked, 2);
    assert.deepEqual(r.drifts, [{ account: A, token: QUOTE, drift: -1n }]);
  });
});

describe('progress record', () => {
  it('round-trips and refuses anything else', () => {
    const p = { chainId: 31337, settlement: A, block: 12n, hash: `0x${'12'.repeat(32)}` } as const;
    assert.deepEqual(decodeProgress(encodeProgress(p)), p);
    for (const bad of ['', '{}', 'null', '[]', JSON.stringify({ v: 2, chainId: 1, settlement: A, block: '1', hash: p.hash }), JSON.stringify({ v: 1, chainId: 1, settlement: A, block: '01', hash: p.hash }), 'x'.repeat(600)]) {
      assert.equal(decodeProgress(Buffer.from(bad)), undefined, bad.slice(0, 40));
    }
  });
});

// fast-check arbitraries of every contract message (test support; not exported from the package index).
import fc from 'fast-check';
import type { AmendOrder, CancelAll, CancelOrder, Command, ExpireOrders, PlaceOrder } from '@parallax/order-book';
import { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import type { CommandBatch } from '../messages/commands.js';
import type { DeadLetter } from '../messages/dead-letters.js';
import type { EventBatch } from '../messages/events.js';
import type { MarketSnapshot } from '../messages/snapshots.js';
import type { SettlementStatus } from '../messages/settlement-status.js';
import { SETTLEMENT_STATUSES } from '../messages/settlement-status.js';
import type { SignedOrderRecord, SignedOrderBatch } from '../messages/signed-orders.js';
import type { AccountEventBatch } from '../messages/account-events.js';
import type { ChainEvent, ChainEventBatch, ClientRequest, RiskRequestBatch } from '../messages/risk-inputs.js';
import type { CancelRequest, PlaceRequest } from '@parallax/risk';

/** fc.record without null-prototype objects (decoders return plain objects; deepEqual compares prototypes). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

/** Non-negative safe integers, biased to the sizes that matter for varints (small, 32-bit edge, max). */
export const uintArb: fc.Arbitrary<number> = fc.oneof(
  fc.nat({ max: 300 }),
  fc.nat(),
  fc.integer({ min: 2 ** 31 - 2, max: 2 ** 32 + 2 }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 127, 128, 16383, 16384, Number.MAX_SAFE_INTEGER),
);

const sideArb = fc.constantFrom(Side.Buy, Side.Sell);
const tifArb = fc.constantFrom(TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTT);
const stpArb = fc.constantFrom(StpMode.None, StpMode.CancelNewest, StpMode.CancelOldest, StpMode.CancelBoth, StpMode.DecrementAndCancel);

export const placeArb: fc.Arbitrary<PlaceOrder> = rec({
  type: fc.constant('place' as const),
  ts: uintArb,
  orderId: uintArb,
  accountId: uintArb,
  side: sideArb,
  orderType: fc.constantFrom(OrderType.Limit, OrderType.Market),
  price: uintArb,
  size: uintArb,
  tif: tifArb,
  expiresAt: fc.oneof(fc.constant(0), uintArb),
  postOnly: fc.boolean(),
  stp: stpArb,
});
export const cancelArb: fc.Arbitrary<CancelOrder> = rec({ type: fc.constant('cancel' as const), ts: uintArb, orderId: uintArb, accountId: uintArb });
export const cancelAllArb: fc.Arbitrary<CancelAll> = rec({ type: fc.constant('cancelAll' as const), ts: uintArb, accountId: uintArb });
export const amendArb: fc.Arbitrary<AmendOrder> = rec({
  type: fc.constant('amend' as const),
  ts: uintArb,
  orderId: uintArb,
  accountId: uintArb,
  price: uintArb,
  size: uintArb,
});
export const expireArb: fc.Arbitrary<ExpireOrders> = rec({ type: fc.constant('expire' as const), ts: uintArb });
export const commandArb: fc.Arbitrary<Command> = fc.oneof(placeArb, cancelArb, cancelAllArb, amendArb, expireArb);

export const commandBatchArb: fc.Arbitrary<CommandBatch> = rec({
  marketId: uintArb,
  sentAtMs: uintArb,
  commands: fc.array(commandArb, { minLength: 1, maxLength: 40 }),
});

const hashArb = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
const safeAdd = (a: number, b: number): boolean => a <= Number.MAX_SAFE_INTEGER - b;

export const eventBatchArb: fc.Arbitrary<EventBatch> = fc
  .record({
    marketId: uintArb,
    inputPartition: uintArb,
    inputOffset: uintArb,
    firstSeq: uintArb.map((x) => Math.max(1, x)),
    eventCount: fc.oneof(fc.integer({ min: 1, max: 500 }), uintArb.map((x) => Math.max(1, x))),
    stateHash: hashArb,
    sentAtMs: uintArb,
    events: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  })
  .filter((b) => safeAdd(b.firstSeq, b.eventCount - 1))
  .map((b) => ({ ...b, lastSeq: b.firstSeq + b.eventCount - 1 }));

export const snapshotArb: fc.Arbitrary<MarketSnapshot> = rec({
  marketId: uintArb,
  inputPartition: uintArb,
  nextOffset: uintArb,
  lastSeq: uintArb,
  stateHash: hashArb,
  book: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  partitionMarkets: uintArb.map((x) => Math.max(1, x)),
});

const topicArb = fc.string({ unit: fc.constantFrom(...'abcXYZ019._-'.split('')), minLength: 1, maxLength: 60 }).filter((s) => s !== '.' && s !== '..');
export const deadLetterArb: fc.Arbitrary<DeadLetter> = rec({
  reason: fc.constantFrom('MALFORMED_MESSAGE', 'UNKNOWN_MARKET', 'WRONG_PARTITION', 'ENGINE_ERROR', 'X', 'A_1'),
  detail: fc.string({ unit: 'grapheme', maxLength: 200 }),
  topic: topicArb,
  partition: uintArb,
  offset: uintArb,
  key: fc.option(fc.string({ unit: 'grapheme', maxLength: 50 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 300 }),
});

/** Unsigned bigints of at most `bits` bits, biased to byte-length edges. */
export function bigUintArb(bits: number, min = 0n): fc.Arbitrary<bigint> {
  const max = (1n << BigInt(bits)) - 1n;
  return fc.oneof(
    fc.bigInt({ min, max }),
    fc.bigInt({ min, max: min + 70_000n }),
    fc.nat({ max: bits / 8 }).map((bytes) => (1n << BigInt(8 * bytes)) - 1n).filter((x) => x >= min),
    fc.nat({ max: bits / 8 - 1 }).map((bytes) => 1n << BigInt(8 * bytes)).filter((x) => x >= min),
    fc.constant(max),
  );
}

const lowerHexArb = (bytes: number): fc.Arbitrary<`0x${string}`> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString('hex')}` as const);

export const signedOrderRecordArb: fc.Arbitrary<SignedOrderRecord> = rec({
  orderId: uintArb,
  accountId: uintArb,
  trader: lowerHexArb(20),
  isBuy: fc.boolean(),
  price: bigUintArb(128),
  size: bigUintArb(128, 1n),
  maxFeeRate: fc.oneof(fc.constantFrom(0, 100_000), fc.nat({ max: 100_000 })),
  // Expiry stops at 2^63 - 1 (MAX_SIGNED_ORDER_EXPIRY): what a signed BIGINT column holds.
  expiry: bigUintArb(64).map((x) => x >> 1n),
  nonce: bigUintArb(64),
  signature: lowerHexArb(65),
});

export const signedOrderBatchArb: fc.Arbitrary<SignedOrderBatch> = rec({
  marketId: uintArb,
  orders: fc.array(signedOrderRecordArb, { minLength: 1, maxLength: 6 }),
});

export const settlementStatusArb: fc.Arbitrary<SettlementStatus> = fc.record(
  {
    batchId: bigUintArb(64),
    status: fc.constantFrom(...SETTLEMENT_STATUSES),
    atMs: uintArb,
    fillCount: uintArb,
    txHash: lowerHexArb(32),
    nonce: uintArb,
    blockNumber: bigUintArb(64),
    gasUsed: bigUintArb(64),
    gasPerFill: bigUintArb(64),
    failedFills: fc.array(
      rec({
        marketId: uintArb,
        seq: uintArb,
        reason: fc.constantFrom('PRICE_LIMIT_EXCEEDED', 'PriceLimitExceeded', 'InvalidSignature', 'X', 'UNKNOWN_ORDER', 'a_1'),
        detail: fc.string({ unit: 'grapheme', maxLength: 80 }),
      }),
      { maxLength: 5 },
    ),
  },
  { requiredKeys: ['batchId', 'status', 'atMs', 'fillCount', 'failedFills'], noNullPrototype: true },
);

const addressArb = lowerHexArb(20);

const clientRequestArb: fc.Arbitrary<ClientRequest> = fc.oneof(
  fc
    .record(
      {
        ts: uintArb,
        account: addressArb,
        otherSigner: fc.option(addressArb, { nil: undefined }),
        marketId: uintArb,
        orderType: fc.constantFrom(OrderType.Limit, OrderType.Market),
        tif: tifArb,
        expiresAt: uintArb,
        postOnly: fc.boolean(),
        stp: stpArb,
        baseToken: addressArb,
        quoteToken: addressArb,
        isBuy: fc.boolean(),
        price: bigUintArb(128),
        size: bigUintArb(128),
        maxFeeRate: fc.integer({ min: 0, max: 100_000 }),
        expiry: bigUintArb(64),
        nonce: bigUintArb(64),
        signature: lowerHexArb(65),
      },
      { noNullPrototype: true },
    )
    .map((p): PlaceRequest => ({
      type: 'place',
      ts: p.ts,
      account: p.account,
      signer: p.otherSigner !== undefined && p.otherSigner !== p.account ? p.otherSigner : p.account,
      marketId: p.marketId,
      orderType: p.orderType,
      tif: p.tif,
      expiresAt: p.expiresAt,
      postOnly: p.postOnly,
      stp: p.stp,
      order: {
        trader: p.account,
        baseToken: p.baseToken,
        quoteToken: p.quoteToken,
        isBuy: p.isBuy,
        price: p.price,
        size: p.size,
        maxFeeRate: p.maxFeeRate,
        expiry: p.expiry,
        nonce: p.nonce,
        signature: p.signature,
      },
    })),
  fc
    .record({ ts: uintArb, account: addressArb, otherSigner: fc.option(addressArb, { nil: undefined }), orderId: uintArb }, { noNullPrototype: true })
    .map(
      (c): CancelRequest => ({
        type: 'cancel',
        ts: c.ts,
        account: c.account,
        signer: c.otherSigner !== undefined && c.otherSigner !== c.account ? c.otherSigner : c.account,
        orderId: c.orderId,
      }),
    ),
);

const chainEventArb: fc.Arbitrary<ChainEvent> = fc.oneof(
  rec({ type: fc.constantFrom('deposit' as const, 'withdrawalCancelled' as const, 'withdrawalExecuted' as const), account: addressArb, token: addressArb, amount: bigUintArb(128) }),
  rec({ type: fc.constant('withdrawalRequested' as const), ts: uintArb, account: addressArb, token: addressArb, amount: bigUintArb(128) }),
  rec({ type: fc.constantFrom('settled' as const, 'settlementSkipped' as const), account: addressArb, token: addressArb, received: bigUintArb(128), paid: bigUintArb(128), fees: bigUintArb(128) }),
  rec({ type: fc.constantFrom('keyAuthorized' as const, 'keyRevoked' as const), account: addressArb, key: addressArb }),
  rec({ type: fc.constant('nonceCancelled' as const), ts: uintArb, account: addressArb, nonce: bigUintArb(64) }),
  rec({ type: fc.constant('nonceFloorRaised' as const), ts: uintArb, account: addressArb, floor: bigUintArb(64) }),
  rec({ type: fc.constant('orderCancelled' as const), ts: uintArb, account: addressArb, orderHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as const) }),
);

export const riskRequestBatchArb: fc.Arbitrary<RiskRequestBatch> = rec({
  sentAtMs: uintArb,
  requests: fc.array(clientRequestArb, { minLength: 1, maxLength: 5 }),
});

export const chainEventBatchArb: fc.Arbitrary<ChainEventBatch> = rec({
  sentAtMs: uintArb,
  events: fc.array(chainEventArb, { minLength: 1, maxLength: 6 }),
});

export const accountEventBatchArb: fc.Arbitrary<AccountEventBatch> = fc
  .record({ marketId: uintArb, inputPartition: uintArb, inputOffset: uintArb, sentAtMs: uintArb, events: fc.uint8Array({ minLength: 1, maxLength: 40 }) }, { noNullPrototype: true })
  .map((b) => b);

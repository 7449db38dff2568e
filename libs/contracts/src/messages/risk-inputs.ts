// The two inputs of the account shards (apps/risk), both partitioned by account (partition =
// shardForAccount(account, P), key = the first record's account; every record of a message belongs to
// that partition's shard, which refuses others with WRONG_SHARD):
//
//   `requests`      RiskRequestBatch  (type 7): what traders send through the gateway: new orders with
//                                               their signed order, cancels.
//   `chain-events`  ChainEventBatch   (type 9): what the chain watcher confirmed: deposits, withdrawal
//                                               requests / cancellations / executions, settled amounts,
//                                               trading keys, on-chain nonce cancellations.
//
// Body: sentAtMs, record count (1..MAX_RISK_RECORDS), then per record a tag byte and its fields. Addresses
// are 20 raw bytes (decoded lower-case), amounts big uints (wire.ts), integers varints.
//   1 place       ts, account, signer?, marketId, flags, expiresAt, baseToken, quoteToken, price(16),
//                 size(16), maxFeeRate, expiry(8), nonce(8), signature(65 raw bytes)
//                 flags: bit 0 orderType, bits 1-2 tif, bit 3 postOnly, bits 4-6 stp, bit 7 isBuy
//   2 cancel      ts, account, signer?, orderId
//   3 deposit               account, token, amount(16)
//   4 withdrawalRequested   ts, account, token, amount(16)
//   5 withdrawalCancelled   account, token, amount(16)
//   6 withdrawalExecuted    account, token, amount(16)
//   7 settled               account, token, received(16), paid(16), fees(16)
//   8 keyAuthorized         account, key
//   9 keyRevoked            account, key
//  10 nonceCancelled        ts, account, nonce(8)
//  11 nonceFloorRaised      ts, account, floor(8)                      (version 2)
//  12 orderCancelled        ts, account, orderHash(32 raw bytes)       (version 2)
//  13 settlementSkipped     account, token, received(16), paid(16), fees(16)   (version 2)
// Version 2 (the chain watcher's kinds of the contract's NoncesCancelled, OrderCancelled and FillsSkipped
// events) only adds tags; a version 1 frame carrying tag 11..13 is refused, and version 1 frames stay readable.
// signer?: a byte 0 (the account signed) or 1 followed by the signing key's address. In a place record, bit 1 of
// that byte (0x02) says the record ends with the trader's client order id (a length byte and 1..36 ASCII
// [A-Za-z0-9_-], client-order-id.ts) after the signature.
// The signed order's trader is not sent: it is the account (an order signed for someone else cannot even be
// expressed). The contract checks shape and ranges only; whether a request is acceptable (funds, nonce,
// expiry, tokens of the market...) is the risk engine's answer, with its own stable codes.
import type {
  CancelRequest,
  Deposit,
  KeyAuthorized,
  KeyRevoked,
  NonceCancelled,
  PlaceRequest,
  Settled,
  SettlementSkipped,
  WithdrawalCancelled,
  WithdrawalExecuted,
  WithdrawalRequested,
} from '@parallax/risk';
import type { OrderType, StpMode, TimeInForce } from '@parallax/order-book';
import { ContractError } from '../errors.js';
import { readClientOrderId, writeClientOrderId } from './client-order-id.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MessageType, readBigUint, readHexBytes, writeBigUint, writeHexBytes } from '../wire.js';

export type ClientRequest = PlaceRequest | CancelRequest;

/**
 * The trader raised its on-chain nonce floor (`cancelNoncesBelow`): every order of the account with a nonce
 * below `floor` is dead once the contract's cancel delay has passed. `ts` is the block time in ms.
 */
export interface NonceFloorRaised {
  readonly type: 'nonceFloorRaised';
  readonly ts: number;
  readonly account: `0x${string}`;
  readonly floor: bigint;
}

/** The trader cancelled one of its orders on chain by EIP-712 order hash (`cancelOrder`). `ts`: block time, ms. */
export interface OrderCancelledOnChain {
  readonly type: 'orderCancelled';
  readonly ts: number;
  readonly account: `0x${string}`;
  readonly orderHash: `0x${string}`;
}

/** SettlementSkipped (the risk engine's type, where what the ledger does with it is documented). */
export type { SettlementSkipped };

export type ChainEvent =
  | Deposit
  | WithdrawalRequested
  | WithdrawalCancelled
  | WithdrawalExecuted
  | Settled
  | KeyAuthorized
  | KeyRevoked
  | NonceCancelled
  | NonceFloorRaised
  | OrderCancelledOnChain
  | SettlementSkipped;

export interface RiskRequestBatch {
  /** Producer wall clock (ms), for latency metrics only. */
  readonly sentAtMs: number;
  readonly requests: readonly ClientRequest[];
}

export interface ChainEventBatch {
  readonly sentAtMs: number;
  readonly events: readonly ChainEvent[];
}

export const MAX_RISK_RECORDS = 65_535;
/** The settlement contract's MAX_FEE_RATE: a larger signed bound is malformed, not merely refused. */
const MAX_FEE_RATE = 100_000;

const TAG = {
  place: 1,
  cancel: 2,
  deposit: 3,
  withdrawalRequested: 4,
  withdrawalCancelled: 5,
  withdrawalExecuted: 6,
  settled: 7,
  keyAuthorized: 8,
  keyRevoked: 9,
  nonceCancelled: 10,
  nonceFloorRaised: 11,
  orderCancelled: 12,
  settlementSkipped: 13,
} as const;

const shared = new ContractWriter();

type FieldKind = 'address' | 'uint128' | 'uint64' | 'hash32';

/**
 * The layout of every chain event after its tag: ts (when it has one), account, then these fields. One
 * table for the encoder and the decoder, so a kind cannot be written one way and read another.
 */
const CHAIN_RECORDS: readonly { readonly type: ChainEvent['type']; readonly ts: boolean; readonly fields: readonly (readonly [string, FieldKind])[] }[] = [
  { type: 'deposit', ts: false, fields: [['token', 'address'], ['amount', 'uint128']] },
  { type: 'withdrawalRequested', ts: true, fields: [['token', 'address'], ['amount', 'uint128']] },
  { type: 'withdrawalCancelled', ts: false, fields: [['token', 'address'], ['amount', 'uint128']] },
  { type: 'withdrawalExecuted', ts: false, fields: [['token', 'address'], ['amount', 'uint128']] },
  { type: 'settled', ts: false, fields: [['token', 'address'], ['received', 'uint128'], ['paid', 'uint128'], ['fees', 'uint128']] },
  { type: 'keyAuthorized', ts: false, fields: [['key', 'address']] },
  { type: 'keyRevoked', ts: false, fields: [['key', 'address']] },
  { type: 'nonceCancelled', ts: true, fields: [['nonce', 'uint64']] },
  { type: 'nonceFloorRaised', ts: true, fields: [['floor', 'uint64']] },
  { type: 'orderCancelled', ts: true, fields: [['orderHash', 'hash32']] },
  { type: 'settlementSkipped', ts: false, fields: [['token', 'address'], ['received', 'uint128'], ['paid', 'uint128'], ['fees', 'uint128']] },
];
const CHAIN_BY_TYPE = new Map(CHAIN_RECORDS.map((l) => [l.type, { ...l, tag: TAG[l.type] }]));
const CHAIN_BY_TAG: Partial<Record<number, (typeof CHAIN_RECORDS)[number]>> = Object.fromEntries(CHAIN_RECORDS.map((l) => [TAG[l.type], l]));

function writeHexOrUint(w: ContractWriter, v: unknown, kind: Exclude<FieldKind, 'address'>, field: string): void {
  if (kind === 'hash32') writeHexBytes(w, v as string, 32, field);
  else writeBigUint(w, v as bigint, kind === 'uint128' ? 16 : 8, field);
}

function addr(w: ContractWriter, a: string, field: string): void {
  writeHexBytes(w, a, 20, field);
}

function signer(w: ContractWriter, account: string, s: string, extra = 0): void {
  if (typeof s === 'string' && typeof account === 'string' && s.toLowerCase() === account.toLowerCase()) {
    w.byte(extra);
  } else {
    w.byte(1 | extra);
    addr(w, s, 'signer');
  }
}

/** Bit 1 of a place record's signer byte: the record ends with a client order id. */
const SIGNER_CLIENT_ID = 0x02;

function writeRecord(w: ContractWriter, r: ClientRequest | ChainEvent, allowed: 'requests' | 'chain'): void {
  w.ensure(8);
  const type = (r as { type: unknown }).type;
  const isRequest = type === 'place' || type === 'cancel';
  if (isRequest !== (allowed === 'requests')) invalidField('type', type, allowed === 'requests' ? "'place' | 'cancel'" : 'a chain event type');
  if (r.type === 'place') {
    w.byte(TAG.place);
    w.uint(checkUint(r.ts, 'ts'));
    addr(w, r.account, 'account');
    signer(w, r.account, r.signer, r.clientOrderId === undefined ? 0 : SIGNER_CLIENT_ID);
    w.uint(checkUint(r.marketId, 'marketId'));
    const o = r.order as PlaceRequest['order'] | undefined;
    if (typeof o !== 'object') invalidField('order', o, 'a signed order');
    if (typeof o.trader !== 'string' || typeof r.account !== 'string' || o.trader.toLowerCase() !== r.account.toLowerCase()) {
      invalidField('order.trader', o.trader, 'the account (an order is signed for the account that sends it)');
    }
    w.byte(placeFlags(r));
    w.uint(checkUint(r.expiresAt, 'expiresAt'));
    addr(w, o.baseToken, 'order.baseToken');
    addr(w, o.quoteToken, 'order.quoteToken');
    writeBigUint(w, o.price, 16, 'order.price');
    writeBigUint(w, o.size, 16, 'order.size');
    if (checkUint(o.maxFeeRate, 'order.maxFeeRate') > MAX_FEE_RATE) invalidField('order.maxFeeRate', o.maxFeeRate, `at most ${MAX_FEE_RATE}`);
    w.uint(o.maxFeeRate);
    writeBigUint(w, o.expiry, 8, 'order.expiry');
    writeBigUint(w, o.nonce, 8, 'order.nonce');
    writeHexBytes(w, o.signature, 65, 'order.signature');
    if (r.clientOrderId !== undefined) writeClientOrderId(w, r.clientOrderId);
    return;
  }
  if (r.type === 'cancel') {
    w.byte(TAG.cancel);
    w.uint(checkUint(r.ts, 'ts'));
    addr(w, r.account, 'account');
    signer(w, r.account, r.signer);
    w.uint(checkUint(r.orderId, 'orderId'));
    return;
  }
  // Every chain event: one layout table (CHAIN_RECORDS) for both directions.
  const layout = CHAIN_BY_TYPE.get(type as ChainEvent['type']);
  if (layout === undefined) invalidField('type', type, 'a risk request or chain event type');
  const rec = r as unknown as Record<string, unknown>;
  w.byte(layout.tag);
  if (layout.ts) w.uint(checkUint(rec.ts as number, 'ts'));
  addr(w, rec.account as string, 'account');
  for (const [name, kind] of layout.fields) {
    if (kind === 'address') addr(w, rec[name] as string, name);
    else writeHexOrUint(w, rec[name], kind, name);
  }
}

function placeFlags(r: PlaceRequest): number {
  const orderType: number = r.orderType;
  const tif: number = r.tif;
  const stp: number = r.stp;
  if (orderType !== 0 && orderType !== 1) invalidField('orderType', orderType, 'OrderType (0 | 1)');
  if (!(tif >= 0 && tif <= 3 && (tif | 0) === tif)) invalidField('tif', tif, 'TimeInForce (0..3)');
  if (!(stp >= 0 && stp <= 4 && (stp | 0) === stp)) invalidField('stp', stp, 'StpMode (0..4)');
  if (typeof r.postOnly !== 'boolean') invalidField('postOnly', r.postOnly, 'a boolean');
  if (typeof r.order.isBuy !== 'boolean') invalidField('order.isBuy', r.order.isBuy, 'a boolean');
  return orderType | (tif << 1) | (r.postOnly ? 0x08 : 0) | (stp << 4) | (r.order.isBuy ? 0x80 : 0);
}

function encodeBatch(type: MessageType, sentAtMs: number, records: unknown, allowed: 'requests' | 'chain', what: string): Uint8Array {
  const w = shared;
  w.reset();
  w.header(type);
  if (!Array.isArray(records)) invalidField(allowed === 'requests' ? 'requests' : 'events', records, 'an array');
  const list = records as readonly (ClientRequest | ChainEvent)[];
  if (list.length > MAX_RISK_RECORDS) throw new ContractError('MESSAGE_TOO_LARGE', `a ${what} carries at most ${MAX_RISK_RECORDS} records, got ${list.length}`);
  if (list.length === 0) invalidField('records', 0, 'a non-empty list');
  w.uint(checkUint(sentAtMs, 'sentAtMs'));
  w.uint(list.length);
  for (const r of list) writeRecord(w, r, allowed);
  return w.finish(what);
}

export function encodeRiskRequestBatch(b: RiskRequestBatch): Uint8Array {
  return encodeBatch(MessageType.RiskRequestBatch, b.sentAtMs, b.requests, 'requests', 'risk request batch');
}

export function encodeChainEventBatch(b: ChainEventBatch): Uint8Array {
  return encodeBatch(MessageType.ChainEventBatch, b.sentAtMs, b.events, 'chain', 'chain event batch');
}

function readSigner(r: ContractReader, account: `0x${string}`, flag = r.byte()): `0x${string}` {
  if (flag === 0) return account;
  if (flag !== 1) r.fail('MALFORMED_MESSAGE', `signer flag ${flag}`);
  const s = readHexBytes(r, 20, 'signer');
  if (s === account) r.fail('MALFORMED_MESSAGE', 'non-canonical signer (the account itself)');
  return s;
}

function readRecord(r: ContractReader, allowed: 'requests' | 'chain'): ClientRequest | ChainEvent {
  const tag = r.byte();
  const isRequest = tag === TAG.place || tag === TAG.cancel;
  if (tag < 1 || tag > 13 || isRequest !== (allowed === 'requests')) r.fail('INVALID_FIELD', `record tag ${tag} does not belong in ${allowed === 'requests' ? 'requests' : 'chain events'}`);
  if (tag > 10 && r.version < 2) r.fail('INVALID_FIELD', `record tag ${tag} does not exist in version ${r.version}`);
  switch (tag) {
    case TAG.place: {
      const ts = r.uint();
      const account = readHexBytes(r, 20, 'account');
      const signerFlag = r.byte();
      const s = readSigner(r, account, signerFlag & ~SIGNER_CLIENT_ID);
      const marketId = r.uint();
      const flags = r.byte();
      const tif = (flags >>> 1) & 3;
      const stp = (flags >>> 4) & 7;
      if (stp > 4) r.fail('INVALID_FIELD', `stp ${stp} is not a StpMode`);
      const expiresAt = r.uint();
      const baseToken = readHexBytes(r, 20, 'order.baseToken');
      const quoteToken = readHexBytes(r, 20, 'order.quoteToken');
      const price = readBigUint(r, 16, 'order.price');
      const size = readBigUint(r, 16, 'order.size');
      const maxFeeRate = r.uint();
      if (maxFeeRate > MAX_FEE_RATE) r.fail('INVALID_FIELD', `maxFeeRate ${maxFeeRate} exceeds ${MAX_FEE_RATE}`);
      const expiry = readBigUint(r, 8, 'order.expiry');
      const nonce = readBigUint(r, 8, 'order.nonce');
      const signature = readHexBytes(r, 65, 'order.signature');
      const clientOrderId = (signerFlag & SIGNER_CLIENT_ID) === 0 ? undefined : readClientOrderId(r);
      const req: PlaceRequest = {
        type: 'place',
        ts,
        account,
        signer: s,
        marketId,
        orderType: (flags & 1) as OrderType,
        tif: tif as TimeInForce,
        expiresAt,
        postOnly: (flags & 0x08) !== 0,
        stp: stp as StpMode,
        order: { trader: account, baseToken, quoteToken, isBuy: (flags & 0x80) !== 0, price, size, maxFeeRate, expiry, nonce, signature },
        ...(clientOrderId === undefined ? {} : { clientOrderId }),
      };
      return req;
    }
    case TAG.cancel: {
      const ts = r.uint();
      const account = readHexBytes(r, 20, 'account');
      const s = readSigner(r, account);
      return { type: 'cancel', ts, account, signer: s, orderId: r.uint() };
    }
    default: {
      const layout = CHAIN_BY_TAG[tag]!;
      const rec: Record<string, unknown> = { type: layout.type };
      if (layout.ts) rec.ts = r.uint();
      rec.account = readHexBytes(r, 20, 'account');
      for (const [name, kind] of layout.fields) rec[name] = kind === 'address' ? readHexBytes(r, 20, name) : kind === 'hash32' ? readHexBytes(r, 32, name) : readBigUint(r, kind === 'uint128' ? 16 : 8, name);
      return rec as unknown as ChainEvent;
    }
  }
}

function decodeBatch(bytes: Uint8Array, type: MessageType, allowed: 'requests' | 'chain'): { sentAtMs: number; records: (ClientRequest | ChainEvent)[] } {
  const r = new ContractReader(bytes, type);
  const sentAtMs = r.uint();
  const n = r.uint();
  if (n > MAX_RISK_RECORDS) r.fail('MESSAGE_TOO_LARGE', `record count ${n} exceeds ${MAX_RISK_RECORDS}`);
  if (n === 0) r.fail('INVALID_FIELD', 'a batch carries at least one record');
  // The smallest record (a nonce cancellation of nonce 0) takes 23 bytes: refuse absurd counts before looping.
  if (n * 23 > r.remaining) r.fail('MALFORMED_MESSAGE', `record count ${n} does not fit in ${r.remaining} bytes`);
  const records: (ClientRequest | ChainEvent)[] = [];
  for (let i = 0; i < n; i++) records.push(readRecord(r, allowed));
  r.end();
  return { sentAtMs, records };
}

/** Inverse of encodeRiskRequestBatch. Throws ContractError on any invalid input, never anything else. */
export function decodeRiskRequestBatch(bytes: Uint8Array): RiskRequestBatch {
  const { sentAtMs, records } = decodeBatch(bytes, MessageType.RiskRequestBatch, 'requests');
  return { sentAtMs, requests: records as ClientRequest[] };
}

/** Inverse of encodeChainEventBatch. Throws ContractError on any invalid input, never anything else. */
export function decodeChainEventBatch(bytes: Uint8Array): ChainEventBatch {
  const { sentAtMs, records } = decodeBatch(bytes, MessageType.ChainEventBatch, 'chain');
  return { sentAtMs, events: records as ChainEvent[] };
}

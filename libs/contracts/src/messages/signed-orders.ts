// `signedOrders` topic (key = marketKey, partition = partitionForMarket, like `orders`): the trader-signed
// settlement order behind each accepted place command, written by the ingest BEFORE the command so that
// the settlement service knows both orders of a trade by the time the trade exists.
//
// Body: marketId, record count (1..65,535), then per record:
//   orderId, accountId                     varints
//   trader                                 20 raw bytes
//   flags                                  1 byte: bit 0 isBuy, bit 1 a client order id follows, bits 2-7 zero
//   price                                  big uint, <= 16 bytes
//   size                                   big uint, 1..16 bytes (size > 0)
//   maxFeeRate                             varint, <= MAX_SIGNED_ORDER_FEE_RATE
//   expiry, nonce                          big uints, <= 8 bytes each; expiry <= MAX_SIGNED_ORDER_EXPIRY
//   signature                              65 raw bytes (r, s, v as signed)
//   clientOrderId                          when flag bit 1: a length byte and 1..36 ASCII [A-Za-z0-9_-]
// A big uint is a length byte and that many big-endian bytes with no leading zero byte (0 is the length
// byte alone). A record with typical values takes ~116 bytes, most of it the address and the signature.
//
// The record carries no base/quote token: the market's settlement config supplies them (they are part of
// the signed EIP-712 order). The contract checks shape and ranges only; the signature is verified on
// chain (and may be by the consumer), not here.
import { ContractError } from '../errors.js';
import { readClientOrderId, writeClientOrderId } from './client-order-id.js';
import { checkUint, ContractReader, ContractWriter, invalidField, MessageType, readBigUint, readHexBytes, writeBigUint, writeHexBytes } from '../wire.js';

export interface SignedOrderRecord {
  /** The engine's order id (unique per market, never reused): links the record to the place command. */
  readonly orderId: number;
  readonly accountId: number;
  /** The signer's address (20 bytes; decoded lower-case). */
  readonly trader: `0x${string}`;
  readonly isBuy: boolean;
  /** Limit price in contract units (quote base units per 1e18 base units), uint128. */
  readonly price: bigint;
  /** Size in base-token base units, uint128, > 0. */
  readonly size: bigint;
  /** Signed fee bound in millionths of the quote amount, <= MAX_SIGNED_ORDER_FEE_RATE. */
  readonly maxFeeRate: number;
  /** Unix seconds, <= MAX_SIGNED_ORDER_EXPIRY (2^63 - 1: stored as a signed 64-bit integer). */
  readonly expiry: bigint;
  /** uint64. */
  readonly nonce: bigint;
  /** 65-byte signature over the EIP-712 order (decoded lower-case). */
  readonly signature: `0x${string}`;
  /** The trader's own id for the order, when it gave one (absent otherwise). */
  readonly clientOrderId?: string;
}

export interface SignedOrderBatch {
  readonly marketId: number;
  /** At least 1, at most MAX_SIGNED_ORDERS_PER_BATCH. */
  readonly orders: readonly SignedOrderRecord[];
}

export const MAX_SIGNED_ORDERS_PER_BATCH = 65_535;
/** The settlement contract's MAX_FEE_RATE (10%): a higher signed bound could never be charged. */
export const MAX_SIGNED_ORDER_FEE_RATE = 100_000;
/**
 * The largest expiry a record may carry. The contract takes a uint64, but consumers store it as PostgreSQL's
 * BIGINT (signed): a larger value would pass here and then fail every insert of its batch, halting the
 * partition. 2^63 - 1 seconds is ~292 billion years: no honest order needs more.
 */
export const MAX_SIGNED_ORDER_EXPIRY = (1n << 63n) - 1n;

const FLAG_BUY = 0x01;
const FLAG_CLIENT_ID = 0x02;
// Smallest record: 1 + 1 + 20 + 1 + 1 + 2 + 1 + 1 + 1 + 65.
const MIN_RECORD_BYTES = 94;

const shared = new ContractWriter();

/** Deterministic bytes of a signed order batch. Throws ContractError (INVALID_FIELD, MESSAGE_TOO_LARGE). */
export function encodeSignedOrderBatch(batch: SignedOrderBatch): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.SignedOrderBatch);
  const orders = batch.orders;
  if (!Array.isArray(orders)) invalidField('orders', orders, 'an array');
  const n = orders.length;
  if (n > MAX_SIGNED_ORDERS_PER_BATCH) {
    throw new ContractError('MESSAGE_TOO_LARGE', `a signed order batch carries at most ${MAX_SIGNED_ORDERS_PER_BATCH} orders, got ${n}`);
  }
  if (n === 0) invalidField('orders', n, 'a non-empty list (got 0 orders)');
  w.uint(checkUint(batch.marketId, 'marketId'));
  w.uint(n);
  for (let i = 0; i < n; i++) {
    const o = orders[i] as SignedOrderRecord;
    w.uint(checkUint(o.orderId, 'orderId'));
    w.uint(checkUint(o.accountId, 'accountId'));
    writeHexBytes(w, o.trader, 20, 'trader');
    if (typeof o.isBuy !== 'boolean') invalidField('isBuy', o.isBuy, 'a boolean');
    w.byte((o.isBuy ? FLAG_BUY : 0) | (o.clientOrderId === undefined ? 0 : FLAG_CLIENT_ID));
    writeBigUint(w, o.price, 16, 'price');
    if (typeof o.size === 'bigint' && o.size === 0n) invalidField('size', o.size, 'a positive uint128 bigint');
    writeBigUint(w, o.size, 16, 'size');
    if (checkUint(o.maxFeeRate, 'maxFeeRate') > MAX_SIGNED_ORDER_FEE_RATE) invalidField('maxFeeRate', o.maxFeeRate, `at most ${MAX_SIGNED_ORDER_FEE_RATE}`);
    w.uint(o.maxFeeRate);
    writeBigUint(w, o.expiry, 8, 'expiry');
    if (o.expiry > MAX_SIGNED_ORDER_EXPIRY) invalidField('expiry', o.expiry, `at most ${MAX_SIGNED_ORDER_EXPIRY} (2^63 - 1)`);
    writeBigUint(w, o.nonce, 8, 'nonce');
    writeHexBytes(w, o.signature, 65, 'signature');
    if (o.clientOrderId !== undefined) writeClientOrderId(w, o.clientOrderId);
  }
  return w.finish('signed order batch');
}

/** Inverse of encodeSignedOrderBatch. Throws ContractError on any invalid input, never anything else. */
export function decodeSignedOrderBatch(bytes: Uint8Array): SignedOrderBatch {
  const r = new ContractReader(bytes, MessageType.SignedOrderBatch);
  const marketId = r.uint();
  const n = r.uint();
  if (n > MAX_SIGNED_ORDERS_PER_BATCH) r.fail('MESSAGE_TOO_LARGE', `order count ${n} exceeds ${MAX_SIGNED_ORDERS_PER_BATCH}`);
  if (n === 0) r.fail('INVALID_FIELD', 'a signed order batch carries at least one order');
  if (n * MIN_RECORD_BYTES > r.remaining) r.fail('MALFORMED_MESSAGE', `order count ${n} does not fit in ${r.remaining} bytes`);
  const orders: SignedOrderRecord[] = [];
  for (let i = 0; i < n; i++) {
    const orderId = r.uint();
    const accountId = r.uint();
    const trader = readHexBytes(r, 20, 'trader');
    const flags = r.byte();
    if ((flags & ~(FLAG_BUY | FLAG_CLIENT_ID)) !== 0) r.fail('MALFORMED_MESSAGE', `reserved bits set in order flags 0x${flags.toString(16)}`);
    const price = readBigUint(r, 16, 'price');
    const size = readBigUint(r, 16, 'size');
    if (size === 0n) r.fail('INVALID_FIELD', 'size must be positive');
    const maxFeeRate = r.uint();
    if (maxFeeRate > MAX_SIGNED_ORDER_FEE_RATE) r.fail('INVALID_FIELD', `maxFeeRate ${maxFeeRate} exceeds ${MAX_SIGNED_ORDER_FEE_RATE}`);
    const expiry = readBigUint(r, 8, 'expiry');
    if (expiry > MAX_SIGNED_ORDER_EXPIRY) r.fail('INVALID_FIELD', `expiry ${expiry} exceeds ${MAX_SIGNED_ORDER_EXPIRY} (2^63 - 1)`);
    const nonce = readBigUint(r, 8, 'nonce');
    const signature = readHexBytes(r, 65, 'signature');
    const isBuy = (flags & FLAG_BUY) !== 0;
    if ((flags & FLAG_CLIENT_ID) === 0) orders.push({ orderId, accountId, trader, isBuy, price, size, maxFeeRate, expiry, nonce, signature });
    else orders.push({ orderId, accountId, trader, isBuy, price, size, maxFeeRate, expiry, nonce, signature, clientOrderId: readClientOrderId(r) });
  }
  r.end();
  return { marketId, orders };
}

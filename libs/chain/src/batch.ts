import { bytesToHex, getAddress, hexToBytes, type Address, type Hex } from 'viem';
import { BATCH_LAYOUT, BATCH_VERSION, MAX_FEE_RATE } from './constants.js';
import { ChainError } from './errors.js';
import { assertOrder, hashOrder, splitSignature, type SettlementDomain, type SignedOrder } from './order.js';

/** One fill of a batch: `baseAmount` of base moves seller -> buyer at `price` (PRICE_SCALE units). */
export interface BatchFill {
  /** Index of the buy order in the batch's orders. */
  readonly buyOrder: number;
  /** Index of the sell order in the batch's orders. */
  readonly sellOrder: number;
  readonly baseAmount: bigint;
  readonly price: bigint;
  /**
   * Signed rate of the buyer, millionths of the quote amount: >= 0 a fee (at most the buy order's maxFeeRate),
   * < 0 a rebate paid to the buyer (bounded by the seller's fee in the same fill; see fees.ts).
   */
  readonly buyFeeRate?: number;
  /** Signed rate of the seller, as buyFeeRate. */
  readonly sellFeeRate?: number;
}

export interface BatchInput {
  readonly domain: SettlementDomain;
  readonly orders: readonly SignedOrder[];
  readonly fills: readonly BatchFill[];
}

export interface EncodedBatch {
  /** The `batch` argument of settleBatch(batchId, batch). */
  readonly data: Hex;
  readonly tokens: readonly Address[];
  /** The orders in encoded order (sorted by hash). A contract error's orderIndex points into this list. */
  readonly orders: readonly SignedOrder[];
  readonly orderHashes: readonly Hex[];
  /** orderPosition[i] is the encoded index of input order i. */
  readonly orderPosition: readonly number[];
  /** The fills in input order (a contract error's fillIndex points here), with encoded order indexes. */
  readonly fills: readonly DecodedFill[];
}

export interface DecodedFill {
  readonly buyOrder: number;
  readonly sellOrder: number;
  readonly baseAmount: bigint;
  readonly price: bigint;
  readonly buyFeeRate: number;
  readonly sellFeeRate: number;
}

export interface DecodedBatch {
  readonly version: number;
  readonly tokens: readonly Address[];
  readonly orders: readonly SignedOrder[];
  readonly fills: readonly DecodedFill[];
}

const UINT128_MAX = (1n << 128n) - 1n;
const { headerBytes, tokenBytes, orderBytes, fillBytes } = BATCH_LAYOUT;

/** Byte length of a batch's calldata payload (useful to budget calldata). */
export function batchByteLength(tokenCount: number, orderCount: number, fillCount: number): number {
  return headerBytes + tokenCount * tokenBytes + orderCount * orderBytes + fillCount * fillBytes;
}

/**
 * Packs orders and fills into settleBatch's `batch` bytes. Layout (big-endian, no padding):
 *
 *   header  u8 version(=1) | u8 tokenCount | u16 orderCount | u16 fillCount
 *   tokens  tokenCount x address(20)
 *   orders  orderCount x [address trader | u8 baseIdx | u8 quoteIdx | u8 flags(bit0 isBuy) | u128 price |
 *                          u128 size | u32 maxFeeRate | u64 expiry | u64 nonce | bytes32 r | bytes32 s | u8 v]
 *   fills   fillCount x  [u16 buyIdx | u16 sellIdx | u128 baseAmount | u128 price | i32 buyFeeRate |
 *                          i32 sellFeeRate]      (byte offsets 0, 2, 4, 20, 36, 40; 44 bytes)
 *
 * A fill's rates are signed (two's complement): negative is a rebate rate. The encoder accepts
 * -MAX_FEE_RATE..MAX_FEE_RATE per side; whether a rebate is covered by the fill's other fee is the contract's
 * check (fillFeeError in fees.ts tells in advance).
 *
 * Orders are sorted by EIP-712 hash (the contract requires strictly increasing hashes, which rules out
 * duplicates); fill order indexes are remapped accordingly. Every order must be used by a fill.
 */
export function encodeBatch(input: BatchInput): EncodedBatch {
  const { domain, orders, fills } = input;
  if (fills.length === 0) throw new ChainError('INVALID_BATCH', 'a batch needs at least one fill');
  if (fills.length > BATCH_LAYOUT.maxFills) {
    throw new ChainError('INVALID_BATCH', `${fills.length} fills exceed ${BATCH_LAYOUT.maxFills}`);
  }
  if (orders.length > BATCH_LAYOUT.maxOrders) {
    throw new ChainError('INVALID_BATCH', `${orders.length} orders exceed ${BATCH_LAYOUT.maxOrders}`);
  }

  const tokenIndex = new Map<string, number>();
  const tokens: Address[] = [];
  const indexOfToken = (token: Address): number => {
    const key = token.toLowerCase();
    let idx = tokenIndex.get(key);
    if (idx === undefined) {
      idx = tokens.length;
      if (idx >= BATCH_LAYOUT.maxTokens) {
        throw new ChainError('INVALID_BATCH', `more than ${BATCH_LAYOUT.maxTokens} distinct tokens`);
      }
      tokenIndex.set(key, idx);
      tokens.push(getAddress(token));
    }
    return idx;
  };

  const hashed = orders.map((order, inputIndex) => {
    assertOrder(order);
    splitSignature(order.signature);
    return { order, inputIndex, hash: hashOrder(domain, order) };
  });
  hashed.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const orderPosition = new Array<number>(orders.length);
  hashed.forEach((h, position) => {
    const prev = hashed[position - 1];
    if (prev !== undefined && prev.hash === h.hash) {
      throw new ChainError('DUPLICATE_ORDER', `orders ${prev.inputIndex} and ${h.inputIndex} are the same order`);
    }
    orderPosition[h.inputIndex] = position;
  });

  const used = new Array<boolean>(orders.length).fill(false);
  const encodedFills: DecodedFill[] = fills.map((fill, f) => {
    const buy = orderPosition[fill.buyOrder];
    const sell = orderPosition[fill.sellOrder];
    if (buy === undefined || sell === undefined) {
      throw new ChainError('INVALID_FILL', `fill ${f} references an order outside the batch`);
    }
    used[fill.buyOrder] = true;
    used[fill.sellOrder] = true;
    const buyFeeRate = fill.buyFeeRate ?? 0;
    const sellFeeRate = fill.sellFeeRate ?? 0;
    if (fill.baseAmount <= 0n || fill.baseAmount > UINT128_MAX) {
      throw new ChainError('INVALID_FILL', `fill ${f}: baseAmount ${fill.baseAmount} is not a positive uint128`);
    }
    if (fill.price < 0n || fill.price > UINT128_MAX) {
      throw new ChainError('INVALID_FILL', `fill ${f}: price ${fill.price} is not a uint128`);
    }
    for (const rate of [buyFeeRate, sellFeeRate]) {
      if (!Number.isInteger(rate) || rate < -MAX_FEE_RATE || rate > MAX_FEE_RATE) {
        throw new ChainError('INVALID_FILL', `fill ${f}: fee rate ${rate} is outside -${MAX_FEE_RATE}..${MAX_FEE_RATE}`);
      }
    }
    return { buyOrder: buy, sellOrder: sell, baseAmount: fill.baseAmount, price: fill.price, buyFeeRate, sellFeeRate };
  });
  const unused = used.indexOf(false);
  if (unused >= 0) throw new ChainError('INVALID_BATCH', `order ${unused} is not used by any fill`);

  // Token indexes in order of first use by the sorted orders: deterministic for a given set of orders.
  const orderTokens = hashed.map((h) => [indexOfToken(h.order.baseToken), indexOfToken(h.order.quoteToken)] as const);

  const buf = new Uint8Array(batchByteLength(tokens.length, orders.length, fills.length));
  let at = 0;
  const put = (value: bigint | number, bytes: number): void => {
    let v = BigInt(value);
    for (let i = bytes - 1; i >= 0; i--) {
      buf[at + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    at += bytes;
  };
  const putHex = (hex: Hex): void => {
    const bytes = hexToBytes(hex);
    buf.set(bytes, at);
    at += bytes.length;
  };

  put(BATCH_VERSION, 1);
  put(tokens.length, 1);
  put(orders.length, 2);
  put(fills.length, 2);
  for (const token of tokens) putHex(token);
  hashed.forEach(({ order }, position) => {
    const [baseIdx, quoteIdx] = orderTokens[position]!;
    const sig = splitSignature(order.signature);
    putHex(getAddress(order.trader));
    put(baseIdx, 1);
    put(quoteIdx, 1);
    put(order.isBuy ? 1 : 0, 1);
    put(order.price, 16);
    put(order.size, 16);
    put(order.maxFeeRate, 4);
    put(order.expiry, 8);
    put(order.nonce, 8);
    putHex(sig.r);
    putHex(sig.s);
    put(sig.v, 1);
  });
  for (const fill of encodedFills) {
    put(fill.buyOrder, 2);
    put(fill.sellOrder, 2);
    put(fill.baseAmount, 16);
    put(fill.price, 16);
    put(fill.buyFeeRate, 4);
    put(fill.sellFeeRate, 4);
  }

  return {
    data: bytesToHex(buf),
    tokens,
    orders: hashed.map((h) => h.order),
    orderHashes: hashed.map((h) => h.hash),
    orderPosition,
    fills: encodedFills,
  };
}

/** A 4-byte big-endian two's complement value as a number. */
const int32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/** Reads settleBatch's `batch` bytes back (e.g. from a settled transaction's calldata). */
export function decodeBatch(data: Hex): DecodedBatch {
  const buf = hexToBytes(data);
  let at = 0;
  const need = (bytes: number): void => {
    if (at + bytes > buf.length) {
      throw new ChainError('MALFORMED_BATCH_DATA', `batch data ends at byte ${buf.length}, needed ${at + bytes}`);
    }
  };
  const take = (bytes: number): bigint => {
    need(bytes);
    let v = 0n;
    for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(buf[at + i]!);
    at += bytes;
    return v;
  };
  const takeHex = (bytes: number): Hex => {
    need(bytes);
    const hex = bytesToHex(buf.subarray(at, at + bytes));
    at += bytes;
    return hex;
  };

  const version = Number(take(1));
  if (version !== BATCH_VERSION) throw new ChainError('MALFORMED_BATCH_DATA', `unsupported batch version ${version}`);
  const tokenCount = Number(take(1));
  const orderCount = Number(take(2));
  const fillCount = Number(take(2));
  const expected = batchByteLength(tokenCount, orderCount, fillCount);
  if (buf.length !== expected) {
    throw new ChainError('MALFORMED_BATCH_DATA', `batch data is ${buf.length} bytes, its header implies ${expected}`);
  }
  const tokens: Address[] = [];
  for (let t = 0; t < tokenCount; t++) tokens.push(getAddress(takeHex(20)));
  const token = (idx: number): Address => {
    const address = tokens[idx];
    if (address === undefined) throw new ChainError('MALFORMED_BATCH_DATA', `token index ${idx} out of range`);
    return address;
  };
  const orders: SignedOrder[] = [];
  for (let i = 0; i < orderCount; i++) {
    const trader = getAddress(takeHex(20));
    const baseToken = token(Number(take(1)));
    const quoteToken = token(Number(take(1)));
    const isBuy = (take(1) & 1n) === 1n;
    const price = take(16);
    const size = take(16);
    const maxFeeRate = Number(take(4));
    const expiry = take(8);
    const nonce = take(8);
    const r = takeHex(32);
    const s = takeHex(32);
    const v = takeHex(1);
    orders.push({
      trader,
      baseToken,
      quoteToken,
      isBuy,
      price,
      size,
      maxFeeRate,
      expiry,
      nonce,
      signature: `0x${r.slice(2)}${s.slice(2)}${v.slice(2)}`,
    });
  }
  const fills: DecodedFill[] = [];
  for (let f = 0; f < fillCount; f++) {
    fills.push({
      buyOrder: Number(take(2)),
      sellOrder: Number(take(2)),
      baseAmount: take(16),
      price: take(16),
      buyFeeRate: int32(take(4)),
      sellFeeRate: int32(take(4)),
    });
  }
  return { version, tokens, orders, fills };
}

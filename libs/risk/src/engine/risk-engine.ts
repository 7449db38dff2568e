// The risk engine of ONE account shard, as a pure function of that shard's input: client requests and chain
// events (apply) and the books' reports about the shard's orders (applyBookEvents). No clock, no I/O, no
// randomness, bigint base units only: replaying the same input gives the same outcomes and state hash, which
// is what recovery (snapshot + replay) and audit rest on. apps/risk wraps it in Kafka transactions.
//
// Funds move in exactly three ways: a new order moves its maximum cost from available to heldOrders; a
// report from the book consumes (trade) or releases (done, rejected, self-trade decrement) that hold; chain
// events add (deposit), reserve (withdrawal request) or remove (executed withdrawal) funds. Each order's hold
// is always holdFor(order, remaining lots), so "holds == what open orders can still cost" is structural.
import { feeAmount, rebateAmount } from '@parallax/chain/fees';
import type { BookEvent, CancelOrder, PlaceOrder } from '@parallax/order-book';
import { CommandType, OrderType, Side, TimeInForce } from '@parallax/order-book';
import { RiskError } from './errors.js';
import { isAddress, mintId, shardForAccount } from './ids.js';
import { NonceSet, type NonceKey } from './nonce-set.js';
import { configFingerprint, decodeSnapshotState, encodeSnapshotState, hashBytes, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type SnapshotState } from './snapshot.js';
import {
  FEE_SCALE,
  MAX_FEE_RATE,
  PRICE_SCALE,
  UINT128_MAX,
  UINT64_MAX,
  type AccountEventStats,
  type Address,
  type BalanceView,
  type CancelRequest,
  type Deposit,
  type ForwardedCancel,
  type KeyAuthorized,
  type KeyRevoked,
  type NonceCancelled,
  type OpenOrderView,
  type ParkedChainEvents,
  type ParkedSettlement,
  type PlaceRequest,
  type RiskCommand,
  type RiskConfig,
  type RiskMarket,
  type RiskOutcome,
  type RiskRejectCode,
  type SignedOrder,
  type Settled,
  type SettlementSkipped,
  type TokenTotals,
  type Violation,
  type WithdrawalCancelled,
  type WithdrawalExecuted,
  type WithdrawalRequested,
} from './types.js';

/** A market with its units pre-computed for the hot path. */
export interface MarketUnits {
  readonly def: RiskMarket;
  readonly base: number;
  readonly quote: number;
  /** Quote base units of one lot at one tick: lotSize * tickSize / 1e18 (exact by config validation). */
  readonly quotePerLotTick: bigint;
  /** The highest fee rate a fill of this market can charge (what a buy's hold covers). */
  readonly maxChargeRate: bigint;
  /** The lowest signed fee bound an order must carry: every rate the market charges fits under it. */
  readonly minFeeBound: number;
}

/** Mutable balance of one account in one token; see BalanceView and ParkedSettlement for the fields. */
export class Balance implements BalanceView {
  onchain = 0n;
  available = 0n;
  heldOrders = 0n;
  heldWithdrawals = 0n;
  withdrawalShortfall = 0n;
  unsettledIn = 0n;
  unsettledOut = 0n;
  feesOwed = 0n;
  deficit = 0n;
  parkedIn = 0n;
  parkedOut = 0n;
  parkedFees = 0n;
  /** A settlementSkipped's amounts not yet matched by unsettled fills (waiting, like parkedIn...). */
  skippedIn = 0n;
  skippedOut = 0n;
  skippedFees = 0n;
  /** Paid out on chain from a parked receipt: applied once the receipt is (see WithdrawalExecuted). */
  parkedWithdrawal = 0n;
  /** Whether any parked field above is non-zero (derived, not in the snapshot): settleParked's fast exit. */
  waiting = false;
}

export interface Account {
  readonly address: Address;
  readonly id: number;
  /** By token index. */
  readonly balances: (Balance | undefined)[];
  /** Trading keys the account authorized on chain. */
  readonly keys: Set<Address>;
  /**
   * Nonces used by forwarded orders or cancelled on chain, as numbers when they are safe integers (every
   * realistic nonce): the hottest lookup of a place, kept as a run of consecutive nonces (see NonceSet).
   */
  readonly nonces: NonceSet;
  /** Open orders, oldest first: an intrusive list (no per-account Map to allocate and grow). */
  firstOrder: OpenOrder | null;
  lastOrder: OpenOrder | null;
}

export interface OpenOrder {
  readonly orderId: number;
  readonly marketId: number;
  readonly market: MarketUnits;
  readonly account: Account;
  readonly isBuy: boolean;
  readonly priceTicks: number;
  readonly nonce: bigint;
  remainingLots: number;
  hold: bigint;
  cancelRequested: boolean;
  /** Neighbours in the account's list of open orders. */
  prev: OpenOrder | null;
  next: OpenOrder | null;
}

/** The key of a nonce in Account.nonces. */
function nonceKey(n: bigint): NonceKey {
  return n <= MAX_SAFE_BIG ? Number(n) : n;
}

function* ordersOf(acct: Account): Generator<OpenOrder> {
  for (let o = acct.firstOrder; o !== null; o = o.next) yield o;
}

const NO_CANCELS: readonly ForwardedCancel[] = Object.freeze([]);
const OK_EMPTY: RiskOutcome = Object.freeze({ ok: true, place: null, cancels: NO_CANCELS });
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/** Any value as text, for messages about hostile input. */
function show(x: unknown): string {
  return typeof x === 'bigint' ? x.toString() : String(x);
}

function reject(code: RiskRejectCode, message: string): RiskOutcome {
  return { ok: false, code, message };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function isAmount(x: unknown): x is bigint {
  return typeof x === 'bigint' && x > 0n && x <= UINT128_MAX;
}

function isTs(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** What an order with `lots` remaining can still cost, in the token it holds (quote for a buy, base for a sell). */
export function holdFor(m: MarketUnits, isBuy: boolean, priceTicks: number, lots: number): bigint {
  if (!isBuy) return BigInt(lots) * m.def.lotSize;
  const q = BigInt(lots) * BigInt(priceTicks) * m.quotePerLotTick;
  // Fees are charged per fill, each rounded down, and Σ floor(x_i) <= floor(Σ x_i): one fee on the whole
  // amount at the highest rate covers every way the order can fill, at its limit price or better.
  return q + (q * m.maxChargeRate) / FEE_SCALE;
}

function validateConfig(config: RiskConfig): { markets: Map<number, MarketUnits>; tokens: Address[] } {
  const bad = (why: string): never => {
    throw new RiskError('INVALID_CONFIG', why);
  };
  const { shard, shards } = config;
  if (!Number.isInteger(shards) || shards < 1 || shards > 10_000) bad(`shards must be in 1..10000, got ${show(shards)}`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards) bad(`shard must be in [0, ${shards}), got ${show(shard)}`);
  const tps = config.tsPerSecond ?? 1000;
  if (!Number.isSafeInteger(tps) || tps < 1) bad(`tsPerSecond must be a positive integer, got ${show(tps)}`);
  const margin = config.expiryMarginTs ?? 0;
  if (!Number.isSafeInteger(margin) || margin < 0) bad(`expiryMarginTs must be a non-negative integer, got ${show(margin)}`);
  if (!Array.isArray(config.markets) || config.markets.length === 0) bad('at least one market is required');
  const tokens: Address[] = [];
  const tokenIndex = new Map<Address, number>();
  const indexOf = (t: Address): number => {
    let i = tokenIndex.get(t);
    if (i === undefined) {
      i = tokens.length;
      tokens.push(t);
      tokenIndex.set(t, i);
    }
    return i;
  };
  const markets = new Map<number, MarketUnits>();
  const sorted = [...config.markets].sort((a, b) => a.marketId - b.marketId);
  for (const def of sorted) {
    const id = def.marketId;
    if (!Number.isSafeInteger(id) || id < 1) bad(`marketId must be a positive integer, got ${show(id)}`);
    if (markets.has(id)) bad(`market ${id} is listed twice`);
    if (!isAddress(def.baseToken) || !isAddress(def.quoteToken)) bad(`market ${id}: tokens must be lower-case addresses`);
    if (def.baseToken === def.quoteToken) bad(`market ${id}: base and quote token are the same`);
    for (const [name, v] of [['lotSize', def.lotSize], ['tickSize', def.tickSize]] as const) {
      if (typeof v !== 'bigint' || v <= 0n || v > UINT128_MAX) bad(`market ${id}: ${name} must be a positive uint128 bigint`);
    }
    if ((def.lotSize * def.tickSize) % PRICE_SCALE !== 0n) bad(`market ${id}: lotSize * tickSize must be a multiple of 1e18 (exact quote amounts)`);
    const taker = def.takerFeeRate;
    const maker = def.makerFeeRate;
    if (!Number.isInteger(taker) || taker < 0 || taker > MAX_FEE_RATE) bad(`market ${id}: takerFeeRate must be in 0..${MAX_FEE_RATE}`);
    if (!Number.isInteger(maker) || maker > MAX_FEE_RATE || maker < -taker) {
      bad(`market ${id}: makerFeeRate must be in -takerFeeRate..${MAX_FEE_RATE} (a rebate never exceeds the taker fee)`);
    }
    const maxCharge = Math.max(taker, maker, 0);
    markets.set(id, {
      def,
      base: indexOf(def.baseToken),
      quote: indexOf(def.quoteToken),
      quotePerLotTick: (def.lotSize * def.tickSize) / PRICE_SCALE,
      maxChargeRate: BigInt(maxCharge),
      minFeeBound: maxCharge,
    });
  }
  return { markets, tokens };
}

/**
 * Owns the balances, holds and open orders of the accounts of one shard.
 *
 * Commands never throw: a refused command returns `{ ok: false, code }` and leaves the state exactly as it
 * was (every check runs before the first write). Only a bad configuration or snapshot throws (RiskError).
 */
export class RiskEngine {
  readonly shard: number;
  readonly shards: number;
  readonly tsPerSecond: number;
  readonly expiryMarginTs: number;
  /** Token addresses by index (first appearance in the markets sorted by id). */
  readonly tokens: readonly Address[];
  /** The configuration as given (snapshot() records a fingerprint of it). */
  readonly config: RiskConfig;
  protected readonly markets: Map<number, MarketUnits>;
  protected readonly tokenIndex = new Map<Address, number>();
  protected readonly accounts = new Map<Address, Account>();
  protected readonly accountsById = new Map<number, Account>();
  protected readonly orders = new Map<number, OpenOrder>();
  /** Per market: the highest book sequence applied (account events at or below it are redelivery). */
  protected readonly lastSeq = new Map<number, number>();
  protected readonly deposits: bigint[];
  protected readonly withdrawals: bigint[];
  protected readonly fees: bigint[];
  /** Per token: what this shard's accounts received from fills minus what they paid (fees aside). */
  protected readonly flow: bigint[];
  protected accountCounter = 0;
  /** Largest expiry whose deadline is computed exactly in doubles. */
  private readonly maxExactExpiry: bigint;
  protected orderCounter = 0;
  /**
   * (account, token index) pairs whose claims grew in the current apply / applyBookEvents call (see
   * drainUncovered): flat, two entries per balance. Always empty between calls.
   */
  private readonly uncovered: (Account | number)[] = [];
  /** apply and applyBookEvents calls so far: a reader's cue that what it derived from the state may be stale. */
  private calls = 0;

  constructor(config: RiskConfig) {
    const { markets, tokens } = validateConfig(config);
    this.config = config;
    this.shard = config.shard;
    this.shards = config.shards;
    this.tsPerSecond = config.tsPerSecond ?? 1000;
    this.expiryMarginTs = config.expiryMarginTs ?? 0;
    this.maxExactExpiry = BigInt(Math.floor(MAX_SAFE / this.tsPerSecond));
    this.markets = markets;
    this.tokens = Object.freeze(tokens);
    tokens.forEach((t, i) => this.tokenIndex.set(t, i));
    this.deposits = tokens.map(() => 0n);
    this.withdrawals = tokens.map(() => 0n);
    this.fees = tokens.map(() => 0n);
    this.flow = tokens.map(() => 0n);
  }

  // ---------------------------------------------------------------- commands

  /**
   * Applies one request or chain event. Never throws; a refusal leaves the state unchanged.
   *
   * `now` (logical time, like a command's ts) stamps the book cancels that a command without a ts of its own
   * causes: a skipped fill that takes back funds open orders still hold has them cancelled (coverClaims), and
   * a book refuses a cancel older than the last command it applied. The shard passes the input message's
   * send time, fixed in the committed message, so a replay forwards the same cancels. The state does not
   * depend on it.
   */
  apply(cmd: RiskCommand, now = 0): RiskOutcome {
    this.calls++;
    const out = this.dispatch(cmd);
    if (this.uncovered.length === 0) return out;
    const ts = 'ts' in cmd && isTs(cmd.ts) && cmd.ts > now ? cmd.ts : now;
    const covers = this.drainUncovered(ts);
    if (!out.ok || covers.length === 0) return out;
    return { ok: true, place: out.place, cancels: out.cancels.length === 0 ? covers : [...out.cancels, ...covers] };
  }

  private dispatch(cmd: RiskCommand): RiskOutcome {
    switch (cmd.type) {
      case 'place':
        return this.place(cmd);
      case 'cancel':
        return this.cancel(cmd);
      case 'deposit':
        return this.deposit(cmd);
      case 'withdrawalRequested':
        return this.withdrawalRequested(cmd);
      case 'withdrawalCancelled':
        return this.withdrawalCancelled(cmd);
      case 'withdrawalExecuted':
        return this.withdrawalExecuted(cmd);
      case 'settled':
        return this.settled(cmd);
      case 'settlementSkipped':
        return this.settlementSkipped(cmd);
      case 'keyAuthorized':
        return this.keyAuthorized(cmd);
      case 'keyRevoked':
        return this.keyRevoked(cmd);
      case 'nonceCancelled':
        return this.nonceCancelled(cmd);
      default:
        return reject('UNKNOWN_COMMAND', `unknown command type ${show((cmd as { type: unknown }).type)}`);
    }
  }

  private place(c: PlaceRequest): RiskOutcome {
    if (!isTs(c.ts)) return reject('INVALID_TIMESTAMP', 'ts must be a non-negative safe integer');
    const m = this.markets.get(c.marketId);
    if (m === undefined) return reject('UNKNOWN_MARKET', `market ${show(c.marketId)} is not known`);
    // Known accounts were checked (address form, shard) when they were opened: skip that on the hot path.
    const acct = this.accounts.get(c.account);
    if (acct === undefined) {
      const owner = this.ownAccount(c.account);
      if (typeof owner === 'string') return reject(owner, `account ${show(c.account)} ${owner === 'WRONG_SHARD' ? `is not on shard ${this.shard}` : 'is not an address'}`);
    }
    const o = c.order as SignedOrder | null | undefined;
    if (typeof o !== 'object' || o === null) return reject('INVALID_ORDER', 'the signed order is missing');
    if (o.trader !== c.account) return reject('TRADER_MISMATCH', `the order is signed for ${show(o.trader)}, not the account ${c.account}`);
    if (c.signer !== c.account && (acct === undefined || !acct.keys.has(c.signer))) {
      return reject('NOT_AUTHORIZED', `${show(c.signer)} is neither the account nor one of its trading keys`);
    }
    if (o.baseToken !== m.def.baseToken || o.quoteToken !== m.def.quoteToken) {
      return reject('TOKEN_MISMATCH', `the order trades ${show(o.baseToken)}/${show(o.quoteToken)}, market ${m.def.marketId} trades ${m.def.baseToken}/${m.def.quoteToken}`);
    }
    const orderType = c.orderType as number;
    const tif = c.tif as number;
    const stp = c.stp as number;
    if (orderType !== OrderType.Limit && orderType !== OrderType.Market) return reject('INVALID_ORDER', `orderType ${show(orderType)}`);
    if (!(Number.isInteger(tif) && tif >= 0 && tif <= 3)) return reject('INVALID_ORDER', `tif ${show(tif)}`);
    if (!(Number.isInteger(stp) && stp >= 0 && stp <= 4)) return reject('INVALID_ORDER', `stp ${show(stp)}`);
    if (typeof c.postOnly !== 'boolean') return reject('INVALID_ORDER', 'postOnly must be a boolean');
    if (typeof o.isBuy !== 'boolean') return reject('INVALID_ORDER', 'isBuy must be a boolean');
    const isMarket = orderType === OrderType.Market;
    if (isMarket && tif !== TimeInForce.IOC && tif !== TimeInForce.FOK) return reject('INVALID_ORDER', 'a market order is IOC or FOK');
    if (!isAmount(o.size)) return reject('INVALID_SIZE', 'size must be a uint128 greater than zero');
    const lotSize = m.def.lotSize;
    if (o.size % lotSize !== 0n) return reject('SIZE_OFF_LOT', `size ${o.size} is not a multiple of the lot ${lotSize}`);
    const lotsBig = o.size / lotSize;
    if (lotsBig > MAX_SAFE_BIG) return reject('INVALID_SIZE', 'size exceeds the book range');
    const lots = Number(lotsBig);
    const price = o.price;
    if (typeof price !== 'bigint' || price < 0n || price > UINT128_MAX) return reject('INVALID_PRICE', 'price must be a uint128');
    if (price === 0n && !(isMarket && !o.isBuy)) {
      // A buy's price bounds what it can cost; only a market sell may sign "any price" (it costs its size).
      return isMarket ? reject('PROTECTION_PRICE_REQUIRED', 'a market buy must sign a finite protection price') : reject('INVALID_PRICE', 'a limit price must be positive');
    }
    const tickSize = m.def.tickSize;
    if (price % tickSize !== 0n) return reject('PRICE_OFF_TICK', `price ${price} is not a multiple of the tick ${tickSize}`);
    const ticksBig = price / tickSize;
    if (ticksBig > MAX_SAFE_BIG) {
      return o.isBuy && isMarket ? reject('PROTECTION_PRICE_REQUIRED', 'the protection price is beyond the book range') : reject('INVALID_PRICE', 'price exceeds the book range');
    }
    const ticks = Number(ticksBig);
    const rate = o.maxFeeRate;
    if (!Number.isInteger(rate) || rate < 0 || rate > MAX_FEE_RATE) return reject('INVALID_FEE_RATE', `maxFeeRate must be in 0..${MAX_FEE_RATE}`);
    if (rate < m.minFeeBound) return reject('FEE_BOUND_TOO_LOW', `maxFeeRate ${rate} is below the market's fee ${m.minFeeBound}`);
    if (typeof o.expiry !== 'bigint' || o.expiry < 0n || o.expiry > UINT64_MAX) return reject('INVALID_EXPIRY', 'expiry must be a uint64');
    // The book's deadline for the order in ts units; Infinity = beyond the safe range (never due in the book).
    // Computed in doubles while exact (expiry <= maxExactExpiry), which is every real expiry.
    let deadline: number;
    if (o.expiry <= this.maxExactExpiry) {
      deadline = Number(o.expiry) * this.tsPerSecond - this.expiryMarginTs;
    } else {
      const big = o.expiry * BigInt(this.tsPerSecond) - BigInt(this.expiryMarginTs);
      deadline = big > MAX_SAFE_BIG ? Number.POSITIVE_INFINITY : Number(big);
    }
    if (deadline <= c.ts) return reject('ORDER_EXPIRED', `the order expires at ${o.expiry}s (less the settlement margin), ts is ${c.ts}`);
    // The book stops trading the order at its signed deadline: GTC becomes GTT there, a later GTT is capped.
    let bookTif = tif;
    let expiresAt = c.expiresAt;
    if (!isTs(expiresAt)) return reject('INVALID_EXPIRY', 'expiresAt must be a non-negative safe integer');
    if (tif === TimeInForce.GTT) {
      if (expiresAt === 0) return reject('INVALID_EXPIRY', 'a GTT order needs expiresAt');
      if (expiresAt > deadline) expiresAt = deadline;
    } else if (expiresAt !== 0) {
      return reject('INVALID_EXPIRY', 'only GTT orders carry expiresAt');
    } else if (tif === TimeInForce.GTC && deadline !== Number.POSITIVE_INFINITY) {
      bookTif = TimeInForce.GTT;
      expiresAt = deadline;
    }
    if (typeof o.nonce !== 'bigint' || o.nonce < 0n || o.nonce > UINT64_MAX) return reject('INVALID_NONCE', 'nonce must be a uint64');
    const nonce = nonceKey(o.nonce);
    if (acct?.nonces.has(nonce) === true) return reject('NONCE_USED', `nonce ${o.nonce} was already used or cancelled`);
    // Shape only: the requests contract decodes the signature from 65 raw bytes (always hex), and the
    // gateway verified it; scanning 130 hex digits again here costs more than the rest of the checks.
    const sig = o.signature;
    if (typeof sig !== 'string' || sig.length !== 132 || !sig.startsWith('0x')) return reject('INVALID_SIGNATURE', 'signature must be 65 bytes as 0x-prefixed hex');

    const hold = holdFor(m, o.isBuy, ticks, lots);
    const token = o.isBuy ? m.quote : m.base;
    const bal = acct?.balances[token];
    if (acct === undefined || bal === undefined || bal.available < hold) {
      return reject('INSUFFICIENT_FUNDS', `the order can cost ${hold} of ${this.tokens[token]!}, ${bal?.available ?? 0n} is available`);
    }

    bal.available -= hold;
    bal.heldOrders += hold;
    acct.nonces.add(nonce);
    const orderId = mintId(++this.orderCounter, this.shard, this.shards);
    const order: OpenOrder = {
      orderId,
      marketId: m.def.marketId,
      market: m,
      account: acct,
      isBuy: o.isBuy,
      priceTicks: ticks,
      nonce: o.nonce,
      remainingLots: lots,
      hold,
      cancelRequested: false,
      prev: null,
      next: null,
    };
    this.orders.set(orderId, order);
    link(acct, order);
    const command: PlaceOrder = {
      type: 'place',
      ts: c.ts,
      orderId,
      accountId: acct.id,
      side: o.isBuy ? Side.Buy : Side.Sell,
      orderType: c.orderType,
      price: ticks,
      size: lots,
      tif: bookTif as TimeInForce,
      expiresAt,
      postOnly: c.postOnly,
      stp: c.stp,
    };
    return {
      ok: true,
      place: {
        marketId: m.def.marketId,
        command,
        signed: {
          orderId,
          accountId: acct.id,
          trader: o.trader,
          isBuy: o.isBuy,
          price,
          size: o.size,
          maxFeeRate: rate,
          expiry: o.expiry,
          nonce: o.nonce,
          signature: o.signature,
        },
      },
      cancels: NO_CANCELS,
    };
  }

  private cancel(c: CancelRequest): RiskOutcome {
    if (!isTs(c.ts)) return reject('INVALID_TIMESTAMP', 'ts must be a non-negative safe integer');
    // Known accounts were checked (address form, shard) when they were opened: the check (a regex) only for others.
    const acct = this.accounts.get(c.account);
    if (acct === undefined) {
      const owner = this.ownAccount(c.account);
      if (typeof owner === 'string') return reject(owner, `account ${show(c.account)} is not an address of shard ${this.shard}`);
    }
    if (c.signer !== c.account && (acct === undefined || !acct.keys.has(c.signer))) {
      return reject('NOT_AUTHORIZED', `${show(c.signer)} is neither the account nor one of its trading keys`);
    }
    const o = Number.isSafeInteger(c.orderId) ? this.orders.get(c.orderId) : undefined;
    if (o === undefined) return reject('ORDER_NOT_FOUND', `order ${show(c.orderId)} is not open`);
    if (o.account !== acct) return reject('NOT_ORDER_OWNER', `order ${c.orderId} belongs to another account`);
    if (o.cancelRequested) return reject('CANCEL_PENDING', `order ${c.orderId} is already being cancelled`);
    o.cancelRequested = true;
    return { ok: true, place: null, cancels: [this.cancelOf(o, c.ts)] };
  }

  private deposit(c: Deposit): RiskOutcome {
    const t = this.tokenOf(c.token);
    if (typeof t === 'string') return reject(t, `token ${show(c.token)} is not traded here`);
    if (!isAmount(c.amount)) return reject('INVALID_AMOUNT', 'amount must be a uint128 greater than zero');
    let acct = this.accounts.get(c.account);
    if (acct === undefined) {
      const owner = this.ownAccount(c.account);
      if (typeof owner === 'string') return reject(owner, `account ${show(c.account)} is not an address of shard ${this.shard}`);
      acct = this.openAccount(c.account);
      if (acct === undefined) return reject('TOO_MANY_ACCOUNTS', `shard ${this.shard} cannot mint more account ids`);
    }
    const bal = this.balanceOf(acct, t);
    bal.onchain += c.amount;
    this.deposits[t]! += c.amount;
    this.credit(bal, c.amount);
    this.settleParked(acct, bal, t);
    return OK_EMPTY;
  }

  private withdrawalRequested(c: WithdrawalRequested): RiskOutcome {
    if (!isTs(c.ts)) return reject('INVALID_TIMESTAMP', 'ts must be a non-negative safe integer');
    const found = this.accountToken(c.account, c.token, c.amount);
    if (!Array.isArray(found)) return found;
    const [acct, t, bal] = found;
    const amount = c.amount;
    if (bal.available >= amount) {
      bal.available -= amount;
      bal.heldWithdrawals += amount;
      return OK_EMPTY;
    }
    // A settlement receipt parked for fills this shard has not seen yet is on chain already (the request was
    // made against it): its fills will credit the account, and credits go to the withdrawal first.
    // Released holds pay a deficit first (credit), so it is not there for the withdrawal.
    const freeable = bal.available + bal.heldOrders + parkedReceipt(bal) - bal.withdrawalShortfall - bal.deficit;
    if (freeable < amount) return reject('INSUFFICIENT_FUNDS', `withdrawal of ${amount}: only ${freeable} can be freed`);
    // Open orders hold the rest: cancel the newest of them until their holds cover it. What they release
    // goes to the withdrawal first (credit), so a settled batch never meets a fill the chain cannot fund.
    bal.withdrawalShortfall += amount - bal.available;
    bal.heldWithdrawals += bal.available;
    bal.available = 0n;
    const cancels: ForwardedCancel[] = [];
    this.coverClaims(acct, t, bal, c.ts, cancels);
    return { ok: true, place: null, cancels };
  }

  private withdrawalCancelled(c: WithdrawalCancelled): RiskOutcome {
    const found = this.accountToken(c.account, c.token, c.amount);
    if (!Array.isArray(found)) return found;
    const bal = found[2];
    if (c.amount > bal.heldWithdrawals + bal.withdrawalShortfall) {
      return reject('WITHDRAWAL_NOT_FOUND', `cancel of ${c.amount}: only ${bal.heldWithdrawals + bal.withdrawalShortfall} is requested`);
    }
    const fromShortfall = c.amount < bal.withdrawalShortfall ? c.amount : bal.withdrawalShortfall;
    const fromHeld = c.amount - fromShortfall;
    bal.withdrawalShortfall -= fromShortfall;
    bal.heldWithdrawals -= fromHeld;
    this.credit(bal, fromHeld);
    return OK_EMPTY;
  }

  private withdrawalExecuted(c: WithdrawalExecuted): RiskOutcome {
    const found = this.accountToken(c.account, c.token, c.amount);
    if (!Array.isArray(found)) return found;
    const [, t, bal] = found;
    const amount = c.amount;
    // The chain paid out: that can only come from the reservation, or from funds nothing else holds, or from
    // a settlement receipt this shard has not matched with its fills yet (parked: that part waits with it).
    // More than that is a drift between this ledger and the chain; it is refused (state kept) and alerted.
    const now = min(min(amount, bal.heldWithdrawals + bal.available), bal.onchain);
    const later = amount - now;
    if (later > 0n && later > parkedReceipt(bal) - bal.parkedWithdrawal) {
      return reject(
        'WITHDRAWAL_NOT_COVERED',
        `withdrawal of ${amount}: ${bal.heldWithdrawals} reserved, ${bal.available} available, ${bal.onchain} on chain, ${parkedReceipt(bal) - bal.parkedWithdrawal} parked`,
      );
    }
    this.withdraw(bal, t, now);
    if (later > 0n) {
      bal.parkedWithdrawal += later;
      bal.waiting = true;
    }
    return OK_EMPTY;
  }

  /** Applies `amount` paid out on chain: from the reservation first, then available. */
  private withdraw(bal: Balance, t: number, amount: bigint): void {
    if (amount === 0n) return;
    const fromHeld = amount < bal.heldWithdrawals ? amount : bal.heldWithdrawals;
    const fromAvailable = amount - fromHeld;
    bal.heldWithdrawals -= fromHeld;
    bal.available -= fromAvailable;
    bal.withdrawalShortfall = bal.withdrawalShortfall > fromAvailable ? bal.withdrawalShortfall - fromAvailable : 0n;
    bal.onchain -= amount;
    this.withdrawals[t]! += amount;
  }

  private settled(c: Settled): RiskOutcome {
    return this.parkChainEvent(c);
  }

  private settlementSkipped(c: SettlementSkipped): RiskOutcome {
    return this.parkChainEvent(c);
  }

  /**
   * A settled batch (or the fills it skipped) for one account and token. The shard consumes chain events and
   * the books' account events in whatever order they arrive, so either can come before the fills it is
   * about: it is parked (parkedIn... for a settlement, skippedIn... for a skip) and applied as far as the
   * unsettled amounts cover it, now or as those fills arrive (settleParked): never refused, lost or applied
   * twice. The account traded, so it was opened by a deposit or key earlier on this same (ordered) chain
   * stream; its position in this token may not exist yet (a buyer's first base arrives with the fill).
   */
  private parkChainEvent(c: Settled | SettlementSkipped): RiskOutcome {
    const t = this.tokenOf(c.token);
    if (typeof t === 'string') return reject(t, `token ${show(c.token)} is not traded here`);
    for (const [name, v] of [['received', c.received], ['paid', c.paid], ['fees', c.fees]] as const) {
      if (typeof v !== 'bigint' || v < 0n || v > UINT128_MAX) return reject('INVALID_AMOUNT', `${name} must be a uint128`);
    }
    const acct = this.accounts.get(c.account);
    if (acct === undefined) return reject('UNKNOWN_ACCOUNT', `no position of ${show(c.account)} in ${c.token}`);
    const bal = this.balanceOf(acct, t);
    if (c.type === 'settled') {
      bal.parkedIn += c.received;
      bal.parkedOut += c.paid;
      bal.parkedFees += c.fees;
    } else {
      bal.skippedIn += c.received;
      bal.skippedOut += c.paid;
      bal.skippedFees += c.fees;
    }
    bal.waiting = true;
    this.settleParked(acct, bal, t);
    return OK_EMPTY;
  }

  /**
   * Moves what of the parked settlement the unsettled amounts cover to `onchain`: received first, then paid
   * and fees as far as on-chain funds allow, so no field goes negative and the per-balance invariant holds
   * after every step. Unsettled amounts are fungible per account and token, so once every settled fill has
   * arrived the result equals applying each settlement after its fills. Called after whatever can make more
   * of it applicable: the settlement itself, a fill on the balance, a deposit.
   */
  private settleParked(acct: Account, bal: Balance, t: number): void {
    if (!bal.waiting) return;
    if (bal.parkedIn !== 0n || bal.parkedOut !== 0n || bal.parkedFees !== 0n) {
      const received = min(bal.parkedIn, bal.unsettledIn);
      const funds = bal.onchain + received;
      const paid = min(min(bal.parkedOut, bal.unsettledOut), funds);
      const fees = min(min(bal.parkedFees, bal.feesOwed), funds - paid);
      bal.parkedIn -= received;
      bal.parkedOut -= paid;
      bal.parkedFees -= fees;
      bal.unsettledIn -= received;
      bal.unsettledOut -= paid;
      bal.feesOwed -= fees;
      bal.onchain += received - paid - fees;
    }
    if (bal.skippedIn !== 0n || bal.skippedOut !== 0n || bal.skippedFees !== 0n) this.reverseSkipped(acct, bal, t);
    if (bal.parkedWithdrawal !== 0n) {
      // What the chain paid out of a receipt that is now applied (as far as the ledger can take it now).
      const w = min(min(bal.parkedWithdrawal, bal.heldWithdrawals + bal.available), bal.onchain);
      bal.parkedWithdrawal -= w;
      this.withdraw(bal, t, w);
    }
    bal.waiting = isWaiting(bal);
  }

  /**
   * Reverses as much of the balance's skipped fills as its unsettled amounts cover: they stop being
   * unsettled, what they paid and charged comes back (credit), what they received is taken back (debit), and
   * the shard's fees and fill flow lose them. The counterparty's side is reversed by its own record.
   */
  private reverseSkipped(acct: Account, bal: Balance, t: number): void {
    const received = min(bal.skippedIn, bal.unsettledIn);
    const paid = min(bal.skippedOut, bal.unsettledOut);
    const fees = min(bal.skippedFees, bal.feesOwed);
    bal.skippedIn -= received;
    bal.skippedOut -= paid;
    bal.skippedFees -= fees;
    bal.unsettledIn -= received;
    bal.unsettledOut -= paid;
    bal.feesOwed -= fees;
    this.fees[t]! -= fees;
    this.flow[t]! -= received - paid;
    const back = paid + fees - received;
    if (back >= 0n) {
      this.credit(bal, back);
    } else if (this.debit(bal, -back)) {
      // Funds the account had committed are gone: open orders hold what the chain does not have for it.
      this.uncovered.push(acct, t);
    }
  }

  private keyAuthorized(c: KeyAuthorized): RiskOutcome {
    if (!isAddress(c.key)) return reject('INVALID_ADDRESS', 'key must be a lower-case address');
    const owner = this.ownAccount(c.account);
    if (typeof owner === 'string') return reject(owner, `account ${show(c.account)} is not an address of shard ${this.shard}`);
    const acct = this.accounts.get(c.account) ?? this.openAccount(c.account);
    if (acct === undefined) return reject('TOO_MANY_ACCOUNTS', `shard ${this.shard} cannot mint more account ids`);
    acct.keys.add(c.key);
    return OK_EMPTY;
  }

  private keyRevoked(c: KeyRevoked): RiskOutcome {
    if (!isAddress(c.key)) return reject('INVALID_ADDRESS', 'key must be a lower-case address');
    const acct = this.accounts.get(c.account);
    if (acct?.keys.has(c.key) !== true) return reject('UNKNOWN_ACCOUNT', `${show(c.key)} is not a key of ${show(c.account)}`);
    acct.keys.delete(c.key);
    return OK_EMPTY;
  }

  private nonceCancelled(c: NonceCancelled): RiskOutcome {
    if (!isTs(c.ts)) return reject('INVALID_TIMESTAMP', 'ts must be a non-negative safe integer');
    if (typeof c.nonce !== 'bigint' || c.nonce < 0n || c.nonce > UINT64_MAX) return reject('INVALID_NONCE', 'nonce must be a uint64');
    const owner = this.ownAccount(c.account);
    if (typeof owner === 'string') return reject(owner, `account ${show(c.account)} is not an address of shard ${this.shard}`);
    const acct = this.accounts.get(c.account) ?? this.openAccount(c.account);
    if (acct === undefined) return reject('TOO_MANY_ACCOUNTS', `shard ${this.shard} cannot mint more account ids`);
    acct.nonces.add(nonceKey(c.nonce));
    const cancels: ForwardedCancel[] = [];
    for (const o of ordersOf(acct)) {
      if (o.nonce === c.nonce && !o.cancelRequested) {
        o.cancelRequested = true;
        cancels.push(this.cancelOf(o, c.ts));
      }
    }
    return cancels.length === 0 ? OK_EMPTY : { ok: true, place: null, cancels };
  }

  // ---------------------------------------------------------------- book reports

  /**
   * Applies the book events of one market that concern this shard's orders (account events), in sequence
   * order. Events at or below the market's last applied sequence are skipped (redelivery); events about
   * orders this shard does not hold are ignored (the other side of a trade, or another shard's order).
   * A fill that meets a parked skip can take back funds open orders hold, and a book can refuse a cancel
   * sent to free held funds: the cancels that cover those claims (coverClaims) are returned, stamped with
   * the latest ts of the events (the market's clock).
   */
  applyBookEvents(marketId: number, events: readonly BookEvent[]): AccountEventStats {
    this.calls++;
    let applied = 0;
    let ts = 0;
    let duplicates = 0;
    let ignored = 0;
    let violations: Violation[] | undefined;
    let last = this.lastSeq.get(marketId) ?? 0;
    for (const e of events) {
      if (e.seq <= last) {
        duplicates++;
        continue;
      }
      last = e.seq;
      if (e.ts > ts) ts = e.ts;
      let v: Violation | null | undefined;
      switch (e.type) {
        case 'trade': {
          const maker = this.orders.get(e.makerOrderId);
          const taker = this.orders.get(e.takerOrderId);
          if (maker === undefined && taker === undefined) {
            ignored++;
            break;
          }
          if (maker !== undefined) {
            v = this.fill(maker, marketId, e.makerAccountId, e.seq, true, e.takerSide !== Side.Buy, e.price, e.size);
            if (v !== null) (violations ??= []).push(v);
          }
          if (taker !== undefined) {
            v = this.fill(taker, marketId, e.takerAccountId, e.seq, false, e.takerSide === Side.Buy, e.price, e.size);
            if (v !== null) (violations ??= []).push(v);
          }
          applied++;
          break;
        }
        case 'done': {
          const o = this.orders.get(e.orderId);
          const wrong = o === undefined ? null : mismatch(o, marketId, e.seq, e.accountId);
          if (o === undefined) {
            ignored++;
          } else if (wrong !== null) {
            (violations ??= []).push(wrong);
          } else {
            this.close(o);
            applied++;
          }
          break;
        }
        case 'rejected': {
          const o = e.command === CommandType.Place ? this.orders.get(e.orderId) : undefined;
          if (o === undefined) {
            // A refused cancel leaves the order as it was: it will still report its own end. If it was to
            // free funds a claim needs, the claim asks again (at the market's clock, which the book takes).
            if (e.command === CommandType.Cancel) {
              const c = this.orders.get(e.orderId);
              if (c !== undefined && c.marketId === marketId) {
                c.cancelRequested = false;
                const t = this.holdToken(c);
                const b = c.account.balances[t]!;
                if (b.deficit !== 0n || b.withdrawalShortfall !== 0n) this.uncovered.push(c.account, t);
              }
            }
            ignored++;
          } else if (mismatch(o, marketId, e.seq, e.accountId) !== null) {
            (violations ??= []).push(mismatch(o, marketId, e.seq, e.accountId)!);
          } else {
            this.close(o);
            applied++;
          }
          break;
        }
        case 'amended': {
          const o = this.orders.get(e.orderId);
          if (o === undefined) {
            ignored++;
            break;
          }
          const wrong = mismatch(o, marketId, e.seq, e.accountId);
          if (wrong !== null) {
            (violations ??= []).push(wrong);
          } else if (e.price !== o.priceTicks || e.size > o.remainingLots || e.size < 0) {
            // Only self-trade decrements reach the book (amend requests are not forwarded: a new price or
            // size needs a new signature); anything else would let an order outgrow what it holds.
            (violations ??= []).push({
              code: 'AMEND_VIOLATION',
              marketId,
              seq: e.seq,
              orderId: o.orderId,
              message: `order ${o.orderId} amended to ${e.size} lots at ${e.price} from ${o.remainingLots} at ${o.priceTicks}`,
            });
          } else {
            this.shrink(o, e.size);
            applied++;
          }
          break;
        }
        case 'accepted':
        case 'level':
          ignored++;
          break;
        default:
          ignored++;
      }
    }
    if (last > 0) this.lastSeq.set(marketId, last);
    const cancels = this.uncovered.length === 0 ? NO_CANCELS : this.drainUncovered(ts);
    return { applied, duplicates, ignored, violations: violations ?? [], cancels };
  }

  /** One side of a trade: consumes the hold of `lots` lots, pays, receives and charges the fee. */
  private fill(o: OpenOrder, marketId: number, accountId: number, seq: number, isMaker: boolean, isBuy: boolean, priceTicks: number, lots: number): Violation | null {
    const wrong = mismatch(o, marketId, seq, accountId);
    if (wrong !== null) return wrong;
    if (isBuy !== o.isBuy || !(lots > 0) || lots > o.remainingLots) {
      return { code: 'OVERFILL', marketId, seq, orderId: o.orderId, message: `order ${o.orderId}: ${lots} lots (${isBuy ? 'buy' : 'sell'}) against ${o.remainingLots} open (${o.isBuy ? 'buy' : 'sell'})` };
    }
    if (!(priceTicks > 0) || (o.isBuy ? priceTicks > o.priceTicks : priceTicks < o.priceTicks)) {
      return { code: 'PRICE_VIOLATION', marketId, seq, orderId: o.orderId, message: `order ${o.orderId} limited to ${o.priceTicks} filled at ${priceTicks}` };
    }
    const m = o.market;
    const acct = o.account;
    const lotsBig = BigInt(lots);
    const quote = lotsBig * BigInt(priceTicks) * m.quotePerLotTick;
    const base = lotsBig * m.def.lotSize;
    const rate = isMaker ? m.def.makerFeeRate : m.def.takerFeeRate;
    // The contract's own rounding (libs/chain fees.ts, shared with settlement and the chain watcher): fee =
    // floor(quote * rate / 1e6) for rate >= 0, rebate = floor(quote * -rate / 1e6) for rate < 0. Settlement
    // puts the same rates in the fill (a maker rebate is capped at the taker's rate, which an order accepted
    // here always pays in full: its maxFeeRate is at least minFeeBound), so the chain moves the same amounts.
    const fee = feeAmount(quote, rate);
    const rebate = rebateAmount(quote, rate);
    const remaining = o.remainingLots - lots;
    const newHold = remaining === 0 ? 0n : holdFor(m, o.isBuy, o.priceTicks, remaining);
    const consumed = o.hold - newHold;
    o.remainingLots = remaining;
    o.hold = newHold;
    const q = this.balanceOf(acct, m.quote);
    const b = this.balanceOf(acct, m.base);
    if (o.isBuy) {
      // consumed >= quote + fee: the hold was priced at the limit (>= this price) and the highest rate.
      q.heldOrders -= consumed;
      q.unsettledOut += quote;
      q.feesOwed += fee;
      q.unsettledIn += rebate;
      this.credit(q, consumed - quote - fee + rebate);
      b.unsettledIn += base;
      this.credit(b, base);
    } else {
      b.heldOrders -= consumed;
      b.unsettledOut += base;
      this.credit(b, consumed - base);
      q.unsettledIn += quote + rebate;
      q.feesOwed += fee;
      this.credit(q, quote - fee + rebate);
    }
    this.settleParked(acct, q, m.quote);
    this.settleParked(acct, b, m.base);
    this.fees[m.quote]! += fee - rebate;
    if (o.isBuy) {
      this.flow[m.quote]! -= quote;
      this.flow[m.base]! += base;
    } else {
      this.flow[m.quote]! += quote;
      this.flow[m.base]! -= base;
    }
    return null;
  }

  /** Self-trade decrement: the order's open size drops to `lots`, the difference is released. */
  private shrink(o: OpenOrder, lots: number): void {
    const newHold = holdFor(o.market, o.isBuy, o.priceTicks, lots);
    const freed = o.hold - newHold;
    o.remainingLots = lots;
    o.hold = newHold;
    const bal = this.balanceOf(o.account, this.holdToken(o));
    bal.heldOrders -= freed;
    this.credit(bal, freed);
  }

  /** The order left the book (filled, cancelled, expired, killed, self-trade, rejected): release what it holds. */
  private close(o: OpenOrder): void {
    const bal = this.balanceOf(o.account, this.holdToken(o));
    bal.heldOrders -= o.hold;
    this.credit(bal, o.hold);
    o.hold = 0n;
    o.remainingLots = 0;
    this.orders.delete(o.orderId);
    unlink(o.account, o);
  }

  // ---------------------------------------------------------------- helpers

  /** Adds freed or received funds: a deficit is paid first, then a pending withdrawal's shortfall. */
  private credit(bal: Balance, amount: bigint): void {
    if (amount === 0n) return;
    if (bal.deficit !== 0n) {
      const pay = amount < bal.deficit ? amount : bal.deficit;
      bal.deficit -= pay;
      amount -= pay;
      if (amount === 0n) return;
    }
    const short = bal.withdrawalShortfall;
    if (short === 0n) {
      bal.available += amount;
      return;
    }
    const cover = amount < short ? amount : short;
    bal.withdrawalShortfall = short - cover;
    bal.heldWithdrawals += cover;
    bal.available += amount - cover;
  }

  /**
   * Takes back funds (the inverse of credit): from available first, then from the withdrawal reservation
   * (which is short by that much again), and what neither has becomes the deficit. Returns whether a claim
   * on the account's held funds grew (a withdrawal shortfall or the deficit): then open orders hold funds
   * the chain does not have for it, and coverClaims must cancel enough of them.
   */
  private debit(bal: Balance, amount: bigint): boolean {
    const fromAvailable = amount < bal.available ? amount : bal.available;
    bal.available -= fromAvailable;
    amount -= fromAvailable;
    if (amount === 0n) return false;
    const fromHeld = amount < bal.heldWithdrawals ? amount : bal.heldWithdrawals;
    bal.heldWithdrawals -= fromHeld;
    bal.withdrawalShortfall += fromHeld;
    bal.deficit += amount - fromHeld;
    return true;
  }

  /**
   * The one rule for freeing held funds a claim needs (a withdrawal request beyond available, or a deficit
   * or shortfall left by skipped fills): cancels the account's newest open orders holding token `t` until
   * their holds, with those of the orders already being cancelled and the parked settlement receipt on its
   * way, cover the balance's claims (deficit + withdrawalShortfall). The released holds pay the claims
   * through credit, deficit first, when the books report the cancels. Pushes the book cancels to `out`.
   */
  private coverClaims(acct: Account, t: number, bal: Balance, ts: number, out: ForwardedCancel[]): void {
    if (bal.heldOrders === 0n) return;
    let toFree = bal.deficit + bal.withdrawalShortfall - parkedReceipt(bal);
    if (toFree <= 0n) return;
    for (const o of ordersOf(acct)) if (o.cancelRequested && this.holdToken(o) === t) toFree -= o.hold;
    for (let o = acct.lastOrder; o !== null && toFree > 0n; o = o.prev) {
      if (o.cancelRequested || this.holdToken(o) !== t) continue;
      o.cancelRequested = true;
      toFree -= o.hold;
      out.push(this.cancelOf(o, ts));
    }
  }

  /**
   * Covers the claims of the balances `uncovered` names (see coverClaims), in the order they were named, and
   * empties it: called at the end of every apply / applyBookEvents that named one, so between calls (and in
   * every snapshot) it is empty, and the state stays a pure function of the input.
   */
  private drainUncovered(ts: number): ForwardedCancel[] {
    const out: ForwardedCancel[] = [];
    const u = this.uncovered;
    for (let i = 0; i < u.length; i += 2) {
      const acct = u[i] as Account;
      const t = u[i + 1] as number;
      this.coverClaims(acct, t, acct.balances[t]!, ts, out);
    }
    u.length = 0;
    return out;
  }

  private holdToken(o: OpenOrder): number {
    return o.isBuy ? o.market.quote : o.market.base;
  }

  private cancelOf(o: OpenOrder, ts: number): ForwardedCancel {
    const command: CancelOrder = { type: 'cancel', ts, orderId: o.orderId, accountId: o.account.id };
    return { marketId: o.marketId, command };
  }

  private ownAccount(a: unknown): 'INVALID_ADDRESS' | 'WRONG_SHARD' | null {
    if (!isAddress(a)) return 'INVALID_ADDRESS';
    if (shardForAccount(a, this.shards) !== this.shard) return 'WRONG_SHARD';
    return null;
  }

  private tokenOf(token: unknown): number | 'UNKNOWN_TOKEN' {
    const t = typeof token === 'string' ? this.tokenIndex.get(token as Address) : undefined;
    return t ?? 'UNKNOWN_TOKEN';
  }

  private accountToken(account: Address, token: Address, amount: unknown): [Account, number, Balance] | RiskOutcome {
    const t = this.tokenOf(token);
    if (typeof t === 'string') return reject(t, `token ${show(token)} is not traded here`);
    if (!isAmount(amount)) return reject('INVALID_AMOUNT', 'amount must be a uint128 greater than zero');
    const owner = this.ownAccount(account);
    if (typeof owner === 'string') return reject(owner, `account ${show(account)} is not an address of shard ${this.shard}`);
    const acct = this.accounts.get(account);
    const bal = acct?.balances[t];
    if (acct === undefined || bal === undefined) return reject('INSUFFICIENT_FUNDS', `${account} holds no ${token}`);
    return [acct, t, bal];
  }

  protected balanceOf(acct: Account, token: number): Balance {
    let b = acct.balances[token];
    if (b === undefined) {
      b = new Balance();
      acct.balances[token] = b;
    }
    return b;
  }

  protected openAccount(address: Address): Account | undefined {
    const id = mintId(this.accountCounter + 1, this.shard, this.shards);
    if (!Number.isSafeInteger(id)) return undefined;
    this.accountCounter++;
    const acct: Account = { address, id, balances: [], keys: new Set(), nonces: new NonceSet(), firstOrder: null, lastOrder: null };
    this.accounts.set(address, acct);
    this.accountsById.set(id, acct);
    return acct;
  }

  // ---------------------------------------------------------------- snapshot

  /** The whole state as canonical bytes (see snapshot.ts); restore() rebuilds an identical engine from them. */
  snapshot(): Uint8Array {
    return encodeSnapshotState(this.snapshotState());
  }

  /** Hash of the snapshot bytes: equal for replicas that applied the same input. O(state). */
  stateHash(): string {
    return hashBytes(this.snapshot());
  }

  /** The snapshot and its hash from one encoding (a checkpoint needs both; encoding is O(state) with sorting). */
  snapshotWithHash(): { state: Uint8Array; stateHash: string } {
    const state = this.snapshot();
    return { state, stateHash: hashBytes(state) };
  }

  private snapshotState(): SnapshotState {
    const accounts = [...this.accountsById.values()].sort((a, b) => a.id - b.id);
    // The lowest format version that can hold the state: a state with nothing parked encodes (and hashes)
    // exactly as before parked settlements existed, so older snapshots and their recorded hashes stay valid.
    const v3 = accounts.some((a) => a.balances.some((b) => b !== undefined && hasV3(b)));
    const parked = v3 || accounts.some((a) => a.balances.some((b) => b !== undefined && hasParked(b)));
    return {
      format: SNAPSHOT_FORMAT,
      version: v3 ? SNAPSHOT_VERSION : parked ? 2 : 1,
      shard: this.shard,
      shards: this.shards,
      config: configFingerprint(this.config),
      accountCounter: this.accountCounter,
      orderCounter: this.orderCounter,
      lastSeq: [...this.lastSeq.entries()].sort((a, b) => a[0] - b[0]),
      totals: this.tokens.map((_, t) => [this.deposits[t]!.toString(), this.withdrawals[t]!.toString(), this.fees[t]!.toString(), this.flow[t]!.toString()]),
      accounts: accounts.map((a) => ({
        address: a.address,
        id: a.id,
        keys: [...a.keys].sort(),
        nonces: a.nonces.values().map(BigInt).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map(String),
        balances: a.balances.flatMap((b, t) =>
          b === undefined
            ? []
            : [
                [
                  t,
                  b.onchain.toString(),
                  b.available.toString(),
                  b.heldOrders.toString(),
                  b.heldWithdrawals.toString(),
                  b.withdrawalShortfall.toString(),
                  b.unsettledIn.toString(),
                  b.unsettledOut.toString(),
                  b.feesOwed.toString(),
                  ...(parked ? [b.parkedIn.toString(), b.parkedOut.toString(), b.parkedFees.toString()] : []),
                  ...(v3 ? [b.deficit.toString(), b.skippedIn.toString(), b.skippedOut.toString(), b.skippedFees.toString(), b.parkedWithdrawal.toString()] : []),
                ] as SnapshotState['accounts'][number]['balances'][number],
              ],
        ),
      })),
      orders: [...this.orders.values()]
        .sort((a, b) => a.orderId - b.orderId)
        .map((o) => [o.orderId, o.marketId, o.account.id, o.isBuy, o.priceTicks, o.nonce.toString(), o.remainingLots, o.cancelRequested]),
    };
  }

  /**
   * A new engine with the state of `bytes`. Refuses (RiskError INVALID_SNAPSHOT) a snapshot of another shard
   * or configuration, a malformed one, one whose state breaks an invariant, or one that does not re-encode
   * to the same bytes (so the state hash after restore is the one it was taken with).
   */
  static restore(config: RiskConfig, bytes: Uint8Array): RiskEngine {
    const s = decodeSnapshotState(bytes);
    const e = new RiskEngine(config);
    const bad = (why: string): never => {
      throw new RiskError('INVALID_SNAPSHOT', why);
    };
    if (s.shard !== e.shard || s.shards !== e.shards) bad(`snapshot of shard ${s.shard}/${s.shards} restored on ${e.shard}/${e.shards}`);
    if (s.config !== configFingerprint(config)) bad('snapshot taken with another market/fee configuration');
    if (s.totals.length !== e.tokens.length) bad(`snapshot has ${s.totals.length} tokens, the configuration ${e.tokens.length}`);
    e.accountCounter = s.accountCounter;
    e.orderCounter = s.orderCounter;
    for (const [m, seq] of s.lastSeq) e.lastSeq.set(m, seq);
    s.totals.forEach(([d, w, f, flow], t) => {
      e.deposits[t] = BigInt(d);
      e.withdrawals[t] = BigInt(w);
      e.fees[t] = BigInt(f);
      e.flow[t] = BigInt(flow);
    });
    for (const a of s.accounts) {
      const address = a.address as Address;
      if (e.ownAccount(address) !== null) bad(`account ${address} is not on shard ${e.shard}`);
      if (a.id % e.shards !== e.shard || a.id > mintId(e.accountCounter, e.shard, e.shards) || e.accountsById.has(a.id) || e.accounts.has(address)) {
        bad(`account id ${a.id} of ${address} is not one this shard minted once`);
      }
      const acct: Account = { address, id: a.id, balances: [], keys: new Set(a.keys as Address[]), nonces: new NonceSet(), firstOrder: null, lastOrder: null };
      for (const n of a.nonces) acct.nonces.add(nonceKey(BigInt(n)));
      for (const [t, ...v] of a.balances) {
        if (t >= e.tokens.length || acct.balances[t] !== undefined) bad(`account ${address}: bad token index ${t}`);
        const b = new Balance();
        if (v.length !== (s.version === 1 ? 8 : s.version === 2 ? 11 : 16)) bad(`account ${address}: a version ${s.version} balance has ${v.length + 1} fields`);
        const n = [...v.map(BigInt), 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] as bigint[];
        [b.onchain, b.available, b.heldOrders, b.heldWithdrawals, b.withdrawalShortfall, b.unsettledIn, b.unsettledOut, b.feesOwed] = n as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        [b.parkedIn, b.parkedOut, b.parkedFees, b.deficit, b.skippedIn, b.skippedOut, b.skippedFees, b.parkedWithdrawal] = n.slice(8) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        b.waiting = isWaiting(b);
        acct.balances[t] = b;
      }
      e.accounts.set(address, acct);
      e.accountsById.set(a.id, acct);
    }
    for (const [orderId, marketId, accountId, isBuy, priceTicks, nonce, remainingLots, cancelRequested] of s.orders) {
      const m = e.markets.get(marketId);
      const acct = e.accountsById.get(accountId);
      if (m === undefined || acct === undefined) bad(`order ${orderId}: unknown market ${marketId} or account ${accountId}`);
      if (orderId % e.shards !== e.shard || orderId > mintId(e.orderCounter, e.shard, e.shards) || e.orders.has(orderId)) bad(`order id ${orderId} is not one this shard minted once`);
      if (remainingLots < 1 || !Number.isSafeInteger(remainingLots) || !Number.isSafeInteger(priceTicks)) bad(`order ${orderId}: bad size or price`);
      const o: OpenOrder = {
        orderId,
        marketId,
        market: m!,
        account: acct!,
        isBuy,
        priceTicks,
        nonce: BigInt(nonce),
        remainingLots,
        hold: holdFor(m!, isBuy, priceTicks, remainingLots),
        cancelRequested,
        prev: null,
        next: null,
      };
      e.orders.set(orderId, o);
      link(acct!, o);
    }
    const broken = e.checkInvariants();
    if (broken.length > 0) bad(`the restored state breaks invariants: ${broken.slice(0, 3).join('; ')}`);
    const again = e.snapshot();
    if (again.length !== bytes.length || !again.every((x, i) => x === bytes[i])) bad('the snapshot is not in canonical form');
    return e;
  }

  // ---------------------------------------------------------------- reads

  /** The account id minted for an address on this shard (undefined until its first deposit or key). */
  accountId(address: Address): number | undefined {
    return this.accounts.get(address)?.id;
  }

  /** The address behind an account id of this shard. */
  accountAddress(id: number): Address | undefined {
    return this.accountsById.get(id)?.address;
  }

  /** Addresses of the shard's accounts, in id order. */
  accountAddresses(): Address[] {
    return [...this.accountsById.keys()].sort((a, b) => a - b).map((id) => this.accountsById.get(id)!.address);
  }

  /** A copy of one account's balance in one token (all zero if it never held it). */
  balance(address: Address, token: Address): BalanceView {
    const t = this.tokenIndex.get(token);
    const b = t === undefined ? undefined : this.accounts.get(address)?.balances[t];
    const v = b ?? new Balance();
    return {
      onchain: v.onchain,
      available: v.available,
      heldOrders: v.heldOrders,
      heldWithdrawals: v.heldWithdrawals,
      withdrawalShortfall: v.withdrawalShortfall,
      unsettledIn: v.unsettledIn,
      unsettledOut: v.unsettledOut,
      feesOwed: v.feesOwed,
      deficit: v.deficit,
    };
  }

  /** One account's deficit in one token (see BalanceView): what skipped fills took back beyond its free funds. */
  deficit(address: Address, token: Address): bigint {
    const t = this.tokenIndex.get(token);
    return (t === undefined ? undefined : this.accounts.get(address)?.balances[t])?.deficit ?? 0n;
  }

  /** One account's parked settlement in one token (see ParkedSettlement; all zero when nothing waits). */
  parked(address: Address, token: Address): ParkedSettlement {
    const t = this.tokenIndex.get(token);
    const b = t === undefined ? undefined : this.accounts.get(address)?.balances[t];
    return { received: b?.parkedIn ?? 0n, paid: b?.parkedOut ?? 0n, fees: b?.parkedFees ?? 0n };
  }

  /** Everything one balance has waiting for fills this shard has not seen yet (all zero when nothing waits). */
  parkedChainEvents(address: Address, token: Address): ParkedChainEvents {
    const t = this.tokenIndex.get(token);
    const b = (t === undefined ? undefined : this.accounts.get(address)?.balances[t]) ?? new Balance();
    return {
      received: b.parkedIn,
      paid: b.parkedOut,
      fees: b.parkedFees,
      skippedReceived: b.skippedIn,
      skippedPaid: b.skippedOut,
      skippedFees: b.skippedFees,
      withdrawal: b.parkedWithdrawal,
    };
  }

  /** How many balances have anything parked (settlements, skipped fills, withdrawals): 0 once every fill arrived. O(accounts). */
  get parkedBalanceCount(): number {
    let n = 0;
    for (const acct of this.accounts.values()) for (const b of acct.balances) if (b !== undefined && isWaiting(b)) n++;
    return n;
  }

  /**
   * Per token (only tokens with any), in ONE scan of the accounts (O(accounts): for metrics and audits):
   * - `parked`: settlements applied on chain that this shard has not matched with fills yet, summed, and how
   *   many balances wait. Transient while account events lag chain events; an amount that stays is a
   *   settlement no fill here will ever explain (an alert).
   * - `skipped`: the same for skipped fills (a settlementSkipped that arrived before the fills it reverses).
   * - `deficit`: how many balances owe one and the sum owed (base units): what skipped fills took back beyond
   *   what the accounts had free and their open orders released, funds the exchange is short of (an alert).
   */
  /** Changes when the state may have (every apply / applyBookEvents call): see RiskMetrics' scan reuse. */
  get changeCount(): number {
    return this.calls;
  }

  pendingByToken(): Map<Address, PendingByToken> {
    const r = new Map<Address, PendingByToken>();
    const entry = (t: number): PendingByToken => {
      const token = this.tokens[t]!;
      let e = r.get(token);
      if (e === undefined) {
        e = { parked: { received: 0n, paid: 0n, fees: 0n, balances: 0 }, skipped: { received: 0n, paid: 0n, fees: 0n, balances: 0 }, deficit: { balances: 0, amount: 0n } };
        r.set(token, e);
      }
      return e;
    };
    for (const acct of this.accounts.values()) {
      acct.balances.forEach((b, t) => {
        if (b === undefined) return;
        if (hasParked(b)) addParked(entry(t).parked, b.parkedIn, b.parkedOut, b.parkedFees);
        if (b.skippedIn !== 0n || b.skippedOut !== 0n || b.skippedFees !== 0n) addParked(entry(t).skipped, b.skippedIn, b.skippedOut, b.skippedFees);
        if (b.deficit !== 0n) {
          const d = entry(t).deficit;
          d.balances++;
          d.amount += b.deficit;
        }
      });
    }
    return r;
  }

  /** pendingByToken's settlements waiting for their fills, only tokens with one. */
  parkedSettlements(): Map<Address, ParkedSettlement & { balances: number }> {
    return pick(this.pendingByToken(), (e) => (e.parked.balances === 0 ? undefined : e.parked));
  }

  /** pendingByToken's skipped fills waiting for their fills, only tokens with one. */
  parkedSkips(): Map<Address, ParkedSettlement & { balances: number }> {
    return pick(this.pendingByToken(), (e) => (e.skipped.balances === 0 ? undefined : e.skipped));
  }

  /** pendingByToken's deficits, only tokens with one. */
  deficits(): Map<Address, { balances: number; amount: bigint }> {
    return pick(this.pendingByToken(), (e) => (e.deficit.balances === 0 ? undefined : e.deficit));
  }

  totals(token: Address): TokenTotals {
    const t = this.tokenIndex.get(token);
    if (t === undefined) return { deposits: 0n, withdrawals: 0n, fees: 0n, flow: 0n };
    return { deposits: this.deposits[t]!, withdrawals: this.withdrawals[t]!, fees: this.fees[t]!, flow: this.flow[t]! };
  }

  openOrders(): OpenOrderView[] {
    return [...this.orders.values()]
      .sort((a, b) => a.orderId - b.orderId)
      .map((o) => ({
        orderId: o.orderId,
        marketId: o.marketId,
        accountId: o.account.id,
        isBuy: o.isBuy,
        priceTicks: o.priceTicks,
        remainingLots: o.remainingLots,
        hold: o.hold,
        nonce: o.nonce,
        cancelRequested: o.cancelRequested,
      }));
  }

  get openOrderCount(): number {
    return this.orders.size;
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /**
   * Every invariant the engine promises, as a list of broken ones (empty = all hold): no negative field;
   * per account and token available + heldOrders + heldWithdrawals == onchain + unsettledIn - unsettledOut -
   * feesOwed; heldOrders == Σ holdFor(open orders); per token Σ(available + heldOrders + heldWithdrawals) +
   * fees == deposits - withdrawals + flow (flow: the shard's net receipts from fills; it sums to zero over
   * all shards, and is zero for a single shard). O(state): for tests, audits and after restore, not the hot path.
   */
  checkInvariants(): string[] {
    const broken: string[] = [];
    const held = new Map<string, bigint>();
    for (const o of this.orders.values()) {
      const expect = holdFor(o.market, o.isBuy, o.priceTicks, o.remainingLots);
      if (o.hold !== expect) broken.push(`order ${o.orderId} holds ${o.hold}, its remaining ${o.remainingLots} lots can cost ${expect}`);
      if (o.remainingLots <= 0) broken.push(`order ${o.orderId} is open with ${o.remainingLots} lots`);
      const k = `${o.account.id}/${this.holdToken(o)}`;
      held.set(k, (held.get(k) ?? 0n) + o.hold);
    }
    const sums = this.tokens.map(() => 0n);
    for (const acct of this.accounts.values()) {
      acct.balances.forEach((b, t) => {
        if (b === undefined) return;
        for (const [k, v] of Object.entries(b) as [string, bigint][]) if (v < 0n) broken.push(`${acct.address} ${this.tokens[t]!} ${k} is ${v}`);
        const lhs = b.available + b.heldOrders + b.heldWithdrawals;
        const rhs = b.onchain + b.unsettledIn - b.unsettledOut - b.feesOwed + b.deficit;
        if (lhs !== rhs) broken.push(`${acct.address} ${this.tokens[t]!}: available + held ${lhs} != onchain + unsettled + deficit ${rhs}`);
        if (b.deficit !== 0n && (b.available !== 0n || b.heldWithdrawals !== 0n)) broken.push(`${acct.address} ${this.tokens[t]!}: a deficit of ${b.deficit} with ${b.available} available, ${b.heldWithdrawals} reserved`);
        const h = held.get(`${acct.id}/${t}`) ?? 0n;
        if (b.heldOrders !== h) broken.push(`${acct.address} ${this.tokens[t]!}: heldOrders ${b.heldOrders} != open orders' holds ${h}`);
        sums[t]! += lhs - b.deficit;
      });
    }
    this.tokens.forEach((token, t) => {
      const want = this.deposits[t]! - this.withdrawals[t]! + this.flow[t]!;
      if (sums[t]! + this.fees[t]! !== want) {
        broken.push(`${token}: Σ balances ${sums[t]!} + fees ${this.fees[t]!} != deposits - withdrawals + fill flow ${want}`);
      }
    });
    return broken;
  }
}

function isWaiting(b: Balance): boolean {
  return hasParked(b) || b.skippedIn !== 0n || b.skippedOut !== 0n || b.skippedFees !== 0n || b.parkedWithdrawal !== 0n;
}

function hasParked(b: Balance): boolean {
  return b.parkedIn !== 0n || b.parkedOut !== 0n || b.parkedFees !== 0n;
}

/** Whether the balance needs snapshot version 3 (skips, deficits, withdrawals waiting for a receipt). */
function hasV3(b: Balance): boolean {
  return b.deficit !== 0n || b.skippedIn !== 0n || b.skippedOut !== 0n || b.skippedFees !== 0n || b.parkedWithdrawal !== 0n;
}

/** What a parked settlement adds to the contract's balance net (0 if it takes more than it adds). */
function parkedReceipt(b: Balance): bigint {
  const net = b.parkedIn - b.parkedOut - b.parkedFees;
  return net > 0n ? net : 0n;
}

/** Appends an order to its account's list (orders are placed with increasing ids, so the list is by id). */
function link(acct: Account, o: OpenOrder): void {
  o.prev = acct.lastOrder;
  o.next = null;
  if (acct.lastOrder === null) acct.firstOrder = o;
  else acct.lastOrder.next = o;
  acct.lastOrder = o;
}

function unlink(acct: Account, o: OpenOrder): void {
  if (o.prev === null) acct.firstOrder = o.next;
  else o.prev.next = o.next;
  if (o.next === null) acct.lastOrder = o.prev;
  else o.next.prev = o.prev;
  o.prev = null;
  o.next = null;
}

/**
 * Whether a book event about order `o` contradicts it: another market, or another account (an order id this
 * shard minted, reused by someone else's order, must never move this account's funds). Null when it matches.
 */
function mismatch(o: OpenOrder, marketId: number, seq: number, accountId: number): Violation | null {
  if (o.marketId !== marketId) {
    return { code: 'MARKET_MISMATCH', marketId, seq, orderId: o.orderId, message: `order ${o.orderId} is in market ${o.marketId}, reported by market ${marketId}` };
  }
  if (o.account.id !== accountId) {
    return { code: 'ACCOUNT_MISMATCH', marketId, seq, orderId: o.orderId, message: `order ${o.orderId} belongs to account ${o.account.id}, reported for account ${accountId}` };
  }
  return null;
}

/** Per token: what waits on the shard's balances (RiskEngine.pendingByToken). */
export interface PendingByToken {
  readonly parked: { received: bigint; paid: bigint; fees: bigint; balances: number };
  readonly skipped: { received: bigint; paid: bigint; fees: bigint; balances: number };
  readonly deficit: { balances: number; amount: bigint };
}

function addParked(p: { received: bigint; paid: bigint; fees: bigint; balances: number }, received: bigint, paid: bigint, fees: bigint): void {
  p.received += received;
  p.paid += paid;
  p.fees += fees;
  p.balances++;
}

function pick<T>(m: ReadonlyMap<Address, PendingByToken>, f: (e: PendingByToken) => T | undefined): Map<Address, T> {
  const r = new Map<Address, T>();
  for (const [token, e] of m) {
    const v = f(e);
    if (v !== undefined) r.set(token, v);
  }
  return r;
}

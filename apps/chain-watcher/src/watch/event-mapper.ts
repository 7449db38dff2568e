// Contract logs -> the risk ledger's chain events. Pure: no RPC, no clock. What the mapping needs from the
// chain besides the logs (block times, the withdrawal requests pending before the range) arrives as input.
import { quoteAmount, signedFee, type DecodedBatch } from '@parallax/chain';
import type { ChainEvent } from '@parallax/contracts';

type Hex = `0x${string}`;

/** A decoded ParallaxSettlement log (viem's decodeEventLog output plus its position). */
export interface ContractLog {
  readonly eventName: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly blockNumber: bigint;
  readonly logIndex: number;
  /** The transaction that emitted it (a FillsSkipped log's fills are in its calldata). */
  readonly transactionHash?: Hex;
}

export interface MappedRange {
  /** In log order (block, log index); every event names its account. */
  readonly events: ChainEvent[];
  /** Fills applied on chain (FillsSettled entries) and fills the contract skipped (FillsSkipped indexes). */
  readonly settledFills: number;
  readonly skippedFills: number;
  /** Skipped fills whose batch calldata was not available (not a direct settleBatch call): alerted, not mapped. */
  readonly unattributedSkips: number;
  /** Every (account, token) whose contract balance the range changed: what reconciliation checks. */
  readonly touched: Set<string>;
}

/** `${account}:${token}`, both lower-case. */
export const pairKey = (account: string, token: string): string => `${account.toLowerCase()}:${token.toLowerCase()}`;

/**
 * One FillsSettled entry: buyer 20 | seller 20 | baseIdx 1 | quoteIdx 1 | u128 base | u128 quote | int128 buyFee |
 * int128 sellFee (106 bytes; a negative fee is a maker rebate paid to that side).
 */
export const SETTLED_FILL_BYTES = 106;

export class MappingError extends Error {
  constructor(
    readonly code: 'MALFORMED_LOG' | 'UNKNOWN_PENDING_WITHDRAWAL' | 'MISSING_BLOCK_TIME',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'MappingError';
  }
}

const lower = (a: unknown, what: string): Hex => {
  if (typeof a !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(a)) throw new MappingError('MALFORMED_LOG', `${what} is not an address`);
  return a.toLowerCase() as Hex;
};
const uint = (v: unknown, what: string): bigint => {
  if (typeof v !== 'bigint' || v < 0n) throw new MappingError('MALFORMED_LOG', `${what} is not a uint`);
  return v;
};

/**
 * Maps one block range's logs (sorted by block and log index) to chain events.
 * - `blockTimes`: block number -> unix seconds, for every block with a log.
 * - `skippedBatches`: transaction hash -> its decoded settleBatch calldata, for every FillsSkipped log (the
 *   event names fill indexes only).
 * - `nowMs`: the watcher's clock. Events that make the ledger cancel orders (withdrawal requests, nonce and
 *   order cancels) carry ts = max(block time, nowMs) in ms: the cancels they cause are new book commands,
 *   and a book refuses a command older than the last one it applied (TIMESTAMP_REGRESSION), which the block
 *   time, seconds to minutes behind the traders' requests, nearly always is. The value is fixed in the
 *   committed event, so a replay sees the same one.
 * - `pendingBefore`: pairKey -> the amount of the withdrawal request pending just before the range, for every
 *   (trader, token) with a withdrawal log in it. The contract replaces a pending request and executes
 *   min(requested, balance): the ledger is told what it reserved is released (a cancel of the old amount, a
 *   cancel of the part not paid), so a reservation never outlives the contract's request.
 */
export function mapLogs(
  logs: readonly ContractLog[],
  blockTimes: ReadonlyMap<bigint, bigint>,
  pendingBefore: ReadonlyMap<string, bigint>,
  nowMs = 0,
  skippedBatches: ReadonlyMap<string, DecodedBatch> = new Map(),
): MappedRange {
  const events: ChainEvent[] = [];
  const touched = new Set<string>();
  const pending = new Map(pendingBefore);
  let settledFills = 0;
  let skippedFills = 0;
  let unattributedSkips = 0;
  const tsOf = (log: ContractLog): number => {
    const t = blockTimes.get(log.blockNumber);
    if (t === undefined) throw new MappingError('MISSING_BLOCK_TIME', `no time for block ${log.blockNumber}`);
    const blockMs = Number(t) * 1000;
    return blockMs > nowMs ? blockMs : nowMs;
  };
  const pendingOf = (key: string): bigint => {
    const p = pending.get(key);
    if (p === undefined) throw new MappingError('UNKNOWN_PENDING_WITHDRAWAL', `no pending withdrawal state for ${key}`);
    return p;
  };
  for (const log of logs) {
    const a = log.args;
    switch (log.eventName) {
      case 'Deposited': {
        const account = lower(a.trader, 'trader');
        const token = lower(a.token, 'token');
        events.push({ type: 'deposit', account, token, amount: uint(a.amount, 'amount') });
        touched.add(pairKey(account, token));
        break;
      }
      case 'WithdrawalRequested': {
        const account = lower(a.trader, 'trader');
        const token = lower(a.token, 'token');
        const key = pairKey(account, token);
        const before = pendingOf(key);
        if (before > 0n) events.push({ type: 'withdrawalCancelled', account, token, amount: before });
        const amount = uint(a.amount, 'amount');
        events.push({ type: 'withdrawalRequested', ts: tsOf(log), account, token, amount });
        pending.set(key, amount);
        break;
      }
      case 'WithdrawalCancelled': {
        const account = lower(a.trader, 'trader');
        const token = lower(a.token, 'token');
        events.push({ type: 'withdrawalCancelled', account, token, amount: uint(a.amount, 'amount') });
        pending.set(pairKey(account, token), 0n);
        break;
      }
      case 'WithdrawalExecuted': {
        const account = lower(a.trader, 'trader');
        const token = lower(a.token, 'token');
        const key = pairKey(account, token);
        const requested = pendingOf(key);
        const paid = uint(a.amount, 'amount');
        if (paid > requested) throw new MappingError('MALFORMED_LOG', `withdrawal of ${paid} exceeds the ${requested} requested by ${key}`);
        if (paid > 0n) events.push({ type: 'withdrawalExecuted', account, token, amount: paid });
        if (requested > paid) events.push({ type: 'withdrawalCancelled', account, token, amount: requested - paid });
        pending.set(key, 0n);
        touched.add(key);
        break;
      }
      case 'FillsSettled': {
        const settled = settledPerAccount(a.tokens, a.fills);
        settledFills += settled.fills;
        for (const e of settled.events) {
          events.push(e);
          touched.add(pairKey(e.account, e.token));
        }
        break;
      }
      case 'FillsSkipped': {
        const idx = a.fillIndexes;
        if (!Array.isArray(idx)) throw new MappingError('MALFORMED_LOG', 'fillIndexes is not a list');
        skippedFills += idx.length;
        const batch = log.transactionHash === undefined ? undefined : skippedBatches.get(log.transactionHash);
        if (batch === undefined) {
          unattributedSkips += idx.length;
          break;
        }
        for (const e of skippedPerAccount(batch, idx)) events.push(e);
        break;
      }
      case 'TradingKeyAuthorized':
        events.push({ type: 'keyAuthorized', account: lower(a.trader, 'trader'), key: lower(a.key, 'key') });
        break;
      case 'TradingKeyRevoked':
        events.push({ type: 'keyRevoked', account: lower(a.trader, 'trader'), key: lower(a.key, 'key') });
        break;
      case 'NoncesCancelled':
        events.push({ type: 'nonceFloorRaised', ts: tsOf(log), account: lower(a.trader, 'trader'), floor: uint(a.nonceFloor, 'nonceFloor') });
        break;
      case 'OrderCancelled': {
        const h = a.orderHash;
        if (typeof h !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(h)) throw new MappingError('MALFORMED_LOG', 'orderHash is not 32 bytes');
        events.push({ type: 'orderCancelled', ts: tsOf(log), account: lower(a.trader, 'trader'), orderHash: h.toLowerCase() as Hex });
        break;
      }
      default:
        // Administration (listing, operator, owner, fee recipient) and per-batch bookkeeping (OrdersFilled,
        // FeesCollected, BatchSettled): nothing of a trader's ledger.
        break;
    }
  }
  return { events, settledFills, skippedFills, unattributedSkips, touched };
}

/**
 * One FillsSettled log as the ledger's `settled` records, one per (account, token) in first-seen order: the
 * buyer received base and paid quote plus its fee; the seller paid base and received quote, paying its fee
 * (the contract's own account of the fill, see the event's NatSpec).
 */
export function settledPerAccount(tokensArg: unknown, fillsArg: unknown): { events: Extract<ChainEvent, { type: 'settled' }>[]; fills: number } {
  if (!Array.isArray(tokensArg)) throw new MappingError('MALFORMED_LOG', 'tokens is not a list');
  const tokens = tokensArg.map((t, i) => lower(t, `tokens[${i}]`));
  if (typeof fillsArg !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(fillsArg)) throw new MappingError('MALFORMED_LOG', 'fills is not bytes');
  const bytes = Buffer.from(fillsArg.slice(2), 'hex');
  if (bytes.length % SETTLED_FILL_BYTES !== 0) throw new MappingError('MALFORMED_LOG', `fills of ${bytes.length} bytes is not a whole number of ${SETTLED_FILL_BYTES}-byte entries`);
  const acc = new Netting();
  const u128 = (off: number): bigint => BigInt(`0x${bytes.subarray(off, off + 16).toString('hex')}`);
  const i128 = (off: number): bigint => BigInt.asIntN(128, u128(off));
  const fills = bytes.length / SETTLED_FILL_BYTES;
  for (let f = 0; f < fills; f++) {
    const o = f * SETTLED_FILL_BYTES;
    const buyer: Hex = `0x${bytes.subarray(o, o + 20).toString('hex')}`;
    const seller: Hex = `0x${bytes.subarray(o + 20, o + 40).toString('hex')}`;
    const base = tokens[bytes[o + 40]!];
    const quote = tokens[bytes[o + 41]!];
    if (base === undefined || quote === undefined) throw new MappingError('MALFORMED_LOG', `fill ${f} names a token index outside the batch's ${tokens.length} tokens`);
    const baseAmount = u128(o + 42);
    const quoteAmount = u128(o + 58);
    const buyFee = i128(o + 74);
    const sellFee = i128(o + 90);
    acc.fill(buyer, seller, base, quote, baseAmount, quoteAmount, buyFee, sellFee);
  }
  return { events: acc.events('settled'), fills };
}

/** Per (account, token), in first-seen order: what fills moved (the contract's account of a fill). */
class Netting {
  private readonly acc = new Map<string, { account: Hex; token: Hex; received: bigint; paid: bigint; fees: bigint }>();

  /**
   * The buyer receives base and pays quote plus its fee; the seller pays base and receives quote, paying its fee.
   * A fee is signed: a negative one is a maker rebate, which the side received (the risk ledger books a
   * rebate as an unsettled receipt, so it settles as `received`, and `fees` stays what the side was charged).
   */
  fill(buyer: Hex, seller: Hex, base: Hex, quote: Hex, baseAmount: bigint, quoteAmount: bigint, buyFee: bigint, sellFee: bigint): void {
    const bb = this.entry(buyer, base);
    bb.received += baseAmount;
    const bq = this.entry(buyer, quote);
    bq.paid += quoteAmount;
    if (buyFee < 0n) bq.received -= buyFee;
    else bq.fees += buyFee;
    const sb = this.entry(seller, base);
    sb.paid += baseAmount;
    const sq = this.entry(seller, quote);
    sq.received += quoteAmount;
    if (sellFee < 0n) sq.received -= sellFee;
    else sq.fees += sellFee;
  }

  events<T extends 'settled' | 'settlementSkipped'>(type: T): { type: T; account: Hex; token: Hex; received: bigint; paid: bigint; fees: bigint }[] {
    return [...this.acc.values()]
      .filter((e) => e.received !== 0n || e.paid !== 0n || e.fees !== 0n)
      .map((e) => ({ type, account: e.account, token: e.token, received: e.received, paid: e.paid, fees: e.fees }));
  }

  private entry(account: Hex, token: Hex) {
    const key = pairKey(account, token);
    let e = this.acc.get(key);
    if (e === undefined) this.acc.set(key, (e = { account, token, received: 0n, paid: 0n, fees: 0n }));
    return e;
  }
}

/**
 * The fills a batch skipped (FillsSkipped indexes into its calldata's fills) as `settlementSkipped` records:
 * the amounts and fees the contract would have moved, computed with its own rounding.
 */
export function skippedPerAccount(batch: DecodedBatch, indexes: readonly unknown[]): Extract<ChainEvent, { type: 'settlementSkipped' }>[] {
  const acc = new Netting();
  for (const raw of indexes) {
    const i = typeof raw === 'bigint' ? raw : -1n;
    const f = i >= 0n && i < BigInt(batch.fills.length) ? batch.fills[Number(i)] : undefined;
    if (f === undefined) throw new MappingError('MALFORMED_LOG', `skipped fill index ${String(raw)} is not a fill of the batch's ${batch.fills.length}`);
    const buy = batch.orders[f.buyOrder];
    const sell = batch.orders[f.sellOrder];
    if (buy === undefined || sell === undefined) throw new MappingError('MALFORMED_LOG', `skipped fill ${i} names an order outside the batch`);
    const quote = quoteAmount(f.baseAmount, f.price);
    acc.fill(
      lower(buy.trader, 'buyer'),
      lower(sell.trader, 'seller'),
      lower(buy.baseToken, 'baseToken'),
      lower(buy.quoteToken, 'quoteToken'),
      f.baseAmount,
      quote,
      signedFee(quote, f.buyFeeRate),
      signedFee(quote, f.sellFeeRate),
    );
  }
  return acc.events('settlementSkipped');
}

// The trading use-cases: place (single and batch), cancel (by id, by client id, batch, all) and the private
// reads. Each verifies what the trader signed, maps it to engine commands and hands them to the OrderIntake.
import { Inject, Injectable } from '@nestjs/common';
import { hashCancel, hashCancelAll, hashLogin, hashOrder, orderForPlace, type Order } from '@parallax/chain';
import { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import type { Address, Hex } from 'viem';
import { TradingKeys } from '../accounts/trading-keys.js';
import { toApiError } from '../errors/api-exception.filter.js';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { ORDER_INTAKE, type IntakeItem, type OrderIntake } from '../intake/order-intake.js';
import { MarketDataService, type PlaceAnswer } from '../market-data/market-data.service.js';
import { MarketDirectory, type ApiMarket } from '../markets/market-directory.js';
import { recoverSigner } from '../signing/signature-verifier.js';
import { OrderIdGenerator } from './order-ids.js';
import { fillView, orderView, type FillView, type OrderView } from './order-view.js';
import type { AmendOrderDto, CancelAllDto, CancelOrderDto, PlaceOrderDto } from './orders.dto.js';
import { ReplayGuard } from './replay-guard.js';

const UINT64_MAX = (1n << 64n) - 1n;

export interface PlaceResult {
  /** The order id (minted by the account's risk shard; the gateway's own id for an order the shard refused); null while pending. */
  readonly id: string | null;
  readonly clientOrderId: string | null;
  readonly market: string;
  /**
   * 'accepted': the risk shard holds its funds and forwarded it to the market (durably in the log);
   * 'answered': the engine's answer with wait=result, or a refusal by the risk shard (order.status
   * 'rejected', order.reason its code: INSUFFICIENT_FUNDS, NOT_AUTHORIZED...); 'pending': durably in the
   * requests log, but no answer within the bound.
   */
  readonly result: 'accepted' | 'pending' | 'answered';
  /** True when this exact signed order had been submitted before (nothing new was created). */
  readonly duplicate: boolean;
  readonly order: OrderView | null;
}

interface Prepared {
  readonly market: ApiMarket;
  readonly item: Extract<IntakeItem, { kind: 'place' }>;
  readonly trader: Address;
  readonly nonce: bigint;
  readonly priceTicks: number;
  readonly sizeLots: number;
  readonly clientOrderId: string | undefined;
  readonly duplicateOf: { marketId: number; orderId: number } | undefined;
}

export interface Session {
  readonly trader: Address;
  /** Who signed the login: the trader, or a trading key the trader authorized on chain. */
  readonly signer: Address;
  /** Unix seconds. */
  readonly expiry: number;
}

@Injectable()
export class OrdersService {
  /** Ids of orders the risk shards refused (they mint ids for accepted orders only). */
  private readonly refusedIds: OrderIdGenerator;
  private readonly replay = new ReplayGuard();
  /** WebSocket logins, apart from cancels: a login nonce and a cancel nonce of one trader may be equal. */
  private readonly loginReplay = new ReplayGuard();
  /** trader/nonce of places submitted and not answered yet: a resend waits for the first answer. */
  private readonly inFlight = new Map<string, Promise<PlaceResult>>();
  private readonly clock: () => number;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    @Inject(ORDER_INTAKE) private readonly intake: OrderIntake,
    private readonly markets: MarketDirectory,
    private readonly data: MarketDataService,
    private readonly keys: TradingKeys,
  ) {
    this.clock = ctx.clock ?? Date.now;
    this.refusedIds = new OrderIdGenerator(ctx.config.GATEWAY_INSTANCE, this.clock);
  }

  /**
   * Who signed for `trader`: the trader's wallet, or a trading key the trader authorized on chain (as far as
   * this gateway has seen the chain events; the risk shard checks an order's or cancel's key again against its
   * own, authoritative view, so a key revoked a moment ago is refused there with NOT_AUTHORIZED).
   * Anything else is SIGNER_MISMATCH and never reaches the log.
   */
  private signerFor(trader: Address, digest: Hex, signature: string): Address {
    const signer = recoverSigner(digest, signature);
    if (signer !== trader && !this.keys.isAuthorized(trader, signer)) {
      throw new ApiError('SIGNER_MISMATCH', 'the signature was made neither by the trader nor by a trading key the trader authorized');
    }
    return signer;
  }

  private nowSec(): bigint {
    return BigInt(Math.floor(this.clock() / 1000));
  }

  private prepare(dto: PlaceOrderDto): Prepared {
    const market = this.markets.get(dto.market);
    const trader = dto.trader.toLowerCase() as Address;
    const nonce = uint64(dto.nonce, 'nonce');
    const expiry = uint64(dto.expiry, 'expiry');
    const isMarket = dto.type === 'market';
    const tif = dto.timeInForce ?? (isMarket ? 'IOC' : 'GTC');
    if (isMarket && tif === 'GTC') throw new ApiError('INVALID_FIELD', 'timeInForce: a market order is IOC or FOK');
    if (dto.postOnly === true && (isMarket || tif !== 'GTC')) throw new ApiError('INVALID_FIELD', 'postOnly: only for GTC limit orders');
    const priceTicks = market.units.priceToTicks(dto.price);
    const sizeLots = market.units.sizeToLots(dto.amount);
    // Every order carries a finite protection price (the trust model): a market order's price is the worst
    // it may trade at, and it is what the trader signs.
    if (priceTicks <= 0) throw new ApiError('PROTECTION_PRICE_REQUIRED', 'price: a positive price is required, also for market orders');
    if (expiry <= this.nowSec()) throw new ApiError('ORDER_EXPIRED', 'expiry: the order has already expired');
    const order: Order = orderForPlace(
      market.settlement,
      { isBuy: dto.side === 'buy', isMarket, immediate: tif !== 'GTC', priceTicks, sizeLots },
      // With `now`, an IOC/FOK/market order whose signed deadline is not short is refused (INVALID_FIELD).
      { trader, nonce, expiry, maxFeeRate: dto.maxFeeRate, now: this.nowSec() },
    );
    // The trader's wallet or one of its trading keys: the risk shard decides whether that key may act for
    // the trader (its authorizations come from the chain), the gateway only proves who signed.
    const signer = this.signerFor(trader, hashOrder(this.ctx.domain, order), dto.signature);

    const known = this.data.byTraderNonce(trader, nonce);
    if (known !== undefined && known.marketId !== market.def.marketId) throw new ApiError('REPLAYED', 'nonce: this trader already used this nonce for an order in another market');
    if (known === undefined && dto.clientOrderId !== undefined && this.data.byClientOrderId(trader, dto.clientOrderId) !== undefined) {
      throw new ApiError('DUPLICATE_CLIENT_ORDER_ID', `clientOrderId: ${dto.clientOrderId} is already used by another order of this trader`);
    }
    const item: Prepared['item'] = {
      kind: 'place',
      request: {
        type: 'place',
        account: trader,
        signer,
        marketId: market.def.marketId,
        orderType: isMarket ? OrderType.Market : OrderType.Limit,
        // GTC: the risk shard sends it to the book as GTT expiring at the signed expiry (less its margin).
        tif: tif === 'GTC' ? TimeInForce.GTC : tif === 'IOC' ? TimeInForce.IOC : TimeInForce.FOK,
        expiresAt: 0,
        postOnly: dto.postOnly === true,
        stp: StpMode.CancelNewest,
        // The risk engine takes one spelling of an address: lower case.
        order: { ...order, trader, baseToken: order.baseToken.toLowerCase() as Address, quoteToken: order.quoteToken.toLowerCase() as Address, signature: dto.signature.toLowerCase() as Hex },
        // Carried through the risk shard to the signed-orders log: another gateway and the projector learn it there.
        ...(dto.clientOrderId === undefined ? {} : { clientOrderId: dto.clientOrderId }),
      },
    };
    return { market, item, trader, nonce, priceTicks, sizeLots, clientOrderId: dto.clientOrderId, duplicateOf: known };
  }

  /** Places orders (one request: all are verified before any is submitted). */
  async place(dtos: readonly PlaceOrderDto[], wait: boolean): Promise<PlaceResult[]> {
    if (dtos.length > this.ctx.config.GATEWAY_MAX_BATCH) {
      throw new ApiError('TOO_MANY_ORDERS_IN_BATCH', `orders: at most ${this.ctx.config.GATEWAY_MAX_BATCH} per request`);
    }
    const prepared = dtos.map((d, i) => {
      try {
        return this.prepare(d);
      } catch (e) {
        // In a batch, every refusal names its order (also the order book's and the chain helpers' codes).
        const a = dtos.length > 1 ? toApiError(e) : undefined;
        if (a !== undefined && a.code !== 'INTERNAL') throw new ApiError(a.code, `orders[${i}].${a.message}`);
        throw e;
      }
    });
    const seen = new Set<string>();
    for (const p of prepared) {
      const k = `${p.trader}/${p.nonce}`;
      if (seen.has(k)) throw new ApiError('REPLAYED', 'nonce: the same signed order twice in one request');
      seen.add(k);
    }
    const bound = this.ctx.config.GATEWAY_WAIT_RESULT_MS;
    const fresh = prepared.filter((p) => p.duplicateOf === undefined && !this.inFlight.has(`${p.trader}/${p.nonce}`));
    // Registered before submitting, so a fast shard cannot answer first.
    const answers = new Map(fresh.map((p) => [p, this.data.expectPlace(p.trader, p.nonce, bound)]));
    const submitted = fresh.length === 0 ? Promise.resolve() : this.intake.submit(fresh.map((p) => p.item));
    const results = prepared.map((p) => {
      const key = `${p.trader}/${p.nonce}`;
      const answer = answers.get(p);
      if (answer === undefined) {
        const first = this.inFlight.get(key);
        return first !== undefined ? first.then((r) => ({ ...r, duplicate: true })) : Promise.resolve(this.duplicate(p, p.duplicateOf!, wait, bound));
      }
      const result = this.settle(p, submitted, answer, wait, bound);
      this.inFlight.set(key, result);
      void result.finally(() => this.inFlight.delete(key)).catch(() => undefined);
      return result;
    });
    return Promise.all(results);
  }

  private async duplicate(p: Prepared, known: { marketId: number; orderId: number }, wait: boolean, bound: number): Promise<PlaceResult> {
    return { ...(await this.answered(p, known.orderId, wait, bound)), duplicate: true };
  }

  /** What happened to one submitted order: the shard's refusal, or its id and (with wait) the engine's answer. */
  private async settle(p: Prepared, submitted: Promise<void>, answer: Promise<PlaceAnswer | undefined>, wait: boolean, bound: number): Promise<PlaceResult> {
    try {
      await submitted;
    } catch {
      // Some may be in the log (a Kafka send can fail part-way): resending the same signed orders is safe,
      // the shard takes a (trader, nonce) once and refuses it after (NONCE_USED).
      throw new ApiError('UNAVAILABLE', 'the order log did not acknowledge the orders: resend the same signed orders (each is placed at most once)');
    }
    const a = await answer;
    const market = p.market;
    if (a === undefined) return { id: null, clientOrderId: p.clientOrderId ?? null, market: market.def.symbol, result: 'pending', duplicate: false, order: null };
    if (!a.ok) {
      // A resend of an order the shard already took: answer with that order.
      const known = a.code === 'NONCE_USED' ? this.data.byTraderNonce(p.trader, p.nonce) : undefined;
      if (known !== undefined) return this.duplicate(p, known, wait, bound);
      const orderId = this.refusedIds.next();
      const r = p.item.request;
      this.data.refused(
        market.def.marketId,
        {
          orderId,
          accountId: this.data.accountIdOf(p.trader) ?? 0,
          side: r.order.isBuy ? Side.Buy : Side.Sell,
          orderType: r.orderType,
          tif: r.tif,
          price: p.priceTicks,
          size: p.sizeLots,
          reason: a.code,
          createdTs: this.clock(),
        },
        { trader: p.trader, nonce: p.nonce, clientOrderId: p.clientOrderId },
      );
      const state = this.data.market(market.def.marketId)?.orders.get(orderId);
      return {
        id: String(orderId),
        clientOrderId: p.clientOrderId ?? null,
        market: market.def.symbol,
        result: 'answered',
        duplicate: false,
        order: state === undefined ? null : orderView(market, state, this.data.metaOf(market.def.marketId, orderId)),
      };
    }
    this.data.remember(market.def.marketId, a.orderId, { trader: p.trader, nonce: p.nonce, clientOrderId: p.clientOrderId });
    return { ...(await this.answered(p, a.orderId, wait, bound)), duplicate: false };
  }

  private async answered(p: Prepared, orderId: number, wait: boolean, bound: number): Promise<Omit<PlaceResult, 'duplicate'>> {
    const marketId = p.market.def.marketId;
    // The engine may have answered before the shard's answer reached this gateway: look first, then wait.
    let state = this.data.market(marketId)?.orders.get(orderId);
    if (state === undefined && wait) state = await this.data.waitFor(marketId, orderId, bound);
    const meta = this.data.metaOf(marketId, orderId);
    return {
      id: String(orderId),
      clientOrderId: meta?.clientOrderId ?? null,
      market: p.market.def.symbol,
      result: !wait ? 'accepted' : state === undefined ? 'pending' : 'answered',
      order: state === undefined ? null : orderView(p.market, state, meta),
    };
  }

  private checkAuth(trader: Address, expiryStr: string, nonceStr: string): { expiry: bigint; nonce: bigint } {
    const expiry = uint64(expiryStr, 'expiry');
    const nonce = uint64(nonceStr, 'nonce');
    const now = this.nowSec();
    if (expiry <= now) throw new ApiError('SIGNATURE_EXPIRED', 'expiry: the signed request has expired');
    if (expiry > now + BigInt(this.ctx.config.GATEWAY_MAX_AUTH_SECONDS)) {
      throw new ApiError('EXPIRY_TOO_FAR', `expiry: at most ${this.ctx.config.GATEWAY_MAX_AUTH_SECONDS} s ahead`);
    }
    return { expiry, nonce };
  }

  /** Cancels orders of one trader (all verified first). Unknown and other traders' orders are ORDER_NOT_FOUND alike. */
  async cancel(dtos: readonly CancelOrderDto[]): Promise<{ id: string; market: string; result: 'accepted' }[]> {
    if (dtos.length > this.ctx.config.GATEWAY_MAX_BATCH) {
      throw new ApiError('TOO_MANY_ORDERS_IN_BATCH', `cancels: at most ${this.ctx.config.GATEWAY_MAX_BATCH} per request`);
    }
    const items: IntakeItem[] = [];
    const out: { id: string; market: string; result: 'accepted' }[] = [];
    const consumed: (() => void)[] = [];
    for (const dto of dtos) {
      const market = this.markets.get(dto.market);
      const trader = dto.trader.toLowerCase() as Address;
      const { expiry, nonce } = this.checkAuth(trader, dto.expiry, dto.nonce);
      if ((dto.orderId === undefined) === (dto.clientOrderId === undefined)) {
        throw new ApiError('INVALID_FIELD', 'orderId: give exactly one of orderId and clientOrderId');
      }
      const orderIdSigned = dto.orderId === undefined ? 0n : uint64(dto.orderId, 'orderId');
      const digest = hashCancel(this.ctx.domain, {
        trader,
        marketId: market.def.marketId,
        orderId: orderIdSigned,
        clientOrderId: dto.clientOrderId ?? '',
        expiry,
        nonce,
      });
      const signer = this.signerFor(trader, digest, dto.signature);
      if (this.replay.seen(trader, nonce)) throw new ApiError('REPLAYED', 'nonce: this signed request was already used');
      const target =
        dto.clientOrderId !== undefined
          ? this.data.byClientOrderId(trader, dto.clientOrderId)
          : { marketId: market.def.marketId, orderId: Number(orderIdSigned) };
      const meta = target === undefined ? undefined : this.data.metaOf(target.marketId, target.orderId);
      if (target === undefined || target.marketId !== market.def.marketId || meta === undefined || meta.trader !== trader) {
        throw new ApiError('ORDER_NOT_FOUND', 'orderId: no such order of this trader in this market');
      }
      consumed.push(() => {
        this.replay.remember(trader, nonce, Number(expiry));
      });
      items.push({ kind: 'cancel', request: { type: 'cancel', account: trader, signer, orderId: target.orderId } });
      out.push({ id: String(target.orderId), market: market.def.symbol, result: 'accepted' });
    }
    for (const c of consumed) c();
    await this.intake.submit(items);
    return out;
  }

  /**
   * Amend = cancel + new signed order (a signed order's price and size cannot change). Both must be signed
   * for the same trader in the same market. The new order goes out once the old one has left the book (as
   * this gateway sees the engine's events) or after the wait bound: its funds are then free at its shard.
   */
  async amend(dto: AmendOrderDto, wait: boolean): Promise<{ method: 'cancel-replace'; canceled: { id: string; market: string; status: string }; order: PlaceResult }> {
    if (dto.cancel.market !== dto.order.market) throw new ApiError('INVALID_FIELD', 'order.market: the new order must be in the market of the order it replaces');
    if (dto.cancel.trader.toLowerCase() !== dto.order.trader.toLowerCase()) throw new ApiError('INVALID_FIELD', 'order.trader: the new order must be signed for the trader of the order it replaces');
    const market = this.markets.get(dto.cancel.market);
    // Refuse a broken new order, or an old one that is not open any more, before cancelling anything.
    this.prepare(dto.order);
    const trader = dto.cancel.trader.toLowerCase() as Address;
    const target = dto.cancel.clientOrderId !== undefined ? this.data.byClientOrderId(trader, dto.cancel.clientOrderId)?.orderId : Number(dto.cancel.orderId);
    const old = target === undefined ? undefined : this.data.market(market.def.marketId)?.orders.get(target);
    if (old?.status !== 'open' || this.data.metaOf(market.def.marketId, old.orderId)?.trader !== trader) {
      throw new ApiError('ORDER_NOT_FOUND', 'cancel.orderId: no open order of this trader in this market to amend');
    }
    const [c] = await this.cancel([dto.cancel]);
    const orderId = Number(c!.id);
    const state = (): string | undefined => this.data.market(market.def.marketId)?.orders.get(orderId)?.status;
    if (state() === 'open') await this.data.waitFor(market.def.marketId, orderId, this.ctx.config.GATEWAY_WAIT_RESULT_MS);
    const [placed] = await this.place([dto.order], wait);
    return { method: 'cancel-replace', canceled: { id: c!.id, market: c!.market, status: state() ?? 'unknown' }, order: placed! };
  }

  async cancelAll(dto: CancelAllDto): Promise<{ markets: string[]; result: 'accepted' }> {
    const trader = dto.trader.toLowerCase() as Address;
    const { expiry, nonce } = this.checkAuth(trader, dto.expiry, dto.nonce);
    const only = dto.market === undefined ? undefined : this.markets.get(dto.market);
    const digest = hashCancelAll(this.ctx.domain, { trader, marketId: only?.def.marketId ?? 0, expiry, nonce });
    const signer = this.signerFor(trader, digest, dto.signature);
    if (this.replay.seen(trader, nonce)) throw new ApiError('REPLAYED', 'nonce: this signed request was already used');
    this.replay.remember(trader, nonce, Number(expiry));
    return this.cancelAllFor({ trader, signer }, only);
  }

  /**
   * Cancel-all on the trader's behalf (also the WebSocket's cancel-on-disconnect and dead-man switch of a
   * logged-in session). The risk shards cancel by order id: this is one signed-for cancel per open order of
   * the trader that this gateway knows (an order whose acceptance it has not seen yet is not included).
   */
  async cancelAllFor(who: { trader: Address; signer: Address }, only?: ApiMarket): Promise<{ markets: string[]; result: 'accepted'; orders: number }> {
    const accountId = this.data.accountIdOf(who.trader);
    const markets = only === undefined ? this.markets.all() : [only];
    const items: IntakeItem[] = [];
    for (const m of markets) {
      const open = accountId === undefined ? undefined : this.data.market(m.def.marketId)?.openByAccount.get(accountId);
      for (const orderId of open ?? []) {
        items.push({ kind: 'cancel', request: { type: 'cancel', account: who.trader, signer: who.signer, orderId } });
      }
    }
    await this.intake.submit(items);
    return { markets: markets.map((m) => m.def.symbol), result: 'accepted', orders: items.length };
  }

  /**
   * Verifies a Login signature: a session credential valid until its expiry (REST private reads, WebSocket login).
   * `oneShot` (the WebSocket login): the signed login is accepted once. A WebSocket session can arm
   * cancel-on-disconnect and the dead-man switch, which cancel all the trader's orders, so a login seen by
   * anyone else (a proxy log, a copied request) must not open a second session that can do that.
   */
  login(traderStr: string, expiryStr: string, nonceStr: string, signature: string, options: { oneShot?: boolean } = {}): Session {
    if (typeof traderStr !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(traderStr)) throw new ApiError('INVALID_FIELD', 'trader must be a 20-byte 0x address');
    const trader = traderStr.toLowerCase() as Address;
    const { expiry, nonce } = this.checkAuth(trader, expiryStr, nonceStr);
    const signer = this.signerFor(trader, hashLogin(this.ctx.domain, { trader, expiry, nonce }), signature);
    if (options.oneShot === true) {
      if (this.loginReplay.seen(trader, nonce)) throw new ApiError('REPLAYED', 'nonce: this signed login was already used to open a session');
      this.loginReplay.remember(trader, nonce, Number(expiry));
    }
    return { trader, signer, expiry: Number(expiry) };
  }

  openOrders(session: Session, symbol: string | undefined): OrderView[] {
    const markets = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    const out: OrderView[] = [];
    for (const m of markets) {
      const state = this.data.market(m.def.marketId);
      const accountId = this.data.accountIdOf(session.trader);
      const ids = accountId === undefined ? undefined : state?.openByAccount.get(accountId);
      if (state === undefined || ids === undefined) continue;
      for (const id of ids) {
        const meta = this.data.metaOf(m.def.marketId, id);
        if (meta?.trader !== session.trader) continue;
        const o = state.orders.get(id);
        if (o !== undefined) out.push(orderView(m, o, meta));
      }
    }
    return out;
  }

  /** Finished orders (filled, canceled, expired, rejected) this gateway still holds: the most recent per market. */
  closedOrders(session: Session, symbol: string | undefined): OrderView[] {
    const markets = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    const out: OrderView[] = [];
    for (const m of markets) {
      const state = this.data.market(m.def.marketId);
      if (state === undefined) continue;
      for (const o of state.orders.values()) {
        if (o.status === 'open') continue;
        const meta = this.data.metaOf(m.def.marketId, o.orderId);
        if (meta?.trader === session.trader) out.push(orderView(m, o, meta));
      }
    }
    return out.sort((a, b) => a.lastUpdateTimestamp - b.lastUpdateTimestamp);
  }

  /** The trader's fills among the recent trades this gateway holds (the last 1,000 per market). */
  fills(session: Session, symbol: string | undefined): FillView[] {
    const markets = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    const out: FillView[] = [];
    for (const m of markets) {
      const state = this.data.market(m.def.marketId);
      if (state === undefined) continue;
      for (const t of state.trades) {
        for (const [role, orderId, accountId] of [['maker', t.makerOrderId, t.makerAccountId], ['taker', t.takerOrderId, t.takerAccountId]] as const) {
          if (accountId !== this.data.accountIdOf(session.trader)) continue;
          const meta = this.data.metaOf(m.def.marketId, orderId);
          if (meta?.trader === session.trader) out.push(fillView(m, t, role, orderId));
        }
      }
    }
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  order(session: Session, symbol: string, ref: { orderId?: string; clientOrderId?: string }): OrderView {
    const m = this.markets.get(symbol);
    let orderId: number | undefined;
    if (ref.clientOrderId !== undefined) orderId = this.data.byClientOrderId(session.trader, ref.clientOrderId)?.orderId;
    else if (ref.orderId !== undefined && /^[1-9][0-9]{0,15}$/.test(ref.orderId)) orderId = Number(ref.orderId);
    const meta = orderId === undefined ? undefined : this.data.metaOf(m.def.marketId, orderId);
    const state = orderId === undefined ? undefined : this.data.market(m.def.marketId)?.orders.get(orderId);
    if (meta?.trader !== session.trader || state === undefined) throw new ApiError('ORDER_NOT_FOUND', 'orderId: no such order of this trader in this market');
    return orderView(m, state, meta);
  }
}

function uint64(s: string, field: string): bigint {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(s)) throw new ApiError('INVALID_FIELD', `${field} must be a uint64 decimal string`);
  const v = BigInt(s);
  if (v > UINT64_MAX) throw new ApiError('VALUE_OUT_OF_RANGE', `${field} exceeds uint64`);
  return v;
}

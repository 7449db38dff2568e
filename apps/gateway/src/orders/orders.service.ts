// The trading use-cases: place (single and batch), cancel (by id, by client id, batch, all) and the private
// reads. Each verifies what the trader signed, maps it to engine commands and hands them to the OrderIntake.
import { Inject, Injectable } from '@nestjs/common';
import { hashOrder, orderForPlace, type Order } from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import { OrderType, Side, StpMode, TimeInForce } from '@parallax/order-book';
import { hashCancel, hashCancelAll, hashLogin } from '@parallax/sdk';
import type { Address, Hex } from 'viem';
import { accountIdOf } from '../accounts/account-directory.js';
import { ApiError } from '../errors/api.errors.js';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { ORDER_INTAKE, type IntakeItem, type OrderIntake } from '../intake/order-intake.js';
import { MarketDataService } from '../market-data/market-data.service.js';
import { MarketDirectory, type ApiMarket } from '../markets/market-directory.js';
import { assertSignedBy } from '../signing/signature-verifier.js';
import { OrderIdGenerator } from './order-ids.js';
import { fillView, orderView, type FillView, type OrderView } from './order-view.js';
import type { CancelAllDto, CancelOrderDto, PlaceOrderDto } from './orders.dto.js';
import { ReplayGuard } from './replay-guard.js';

const UINT64_MAX = (1n << 64n) - 1n;

export interface PlaceResult {
  readonly id: string;
  readonly clientOrderId: string | null;
  readonly market: string;
  /** 'accepted': durably in the log; with wait=result the engine's answer, or 'pending' if it took longer than the bound. */
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
  readonly clientOrderId: string | undefined;
  readonly duplicateOf: { marketId: number; orderId: number } | undefined;
}

export interface Session {
  readonly trader: Address;
  readonly accountId: number;
  /** Unix seconds. */
  readonly expiry: number;
}

@Injectable()
export class OrdersService {
  private readonly ids: OrderIdGenerator;
  private readonly replay = new ReplayGuard();
  /** WebSocket logins, apart from cancels: a login nonce and a cancel nonce of one trader may be equal. */
  private readonly loginReplay = new ReplayGuard();
  private readonly clock: () => number;

  constructor(
    @Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext,
    @Inject(ORDER_INTAKE) private readonly intake: OrderIntake,
    private readonly markets: MarketDirectory,
    private readonly data: MarketDataService,
  ) {
    this.clock = ctx.clock ?? Date.now;
    this.ids = new OrderIdGenerator(ctx.config.GATEWAY_INSTANCE, this.clock);
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
    assertSignedBy(hashOrder(this.ctx.domain, order), dto.signature, trader);

    const known = this.data.byTraderNonce(trader, nonce);
    if (known !== undefined && known.marketId !== market.def.marketId) throw new ApiError('REPLAYED', 'nonce: this trader already used this nonce for an order in another market');
    // A known order the log never acknowledged is sent again under its id; any other is a duplicate.
    const duplicateOf = known !== undefined && !this.data.isUnconfirmed(known.marketId, known.orderId) ? known : undefined;
    if (known === undefined && dto.clientOrderId !== undefined && this.data.byClientOrderId(trader, dto.clientOrderId) !== undefined) {
      throw new ApiError('DUPLICATE_CLIENT_ORDER_ID', `clientOrderId: ${dto.clientOrderId} is already used by another order of this trader`);
    }
    const orderId = known?.orderId ?? this.ids.next();
    const accountId = accountIdOf(trader);
    const signed: SignedOrderRecord = {
      orderId,
      accountId,
      trader,
      isBuy: order.isBuy,
      price: order.price,
      size: order.size,
      maxFeeRate: order.maxFeeRate,
      expiry: order.expiry,
      nonce: order.nonce,
      signature: dto.signature.toLowerCase() as Hex,
    };
    // A resting order leaves the book at its signed expiry (the engine's logical clock is in ms): GTC is sent
    // as GTT so no order outlives the signature that can settle it.
    const gtt = tif === 'GTC';
    const expiresAtMs = Number(expiry) * 1000;
    if (gtt && !Number.isSafeInteger(expiresAtMs)) throw new ApiError('VALUE_OUT_OF_RANGE', 'expiry: too far in the future');
    const item: Prepared['item'] = {
      kind: 'place',
      marketId: market.def.marketId,
      signed,
      command: {
        type: 'place',
        orderId,
        accountId,
        side: order.isBuy ? Side.Buy : Side.Sell,
        orderType: isMarket ? OrderType.Market : OrderType.Limit,
        price: priceTicks,
        size: sizeLots,
        tif: gtt ? TimeInForce.GTT : tif === 'IOC' ? TimeInForce.IOC : TimeInForce.FOK,
        expiresAt: gtt ? expiresAtMs : 0,
        postOnly: dto.postOnly === true,
        stp: StpMode.CancelNewest,
      },
    };
    return { market, item, trader, nonce, clientOrderId: dto.clientOrderId, duplicateOf };
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
        if (e instanceof ApiError && dtos.length > 1) throw new ApiError(e.code, `orders[${i}].${e.message}`);
        throw e;
      }
    });
    const seen = new Set<string>();
    for (const p of prepared) {
      const k = `${p.trader}/${p.nonce}`;
      if (seen.has(k)) throw new ApiError('REPLAYED', 'nonce: the same signed order twice in one request');
      seen.add(k);
    }
    const fresh = prepared.filter((p) => p.duplicateOf === undefined);
    for (const p of fresh) this.data.remember(p.item.marketId, p.item.command.orderId, { trader: p.trader, nonce: p.nonce, clientOrderId: p.clientOrderId });
    const waits = wait ? prepared.map((p) => this.data.waitFor(p.item.marketId, p.item.command.orderId, this.ctx.config.GATEWAY_WAIT_RESULT_MS)) : [];
    try {
      if (fresh.length > 0) await this.intake.submit(fresh.map((p) => p.item));
    } catch {
      for (const p of fresh) this.data.unacknowledged(p.item.marketId, p.item.command.orderId);
      // Some may be in the log (a Kafka send can fail part-way). The ids stay reserved: resending the same
      // signed orders sends them again under the same ids (the engine refuses a live duplicate id, and the
      // contract never fills more than the signed size).
      throw new ApiError('UNAVAILABLE', 'the order log did not acknowledge the orders: resend the same signed orders (each is placed at most once)');
    }
    for (const p of fresh) this.data.confirm(p.item.marketId, p.item.command.orderId);
    const answers = wait ? await Promise.all(waits) : [];
    return prepared.map((p, i) => {
      const id = p.item.command.orderId;
      const state = answers[i] ?? this.data.market(p.item.marketId)?.orders.get(id);
      const result: PlaceResult['result'] = !wait ? 'accepted' : answers[i] === undefined ? 'pending' : 'answered';
      return {
        id: String(id),
        clientOrderId: this.data.metaOf(p.item.marketId, id)?.clientOrderId ?? null,
        market: p.market.def.symbol,
        result,
        duplicate: p.duplicateOf !== undefined,
        order: state === undefined ? null : orderView(p.market, state, this.data.metaOf(p.item.marketId, id)),
      };
    });
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
      assertSignedBy(digest, dto.signature, trader);
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
      items.push({ kind: 'cancel', marketId: target.marketId, command: { type: 'cancel', orderId: target.orderId, accountId: accountIdOf(trader) } });
      out.push({ id: String(target.orderId), market: market.def.symbol, result: 'accepted' });
    }
    for (const c of consumed) c();
    await this.intake.submit(items);
    return out;
  }

  async cancelAll(dto: CancelAllDto): Promise<{ markets: string[]; result: 'accepted' }> {
    const trader = dto.trader.toLowerCase() as Address;
    const { expiry, nonce } = this.checkAuth(trader, dto.expiry, dto.nonce);
    const only = dto.market === undefined ? undefined : this.markets.get(dto.market);
    const digest = hashCancelAll(this.ctx.domain, { trader, marketId: only?.def.marketId ?? 0, expiry, nonce });
    assertSignedBy(digest, dto.signature, trader);
    if (this.replay.seen(trader, nonce)) throw new ApiError('REPLAYED', 'nonce: this signed request was already used');
    this.replay.remember(trader, nonce, Number(expiry));
    return this.cancelAllFor(trader, only);
  }

  /** Cancel-all on the trader's behalf (WebSocket cancel-on-disconnect and dead-man switch of a logged-in session). */
  async cancelAllFor(trader: Address, only?: ApiMarket): Promise<{ markets: string[]; result: 'accepted' }> {
    const accountId = accountIdOf(trader);
    const markets = only === undefined ? this.markets.all() : [only];
    await this.intake.submit(markets.map((m) => ({ kind: 'cancelAll', marketId: m.def.marketId, command: { type: 'cancelAll', accountId } })));
    return { markets: markets.map((m) => m.def.symbol), result: 'accepted' };
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
    assertSignedBy(hashLogin(this.ctx.domain, { trader, expiry, nonce }), signature, trader);
    if (options.oneShot === true) {
      if (this.loginReplay.seen(trader, nonce)) throw new ApiError('REPLAYED', 'nonce: this signed login was already used to open a session');
      this.loginReplay.remember(trader, nonce, Number(expiry));
    }
    return { trader, accountId: accountIdOf(trader), expiry: Number(expiry) };
  }

  openOrders(session: Session, symbol: string | undefined): OrderView[] {
    const markets = symbol === undefined ? this.markets.all() : [this.markets.get(symbol)];
    const out: OrderView[] = [];
    for (const m of markets) {
      const state = this.data.market(m.def.marketId);
      const ids = state?.openByAccount.get(session.accountId);
      if (state === undefined || ids === undefined) continue;
      for (const id of ids) {
        const meta = this.data.metaOf(m.def.marketId, id);
        // The engine id may be shared (see account-directory.ts): the signer decides.
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
        if (o.status === 'open' || o.accountId !== session.accountId) continue;
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
          if (accountId !== session.accountId) continue;
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

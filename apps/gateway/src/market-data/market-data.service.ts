// The gateway's read side: consumes the engine's events, the signed orders and the risk shards' answers
// from the log (its own consumer group, from the beginning, so a restarted gateway rebuilds the same view)
// into one MarketState per market, and tells listeners (WebSocket channels, wait=result callers) what each
// event batch changed. The account registry (engine account id <-> trader address) is what the risk shards
// publish: every signed order they forward carries both.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeEventBatch, decodeEventBatchEvents, decodeRiskResultBatch, decodeSignedOrderBatch } from '@parallax/contracts';
import type { GroupConsumer } from '@parallax/transport';
import type { Address } from 'viem';
import { GATEWAY_CONTEXT, type GatewayContext } from '../gateway.context.js';
import { MarketState, type BatchOutcome, type OrderState } from './market-state.js';

/** What the gateway knows of an order beyond the engine's events: who signed it. */
export interface OrderMeta {
  readonly trader: Address;
  readonly nonce: bigint;
  readonly clientOrderId: string | undefined;
}

export type BatchListener = (marketId: number, outcome: BatchOutcome) => void;

/** A risk shard's answer to a place: the minted ids, or the refusal's stable code. */
export type PlaceAnswer = { readonly ok: true; readonly orderId: number; readonly accountId: number } | { readonly ok: false; readonly code: string; readonly message: string };

const metaKey = (marketId: number, orderId: number): string => `${marketId}/${orderId}`;

@Injectable()
export class MarketDataService implements OnApplicationShutdown {
  private readonly states = new Map<number, MarketState>();
  private readonly meta = new Map<string, OrderMeta>();
  /** trader/nonce -> the order: a signed order is one order, however often it is sent. */
  private readonly byNonce = new Map<string, { marketId: number; orderId: number }>();
  /** trader/clientOrderId -> the order (this gateway's memory: see README). */
  private readonly byClientId = new Map<string, { marketId: number; orderId: number }>();
  private readonly waiters = new Map<string, ((o: OrderState) => void)[]>();
  /** trader/nonce -> who waits for the risk shard's answer to that signed order. */
  private readonly placeWaiters = new Map<string, ((a: PlaceAnswer) => void)[]>();
  /** The risk shards' account registry as far as this gateway has seen it. */
  private readonly accountIds = new Map<Address, number>();
  private readonly listeners = new Set<BatchListener>();
  private consumer: GroupConsumer | undefined;
  private failure: Error | undefined;

  constructor(@Inject(GATEWAY_CONTEXT) private readonly ctx: GatewayContext) {
    for (const m of ctx.catalogue.all()) this.states.set(m.marketId, new MarketState(m.marketId));
  }

  async start(): Promise<void> {
    const { transport, topics } = this.ctx;
    this.consumer = await transport.consumer({
      groupId: `parallax-gateway-${this.ctx.config.GATEWAY_INSTANCE}-${randomUUID()}`,
      topics: [topics.signedOrders, topics.marketEvents, topics.riskResults],
      fromBeginning: true,
    });
    await this.consumer.run({
      eachBatch: (batch) => {
        for (const m of batch.messages) {
          try {
            if (batch.topic === topics.signedOrders) this.onSignedOrders(m.value);
            else if (batch.topic === topics.riskResults) this.onRiskResults(m.value);
            else this.onEvents(m.value);
          } catch {
            // A message that fails its contract went to no order of ours; the engine dead-letters bad input.
          }
        }
        return Promise.resolve();
      },
    });
    this.consumer.stopped.catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Undefined while healthy; the reason the event feed stopped otherwise. */
  get stoppedReason(): Error | undefined {
    return this.failure;
  }

  private onSignedOrders(value: Uint8Array): void {
    const batch = decodeSignedOrderBatch(value);
    for (const o of batch.orders) {
      const key = metaKey(batch.marketId, o.orderId);
      if (!this.meta.has(key)) this.meta.set(key, { trader: o.trader, nonce: o.nonce, clientOrderId: o.clientOrderId });
      // The client order id travels in the log: a gateway that did not take the order (or restarted) knows it too.
      if (o.clientOrderId !== undefined) this.byClientId.set(`${o.trader}/${o.clientOrderId}`, { marketId: batch.marketId, orderId: o.orderId });
      this.byNonce.set(`${o.trader}/${o.nonce}`, { marketId: batch.marketId, orderId: o.orderId });
      this.accountIds.set(o.trader, o.accountId);
    }
  }

  private onRiskResults(value: Uint8Array): void {
    for (const r of decodeRiskResultBatch(value).results) {
      if (r.kind !== 'place') continue;
      const key = `${r.account}/${r.nonce}`;
      if (r.code === null) {
        this.accountIds.set(r.account, r.accountId);
        this.byNonce.set(key, { marketId: r.marketId, orderId: r.orderId });
      }
      const waiting = this.placeWaiters.get(key);
      if (waiting === undefined) continue;
      this.placeWaiters.delete(key);
      const answer: PlaceAnswer = r.code === null ? { ok: true, orderId: r.orderId, accountId: r.accountId } : { ok: false, code: r.code, message: r.message };
      for (const w of waiting) w(answer);
    }
  }

  /** The engine account id the risk shards gave this trader (undefined until its first accepted order is seen). */
  accountIdOf(trader: Address): number | undefined {
    return this.accountIds.get(trader);
  }

  /**
   * Resolves with the risk shard's answer to the trader's signed order `nonce`, or undefined after
   * timeoutMs. Register before submitting, so a fast shard cannot answer first.
   */
  expectPlace(trader: Address, nonce: bigint, timeoutMs: number): Promise<PlaceAnswer | undefined> {
    return this.waitOn(this.placeWaiters, `${trader}/${nonce}`, timeoutMs);
  }

  /** Records an order its risk shard refused (this gateway's id for it) and tells the listeners. */
  refused(marketId: number, o: Parameters<MarketState['refused']>[0], meta: OrderMeta): void {
    const state = this.states.get(marketId);
    if (state === undefined) return;
    this.remember(marketId, o.orderId, meta);
    const outcome = state.refused(o);
    for (const l of this.listeners) l(marketId, outcome);
  }

  private onEvents(value: Uint8Array): void {
    const batch = decodeEventBatch(value);
    const state = this.states.get(batch.marketId);
    if (state === undefined) return;
    const outcome = state.apply(decodeEventBatchEvents(batch));
    for (const o of outcome.touched) {
      const key = metaKey(o.marketId, o.orderId);
      const waiting = this.waiters.get(key);
      if (waiting !== undefined) {
        this.waiters.delete(key);
        for (const w of waiting) w(o);
      }
    }
    for (const l of this.listeners) l(batch.marketId, outcome);
  }

  onBatch(listener: BatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  market(marketId: number): MarketState | undefined {
    return this.states.get(marketId);
  }

  /** Records what the gateway itself submitted (before the log echoes it back). */
  remember(marketId: number, orderId: number, meta: OrderMeta): void {
    this.meta.set(metaKey(marketId, orderId), meta);
    this.byNonce.set(`${meta.trader}/${meta.nonce}`, { marketId, orderId });
    if (meta.clientOrderId !== undefined) this.byClientId.set(`${meta.trader}/${meta.clientOrderId}`, { marketId, orderId });
  }

  metaOf(marketId: number, orderId: number): OrderMeta | undefined {
    return this.meta.get(metaKey(marketId, orderId));
  }

  byTraderNonce(trader: Address, nonce: bigint): { marketId: number; orderId: number } | undefined {
    return this.byNonce.get(`${trader}/${nonce}`);
  }

  byClientOrderId(trader: Address, clientOrderId: string): { marketId: number; orderId: number } | undefined {
    return this.byClientId.get(`${trader}/${clientOrderId}`);
  }

  /**
   * Resolves with the order once an event batch touches it (accepted, rejected, traded, done), or with
   * undefined after timeoutMs. Register before submitting, so a fast engine cannot answer first.
   */
  waitFor(marketId: number, orderId: number, timeoutMs: number): Promise<OrderState | undefined> {
    return this.waitOn(this.waiters, metaKey(marketId, orderId), timeoutMs);
  }

  private waitOn<T>(waiters: Map<string, ((v: T) => void)[]>, key: string, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const done = (v: T | undefined): void => {
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        const list = waiters.get(key);
        if (list !== undefined) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) waiters.delete(key);
        }
        done(undefined);
      }, timeoutMs);
      let list = waiters.get(key);
      if (list === undefined) waiters.set(key, (list = []));
      list.push(done);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.close();
  }
}

// The gateway's read side: consumes the engine's events and the signed orders from the log (its own consumer
// group, from the beginning, so a restarted gateway rebuilds the same view) into one MarketState per market,
// and tells listeners (WebSocket channels, wait=result callers) what each event batch changed.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeEventBatch, decodeEventBatchEvents, decodeSignedOrderBatch } from '@parallax/contracts';
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

const metaKey = (marketId: number, orderId: number): string => `${marketId}/${orderId}`;

@Injectable()
export class MarketDataService implements OnApplicationShutdown {
  private readonly states = new Map<number, MarketState>();
  private readonly meta = new Map<string, OrderMeta>();
  /** trader/nonce -> the order: a signed order is one order, however often it is sent. */
  private readonly byNonce = new Map<string, { marketId: number; orderId: number }>();
  /** trader/clientOrderId -> the order (this gateway's memory: see README). */
  private readonly byClientId = new Map<string, { marketId: number; orderId: number }>();
  private readonly unconfirmed = new Set<string>();
  private readonly waiters = new Map<string, ((o: OrderState) => void)[]>();
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
      topics: [topics.signedOrders, topics.marketEvents],
      fromBeginning: true,
    });
    await this.consumer.run({
      eachBatch: (batch) => {
        for (const m of batch.messages) {
          try {
            if (batch.topic === topics.signedOrders) this.onSignedOrders(m.value);
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
      if (!this.meta.has(key)) this.meta.set(key, { trader: o.trader, nonce: o.nonce, clientOrderId: undefined });
      this.unconfirmed.delete(key);
      this.byNonce.set(`${o.trader}/${o.nonce}`, { marketId: batch.marketId, orderId: o.orderId });
    }
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

  /** The log durably has this order (the intake acknowledged it, or the signed-orders topic showed it). */
  confirm(marketId: number, orderId: number): void {
    this.unconfirmed.delete(metaKey(marketId, orderId));
  }

  /** The log did not acknowledge this order (the submit failed): it may or may not be there. */
  unacknowledged(marketId: number, orderId: number): void {
    this.unconfirmed.add(metaKey(marketId, orderId));
  }

  /** Remembered but never acknowledged by the log (a failed submit): a resend goes to the log again, same id. */
  isUnconfirmed(marketId: number, orderId: number): boolean {
    return this.unconfirmed.has(metaKey(marketId, orderId));
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
    const key = metaKey(marketId, orderId);
    return new Promise((resolve) => {
      const done = (o: OrderState | undefined): void => {
        clearTimeout(timer);
        resolve(o);
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(key);
        if (list !== undefined) {
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0) this.waiters.delete(key);
        }
        done(undefined);
      }, timeoutMs);
      let list = this.waiters.get(key);
      if (list === undefined) this.waiters.set(key, (list = []));
      list.push(done);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.close();
  }
}

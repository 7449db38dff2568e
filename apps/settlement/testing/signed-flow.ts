// A seeded flow of signed orders for tests and benchmarks: what a gateway would put on the log. For every
// place command the trader's EIP-712 order is signed and written to the signed-orders topic BEFORE the
// command goes to the orders topic. Order ids are unique across markets; each trader signs with its own
// increasing nonce, as a wallet would (the contract keeps 256 consecutive nonces of a trader in one storage
// word, so a trader's orders share a warm word instead of each touching a fresh one).
import { MAX_IMMEDIATE_ORDER_LIFETIME, localTraderAccount, orderForPlace, signOrder, type SettlementDomain, type SettlementMarket } from '@parallax/chain';
import {
  encodeCommandBatch,
  encodeSignedOrderBatch,
  marketKey,
  partitionForMarket,
  type CommandBatch,
  type SignedOrderRecord,
} from '@parallax/contracts';
import { OrderType, Prng, Side, StpMode, TimeInForce, type Command, type PlaceOrder } from '@parallax/order-book';
import type { OutgoingMessage, Producer } from '@parallax/transport';
import { toSignedOrderRecord } from '../domain/records.js';
import type { LocalAccount } from 'viem';

export interface SignedFlowOptions {
  readonly seed: number;
  readonly domain: SettlementDomain;
  readonly markets: readonly SettlementMarket[];
  /** Accounts 1..traders; their keys come from localTraderAccount(traderSeed, accountId). */
  readonly traders: number;
  readonly traderSeed: string;
  /** Place commands to generate (cancels come on top). */
  readonly orders: number;
  /** Commands per CommandBatch message. */
  readonly commandsPerMessage: number;
  /** Price ticks the flow oscillates around. */
  readonly centerTicks: number;
  /** Unix seconds the signed GTC orders expire at. */
  readonly expiry: bigint;
  /**
   * Unix seconds the flow is signed at (default: the wall clock). Immediate orders (IOC, market) expire
   * MAX_IMMEDIATE_ORDER_LIFETIME after it: their signed fill deadline.
   */
  readonly now?: bigint;
  readonly maxFeeRate: number;
  /** Share of market orders (0..1); default 0.05. */
  readonly marketOrderShare?: number;
  /** First order id (ids are unique across markets); default 1. */
  readonly firstOrderId?: number;
}

export interface SignedFlowMessage {
  readonly marketId: number;
  readonly signed: readonly SignedOrderRecord[];
  readonly commands: CommandBatch;
}

export interface SignedFlow {
  readonly messages: readonly SignedFlowMessage[];
  readonly traders: ReadonlyMap<number, LocalAccount>;
  /** (marketId, orderId) -> the signed order. */
  readonly orders: ReadonlyMap<string, SignedOrderRecord>;
}

export const flowOrderKey = (marketId: number, orderId: number): string => `${marketId}/${orderId}`;

export async function signedOrderFlow(o: SignedFlowOptions): Promise<SignedFlow> {
  const rng = new Prng(o.seed);
  const rnd = (): number => rng.nextFloat();
  const pick = (n: number): number => Math.floor(rnd() * n);
  const traders = new Map<number, LocalAccount>();
  for (let a = 1; a <= o.traders; a++) traders.set(a, localTraderAccount(o.traderSeed, a));
  const orders = new Map<string, SignedOrderRecord>();
  const messages: SignedFlowMessage[] = [];
  const resting = new Map<number, { orderId: number; accountId: number }[]>();
  let orderId = o.firstOrderId ?? 1;
  const nonces = new Map<number, bigint>();
  const nextNonce = (accountId: number): bigint => {
    const n = nonces.get(accountId) ?? BigInt(o.firstOrderId ?? 1);
    nonces.set(accountId, n + 1n);
    return n;
  };
  let ts = 1;
  let placed = 0;
  const marketShare = o.marketOrderShare ?? 0.05;
  const now = o.now ?? BigInt(Math.floor(Date.now() / 1000));
  while (placed < o.orders) {
    const market = o.markets[pick(o.markets.length)]!;
    const commands: Command[] = [];
    const signed: SignedOrderRecord[] = [];
    const open = resting.get(market.marketId) ?? [];
    resting.set(market.marketId, open);
    for (let i = 0; i < o.commandsPerMessage && placed < o.orders; i++) {
      ts += 1 + pick(3);
      if (open.length > 0 && rnd() < 0.1) {
        const victim = open.splice(pick(open.length), 1)[0]!;
        commands.push({ type: 'cancel', ts, orderId: victim.orderId, accountId: victim.accountId });
        continue;
      }
      const accountId = 1 + pick(o.traders);
      const isBuy = rnd() < 0.5;
      const isMarket = rnd() < marketShare;
      // Buyers bid around the centre, sellers ask around it: about half the orders cross. A market order
      // signs (and the engine enforces) a protection price 20 ticks through the centre: no blank cheques.
      const priceTicks = isMarket
        ? Math.max(1, o.centerTicks + (isBuy ? 20 : -20))
        : o.centerTicks + (isBuy ? 1 : -1) * (pick(12) - 6);
      const sizeLots = 1 + pick(5);
      const id = orderId++;
      const place: PlaceOrder = {
        type: 'place',
        ts,
        orderId: id,
        accountId,
        side: isBuy ? Side.Buy : Side.Sell,
        orderType: isMarket ? OrderType.Market : OrderType.Limit,
        price: priceTicks,
        size: sizeLots,
        tif: isMarket || rnd() < 0.2 ? TimeInForce.IOC : TimeInForce.GTC,
        expiresAt: 0,
        postOnly: false,
        stp: StpMode.CancelNewest,
      };
      commands.push(place);
      if (place.tif === TimeInForce.GTC) open.push({ orderId: id, accountId });
      const account = traders.get(accountId)!;
      const immediate = place.tif === TimeInForce.IOC;
      const order = orderForPlace(
        market,
        { isBuy, isMarket, priceTicks, sizeLots, immediate },
        {
          trader: account.address,
          nonce: nextNonce(accountId),
          expiry: immediate ? now + MAX_IMMEDIATE_ORDER_LIFETIME : o.expiry,
          now,
          maxFeeRate: o.maxFeeRate,
        },
      );
      const s = await signOrder(account, o.domain, order);
      const record = toSignedOrderRecord(id, accountId, s);
      signed.push(record);
      orders.set(flowOrderKey(market.marketId, id), record);
      placed++;
    }
    if (commands.length > 0) messages.push({ marketId: market.marketId, signed, commands: { marketId: market.marketId, sentAtMs: 0, commands } });
  }
  return { messages, traders, orders };
}

/**
 * Writes the flow like a gateway does: each message's signed orders first (signed-orders topic), then its
 * commands (orders topic), both keyed and partitioned by market. `chunk` messages per round trip.
 */
export async function produceSignedFlow(
  producer: Producer,
  topics: { readonly orders: string; readonly signedOrders: string },
  partitions: number,
  messages: readonly SignedFlowMessage[],
  chunk = 50,
): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    const slice = messages.slice(i, i + chunk);
    const signed: OutgoingMessage[] = [];
    const commands: OutgoingMessage[] = [];
    for (const m of slice) {
      const key = marketKey(m.marketId);
      const partition = partitionForMarket(m.marketId, partitions);
      if (m.signed.length > 0) signed.push({ key, partition, value: encodeSignedOrderBatch({ marketId: m.marketId, orders: m.signed }) });
      commands.push({ key, partition, value: encodeCommandBatch({ ...m.commands, sentAtMs: Date.now() }) });
    }
    if (signed.length > 0) await producer.send(topics.signedOrders, signed);
    await producer.send(topics.orders, commands);
  }
}

// Routes the book's events that move funds to the account shard that holds them: a tee sink in front of the
// market-events encoder. Each account shard gets the events of its own accounts (a trade goes to both the
// maker's and the taker's shard), encoded with the same codec and market sequence numbers, so the risk
// shard can skip redelivered events by sequence. accepted / level events move no funds and are not routed.
import { EventEncoder, type AmendReason, type CommandType, type DoneReason, type EventSink, type OrderType, type RejectReason, type Side, type TimeInForce } from '@parallax/order-book';

export class AccountEventRouter implements EventSink {
  /** One encoder per account shard, created on first use. */
  private readonly encoders: (EventEncoder | undefined)[] = [];
  /** Shards that received events since the last reset, in first-touch order, with their first account id. */
  private readonly touched: number[] = [];
  private readonly firstAccount: number[] = [];
  /** 1 for the shards in `touched`: a constant-time membership test per routed event (not a scan of touched). */
  private readonly isTouched: Uint8Array;

  constructor(
    readonly market: EventEncoder,
    readonly shards: number,
  ) {
    if (!Number.isInteger(shards) || shards < 1 || shards > 10_000) throw new RangeError(`account shards must be in 1..10000, got ${shards}`);
    this.isTouched = new Uint8Array(shards);
  }

  reset(): void {
    this.market.reset();
    for (const s of this.touched) {
      this.encoders[s]!.reset();
      this.isTouched[s] = 0;
    }
    this.touched.length = 0;
    this.firstAccount.length = 0;
  }

  /** [shard, first account id, codec bytes] of every shard that received events since the last reset. */
  take(): [number, number, Uint8Array][] {
    return this.touched.map((s, i) => [s, this.firstAccount[i]!, this.encoders[s]!.bytes()]);
  }

  private to(accountId: number): EventEncoder {
    // The account id names the shard that minted it (id = counter * shards + shard, see @parallax/risk).
    const s = accountId % this.shards;
    let e = this.encoders[s];
    if (e === undefined) {
      e = new EventEncoder(4 * 1024);
      this.encoders[s] = e;
    }
    if (this.isTouched[s] === 0) {
      this.isTouched[s] = 1;
      this.touched.push(s);
      this.firstAccount.push(accountId);
    }
    return e;
  }

  onAccepted(seq: number, ts: number, orderId: number, accountId: number, side: Side, orderType: OrderType, tif: TimeInForce, price: number, size: number): void {
    this.market.onAccepted(seq, ts, orderId, accountId, side, orderType, tif, price, size);
  }

  onRejected(seq: number, ts: number, command: CommandType, orderId: number, accountId: number, reason: RejectReason): void {
    this.market.onRejected(seq, ts, command, orderId, accountId, reason);
    this.to(accountId).onRejected(seq, ts, command, orderId, accountId, reason);
  }

  onTrade(seq: number, ts: number, makerOrderId: number, makerAccountId: number, takerOrderId: number, takerAccountId: number, takerSide: Side, price: number, size: number): void {
    this.market.onTrade(seq, ts, makerOrderId, makerAccountId, takerOrderId, takerAccountId, takerSide, price, size);
    const maker = this.to(makerAccountId);
    maker.onTrade(seq, ts, makerOrderId, makerAccountId, takerOrderId, takerAccountId, takerSide, price, size);
    const taker = this.to(takerAccountId);
    if (taker !== maker) taker.onTrade(seq, ts, makerOrderId, makerAccountId, takerOrderId, takerAccountId, takerSide, price, size);
  }

  onDone(seq: number, ts: number, orderId: number, accountId: number, reason: DoneReason, remaining: number): void {
    this.market.onDone(seq, ts, orderId, accountId, reason, remaining);
    this.to(accountId).onDone(seq, ts, orderId, accountId, reason, remaining);
  }

  onAmended(seq: number, ts: number, orderId: number, accountId: number, price: number, size: number, reason: AmendReason): void {
    this.market.onAmended(seq, ts, orderId, accountId, price, size, reason);
    this.to(accountId).onAmended(seq, ts, orderId, accountId, price, size, reason);
  }

  onLevel(seq: number, ts: number, side: Side, price: number, size: number): void {
    this.market.onLevel(seq, ts, side, price, size);
  }
}

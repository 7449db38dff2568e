// The dead-man switches of this gateway instance: one per account. A switch armed on a WebSocket session fires
// (cancel all the account's orders) once `timeoutMs` pass without a heartbeat from the session that armed it,
// whether or not that socket is still open: a bot that crashes, or whose connection drops, with
// cancel-on-disconnect off must not keep its quotes forever. Closing the socket does not disarm it.
//
// Who may touch an armed switch: only sessions logged in as the same account. The arming session's `ping`s
// keep it alive; a new session of the account takes it over by arming it again (its pings count from then on,
// the old session's no longer) or disarms it with timeoutMs 0. A ping from another session of the account
// does not keep it alive (a market-data connection must not hide a dead trading one).
//
// The switch lives in this instance's memory: if the gateway itself dies, it dies with it (the bot's
// reconnect to another instance re-arms; the README says so).
import type { Address } from 'viem';

export interface DeadmanSession {
  readonly trader: Address;
}

interface Armed<S extends DeadmanSession> {
  readonly owner: object;
  readonly session: S;
  readonly timeoutMs: number;
  timer: NodeJS.Timeout;
}

export class DeadmanSwitches<S extends DeadmanSession> {
  private readonly armed = new Map<Address, Armed<S>>();

  /** `fire` runs when a switch expires (it is disarmed first). */
  constructor(private readonly fire: (session: S) => void) {}

  /** Arms (or re-arms, taking it over) the account's switch for `owner`, the arming connection. */
  arm(owner: object, session: S, timeoutMs: number): void {
    this.disarm(session.trader);
    const a: Armed<S> = { owner, session, timeoutMs, timer: this.timer(session.trader, timeoutMs) };
    this.armed.set(session.trader, a);
  }

  /** Disarms the account's switch. True if one was armed. */
  disarm(trader: Address): boolean {
    const a = this.armed.get(trader);
    if (a === undefined) return false;
    clearTimeout(a.timer);
    this.armed.delete(trader);
    return true;
  }

  /** A heartbeat from `owner`: restarts the account's switch if `owner` armed it. True if it did. */
  heartbeat(owner: object, trader: Address): boolean {
    const a = this.armed.get(trader);
    if (a?.owner !== owner) return false;
    clearTimeout(a.timer);
    a.timer = this.timer(trader, a.timeoutMs);
    return true;
  }

  /** The armed timeout of the account's switch, if any. */
  timeoutOf(trader: Address): number | undefined {
    return this.armed.get(trader)?.timeoutMs;
  }

  close(): void {
    for (const a of this.armed.values()) clearTimeout(a.timer);
    this.armed.clear();
  }

  private timer(trader: Address, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      const a = this.armed.get(trader);
      if (a === undefined) return;
      this.armed.delete(trader);
      this.fire(a.session);
    }, ms);
    t.unref();
    return t;
  }
}

// Remembers (trader, nonce) of one-shot signed requests (cancels) until they expire: the same signed cancel
// is accepted once. Bounded by the expiry window (GATEWAY_MAX_AUTH_SECONDS), swept as entries expire.
// Per gateway instance: behind a load balancer the window is the bound on a replay to another instance (and
// a replayed cancel can only cancel what the trader asked to cancel).
export class ReplayGuard {
  private readonly entries = new Map<string, number>();
  private sweptAt = 0;

  seen(trader: string, nonce: bigint): boolean {
    return this.entries.has(`${trader}/${nonce}`);
  }

  remember(trader: string, nonce: bigint, expirySec: number): void {
    this.entries.set(`${trader}/${nonce}`, expirySec);
    const now = Math.floor(Date.now() / 1000);
    if (now - this.sweptAt >= 10) {
      this.sweptAt = now;
      for (const [k, exp] of this.entries) if (exp < now) this.entries.delete(k);
    }
  }
}

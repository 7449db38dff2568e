// Seeded place requests for the account-shard tests on a real log: funded traders and one unfunded account (one
// request in ten), random markets, prices around 100 ticks, 1..15 lots, a fifth of them IOC, each account's
// nonces counting up from 1 and the engine time from 1,000.
import type { ClientRequest } from '@parallax/contracts';
import { Prng, TimeInForce } from '@parallax/order-book';
import type { Address, RiskMarket } from '@parallax/risk';
import { placeRequest } from '@parallax/risk/testing';

export class RandomPlaces {
  private readonly prng: Prng;
  private readonly nonces = new Map<Address, bigint>();
  /** The engine time of the next request (one tick a request). */
  ts = 1_000;

  constructor(
    seed: number,
    private readonly traders: readonly Address[],
    private readonly unfunded: Address,
    private readonly markets: readonly RiskMarket[],
  ) {
    this.prng = new Prng(seed);
  }

  next(count: number): ClientRequest[] {
    const rnd = (): number => this.prng.nextFloat();
    const out: ClientRequest[] = [];
    for (let i = 0; i < count; i++) {
      const a = rnd() < 0.1 ? this.unfunded : this.traders[Math.floor(rnd() * this.traders.length)]!;
      const nonce = (this.nonces.get(a) ?? 0n) + 1n;
      this.nonces.set(a, nonce);
      const m = this.markets[Math.floor(rnd() * this.markets.length)]!;
      out.push(placeRequest(a, m, { ts: this.ts++, isBuy: rnd() < 0.5, priceTicks: 100 + Math.floor(rnd() * 9) - 4, lots: 1 + Math.floor(rnd() * 15), nonce, tif: rnd() < 0.2 ? TimeInForce.IOC : TimeInForce.GTC }));
    }
    return out;
  }
}

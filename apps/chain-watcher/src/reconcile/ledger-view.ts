// The risk ledger's `onchain` balance per account and token, rebuilt from the chain events the ledger consumes:
// deposits - executed withdrawals + settled received - settled paid - settled fees (libs/risk README, the
// `onchain` field). Pure: reconciliation compares it with the contract's balanceOf at the same block.
import type { ChainEvent } from '@parallax/contracts';
import { pairKey } from '../watch/event-mapper.js';

export interface Drift {
  readonly account: string;
  readonly token: string;
  /** ledger - contract, base units. */
  readonly drift: bigint;
}

export class LedgerView {
  private readonly balances = new Map<string, bigint>();

  apply(e: ChainEvent): void {
    switch (e.type) {
      case 'deposit':
        this.add(e.account, e.token, e.amount);
        return;
      case 'withdrawalExecuted':
        this.add(e.account, e.token, -e.amount);
        return;
      case 'settled':
        this.add(e.account, e.token, e.received - e.paid - e.fees);
        return;
      case 'withdrawalRequested':
      case 'withdrawalCancelled':
      case 'keyAuthorized':
      case 'keyRevoked':
      case 'nonceCancelled':
      case 'nonceFloorRaised':
      case 'orderCancelled':
      case 'settlementSkipped':
        // Reservations, keys, cancels and skipped fills change what the ledger holds, never the contract's balance.
        return;
    }
  }

  balance(account: string, token: string): bigint {
    return this.balances.get(pairKey(account, token)) ?? 0n;
  }

  /** Every (account, token) the ledger has seen, as pairKey strings. */
  pairs(): string[] {
    return [...this.balances.keys()];
  }

  private add(account: string, token: string, delta: bigint): void {
    const key = pairKey(account, token);
    this.balances.set(key, (this.balances.get(key) ?? 0n) + delta);
  }
}

/**
 * Compares the ledger with the contract for `pairs` (pairKey strings), `concurrency` reads at a time.
 * `contractBalance` reads balanceOf at the block the ledger has consumed up to. Returns every pair that differs.
 */
export async function reconcile(
  ledger: LedgerView,
  pairs: Iterable<string>,
  concurrency: number,
  contractBalance: (account: string, token: string) => Promise<bigint>,
): Promise<{ checked: number; drifts: Drift[] }> {
  const list = [...pairs].map((key) => key.split(':') as [string, string]);
  const drifts: Drift[] = [];
  for (let i = 0; i < list.length; i += concurrency) {
    const chunk = list.slice(i, i + concurrency);
    const onChain = await Promise.all(chunk.map(([account, token]) => contractBalance(account, token)));
    chunk.forEach(([account, token], j) => {
      const d = ledger.balance(account, token) - onChain[j]!;
      if (d !== 0n) drifts.push({ account, token, drift: d });
    });
  }
  return { checked: list.length, drifts };
}

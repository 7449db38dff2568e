// The one port through which the gateway puts orders and cancels on the log. An order reaches matching only
// through its account's risk shard: the adapter (RiskOrderIntake) writes each request, keyed by account, to
// the risk shards' `requests` topic; the shard holds the order's funds and forwards it, or refuses it, and
// answers on the risk-results topic (read by MarketDataService).
import type { CancelRequest, PlaceRequest } from '@parallax/risk';

/** One request for the trader's risk shard; `ts` is stamped by the intake when it is written. */
export type IntakeItem = { readonly kind: 'place'; readonly request: Omit<PlaceRequest, 'ts'> } | { readonly kind: 'cancel'; readonly request: Omit<CancelRequest, 'ts'> };

export interface OrderIntake {
  /** Resolves once every item is durably in the requests log (in the given order per account). */
  submit(items: readonly IntakeItem[]): Promise<void>;
  close(): Promise<void>;
}

export const ORDER_INTAKE = Symbol('OrderIntake');

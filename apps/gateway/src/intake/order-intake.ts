// The one port through which the gateway puts orders and cancels on the log. Today's adapter
// (LogOrderIntake) writes what the load generator and the settlement tests write: the signed order on the
// signed-orders topic, then the engine command on the orders topic, both keyed by market. When the risk
// shards land, an adapter writing one request keyed by account to their `requests` topic replaces it; the
// controllers and use-cases do not change.
import type { Command } from '@parallax/order-book';
import type { SignedOrderRecord } from '@parallax/contracts';

/** One thing to put on the log for one market: a place (with its signed order) or a cancel. */
export type IntakeItem =
  | { readonly kind: 'place'; readonly marketId: number; readonly signed: SignedOrderRecord; readonly command: Omit<Extract<Command, { type: 'place' }>, 'ts'> }
  | { readonly kind: 'cancel'; readonly marketId: number; readonly command: Omit<Extract<Command, { type: 'cancel' }>, 'ts'> }
  | { readonly kind: 'cancelAll'; readonly marketId: number; readonly command: Omit<Extract<Command, { type: 'cancelAll' }>, 'ts'> };

export interface OrderIntake {
  /** Resolves once every item is durably in the log (the durable acknowledgement), in the given order per market. */
  submit(items: readonly IntakeItem[]): Promise<void>;
  close(): Promise<void>;
}

export const ORDER_INTAKE = Symbol('OrderIntake');

// The engine's state as deterministic bytes: canonical JSON (every collection sorted by id, bigints as
// decimal strings), so equal states give equal bytes and the state hash is a hash of those bytes. Snapshots
// are taken rarely (with the input offsets they reflect), so clarity wins over size here.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RiskError } from './errors.js';
import type { RiskConfig } from './types.js';

export const SNAPSHOT_FORMAT = 'parallax.risk.snapshot';
/**
 * 2 adds each balance's parked settlement (parkedIn, parkedOut, parkedFees); 3 adds its deficit, parked
 * skipped fills (skippedIn, skippedOut, skippedFees) and parked withdrawal. A state is written in the lowest
 * version that holds it (nothing parked: 1; only settlements parked: 2), so the bytes and hash of a state
 * without skips are unchanged; every version restores.
 */
export const SNAPSHOT_VERSION = 3;

const uintString = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);
const intString = z.string().regex(/^(0|-?[1-9][0-9]{0,77})$/);
const int = z.int().min(0);
const address = z.string().regex(/^0x[0-9a-f]{40}$/);

const snapshotSchema = z.strictObject({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.union([z.literal(1), z.literal(2), z.literal(SNAPSHOT_VERSION)]),
  shard: int,
  shards: int,
  config: z.string().regex(/^[0-9a-f]{64}$/),
  accountCounter: int,
  orderCounter: int,
  lastSeq: z.array(z.tuple([int, int])),
  /** Per token index: deposits, withdrawals, fees, flow. */
  totals: z.array(z.tuple([uintString, uintString, intString, intString])),
  accounts: z.array(
    z.strictObject({
      address,
      id: int,
      keys: z.array(address),
      nonces: z.array(uintString),
      /**
       * token index, onchain, available, heldOrders, heldWithdrawals, withdrawalShortfall, unsettledIn,
       * unsettledOut, feesOwed, from version 2 parkedIn, parkedOut, parkedFees, from version 3 deficit,
       * skippedIn, skippedOut, skippedFees, parkedWithdrawal
       */
      balances: z.array(
        z.union([
          z.tuple([int, uintString, uintString, uintString, uintString, uintString, uintString, uintString, uintString]),
          z.tuple([int, uintString, uintString, uintString, uintString, uintString, uintString, uintString, uintString, uintString, uintString, uintString]),
          z.tuple([
            int,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
            uintString,
          ]),
        ]),
      ),
    }),
  ),
  /** orderId, marketId, accountId, isBuy, priceTicks, nonce, remainingLots, cancelRequested */
  orders: z.array(z.tuple([int, int, int, z.boolean(), int, uintString, int, z.boolean()])),
});

export type SnapshotState = z.infer<typeof snapshotSchema>;

export function encodeSnapshotState(s: SnapshotState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(s));
}

/** Parses and shape-checks snapshot bytes. Throws RiskError('INVALID_SNAPSHOT'). */
export function decodeSnapshotState(bytes: Uint8Array): SnapshotState {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (e) {
    throw new RiskError('INVALID_SNAPSHOT', `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = snapshotSchema.safeParse(raw);
  if (!r.success) throw new RiskError('INVALID_SNAPSHOT', z.prettifyError(r.error));
  return r.data;
}

/** 16 hex chars of SHA-256 over bytes. Agreement between honest replicas, as the book's state hash. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Fingerprint of everything in the configuration that changes what the state means. */
export function configFingerprint(c: RiskConfig): string {
  const markets = [...c.markets]
    .sort((a, b) => a.marketId - b.marketId)
    .map((m) => [m.marketId, m.baseToken, m.quoteToken, m.lotSize.toString(), m.tickSize.toString(), m.makerFeeRate, m.takerFeeRate]);
  const canonical = JSON.stringify([c.shard, c.shards, c.tsPerSecond ?? 1000, c.expiryMarginTs ?? 0, markets]);
  return createHash('sha256').update(canonical).digest('hex');
}

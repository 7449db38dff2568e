// `settlementStatus` topic (ONE partition, key = SETTLEMENT_STATUS_KEY): the settlement service's progress
// on each on-chain batch, totally ordered, for the gateway, dashboards and tests.
//
// Body: batchId (big uint <= 8 bytes), flags, atMs, fillCount, then the optional fields the flags announce,
// then the failed fills:
//   flags      bits 0-2 status (0 submitted, 1 mined, 2 confirmed, 3 failed, 4 dropped), then one presence
//              bit each: bit 3 txHash, bit 4 nonce, bit 5 blockNumber, bit 6 gasUsed, bit 7 gasPerFill
//   txHash     32 raw bytes          nonce       varint
//   blockNumber, gasUsed, gasPerFill big uints <= 8 bytes (length byte + big-endian bytes, no leading zero)
//   failedFills count (<= 65,535), then per fill: marketId, seq (varints), reason, detail (length-prefixed
//              UTF-8; the encoder truncates detail to MAX_FAILED_FILL_DETAIL_CHARS instead of failing)
// A `mined` event with every optional field takes ~62 bytes.
import { ContractError } from '../errors.js';
import {
  checkUint,
  ContractReader,
  ContractWriter,
  invalidField,
  MessageType,
  readBigUint,
  readHexBytes,
  truncateChars,
  writeBigUint,
  writeHexBytes,
} from '../wire.js';

export const SETTLEMENT_STATUSES = ['submitted', 'mined', 'confirmed', 'failed', 'dropped'] as const;
/**
 * submitted: broadcast (txHash, nonce); mined: in a block (blockNumber, gasUsed, gasPerFill); confirmed: at
 * the confirmation depth and still canonical; failed: fills reported as unsettleable by that batch's
 * preparation (failedFills); dropped: the batch's transaction will not land and its fills go back to pending.
 */
export type SettlementStatusKind = (typeof SETTLEMENT_STATUSES)[number];

export interface FailedFill {
  readonly marketId: number;
  /** The trade event's per-market sequence. */
  readonly seq: number;
  /** UPPER_SNAKE code or a contract error name (PriceLimitExceeded, ...): 1..64 chars of [A-Za-z0-9_]. */
  readonly reason: string;
  /** At most MAX_FAILED_FILL_DETAIL_CHARS (truncated by the encoder). */
  readonly detail: string;
}

export interface SettlementStatus {
  /** The contract's batch id (uint64). */
  readonly batchId: bigint;
  readonly status: SettlementStatusKind;
  /** Wall clock of the transition (ms since the epoch). */
  readonly atMs: number;
  /** Fills in the batch. */
  readonly fillCount: number;
  /** 32-byte transaction hash (decoded lower-case). */
  readonly txHash?: `0x${string}`;
  /** Operator account nonce of the transaction. */
  readonly nonce?: number;
  readonly blockNumber?: bigint;
  readonly gasUsed?: bigint;
  readonly gasPerFill?: bigint;
  readonly failedFills: readonly FailedFill[];
}

export const MAX_FAILED_FILLS = 65_535;
export const MAX_FAILED_FILL_DETAIL_CHARS = 1024;
const REASON_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const STATUS_MASK = 0x07;
const HAS_TX_HASH = 0x08;
const HAS_NONCE = 0x10;
const HAS_BLOCK = 0x20;
const HAS_GAS_USED = 0x40;
const HAS_GAS_PER_FILL = 0x80;
// Smallest failed fill: marketId, seq, a 1-char reason with its length, an empty detail's length.
const MIN_FAILED_FILL_BYTES = 5;

const STATUS_CODE: Record<SettlementStatusKind, number> = { submitted: 0, mined: 1, confirmed: 2, failed: 3, dropped: 4 };

const shared = new ContractWriter(4 * 1024);

export function encodeSettlementStatus(s: SettlementStatus): Uint8Array {
  const w = shared;
  w.reset();
  w.header(MessageType.SettlementStatus);
  const code = Object.hasOwn(STATUS_CODE, s.status) ? STATUS_CODE[s.status] : undefined;
  if (code === undefined) invalidField('status', s.status, SETTLEMENT_STATUSES.map((x) => `'${x}'`).join(' | '));
  const failed = s.failedFills;
  if (!Array.isArray(failed)) invalidField('failedFills', failed, 'an array');
  if (failed.length > MAX_FAILED_FILLS) {
    throw new ContractError('MESSAGE_TOO_LARGE', `a settlement status carries at most ${MAX_FAILED_FILLS} failed fills, got ${failed.length}`);
  }
  let flags = code;
  if (s.txHash !== undefined) flags |= HAS_TX_HASH;
  if (s.nonce !== undefined) flags |= HAS_NONCE;
  if (s.blockNumber !== undefined) flags |= HAS_BLOCK;
  if (s.gasUsed !== undefined) flags |= HAS_GAS_USED;
  if (s.gasPerFill !== undefined) flags |= HAS_GAS_PER_FILL;
  writeBigUint(w, s.batchId, 8, 'batchId');
  w.byte(flags);
  w.uint(checkUint(s.atMs, 'atMs'));
  w.uint(checkUint(s.fillCount, 'fillCount'));
  if (s.txHash !== undefined) writeHexBytes(w, s.txHash, 32, 'txHash');
  if (s.nonce !== undefined) w.uint(checkUint(s.nonce, 'nonce'));
  if (s.blockNumber !== undefined) writeBigUint(w, s.blockNumber, 8, 'blockNumber');
  if (s.gasUsed !== undefined) writeBigUint(w, s.gasUsed, 8, 'gasUsed');
  if (s.gasPerFill !== undefined) writeBigUint(w, s.gasPerFill, 8, 'gasPerFill');
  w.uint(failed.length);
  for (let i = 0; i < failed.length; i++) {
    const f = failed[i] as FailedFill;
    if (typeof f.reason !== 'string' || !REASON_RE.test(f.reason)) invalidField(`failedFills[${i}].reason`, f.reason, 'an UPPER_SNAKE code or error name of 1..64 chars');
    if (typeof f.detail !== 'string') invalidField(`failedFills[${i}].detail`, f.detail, 'a string');
    w.uint(checkUint(f.marketId, 'marketId'));
    w.uint(checkUint(f.seq, 'seq'));
    w.string(f.reason);
    w.string(truncateChars(f.detail, MAX_FAILED_FILL_DETAIL_CHARS));
  }
  return w.finish('settlement status');
}

/** Inverse of encodeSettlementStatus. Throws ContractError on any invalid input, never anything else. */
export function decodeSettlementStatus(bytes: Uint8Array): SettlementStatus {
  const r = new ContractReader(bytes, MessageType.SettlementStatus);
  const batchId = readBigUint(r, 8, 'batchId');
  const flags = r.byte();
  const status = SETTLEMENT_STATUSES[flags & STATUS_MASK] ?? r.fail('INVALID_FIELD', `unknown settlement status ${flags & STATUS_MASK}`);
  const atMs = r.uint();
  const fillCount = r.uint();
  // Built in field order so a decoded value has exactly the keys that were sent (no `key: undefined`).
  const out: { -readonly [K in keyof SettlementStatus]: SettlementStatus[K] } = { batchId, status, atMs, fillCount, failedFills: [] };
  if ((flags & HAS_TX_HASH) !== 0) out.txHash = readHexBytes(r, 32, 'txHash');
  if ((flags & HAS_NONCE) !== 0) out.nonce = r.uint();
  if ((flags & HAS_BLOCK) !== 0) out.blockNumber = readBigUint(r, 8, 'blockNumber');
  if ((flags & HAS_GAS_USED) !== 0) out.gasUsed = readBigUint(r, 8, 'gasUsed');
  if ((flags & HAS_GAS_PER_FILL) !== 0) out.gasPerFill = readBigUint(r, 8, 'gasPerFill');
  const n = r.uint();
  if (n > MAX_FAILED_FILLS) r.fail('MESSAGE_TOO_LARGE', `failed fill count ${n} exceeds ${MAX_FAILED_FILLS}`);
  if (n * MIN_FAILED_FILL_BYTES > r.remaining) r.fail('MALFORMED_MESSAGE', `failed fill count ${n} does not fit in ${r.remaining} bytes`);
  const failedFills: FailedFill[] = [];
  for (let i = 0; i < n; i++) {
    const marketId = r.uint();
    const seq = r.uint();
    const reason = r.string('reason', 64);
    if (!REASON_RE.test(reason)) r.fail('INVALID_FIELD', 'reason must be an UPPER_SNAKE code or error name');
    const detail = r.string('detail', MAX_FAILED_FILL_DETAIL_CHARS);
    failedFills.push({ marketId, seq, reason, detail });
  }
  r.end();
  out.failedFills = failedFills;
  return out;
}

import { ChainError } from '../errors.js';

export interface SettlerConfig {
  /** Depth >= 1: a tx mined in block b is confirmed when head >= b + confirmations - 1. */
  readonly confirmations: number;
  /** An unmined broadcast is re-sent with the same nonce and bumped fees after this. */
  readonly replaceAfterMs: number;
  /** >= 13: nodes require >= 10% on both fee fields for a replacement (margin for rounding). */
  readonly feeBumpPercent: number;
  /** Initial maxPriorityFeePerGas. */
  readonly priorityFeePerGas: bigint;
  /** Never offer more than this maxFeePerGas (a bump stops at the cap). */
  readonly maxFeePerGasCap: bigint;
  /** Gas limit = estimate * (100 + margin) / 100, capped at MAX_TX_GAS. */
  readonly gasMarginPercent: number;
  /** Receipt / head polling. */
  readonly pollIntervalMs: number;
  /** Backoff for transient RPC failures (doubling, capped by rpcRetryMaxMs). */
  readonly rpcRetryInitialMs: number;
  readonly rpcRetryMaxMs: number;
  /** First block findSettled searches for BatchSettled logs (the contract's deployment block; default 0). */
  readonly logsFromBlock: bigint;
}

export const DEFAULT_SETTLER_CONFIG: SettlerConfig = {
  confirmations: 3,
  replaceAfterMs: 30_000,
  feeBumpPercent: 15,
  priorityFeePerGas: 1_000_000_000n,
  maxFeePerGasCap: 500_000_000_000n,
  gasMarginPercent: 20,
  pollIntervalMs: 1_000,
  rpcRetryInitialMs: 250,
  rpcRetryMaxMs: 10_000,
  logsFromBlock: 0n,
};

/** Merges overrides into the defaults and rejects values the settler cannot work with. */
export function settlerConfig(overrides: Partial<SettlerConfig> = {}): SettlerConfig {
  const c: SettlerConfig = { ...DEFAULT_SETTLER_CONFIG, ...overrides };
  const fail = (field: keyof SettlerConfig, rule: string): never => {
    throw new ChainError('INVALID_CONFIG', `SettlerConfig.${field} ${rule} (got ${String(c[field])})`);
  };
  if (!Number.isInteger(c.confirmations) || c.confirmations < 1) fail('confirmations', 'must be an integer >= 1');
  if (!Number.isInteger(c.feeBumpPercent) || c.feeBumpPercent < 13) fail('feeBumpPercent', 'must be an integer >= 13');
  if (!Number.isInteger(c.gasMarginPercent) || c.gasMarginPercent < 0) fail('gasMarginPercent', 'must be an integer >= 0');
  for (const field of ['replaceAfterMs', 'pollIntervalMs', 'rpcRetryInitialMs', 'rpcRetryMaxMs'] as const) {
    if (!Number.isFinite(c[field]) || c[field] <= 0) fail(field, 'must be > 0');
  }
  if (c.rpcRetryMaxMs < c.rpcRetryInitialMs) fail('rpcRetryMaxMs', 'must be >= rpcRetryInitialMs');
  if (c.priorityFeePerGas < 0n) fail('priorityFeePerGas', 'must be >= 0');
  if (c.maxFeePerGasCap <= 0n) fail('maxFeePerGasCap', 'must be > 0');
  if (c.logsFromBlock < 0n) fail('logsFromBlock', 'must be >= 0');
  return c;
}

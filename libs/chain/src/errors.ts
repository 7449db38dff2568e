import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from 'viem';
import { settlementAbi, testTokenAbi } from './generated/contracts.js';

/** Stable codes of errors raised by this library (not by the contract). */
export type ChainErrorCode =
  | 'INVALID_ORDER'
  // A signature that is not 65 bytes, has a bad v, or is the high-s twin of a valid one (parseSignature).
  | 'INVALID_SIGNATURE'
  | 'INVALID_FILL'
  | 'INVALID_BATCH'
  | 'DUPLICATE_ORDER'
  | 'INEXACT_QUOTE_AMOUNT'
  | 'INVALID_MARKET'
  | 'MALFORMED_BATCH_DATA'
  | 'ANVIL_START_FAILED'
  | 'DEPLOY_FAILED'
  | 'TX_REVERTED'
  // BatchSettler: the contract says the batch id is not next (already settled, or an earlier one is missing).
  | 'BATCH_OUT_OF_ORDER'
  // BatchSettler: the signer is not the contract's operator (no fill is at fault, so none is excluded).
  | 'NOT_OPERATOR'
  // BatchSettler: the batch id was settled on chain by a transaction whose calldata is not the one we sent.
  | 'FOREIGN_BATCH'
  | 'INVALID_CONFIG';

export class ChainError extends Error {
  constructor(
    readonly code: ChainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChainError';
  }
}

/** A custom error reverted by the settlement contract (or a test token), decoded from its ABI. */
export interface ContractRevert {
  readonly name: string;
  readonly args: readonly unknown[];
}

const revertAbi = [...settlementAbi, ...testTokenAbi];

/**
 * Finds the contract's custom error in a viem error (from simulate/write/estimate) or in raw revert data.
 * Returns undefined when the failure was not a decodable revert (network error, out of gas, ...).
 */
export function decodeContractRevert(error: unknown): ContractRevert | undefined {
  if (typeof error === 'string' && error.startsWith('0x')) return decodeRevertData(error as Hex);
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.data?.errorName !== undefined) {
      return { name: reverted.data.errorName, args: argsOf(reverted.data.args) };
    }
    if (reverted.raw !== undefined) return decodeRevertData(reverted.raw);
  }
  // Errors from eth_estimateGas / eth_sendTransaction carry the revert data deeper in the cause chain.
  const withData = error.walk((e) => typeof (e as { data?: unknown }).data === 'string');
  const data = (withData as { data?: unknown } | null)?.data;
  return typeof data === 'string' && data.startsWith('0x') ? decodeRevertData(data as Hex) : undefined;
}

function decodeRevertData(data: Hex): ContractRevert | undefined {
  try {
    const decoded = decodeErrorResult({ abi: revertAbi, data });
    return { name: decoded.errorName, args: argsOf(decoded.args) };
  } catch {
    return undefined;
  }
}

function argsOf(args: unknown): readonly unknown[] {
  return Array.isArray(args) ? (args as unknown[]) : [];
}

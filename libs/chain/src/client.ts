import {
  getAddress,
  parseEventLogs,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type Log,
  type ParseEventLogsReturnType,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { MAX_TX_GAS } from './constants.js';
import { ChainError } from './errors.js';
import { settlementAbi, settlementBytecode, testTokenAbi, testTokenBytecode } from './generated/contracts.js';
import type { EncodedBatch } from './batch.js';

/** A wallet client bound to a chain and an account (what every write helper here takes). */
export type Signer = WalletClient<Transport, Chain, Account>;
export type Reader = PublicClient<Transport, Chain>;

export interface SettlementParams {
  readonly owner: Address;
  readonly operator: Address;
  readonly feeRecipient: Address;
  /** Seconds between requestWithdrawal and an operator-free executeWithdrawal (<= 30 days). */
  readonly withdrawalDelay: bigint;
}

export async function deploySettlement(wallet: Signer, reader: Reader, params: SettlementParams): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: settlementAbi,
    bytecode: settlementBytecode,
    args: [params.owner, params.operator, params.feeRecipient, params.withdrawalDelay],
  });
  return deployedAddress(reader, hash, 'ParallaxSettlement');
}

export interface TestTokenParams {
  readonly name: string;
  readonly symbol: string;
  readonly decimals: number;
}

/** Deploys the mintable test ERC-20 (anyone can mint: local chains and tests only). */
export async function deployTestToken(wallet: Signer, reader: Reader, params: TestTokenParams): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: testTokenAbi,
    bytecode: testTokenBytecode,
    args: [params.name, params.symbol, params.decimals],
  });
  return deployedAddress(reader, hash, params.symbol);
}

async function deployedAddress(reader: Reader, hash: Hex, what: string): Promise<Address> {
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || receipt.contractAddress == null) {
    throw new ChainError('DEPLOY_FAILED', `deploying ${what} failed in ${hash}`);
  }
  return getAddress(receipt.contractAddress);
}

export interface SettleOptions {
  /** Gas limit of the transaction; default MAX_TX_GAS (the EIP-7825 cap). Skips estimation. */
  readonly gas?: bigint;
  /** Run eth_call first so a bad batch throws its decoded custom error without spending gas (default true). */
  readonly simulate?: boolean;
}

/**
 * Sends settleBatch(batchId, batch) from the operator and waits for the receipt. A revert in simulation throws
 * viem's error (use decodeContractRevert for the custom error); a mined revert throws TX_REVERTED.
 */
export async function settleBatch(
  operator: Signer,
  reader: Reader,
  settlement: Address,
  batchId: bigint,
  batch: EncodedBatch | Hex,
  options: SettleOptions = {},
): Promise<TransactionReceipt> {
  const data = typeof batch === 'string' ? batch : batch.data;
  const gas = options.gas ?? MAX_TX_GAS;
  const request = {
    address: settlement,
    abi: settlementAbi,
    functionName: 'settleBatch',
    args: [batchId, data],
    account: operator.account,
    gas,
  } as const;
  if (options.simulate ?? true) await reader.simulateContract(request);
  const hash = await operator.writeContract(request);
  return expectSuccess(reader, hash, `settleBatch(${batchId})`);
}

/** Waits for a transaction and throws TX_REVERTED (as a ChainError-like Error) if it reverted. */
export async function expectSuccess(reader: Reader, hash: Hex, what: string): Promise<TransactionReceipt> {
  const receipt = await reader.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new ChainError('TX_REVERTED', `${what} reverted in ${hash}`);
  return receipt;
}

/** Decodes the settlement contract's events out of receipt or getLogs logs (unrelated logs are skipped). */
export function parseSettlementEvents(logs: readonly Log[]): ParseEventLogsReturnType<typeof settlementAbi> {
  return parseEventLogs({ abi: settlementAbi, logs: [...logs] });
}

/** One entry of an `OrdersFilled` log: an order filled in the batch and its cumulative filled base amount. */
export interface OrderFillTotal {
  readonly orderHash: Hex;
  /** Cumulative filled base amount after the batch: apply as a value (idempotent), not a delta. */
  readonly filledTotal: bigint;
}

/** Bytes per entry of `OrdersFilled.fills`: bytes32 orderHash | uint128 filledTotal, packed big-endian. */
export const ORDER_FILL_ENTRY_BYTES = 48;

/**
 * Decodes the `fills` bytes of an `OrdersFilled(batchId, fills)` log (one log per batch, one entry per order
 * filled in it, in order-hash order). Throws MALFORMED_BATCH_DATA if the length is not a multiple of 48 bytes.
 */
export function decodeOrdersFilled(fills: Hex): OrderFillTotal[] {
  const hex = fills.slice(2);
  const entryChars = ORDER_FILL_ENTRY_BYTES * 2;
  if (hex.length % entryChars !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ChainError('MALFORMED_BATCH_DATA', `OrdersFilled data of ${hex.length / 2} bytes is not a list of 48-byte entries`);
  }
  const out: OrderFillTotal[] = [];
  for (let at = 0; at < hex.length; at += entryChars) {
    out.push({
      orderHash: `0x${hex.slice(at, at + 64).toLowerCase()}`,
      filledTotal: BigInt(`0x${hex.slice(at + 64, at + entryChars)}`),
    });
  }
  return out;
}

/** The contract's events in a block range, in chain order: what the risk service and projector follow. */
export async function fetchSettlementEvents(
  reader: Reader,
  settlement: Address,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<ParseEventLogsReturnType<typeof settlementAbi>> {
  const logs = await reader.getLogs({ address: settlement, fromBlock, toBlock });
  return parseSettlementEvents(logs);
}

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
import { MAX_TX_GAS, SETTLED_FILL_BYTES } from './constants.js';
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
  /** Seconds between requestWithdrawal and an operator-free executeWithdrawal (1 hour .. 30 days). */
  readonly withdrawalDelay: bigint;
  /** Seconds from an on-chain cancel or key revocation to its effect (1 minute .. 1 hour, <= withdrawalDelay). */
  readonly cancelDelay: bigint;
}

export async function deploySettlement(wallet: Signer, reader: Reader, params: SettlementParams): Promise<Address> {
  const hash = await wallet.deployContract({
    abi: settlementAbi,
    bytecode: settlementBytecode,
    args: [params.owner, params.operator, params.feeRecipient, params.withdrawalDelay, params.cancelDelay],
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

/** One fill applied by a batch, from its `FillsSettled` log: who paid and received what. */
export interface SettledFill {
  readonly buyer: Address;
  readonly seller: Address;
  readonly baseToken: Address;
  readonly quoteToken: Address;
  readonly baseAmount: bigint;
  /**
   * The buyer paid quoteAmount + buyFee; the seller received quoteAmount - sellFee. A fee is signed: negative
   * is a rebate paid to that side. buyFee + sellFee went to the fee recipient.
   */
  readonly quoteAmount: bigint;
  readonly buyFee: bigint;
  readonly sellFee: bigint;
}

/**
 * Decodes a `FillsSettled(batchId, tokens, fills)` log's arguments into balance movements. Throws
 * MALFORMED_BATCH_DATA on a length that is not a multiple of 106 bytes or a token index outside `tokens`.
 */
export function decodeFillsSettled(tokens: readonly Address[], fills: Hex): SettledFill[] {
  const hex = fills.slice(2);
  const entryChars = SETTLED_FILL_BYTES * 2;
  if (hex.length % entryChars !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ChainError('MALFORMED_BATCH_DATA', `FillsSettled data of ${hex.length / 2} bytes is not a list of ${SETTLED_FILL_BYTES}-byte entries`);
  }
  const token = (idx: number): Address => {
    const t = tokens[idx];
    if (t === undefined) throw new ChainError('MALFORMED_BATCH_DATA', `FillsSettled token index ${idx} outside the ${tokens.length}-token table`);
    return t;
  };
  const out: SettledFill[] = [];
  for (let at = 0; at < hex.length; at += entryChars) {
    const e = hex.slice(at, at + entryChars);
    const u128 = (from: number): bigint => BigInt(`0x${e.slice(from, from + 32)}`);
    const i128 = (from: number): bigint => BigInt.asIntN(128, u128(from));
    out.push({
      buyer: getAddress(`0x${e.slice(0, 40)}`),
      seller: getAddress(`0x${e.slice(40, 80)}`),
      baseToken: token(Number.parseInt(e.slice(80, 82), 16)),
      quoteToken: token(Number.parseInt(e.slice(82, 84), 16)),
      baseAmount: u128(84),
      quoteAmount: u128(116),
      buyFee: i128(148),
      sellFee: i128(180),
    });
  }
  return out;
}

/**
 * Indexes (into the batch's encoded fills) of the fills a mined settleBatch skipped because a trader lacked
 * the funds, read from its `FillsSkipped` log; empty when it skipped none. Logs of other contracts are ignored.
 */
export function skippedFillsOf(receipt: Pick<TransactionReceipt, 'logs'>, settlement: Address): number[] {
  const own = receipt.logs.filter((l) => l.address.toLowerCase() === settlement.toLowerCase());
  const skipped: number[] = [];
  for (const e of parseSettlementEvents(own)) {
    if (e.eventName === 'FillsSkipped') skipped.push(...(e.args.fillIndexes ?? []).map((i) => Number(i)));
  }
  return skipped;
}

// Trader-side calls. viem types writeContract per function, so each is spelled out (a generic wrapper loses it).

/** The trader (`wallet`) lets `key` sign its orders until `expiry` (unix seconds, inclusive). */
export async function authorizeTradingKey(wallet: Signer, reader: Reader, settlement: Address, key: Address, expiry: bigint): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({ address: settlement, abi: settlementAbi, functionName: 'authorizeTradingKey', args: [key, expiry], account: wallet.account, chain: wallet.chain });
  return expectSuccess(reader, hash, 'authorizeTradingKey');
}

/** The trader (`wallet`) revokes `key`, effective after the contract's cancelDelay. */
export async function revokeTradingKey(wallet: Signer, reader: Reader, settlement: Address, key: Address): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({ address: settlement, abi: settlementAbi, functionName: 'revokeTradingKey', args: [key], account: wallet.account, chain: wallet.chain });
  return expectSuccess(reader, hash, 'revokeTradingKey');
}

/** The trader (`wallet`) cancels its order `orderHash` on chain, effective after the contract's cancelDelay. */
export async function cancelOrderOnChain(wallet: Signer, reader: Reader, settlement: Address, orderHash: Hex): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({ address: settlement, abi: settlementAbi, functionName: 'cancelOrder', args: [orderHash], account: wallet.account, chain: wallet.chain });
  return expectSuccess(reader, hash, 'cancelOrder');
}

/** The trader (`wallet`) kills every order of its with a nonce below `floor`, effective after cancelDelay. */
export async function cancelNoncesBelow(wallet: Signer, reader: Reader, settlement: Address, floor: bigint): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({ address: settlement, abi: settlementAbi, functionName: 'cancelNoncesBelow', args: [floor], account: wallet.account, chain: wallet.chain });
  return expectSuccess(reader, hash, 'cancelNoncesBelow');
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

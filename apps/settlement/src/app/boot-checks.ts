// What must be true of the chain before the settlement service may broadcast anything. Each failure has a
// stable code and names what to fix; the service refuses to start on any of them rather than discover them
// as failed fills (a wrong chain id makes every signature "invalid") or as reverted transactions.
import { settlementAbi, type SettlementDomain } from '@parallax/chain';
import { getAddress, type Address, type PublicClient } from 'viem';

export type BootCheckCode =
  | 'CHAIN_ID_MISMATCH' // CHAIN_ID is not the node's chain
  | 'NO_CONTRACT_CODE' // nothing is deployed at SETTLEMENT_ADDRESS on this chain
  | 'DOMAIN_MISMATCH' // the contract's EIP-712 domain is not the one traders sign for
  | 'NOT_OPERATOR' // OPERATOR_PRIVATE_KEY is not the contract's operator
  | 'DEPLOY_BLOCK_INVALID'; // SETTLEMENT_DEPLOY_BLOCK is unset (0) or past the chain head

export class SettlementBootError extends Error {
  constructor(readonly problems: readonly { readonly code: BootCheckCode; readonly detail: string }[]) {
    super(`settlement cannot start: ${problems.map((p) => `${p.code}: ${p.detail}`).join('; ')}`);
    this.name = 'SettlementBootError';
  }

  get codes(): BootCheckCode[] {
    return this.problems.map((p) => p.code);
  }
}

export interface BootExpectations {
  /** CHAIN_ID when configured (else the node's is taken). */
  readonly chainId: number | undefined;
  readonly settlement: Address;
  readonly operator: Address;
  readonly deployBlock: bigint;
  /** The domain orders are hashed under, for a given chain id. */
  readonly domainFor: (chainId: number) => SettlementDomain;
}

/** Runs every check (one round trip each) and throws SettlementBootError listing all that fail; returns the chain id. */
export async function checkChainAtBoot(reader: Pick<PublicClient, 'getChainId' | 'getCode' | 'getBlockNumber' | 'readContract'>, want: BootExpectations): Promise<number> {
  const problems: { code: BootCheckCode; detail: string }[] = [];
  const nodeChainId = await reader.getChainId();
  if (want.chainId !== undefined && want.chainId !== nodeChainId) {
    problems.push({ code: 'CHAIN_ID_MISMATCH', detail: `CHAIN_ID is ${want.chainId} but the node at RPC_URL serves chain ${nodeChainId}` });
  }
  const code = await reader.getCode({ address: want.settlement });
  if (code === undefined || code === '0x') {
    problems.push({ code: 'NO_CONTRACT_CODE', detail: `no contract at SETTLEMENT_ADDRESS ${want.settlement} on chain ${nodeChainId}` });
    throw new SettlementBootError(problems); // nothing more can be asked of an address without code
  }
  const head = await reader.getBlockNumber();
  if (want.deployBlock <= 0n || want.deployBlock > head) {
    problems.push({ code: 'DEPLOY_BLOCK_INVALID', detail: `SETTLEMENT_DEPLOY_BLOCK ${want.deployBlock} must be the contract's deployment block (1..head ${head})` });
  }
  const expected = want.domainFor(want.chainId ?? nodeChainId);
  try {
    const [, name, version, chainId, verifyingContract] = await reader.readContract({ address: want.settlement, abi: settlementAbi, functionName: 'eip712Domain' });
    const actual = `${name} v${version} chain ${chainId} at ${getAddress(verifyingContract)}`;
    const wanted = `${expected.name} v${expected.version} chain ${expected.chainId} at ${getAddress(expected.verifyingContract)}`;
    if (actual !== wanted) problems.push({ code: 'DOMAIN_MISMATCH', detail: `the contract signs orders for ${actual}; this service hashes them for ${wanted}` });
  } catch (err) {
    problems.push({ code: 'DOMAIN_MISMATCH', detail: `SETTLEMENT_ADDRESS ${want.settlement} has no readable eip712Domain(): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
  }
  try {
    const operator = await reader.readContract({ address: want.settlement, abi: settlementAbi, functionName: 'operator' });
    if (getAddress(operator) !== getAddress(want.operator)) {
      problems.push({ code: 'NOT_OPERATOR', detail: `OPERATOR_PRIVATE_KEY is ${getAddress(want.operator)}, the contract's operator is ${getAddress(operator)}` });
    }
  } catch (err) {
    problems.push({ code: 'NOT_OPERATOR', detail: `SETTLEMENT_ADDRESS ${want.settlement} has no readable operator(): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
  }
  if (problems.length > 0) throw new SettlementBootError(problems);
  return nodeChainId;
}

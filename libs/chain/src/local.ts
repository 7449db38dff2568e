import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  maxUint256,
  type Account,
  type Address,
  type Chain,
  type HttpTransport,
  type PublicClient,
  type TestClient,
  type WalletClient,
} from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_MNEMONIC, startAnvil, type Anvil, type AnvilOptions } from './anvil.js';
import { deploySettlement, deployTestToken, expectSuccess } from './client.js';
import { settlementAbi, testTokenAbi } from './generated/contracts.js';
import { settlementDomain, type SettlementDomain } from './order.js';

/** What deployDevContracts puts on a development chain. */
export interface DevContractsOptions {
  /** Immutable escape-hatch delay of the deployed contract, seconds (default 1 day). */
  readonly withdrawalDelay?: bigint;
  /** Immutable on-chain cancel / key revocation latency, seconds (default 60, the contract's minimum). */
  readonly cancelDelay?: bigint;
  /** Test tokens to deploy, by symbol (default BASE with 18 decimals, QUOTE with 6). */
  readonly tokens?: readonly { readonly symbol: string; readonly decimals: number }[];
  /** How often clients poll for receipts, ms (default 20: a local node mines at once). */
  readonly pollingIntervalMs?: number;
}

export interface LocalChainOptions extends DevContractsOptions {
  readonly anvil?: AnvilOptions;
}

export type LocalWallet = WalletClient<HttpTransport, Chain, Account>;

/** The settlement contract and test tokens deployed on a development chain, with clients for the dev accounts. */
export interface DevContracts {
  readonly chain: Chain;
  readonly publicClient: PublicClient<HttpTransport, Chain>;
  /** Dev account 0: deployer and owner. */
  readonly owner: LocalWallet;
  /** Dev account 1: the operator that settles batches. */
  readonly operator: LocalWallet;
  /** Dev account 2. */
  readonly feeRecipient: Address;
  /** Dev account 3: holds test tokens and funds traders with depositFor (the tokens are approved for it). */
  readonly funder: LocalWallet;
  readonly settlement: Address;
  /** A block no later than the contract's first (recovery searches its logs from here; never 0). */
  readonly deployBlock: bigint;
  readonly tokens: Readonly<Record<string, Address>>;
  readonly domain: SettlementDomain;
  readonly withdrawalDelay: bigint;
  readonly cancelDelay: bigint;
  /** A wallet client for any account on this chain. */
  wallet(account: Account): LocalWallet;
}

/** anvil + a deployed settlement contract + test tokens, with clients for the dev accounts. */
export interface LocalChain extends DevContracts {
  readonly anvil: Anvil;
  readonly testClient: TestClient<'anvil', HttpTransport, Chain>;
  /** Mints `amount` of a test token to the funder and deposits it into `trader`'s balance. */
  fund(trader: Address, token: Address, amount: bigint): Promise<void>;
  close(): Promise<void>;
}

/**
 * Deploys the settlement contract (owner, operator and fee recipient: dev accounts 0, 1, 2) and listed test tokens
 * approved for the funder (dev account 3) to the development chain at `rpcUrl`: anvil's well-known keys, so never a
 * chain that holds anything of value. Used by the tests' local chain and the compose `deploy` step.
 */
export async function deployDevContracts(rpcUrl: string, options: DevContractsOptions = {}): Promise<DevContracts> {
  const transport = http(rpcUrl);
  const pollingInterval = options.pollingIntervalMs ?? 20;
  const chainId = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({
    id: chainId,
    name: `dev-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval });
  const wallet = (account: Account): LocalWallet => createWalletClient({ chain, transport, account, pollingInterval });
  const dev = (i: number): Account => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i });
  const owner = wallet(dev(0));
  const operator = wallet(dev(1));
  const feeRecipient = dev(2).address;
  const funder = wallet(dev(3));
  const withdrawalDelay = options.withdrawalDelay ?? 86_400n;
  const cancelDelay = options.cancelDelay ?? 60n;

  // The contract lands in a later block than the current one (on a fresh chain: block 1 at the earliest).
  const deployBlock = (await publicClient.getBlockNumber()) + 1n;
  const settlement = await deploySettlement(owner, publicClient, {
    owner: owner.account.address,
    operator: operator.account.address,
    feeRecipient,
    withdrawalDelay,
    cancelDelay,
  });
  const tokens: Record<string, Address> = {};
  for (const t of options.tokens ?? [
    { symbol: 'BASE', decimals: 18 },
    { symbol: 'QUOTE', decimals: 6 },
  ]) {
    const token = await deployTestToken(owner, publicClient, { name: `Test ${t.symbol}`, symbol: t.symbol, decimals: t.decimals });
    tokens[t.symbol] = token;
    // Deposits need the owner's listing (the allowlist).
    await expectSuccess(
      publicClient,
      await owner.writeContract({ address: settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [token, true] }),
      'setTokenListed',
    );
    await expectSuccess(
      publicClient,
      await funder.writeContract({ address: token, abi: testTokenAbi, functionName: 'approve', args: [settlement, maxUint256] }),
      'approve',
    );
  }
  return {
    chain,
    publicClient,
    owner,
    operator,
    feeRecipient,
    funder,
    settlement,
    deployBlock,
    tokens,
    domain: settlementDomain(chainId, settlement),
    withdrawalDelay,
    cancelDelay,
    wallet,
  };
}

export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const anvil = await startAnvil(options.anvil);
  try {
    const dev = await deployDevContracts(anvil.rpcUrl, options);
    const { chain, publicClient, funder, settlement } = dev;
    const testClient = createTestClient({ chain, transport: http(anvil.rpcUrl), mode: 'anvil', pollingInterval: options.pollingIntervalMs ?? 20 });
    return {
      ...dev,
      anvil,
      testClient,
      async fund(trader: Address, token: Address, amount: bigint): Promise<void> {
        await expectSuccess(
          publicClient,
          await funder.writeContract({
            address: token,
            abi: testTokenAbi,
            functionName: 'mint',
            args: [funder.account.address, amount],
            gas: 100_000n,
          }),
          'mint',
        );
        await expectSuccess(
          publicClient,
          await funder.writeContract({
            address: settlement,
            abi: settlementAbi,
            functionName: 'depositFor',
            args: [trader, token, amount],
            gas: 200_000n,
          }),
          'depositFor',
        );
      },
      close: () => anvil.close(),
    };
  } catch (err) {
    await anvil.close();
    throw err;
  }
}

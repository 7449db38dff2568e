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

export interface LocalChainOptions {
  readonly anvil?: AnvilOptions;
  /** Immutable escape-hatch delay of the deployed contract, seconds (default 1 day). */
  readonly withdrawalDelay?: bigint;
  /** Immutable on-chain cancel / key revocation latency, seconds (default 60, the contract's minimum). */
  readonly cancelDelay?: bigint;
  /** Test tokens to deploy, by symbol (default BASE with 18 decimals, QUOTE with 6). */
  readonly tokens?: readonly { readonly symbol: string; readonly decimals: number }[];
}

export type LocalWallet = WalletClient<HttpTransport, Chain, Account>;

/** anvil + a deployed settlement contract + test tokens, with clients for the dev accounts. */
export interface LocalChain {
  readonly anvil: Anvil;
  readonly chain: Chain;
  readonly publicClient: PublicClient<HttpTransport, Chain>;
  readonly testClient: TestClient<'anvil', HttpTransport, Chain>;
  /** Dev account 0: deployer and owner. */
  readonly owner: LocalWallet;
  /** Dev account 1: the operator that settles batches. */
  readonly operator: LocalWallet;
  /** Dev account 2. */
  readonly feeRecipient: Address;
  /** Dev account 3: holds test tokens and funds traders with depositFor. */
  readonly funder: LocalWallet;
  readonly settlement: Address;
  readonly tokens: Readonly<Record<string, Address>>;
  readonly domain: SettlementDomain;
  readonly withdrawalDelay: bigint;
  readonly cancelDelay: bigint;
  /** A wallet client for any account on this chain. */
  wallet(account: Account): LocalWallet;
  /** Mints `amount` of a test token to the funder and deposits it into `trader`'s balance. */
  fund(trader: Address, token: Address, amount: bigint): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const anvil = await startAnvil(options.anvil);
  try {
    const chain = defineChain({
      id: anvil.chainId,
      name: 'anvil',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    // Local node: poll receipts often (viem's default interval is seconds).
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
    const testClient = createTestClient({ chain, transport, mode: 'anvil', pollingInterval: 20 });
    const wallet = (account: Account): LocalWallet =>
      createWalletClient({ chain, transport, account, pollingInterval: 20 });
    const dev = (i: number): Account => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i });
    const owner = wallet(dev(0));
    const operator = wallet(dev(1));
    const feeRecipient = dev(2).address;
    const funder = wallet(dev(3));
    const withdrawalDelay = options.withdrawalDelay ?? 86_400n;
    const cancelDelay = options.cancelDelay ?? 60n;

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
      anvil,
      chain,
      publicClient,
      testClient,
      owner,
      operator,
      feeRecipient,
      funder,
      settlement,
      tokens,
      domain: settlementDomain(anvil.chainId, settlement),
      withdrawalDelay,
      cancelDelay,
      wallet,
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

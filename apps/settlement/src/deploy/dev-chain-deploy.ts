// One-shot deployment of the settlement contract and test tokens to a development chain (the compose `anvil`),
// handing what the services need to them through files on a shared volume:
//   <DEPLOY_DIR>/settlement.env   SETTLEMENT_ADDRESS, SETTLEMENT_DEPLOY_BLOCK, CHAIN_ID, OPERATOR_PRIVATE_KEY
//   <DEPLOY_DIR>/markets.json     SETTLEMENT_MARKETS_FILE
// The keys are anvil's well-known dev accounts: this is for a chain that holds nothing of value, never a real
// one (a real chain is configured, not deployed to: see docs/operations.md). Re-running it against the same
// chain reuses the deployment when the contract is still there (a restarted anvil has lost it: deploy again).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, defineChain, http, maxUint256, bytesToHex, isAddress, type Address, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_MNEMONIC, deploySettlement, deployTestToken, expectSuccess, settlementAbi, testTokenAbi, type SettlementMarket } from '@parallax/chain';
import { formatSettlementMarkets, parseSettlementMarkets } from '../config/settlement.config.js';

export interface DevChainDeployment {
  readonly chainId: number;
  readonly settlement: Address;
  readonly deployBlock: bigint;
  readonly operatorKey: Hex;
  readonly markets: readonly SettlementMarket[];
  /** false when an earlier deployment on this chain was found and kept. */
  readonly deployed: boolean;
}

const ENV_FILE = 'settlement.env';
const MARKETS_FILE = 'markets.json';

function devKey(index: number): Hex {
  const key = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (key === null) throw new Error(`no private key for dev account ${index}`);
  return bytesToHex(key);
}

function readEnvFile(path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2]);
  }
  return out;
}

/** Written then renamed: a service starting at the same moment never reads half a file. */
function writeAtomic(path: string, content: string, mode: number): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, content, { mode });
  chmodSync(partial, mode);
  renameSync(partial, path);
}

export async function deployDevChain(rpcUrl: string, deployDir: string, marketCount = 2): Promise<DevChainDeployment> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  const chainId = await probe.getChainId();
  const chain = defineChain({ id: chainId, name: `dev-${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const reader = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 100 });
  const operatorKey = devKey(1);

  mkdirSync(deployDir, { recursive: true });
  const envPath = join(deployDir, ENV_FILE);
  const marketsPath = join(deployDir, MARKETS_FILE);
  try {
    const previous = readEnvFile(envPath);
    const address = previous.get('SETTLEMENT_ADDRESS');
    if (previous.get('CHAIN_ID') === String(chainId) && address !== undefined && isAddress(address)) {
      const code = await reader.getCode({ address });
      if (code !== undefined && code !== '0x') {
        const markets = [...parseSettlementMarkets(readFileSync(marketsPath, 'utf8'), marketsPath).values()];
        return { chainId, settlement: address, deployBlock: BigInt(previous.get('SETTLEMENT_DEPLOY_BLOCK') ?? '0'), operatorKey, markets, deployed: false };
      }
    }
  } catch {
    // No usable earlier deployment: deploy.
  }

  const wallet = (index: number) => createWalletClient({ chain, transport: http(rpcUrl), account: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }), pollingInterval: 100 });
  const owner = wallet(0);
  const operator = wallet(1);
  const funder = wallet(3);
  // The contract lands in a later block than the current one (on a fresh chain: block 1 at the earliest); recovery
  // searches BatchSettled logs from here, so a block before the deployment is safe and 0 is refused by settlement.
  const deployBlock = (await reader.getBlockNumber()) + 1n;
  const settlement = await deploySettlement(owner, reader, {
    owner: owner.account.address,
    operator: operator.account.address,
    feeRecipient: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 2 }).address,
    withdrawalDelay: 86_400n,
    // A trader's on-chain cancel takes effect after this (the settlement latency window): a development minute.
    cancelDelay: 60n,
  });
  const base = await deployTestToken(owner, reader, { name: 'Test BASE', symbol: 'BASE', decimals: 18 });
  const quote = await deployTestToken(owner, reader, { name: 'Test QUOTE', symbol: 'QUOTE', decimals: 6 });
  for (const token of [base, quote]) {
    // The contract takes deposits of listed tokens only (the owner's allowlist).
    await expectSuccess(reader, await owner.writeContract({ address: settlement, abi: settlementAbi, functionName: 'setTokenListed', args: [token, true] }), 'setTokenListed');
    await expectSuccess(reader, await funder.writeContract({ address: token, abi: testTokenAbi, functionName: 'approve', args: [settlement, maxUint256] }), 'approve');
  }
  // BASE/QUOTE: lot 0.001 BASE (1e15 units), tick 0.01 QUOTE per BASE (1e4 per 1e18 units), as in the local chain.
  const markets: SettlementMarket[] = [];
  for (let marketId = 1; marketId <= marketCount; marketId++) markets.push({ marketId, baseToken: base, quoteToken: quote, lotSize: 10n ** 15n, tickSize: 10n ** 4n });

  writeAtomic(marketsPath, `${formatSettlementMarkets(markets)}\n`, 0o644);
  writeAtomic(
    envPath,
    [`CHAIN_ID=${chainId}`, `SETTLEMENT_ADDRESS=${settlement}`, `SETTLEMENT_DEPLOY_BLOCK=${deployBlock}`, `OPERATOR_PRIVATE_KEY=${operatorKey}`, ''].join('\n'),
    0o600,
  );
  return { chainId, settlement, deployBlock, operatorKey, markets, deployed: true };
}

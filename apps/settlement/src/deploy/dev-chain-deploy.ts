// One-shot deployment of the settlement contract and test tokens to a development chain (the compose `anvil`),
// handing what the services need to them through files on a shared volume:
//   <DEPLOY_DIR>/settlement.env   SETTLEMENT_ADDRESS, SETTLEMENT_DEPLOY_BLOCK, CHAIN_ID, OPERATOR_PRIVATE_KEY
//   <DEPLOY_DIR>/markets.json     SETTLEMENT_MARKETS_FILE
//   <DEPLOY_DIR>/risk-markets.json  RISK_MARKETS_FILE (apps/risk: the same markets with their fee rates, 0 here as
//                                   the gateway's MAKER_/TAKER_FEE_RATE defaults; the compose settlement service
//                                   reads this file too, so both charge the same per-market rates)
// The keys are anvil's well-known dev accounts: this is for a chain that holds nothing of value, never a real
// one (a real chain is configured, not deployed to: see docs/operations.md). Re-running it against the same
// chain reuses the deployment when the contract is still there (a restarted anvil has lost it: deploy again).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, bytesToHex, isAddress, type Address, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_MNEMONIC, deployDevContracts, type SettlementMarket } from '@parallax/chain';
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
const RISK_MARKETS_FILE = 'risk-markets.json';

/** apps/risk's market list (RISK_MARKETS_FILE): lower-case addresses, sizes as decimal strings, fee rates. */
function formatRiskMarkets(markets: readonly SettlementMarket[]): string {
  return JSON.stringify(
    markets.map((m) => ({ marketId: m.marketId, baseToken: m.baseToken.toLowerCase(), quoteToken: m.quoteToken.toLowerCase(), lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString(), makerFeeRate: m.makerFeeRate ?? 0, takerFeeRate: m.takerFeeRate ?? 0 })),
  );
}

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
  const operatorKey = devKey(1);

  mkdirSync(deployDir, { recursive: true });
  const envPath = join(deployDir, ENV_FILE);
  const marketsPath = join(deployDir, MARKETS_FILE);
  try {
    const previous = readEnvFile(envPath);
    const address = previous.get('SETTLEMENT_ADDRESS');
    if (previous.get('CHAIN_ID') === String(chainId) && address !== undefined && isAddress(address)) {
      const code = await probe.getCode({ address });
      if (code !== undefined && code !== '0x') {
        const markets = [...parseSettlementMarkets(readFileSync(marketsPath, 'utf8'), marketsPath).values()];
        // A deploy volume from before the risk service gets its file too.
        writeAtomic(join(deployDir, RISK_MARKETS_FILE), `${formatRiskMarkets(markets)}\n`, 0o644);
        return { chainId, settlement: address, deployBlock: BigInt(previous.get('SETTLEMENT_DEPLOY_BLOCK') ?? '0'), operatorKey, markets, deployed: false };
      }
    }
  } catch {
    // No usable earlier deployment: deploy.
  }

  const dev = await deployDevContracts(rpcUrl, { pollingIntervalMs: 100 });
  const { settlement, deployBlock } = dev;
  const base = dev.tokens['BASE'];
  const quote = dev.tokens['QUOTE'];
  if (base === undefined || quote === undefined) throw new Error('the dev tokens BASE and QUOTE were not deployed');
  // BASE/QUOTE: lot 0.001 BASE (1e15 units), tick 0.01 QUOTE per BASE (1e4 per 1e18 units), as in the local chain.
  const markets: SettlementMarket[] = [];
  for (let marketId = 1; marketId <= marketCount; marketId++) markets.push({ marketId, baseToken: base, quoteToken: quote, lotSize: 10n ** 15n, tickSize: 10n ** 4n });

  writeAtomic(marketsPath, `${formatSettlementMarkets(markets)}\n`, 0o644);
  writeAtomic(join(deployDir, RISK_MARKETS_FILE), `${formatRiskMarkets(markets)}\n`, 0o644);
  writeAtomic(
    envPath,
    [`CHAIN_ID=${chainId}`, `SETTLEMENT_ADDRESS=${settlement}`, `SETTLEMENT_DEPLOY_BLOCK=${deployBlock}`, `OPERATOR_PRIVATE_KEY=${operatorKey}`, ''].join('\n'),
    0o600,
  );
  return { chainId, settlement, deployBlock, operatorKey, markets, deployed: true };
}

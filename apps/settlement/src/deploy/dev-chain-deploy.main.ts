// `node apps/settlement/dist/deploy/dev-chain-deploy.main.js`: the compose `deploy` service (see dev-chain-deploy.ts).
//   RPC_URL (http://anvil:8545), DEPLOY_DIR (/deploy), DEV_CHAIN_MARKETS (2)
import { deployDevChain } from './dev-chain-deploy.js';

const rpcUrl = process.env.RPC_URL ?? 'http://anvil:8545';
const deployDir = process.env.DEPLOY_DIR ?? '/deploy';
const markets = Number(process.env.DEV_CHAIN_MARKETS ?? '2');
if (!Number.isInteger(markets) || markets < 1 || markets > 100) {
  console.error(`DEV_CHAIN_MARKETS must be an integer 1..100, got '${process.env.DEV_CHAIN_MARKETS ?? ''}'`);
  process.exit(2);
}
try {
  const d = await deployDevChain(rpcUrl, deployDir, markets);
  console.log(JSON.stringify({ event: d.deployed ? 'deployed' : 'kept earlier deployment', chainId: d.chainId, settlement: d.settlement, deployBlock: d.deployBlock.toString(), markets: d.markets.length, deployDir }));
} catch (error) {
  console.error(`deploy to ${rpcUrl} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

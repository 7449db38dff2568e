// `node apps/settlement/dist/deploy/dev-chain-deploy.main.js`: the compose `deploy` service (see dev-chain-deploy.ts).
//   RPC_URL (http://anvil:8545), DEPLOY_DIR (/deploy), DEV_CHAIN_MARKETS (2)
import { bootConfig, loadConfig } from '@parallax/observability';
import { z } from 'zod';
import { deployDevChain } from './dev-chain-deploy.js';

const config = bootConfig('dev-chain-deploy', () =>
  loadConfig(
    z.object({
      RPC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('http://anvil:8545'),
      DEPLOY_DIR: z.string().min(1).default('/deploy'),
      DEV_CHAIN_MARKETS: z.coerce.number({ error: 'must be an integer 1..100' }).int().min(1).max(100).default(2),
    }),
  ),
);
try {
  const d = await deployDevChain(config.RPC_URL, config.DEPLOY_DIR, config.DEV_CHAIN_MARKETS);
  console.log(JSON.stringify({ event: d.deployed ? 'deployed' : 'kept earlier deployment', chainId: d.chainId, settlement: d.settlement, deployBlock: d.deployBlock.toString(), markets: d.markets.length, deployDir: config.DEPLOY_DIR }));
} catch (error) {
  console.error(`deploy to ${config.RPC_URL} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

// The compose deploy step against a real anvil: it deploys, writes the hand-off files, and the settlement
// service's own config loader accepts them (SETTLEMENT_MARKETS_FILE + the env file); run again, it keeps the
// deployment; against a fresh chain (a restarted anvil) it deploys again.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPublicClient, http } from 'viem';
import { settlementAbi, startAnvil, type Anvil } from '@parallax/chain';
import { loadSettlementConfig } from '../config/settlement.config.js';
import { deployDevChain } from './dev-chain-deploy.js';

function envFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('dev chain deploy (compose `deploy` service)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parallax-deploy-spec-'));
  const nodes: Anvil[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys, hands the addresses over in files the settlement config loads, and is idempotent per chain', async () => {
    const anvil = await startAnvil();
    nodes.push(anvil);
    const first = await deployDevChain(anvil.rpcUrl, dir, 3);
    assert.equal(first.deployed, true);
    const env = envFile(join(dir, 'settlement.env'));
    assert.equal(statSync(join(dir, 'settlement.env')).mode & 0o777, 0o600, 'the operator key file is private');
    const config = loadSettlementConfig({ ...env, RPC_URL: anvil.rpcUrl, SETTLEMENT_MARKETS_FILE: join(dir, 'markets.json'), DATABASE_URL: 'postgresql://x@127.0.0.1/x' });
    assert.equal(config.settlement.toLowerCase(), first.settlement.toLowerCase());
    assert.equal(config.markets.size, 3);
    assert.equal(config.chainId, anvil.chainId);
    // The risk shards' market file: the same markets, lower-case addresses, decimal sizes, fee rates.
    const riskMarkets = JSON.parse(readFileSync(join(dir, 'risk-markets.json'), 'utf8')) as Record<string, unknown>[];
    assert.deepEqual(
      riskMarkets,
      [...config.markets.values()].map((m) => ({ marketId: m.marketId, baseToken: m.baseToken.toLowerCase(), quoteToken: m.quoteToken.toLowerCase(), lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString(), makerFeeRate: 0, takerFeeRate: 0 })),
    );
    // The contract really is there, with dev account 1 as its operator (the key handed over).
    const reader = createPublicClient({ transport: http(anvil.rpcUrl) });
    const operator = await reader.readContract({ address: first.settlement, abi: settlementAbi, functionName: 'operator' });
    assert.equal(operator.toLowerCase(), '0x70997970c51812dc3a010c7d01b50e0d17dc79c8');

    const again = await deployDevChain(anvil.rpcUrl, dir, 3);
    assert.equal(again.deployed, false);
    assert.equal(again.settlement, first.settlement);

    const restarted = await startAnvil();
    nodes.push(restarted);
    const fresh = await deployDevChain(restarted.rpcUrl, dir, 3);
    assert.equal(fresh.deployed, true, 'a chain without the contract gets a new deployment');
    assert.equal(envFile(join(dir, 'settlement.env')).SETTLEMENT_ADDRESS, fresh.settlement);
  });
});

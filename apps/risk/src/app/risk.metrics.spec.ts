// The risk metrics read from a shard's engine at scrape time: deficits (accounts and base units per token) and
// skipped fills parked before their fills, exactly as the engine holds them, and no series once they are gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeInForce } from '@parallax/order-book';
import { accountAddress, placeRequest, QUOTE, SingleProcessExchange, testMarket, tokenAddress } from '@parallax/risk/testing';
import type { RiskCommand, RiskOutcome } from '@parallax/risk';
import { Registry } from 'prom-client';
import type { RiskShards } from '../service/risk-shards.js';
import { AccountShard } from '../shard/account-shard.js';
import { RiskMetrics } from './risk.metrics.js';

const market = testMarket(1, { maker: 100, taker: 300 });
const BASE = tokenAddress(1);
const ALICE = accountAddress(1);
const BOB = accountAddress(2);
const LOT = 10n ** 15n;
const INPUTS = { requests: 'requests', chainEvents: 'chain-events', accountEvents: 'account-events' } as const;

function ok(out: RiskOutcome): Extract<RiskOutcome, { ok: true }> {
  if (!out.ok) assert.fail(`${out.code}: ${out.message}`);
  return out;
}

/** The value of one series in the exposition text, or undefined when it is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.indexOf('}'));
    const have = inner.split(',');
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(line.slice(line.indexOf('}') + 2));
  }
  return undefined;
}

describe('RiskMetrics: deficits and parked skips', () => {
  it('exports the accounts owing a deficit and the sum owed per token, and the balances with skipped fills waiting', async () => {
    // One shard: Alice sells Bob 3 lots, Bob commits them to a resting sell, then the chain skips the fill.
    const x = new SingleProcessExchange({ shards: 1, markets: [market] });
    ok(x.submit({ type: 'deposit', account: ALICE, token: BASE, amount: 5n * LOT }));
    ok(x.submit({ type: 'deposit', account: BOB, token: QUOTE, amount: 10n ** 9n }));
    ok(x.submit(placeRequest(ALICE, market, { isBuy: false, priceTicks: 1_000, lots: 5, nonce: 1n })));
    ok(x.submit(placeRequest(BOB, market, { isBuy: true, priceTicks: 1_000, lots: 3, nonce: 1n, tif: TimeInForce.IOC })));
    ok(x.submit(placeRequest(BOB, market, { isBuy: false, priceTicks: 2_000, lots: 3, nonce: 2n })));
    const engine = x.engines[0]!;
    const shard = new AccountShard({ risk: engine.config, marketPartitions: 1, inputs: INPUTS }, engine);
    const registry = new Registry();
    new RiskMetrics(registry, () => ({ ownedShards: () => [0], shard: (s: number) => (s === 0 ? shard : undefined) }) as unknown as RiskShards);
    const scrape = async (): Promise<string> => registry.metrics();

    let text = await scrape();
    assert.match(text, /# TYPE parallax_risk_deficit_base_units gauge/);
    assert.equal(sample(text, 'parallax_risk_deficit_base_units', { shard: '0', token: BASE }), undefined, 'no deficit yet');

    // Straight to the engine, so the cancel of Bob's sell is not delivered and the deficit stands.
    const skip: RiskCommand = { type: 'settlementSkipped', account: BOB, token: BASE, received: 3n * LOT, paid: 0n, fees: 0n };
    assert.equal(ok(engine.apply(skip)).cancels.length, 1);
    // A skipped receipt of base Alice has no unsettled fill for (she sold base): it waits for fills (parked).
    ok(engine.apply({ type: 'settlementSkipped', account: ALICE, token: BASE, received: LOT, paid: 0n, fees: 0n }));
    text = await scrape();
    assert.equal(sample(text, 'parallax_risk_deficit_accounts', { shard: '0', token: BASE }), 1);
    assert.equal(sample(text, 'parallax_risk_deficit_base_units', { shard: '0', token: BASE }), Number(3n * LOT));
    assert.equal(sample(text, 'parallax_risk_deficit_accounts', { shard: '0', token: QUOTE }), undefined);
    assert.equal(sample(text, 'parallax_risk_parked_skip_balances', { shard: '0', token: BASE }), 1);
    assert.equal(sample(text, 'parallax_risk_parked_skip_balances', { shard: '0', token: QUOTE }), undefined);

    // A deposit pays the deficit: the series goes away.
    ok(engine.apply({ type: 'deposit', account: BOB, token: BASE, amount: 3n * LOT }));
    text = await scrape();
    assert.equal(sample(text, 'parallax_risk_deficit_accounts', { shard: '0', token: BASE }), undefined);
    assert.equal(sample(text, 'parallax_risk_deficit_base_units', { shard: '0', token: BASE }), undefined);
    assert.deepEqual(engine.checkInvariants(), []);

    // The five gauges of a scrape share one O(accounts) scan, and a scrape after a change scans again.
    let scans = 0;
    const scan = engine.pendingByToken.bind(engine);
    engine.pendingByToken = () => {
      scans++;
      return scan();
    };
    ok(engine.apply({ type: 'deposit', account: BOB, token: BASE, amount: 1n }));
    await scrape();
    assert.equal(scans, 1);
    await scrape();
    assert.equal(scans, 1, 'nothing changed: the last scan still holds');
    ok(engine.apply({ type: 'deposit', account: BOB, token: BASE, amount: 1n }));
    await scrape();
    assert.equal(scans, 2);
  });
});

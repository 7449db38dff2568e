// The settlement contract test, shared by the Kafka and the embedded transport: after a signed flow went
// through the engines and the settlement service, check — against the chain itself and the test's own
// balance model — that every trade was settled exactly once or reported failed, and nothing else moved.
import assert from 'node:assert/strict';
import { settlementAbi } from '@parallax/chain';
import { decodeSettlementStatus, type SettlementStatus } from '@parallax/contracts';
import type { SettlementRepository } from '@parallax/persistence';
import type { Transport } from '@parallax/transport';
import type { Address } from 'viem';
import type { SettlementConfig } from '../config/settlement.config.js';
import { tradesOfEventBatch, type SettlementTrade } from '../domain/trades.js';
import type { LocalSettlementChain } from '../local/local-settlement.js';
import { balanceKey, expectedDeltas } from './reconcile.js';
import { flowOrderKey, type SignedFlow } from './signed-flow.js';

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every committed message of a topic, partition by partition. */
export async function readTopic(transport: Transport, topic: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const [partition, end] of await transport.endOffsets(topic)) {
    for await (const batch of transport.read(topic, partition, 0, end)) for (const m of batch) out.push(m.value);
  }
  return out;
}

export async function readTrades(transport: Transport, topic: string): Promise<SettlementTrade[]> {
  return (await readTopic(transport, topic)).flatMap((v) => tradesOfEventBatch(v));
}

export interface VerifyInput {
  readonly transport: Transport;
  readonly config: SettlementConfig;
  readonly repo: SettlementRepository;
  readonly local: LocalSettlementChain;
  readonly flow: SignedFlow;
  /** Accounts that deposited nothing: every fill they are in must fail with FillUnderfunded. */
  readonly unfunded: ReadonlySet<number>;
  readonly timeoutMs: number;
  /** The matching engines' group and input topic: waits until they have committed every command message. */
  readonly engine: { readonly groupId: string; readonly ordersTopic: string };
}

export interface VerifyReport {
  readonly trades: number;
  readonly settled: number;
  readonly failed: number;
  readonly batches: number;
  readonly balancesChecked: number;
  readonly settleMs: number;
}

export async function verifySettlement(v: VerifyInput): Promise<VerifyReport> {
  const { config, repo, local, flow } = v;
  await waitFor(
    'the engines to commit every command message',
    async () => {
      const committed = await v.transport.committedOffsets(v.engine.groupId, v.engine.ordersTopic);
      for (const [p, end] of await v.transport.endOffsets(v.engine.ordersTopic)) if ((committed.get(p) ?? 0) < end) return undefined;
      return true;
    },
    v.timeoutMs,
  );
  // The flow's trades: both orders signed by the flow (a topic may also hold trades of unsigned orders).
  const inFlow = (t: SettlementTrade): boolean =>
    flow.orders.has(flowOrderKey(t.marketId, t.makerOrderId)) && flow.orders.has(flowOrderKey(t.marketId, t.takerOrderId));
  const trades = (await readTrades(v.transport, config.topics.marketEvents)).filter(inFlow);
  assert.ok(trades.length > 50, `the flow must trade (got ${trades.length} trades)`);
  const accountOf = (marketId: number, orderId: number): number => flow.orders.get(flowOrderKey(marketId, orderId))?.accountId ?? -1;
  const isBad = (t: SettlementTrade): boolean => v.unfunded.has(accountOf(t.marketId, t.makerOrderId)) || v.unfunded.has(accountOf(t.marketId, t.takerOrderId));
  const bad = trades.filter(isBad);
  const good = trades.filter((t) => !isBad(t));
  const key = (m: number, s: bigint | number): string => `${m}/${s}`;
  const flowKeys = new Set(trades.map((t) => key(t.marketId, t.seq)));

  const started = Date.now();
  await waitFor(
    `all ${trades.length} fills of the flow to be settled or failed`,
    async () => {
      const done = [...(await repo.settledFills()), ...(await repo.failedFills())].filter((f) => flowKeys.has(key(f.marketId, f.seq)));
      return done.length === trades.length ? done : undefined;
    },
    v.timeoutMs,
    250,
  );
  const settleMs = Date.now() - started;
  // Let a batch that may still be in flight finish, so the chain and the database can be compared.
  await waitFor('no open batch', async () => ((await repo.openBatches()).length === 0 ? true : undefined), v.timeoutMs);

  // No fill skipped, none settled twice: the settled set is exactly the good trades, the failed set the bad ones.
  const settled = await repo.settledFills();
  assert.equal(settled.length, good.length);
  assert.deepEqual(new Set(settled.map((f) => key(f.marketId, f.seq))), new Set(good.map((t) => key(t.marketId, t.seq))));
  const failed = (await repo.failedFills()).filter((f) => flowKeys.has(key(f.marketId, f.seq)));
  assert.deepEqual(new Set(failed.map((f) => key(f.marketId, f.seq))), new Set(bad.map((t) => key(t.marketId, t.seq))));
  for (const f of failed) assert.equal(f.reason, 'FillUnderfunded', `fill ${key(f.marketId, f.seq)}: ${f.detail ?? ''}`);

  // On chain: ids 1..N each settled once, by the transaction the database recorded, with the settled fills.
  const reader = local.chain.publicClient;
  const address = local.chain.settlement;
  const lastBatchId = await reader.readContract({ address, abi: settlementAbi, functionName: 'lastBatchId' });
  const batches = await repo.allBatches();
  assert.equal(lastBatchId, BigInt(batches.length));
  batches.forEach((b, i) => {
    assert.equal(b.id, BigInt(i + 1));
    assert.equal(b.status, 'CONFIRMED');
  });
  const logs = await reader.getContractEvents({ address, abi: settlementAbi, eventName: 'BatchSettled', fromBlock: 0n });
  assert.deepEqual(
    logs.map((l) => l.args.batchId),
    batches.map((b) => b.id),
  );
  logs.forEach((l, i) => {
    assert.equal(l.transactionHash, batches[i]!.txHash, `batch ${l.args.batchId} settled by the recorded transaction`);
  });
  // The underfunded fills went on chain too and were skipped there (FillsSkipped), not trimmed by simulation:
  // the batches carry every trade, and what they skipped is exactly the failed ones.
  assert.equal(
    logs.reduce((n, l) => n + Number(l.args.fillCount), 0),
    good.length + bad.length,
  );
  const skippedLogs = await reader.getContractEvents({ address, abi: settlementAbi, eventName: 'FillsSkipped', fromBlock: 0n });
  assert.equal(
    skippedLogs.reduce((n, l) => n + (l.args.fillIndexes?.length ?? 0), 0),
    bad.length,
  );

  // Balances: deposits + the model's deltas over the settled fills, to the base unit.
  const expected = expectedDeltas(good, flow.orders, config.markets, config.fees, local.chain.feeRecipient);
  assert.ok(expected.deltas.size > 4, 'the model must have moved balances');
  const owners: Address[] = [...[...flow.traders.values()].map((a) => a.address), local.chain.feeRecipient];
  let balancesChecked = 0;
  for (const owner of owners) {
    for (const token of Object.values(local.chain.tokens)) {
      const onChain = await reader.readContract({ address, abi: settlementAbi, functionName: 'balanceOf', args: [token, owner] });
      const k = balanceKey(owner, token);
      assert.equal(onChain, (local.deposits.get(k) ?? 0n) + (expected.deltas.get(k) ?? 0n), `balance of ${owner} in ${token}`);
      balancesChecked++;
    }
  }

  // The status topic: a confirmed event per batch, and exactly the failed fills reported.
  const statuses: SettlementStatus[] = (await readTopic(v.transport, config.topics.settlementStatus)).map((b) => decodeSettlementStatus(b));
  assert.deepEqual(new Set(statuses.filter((s) => s.status === 'confirmed').map((s) => s.batchId)), new Set(batches.map((b) => b.id)));
  const reported = statuses.flatMap((s) => (s.status === 'failed' ? s.failedFills.map((f) => key(f.marketId, f.seq)) : [])).filter((k) => flowKeys.has(k));
  assert.deepEqual(new Set(reported), new Set(bad.map((t) => key(t.marketId, t.seq))));

  return { trades: trades.length, settled: good.length, failed: bad.length, batches: batches.length, balancesChecked, settleMs };
}

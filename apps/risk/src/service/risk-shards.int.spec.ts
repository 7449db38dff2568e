// The funds flow on a real log: requests and chain events -> account shards (RiskShards) -> orders + signed
// orders -> a real matching engine (its Nest app, with account events routed back to the shards' input
// topic in its transactions) -> account shards. On the embedded log and on the Kafka broker
// (KAFKA_BROKERS, default 127.0.0.1:19092). Checks conservation to the base unit over all shards, that no
// unfunded order reaches a book, that every trade is between funded signed orders, that every hold is
// released in the end, and that a new shard instance rebuilt from the log (newest snapshot + journal) has the
// same state as the live one and as a re-run of the whole journal, whose outputs are exactly the committed
// ones. Then the restore refusals: no snapshot while the group committed input (MISSING_SNAPSHOT), and an
// unreadable newest snapshot (UNREADABLE_SNAPSHOT).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeSignedOrderBatch, type ClientRequest } from '@parallax/contracts';
import { startMatchingEngine, type MatchingEngineConfig, type MatchingEngineHandle } from '@parallax/matching-engine';
import { createLogger } from '@parallax/observability';
import { accountAddress, QUOTE, testMarket } from '@parallax/risk/testing';
import { createEmbeddedTransport, createKafkaTransport, type Transport } from '@parallax/transport';
import { RiskServiceError } from '../state/errors.js';
import { encodeJournalEntry, shardSnapshotKey } from '../state/shard-records.js';
import { ledgerViolations, rerunJournal } from '../testing/journal-audit.js';
import { RandomPlaces } from '../testing/random-places.js';
import { testPipelineConfigs, type TestPipelineConfigs } from '../testing/pipeline-configs.js';
import { auditTrades, cancelOpenOrders, committedOutputs, rerunOutputs, sendChainEvents, sendRequests, waitDrained } from '../testing/shard-audit.js';
import { restoreShard, RiskShards, type RiskShardsConfig } from './risk-shards.js';

const SHARDS = 2;
const P = 2;
const MARKETS = [1, 2, 3, 4].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const kafkaBrokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const configs = (run: string): TestPipelineConfigs => testPipelineConfigs(run, { shards: SHARDS, marketPartitions: P, markets: MARKETS });

/** Waits until both groups drained their inputs (three polls in a row); a stopped service fails it at once. */
function quiescent(t: Transport, c: { risk: RiskShardsConfig; engine: MatchingEngineConfig }, failures: readonly unknown[], timeoutMs = 30_000): Promise<void> {
  const pairs = [
    ...[c.risk.inputs.requests, c.risk.inputs.chainEvents, c.risk.inputs.accountEvents].map((topic) => [topic, c.risk.groupId] as const),
    [c.risk.ordersTopic, c.engine.groupId] as const,
  ];
  const healthy = (): void => {
    if (failures.length > 0) throw new Error(`a service stopped: ${String(failures[0])} ${(((failures[0] as unknown[])[1] as Error | undefined)?.stack ?? '').slice(0, 1500)}`);
  };
  return waitDrained(t, pairs, 'risk and engine', { timeoutMs, everyMs: 100, healthy });
}

async function scenario(t: Transport, run: string): Promise<void> {
  const c = configs(run);
  const log = createLogger('risk-int-test', 'warn');
  // The shards first: they create the topics both services share.
  let shards = new RiskShards(c.risk, t);
  await shards.start();
  const engine: MatchingEngineHandle = await startMatchingEngine(c.engine, t, { logger: log });
  const failures: unknown[] = [];
  shards.stopped.catch((e: unknown) => failures.push(['risk', e]));
  engine.stopped.catch((e: unknown) => failures.push(['engine', e]));
  const producer = await t.producer();
  try {
    const send = (requests: readonly ClientRequest[]): Promise<void> => sendRequests(producer, c.risk.inputs.requests, SHARDS, requests);
    const traders = Array.from({ length: 16 }, (_, i) => accountAddress(i + 1));
    const unfunded = accountAddress(99);
    await sendChainEvents(producer, c.risk.inputs.chainEvents, SHARDS, traders.flatMap((a) => [{ type: 'deposit', account: a, token: QUOTE, amount: 3_000_000n } as const, ...MARKETS.map((m) => ({ type: 'deposit', account: a, token: m.baseToken, amount: 10n ** 18n } as const))]));
    await quiescent(t, c, failures);
    const places = new RandomPlaces(3, traders, unfunded, MARKETS);
    for (let round = 0; round < 20; round++) {
      await send(places.next(20));
      await sleep(20);
    }
    await quiescent(t, c, failures);

    const engines = () => [0, 1].map((s) => shards.shard(s)!.engine);
    const check = (): void => {
      assert.deepEqual(ledgerViolations(engines()), []);
      assert.equal(shards.counters.violations, 0);
    };
    check();

    // Every trade is between two orders risk funded; the unfunded trader never reached a book.
    const signed = new Map<number, string>();
    for (let p = 0; p < P; p++) for await (const chunk of t.read(c.risk.signedOrdersTopic, p, 0)) for (const m of chunk) for (const o of decodeSignedOrderBatch(m.value).orders) signed.set(o.orderId, o.trader);
    assert.ok(signed.size > 100, `only ${signed.size} orders forwarded`);
    assert.equal([...signed.values()].includes(unfunded), false);
    const { trades, problems } = await auditTrades(t, c.engine.topics.marketEvents, P, signed);
    assert.deepEqual(problems, []);
    assert.ok(trades > 20, `only ${trades} trades`);

    // The unfunded trader was told why.
    assert.ok((shards.counters.rejected.get('INSUFFICIENT_FUNDS') ?? 0) > 0, `refusals: ${JSON.stringify([...shards.counters.rejected])}`);
    const refused = JSON.stringify([...shards.counters.rejected]);

    // A new instance rebuilt from the log holds the same state (exactly once: no input applied twice or lost).
    const hashes = engines().map((e) => e.stateHash());
    await shards.close();
    shards = new RiskShards(c.risk, t);
    await shards.start();
    for (const deadline = Date.now() + 30_000; shards.ownedShards().length < SHARDS; ) {
      if (Date.now() > deadline) throw new Error('the new instance did not take the shards');
      await sleep(50);
    }
    assert.deepEqual(engines().map((e) => e.stateHash()), hashes);
    for (const r of shards.restores) {
      assert.ok(r.snapshot !== null && r.snapshot.journalSeq > 0, `shard ${r.shard} restored from a mid-stream snapshot: ${JSON.stringify(r)}`);
    }
    // The whole journal re-run from nothing, with outputs: the same state, and exactly the committed outputs.
    const reruns = await Promise.all([0, 1].map((s) => rerunJournal(t, c.risk, s)));
    assert.deepEqual(reruns.map((r) => r.shard.engine.stateHash()), hashes);
    assert.deepEqual(rerunOutputs(reruns), await committedOutputs(t, c.risk, P), 'orders and signed orders committed = those of the journal re-run');

    // Cancel what is left: every hold is released.
    const cancels = cancelOpenOrders(engines(), places.ts);
    if (cancels.length > 0) await send(cancels);
    await quiescent(t, c, failures);
    for (const e of engines()) {
      assert.equal(e.openOrderCount, 0, 'open orders left');
      for (const a of e.accountAddresses()) for (const token of e.tokens) assert.equal(e.balance(a, token).heldOrders, 0n);
    }
    check();

    // Refusals. The group committed input for shard 0: without its snapshots the restore is refused…
    const empty = `${run}.no-snapshots`;
    await t.ensureTopics([{ name: empty, partitions: SHARDS, compacted: true }]);
    await assert.rejects(restoreShard(t, { ...c.risk, state: { ...c.risk.state, snapshots: empty } }, 0), (e: unknown) => e instanceof RiskServiceError && e.code === 'MISSING_SNAPSHOT');
    // …and a group that never committed starts from the journal alone, with the same state.
    const fresh = await restoreShard(t, { ...c.risk, groupId: `${run}-never`, state: { ...c.risk.state, snapshots: empty } }, 0);
    assert.equal(fresh.report.stateHash, engines()[0]!.stateHash());
    // An unreadable newest snapshot record is refused, not skipped for an older one.
    const writer = await t.producer();
    await writer.send(c.risk.state.snapshots, [{ key: shardSnapshotKey(1), partition: 1, value: Uint8Array.from([0x50, 0x58, 0x52, 0x53, 9]) }]);
    await writer.close();
    await assert.rejects(restoreShard(t, c.risk, 1), (e: unknown) => e instanceof RiskServiceError && e.code === 'UNREADABLE_SNAPSHOT');
    // A journal entry that does not continue the journal (a skipped entry number) or does not decode stops
    // the restore instead of applying input out of order.
    const journal = await t.producer();
    const last = fresh.shard.journalSeq;
    const at = fresh.shard.nextOffsets.requests;
    await journal.send(c.risk.state.journal, [{ key: '0', partition: 0, value: encodeJournalEntry({ shard: 0, source: 'requests', seq: last + 1, from: at, to: at + 1 }) }]);
    await assert.rejects(restoreShard(t, c.risk, 0), (e: unknown) => e instanceof RiskServiceError && e.code === 'JOURNAL_GAP');
    await journal.send(c.risk.state.journal, [{ key: '1', partition: 1, value: Uint8Array.from([1, 2, 3]) }]);
    await assert.rejects(restoreShard(t, { ...c.risk, groupId: `${run}-never`, state: { ...c.risk.state, snapshots: empty } }, 1), (e: unknown) => e instanceof RiskServiceError && e.code === 'UNREADABLE_JOURNAL');
    await journal.close();
    console.log(`${t.kind}: ${signed.size} orders forwarded, ${trades} trades, refused ${refused}`);
  } finally {
    await producer.close();
    await shards.close();
    await engine.close();
  }
}

describe('account shards on a real log', () => {
  const transports: Transport[] = [];
  after(async () => {
    for (const t of transports) await t.close();
  });

  it('embedded log: funds held, moved and released exactly once through a real matching engine', { timeout: 180_000 }, async () => {
    const t = createEmbeddedTransport();
    transports.push(t);
    await scenario(t, `risk-emb-${process.pid}`);
  });

  it('Kafka: funds held, moved and released exactly once through a real matching engine', { timeout: 300_000 }, async () => {
    const t = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: `risk-it-${process.pid}` });
    transports.push(t);
    await scenario(t, `risk-kafka-${process.pid}-${Date.now()}`);
  });
});

// Fault test on the Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092): two risk shard processes and a
// matching engine process; while requests stream in, one risk process and the engine are killed with
// SIGKILL (no close, transactions possibly open) and replacements started. Afterwards, audited from the
// committed logs: every shard rebuilt from its newest snapshot + journal has the state of a re-run of its
// whole journal, whose forwarded orders and signed orders are exactly the committed ones (so the killed
// process and its replacement together applied the journaled interleaving once); conservation to the base
// unit; no
// order was forwarded twice (order ids unique in the orders topic); every trade is between two orders risk
// funded and forwarded once; an unfunded trader never reached a book; and every hold is released once the
// remaining orders are cancelled.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { topicSpecs, type ClientRequest } from '@parallax/contracts';
import { spawnEngineProcess } from '@parallax/matching-engine';
import { spawnServiceProcess, type ServiceProcess } from '@parallax/microservice';
import { accountAddress, QUOTE, testMarket } from '@parallax/risk/testing';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { loadRiskConfig } from '../config/risk.config.js';
import { forwardedOrders, ledgerViolations } from '../testing/journal-audit.js';
import { RandomPlaces } from '../testing/random-places.js';
import { auditTrades, cancelOpenOrders, committedOutputs, liveShardHashes, rebuildShards, rerunOutputs, sendChainEvents, sendRequests, waitDrained } from '../testing/shard-audit.js';

const SHARDS = 2;
const P = 2;
const MARKETS = [1, 2, 3, 4].map((id) => testMarket(id, { maker: -50, taker: 300 }));
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('account shards under kill -9 (Kafka)', () => {
  const procs: ServiceProcess[] = [];
  let t: Transport | undefined;
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await t?.close();
  });

  it('keeps every base unit and forwards every funded order exactly once across a risk shard and an engine killed mid-stream', { timeout: 600_000 }, async () => {
    const run = `risk-fault-${process.pid}-${Date.now()}`;
    const dir = mkdtempSync(join(tmpdir(), 'risk-fault-'));
    const marketsFile = join(dir, 'markets.json');
    writeFileSync(marketsFile, JSON.stringify(MARKETS.map((m) => ({ ...m, lotSize: m.lotSize.toString(), tickSize: m.tickSize.toString() }))));
    const topics = { requests: `${run}.requests`, chain: `${run}.chain-events`, accounts: `${run}.account-events`, journal: `${run}.risk-journal`, riskSnapshots: `${run}.risk-snapshots`, results: `${run}.risk-results`, orders: `${run}.orders`, signed: `${run}.signed-orders`, dead: `${run}.dead-letters`, events: `${run}.market-events`, snapshots: `${run}.snapshots` };
    t = createKafkaTransport({ brokers: brokers.split(','), clientId: run });
    await t.ensureTopics([
      ...[topics.requests, topics.chain, topics.accounts].map((name) => ({ name, partitions: SHARDS })),
      { name: topics.signed, partitions: P },
      ...topicSpecs({ orders: topics.orders, marketEvents: topics.events, snapshots: topics.snapshots, deadLetters: topics.dead }, P),
    ]);
    const riskEnv = {
      KAFKA_BROKERS: brokers,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      RISK_GROUP_ID: `${run}-risk`,
      TOPIC_REQUESTS: topics.requests,
      TOPIC_CHAIN_EVENTS: topics.chain,
      TOPIC_ACCOUNT_EVENTS: topics.accounts,
      TOPIC_RISK_JOURNAL: topics.journal,
      TOPIC_RISK_SNAPSHOTS: topics.riskSnapshots,
      // Run-specific like every topic of this test: a shared broker may hold the default names at another size.
      TOPIC_RISK_RESULTS: topics.results,
      SNAPSHOT_EVERY_MESSAGES: '30',
      RISK_HTTP_PORT: '0',
      TOPIC_ORDERS: topics.orders,
      TOPIC_SIGNED_ORDERS: topics.signed,
      TOPIC_DEAD_LETTERS: topics.dead,
      ACCOUNT_SHARDS: String(SHARDS),
      PARTITIONS: String(P),
      RISK_MARKETS_FILE: marketsFile,
      MAX_BATCH_MESSAGES: '20',
      LOG_LEVEL: 'info',
    };
    const engineEnv = {
      KAFKA_BROKERS: brokers,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      ENGINE_GROUP_ID: `${run}-engine`,
      TOPIC_ORDERS: topics.orders,
      TOPIC_MARKET_EVENTS: topics.events,
      TOPIC_SNAPSHOTS: topics.snapshots,
      TOPIC_DEAD_LETTERS: topics.dead,
      TOPIC_ACCOUNT_EVENTS: topics.accounts,
      ACCOUNT_SHARDS: String(SHARDS),
      PARTITIONS: String(P),
      MARKETS: '4',
      MAX_BATCH_MESSAGES: '20',
      SNAPSHOT_EVERY_MESSAGES: '50',
      ENGINE_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    };
    const risk = (name: string): Promise<ServiceProcess> => spawnServiceProcess({ main: MAIN, name, readyMessage: 'risk shards started', env: { ...riskEnv, RISK_INSTANCE_ID: name } });
    const r1 = await risk('r1');
    procs.push(r1);
    const r2 = await risk('r2');
    procs.push(r2);
    const e1 = await spawnEngineProcess('e1', engineEnv);
    procs.push(e1);

    const producer = await t.producer();
    const send = (rs: readonly ClientRequest[]): Promise<void> => sendRequests(producer, topics.requests, SHARDS, rs);
    const traders = Array.from({ length: 16 }, (_, i) => accountAddress(i + 1));
    const unfunded = accountAddress(99);
    await sendChainEvents(producer, topics.chain, SHARDS, traders.flatMap((a) => [{ type: 'deposit', account: a, token: QUOTE, amount: 3_000_000n } as const, ...MARKETS.map((m) => ({ type: 'deposit', account: a, token: m.baseToken, amount: 10n ** 18n } as const))]));
    const places = new RandomPlaces(5, traders, unfunded, MARKETS);
    for (let round = 0; round < 30; round++) {
      if (round === 8) r1.child.kill('SIGKILL');
      if (round === 14) e1.child.kill('SIGKILL');
      if (round === 16) procs.push(await spawnEngineProcess('e2', engineEnv));
      if (round === 20) procs.push(await risk('r3'));
      await send(places.next(20));
      await sleep(100);
    }

    // Drained: no data message past the committed offsets of either group.
    const groups = [
      [topics.requests, riskEnv.RISK_GROUP_ID],
      [topics.chain, riskEnv.RISK_GROUP_ID],
      [topics.accounts, riskEnv.RISK_GROUP_ID],
      [topics.orders, engineEnv.ENGINE_GROUP_ID],
    ] as const;
    await waitDrained(t, groups, 'after the faults');

    // Rebuild every shard as a new owner would (newest snapshot + journal) and as a re-run of its whole
    // journal: the same state hash, and the re-run forwards exactly what was committed across the kills.
    const shardsConfig = loadRiskConfig({ ...riskEnv }).shards;
    const rebuild = async () => {
      const { restored, reruns } = await rebuildShards(t!, shardsConfig, SHARDS);
      for (const [s, r] of restored.entries()) assert.ok(r.snapshotJournalSeq !== null, `shard ${s} has a snapshot`);
      assert.deepEqual(rerunOutputs(reruns), await committedOutputs(t!, shardsConfig, P), 'committed orders and signed orders = the journal re-run');
      return restored.map((r) => r.shard.engine);
    };
    const engines = await rebuild();
    assert.deepEqual(ledgerViolations(engines), []);
    // The live replacements hold exactly the replayed state: a shard killed with r1 and taken over elsewhere
    // has the hash of its snapshot + journal replay.
    const live = await liveShardHashes(procs.filter((p) => p.name.startsWith('r')));
    assert.deepEqual([...live.keys()].sort(), [0, 1], 'the living risk processes own every shard');
    for (const [s, hash] of live) assert.equal(hash, engines[s]!.stateHash(), `shard ${s}: live state = snapshot + journal replay`);

    const { placed, signedBy: signed, twice } = await forwardedOrders(t, topics.orders, topics.signed, P);
    assert.deepEqual(twice, []);
    assert.deepEqual([...placed].sort((a, b) => a - b), [...signed.keys()].sort((a, b) => a - b));
    assert.equal([...signed.values()].includes(unfunded), false, 'an unfunded order reached a book');
    assert.ok(placed.size > 300, `only ${placed.size} orders forwarded`);
    const traded = await auditTrades(t, topics.events, P, signed);
    assert.deepEqual(traded.problems, []);
    assert.ok(traded.trades > 20, `only ${traded.trades} trades`);

    // Cancel what is left through the live services: every hold comes back.
    const cancels = cancelOpenOrders(engines, places.ts);
    if (cancels.length > 0) await send(cancels);
    await producer.close();
    await waitDrained(t, groups, 'after the cancels');
    const after2 = await rebuild();
    assert.deepEqual(ledgerViolations(after2), []);
    for (const e of after2) {
      assert.equal(e.openOrderCount, 0, 'open orders left after cancelling them all');
      for (const a of e.accountAddresses()) for (const token of e.tokens) assert.equal(e.balance(a, token).heldOrders, 0n);
    }
    console.log(`kill -9: ${placed.size} orders forwarded once, ${traded.trades} trades, ${cancels.length} cancels at the end`);
  });
});

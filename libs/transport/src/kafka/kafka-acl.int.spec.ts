// Kafka is a trust boundary: a principal the ACLs do not name cannot write market events (which settlement puts
// on chain), and the engines' principal can. Runs against the authenticated broker scripts/kafka.sh starts,
// whose ACLs are scripts/kafka/acls.mjs and whose users' passwords are in KAFKA_CREDENTIALS_FILE (the test
// runner passes it).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dec, enc, eventually, readAll } from '../contract/helpers.js';
import type { SASLOptions } from 'kafkajs';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
// The policy's default names (scripts/kafka/acls.mjs, @parallax/contracts DEFAULT_TOPICS).
const MARKET_EVENTS = 'parallax.market-events.v1';
const ORDERS = 'parallax.orders.v1';
const SIGNED_ORDERS = 'parallax.signed-orders.v1';
const ENGINE_TX = 'parallax-matching-engine.parallax.orders.v1.0';
// The risk shards' inputs, one writer each, and their journal (DEFAULT_RISK_TOPICS, DEFAULT_RISK_STATE_TOPICS).
const REQUESTS = 'parallax.requests.v1';
const CHAIN_EVENTS = 'parallax.chain-events.v1';
const ACCOUNT_EVENTS = 'parallax.account-events.v1';
const RISK_JOURNAL = 'parallax.risk-journal.v1';
const RISK_RESULTS = 'parallax.risk-results.v1';
const RISK_TX = 'parallax-risk.shard.0';
// What the projector's principal is granted (scripts/kafka/acls.mjs): read its six inputs, in its two groups,
// and commit those groups' offsets in transactions `<group>.offsets.<uuid>`.
const ENGINE_SNAPSHOTS = 'parallax.engine-snapshots.v1';
const PROJECTOR_INPUTS = [RISK_JOURNAL, REQUESTS, CHAIN_EVENTS, ACCOUNT_EVENTS, MARKET_EVENTS, SIGNED_ORDERS];
const PROJECTOR_GROUP = 'parallax-projector';
const PROJECTOR_MARKETS_GROUP = 'parallax-projector-markets';
/** How long a message committed on the broker may take to reach a consumer group on a loaded machine. */
const DELIVERY_BOUND_MS = 60_000;

interface Credentials {
  readonly mechanism: string;
  readonly users: Readonly<Record<string, string>>;
}

function credentials(): Credentials {
  const file = process.env.KAFKA_CREDENTIALS_FILE;
  assert.ok(file, 'KAFKA_CREDENTIALS_FILE is not set: run through scripts/test.mjs (or eval "$(bash scripts/kafka.sh env)")');
  return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
}

function as(user: string, password?: string): KafkaTransport {
  const pw = password ?? credentials().users[user];
  assert.ok(pw, `no password for ${user} in KAFKA_CREDENTIALS_FILE`);
  const sasl = { mechanism: 'scram-sha-512', username: user, password: pw } as SASLOptions;
  // The client id is the service's default: its read groups (`<client id>-read-…`) are what the policy grants.
  return createKafkaTransport({ brokers, clientId: user, security: { sasl }, connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 });
}

const deniedPattern = /TOPIC_AUTHORIZATION_FAILED|not authorized|TRANSACTIONAL_ID_AUTHORIZATION_FAILED/i;

describe('Kafka ACLs: who may write market events', () => {
  const open: KafkaTransport[] = [];
  const track = (t: KafkaTransport): KafkaTransport => {
    open.push(t);
    return t;
  };
  let partition = 0;

  before(async () => {
    // The test principal (runner's KAFKA_SASL_*) may create topics; the policy's topics may already exist.
    const setup = track(createKafkaTransport({ brokers, clientId: 'acl-spec-setup' }));
    const existing = await setup.partitionCount(MARKET_EVENTS).catch(() => undefined);
    if (existing === undefined) await setup.ensureTopics([{ name: MARKET_EVENTS, partitions: 1 }]);
    for (const name of [ORDERS, SIGNED_ORDERS, REQUESTS, CHAIN_EVENTS, ACCOUNT_EVENTS, RISK_JOURNAL, RISK_RESULTS, ENGINE_SNAPSHOTS]) {
      if ((await setup.partitionCount(name).catch(() => undefined)) === undefined) await setup.ensureTopics([{ name, partitions: 1 }]);
    }
    partition = 0;
  });

  after(async () => {
    await Promise.all(open.map((t) => t.close().catch(() => undefined)));
  });

  it('refuses the ingest principal everything but requests: no market events, and no order that skips its risk shard', async () => {
    const ingest = track(as('parallax-ingest'));
    const p = await ingest.producer();
    await assert.rejects(p.send(MARKET_EVENTS, [{ key: 'm-1', value: enc('forged trade'), partition }]), deniedPattern);
    // A gateway writing orders or signed orders itself would put unfunded orders in a book.
    await assert.rejects(p.send(ORDERS, [{ key: 'm-1', value: enc('an unfunded order'), partition }]), deniedPattern);
    await assert.rejects(p.send(SIGNED_ORDERS, [{ key: 'm-1', value: enc('a signed order'), partition }]), deniedPattern);
    // Its own topic is open to it: the refusals above are the ACL, not a broken client.
    await p.send(REQUESTS, [{ key: 'a', value: enc('a request'), partition }]);
  });

  it('refuses the settlement principal, which may only read market events', async () => {
    const settlement = track(as('parallax-settlement'));
    const p = await settlement.producer();
    await assert.rejects(p.send(MARKET_EVENTS, [{ key: 'm-1', value: enc('forged trade'), partition }]), deniedPattern);
  });

  it('refuses a wrong password and a client without credentials', async () => {
    const wrong = track(as('parallax-engine', 'not-the-password'));
    await assert.rejects(wrong.partitionCount(MARKET_EVENTS), /SASL|authentication|credentials/i);
    const anonymous = track(createKafkaTransport({ brokers, clientId: 'acl-spec-anonymous', security: {}, connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 }));
    await assert.rejects(anonymous.partitionCount(MARKET_EVENTS));
  });

  it('lets the engine principal write market events in its transactions, and settlement read them', async () => {
    const engine = track(as('parallax-engine'));
    const reader = track(as('parallax-settlement'));
    const before = (await reader.endOffsets(MARKET_EVENTS)).get(partition) ?? 0;
    const p = await engine.producer({ transactionalId: ENGINE_TX });
    const marker = `engine-event-${Date.now()}`;
    await p.transaction((tx) => {
      tx.send(MARKET_EVENTS, [{ key: 'm-1', value: enc(marker), partition }]);
    });
    let seen: string[] = [];
    for (let i = 0; i < 100 && !seen.includes(marker); i++) {
      seen = (await readAll(reader, MARKET_EVENTS, partition, before)).map((m) => dec(m.value));
      if (!seen.includes(marker)) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(seen.includes(marker), `settlement did not read the engine's event (read ${seen.length} messages)`);
    // Writing under another service's transactional id is refused too (it could fence that service's producer).
    await assert.rejects(
      (async () => {
        const foreign = await engine.producer({ transactionalId: 'parallax-settlement.ingest.x' });
        await foreign.transaction((tx) => {
          tx.send(MARKET_EVENTS, [{ key: 'm-1', value: enc('x'), partition }]);
        });
      })(),
      // The broker answers FindCoordinator with TRANSACTIONAL_ID_AUTHORIZATION_FAILED; kafkajs reports it, after
      // its retries, as a coordinator it could not find.
      /TRANSACTIONAL_ID_AUTHORIZATION_FAILED|GroupCoordinatorNotFound/,
    );
  });

  it('gives each risk input one writer: the gateway cannot forge a deposit or a fill, the chain watcher cannot forge a request', async () => {
    const gateway = track(as('parallax-ingest'));
    const g = await gateway.producer();
    await assert.rejects(g.send(CHAIN_EVENTS, [{ key: 'a', value: enc('forged deposit'), partition }]), deniedPattern);
    await assert.rejects(g.send(ACCOUNT_EVENTS, [{ key: 'a', value: enc('forged fill'), partition }]), deniedPattern);
    await g.send(REQUESTS, [{ key: 'a', value: enc('a request'), partition }]);
    // Nor answer for the risk shards (tell a trader an order was placed, or refused, when it was not).
    await assert.rejects(g.send(RISK_RESULTS, [{ key: 'a', value: enc('forged answer'), partition }]), deniedPattern);

    const watcher = track(as('parallax-chain-watcher'));
    const w = await watcher.producer();
    await assert.rejects(w.send(REQUESTS, [{ key: 'a', value: enc('forged request'), partition }]), deniedPattern);
    await assert.rejects(w.send(ACCOUNT_EVENTS, [{ key: 'a', value: enc('forged fill'), partition }]), deniedPattern);
    await assert.rejects(w.send(ORDERS, [{ key: 'm-1', value: enc('forged order'), partition }]), deniedPattern);
    await w.send(CHAIN_EVENTS, [{ key: 'a', value: enc('a deposit'), partition }]);

    const engine = track(as('parallax-engine'));
    const e = await engine.producer();
    await assert.rejects(e.send(CHAIN_EVENTS, [{ key: 'a', value: enc('forged deposit'), partition }]), deniedPattern);
    await assert.rejects(e.send(REQUESTS, [{ key: 'a', value: enc('forged request'), partition }]), deniedPattern);
    await e.send(ACCOUNT_EVENTS, [{ key: 'a', value: enc('a fill'), partition }]);
  });

  it('lets the risk principal read its three inputs and journal in its transactions, and write none of its inputs', async () => {
    const risk = track(as('parallax-risk'));
    for (const topic of [REQUESTS, CHAIN_EVENTS, ACCOUNT_EVENTS]) await readAll(risk, topic, partition, 0);
    const p = await risk.producer();
    for (const topic of [REQUESTS, CHAIN_EVENTS, ACCOUNT_EVENTS, MARKET_EVENTS]) {
      await assert.rejects(p.send(topic, [{ key: 'a', value: enc('forged'), partition }]), deniedPattern);
    }
    const tx = await risk.producer({ transactionalId: RISK_TX });
    const before = (await risk.endOffsets(RISK_JOURNAL)).get(partition) ?? 0;
    await tx.transaction((t) => {
      t.send(RISK_JOURNAL, [{ key: '0', value: enc('journal entry'), partition }]);
      t.send(ORDERS, [{ key: 'm-1', value: enc('a funded order'), partition }]);
      t.send(RISK_RESULTS, [{ key: 'a', value: enc('its answer'), partition }]);
    });
    // Commit markers are written asynchronously: the entry becomes readable a moment after the commit.
    let after = before;
    for (let i = 0; i < 100 && after <= before; i++) {
      after = (await risk.endOffsets(RISK_JOURNAL)).get(partition) ?? 0;
      if (after <= before) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(after > before, 'the risk principal committed a journal entry');
  });

  it('lets the projector principal read its inputs in its groups and commit their offsets, and nothing more', async () => {
    const projector = track(as('parallax-projector'));
    // At start the projector declares its topics as the services do: existing ones need no CREATE (which it lacks).
    // With the counts they have: another spec on this broker (trading-api on Kafka) may have made them first.
    const specs = [];
    for (const name of PROJECTOR_INPUTS) specs.push({ name, partitions: await projector.partitionCount(name) });
    await projector.ensureTopics(specs);
    // The risk inputs a journal entry names are read by range, outside any group (`parallax-projector-read-…`).
    for (const topic of PROJECTOR_INPUTS) await readAll(projector, topic, partition, 0);

    // The market events an engine commits reach the projector's markets group, which commits its offsets in
    // its own transaction: what the market projector does.
    const engine = track(as('parallax-engine'));
    const marker = `projected-${randomUUID()}`;
    const tx = await engine.producer({ transactionalId: ENGINE_TX });
    await tx.transaction((t) => {
      t.send(MARKET_EVENTS, [{ key: 'm-1', value: enc(marker), partition }]);
    });
    const committer = await projector.producer({ transactionalId: `${PROJECTOR_MARKETS_GROUP}.offsets.${randomUUID()}` });
    let seenAt: number | undefined;
    const consumer = await projector.consumer({ groupId: PROJECTOR_MARKETS_GROUP, topics: [MARKET_EVENTS, SIGNED_ORDERS], fromBeginning: true });
    try {
      await consumer.run({
        eachBatch: async (batch) => {
          const hit = batch.messages.find((m) => dec(m.value) === marker);
          if (hit === undefined) return;
          await committer.transaction((t) => {
            t.commitOffsets(PROJECTOR_MARKETS_GROUP, [{ topic: batch.topic, partition: batch.partition, offset: hit.offset + 1 }]);
          });
          seenAt = hit.offset;
        },
      });
      await eventually(() => seenAt !== undefined, DELIVERY_BOUND_MS, `the engine's market event in the projector's group ${PROJECTOR_MARKETS_GROUP}`);
    } finally {
      await consumer.close();
    }
    assert.equal((await projector.committedOffsets(PROJECTOR_MARKETS_GROUP, MARKET_EVENTS)).get(partition), seenAt! + 1, 'the committed offset is the one after the event');
    // The main group commits the journal's offsets the same way.
    const journalEnd = (await projector.endOffsets(RISK_JOURNAL)).get(partition) ?? 0;
    const main = await projector.producer({ transactionalId: `${PROJECTOR_GROUP}.offsets.${randomUUID()}` });
    await main.transaction((t) => {
      t.commitOffsets(PROJECTOR_GROUP, [{ topic: RISK_JOURNAL, partition, offset: journalEnd }]);
    });
    assert.equal((await projector.committedOffsets(PROJECTOR_GROUP, RISK_JOURNAL)).get(partition), journalEnd);

    // It writes nothing: not the orders or the requests (an order past its risk shard), not its own inputs.
    const p = await projector.producer();
    for (const topic of [ORDERS, ...PROJECTOR_INPUTS]) {
      await assert.rejects(p.send(topic, [{ key: 'a', value: enc('forged by the projector'), partition }]), deniedPattern, `the projector wrote ${topic}`);
    }
    // It reads nothing else: not the engines' input or snapshots, not the shards' answers to the gateway.
    for (const topic of [ORDERS, ENGINE_SNAPSHOTS, RISK_RESULTS]) {
      await assert.rejects(readAll(projector, topic, partition, 0), deniedPattern, `the projector read ${topic}`);
    }
    // Nor commits another service's group (which would move settlement's position), nor writes under another
    // service's transactional id (which would fence it).
    const foreignGroup = await projector.producer({ transactionalId: `${PROJECTOR_GROUP}.offsets.${randomUUID()}` });
    await assert.rejects(
      foreignGroup.transaction((t) => {
        t.commitOffsets('parallax-settlement', [{ topic: MARKET_EVENTS, partition, offset: 0 }]);
      }),
      /GROUP_AUTHORIZATION_FAILED|not authorized/i,
    );
    await assert.rejects(
      (async () => {
        const foreign = await projector.producer({ transactionalId: 'parallax-settlement.projector' });
        await foreign.transaction((t) => {
          t.commitOffsets(PROJECTOR_GROUP, [{ topic: RISK_JOURNAL, partition, offset: journalEnd }]);
        });
      })(),
      /TRANSACTIONAL_ID_AUTHORIZATION_FAILED|GroupCoordinatorNotFound/,
    );
  });
});

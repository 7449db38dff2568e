// Poison input on a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092; `bash scripts/kafka.sh start`):
// good command batches of every market interleaved with poison messages on the real orders topic, one
// engine running as a child process. Every poison message must land on the dead-letters topic exactly once
// with its stable reason and its original topic / partition / offset / key / value, and the good ones must
// come out exactly once, identical to a single-process replay of only the good messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeCommandBatch, marketKey, partitionForMarket, topicSpecs, type CommandBatch } from '@parallax/contracts';
import { syntheticOrderFlow } from '@parallax/matching';
import { Prng } from '@parallax/order-book';
import { createKafkaTransport, type OutgoingMessage, type Transport } from '@parallax/transport';
import { loadMatchingEngineConfig, type MatchingEngineConfig } from './config/matching-engine.config.js';
import { committedTotal, engineEnv, kafkaBrokers, kill9, spawnEngine, stopGracefully, waitUntil, type EngineProcess } from './testing/engine-process.js';
import { assertExactlyOnceEventually, readPartitions } from './testing/exactly-once.js';
import { orderMessages, readDeadLetters, waitForCommitted } from './testing/test-support.js';

interface Poison {
  readonly message: OutgoingMessage & { readonly partition: number };
  readonly reason: string;
}

/**
 * One poison message of each kind, built around `sample` (a good batch): unique bytes per round (sentAtMs),
 * so each can be found again on the orders topic. Markets 1..8 are the catalogue; 4 partitions.
 */
function poisonRound(config: MatchingEngineConfig, round: number, sample: CommandBatch, rnd: () => number): Poison[] {
  const P = config.partitions;
  const m = sample.marketId;
  const valid = (marketId: number, kind: number): Uint8Array =>
    encodeCommandBatch({ marketId, sentAtMs: 1_000_000 + round * 10 + kind, commands: sample.commands });
  const random = new Uint8Array(8 + Math.floor(rnd() * 120));
  for (let i = 0; i < random.length; i++) random[i] = Math.floor(rnd() * 256);
  random[0] = Math.floor(rnd() * 0x50); // not the contract's magic byte
  const truncated = valid(m, 1);
  const wrongVersion = valid(m, 2);
  wrongVersion[2] = 2;
  const unknownType = Uint8Array.from([0x50, 9, 1, ...random.subarray(1, 12)]);
  const unknownMarket = 100 + round;
  const onto = (partition: number, key: string, value: Uint8Array) => ({ key, partition, value });
  return [
    { message: onto(round % P, `junk-${round}`, random), reason: 'MALFORMED_MESSAGE' },
    { message: onto(partitionForMarket(m, P), marketKey(m), truncated.slice(0, 3 + Math.floor(rnd() * (truncated.length - 3)))), reason: 'MALFORMED_MESSAGE' },
    { message: onto(partitionForMarket(m, P), marketKey(m), wrongVersion), reason: 'UNSUPPORTED_VERSION' },
    { message: onto((round + 1) % P, `type-${round}`, unknownType), reason: 'WRONG_MESSAGE_TYPE' },
    { message: onto(partitionForMarket(unknownMarket, P), marketKey(unknownMarket), valid(unknownMarket, 3)), reason: 'UNKNOWN_MARKET' },
    // The market's own batch on the neighbouring partition: a producer that used a wrong partitioner.
    { message: onto((partitionForMarket(m, P) + 1) % P, marketKey(m), valid(m, 4)), reason: 'WRONG_PARTITION' },
  ];
}

describe('matching engine on Kafka: dead letters', { timeout: 180_000 }, () => {
  let transport: Transport;
  const engines: EngineProcess[] = [];

  before(() => {
    transport = createKafkaTransport({ brokers: kafkaBrokers.split(','), clientId: 'engine-dead-letter-tests' });
  });
  after(async () => {
    await Promise.all(engines.map(kill9));
    await transport.close();
  });

  it('a dead-lettered poison message among good ones: the good ones all come out', { timeout: 150_000 }, async () => {
    const run = `engine-it-poison-${Date.now()}`;
    const env = engineEnv(run);
    const config = loadMatchingEngineConfig(env);
    await transport.ensureTopics(topicSpecs(config.topics, config.partitions));
    const good = syntheticOrderFlow({ seed: 31, marketIds: config.catalogue.all().map((d) => d.marketId), batches: 1200, maxCommandsPerBatch: 10 });
    const rng = new Prng(0x9e3779b9);
    const rnd = (): number => rng.nextFloat();
    const poisons: Poison[] = [];
    const producer = await transport.producer();
    try {
      const chunk = 100;
      for (let i = 0, round = 0; i < good.length; i += chunk, round++) {
        const slice = good.slice(i, i + chunk);
        const round_ = poisonRound(config, round, slice[Math.floor(rnd() * slice.length)]!, rnd);
        poisons.push(...round_);
        // Poison at random places among the good messages (the good ones keep their order).
        const messages: OutgoingMessage[] = orderMessages(config, slice);
        for (const p of round_) messages.splice(Math.floor(rnd() * (messages.length + 1)), 0, p.message);
        await producer.send(config.topics.orders, messages);
        // The first round waits for the engine, which then runs while the rest arrives.
        if (round === 0) {
          const e = await spawnEngine('solo', env);
          engines.push(e);
          const firstCommitMs = await waitUntil('the first committed batch', async () => ((await committedTotal(transport, config)) > 0 ? Date.now() : undefined), 60_000, 10);
          console.log(
            `[kafka dead letters] start-up: spawn -> ready ${e.startedAtMs - e.spawnedAtMs} ms, spawn -> first committed batch ${firstCommitMs - e.spawnedAtMs} ms`,
          );
        }
      }
    } finally {
      await producer.close();
    }
    const engine = engines[0]!;
    try {
      const died = engine.exited.then((code) => {
        throw new Error(`engine exited (${code})`);
      });
      await waitForCommitted(transport, config, 90_000, [died]);

      // Good messages: exactly once, identical to a replay of only them.
      const report = await assertExactlyOnceEventually(transport, config, good);
      assert.equal(report.goodMessages, good.length);

      // Poison: each found on the orders topic (its offset), then expected once on the dead-letters topic.
      const orders = await readPartitions(transport, config.topics.orders, config.partitions);
      const expected = poisons.map((p) => {
        const at = orders[p.message.partition]!.filter((m) => Buffer.from(m.value).equals(Buffer.from(p.message.value)));
        assert.equal(at.length, 1, `poison ${p.reason} found once on partition ${p.message.partition}`);
        return { reason: p.reason, topic: config.topics.orders, partition: p.message.partition, offset: at[0]!.offset, key: p.message.key, value: Buffer.from(p.message.value) };
      });
      expected.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      let dead = await readDeadLetters(transport, config);
      for (let i = 0; dead.length < expected.length && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 250));
        dead = await readDeadLetters(transport, config);
      }
      assert.deepEqual(
        dead.map((d) => ({ reason: d.reason, topic: d.topic, partition: d.partition, offset: d.offset, key: d.key, value: Buffer.from(d.value) })),
        expected,
      );
      assert.ok(dead.every((d) => d.detail.length > 0), 'every dead letter explains itself');
      const kinds = new Set(expected.map((e) => e.reason));
      assert.equal(kinds.size, 5, `poison kinds: ${[...kinds].join(', ')}`);

      const metrics = await (await fetch(`${engine.url}/metrics`)).text();
      const counted = metrics
        .split('\n')
        .filter((l) => l.startsWith('parallax_engine_dead_letters_total{'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      assert.equal(counted, poisons.length, 'dead letters counted in the metrics');
      console.log(
        `[kafka dead letters] ${poisons.length} poison messages dead-lettered once each among ${good.length} good ones (${report.eventBatches} event batches audited)`,
      );
      assert.equal(await stopGracefully(engine), 0);
    } finally {
      await Promise.all(engines.map(kill9));
    }
  });
});

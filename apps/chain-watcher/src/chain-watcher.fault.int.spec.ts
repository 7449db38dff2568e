// The chain watcher process (dist/main.js) on the Kafka broker, killed with SIGKILL twice while deposits
// stream in on anvil: each replacement fences the previous one and resumes from the committed position, so the
// chain-events topic ends with every deposit exactly once, in chain order per account, on its account shard.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { startLocalChain, type LocalChain } from '@parallax/chain';
import { decodeChainEventBatch, type ChainEvent } from '@parallax/contracts';
import { spawnServiceProcess, type ServiceProcess } from '@parallax/microservice';
import { shardForAccount } from '@parallax/risk';
import { createKafkaTransport, type Transport } from '@parallax/transport';
import { keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readProgress } from './watch/chain-watcher.js';

const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const SHARDS = 3;
const ACCOUNTS = 6;
const DEPOSITS = 48;

describe('chain watcher under kill -9 (Kafka)', () => {
  const procs: ServiceProcess[] = [];
  let t: Transport | undefined;
  let lc: LocalChain | undefined;
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await t?.close();
    await lc?.close();
  });

  it('commits every deposit exactly once across two SIGKILLs mid-stream', { timeout: 600_000 }, async () => {
    const run = `chain-watcher-fault-${process.pid}-${Date.now()}`;
    lc = await startLocalChain();
    const chain = lc;
    t = createKafkaTransport({ brokers: brokers.split(','), clientId: run });
    const topics = { events: `${run}.chain-events`, progress: `${run}.progress` };
    const env = {
      KAFKA_BROKERS: brokers,
      RPC_URL: chain.anvil.rpcUrl,
      SETTLEMENT_ADDRESS: chain.settlement,
      SETTLEMENT_DEPLOY_BLOCK: '1',
      CHAIN_CONFIRMATIONS: '2',
      CHAIN_WATCHER_POLL_MS: '10',
      // Small ranges: many transactions, so a kill lands between or inside them.
      CHAIN_WATCHER_BLOCK_RANGE: '2',
      TOPIC_CHAIN_EVENTS: topics.events,
      TOPIC_CHAIN_WATCHER_PROGRESS: topics.progress,
      ACCOUNT_SHARDS: String(SHARDS),
      CHAIN_WATCHER_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    };
    const watcher = async (name: string): Promise<ServiceProcess> => {
      const p = await spawnServiceProcess({ main: MAIN, name, readyMessage: 'chain watcher started', env });
      procs.push(p);
      return p;
    };
    const commits = (p: ServiceProcess): number => p.logs.filter((l) => l.entry['msg'] === 'chain events committed').length;
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => privateKeyToAccount(keccak256(toHex(`${run}-${i}`))).address);
    const BASE = chain.tokens['BASE']!;

    let w = await watcher('w1');
    for (let i = 1; i <= DEPOSITS; i++) {
      await chain.fund(accounts[i % ACCOUNTS]!, BASE, BigInt(i));
      // Kill a watcher once it has committed something, twice, while deposits keep coming.
      if (i === 16 || i === 32) {
        const current = w;
        const until = Date.now() + 120_000;
        while (commits(current) === 0) {
          if (current.child.exitCode !== null || Date.now() > until) assert.fail(`${current.name} committed nothing:\n${JSON.stringify(current.logs.slice(-20).map((l) => l.entry))}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        w.child.kill('SIGKILL');
        await w.exited;
        w = await watcher(i === 16 ? 'w2' : 'w3');
      }
    }
    const last = await chain.publicClient.getBlockNumber({ cacheTime: 0 });
    await chain.testClient.mine({ blocks: 1 });
    const chainId = chain.anvil.chainId;
    const transport = t;
    for (;;) {
      const p = await readProgress(transport, topics.progress, chainId, chain.settlement);
      if (p !== undefined && p.block >= last) break;
      if (w.child.exitCode !== null) assert.fail(`the watcher exited with ${w.child.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const seen: { partition: number; event: ChainEvent }[] = [];
    for (let p = 0; p < SHARDS; p++) {
      for await (const batch of transport.read(topics.events, p, 0)) {
        for (const m of batch) for (const event of decodeChainEventBatch(m.value).events) seen.push({ partition: p, event });
      }
    }
    for (const s of seen) assert.equal(s.partition, shardForAccount(s.event.account, SHARDS));
    const amounts = seen.map((s) => (s.event.type === 'deposit' ? s.event.amount : -1n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(amounts, Array.from({ length: DEPOSITS }, (_, i) => BigInt(i + 1)), 'each deposit once, none lost');
    for (const a of accounts) {
      const mine = seen.filter((s) => s.event.account === a.toLowerCase()).map((s) => (s.event.type === 'deposit' ? s.event.amount : -1n));
      assert.deepEqual(mine, [...mine].sort((x, y) => (x < y ? -1 : 1)), `${a}'s deposits in chain order`);
    }
    const health = await fetch(`${w.url}/health`);
    assert.equal(health.status, 200);
  });
});

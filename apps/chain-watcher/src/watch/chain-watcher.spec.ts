// The poll loop against an in-process chain: what it commits, and that it commits nothing when the chain it
// read is not one chain, when a log does not decode, or when a committed block was reorged away.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settlementAbi } from '@parallax/chain';
import { decodeChainEventBatch } from '@parallax/contracts';
import { createLogger } from '@parallax/observability';
import { TransportError, type OutgoingMessage, type Producer, type Transaction } from '@parallax/transport';
import { Registry } from 'prom-client';
import { encodeAbiParameters, encodeEventTopics, keccak256, toHex, type Address, type Hex, type PublicClient } from 'viem';
import { ChainWatcher, WatcherError, type ChainWatcherSettings, type ReopenedWriter } from './chain-watcher.js';
import { ChainWatcherMetrics } from './chain-watcher.metrics.js';
import { decodeProgress, type Progress } from './progress.js';

const SETTLEMENT: Address = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const TRADER: Address = '0x00000000000000000000000000000000000000a5';
const TOKEN: Address = '0x00000000000000000000000000000000000000b1';
const hashOf = (n: bigint, fork = 0): Hex => keccak256(toHex(`block-${n}-${fork}`));

interface FakeLog {
  readonly blockNumber: bigint;
  readonly logIndex: number;
  readonly topics: Hex[];
  readonly data: Hex;
  blockHash?: Hex;
}

/** A chain of `head` blocks whose hashes depend on `fork` (a reorg changes it from some height on). */
class FakeChain {
  head = 10n;
  /** Like a provider's cap: a getLogs over more blocks than this fails. */
  maxLogRange = Infinity;
  forkFrom = Infinity;
  logs: FakeLog[] = [];
  hash(n: bigint): Hex {
    return hashOf(n, Number(n) >= this.forkFrom ? 1 : 0);
  }
  client(): PublicClient {
    return {
      getBlockNumber: () => Promise.resolve(this.head),
      getBlock: ({ blockNumber }: { blockNumber: bigint }) =>
        Promise.resolve({ hash: this.hash(blockNumber), parentHash: this.hash(blockNumber - 1n), timestamp: 1_000n + blockNumber }),
      getLogs: ({ fromBlock, toBlock }: { fromBlock: bigint; toBlock: bigint }) =>
        Number(toBlock - fromBlock + 1n) > this.maxLogRange
          ? Promise.reject(new Error('query exceeds the block range limit'))
          : Promise.resolve(this.logs.filter((l) => l.blockNumber >= fromBlock && l.blockNumber <= toBlock).map((l) => ({ ...l, blockHash: l.blockHash ?? this.hash(l.blockNumber) }))),
      readContract: () => Promise.resolve(0n),
    } as unknown as PublicClient;
  }
}

function deposit(blockNumber: bigint, amount: bigint, logIndex = 0): FakeLog {
  return {
    blockNumber,
    logIndex,
    topics: encodeEventTopics({ abi: settlementAbi, eventName: 'Deposited', args: { trader: TRADER, token: TOKEN } }) as Hex[],
    data: encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }, { type: 'uint256' }], [TRADER, amount, amount]),
  };
}

function recorder(): { producer: Producer; txs: { topic: string; messages: readonly OutgoingMessage[] }[][] } {
  const txs: { topic: string; messages: readonly OutgoingMessage[] }[][] = [];
  const producer = {
    send: () => Promise.reject(new Error('the watcher writes only in transactions')),
    transaction: async (fill: (tx: Transaction) => void | Promise<void>) => {
      const sends: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
      await fill({ send: (topic, messages) => sends.push({ topic, messages }), commitOffsets: () => undefined });
      txs.push(sends);
    },
    close: () => Promise.resolve(),
  } satisfies Producer;
  return { producer, txs };
}

const SETTINGS: ChainWatcherSettings = {
  chainId: 31337,
  settlement: SETTLEMENT,
  startBlock: 1n,
  confirmations: 3,
  blockRange: 100,
  pollIntervalMs: 10,
  chainEventsTopic: 'events',
  progressTopic: 'progress',
  shards: 4,
  reconcile: false,
};

function watcher(chain: FakeChain | PublicClient, producer: Producer, progress?: Progress): { w: ChainWatcher; metrics: ChainWatcherMetrics } {
  const metrics = new ChainWatcherMetrics(new Registry());
  const client = chain instanceof FakeChain ? chain.client() : chain;
  const w = new ChainWatcher(SETTINGS, client, producer, metrics, createLogger('chain-watcher-spec', 'silent'));
  w.restore(progress, []);
  return { w, metrics };
}

describe('ChainWatcher.pollOnce', () => {
  it('commits the confirmed range: events on the account shard and the position, in one transaction', async () => {
    const chain = new FakeChain();
    chain.logs = [deposit(5n, 7n), deposit(9n, 8n)];
    const { producer, txs } = recorder();
    const { w } = watcher(chain, producer);
    assert.equal(await w.pollOnce(), false);
    assert.equal(txs.length, 1);
    const [events, progress] = txs[0]!;
    assert.equal(events!.topic, 'events');
    assert.equal(events!.messages.length, 1);
    assert.equal(events!.messages[0]!.partition, 0xa5 % 4);
    // Block 9 is not confirmed at head 10 with depth 3: only block 5's deposit.
    assert.deepEqual(decodeChainEventBatch(events!.messages[0]!.value).events, [{ type: 'deposit', account: TRADER, token: TOKEN, amount: 7n }]);
    assert.deepEqual(decodeProgress(progress!.messages[0]!.value), { chainId: 31337, settlement: SETTLEMENT, block: 8n, hash: hashOf(8n) });
    assert.equal(w.committed?.block, 8n);
    chain.head = 11n;
    await w.pollOnce();
    assert.deepEqual(decodeChainEventBatch(txs[1]![0]!.messages[0]!.value).events, [{ type: 'deposit', account: TRADER, token: TOKEN, amount: 8n }]);
  });

  it('writes nothing when a log names a block the chain does not have, and reads the range again', async () => {
    const chain = new FakeChain();
    chain.logs = [{ ...deposit(5n, 7n), blockHash: hashOf(5n, 9) }];
    const { producer, txs } = recorder();
    const { w, metrics } = watcher(chain, producer);
    await assert.rejects(w.pollOnce(), /a log of block 5 names block/);
    assert.equal(txs.length, 0);
    assert.equal((await metrics.rangeRetries.get()).values.find((v) => v.labels.reason === 'log-block')?.value, 1);
    chain.logs = [deposit(5n, 7n)];
    await w.pollOnce();
    assert.equal(txs.length, 1);
  });

  it('halts on a log that does not decode as the contract\'s, committing nothing', async () => {
    const chain = new FakeChain();
    chain.logs = [{ ...deposit(5n, 7n), data: '0x1234' }];
    const { producer, txs } = recorder();
    const { w } = watcher(chain, producer);
    await assert.rejects(w.pollOnce(), (e: unknown) => e instanceof WatcherError && e.code === 'MALFORMED_LOG');
    assert.equal(txs.length, 0);
  });

  it('refuses to go on when a committed block was reorged away (below the depth)', async () => {
    const chain = new FakeChain();
    const { producer, txs } = recorder();
    const { w } = watcher(chain, producer);
    await w.pollOnce();
    assert.equal(w.committed?.block, 8n);
    chain.forkFrom = 7;
    chain.head = 20n;
    chain.logs = [deposit(12n, 1n)];
    await assert.rejects(w.pollOnce(), (e: unknown) => e instanceof WatcherError && e.code === 'CHAIN_REORG_BELOW_DEPTH');
    assert.equal(txs.length, 1, 'nothing after the first commit');
  });

  it('does not build on a range whose first block does not follow the committed one', async () => {
    const chain = new FakeChain();
    const { producer, txs } = recorder();
    const { w } = watcher(chain, producer);
    await w.pollOnce();
    // Block 9 now claims another parent than the committed block 8 (whose own hash is unchanged).
    const client = chain.client();
    const getBlock = client.getBlock.bind(client);
    (client as { getBlock: unknown }).getBlock = async (a: { blockNumber: bigint }) => ({ ...(await getBlock(a)), parentHash: a.blockNumber === 9n ? hashOf(8n, 5) : hashOf(a.blockNumber - 1n) });
    const { w: again } = watcher(client, producer, w.committed);
    chain.head = 15n;
    await assert.rejects(again.pollOnce(), /parent is not the committed block/);
    assert.equal(txs.length, 1);
  });

  it('halves the range a provider refuses, and never skips a block doing so', async () => {
    const chain = new FakeChain();
    chain.head = 60n;
    chain.maxLogRange = 5;
    chain.logs = [deposit(3n, 1n), deposit(20n, 2n), deposit(57n, 3n)];
    const { producer, txs } = recorder();
    const { w, metrics } = watcher(chain, producer);
    let failures = 0;
    for (let polls = 0; polls < 100 && (w.committed?.block ?? 0n) < 58n; polls++) {
      await w.pollOnce().catch(() => failures++);
    }
    assert.equal(w.committed?.block, 58n);
    assert.ok(failures > 0 && failures < 40, `${failures} refused ranges`);
    assert.equal((await metrics.rangeRetries.get()).values.find((v) => v.labels.reason === 'getLogs')?.value, failures);
    const amounts = txs.flatMap((tx) => tx.filter((x) => x.topic === 'events').flatMap((x) => x.messages.flatMap((m) => decodeChainEventBatch(m.value).events)));
    assert.deepEqual(amounts.map((e) => (e.type === 'deposit' ? e.amount : -1n)), [1n, 2n, 3n]);
    // Consecutive commits: each range starts where the last one ended.
    const blocks = txs.map((tx) => decodeProgress(tx.find((x) => x.topic === 'progress')!.messages[0]!.value)!.block);
    assert.deepEqual(blocks, [...blocks].sort((a, b) => (a < b ? -1 : 1)));
  });

  it('wake() polls at once instead of at the end of the interval (a newHeads subscription drives it)', { timeout: 60_000 }, async () => {
    const chain = new FakeChain();
    chain.logs = [deposit(5n, 7n), deposit(9n, 8n)];
    const { producer, txs } = recorder();
    const committed: (() => void)[] = [];
    const counting: Producer = {
      ...producer,
      transaction: async (fill) => {
        await producer.transaction(fill);
        committed.shift()?.();
      },
    };
    // An interval no test run reaches: only wake() can make the second poll happen.
    const w = new ChainWatcher({ ...SETTINGS, pollIntervalMs: 3_600_000 }, chain.client(), counting, new ChainWatcherMetrics(new Registry()), createLogger('chain-watcher-spec', 'silent'));
    w.restore(undefined, []);
    const abort = new AbortController();
    const first = new Promise<void>((r) => committed.push(r));
    const running = w.run(abort.signal);
    try {
      await first;
      const position = (i: number): bigint | undefined => decodeProgress(txs[i]!.at(-1)!.messages[0]!.value)?.block;
      assert.equal(position(0), 8n);
      const second = new Promise<void>((r) => committed.push(r));
      chain.head = 11n;
      w.wake();
      await second;
      assert.equal(position(1), 9n);
      assert.deepEqual(decodeChainEventBatch(txs[1]![0]!.messages[0]!.value).events, [{ type: 'deposit', account: TRADER, token: TOKEN, amount: 8n }]);
    } finally {
      abort.abort();
      await running;
    }
  });

  it('reopens a producer the transport retired, reads the position again and neither repeats nor loses a block', { timeout: 60_000 }, async () => {
    const chain = new FakeChain();
    chain.logs = [deposit(5n, 7n), deposit(9n, 8n)];
    // The first commit reaches the topic but its producer fails at EndTxn (the coordinator moved) and the
    // transport retires it: every later call is PRODUCER_CLOSED. Only the topic knows the commit landed.
    const topic: { topic: string; messages: readonly OutgoingMessage[] }[][] = [];
    let broken = false;
    const retired: Producer = {
      send: () => Promise.reject(new Error('unused')),
      transaction: async (fill) => {
        if (broken) throw new TransportError('PRODUCER_CLOSED', 'the producer failed and must be reopened');
        const sends: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
        await fill({ send: (t, messages) => sends.push({ topic: t, messages }), commitOffsets: () => undefined });
        topic.push(sends);
        broken = true;
        throw new Error('NOT_COORDINATOR at EndTxn');
      },
      close: () => Promise.resolve(),
    };
    const fresh = recorder();
    let committedAgain = (): void => undefined;
    const reopened = new Promise<void>((r) => (committedAgain = r));
    const freshProducer: Producer = {
      ...fresh.producer,
      transaction: async (fill) => {
        await fresh.producer.transaction(fill);
        committedAgain();
      },
    };
    let reopens = 0;
    const reopen = (): Promise<ReopenedWriter> => {
      reopens++;
      // What bootstrap's openWriter reads after fencing the old producer: the last committed progress record.
      const last = topic.at(-1)!.at(-1)!.messages[0]!.value;
      return Promise.resolve({ producer: freshProducer, progress: decodeProgress(last), events: [] });
    };
    const metrics = new ChainWatcherMetrics(new Registry());
    const w = new ChainWatcher(SETTINGS, chain.client(), retired, metrics, createLogger('chain-watcher-spec', 'silent'), reopen);
    w.restore(undefined, []);
    const abort = new AbortController();
    const running = w.run(abort.signal);
    try {
      chain.head = 12n;
      await reopened;
      assert.equal(reopens, 1);
      assert.equal(decodeProgress(topic[0]!.at(-1)!.messages[0]!.value)?.block, 8n, 'the commit that landed covered the blocks confirmed at head 10');
      // The new producer goes on after the landed block: deposit 9 once, deposit 5 never again.
      assert.equal(decodeChainEventBatch(fresh.txs[0]![0]!.messages[0]!.value).events.length, 1);
      assert.deepEqual(decodeChainEventBatch(fresh.txs[0]![0]!.messages[0]!.value).events, [{ type: 'deposit', account: TRADER, token: TOKEN, amount: 8n }]);
      assert.equal(decodeProgress(fresh.txs[0]!.at(-1)!.messages[0]!.value)?.block, 10n);
      assert.equal(w.health().status, 'following');
      assert.equal((await metrics.producerReopens.get()).values[0]?.value, 1);
    } finally {
      abort.abort();
      await running;
    }
  });

  it('stops when another instance fenced its producer (that one owns the position now)', async () => {
    const chain = new FakeChain();
    chain.logs = [deposit(5n, 7n)];
    const fenced: Producer = {
      send: () => Promise.reject(new Error('unused')),
      transaction: () => Promise.reject(new TransportError('PRODUCER_FENCED', 'a newer producer opened this transactional id')),
      close: () => Promise.resolve(),
    };
    const { w } = watcher(chain, fenced);
    await assert.rejects(w.run(new AbortController().signal), (e: unknown) => e instanceof TransportError && e.code === 'PRODUCER_FENCED');
    assert.equal(w.health().status, 'halted');
  });
});

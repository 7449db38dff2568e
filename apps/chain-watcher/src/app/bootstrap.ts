import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ContractError, decodeChainEventBatch, MessageType, peekMessageType, type ChainEvent } from '@parallax/contracts';
import { ConfigError, createLogger, NestPinoLogger, stateIndicator, type Logger } from '@parallax/observability';
import type { Transport } from '@parallax/transport';
import { createPublicClient, http } from 'viem';
import type { ChainWatcherConfig } from '../config/chain-watcher.config.js';
import { ChainWatcher, readProgress, type ReopenedWriter } from '../watch/chain-watcher.js';
import { ChainWatcherMetrics } from '../watch/chain-watcher.metrics.js';
import { AppModule, SERVICE } from './app.module.js';

export interface ChainWatcherHandle {
  readonly app: INestApplication;
  /** Base URL of /metrics and /health. */
  readonly url: string;
  readonly watcher: ChainWatcher;
  /** Rejects when the watcher halts (a reorg below the depth, an unreadable log); resolves on close(). */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
}

/**
 * Starts the chain watcher on `transport`: checks the chain and contract, declares its topics, fences any
 * older instance (transactional id per chain and contract), restores its committed position and follows
 * the chain from there; /metrics and /health over HTTP.
 */
export async function startChainWatcher(config: ChainWatcherConfig, transport: Transport, options: StartOptions = {}): Promise<ChainWatcherHandle> {
  const log = options.logger ?? createLogger(SERVICE);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      await c().catch((err: unknown) => {
        log.warn({ err }, 'unclean stop');
      });
    }
  };
  try {
    const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 0, timeout: 10_000 }) });
    const chainId = await client.getChainId();
    if (config.chainId !== undefined && config.chainId !== chainId) {
      throw new ConfigError([`CHAIN_ID: ${config.chainId} configured, the node at RPC_URL serves chain ${chainId}`]);
    }
    const code = await client.getCode({ address: config.settlement });
    if (code === undefined || code === '0x') throw new ConfigError([`SETTLEMENT_ADDRESS: no contract at ${config.settlement} on chain ${chainId}`]);

    const { chainEvents, progress } = config.topics;
    if (config.ensureTopics) {
      await transport.ensureTopics([
        { name: chainEvents, partitions: config.shards },
        { name: progress, partitions: 1, compacted: true },
      ]);
    }
    const partitions = await transport.partitionCount(chainEvents);
    if (partitions !== config.shards) {
      throw new ConfigError([`ACCOUNT_SHARDS: ${config.shards}, but ${chainEvents} has ${partitions} partitions (one per account shard)`]);
    }
    const committedEvents = async (): Promise<ChainEvent[]> => {
      const events: ChainEvent[] = [];
      if (config.reconcile) {
        for (let p = 0; p < partitions; p++) {
          for await (const batch of transport.read(chainEvents, p, 0)) {
            for (const m of batch) {
              // The topic may be shared (today's single risk input topic): only chain event batches count, and
              // what does not decode the risk shards dead-letter too (it never reached the ledger).
              try {
                if (peekMessageType(m.value) !== MessageType.ChainEventBatch) continue;
                for (const e of decodeChainEventBatch(m.value).events) events.push(e);
              } catch (err) {
                if (!(err instanceof ContractError)) throw err;
              }
            }
          }
        }
      }
      return events;
    };
    // Opening the producer fences an older watcher of this chain, contract and position (its open transaction
    // is aborted, its next commit fails and it stops) before the committed position is read.
    // The same again when the transport retires the producer (ChainWatcher.reopenWriter).
    const openWriter = async (): Promise<ReopenedWriter> => {
      const producer = await transport.producer({ transactionalId: `parallax-chain-watcher-${chainId}-${config.settlement.toLowerCase()}-${progress}` });
      try {
        return { producer, progress: await readProgress(transport, progress, chainId, config.settlement), events: await committedEvents() };
      } catch (err) {
        await producer.close().catch(() => undefined);
        throw err;
      }
    };
    const first = await openWriter();
    const { progress: committed, events } = first;
    let writer = first.producer;
    closers.push(() => writer.close());

    // Readiness, not liveness: a halt (a reorg below the confirmation depth, a fenced writer) is not cured by a
    // restart, so the process stays up and /ready says why until the on-call acts.
    const started: { watcher?: ChainWatcher } = {};
    const watcherIndicator = stateIndicator('watcher', 'readiness', () => {
      if (started.watcher === undefined) return { status: 'down', details: { state: 'starting' } };
      // terminus reserves `status` in an indicator's details: the watcher's own status is reported as `state`.
      const { status, ...rest } = started.watcher.health();
      return { status: status === 'halted' ? 'down' : status === 'starting' ? 'degraded' : 'up', details: { state: status, ...rest } };
    });
    const app = await NestFactory.create(AppModule.forRoot([watcherIndicator]), { logger: new NestPinoLogger(log) });
    closers.push(() => app.close());
    const metrics = app.get(ChainWatcherMetrics);
    const watcher = new ChainWatcher(
      {
        chainId,
        settlement: config.settlement,
        startBlock: config.startBlock,
        confirmations: config.confirmations,
        blockRange: config.blockRange,
        pollIntervalMs: config.pollIntervalMs,
        chainEventsTopic: chainEvents,
        progressTopic: progress,
        shards: config.shards,
        reconcile: config.reconcile,
      },
      client,
      writer,
      metrics,
      log.child({ component: 'watcher' }),
      async () => {
        const w = await openWriter();
        writer = w.producer;
        return w;
      },
    );
    watcher.restore(committed, events);
    started.watcher = watcher;
    await app.listen(config.httpPort, config.httpHost);
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

    const abort = new AbortController();
    const stopped = watcher.run(abort.signal);
    // A halt is reported through `stopped` (and /health); whoever holds the handle decides what it means.
    stopped.catch(() => undefined);
    closers.push(async () => {
      abort.abort();
      await stopped.catch(() => undefined);
    });
    log.info(
      { url, chainId, settlement: config.settlement, confirmations: config.confirmations, from: committed === undefined ? config.startBlock.toString() : (committed.block + 1n).toString(), transport: transport.kind },
      'chain watcher started',
    );
    let closing: Promise<void> | undefined;
    return { app, url, watcher, stopped, close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

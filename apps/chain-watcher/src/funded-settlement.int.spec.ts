// Settlement through risk with zero FillUnderfunded (issue 10): anvil, the embedded log, and every real
// service of the funds path: deposits on chain reach the account shards ONLY through the chain watcher; the
// shards (apps/risk RiskShards) hold funds for each signed order before a real matching engine sees it; the
// settlement service settles the trades on chain; the watcher feeds the settled amounts back to the shards.
// An unfunded trader's orders are refused at risk (INSUFFICIENT_FUNDS) and never reach a book; every batch
// settles every fill (no FillsSkipped, no FAILED fill); afterwards the ledger's on-chain view of every
// trader equals the contract's balanceOf, and the watcher's reconciliation reports no drift.
// The market pays makers a rebate (a negative maker fee, from the same market list the shards use): every
// settled fill carries it, and the fee recipient ends with exactly Σ taker fees - Σ rebates.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeFillsSettled, feeAmount, rebateAmount, settlementAbi, type LocalChain } from '@parallax/chain';
import { balanceOf, fillsOnChain, keepMining, signedPlaceRequest } from '@parallax/chain-watcher/testing';
import { decodeEventBatch, decodeEventBatchEvents, decodeSignedOrderBatch, defaultMarkets, MarketCatalogue, type ClientRequest } from '@parallax/contracts';
import { startMatchingEngine, type MatchingEngineConfig, type MatchingEngineHandle } from '@parallax/matching-engine';
import { createLogger } from '@parallax/observability';
import { Prng } from '@parallax/order-book';
import { shardForAccount, type Address as RiskAddress, type RiskMarket } from '@parallax/risk';
import { RiskShards, type RiskShardsConfig } from '@parallax/risk-service';
import { sendRequests, waitDrained } from '@parallax/risk-service/testing';
import { localSettlementConfig, startLocalSettlementChain, startSettlement, type SettlementHandle } from '@parallax/settlement';
import { waitFor } from '@parallax/settlement/testing';
import { createEmbeddedTransport } from '@parallax/transport';
import { keccak256, toHex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startChainWatcher, type ChainWatcherHandle } from './app/bootstrap.js';
import { loadChainWatcherConfig } from './config/chain-watcher.config.js';

const SHARDS = 2;
const P = 2;
/** A maker rebate of 0.05%, paid out of the 0.1% taker fee. */
const MAKER_FEE = -500;
const TAKER_FEE = 1_000;
const log = createLogger('funded-settlement-test', 'warn');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('settlement through risk: deposits only through the chain watcher, zero FillUnderfunded', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  it('refuses the unfunded trader at risk and settles every fill of the funded ones', { timeout: 600_000 }, async () => {
    const run = `funded-${process.pid}`;
    const local = await startLocalSettlementChain({ markets: 1 });
    const lc: LocalChain = local.chain;
    closers.push(() => lc.close());
    const t = createEmbeddedTransport();
    closers.push(() => t.close());
    const topics = {
      orders: `${run}.orders`,
      marketEvents: `${run}.market-events`,
      snapshots: `${run}.snapshots`,
      deadLetters: `${run}.dead-letters`,
      signedOrders: `${run}.signed-orders`,
      settlementStatus: `${run}.settlement-status`,
    };
    const BASE = lc.tokens['BASE']!.toLowerCase() as RiskAddress;
    const QUOTE = lc.tokens['QUOTE']!.toLowerCase() as RiskAddress;
    const market: RiskMarket = { marketId: 1, baseToken: BASE, quoteToken: QUOTE, lotSize: 10n ** 15n, tickSize: 10n ** 4n, makerFeeRate: MAKER_FEE, takerFeeRate: TAKER_FEE };

    // The risk shards read three inputs, one writer each: the watcher writes chain events, the engine account
    // events, and this test (in the gateway's place) requests.
    const risk: RiskShardsConfig = {
      groupId: `${run}-risk`,
      inputs: { requests: `${run}.requests`, chainEvents: `${run}.chain-events`, accountEvents: `${run}.account-events` },
      state: { journal: `${run}.risk-journal`, snapshots: `${run}.risk-snapshots` },
      ordersTopic: topics.orders,
      signedOrdersTopic: topics.signedOrders,
      deadLettersTopic: topics.deadLetters,
      shards: SHARDS,
      marketPartitions: P,
      markets: [market],
      maxBatchMessages: 50,
    };
    const shards = new RiskShards(risk, t);
    await shards.start();
    closers.push(() => shards.close());
    const engineConfig: MatchingEngineConfig = {
      kafkaBrokers: undefined,
      kafkaClientId: run,
      kafkaConsumer: {},
      groupId: `${run}-engine`,
      instanceId: run,
      topics: { orders: topics.orders, marketEvents: topics.marketEvents, snapshots: topics.snapshots, deadLetters: topics.deadLetters },
      partitions: P,
      catalogue: new MarketCatalogue(defaultMarkets(1)),
      snapshotEveryMessages: 1_000_000,
      snapshotEveryMs: 3_600_000,
      maxBatchMessages: 50,
      concurrentPartitions: 2,
      ensureTopics: true,
      httpHost: '127.0.0.1',
      httpPort: 0,
      ordersRetentionMs: 3_600_000_000,
      logLevel: 'warn',
      logFormat: 'json',
      accountEvents: { topic: risk.inputs.accountEvents, shards: SHARDS },
    };
    const engine: MatchingEngineHandle = await startMatchingEngine(engineConfig, t, { logger: log });
    closers.push(() => engine.close());
    // Settlement takes the market's rates from its market list entry, like the shards (the default fees,
    // localSettlementConfig's 500 / 1000, would charge the maker instead of paying it).
    const settlementConfig = localSettlementConfig(local, { marketEvents: topics.marketEvents, deadLetters: topics.deadLetters, signedOrders: topics.signedOrders, settlementStatus: topics.settlementStatus }, {
      allowEphemeralDb: true,
      partitions: P,
      markets: new Map(local.markets.map((m) => [m.marketId, { ...m, makerFeeRate: MAKER_FEE, takerFeeRate: TAKER_FEE }])),
      logLevel: 'warn',
    });
    assert.notEqual(settlementConfig.fees.makerFeeRate, MAKER_FEE);
    const settlement: SettlementHandle = await startSettlement(settlementConfig, t, { logger: log });
    closers.push(() => settlement.close());
    const watcher: ChainWatcherHandle = await startChainWatcher(
      loadChainWatcherConfig({
        RPC_URL: lc.anvil.rpcUrl,
        SETTLEMENT_ADDRESS: lc.settlement,
        SETTLEMENT_DEPLOY_BLOCK: '1',
        CHAIN_CONFIRMATIONS: '2',
        CHAIN_WATCHER_POLL_MS: '20',
        TOPIC_CHAIN_EVENTS: risk.inputs.chainEvents,
        ACCOUNT_SHARDS: String(SHARDS),
        CHAIN_WATCHER_HTTP_PORT: '0',
      }),
      t,
      { logger: log },
    );
    closers.push(() => watcher.close());
    const failures: unknown[] = [];
    for (const [name, s] of [
      ['risk', shards.stopped],
      ['engine', engine.stopped],
      ['settlement', settlement.stopped],
      ['watcher', watcher.stopped],
    ] as const) {
      s.catch((e: unknown) => failures.push([name, e]));
    }
    // Anvil mines a block per transaction only: keep blocks coming so deposits and batches get confirmed.
    closers.push(keepMining(lc));

    // Funded traders deposit on chain; nothing tells the shards but the watcher.
    const traders: LocalAccount[] = Array.from({ length: 8 }, (_, i) => privateKeyToAccount(keccak256(toHex(`${run}-trader-${i}`))));
    const unfunded = privateKeyToAccount(keccak256(toHex(`${run}-unfunded`)));
    for (const a of traders) {
      await lc.fund(a.address, lc.tokens['BASE']!, 10n ** 18n);
      await lc.fund(a.address, lc.tokens['QUOTE']!, 1_000_000_000n);
    }
    const engines = () => shards.ownedShards().map((s) => shards.shard(s)!.engine);
    const ledgerOf = (a: string, token: RiskAddress) => {
      const acct = a.toLowerCase() as RiskAddress;
      return shards.shard(shardForAccount(acct, SHARDS))!.engine.balance(acct, token);
    };
    await waitFor('every deposit in the ledger', () => Promise.resolve(engines().length === SHARDS && traders.every((a) => ledgerOf(a.address, QUOTE).available === 1_000_000_000n && ledgerOf(a.address, BASE).available === 10n ** 18n) ? true : undefined), 120_000, 50);

    const feeRecipientBefore = await balanceOf(lc, lc.feeRecipient, QUOTE);
    const expiry = (await lc.publicClient.getBlock()).timestamp + 86_400n;
    const nonces = new Map<string, bigint>();
    let ts = Date.now();
    const producer = await t.producer();
    closers.push(() => producer.close());
    const place = (who: LocalAccount, isBuy: boolean, priceTicks: number, lots: number): Promise<ClientRequest> => {
      const nonce = (nonces.get(who.address) ?? 0n) + 1n;
      nonces.set(who.address, nonce);
      // Request time as a gateway stamps it: the clock, strictly increasing (books refuse time going back).
      return signedPlaceRequest(who, lc.domain, market, { isBuy, priceTicks, lots, nonce, maxFeeRate: TAKER_FEE, expiry, ts: (ts = Math.max(ts + 1, Date.now())) });
    };
    const send = (reqs: readonly ClientRequest[]): Promise<void> => sendRequests(producer, risk.inputs.requests, SHARDS, reqs);
    const openOrdersOf = (a: LocalAccount): number => {
      const acct = a.address.toLowerCase();
      const e = shards.shard(shardForAccount(acct as RiskAddress, SHARDS))!.engine;
      return e.openOrders().filter((o) => e.accountAddress(o.accountId) === acct).length;
    };

    // A withdrawal requested on chain while open orders hold the funds: the watcher delivers the request, the
    // shard cancels the orders, the operator pays out; a seller then crossing the cancelled bids must find
    // nothing of them in the book (a stale bid would be a fill the chain can no longer fund).
    const [withdrawer, ...others] = traders as [LocalAccount, ...LocalAccount[]];
    await send([await place(withdrawer, true, 100, 20), await place(withdrawer, true, 100, 20), await place(withdrawer, true, 99, 20)]);
    await waitFor('the withdrawer\'s bids in the book', () => Promise.resolve(openOrdersOf(withdrawer) === 3 ? true : undefined), 60_000, 20);
    await lc.testClient.setBalance({ address: withdrawer.address, value: 10n ** 18n });
    const everything = 1_000_000_000n;
    const requested = await lc.wallet(withdrawer).writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'requestWithdrawal', args: [lc.tokens['QUOTE']!, everything] });
    assert.equal((await lc.publicClient.waitForTransactionReceipt({ hash: requested })).status, 'success');
    await waitFor('the shard to cancel the bids and reserve the withdrawal', () => Promise.resolve(openOrdersOf(withdrawer) === 0 && ledgerOf(withdrawer.address, QUOTE).heldWithdrawals === everything ? true : undefined), 60_000, 20);
    const executed = await lc.operator.writeContract({ address: lc.settlement, abi: settlementAbi, functionName: 'executeWithdrawal', args: [withdrawer.address, lc.tokens['QUOTE']!] });
    assert.equal((await lc.publicClient.waitForTransactionReceipt({ hash: executed })).status, 'success');
    await send([await place(others[0]!, false, 99, 30)]);

    // Signed orders around one price, 10% of them from the trader who deposited nothing.
    const prng = new Prng(10);
    const rnd = (): number => prng.nextFloat();
    let sentUnfunded = 0;
    for (let round = 0; round < 12; round++) {
      const reqs: ClientRequest[] = [];
      for (let i = 0; i < 10; i++) {
        const who = rnd() < 0.1 ? unfunded : others[Math.floor(rnd() * others.length)]!;
        if (who === unfunded) sentUnfunded++;
        reqs.push(await place(who, rnd() < 0.5, 100 + Math.floor(rnd() * 9) - 4, 1 + Math.floor(rnd() * 20)));
      }
      await send(reqs);
      await sleep(50);
    }
    assert.ok(sentUnfunded > 0);

    // Trades between funded signed orders only; the unfunded trader never reached a book.
    const healthy = (): void => {
      if (failures.length > 0) throw new Error(`a service stopped: ${String(failures[0])}`);
    };
    const groups = [...[risk.inputs.requests, risk.inputs.chainEvents, risk.inputs.accountEvents].map((topic) => [topic, risk.groupId] as const), [topics.orders, engineConfig.groupId] as const];
    await waitDrained(t, groups, 'risk and engine', { everyMs: 50, healthy });
    const signedTraders = new Set<string>();
    for (let p = 0; p < P; p++) for await (const chunk of t.read(topics.signedOrders, p, 0)) for (const m of chunk) for (const o of decodeSignedOrderBatch(m.value).orders) signedTraders.add(o.trader.toLowerCase());
    assert.equal(signedTraders.has(unfunded.address.toLowerCase()), false, 'an unfunded order was forwarded');
    assert.ok((shards.counters.rejected.get('INSUFFICIENT_FUNDS') ?? 0) >= sentUnfunded, `refusals: ${JSON.stringify([...shards.counters.rejected])}`);
    let trades = 0;
    for (let p = 0; p < P; p++) {
      for await (const chunk of t.read(topics.marketEvents, p, 0)) {
        for (const m of chunk) for (const e of decodeEventBatchEvents(decodeEventBatch(m.value))) if (e.type === 'trade') trades++;
      }
    }
    assert.ok(trades >= 10, `only ${trades} trades`);

    // Every trade settles: count the fills the chain applied and skipped.
    const onChain = await waitFor('every trade settled on chain', async () => {
      healthy();
      const f = await fillsOnChain(lc);
      return f.settled + f.skipped >= trades ? f : undefined;
    }, 300_000);
    assert.deepEqual(onChain, { settled: trades, skipped: 0 }, 'no fill skipped for lack of funds');
    assert.deepEqual(await settlement.repo.failedFills(), [], 'no fill failed (FillUnderfunded or otherwise)');

    // The settled amounts come back through the watcher: the ledger's on-chain view equals balanceOf.
    await waitFor('the ledger to agree with the contract', async () => {
      healthy();
      for (const a of traders) for (const token of [BASE, QUOTE]) if (ledgerOf(a.address, token).onchain !== (await balanceOf(lc, a.address, token))) return undefined;
      return true;
    }, 120_000);
    for (const a of traders) {
      for (const token of [BASE, QUOTE]) {
        const b = ledgerOf(a.address, token);
        assert.equal(b.unsettledIn, 0n);
        assert.equal(b.unsettledOut, 0n);
        assert.equal(b.feesOwed, 0n);
      }
    }
    assert.equal(await balanceOf(lc, withdrawer.address, QUOTE), 0n, 'the withdrawal was paid in full');
    assert.equal(ledgerOf(withdrawer.address, QUOTE).available + ledgerOf(withdrawer.address, QUOTE).heldWithdrawals, 0n);
    assert.equal(shards.counters.rejected.get('SETTLEMENT_MISMATCH') ?? 0, 0);
    assert.equal(shards.counters.rejected.get('WITHDRAWAL_NOT_COVERED') ?? 0, 0);
    for (const e of engines()) assert.deepEqual(e.checkInvariants(), []);

    // Every settled fill paid its maker the rebate out of its taker's fee, with the contract's rounding, and
    // the fee recipient got exactly Σ fees - Σ rebates; the shards' fee totals say the same.
    let feesCharged = 0n;
    let rebatesPaid = 0n;
    for (const l of await lc.publicClient.getContractEvents({ address: lc.settlement, abi: settlementAbi, eventName: 'FillsSettled', fromBlock: 1n })) {
      for (const f of decodeFillsSettled(l.args.tokens!, l.args.fills!)) {
        // The taker's side is the fee (>= 0), the maker's the rebate (<= 0; 0 when it rounds to nothing).
        const [fee, rebate] = f.buyFee >= f.sellFee ? [f.buyFee, -f.sellFee] : [f.sellFee, -f.buyFee];
        assert.equal(fee, feeAmount(f.quoteAmount, TAKER_FEE), 'the taker pays the taker fee');
        assert.equal(rebate, rebateAmount(f.quoteAmount, MAKER_FEE), 'the maker is paid the rebate');
        feesCharged += fee;
        rebatesPaid += rebate;
      }
    }
    assert.ok(rebatesPaid > 0n, 'rebates were paid');
    assert.equal(await balanceOf(lc, lc.feeRecipient, QUOTE), feeRecipientBefore + feesCharged - rebatesPaid);
    assert.equal(engines().reduce((sum, e) => sum + e.totals(QUOTE).fees, 0n), feesCharged - rebatesPaid);
    const metrics = await (await fetch(`${watcher.url}/metrics`)).text();
    for (const token of [BASE, QUOTE]) assert.match(metrics, new RegExp(`^parallax_reconciliation_drift_base_units\\{token="${token}"[^}]*\\} 0$`, 'm'));
    console.log(`funded settlement: ${trades} trades settled in full, ${sentUnfunded} unfunded orders refused at risk`);
  });
});

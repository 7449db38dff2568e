// Part 1: gas per fill against batch size, three trader scenarios, every batch through the service's
// BatchSettler (prepare = simulate + estimate, broadcast, checkConfirmation) on anvil with the EIP-7825
// per-transaction cap enforced. Every batch is verified: receipt success, lastBatchId + 1, BatchSettled's
// fillCount, and every internal balance it touched moved exactly as reconcile.ts's model says.
import {
  BatchSettler,
  MAX_TX_GAS,
  batchInputFor,
  encodeBatch,
  localTraderAccount,
  parseSettlementEvents,
  settlementAbi,
  type BatchInput,
  type SettlementMarket,
} from '@parallax/chain';
import type { SignedOrderRecord } from '@parallax/contracts';
import type { LocalAccount } from 'viem';
import { signedOrderOf, toOrderRecord } from '../domain/records.js';
import type { SettlementTrade } from '../domain/trades.js';
import type { LocalSettlementChain } from '../local/local-settlement.js';
import { expectedDeltas } from '../testing/reconcile.js';
import { flowOrderKey, signedOrderFlow } from '../testing/signed-flow.js';
import { balanceReader, CENTER_TICKS, FEES, fundMany, MAX_FEE_RATE_SIGNED, OrderSigner } from './fixtures.js';
import { matchBatches } from './match.js';

export type ScenarioName = 'new' | 'repeat' | 'flow';

export const SCENARIO_LABELS: Record<ScenarioName, string> = {
  new: 'a. new traders (two never-seen traders per fill)',
  repeat: 'b. repeat traders, fresh orders (10 buyers x 10 sellers, warm)',
  flow: 'c. repeat traders, real matched flow (signedOrderFlow + OrderBook)',
};

export interface GasRow {
  readonly scenario: ScenarioName;
  /** Requested batch size, or 'max' for the largest that fits under the cap. */
  readonly size: string;
  readonly fills: number;
  readonly orders: number;
  /** Transactions the settler needed (1 unless the batch did not fit under the cap). */
  readonly txs: number;
  readonly gasUsed: number;
  readonly gasPerFill: number;
  /** gasPerFill / gas of the 1-fill batch of the same scenario. */
  readonly ratio: number;
  readonly prepareMs: number;
  readonly broadcastMs: number;
}

export interface GasOptions {
  readonly sizes: readonly number[];
  readonly findMax: boolean;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface GasResult {
  readonly rows: GasRow[];
  readonly problems: string[];
  /** Orders signed, trades matched, commands of the flow of scenario c. */
  readonly flowStats: { orders: number; commands: number; trades: number };
}

interface Settled {
  readonly fills: number;
  readonly orders: number;
  readonly txs: number;
  readonly gasUsed: number;
  readonly prepareMs: number;
  readonly broadcastMs: number;
}

/** Where a scenario's next fills come from. */
interface FillSource {
  next(n: number): Promise<SettlementTrade[]>;
}

class Bench {
  readonly settler: BatchSettler;
  readonly markets: Map<number, SettlementMarket>;
  readonly orders = new Map<string, SignedOrderRecord>();
  readonly problems: string[] = [];
  private readonly balances: ReturnType<typeof balanceReader>;

  constructor(readonly local: LocalSettlementChain) {
    this.settler = new BatchSettler({ reader: local.chain.publicClient, operator: local.chain.operator }, local.chain.settlement, {
      confirmations: 1,
      pollIntervalMs: 10,
      replaceAfterMs: 60_000,
    });
    this.markets = new Map(local.markets.map((m) => [m.marketId, m]));
    this.balances = balanceReader(local);
  }

  input(trades: readonly SettlementTrade[]): BatchInput {
    return batchInputFor(
      this.local.chain.domain,
      (id) => this.markets.get(id),
      trades.map((t) => {
        const market = this.markets.get(t.marketId)!;
        const order = (id: number): SignedOrderRecord => {
          const o = this.orders.get(flowOrderKey(t.marketId, id));
          if (o === undefined) throw new Error(`no signed order ${t.marketId}/${id}`);
          return o;
        };
        return {
          marketId: t.marketId,
          trade: {
            makerOrder: signedOrderOf(market, toOrderRecord(t.marketId, order(t.makerOrderId))),
            takerOrder: signedOrderOf(market, toOrderRecord(t.marketId, order(t.takerOrderId))),
            takerIsBuy: t.takerSide === 'BUY',
            priceTicks: t.priceTicks,
            sizeLots: t.sizeLots,
          },
        };
      }),
      FEES,
    );
  }

  /** Gas estimate of settling `trades` as the next batch, or undefined if the node refuses (over the cap). */
  async estimate(trades: readonly SettlementTrade[]): Promise<bigint | undefined> {
    const { chain } = this.local;
    const batchId = (await this.settler.lastBatchId()) + 1n;
    const data = encodeBatch(this.input(trades)).data;
    try {
      return await chain.publicClient.estimateContractGas({
        address: chain.settlement,
        abi: settlementAbi,
        functionName: 'settleBatch',
        args: [batchId, data],
        account: chain.operator.account,
      });
    } catch {
      return undefined;
    }
  }

  /**
   * Settles `trades` the way the service does: prepare (simulate, trim, estimate; a batch over the cap has its
   * tail deferred), broadcast, confirm; again for any deferred tail. Verifies every transaction.
   */
  async settle(what: string, trades: readonly SettlementTrade[]): Promise<Settled> {
    let remaining = [...trades];
    const out = { fills: 0, orders: 0, txs: 0, gasUsed: 0, prepareMs: 0, broadcastMs: 0 };
    const { chain } = this.local;
    while (remaining.length > 0) {
      const before = await this.settler.lastBatchId();
      const batchId = before + 1n;
      const t0 = performance.now();
      const prepared = await this.settler.prepare(batchId, this.input(remaining));
      const t1 = performance.now();
      if (prepared.kind === 'empty' || prepared.excluded.length > 0) {
        const ex = prepared.excluded[0];
        this.problems.push(`${what}: the settler excluded ${prepared.excluded.length} fill(s)${ex === undefined ? '' : ` (${ex.reason}: ${ex.detail})`}`);
        return out;
      }
      const kept = prepared.kept.map((i) => remaining[i]!);
      const expected = expectedDeltas(kept, this.orders, this.markets, FEES, chain.feeRecipient);
      const keys = [...expected.deltas.keys()];
      const start = await this.balances(keys);
      const t2 = performance.now();
      const mined = await this.settler.broadcast(batchId, prepared.encoded.data, prepared.gasLimit, { beforeBroadcast: () => Promise.resolve() });
      const confirmation = await this.settler.checkConfirmation(mined);
      const t3 = performance.now();
      const receipt = await chain.publicClient.getTransactionReceipt({ hash: mined.hash });
      const after = await this.settler.lastBatchId();
      const settledLog = parseSettlementEvents(receipt.logs).find((e) => e.eventName === 'BatchSettled');
      const fillCount = settledLog?.eventName === 'BatchSettled' ? Number(settledLog.args.fillCount) : -1;
      const loggedId = settledLog?.eventName === 'BatchSettled' ? settledLog.args.batchId : -1n;
      const fail = (why: string): void => {
        this.problems.push(`${what}, batch ${batchId}: ${why}`);
      };
      if (mined.status !== 'success' || receipt.status !== 'success') fail(`receipt status ${receipt.status}`);
      if (confirmation !== 'confirmed') fail(`checkConfirmation said ${confirmation}`);
      if (after !== before + 1n) fail(`lastBatchId went ${before} -> ${after}`);
      if (loggedId !== batchId) fail(`BatchSettled batchId ${loggedId}`);
      if (fillCount !== kept.length) fail(`BatchSettled fillCount ${fillCount} != ${kept.length} fills`);
      if (receipt.gasUsed > MAX_TX_GAS) fail(`gas used ${receipt.gasUsed} over the cap`);
      const end = await this.balances(keys);
      let wrong = 0;
      for (const k of keys) if (end.get(k)! - start.get(k)! !== expected.deltas.get(k)!) wrong++;
      if (wrong > 0) fail(`${wrong} of ${keys.length} balances did not move as the model says`);
      out.fills += kept.length;
      out.orders += prepared.encoded.orders.length;
      out.txs += 1;
      out.gasUsed += Number(receipt.gasUsed);
      out.prepareMs += t1 - t0;
      out.broadcastMs += t3 - t2;
      remaining = prepared.deferred.map((i) => remaining[i]!);
    }
    return out;
  }
}

/** a. Every fill between two traders never seen before: each pays only what its side needs. */
function newTraders(b: Bench, signer: OrderSigner, seed: number): FillSource {
  const market = b.local.markets[0]!;
  let accountId = 0;
  let i = 0;
  return {
    async next(n) {
      const pairs: { buyer: LocalAccount; seller: LocalAccount; buyerId: number; sellerId: number }[] = [];
      for (let k = 0; k < n; k++) {
        const buyerId = ++accountId;
        const sellerId = ++accountId;
        pairs.push({ buyer: localTraderAccount(`settlement-bench-new-${seed}`, buyerId), seller: localTraderAccount(`settlement-bench-new-${seed}`, sellerId), buyerId, sellerId });
      }
      await fundMany(
        b.local,
        pairs.flatMap((p) => [
          { trader: p.buyer.address, token: market.quoteToken, amount: 10n ** 8n },
          { trader: p.seller.address, token: market.baseToken, amount: 10n ** 16n },
        ]),
      );
      const trades: SettlementTrade[] = [];
      for (const p of pairs) {
        const priceTicks = CENTER_TICKS + (i % 7);
        const buy = await signer.order(market, p.buyer, p.buyerId, { isBuy: true, priceTicks, sizeLots: 1, nonce: 1n }, b.orders);
        const sell = await signer.order(market, p.seller, p.sellerId, { isBuy: false, priceTicks, sizeLots: 1, nonce: 1n }, b.orders);
        trades.push(signer.trade(market, buy, sell, i % 2 === 0 ? 'BUY' : 'SELL', priceTicks, 1));
        i++;
      }
      return trades;
    },
  };
}

/** b. 10 buyers x 10 sellers; fill i pairs buyer i mod 10 with seller (i + i div 10) mod 10, fresh orders each. */
async function repeatTraders(b: Bench, signer: OrderSigner, seed: number): Promise<FillSource> {
  const market = b.local.markets[0]!;
  const buyers = Array.from({ length: 10 }, (_, k) => ({ id: k + 1, account: localTraderAccount(`settlement-bench-repeat-${seed}`, k + 1), nonce: 0n }));
  const sellers = Array.from({ length: 10 }, (_, k) => ({ id: k + 11, account: localTraderAccount(`settlement-bench-repeat-${seed}`, k + 11), nonce: 0n }));
  await fundMany(
    b.local,
    [...buyers, ...sellers].flatMap((t) => [
      { trader: t.account.address, token: market.quoteToken, amount: 10n ** 15n },
      { trader: t.account.address, token: market.baseToken, amount: 10n ** 24n },
    ]),
  );
  let i = 0;
  return {
    async next(n) {
      const trades: SettlementTrade[] = [];
      for (let k = 0; k < n; k++, i++) {
        const buyer = buyers[i % 10]!;
        const seller = sellers[(i + Math.floor(i / 10)) % 10]!;
        const priceTicks = CENTER_TICKS + (i % 7);
        // Each trader signs with its own increasing nonce, as a wallet would: 128 orders share a nonce word.
        const buy = await signer.order(market, buyer.account, buyer.id, { isBuy: true, priceTicks, sizeLots: 1, nonce: ++buyer.nonce }, b.orders);
        const sell = await signer.order(market, seller.account, seller.id, { isBuy: false, priceTicks, sizeLots: 1, nonce: ++seller.nonce }, b.orders);
        trades.push(signer.trade(market, buy, sell, i % 2 === 0 ? 'BUY' : 'SELL', priceTicks, 1));
      }
      return trades;
    },
  };
}

/** c. A seeded signed flow matched in-process: consecutive runs of the trades an engine would emit. */
async function matchedFlow(b: Bench, seed: number, orders: number): Promise<{ source: FillSource; stats: GasResult['flowStats'] }> {
  const flow = await signedOrderFlow({
    seed,
    domain: b.local.chain.domain,
    markets: b.local.markets,
    traders: 20,
    traderSeed: `settlement-bench-flow-${seed}`,
    orders,
    commandsPerMessage: 5,
    centerTicks: CENTER_TICKS,
    expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400),
    // The whole flow is signed up front and settled over the next minutes (a gateway signs each order as it is
    // placed): date the signatures an hour ahead so IOC and market orders' 300 s fill deadline outlasts the run.
    now: BigInt(Math.floor(Date.now() / 1000) + 3_600),
    maxFeeRate: MAX_FEE_RATE_SIGNED,
    // Ids apart from the orders scenarios a and b sign (OrderSigner counts from 1).
    firstOrderId: 100_000_000,
  });
  for (const [k, o] of flow.orders) b.orders.set(k, o);
  const tokens = [...new Set(b.local.markets.flatMap((m) => [m.baseToken, m.quoteToken]))];
  const big = (t: string): bigint => (t === b.local.markets[0]!.baseToken ? 10n ** 24n : t === b.local.markets[1]?.baseToken ? 10n ** 16n : 10n ** 15n);
  await fundMany(
    b.local,
    [...flow.traders.values()].flatMap((a) => tokens.map((token) => ({ trader: a.address, token, amount: big(token) }))),
  );
  const matched = matchBatches(
    flow.messages.map((m) => m.commands),
    b.local.markets.length,
    2,
  );
  let at = 0;
  return {
    stats: { orders: flow.orders.size, commands: matched.commands, trades: matched.trades.length },
    source: {
      next(n) {
        const slice = matched.trades.slice(at, at + n);
        at += slice.length;
        return Promise.resolve(slice);
      },
    },
  };
}

export async function runGasScenarios(local: LocalSettlementChain, o: GasOptions): Promise<GasResult> {
  const b = new Bench(local);
  const signer = new OrderSigner(local.chain.domain, BigInt(Math.floor(Date.now() / 1000) + 86_400));
  const rows: GasRow[] = [];
  const maxSize = Math.max(...o.sizes);
  // Enough flow for a warm-up batch, every size and the largest batch under the cap (~1,000 fills).
  const flowOrders = Math.ceil((100 + o.sizes.reduce((s, x) => s + x, 0) + (o.findMax ? 1_500 : 0)) * 2.2);
  const flow = await matchedFlow(b, o.seed, flowOrders);
  const sources: Record<ScenarioName, FillSource> = {
    new: newTraders(b, signer, o.seed),
    repeat: await repeatTraders(b, signer, o.seed),
    flow: flow.source,
  };
  for (const scenario of ['new', 'repeat', 'flow'] as const) {
    const src = sources[scenario];
    const label = SCENARIO_LABELS[scenario];
    if (scenario !== 'new') {
      // Warm-up: every trader has traded once (balances and nonce words exist), as in the steady state.
      const warm = await src.next(Math.min(100, maxSize));
      await b.settle(`${scenario} warm-up`, warm);
    }
    let one = 0;
    const add = (size: string, s: Settled): void => {
      if (size === '1') one = s.gasUsed;
      const gasPerFill = s.fills === 0 ? 0 : s.gasUsed / s.fills;
      rows.push({ scenario, size, ...s, gasPerFill, ratio: one === 0 ? 0 : gasPerFill / one });
      o.log(
        `  ${scenario} ${size}: ${s.fills} fills, ${s.orders} orders, ${s.txs} tx, ${s.gasUsed.toLocaleString('en')} gas, ` +
          `${Math.round(gasPerFill).toLocaleString('en')}/fill (${(one === 0 ? 0 : gasPerFill / one).toFixed(3)} of 1 fill)`,
      );
    };
    o.log(`${label}:`);
    for (const n of o.sizes) {
      const trades = await src.next(n);
      if (trades.length < n) {
        b.problems.push(`${scenario}: the flow ran out of trades (${trades.length} of ${n})`);
        break;
      }
      add(String(n), await b.settle(`${scenario} ${n}`, trades));
    }
    if (o.findMax) {
      const found = await findMax(b, src, rows.filter((r) => r.scenario === scenario && r.txs === 1), o.log);
      if (found !== undefined) add(found.exact ? 'max' : 'max (>=)', await b.settle(`${scenario} max`, found.trades));
    }
  }
  return { rows, problems: b.problems, flowStats: flow.stats };
}

/**
 * The largest batch the settler would send in one transaction: a linear guess from the two largest batches
 * that fitted, then a binary search over prefixes of fresh fills by the node's gas estimate (what the settler
 * checks against the cap).
 */
async function findMax(b: Bench, src: FillSource, fitted: readonly GasRow[], log: (l: string) => void): Promise<{ trades: SettlementTrade[]; exact: boolean } | undefined> {
  const [p, q] = [...fitted].sort((x, y) => y.fills - x.fills);
  if (p === undefined || q === undefined || p.fills === q.fills) return undefined;
  const marginal = (p.gasUsed - q.gasUsed) / (p.fills - q.fills);
  const fixed = p.gasUsed - marginal * p.fills;
  const guess = Math.floor((Number(MAX_TX_GAS) - fixed) / marginal);
  const pool = await src.next(Math.ceil(guess * 1.12) + 5);
  const fits = async (n: number): Promise<boolean> => {
    const g = await b.estimate(pool.slice(0, n));
    return g !== undefined && g <= MAX_TX_GAS;
  };
  if (await fits(pool.length)) {
    log(`  largest batch: all ${pool.length} fills of the pool fit (lower bound)`);
    return { trades: pool, exact: false };
  }
  let lo = Math.min(p.fills, pool.length - 1);
  if (!(await fits(lo))) lo = 1;
  let hi = pool.length; // does not fit
  let probes = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await fits(mid)) lo = mid;
    else hi = mid;
    probes++;
  }
  log(`  largest batch under ${MAX_TX_GAS.toLocaleString('en')} gas: ${lo} fills (guess ${guess}, ${probes} estimates)`);
  return { trades: pool.slice(0, lo), exact: true };
}

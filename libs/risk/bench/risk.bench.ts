// Risk engine micro-benchmark: the cost of one account shard's engine per order, on a seeded flow.
//
//   npm run bench:risk                        500k orders, writes the bench:risk section of docs/benchmarks.md
//   node libs/risk/dist/bench/risk.bench.js --smoke      20k orders, checks only, leaves the docs alone
//   options: --orders N  --accounts N  --markets N  --seed S  --runs N (default 5)  --no-docs
//
// Generation (untimed): requests go through a SingleProcessExchange (one shard, real order books), which
// records the shard's input log: requests, and the book events of its orders. Timed: a fresh engine
// replays that log, as an account shard consumes its partitions. Verified: each timed engine must end with
// the recorded run's state hash, and every invariant (conservation to the base unit, holds == open orders'
// cost, no negative field) must hold. A second timed pass applies the place requests alone (no book
// reports): the check-and-hold cost per order. Exits non-zero if anything disagrees.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { OrderType, TimeInForce } from '@parallax/order-book';
import { RiskEngine } from '../engine/risk-engine.js';
import type { Address, RiskCommand, RiskMarket } from '../engine/types.js';
import { accountAddress, placeRequest, QUOTE, testMarket } from '../testing/fixtures.js';
import { SingleProcessExchange, type FlowEntry } from '../testing/single-process.js';

const REGION_START = '<!-- bench:risk:start -->';
const REGION_END = '<!-- bench:risk:end -->';
const DOCS = fileURLToPath(new URL('../../../../docs/benchmarks.md', import.meta.url));
const TARGET_ORDERS_PER_SEC = 1_000_000;

interface Options {
  orders: number;
  accounts: number;
  markets: number;
  seed: number;
  runs: number;
  smoke: boolean;
  docs: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { orders: 500_000, accounts: 10_000, markets: 10, seed: 20261202, runs: 5, smoke: false, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number((argv[++i] ?? '').replace(/[_,]/g, ''));
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--orders') o.orders = num();
    else if (a === '--accounts') o.accounts = num();
    else if (a === '--markets') o.markets = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--smoke') {
      o.smoke = true;
      o.docs = false;
      o.orders = 20_000;
      o.accounts = 500;
      o.runs = 2;
    } else if (a === '--no-docs') o.docs = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** mulberry32: a small seeded PRNG (deterministic workload). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  readonly markets: RiskMarket[];
  readonly log: FlowEntry[];
  readonly places: RiskCommand[];
  readonly deposits: RiskCommand[];
  readonly expectedHash: string;
  readonly counts: { places: number; accepted: number; refused: number; cancels: number; trades: number; bookEvents: number; eventBatches: number };
}

function generate(o: Options): Workload {
  const rnd = prng(o.seed);
  const markets = Array.from({ length: o.markets }, (_, i) => testMarket(i + 1, { maker: -50, taker: 300 }));
  const x = new SingleProcessExchange({ shards: 1, markets });
  const accounts: Address[] = Array.from({ length: o.accounts }, (_, i) => accountAddress(i + 1));
  const deposits: RiskCommand[] = [];
  for (const a of accounts) {
    deposits.push({ type: 'deposit', account: a, token: QUOTE, amount: 10n ** 12n });
    for (const m of markets) deposits.push({ type: 'deposit', account: a, token: m.baseToken, amount: 10n ** 21n });
  }
  const log = x.record();
  for (const d of deposits) x.submit(d);
  const nonces = new Map<Address, bigint>();
  const recent: { account: Address; orderId: number }[] = [];
  const places: RiskCommand[] = [];
  let accepted = 0;
  let refused = 0;
  let cancels = 0;
  let ts = 1;
  for (let i = 0; i < o.orders; i++) {
    ts++;
    if (recent.length > 0 && rnd() < 0.25) {
      const k = Math.floor(rnd() * recent.length);
      const { account, orderId } = recent[k]!;
      recent[k] = recent[recent.length - 1]!;
      recent.pop();
      x.submit({ type: 'cancel', ts, account, signer: account, orderId });
      cancels++;
    }
    const account = accounts[Math.floor(rnd() * accounts.length)]!;
    const m = markets[Math.floor(rnd() * markets.length)]!;
    const nonce = (nonces.get(account) ?? 0n) + 1n;
    nonces.set(account, nonce);
    const isBuy = rnd() < 0.5;
    const ioc = rnd() < 0.1;
    const req = placeRequest(account, m, {
      ts,
      isBuy,
      priceTicks: 10_000 + Math.floor(rnd() * 11) - 5 + (isBuy ? -1 : 1),
      lots: 1 + Math.floor(rnd() * 10),
      orderType: OrderType.Limit,
      tif: ioc ? TimeInForce.IOC : TimeInForce.GTC,
      nonce,
    });
    places.push(req);
    const out = x.submit(req);
    if (out.ok) {
      accepted++;
      if (!ioc && out.place !== null) recent.push({ account, orderId: out.place.command.orderId });
      if (recent.length > 20_000) recent.shift();
    } else refused++;
  }
  const broken = x.checkInvariants();
  if (broken.length > 0 || x.violations.length > 0) throw new Error(`generation broke invariants: ${[...broken, ...x.violations.map((v) => v.message)].slice(0, 3).join('; ')}`);
  let bookEvents = 0;
  let eventBatches = 0;
  for (const e of log) {
    if (e.kind === 'events') {
      bookEvents += e.events.length;
      eventBatches++;
    }
  }
  return {
    markets,
    log,
    places,
    deposits,
    expectedHash: x.engines[0]!.stateHash(),
    counts: { places: o.orders, accepted, refused, cancels, trades: x.trades.length, bookEvents, eventBatches },
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const started = new Date();
  const load = loadavg()[0]!;
  const g0 = performance.now();
  const w = generate(o);
  const generationMs = performance.now() - g0;
  const config = { shard: 0, shards: 1, markets: w.markets };
  const requestsInLog = w.log.filter((e) => e.kind === 'request').length;
  const checks: string[] = [];

  // Full path: requests and book reports, as the shard consumes them.
  const full: number[] = [];
  const fullCpu: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const e = new RiskEngine(config);
    const c0 = cpuMs();
    const t0 = performance.now();
    for (const entry of w.log) {
      if (entry.kind === 'request') e.apply(entry.command);
      else e.applyBookEvents(entry.marketId, entry.events);
    }
    const ms = performance.now() - t0;
    const cms = cpuMs() - c0;
    const hash = e.stateHash();
    if (hash !== w.expectedHash) throw new Error(`run ${r}: state hash ${hash} != recorded ${w.expectedHash}`);
    const broken = e.checkInvariants();
    if (broken.length > 0) throw new Error(`run ${r}: ${broken.slice(0, 3).join('; ')}`);
    full.push((w.counts.places * 1000) / ms);
    fullCpu.push((w.counts.places * 1000) / cms);
  }
  checks.push(`every timed run ended with the recorded state hash ${w.expectedHash} and all invariants holding`);

  // Place requests alone: validation against the signed order, hold, forward (no book reports).
  const placeOnly: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const e = new RiskEngine(config);
    for (const d of w.deposits) e.apply(d);
    let ok = 0;
    const t0 = performance.now();
    for (const p of w.places) if (e.apply(p).ok) ok++;
    const ms = performance.now() - t0;
    if (ok === 0 || e.checkInvariants().length > 0) throw new Error(`place-only run ${r}: ${ok} accepted, ${e.checkInvariants().slice(0, 2).join('; ')}`);
    placeOnly.push((w.places.length * 1000) / ms);
  }
  checks.push('every place-only run accepted orders and kept every invariant');

  const fullMedian = median(full);
  const met = fullMedian >= TARGET_ORDERS_PER_SEC;
  const lines = [
    `risk engine, one shard, one thread: ${fmt(w.counts.places)} orders (${fmt(w.counts.accepted)} accepted, ${fmt(w.counts.refused)} refused), ${fmt(w.counts.cancels)} cancels, ${fmt(w.counts.trades)} trades`,
    `  full path (requests + account events): median ${fmt(fullMedian)} orders/s (${(1e9 / fullMedian).toFixed(0)} ns/order), per CPU second ${fmt(median(fullCpu))}; runs ${full.map(fmt).join(', ')}`,
    `  place requests alone: median ${fmt(median(placeOnly))} orders/s (${(1e9 / median(placeOnly)).toFixed(0)} ns/order)`,
    `  target >= ${fmt(TARGET_ORDERS_PER_SEC)} orders/s on the full path: ${met ? 'met' : 'NOT met'}`,
  ];
  console.log(lines.join('\n'));
  for (const c of checks) console.log(`  check: ${c}`);
  if (!o.docs) return;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const body = [
    '## Risk engine (`npm run bench:risk`)',
    '',
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${cpus().length} cores, load ${load.toFixed(2)} at start), Node ${process.version}. Generated by \`libs/risk/bench/risk.bench.ts\`.`,
    '',
    `Workload (seed ${o.seed}): one account shard, ${fmt(o.accounts)} funded accounts, ${o.markets} markets (maker −0.005% rebate, taker 0.03%), ${fmt(w.counts.places)} signed limit orders (10% IOC) around one price, a cancel of a random open order before 25% of them. Generation ran them through real order books (${(generationMs / 1000).toFixed(1)} s, untimed) and recorded the shard's input: ${fmt(requestsInLog)} requests and ${fmt(w.counts.eventBatches)} batches of ${fmt(w.counts.bookEvents)} book events (${fmt(w.counts.trades)} trades).`,
    '',
    '| measure | orders/s (median) | ns per order | timed runs |',
    '|---|---:|---:|---|',
    `| full path: requests + the books' reports (holds, fills, fees, releases) | ${fmt(fullMedian)} | ${(1e9 / fullMedian).toFixed(0)} | ${full.map(fmt).join(', ')} |`,
    `| full path, per CPU second | ${fmt(median(fullCpu))} | ${(1e9 / median(fullCpu)).toFixed(0)} | |`,
    `| place requests alone (checks against the signed order + hold) | ${fmt(median(placeOnly))} | ${(1e9 / median(placeOnly)).toFixed(0)} | ${placeOnly.map(fmt).join(', ')} |`,
    '',
    `Target: the risk engine alone ≥ ${fmt(TARGET_ORDERS_PER_SEC)} orders/s on one core (full path): **${met ? 'met' : 'not met'}**.`,
    '',
    'Verified: ' + checks.join('; ') + '.',
    '',
    'Reproduce: `npm run bench:risk` (writes this section), `node libs/risk/dist/bench/risk.bench.js --smoke` (20k orders, checks only), options `--orders N --accounts N --markets N --seed S --runs N --no-docs`.',
  ].join('\n');
  const doc = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : '# Benchmarks\n';
  const region = `${REGION_START}\n${body}\n${REGION_END}`;
  const s = doc.indexOf(REGION_START);
  const e = doc.indexOf(REGION_END);
  writeFileSync(DOCS, s >= 0 && e > s ? doc.slice(0, s) + region + doc.slice(e + REGION_END.length) : `${doc.trimEnd()}\n\n${region}\n`);
  console.log(`wrote ${DOCS}`);
}

main();

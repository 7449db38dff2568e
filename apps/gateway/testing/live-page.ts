// Test support: the live page at / in a real browser (Debian's chromium, headless, driven by playwright-core),
// for the page's own test and for any end-to-end test of a running exchange (`npm start`). It reads what a
// person sees: the rendered book, trades and settlement rows, and it collects every console error, page error
// and failed request, so a test can assert the page works and stayed clean.
import { chromium, type Browser, type Page } from 'playwright-core';
import { until } from './until.js';

/** Flags measured to run Debian's chromium headless here (as root, no GPU, nothing fetched from outside). */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PageBook {
  readonly asks: readonly (readonly [string, string])[];
  readonly bids: readonly (readonly [string, string])[];
  /** "book sequence N · checksum verified" */
  readonly footnote: string;
}

export interface PageTrade {
  readonly id: string;
  readonly price: string;
  readonly amount: string;
  readonly side: 'buy' | 'sell';
  /** Arrived on the live stream (not the history loaded with the page). */
  readonly live: boolean;
}

export interface PageBatch {
  readonly batchId: string;
  readonly status: string;
  readonly fills: string;
  readonly gasPerFill: string;
  readonly txHash: string;
  /** What the row shows of the hash. */
  readonly txText: string;
}

export interface LivePage {
  readonly page: Page;
  /** Console errors, uncaught page errors, failed requests and HTTP errors seen so far. */
  readonly problems: readonly string[];
  /** Waits until both sides of the selected market's book are shown; `until` may demand more. */
  book(until?: (b: PageBook) => boolean, timeoutMs?: number): Promise<PageBook>;
  /** Waits until the trade list shows the trade with this id. */
  trade(id: string, timeoutMs?: number): Promise<PageTrade>;
  /** Waits until a trade arrives on the live stream (any trade, after the page loaded). */
  liveTrade(timeoutMs?: number): Promise<PageTrade>;
  /** Waits until a mined or confirmed batch with a transaction hash is shown (this one, if given). */
  settledBatch(txHash?: string, timeoutMs?: number): Promise<PageBatch>;
  /** The throughput tiles' text. */
  rates(): Promise<{ orders: string; trades: string }>;
  /** What loading cost: ms from navigation start to the load event, and the files and bytes fetched. */
  loadCost(): Promise<{ loadMs: number; files: number; bytes: number }>;
  selectMarket(symbol: string): Promise<void>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** Default /usr/bin/chromium (Debian's package). */
  readonly executablePath?: string;
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** Opens `url` (the gateway's base URL or the page's) in headless chromium and waits for the page to load. */
export async function openPage(url: string, options: OpenPageOptions = {}): Promise<LivePage> {
  // Playwright gives every launch a fresh temporary profile (the --user-data-dir) and removes it on close.
  const browser: Browser = await chromium.launch({ executablePath: options.executablePath ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1440, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(new URL('/', url).href, { waitUntil: 'load' });
    return livePage(browser, page, problems);
  } catch (err) {
    await browser.close();
    throw err;
  }
}

// What the page shows, read in the page (plain JavaScript run by the browser: this package has no DOM types).
const READ_BOOK = `(() => {
  const levels = (id) => [...document.querySelectorAll('#' + id + ' li.level')].map((li) => [li.querySelector('.price').textContent, li.querySelector('.amount').textContent]);
  return { asks: levels('asks'), bids: levels('bids'), footnote: document.getElementById('book-seq').textContent };
})()`;
const readTrade = (id: string | undefined): string => `(() => {
  const wanted = ${JSON.stringify(id ?? null)};
  const li = [...document.querySelectorAll('#trades li.trade')].find((e) => (wanted === null ? e.classList.contains('fresh') : e.dataset.tradeId === wanted));
  if (li === undefined) return null;
  return { id: li.dataset.tradeId, price: li.querySelector('.price').textContent, amount: li.querySelector('.amount').textContent,
    side: li.classList.contains('buy') ? 'buy' : 'sell', live: li.classList.contains('fresh') };
})()`;
const readSettled = (txHash: string | undefined): string => `(() => {
  const wanted = ${JSON.stringify(txHash ?? null)};
  for (const row of document.querySelectorAll('#batches tr.batch')) {
    const status = row.dataset.status;
    const tx = row.querySelector('td.tx');
    const hash = tx.dataset.tx;
    if ((status !== 'mined' && status !== 'confirmed') || hash === undefined) continue;
    if (wanted !== null && hash !== wanted) continue;
    const cells = [...row.querySelectorAll('td')].map((td) => td.textContent);
    return { batchId: row.dataset.batchId, status, fills: cells[2], gasPerFill: cells[3], txHash: hash, txText: tx.textContent };
  }
  return null;
})()`;
const READ_LOAD_COST = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const files = performance.getEntriesByType('resource');
  const bytes = files.reduce((n, r) => n + r.encodedBodySize, nav.encodedBodySize);
  return { loadMs: Math.round(nav.loadEventEnd), files: files.length + 1, bytes };
})()`;
const READ_RATES = `({ orders: document.getElementById('orders-rate').textContent, trades: document.getElementById('trades-rate').textContent })`;

function livePage(browser: Browser, page: Page, problems: string[]): LivePage {
  const poll = async <T>(what: string, read: () => Promise<T | null>, timeoutMs: number): Promise<T> => {
    try {
      return await until(what, async () => (await read()) ?? undefined, timeoutMs);
    } catch (err) {
      throw new Error(`the page did not show ${what} within ${timeoutMs} ms (problems: ${problems.join('; ') || 'none'})`, { cause: err });
    }
  };
  return {
    page,
    problems,
    book: (until = () => true, timeoutMs = 30_000) =>
      poll('the book', async () => {
        const b = await page.evaluate<PageBook>(READ_BOOK);
        return b.asks.length > 0 && b.bids.length > 0 && until(b) ? b : null;
      }, timeoutMs),
    trade: (id, timeoutMs = 30_000) => poll(`trade ${id}`, () => page.evaluate<PageTrade | null>(readTrade(id)), timeoutMs),
    liveTrade: (timeoutMs = 30_000) => poll('a live trade', () => page.evaluate<PageTrade | null>(readTrade(undefined)), timeoutMs),
    settledBatch: (txHash, timeoutMs = 90_000) =>
      poll(txHash === undefined ? 'a settled batch' : `settled batch ${txHash}`, () => page.evaluate<PageBatch | null>(readSettled(txHash)), timeoutMs),
    rates: () => page.evaluate<{ orders: string; trades: string }>(READ_RATES),
    loadCost: () => page.evaluate<{ loadMs: number; files: number; bytes: number }>(READ_LOAD_COST),
    selectMarket: async (symbol) => {
      await page.click(`#markets button[data-market="${symbol}"]`);
    },
    screenshot: async (path) => {
      await page.screenshot({ path, fullPage: true });
    },
    close: () => browser.close(),
  };
}

export interface LiveTradingSeen {
  readonly book: PageBook;
  readonly trade: PageTrade;
  readonly batch: PageBatch;
  readonly loadCost: { readonly loadMs: number; readonly files: number; readonly bytes: number };
}

/**
 * The whole check for a running exchange with trading under way (e.g. `npm start` with its bots): the page at
 * `url` shows both sides of a book, a trade arriving live and a settled batch with its transaction hash, with no
 * console error, page error or failed request. Throws naming what it did not see; always closes the browser.
 */
export async function expectLiveTrading(url: string, options: OpenPageOptions & { readonly timeoutMs?: number; readonly screenshot?: string } = {}): Promise<LiveTradingSeen> {
  const page = await openPage(url, options);
  try {
    const timeoutMs = options.timeoutMs ?? 90_000;
    const book = await page.book(undefined, timeoutMs);
    const trade = await page.liveTrade(timeoutMs);
    const batch = await page.settledBatch(undefined, timeoutMs);
    if (options.screenshot !== undefined) await page.screenshot(options.screenshot);
    if (page.problems.length > 0) throw new Error(`the page reported problems: ${page.problems.join('; ')}`);
    return { book, trade, batch, loadCost: await page.loadCost() };
  } finally {
    await page.close();
  }
}

// The live page: a client of the public API only (REST under /v1, the WebSocket at /ws), like any bot.
// Book: the SDK's LocalBook (snapshot + diffs, sequence and checksum checked; resubscribes on a gap).
// Charts: lightweight-charts, served by the gateway from its own node_modules.
/* global document, window, fetch, WebSocket, requestAnimationFrame */
import { createChart, CandlestickSeries, HistogramSeries, LineSeries } from '/vendor/lightweight-charts/lightweight-charts.standalone.production.mjs';
import { LocalBook } from '/vendor/sdk/local-book.js';

const BOOK_ROWS = 12;
const TRADE_ROWS = 40;
const BATCH_ROWS = 15;

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};
const timeOf = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const intFmt = new Intl.NumberFormat('en-US');
const rateFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

const state = {
  markets: [],
  market: undefined,
  book: undefined,
  trades: [],
  batches: new Map(),
  socket: undefined,
  nextId: 1,
  retryMs: 500,
};

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body?.error?.code ?? res.status}`);
  return body;
}

// ---- charts
const chartOptions = (height) => ({
  height,
  autoSize: true,
  layout: { background: { color: 'transparent' }, textColor: '#9aa4b2', attributionLogo: false },
  grid: { vertLines: { color: '#1e2633' }, horzLines: { color: '#1e2633' } },
  timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2a3444' },
  rightPriceScale: { borderColor: '#2a3444' },
});
const candleChart = createChart($('candles'), chartOptions(260));
const candles = candleChart.addSeries(CandlestickSeries, { upColor: '#2ebd85', downColor: '#f6465d', wickUpColor: '#2ebd85', wickDownColor: '#f6465d', borderVisible: false });
const volume = candleChart.addSeries(HistogramSeries, { color: '#3b4a60', priceFormat: { type: 'volume' }, priceScaleId: '' });
volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
const rateChart = createChart($('throughput'), { ...chartOptions(140), timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#2a3444' } });
const perSecond = { type: 'price', precision: 0, minMove: 1 };
const ordersLine = rateChart.addSeries(LineSeries, { color: '#5b8def', lineWidth: 2, priceLineVisible: false, priceFormat: perSecond });
const tradesLine = rateChart.addSeries(LineSeries, { color: '#f0b90b', lineWidth: 2, priceLineVisible: false, priceFormat: perSecond });

let candleTimer;
async function loadCandles() {
  const market = state.market;
  if (!market) return;
  const { candles: rows } = await getJson(`/v1/markets/${encodeURIComponent(market)}/candles?interval=1m&limit=300`);
  if (market !== state.market) return;
  candles.setData(rows.map(([t, o, h, l, c]) => ({ time: t / 1000, open: Number(o), high: Number(h), low: Number(l), close: Number(c) })));
  volume.setData(rows.map(([t, o, , , c, v]) => ({ time: t / 1000, value: Number(v), color: Number(c) >= Number(o) ? '#1f5c45' : '#6b2a35' })));
}
/** Trades move the last candle: reload at most once a second rather than re-deriving candles here. */
function candlesSoon() {
  if (candleTimer !== undefined) return;
  candleTimer = window.setTimeout(() => {
    candleTimer = undefined;
    loadCandles().catch(showError);
  }, 1000);
}

// ---- book
function renderBook() {
  const book = state.book;
  const market = state.markets.find((m) => m.symbol === state.market);
  if (!book || !book.synced || !market) return;
  const { bids, asks } = book.top(BOOK_ROWS);
  const cumulative = (levels) => {
    let sum = 0;
    return levels.map(([p, a]) => [p, a, (sum += Number(a))]);
  };
  const b = cumulative(bids);
  const a = cumulative(asks);
  const max = Math.max(b.at(-1)?.[2] ?? 0, a.at(-1)?.[2] ?? 0) || 1;
  const rows = (levels, side) =>
    levels.map(([p, amount, total]) => {
      const li = el('li', `level ${side}`);
      li.dataset.price = p;
      li.style.setProperty('--depth', `${((total / max) * 100).toFixed(1)}%`);
      li.append(el('span', 'price', p), el('span', 'amount', amount), el('span', 'total', total.toFixed(market.lotSize.split('.')[1]?.length ?? 0)));
      return li;
    });
  $('asks').replaceChildren(...rows(a, 'ask').reverse());
  $('bids').replaceChildren(...rows(b, 'bid'));
  const bestBid = bids[0]?.[0];
  const bestAsk = asks[0]?.[0];
  $('spread').textContent =
    bestBid !== undefined && bestAsk !== undefined ? `spread ${(Number(bestAsk) - Number(bestBid)).toFixed(market.tickSize.split('.')[1]?.length ?? 0)}` : 'one side empty';
  $('book-seq').textContent = `book sequence ${book.seq} · checksum verified`;
}
let bookFrame = false;
const renderBookSoon = () => {
  if (bookFrame) return;
  bookFrame = true;
  requestAnimationFrame(() => {
    bookFrame = false;
    renderBook();
  });
};

// ---- trades
function addTrades(list, fresh) {
  const ol = $('trades');
  for (const t of list) {
    const li = el('li', `trade ${t.side}${fresh ? ' fresh' : ''}`);
    li.dataset.tradeId = t.id;
    li.append(el('span', 'price', t.price), el('span', 'amount', t.amount), el('span', 'time', timeOf(t.timestamp)));
    ol.prepend(li);
  }
  while (ol.children.length > TRADE_ROWS) ol.lastElementChild.remove();
  const last = list.at(-1);
  if (last) $('last-price').textContent = last.price;
}

// ---- settlement
function renderBatches() {
  const rows = [...state.batches.values()].sort((x, y) => (BigInt(y.batchId) > BigInt(x.batchId) ? 1 : -1)).slice(0, BATCH_ROWS);
  const body = $('batches');
  if (rows.length === 0) return;
  body.replaceChildren(
    ...rows.map((b) => {
      const tr = el('tr', `batch ${b.status}`);
      tr.dataset.batchId = b.batchId;
      tr.dataset.status = b.status;
      const tx = el('td', 'tx');
      if (b.txHash) {
        tx.dataset.tx = b.txHash;
        tx.title = b.txHash;
        tx.textContent = `${b.txHash.slice(0, 10)}…${b.txHash.slice(-8)}`;
      } else tx.textContent = '–';
      tr.append(
        el('td', 'id', `#${b.batchId}`),
        el('td', 'status', b.status),
        el('td', 'num', intFmt.format(b.fillCount)),
        el('td', 'num gas-per-fill', b.gasPerFill ? intFmt.format(Number(b.gasPerFill)) : '–'),
        el('td', 'num', b.gasUsed ? intFmt.format(Number(b.gasUsed)) : '–'),
        el('td', 'num', b.blockNumber ?? '–'),
        tx,
        el('td', 'time', timeOf(b.updatedAt)),
      );
      return tr;
    }),
  );
  let settled = 0;
  for (const b of state.batches.values()) if (b.status === 'mined' || b.status === 'confirmed') settled += b.fillCount;
  $('settled-fills').textContent = intFmt.format(settled);
}

// ---- stats
function renderStats(s) {
  $('orders-rate').textContent = rateFmt.format(s.ordersPerSecond);
  $('trades-rate').textContent = rateFmt.format(s.tradesPerSecond);
  ordersLine.setData(s.series.map(([t, o]) => ({ time: t / 1000, value: o })));
  tradesLine.setData(s.series.map(([t, , tr]) => ({ time: t / 1000, value: tr })));
}

// ---- WebSocket
function send(msg) {
  const ws = state.socket;
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ...msg, id: state.nextId++ }));
}
function subscribeMarket(market) {
  state.book = new LocalBook(market);
  send({ op: 'subscribe', channel: 'book', market });
  send({ op: 'subscribe', channel: 'trades', market });
}
function resyncBook() {
  send({ op: 'unsubscribe', channel: 'book', market: state.market });
  send({ op: 'subscribe', channel: 'book', market: state.market });
}

function onMessage(msg) {
  switch (msg.event) {
    case 'book': {
      if (msg.market !== state.market || !state.book) return;
      const result = msg.type === 'snapshot' ? state.book.reset(msg) : state.book.apply(msg);
      if (result === 'ok') renderBookSoon();
      else resyncBook();
      return;
    }
    case 'trades':
      if (msg.market !== state.market) return;
      addTrades(msg.trades, true);
      candlesSoon();
      return;
    case 'stats':
      renderStats(msg);
      return;
    case 'settlement':
      for (const b of msg.type === 'snapshot' ? msg.batches : [msg.batch]) state.batches.set(b.batchId, b);
      renderBatches();
      return;
    case 'error':
      showError(new Error(`${msg.error.code}: ${msg.error.message}`));
      return;
    default:
  }
}

function setConnection(s, text) {
  const c = $('connection');
  c.dataset.state = s;
  c.textContent = text;
}

function connect() {
  const ws = new WebSocket(`${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/ws`);
  state.socket = ws;
  ws.addEventListener('open', () => {
    state.retryMs = 500;
    setConnection('live', 'live');
    send({ op: 'subscribe', channel: 'stats' });
    send({ op: 'subscribe', channel: 'settlement' });
    if (state.market) subscribeMarket(state.market);
  });
  ws.addEventListener('message', (e) => {
    onMessage(JSON.parse(e.data));
  });
  ws.addEventListener('close', () => {
    setConnection('down', `reconnecting in ${Math.round(state.retryMs / 1000)} s`);
    window.setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10_000);
  });
}

// ---- markets
async function selectMarket(symbol) {
  if (state.market === symbol) return;
  if (state.market) {
    send({ op: 'unsubscribe', channel: 'book', market: state.market });
    send({ op: 'unsubscribe', channel: 'trades', market: state.market });
  }
  state.market = symbol;
  window.history.replaceState(null, '', `#${symbol}`);
  for (const b of $('markets').children) b.setAttribute('aria-current', String(b.dataset.market === symbol));
  const m = state.markets.find((x) => x.symbol === symbol);
  $('market-name').textContent = `${m.base} in ${m.quote}`;
  $('chart-title').textContent = `${symbol}, 1-minute candles`;
  $('asks').replaceChildren();
  $('bids').replaceChildren();
  $('trades').replaceChildren();
  $('last-price').textContent = '–';
  // History first, then the live channels: a live trade is never listed below an older one.
  const { trades } = await getJson(`/v1/markets/${encodeURIComponent(symbol)}/trades?limit=${TRADE_ROWS}`);
  if (state.market !== symbol) return;
  addTrades(trades, false);
  subscribeMarket(symbol);
  await loadCandles();
}

function showError(err) {
  $('connection').title = err.message;
}

async function main() {
  const { markets } = await getJson('/v1/markets');
  state.markets = markets;
  const nav = $('markets');
  for (const m of markets) {
    const b = el('button', 'market', m.symbol);
    b.type = 'button';
    b.dataset.market = m.symbol;
    b.addEventListener('click', () => {
      selectMarket(m.symbol).catch(showError);
    });
    nav.append(b);
  }
  const wanted = decodeURIComponent(window.location.hash.slice(1));
  connect();
  if (markets.length > 0) await selectMarket(markets.some((m) => m.symbol === wanted) ? wanted : markets[0].symbol);
  else $('market-name').textContent = 'no market is served';
}

main().catch(showError);

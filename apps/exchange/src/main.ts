// `npm start` runs this: the whole exchange on one machine (see exchange.ts), and with a local chain the demo:
// funded test accounts, the reference market maker and the taker bot (src/demo/). It shows progress as each
// part comes up, then one block with where everything is (src/demo/demo-screen.ts).
import { bootConfig, createLogger, isPrettyFormat } from '@parallax/observability';
import { demoAccounts, fundDemoAccounts, type DemoAccounts } from './demo/demo-accounts.js';
import { startDemoBots, type RunningDemoBots } from './demo/demo-bots.js';
import { demoMarkets } from './demo/demo-markets.js';
import { createScreen } from './demo/demo-screen.js';
import { botsEnabled, loadExchangeConfig } from './exchange.config.js';
import { startExchange, type RunningExchange } from './exchange.js';

const startedAt = performance.now();
const config = bootConfig('exchange', () => loadExchangeConfig());
const pretty = isPrettyFormat(config.LOG_FORMAT);
// In a terminal the progress lines and the block are the screen: the parts' info lines (every engine, the
// settlement service, the gateway, the bots) would bury them. An explicit LOG_LEVEL is always obeyed.
if (pretty && process.env['LOG_LEVEL'] === undefined) process.env['LOG_LEVEL'] = 'warn';
const logger = createLogger('exchange', pretty && process.env['LOG_LEVEL'] === 'warn' ? 'warn' : config.LOG_LEVEL, config.LOG_FORMAT);
const screen = createScreen(pretty, createLogger('exchange', config.LOG_LEVEL, config.LOG_FORMAT));
const markets = demoMarkets(config.MARKETS);
const bots = botsEnabled(config);

let exchange: RunningExchange | undefined;
let running: RunningDemoBots | undefined;
let stopping: Promise<void> | undefined;
let startup: Promise<void> = Promise.resolve();
/** Read through a call: a signal may set `stopping` while the startup awaits. */
const isStopping = (): boolean => stopping !== undefined;

/** First Ctrl-C (or SIGTERM): stop the bots (their quotes cancelled), then every part; a second one forces. */
function stop(reason: string, code: number): void {
  if (stopping !== undefined) {
    if (reason.startsWith('SIG')) {
      screen.note(`second signal (${reason}) while stopping: forcing the exit`, { reason, forced: true });
      // The exit hooks still kill anvil's process group; worker threads end with the process.
      process.exit(130);
    }
    return;
  }
  screen.note(`stopping (${reason}); Ctrl-C again forces`, { reason });
  stopping = (async () => {
    // A Ctrl-C while starting: let the part being started finish, then stop everything that is up.
    await startup.catch(() => undefined);
    await running?.close().catch((err: unknown) => {
      logger.warn({ err }, 'the bots did not stop cleanly');
    });
    await exchange?.close();
  })();
  void stopping.finally(() => {
    screen.note('stopped', { reason });
    process.exit(code);
  });
}
// SIGHUP: the terminal closed; stop the same way (Node's default would end the process without its exit hooks).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stop(signal, 0);
  });
}

startup = (async () => {
  exchange = await startExchange(config, logger, {
    markets,
    progress: (step, f) => {
      if (step === 'engines') {
        screen.step(
          f['threads'] === true
            ? `embedded log and ${String(f['engines'])} matching engines (worker threads, ${String(f['partitions'])} partitions)`
            : `${String(f['engines'])} matching engines on Kafka (processes)`,
          { step, ...f },
        );
      } else if (step === 'chain') screen.step(`local chain (anvil) with the settlement contract and test tokens deployed`, { step, ...f });
      else if (step === 'settlement') screen.step(`settlement service (${String(f['database'])})`, { step, ...f });
      else screen.step(`gateway: REST, WebSocket, the page`, { step, ...f });
    },
  });
  if (isStopping()) return;
  const ex = exchange;
  void ex.failed.then((err) => {
    logger.fatal({ err }, 'a component stopped');
    stop('component failure', 1);
  });

  let accounts: DemoAccounts | undefined;
  if (bots && ex.localChain !== undefined && !isStopping()) {
    accounts = demoAccounts();
    await fundDemoAccounts(ex.localChain, accounts);
    screen.step('demo accounts funded with test tokens, the market maker\'s trading key authorized on chain', {
      step: 'accounts',
      marketMaker: accounts.marketMaker.address,
      tradingKey: accounts.marketMakerTradingKey.address,
      taker: accounts.taker.address,
    });
    if (isStopping()) return;
    running = await startDemoBots(
      { gatewayUrl: ex.gatewayUrl, accounts, markets, takerRate: config.EXCHANGE_TAKER_RATE, levels: config.EXCHANGE_MM_LEVELS },
      logger,
    );
    screen.step(`market maker quoting ${markets.length} market${markets.length === 1 ? '' : 's'}${config.EXCHANGE_TAKER_RATE === 0 ? '' : `, taker bot sending ${config.EXCHANGE_TAKER_RATE} orders a second`}`, { step: 'bots' });
  }
  if (isStopping()) return;
  screen.ready({
    mode: ex.mode,
    gatewayUrl: ex.gatewayUrl,
    engineUrls: ex.engineUrls,
    settlementUrl: ex.settlement?.url,
    markets: markets.map((m) => m.symbol),
    chain: ex.chain === undefined || ex.localChain === undefined ? undefined : { ...ex.chain, chainId: ex.localChain.chain.anvil.chainId },
    bots:
      running === undefined
        ? undefined
        : { takerRate: config.EXCHANGE_TAKER_RATE, levels: config.EXCHANGE_MM_LEVELS, marketMakerMetricsUrl: running.marketMakerMetricsUrl, takerMetricsUrl: running.takerMetricsUrl },
    accounts,
    startedInS: (performance.now() - startedAt) / 1000,
  });
})();
try {
  await startup;
} catch (err) {
  if (!isStopping()) {
    logger.fatal({ err }, 'Parallax failed to start');
    await running?.close().catch(() => undefined);
    await exchange?.close().catch(() => undefined);
    process.exit(1);
  }
}

// What `npm start` shows: one progress line per part as it comes up, then one block with where everything is.
// In a terminal these are plain lines for a person; when piped (LOG_FORMAT json, or auto and not a terminal)
// every one of them is a JSON log line with the same facts as fields, so a script can read the URLs.
import type { Logger } from '@parallax/observability';
import type { DemoAccounts } from './demo-accounts.js';

export interface Screen {
  /** One part is up. */
  step(text: string, fields?: Record<string, unknown>): void;
  /** The block with where everything is. */
  ready(where: Where): void;
  /** A line outside the progress (stopping, failures). */
  note(text: string, fields?: Record<string, unknown>): void;
}

export interface Where {
  readonly mode: 'embedded' | 'kafka';
  readonly gatewayUrl: string;
  readonly engineUrls: readonly string[];
  readonly settlementUrl: string | undefined;
  readonly markets: readonly string[];
  readonly chain: { readonly rpcUrl: string; readonly chainId: number; readonly settlement: string; readonly tokens: Readonly<Record<string, string>> } | undefined;
  readonly bots: { readonly takerRate: number; readonly levels: number; readonly marketMakerMetricsUrl: string | undefined; readonly takerMetricsUrl: string | undefined } | undefined;
  readonly accounts: DemoAccounts | undefined;
  /** Seconds since the launcher started. */
  readonly startedInS: number;
}

/** The URLs a client needs, derived from the gateway's base URL. */
export function endpoints(gatewayUrl: string): { page: string; api: string; docs: string; ws: string; metrics: string } {
  const base = gatewayUrl.replace(/\/+$/, '');
  return { page: `${base}/`, api: `${base}/v1`, docs: `${base}/docs`, ws: `${base.replace(/^http/, 'ws')}/ws`, metrics: `${base}/metrics` };
}

/** The block, as lines of text (no colours: it must read the same in any terminal and in a copied bug report). */
export function whereLines(w: Where): string[] {
  const e = endpoints(w.gatewayUrl);
  const pad = (s: string): string => s.padEnd(12);
  const lines = [
    '',
    `Parallax is running (${w.mode === 'embedded' ? 'embedded log' : 'Kafka'}, ${w.engineUrls.length} matching engine${w.engineUrls.length === 1 ? '' : 's'}, ready in ${w.startedInS.toFixed(1)} s). Ctrl-C stops it.`,
    '',
    `  ${pad('Page')}${e.page}`,
    `  ${pad('API')}${e.api}   (OpenAPI docs: ${e.docs})`,
    `  ${pad('WebSocket')}${e.ws}`,
    `  ${pad('Metrics')}${e.metrics}`,
    ...w.engineUrls.map((u, i) => `  ${pad('')}engine ${i}: ${u}/metrics`),
    ...(w.settlementUrl === undefined ? [] : [`  ${pad('')}settlement: ${w.settlementUrl}/metrics`]),
    ...(w.bots?.marketMakerMetricsUrl === undefined ? [] : [`  ${pad('')}market maker: ${w.bots.marketMakerMetricsUrl}`]),
    ...(w.bots?.takerMetricsUrl === undefined ? [] : [`  ${pad('')}taker: ${w.bots.takerMetricsUrl}`]),
    `  ${pad('Markets')}${w.markets.join('  ')}`,
  ];
  if (w.chain !== undefined) {
    lines.push(`  ${pad('Chain')}${w.chain.rpcUrl}   (anvil, chain id ${w.chain.chainId})`);
    lines.push(`  ${pad('')}settlement contract ${w.chain.settlement}`);
    for (const [symbol, address] of Object.entries(w.chain.tokens)) lines.push(`  ${pad('')}test token ${symbol.padEnd(6)} ${address}`);
  }
  lines.push(
    w.bots === undefined
      ? `  ${pad('Bots')}off`
      : `  ${pad('Bots')}market maker quoting ${w.bots.levels} levels a side on every market; taker ${w.bots.takerRate === 0 ? 'off' : `${w.bots.takerRate} orders a second`}`,
  );
  if (w.accounts !== undefined) {
    const a = w.accounts;
    lines.push(
      '',
      '  TEST KEYS (anvil\'s public dev accounts: known to everyone, for this local chain only, never for anything of value)',
      `    market maker wallet       ${a.marketMaker.address}  key ${a.marketMaker.privateKey}`,
      `    market maker trading key  ${a.marketMakerTradingKey.address}  key ${a.marketMakerTradingKey.privateKey}`,
      `    taker wallet              ${a.taker.address}  key ${a.taker.privateKey}`,
    );
  }
  lines.push('');
  return lines;
}

/** A screen on stdout for a person (pretty) or JSON log lines through `logger`. */
export function createScreen(pretty: boolean, logger: Logger, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Screen {
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (!pretty) {
    return {
      step: (text, fields = {}) => {
        logger.info({ ...fields, elapsedMs: Math.round(performance.now() - started) }, text);
      },
      ready: (w) => {
        const e = endpoints(w.gatewayUrl);
        logger.info(
          {
            mode: w.mode,
            ...e,
            gateway: w.gatewayUrl,
            engines: w.engineUrls,
            settlement: w.settlementUrl,
            markets: w.markets,
            chain: w.chain,
            bots: w.bots,
            // Labelled: the anvil dev accounts' keys, public knowledge, for the local chain only.
            testKeys: w.accounts,
            startedInS: w.startedInS,
          },
          'Parallax is running (Ctrl-C stops it)',
        );
      },
      note: (text, fields = {}) => {
        logger.info(fields, text);
      },
    };
  }
  return {
    step: (text) => {
      out(`  ✓ ${text} (${elapsed()})`);
    },
    ready: (w) => {
      for (const line of whereLines(w)) out(line);
    },
    note: (text) => {
      out(text);
    },
  };
}

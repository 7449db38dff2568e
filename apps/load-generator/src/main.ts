#!/usr/bin/env node
// CLI entry: node apps/load-generator/dist/main.js --markets N (--duration S | --count C) [--rate R] ...
import { ContractError } from '@parallax/contracts';
import { parseCli, USAGE, UsageError } from './producer/cli.js';
import { openKafkaTransport } from './producer/kafka.js';
import { runLoadGenerator } from './producer/load-generator.js';
import { LoadGeneratorError } from './workload/workload.js';

async function main(): Promise<number> {
  let config;
  try {
    config = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (config === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const abort = new AbortController();
  const stop = (): void => {
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const transport = await openKafkaTransport(config.brokers, config.clientId);
  try {
    const o = config.options;
    const target = o.rate === 0 ? 'as fast as possible' : `${o.rate} commands/s`;
    process.stderr.write(`load-generator: ${o.markets} markets, batch ${o.batchSize}, seed ${o.seed}, ${target}\n`);
    const report = await runLoadGenerator(transport, {
      ...o,
      signal: abort.signal,
      onProgress: (p) => {
        process.stderr.write(`  ${p.elapsedSec.toFixed(1)}s ${p.commands} commands, ${p.messages} messages, ${p.commandsPerSec} commands/s\n`);
      },
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.stderr.write(
      `sent ${report.commands} commands in ${report.messages} messages (${report.bytes} bytes, ${report.sends} sends) to ${report.topic} ` +
        `(${report.partitions} partitions) in ${report.elapsedSec.toFixed(2)}s: ${report.commandsPerSec} commands/s, ${report.messagesPerSec} messages/s` +
        `${report.aborted ? ' (interrupted)' : ''}\n`,
    );
    return 0;
  } finally {
    await transport.close();
  }
}

/** Message and cause chain, no stack (set NODE_DEBUG_LOAD_GENERATOR=1 for the stack). */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (process.env.NODE_DEBUG_LOAD_GENERATOR === '1') return e.stack ?? e.message;
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 5; c = c.cause) parts.push(`${c.name}: ${c.message}`);
  return parts.join(' <- ');
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof LoadGeneratorError || e instanceof ContractError || e instanceof UsageError) {
      process.stderr.write(`load-generator: ${e.message}\n`);
    } else {
      process.stderr.write(`load-generator failed: ${describeError(e)}\n`);
    }
    process.exitCode = 1;
  },
);

// Worker-thread entry of the single-machine mode: the embedded log lives in the main thread and is served
// to this thread over a MessagePort; the account shards here are the same app as on Kafka.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger, type Logger } from '@parallax/observability';
import { connectEmbeddedTransport } from '@parallax/transport';
import { SERVICE, startRisk } from '../app/risk.app.js';
import { loadRiskConfig } from '../config/risk.config.js';
import type { RiskWorkerData, RiskWorkerMessage } from './risk-worker.js';

const { port, env } = workerData as RiskWorkerData & { port: MessagePort };
const parent = parentPort!;
const post = (m: RiskWorkerMessage): void => {
  parent.postMessage(m);
};
const transport = connectEmbeddedTransport(port);
let log: Logger | undefined;
try {
  // A bad variable surfaces as a ConfigError in the parent's `failed` message, which names it.
  const config = loadRiskConfig({ ...process.env, ...env });
  const logger = createLogger(SERVICE, config.logLevel, config.logFormat);
  log = logger;
  const risk = await startRisk(config, transport, { logger });
  parent.on('message', (m: { type?: unknown }) => {
    if (m.type !== 'stop') return;
    risk
      .close()
      .then(() => transport.close())
      .then(
        () => {
          post({ type: 'stopped' });
        },
        (err: unknown) => {
          post({ type: 'failed', error: String(err) });
        },
      );
  });
  risk.stopped.catch((err: unknown) => {
    logger.fatal({ err }, 'risk shards stopped');
    post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  });
  post({ type: 'started', url: risk.url });
} catch (err) {
  log?.fatal({ err }, 'risk shards failed to start');
  post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  await transport.close().catch(() => undefined);
}

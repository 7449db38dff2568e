// Worker-thread entry of the single-machine mode: the embedded log lives in the main thread and is served
// to this thread over a MessagePort; the engine here is the same app as on Kafka.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger, type Logger } from '@parallax/observability';
import { connectEmbeddedTransport } from '@parallax/transport';
import { SERVICE } from '../app/app.module.js';
import { startMatchingEngine } from '../app/bootstrap.js';
import type { EngineWorkerData, EngineWorkerMessage } from './engine-worker.js';
import { loadMatchingEngineConfig } from '../config/matching-engine.config.js';

const { port, env } = workerData as EngineWorkerData & { port: MessagePort };
const parent = parentPort!;
const post = (m: EngineWorkerMessage): void => {
  parent.postMessage(m);
};
const transport = connectEmbeddedTransport(port);
let log: Logger | undefined;
try {
  // A bad variable surfaces as a ConfigError in the parent's `failed` message, which names it.
  const config = loadMatchingEngineConfig({ ...process.env, ...env });
  const logger = createLogger(SERVICE, config.logLevel, config.logFormat);
  log = logger;
  const engine = await startMatchingEngine(config, transport, { logger });
  parent.on('message', (m: { type?: unknown }) => {
    if (m.type !== 'stop') return;
    engine
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
  engine.stopped.catch((err: unknown) => {
    logger.fatal({ err }, 'matching engine stopped');
    post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  });
  post({ type: 'started', url: engine.url });
} catch (err) {
  log?.fatal({ err }, 'matching engine failed to start');
  post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  await transport.close().catch(() => undefined);
}

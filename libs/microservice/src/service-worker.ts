// A service in a worker thread (single-machine mode): the embedded log lives in the main thread and is served
// to the worker over a MessagePort; the service there is the same app as on Kafka. Both halves live here so
// every service's worker launches, reports and stops the same way (the matching engine, the risk shards).
import { MessageChannel, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger, type Logger, type LogSettings } from '@parallax/observability';
import { connectEmbeddedTransport, serveEmbeddedTransport, type EmbeddedTransport, type Transport } from '@parallax/transport';

/** What the main thread hands a service worker (environment variables as in the service's main.ts). */
export interface ServiceWorkerData {
  readonly env: Readonly<Record<string, string>>;
}

export type ServiceWorkerMessage = { readonly type: 'started'; readonly url: string } | { readonly type: 'stopped' } | { readonly type: 'failed'; readonly error: string };

export interface ServiceWorker {
  readonly worker: Worker;
  /** HTTP base URL of the service (/metrics, /health). */
  readonly url: string;
  /** Settles when the worker thread exits (rejects if the service failed). */
  readonly exited: Promise<void>;
  /** Graceful stop: leave the group, close the HTTP side, end the thread. */
  stop(): Promise<void>;
}

/**
 * Main-thread half: starts the worker script `entry` (which calls runServiceWorker) on `log`. `what` names
 * the service in errors ("engine worker failed: ..."). Terminating the worker is a crash as seen by its
 * consumer group: its partitions are rebalanced to the other members.
 */
export async function startServiceWorker(entry: URL, what: string, log: EmbeddedTransport, env: Readonly<Record<string, string>>): Promise<ServiceWorker> {
  const { port1, port2 } = new MessageChannel();
  serveEmbeddedTransport(log, port1);
  const data: ServiceWorkerData & { port: typeof port2 } = { env, port: port2 };
  const worker = new Worker(entry, { workerData: data, transferList: [port2] });
  let failure: string | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('exit', (code) => {
      if (failure !== undefined) reject(new Error(`${what} worker failed: ${failure}`));
      else if (code !== 0 && code !== 1) reject(new Error(`${what} worker exited with ${code}`));
      else resolve();
    });
  });
  exited.catch(() => undefined);
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: ServiceWorkerMessage) => {
      if (m.type === 'started') resolve(m.url);
      else if (m.type === 'failed') {
        failure = m.error;
        reject(new Error(`${what} worker failed: ${m.error}`));
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      reject(new Error(`${what} worker exited with ${code} before starting`));
    });
  });
  const stop = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: ServiceWorkerMessage) => {
        if (m.type === 'stopped') resolve();
      });
      worker.on('exit', () => {
        resolve();
      });
    });
    worker.postMessage({ type: 'stop' });
    await stopped;
    await worker.terminate();
  };
  return { worker, url, exited, stop };
}

export interface WorkerServiceEntry<C extends LogSettings> {
  /** Logger name (the service's SERVICE constant). */
  readonly service: string;
  /** How logs name it: "<what> stopped", "<what> failed to start". */
  readonly what: string;
  /** Reads and validates the environment (throws ConfigError, which names the variable). */
  loadConfig(env: NodeJS.ProcessEnv): C;
  start(config: C, transport: Transport, logger: Logger): Promise<{ readonly url: string; readonly stopped: Promise<void>; close(): Promise<void> }>;
}

/** Worker-thread half: runs the service on the parent's embedded log and reports to the parent. */
export async function runServiceWorker<C extends LogSettings>(entry: WorkerServiceEntry<C>): Promise<void> {
  const { port, env } = workerData as ServiceWorkerData & { port: MessagePort };
  const parent = parentPort!;
  const post = (m: ServiceWorkerMessage): void => {
    parent.postMessage(m);
  };
  const transport = connectEmbeddedTransport(port);
  let log: Logger | undefined;
  try {
    // A bad variable surfaces as a ConfigError in the parent's `failed` message, which names it.
    const config = entry.loadConfig({ ...process.env, ...env });
    const logger = createLogger(entry.service, config.logLevel, config.logFormat);
    log = logger;
    const service = await entry.start(config, transport, logger);
    parent.on('message', (m: { type?: unknown }) => {
      if (m.type !== 'stop') return;
      service
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
    service.stopped.catch((err: unknown) => {
      logger.fatal({ err }, `${entry.what} stopped`);
      post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    });
    post({ type: 'started', url: service.url });
  } catch (err) {
    log?.fatal({ err }, `${entry.what} failed to start`);
    post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    await transport.close().catch(() => undefined);
  }
}

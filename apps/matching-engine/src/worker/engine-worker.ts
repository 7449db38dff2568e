import { MessageChannel, Worker } from 'node:worker_threads';
import { serveEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';

/** What the main thread hands an engine worker (environment variables as in main.ts). */
export interface EngineWorkerData {
  readonly env: Readonly<Record<string, string>>;
}

export type EngineWorkerMessage =
  | { readonly type: 'started'; readonly url: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly error: string };

export interface EngineWorker {
  readonly worker: Worker;
  /** HTTP base URL of the engine (/metrics, /health). */
  readonly url: string;
  /** Settles when the worker thread exits (rejects if the engine failed). */
  readonly exited: Promise<void>;
  /** Graceful stop: leave the group, close the HTTP side, end the thread. */
  stop(): Promise<void>;
}

/**
 * Starts a matching engine in a worker thread on the embedded log owned by this thread (single-machine
 * mode). `env` configures it like main.ts's environment; give each worker its own ENGINE_HTTP_PORT (or 0).
 * Terminating the worker is a crash as seen by the group: its partitions are rebalanced to the others.
 */
export async function startEngineWorker(log: EmbeddedTransport, env: Readonly<Record<string, string>>): Promise<EngineWorker> {
  const { port1, port2 } = new MessageChannel();
  serveEmbeddedTransport(log, port1);
  const data: EngineWorkerData & { port: typeof port2 } = { env, port: port2 };
  const worker = new Worker(new URL('./engine.worker.js', import.meta.url), { workerData: data, transferList: [port2] });
  let failure: string | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('exit', (code) => {
      if (failure !== undefined) reject(new Error(`engine worker failed: ${failure}`));
      else if (code !== 0 && code !== 1) reject(new Error(`engine worker exited with ${code}`));
      else resolve();
    });
  });
  exited.catch(() => undefined);
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: EngineWorkerMessage) => {
      if (m.type === 'started') resolve(m.url);
      else if (m.type === 'failed') {
        failure = m.error;
        reject(new Error(`engine worker failed: ${m.error}`));
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      reject(new Error(`engine worker exited with ${code} before starting`));
    });
  });
  const stop = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: EngineWorkerMessage) => {
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

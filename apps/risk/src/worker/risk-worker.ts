import { MessageChannel, Worker } from 'node:worker_threads';
import { serveEmbeddedTransport, type EmbeddedTransport } from '@parallax/transport';

/** What the main thread hands a risk worker (environment variables as in main.ts). */
export interface RiskWorkerData {
  readonly env: Readonly<Record<string, string>>;
}

export type RiskWorkerMessage = { readonly type: 'started'; readonly url: string } | { readonly type: 'stopped' } | { readonly type: 'failed'; readonly error: string };

export interface RiskWorker {
  readonly worker: Worker;
  /** HTTP base URL of the risk instance (/metrics, /health, /ready). */
  readonly url: string;
  /** Settles when the worker thread exits (rejects if the shards failed). */
  readonly exited: Promise<void>;
  /** Graceful stop: leave the group, close the HTTP side, end the thread. */
  stop(): Promise<void>;
}

/**
 * Starts a risk instance (account shards) in a worker thread on the embedded log owned by this thread
 * (single-machine mode), the same shape as startEngineWorker. `env` configures it like main.ts's environment
 * (RISK_MARKETS_FILE required; give each worker its own RISK_HTTP_PORT, or 0). Terminating the worker is a
 * crash as seen by the group: its shards are rebalanced to the other members, which restore them.
 */
export async function startRiskWorker(log: EmbeddedTransport, env: Readonly<Record<string, string>>): Promise<RiskWorker> {
  const { port1, port2 } = new MessageChannel();
  serveEmbeddedTransport(log, port1);
  const data: RiskWorkerData & { port: typeof port2 } = { env, port: port2 };
  const worker = new Worker(new URL('./risk.worker.js', import.meta.url), { workerData: data, transferList: [port2] });
  let failure: string | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('exit', (code) => {
      if (failure !== undefined) reject(new Error(`risk worker failed: ${failure}`));
      else if (code !== 0 && code !== 1) reject(new Error(`risk worker exited with ${code}`));
      else resolve();
    });
  });
  exited.catch(() => undefined);
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: RiskWorkerMessage) => {
      if (m.type === 'started') resolve(m.url);
      else if (m.type === 'failed') {
        failure = m.error;
        reject(new Error(`risk worker failed: ${m.error}`));
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      reject(new Error(`risk worker exited with ${code} before starting`));
    });
  });
  const stop = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: RiskWorkerMessage) => {
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

// The local node's new blocks as events: an `eth_subscribe("newHeads")` over the node's WebSocket (anvil serves
// WebSocket on its HTTP port). The launcher wakes the chain watcher with it, so the watcher need not poll the
// node every few hundred milliseconds to notice a block within that time: idle, nothing runs at all.
import type { Logger } from '@parallax/observability';

export interface NewHeads {
  close(): void;
}

/** Reconnect delays after the socket closed (the node restarted, or is still starting): 0.5 s doubling to 5 s. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;

/**
 * Calls `onHead` for every block the node announces, from now on (and once after each (re)connection, since a
 * block may have been mined while disconnected). Reconnects until close(). Errors are logged, never thrown: the
 * caller's own polling, at a longer interval, is the fallback.
 */
export function followNewHeads(rpcUrl: string, onHead: () => void, log: Logger): NewHeads {
  const url = rpcUrl.replace(/^http/, 'ws');
  let closed = false;
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = RETRY_MIN_MS;

  const connect = (): void => {
    if (closed) return;
    const ws = new WebSocket(url);
    socket = ws;
    let subscription: string | undefined;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    });
    ws.addEventListener('message', (ev: MessageEvent) => {
      let msg: { id?: number; result?: unknown; method?: string; params?: { subscription?: unknown }; error?: unknown };
      try {
        msg = JSON.parse(String(ev.data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === 1) {
        if (typeof msg.result !== 'string') {
          log.warn({ url, error: msg.error }, 'the node refused a newHeads subscription: the chain watcher polls instead');
          ws.close();
          return;
        }
        subscription = msg.result;
        delay = RETRY_MIN_MS;
        onHead();
      } else if (msg.method === 'eth_subscription' && msg.params?.subscription === subscription) {
        onHead();
      }
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = undefined;
      if (closed) return;
      retry = setTimeout(connect, delay);
      retry.unref();
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    });
    // An 'error' is followed by 'close', which reconnects; without a listener it would be thrown.
    ws.addEventListener('error', () => undefined);
  };
  connect();
  return {
    close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      socket?.close();
      socket = undefined;
    },
  };
}

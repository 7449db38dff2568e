import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

const KEEP_ALIVE_MS = 60_000;

/**
 * kafkajs's connections, with Nagle's algorithm off. kafkajs's own factory leaves Node's default (Nagle on), so a
 * small request written while an earlier one on the same connection is unacknowledged (a heartbeat or offset request
 * behind a long-polling fetch, the next transactional request) can wait for the broker's delayed ACK. Kafka
 * requests are already batched by the client: there is nothing for Nagle to coalesce, only latency to add
 * (librdkafka turned it off by default for the same reason). Keep-alive as kafkajs sets it.
 */
export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  // kafkajs passes ssl only when the client was configured with it (the type says always).
  const tlsOptions = ssl as tls.ConnectionOptions | null | undefined | false;
  const socket =
    !tlsOptions
      ? net.connect({ host, port }, onConnect)
      : tls.connect({ host, port, ...(net.isIP(host) === 0 ? { servername: host } : {}), ...tlsOptions }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_MS);
  return socket;
};

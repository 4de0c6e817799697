import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Drops every open connection at once, without a close handshake (a network cut). */
  cut(): void;
  /** While refusing, new connections are dropped as soon as they arrive (the network is still down). */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `127.0.0.1:targetPort` that a test can cut: what a dropped Wi-Fi or a dead load
 * balancer looks like to a client, while the server behind it keeps running.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let connections = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    connections++;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const [socket, peer] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(socket);
      socket.pipe(peer);
      socket.on('error', () => peer.destroy());
      socket.on('close', () => {
        open.delete(socket);
        peer.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  const cut = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    cut,
    refuse(value) {
      refusing = value;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

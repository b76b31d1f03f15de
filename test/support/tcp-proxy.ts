import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Closes every connection and stops listening: to the client, the server is gone. */
  stop(): Promise<void>;
  /** Listens again on the same port, forwarding (`forward`) or accepting and never answering (`blackhole`). */
  start(mode?: 'forward' | 'blackhole'): Promise<void>;
}

/**
 * A TCP forwarder to a real server (PostgreSQL) that a test stops and starts: what the process on the
 * other side sees is exactly a dependency going away, or hanging, without touching the shared server.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };

  const listen = (mode: 'forward' | 'blackhole') =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        track(client);
        if (mode === 'blackhole') return;
        const upstream = connect(target.port, target.host);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        const address = s.address();
        if (typeof address === 'object' && address) port = address.port;
        resolve();
      });
    });

  await listen('forward');
  return {
    get port() {
      return port;
    },
    async stop() {
      const s = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start(mode = 'forward') {
      if (server) throw new Error('the proxy is running already');
      await listen(mode);
    },
  };
}

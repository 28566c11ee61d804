import net from 'node:net';

/** A TCP forwarder on loopback to stand between the service and a database, to take it away. */
export interface TcpProxy {
  /** The port to connect to instead of the target's. */
  readonly port: number;
  /** Cuts every open connection and refuses new ones (ECONNREFUSED): the database is gone. */
  cut(): Promise<void>;
}

/** Forwards `127.0.0.1:<port>` to `127.0.0.1:<targetPort>` until {@link TcpProxy.cut}. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let cut: Promise<void> | undefined;
  return {
    port,
    cut: () =>
      (cut ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

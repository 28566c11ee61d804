import net from 'node:net';

/**
 * A TCP proxy on loopback that injects faults between the code under test and a real server
 * (PostgreSQL, Redis, …), so outages can be simulated without touching the shared server.
 *
 * ```ts
 * const proxy = await startFaultProxy({ host: '127.0.0.1', port: 5432 });
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/mydb`; // point the service here
 * proxy.cut();     // every connection is destroyed, new ones are accepted and dropped at once
 * proxy.restore(); // back to normal (connections made from now on work)
 * proxy.freeze();  // connections stay open, but no byte moves either way (a frozen server or a black-holed network)
 * proxy.slow(200); // every chunk is delayed by 200 ms (each way)
 * await proxy.close();
 * ```
 *
 * What was held back while frozen is delivered, in order, on `restore()`. Only loopback: it
 * listens on 127.0.0.1 on a free port.
 */
export interface FaultProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Connections accepted so far (including those dropped while cut). */
  readonly accepted: number;
  /** Destroys every open connection and drops new ones as soon as they arrive, until {@link restore}. */
  cut(): void;
  /** Keeps the connections open but forwards nothing (new ones are accepted and stall too), until {@link restore}. */
  freeze(): void;
  /** Adds `ms` of latency to every chunk forwarded (0: none). Keeps the current cut/freeze state. */
  slow(ms: number): void;
  /** Ends cut and freeze: held-back bytes flow again, new connections are forwarded. */
  restore(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export interface FaultProxyTarget {
  readonly host: string;
  readonly port: number;
}

interface Pipe {
  readonly client: net.Socket;
  readonly server: net.Socket;
  /** Chunks held back while frozen, per direction, in order. */
  readonly held: { readonly to: net.Socket; readonly chunk: Buffer }[];
}

export async function startFaultProxy(target: FaultProxyTarget): Promise<FaultProxy> {
  let state: 'open' | 'cut' | 'frozen' = 'open';
  let latencyMs = 0;
  let accepted = 0;
  const pipes = new Set<Pipe>();

  const destroy = (pipe: Pipe) => {
    pipes.delete(pipe);
    pipe.client.destroy();
    pipe.server.destroy();
  };

  const forward = (pipe: Pipe, to: net.Socket, chunk: Buffer) => {
    if (state === 'frozen') {
      pipe.held.push({ to, chunk });
      return;
    }
    const write = () => {
      // Frozen meanwhile: hold it back with the rest, keeping the order.
      if (state === 'frozen') pipe.held.push({ to, chunk });
      else if (!to.destroyed) to.write(chunk);
    };
    if (latencyMs > 0) setTimeout(write, latencyMs);
    else write();
  };

  const server = net.createServer((client) => {
    accepted += 1;
    if (state === 'cut') {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pipe: Pipe = { client, server: upstream, held: [] };
    pipes.add(pipe);
    client.on('data', (chunk: Buffer) => forward(pipe, upstream, chunk));
    upstream.on('data', (chunk: Buffer) => forward(pipe, client, chunk));
    // Either side ending or failing ends both (a half-open pipe is of no use here).
    for (const socket of [client, upstream]) {
      socket.on('error', () => destroy(pipe));
      socket.on('close', () => destroy(pipe));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      state = 'cut';
      for (const pipe of [...pipes]) destroy(pipe);
    },
    freeze() {
      if (state !== 'cut') state = 'frozen';
    },
    slow(ms: number) {
      latencyMs = Math.max(0, ms);
    },
    restore() {
      state = 'open';
      for (const pipe of pipes) {
        for (const { to, chunk } of pipe.held.splice(0)) if (!to.destroyed) to.write(chunk);
      }
    },
    async close() {
      for (const pipe of [...pipes]) destroy(pipe);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

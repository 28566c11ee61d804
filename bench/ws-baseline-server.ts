/**
 * The bare-`ws` baseline for bench/fanout.ts: a `node:http` server with a `ws` WebSocketServer on
 * `/graphql` that speaks just enough of `graphql-transport-ws` for the same client (answers
 * `connection_init` with `connection_ack`, remembers nothing of `subscribe`, answers `ping` with
 * `pong`), and broadcasts on `POST /broadcast`:
 *
 *   POST /broadcast  {"entityId": "<id>"}  ->  200, then one ~300-byte `next` message, built once,
 *                                             sent to every open socket.
 *
 * No GraphQL, no authentication, no database, no per-socket state: the ceiling of "one message to
 * N sockets" with `ws` on this machine. GET /readyz answers 200.
 *
 * Env: PORT, HOST (default 127.0.0.1). Stops on SIGTERM / SIGINT.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const MESSAGE_BYTES = 300;

const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
const sockets = new Set<WebSocket>();
let seq = 0;

wss.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.includes('"connection_init"')) socket.send('{"type":"connection_ack"}');
    else if (text.includes('"ping"')) socket.send('{"type":"pong"}');
  });
});

/** A `next` message shaped like ours, padded to MESSAGE_BYTES. */
function message(entityId: string): Buffer {
  seq += 1;
  const event = { seq: String(seq), type: 'CUSTOMER_CHECKIN', entityId, occurredAt: new Date().toISOString() };
  const base = JSON.stringify({ id: '1', type: 'next', payload: { data: { events: event } }, pad: '' });
  const padded = base.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, MESSAGE_BYTES - base.length))}"`);
  return Buffer.from(padded);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method === 'POST' && req.url === '/broadcast') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let entityId = '0';
      try {
        entityId = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entityId?: unknown }).entityId ?? '0');
      } catch {
        res.writeHead(400).end();
        return;
      }
      // Acknowledged first, then broadcast: like a webhook answered once stored, then fanned out.
      const data = message(entityId);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"sockets":${sockets.size}}`);
      for (const socket of sockets) socket.send(data);
    });
    return;
  }
  res.writeHead(404).end();
});

server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/graphql') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    for (const socket of sockets) socket.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}

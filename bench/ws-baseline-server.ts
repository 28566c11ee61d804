/**
 * The bare-`ws` baseline for bench/fanout.ts: a `node:http` server with a `ws` WebSocketServer on
 * `/graphql` that speaks just enough of `graphql-transport-ws` for the same client (answers
 * `connection_init` with `connection_ack`, remembers nothing of `subscribe`, answers `ping` with
 * `pong`), and broadcasts on `POST /broadcast`:
 *
 *   POST /broadcast  {"entityId": "<id>"}  ->  200, then one ~300-byte `next` message, built once,
 *                                             sent to every open socket.
 *   POST /route  {"key": "<name>:<value>", "entityId": "<id>"}
 *                ->  200 (with the moment it was written, x-bench-answered-at), then the same
 *                    message, with each subscription's id, sent only to the subscriptions filed
 *                    under that key (bench/fanout.ts --members).
 *   GET /stats   ->  {"sockets": n, "routes": subscriptions filed}
 *
 * Routing is a Map: a `subscribe` message is filed under `<name>:<value>` for every value of every
 * list in its `variables` (`{"c": ["42"]}` -> "c:42"), and a socket's entries go when it closes.
 * No GraphQL, no authentication, no database: the ceiling of "one message to N sockets", and of
 * "one message to the socket that wants it", with `ws` on this machine. GET /readyz answers 200.
 *
 * Env: PORT, HOST (default 127.0.0.1). Stops on SIGTERM / SIGINT.
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const MESSAGE_BYTES = 300;

const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
const sockets = new Set<WebSocket>();
/** Subscriptions by routing key: the socket and the operation id. */
const routes = new Map<string, Map<WebSocket, string>>();
let routed = 0;
let seq = 0;

/** Files a `subscribe` message under each value of each list in its variables. */
function file(socket: WebSocket, text: string): string[] {
  const keys: string[] = [];
  try {
    const message = JSON.parse(text) as { id?: unknown; payload?: { variables?: Record<string, unknown> } };
    for (const [name, values] of Object.entries(message.payload?.variables ?? {})) {
      if (!Array.isArray(values)) continue;
      for (const value of values) {
        const key = `${name}:${String(value)}`;
        let route = routes.get(key);
        if (!route) routes.set(key, (route = new Map()));
        route.set(socket, String(message.id));
        routed += 1;
        keys.push(key);
      }
    }
  } catch {
    /* not JSON: nothing to file */
  }
  return keys;
}

wss.on('connection', (socket) => {
  sockets.add(socket);
  let filed: string[] = [];
  socket.on('close', () => {
    sockets.delete(socket);
    for (const key of filed) {
      const route = routes.get(key);
      if (route?.delete(socket)) routed -= 1;
      if (route?.size === 0) routes.delete(key);
    }
  });
  socket.on('error', () => undefined);
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.includes('"connection_init"')) socket.send('{"type":"connection_ack"}');
    else if (text.includes('"ping"')) socket.send('{"type":"pong"}');
    else if (text.includes('"subscribe"')) filed = filed.concat(file(socket, text));
  });
});

/** A `next` message shaped like ours, for operation `id`, padded to MESSAGE_BYTES. */
function message(entityId: string, id = '1'): Buffer {
  seq += 1;
  const event = { seq: String(seq), type: 'CUSTOMER_CHECKIN', entityId, occurredAt: new Date().toISOString() };
  const base = JSON.stringify({ id, type: 'next', payload: { data: { events: event } }, pad: '' });
  const padded = base.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, MESSAGE_BYTES - base.length))}"`);
  return Buffer.from(padded);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sockets: sockets.size, routes: routed }));
    return;
  }
  if (req.method === 'POST' && req.url === '/route') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: { key?: unknown; entityId?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const route = routes.get(String(body.key));
      // When it answered, on the machine's monotonic clock (bench/harness.ts ANSWERED_AT_HEADER).
      const answeredAt = String(Number(process.hrtime.bigint()) / 1e6);
      res.writeHead(200, { 'content-type': 'application/json', 'x-bench-answered-at': answeredAt }).end(`{"sockets":${route?.size ?? 0}}`);
      for (const [socket, id] of route ?? []) socket.send(message(String(body.entityId ?? '0'), id));
    });
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

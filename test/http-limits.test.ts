import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import pino from 'pino';
import { ConnectionCap } from '../src/http/connection-cap.js';
import { timeoutCheckInterval } from '../src/http/server.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw TCP client that sends `text` a byte at a time, every `everyMs`, and records how it ends. */
interface Trickler {
  readonly socket: net.Socket;
  readonly openedAt: number;
  /** When the server closed it (ms since the epoch); undefined while open. */
  closedAt: number | undefined;
  /** What the server sent. */
  received: string;
}

const tricklers = new Set<Trickler>();

async function trickle(port: number, text: string, everyMs = 1000, first = ''): Promise<Trickler> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const trickler: Trickler = { socket, openedAt: Date.now(), closedAt: undefined, received: '' };
  tricklers.add(trickler);
  socket.on('error', () => undefined);
  socket.on('data', (data) => (trickler.received += String(data)));
  let sent = 0;
  if (first) socket.write(first);
  const timer = setInterval(() => {
    if (sent < text.length && !socket.destroyed) socket.write(text[sent++]!);
  }, everyMs);
  socket.once('close', () => {
    clearInterval(timer);
    trickler.closedAt = Date.now();
  });
  return trickler;
}

function closeTricklers(): void {
  for (const trickler of tricklers) trickler.socket.destroy();
  tricklers.clear();
}

/** One request on a connection of its own (no pool), with its status, body and time taken. */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: { connection: 'close', ...options.headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const openConnections = (server: TestServer) =>
  new Promise<number>((resolve, reject) => server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
const HEADERS = 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n';

describe.each(databaseKinds())('slow clients (%s)', (kind) => {
  const HEADERS_TIMEOUT = 4000;
  const REQUEST_TIMEOUT = 5000;
  const CAP = 20;
  let server: TestServer;
  let port: number;
  let key: string;
  const lines: { level: number; msg: string; err?: unknown }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    server = await startTestServer(
      kind,
      {
        ADMIN_TOKEN,
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT),
        HTTP_MAX_CONNECTIONS: String(CAP),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      },
      { logger },
    );
    port = (server.app.server.address() as AddressInfo).port;
    key = (await server.addStudio()).webhookKey;
  });
  afterEach(async () => {
    closeTricklers();
    await disposeClients();
    await until(async () => (await openConnections(server)) === 0, 5000, 'every connection to close');
    lines.length = 0;
  });
  afterAll(() => server.stop());

  const stored = async () => Number((await server.sql<{ n: string | number }>('SELECT COUNT(*) AS "n" FROM events'))[0]!.n);

  it('when connections trickle their headers a byte a second, up to and beyond HTTP_MAX_CONNECTIONS, then /healthz and a webhook are answered at once, and the tricklers are dropped with 408 by the headers timeout', async () => {
    const flood: Trickler[] = [];
    for (let i = 0; i < CAP + 10; i++) flood.push(await trickle(port, HEADERS));
    // Each one over the cap pushed out the oldest.
    await until(() => flood.filter((t) => t.closedAt !== undefined).length === 10, 3000, 'ten tricklers pushed out');
    expect(flood.slice(0, 10).every((t) => t.closedAt !== undefined && t.received === '')).toBe(true);
    expect(await openConnections(server)).toBeLessThanOrEqual(CAP);

    const health = await request(`${server.app.url}/healthz`);
    expect(health).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    for (let i = 0; i < 5; i++) flood.push(await trickle(port, HEADERS));
    const webhook = await request(`${server.app.url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(delivery(1, { type: 'CUSTOMER_CREATED', timestamp: T0 })),
    });
    expect(webhook.status).toBe(200);
    // Room was made by pushing tricklers out, not by waiting for their timeout.
    const waiting = flood.filter((t) => t.closedAt === undefined);
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((t) => Date.now() - t.openedAt < HEADERS_TIMEOUT)).toBe(true);

    // The rest are dropped by the headers timeout, with 408 (checked every timeoutCheckInterval).
    await until(() => flood.every((t) => t.closedAt !== undefined), HEADERS_TIMEOUT + 3000, 'every trickler to be dropped');
    const late = timeoutCheckInterval({ headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: REQUEST_TIMEOUT }) + 1500;
    for (const trickler of waiting) {
      expect(trickler.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(trickler.received).toContain('"error":"request_timeout"');
      expect(trickler.closedAt! - trickler.openedAt).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 100);
      expect(trickler.closedAt! - trickler.openedAt).toBeLessThan(HEADERS_TIMEOUT + late);
    }
    // Logged in sums, never as errors.
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(
      lines.filter((line) => line.msg.startsWith('dropped connections whose request did not arrive in time')).length,
    ).toBeLessThanOrEqual(2);
    expect(lines.filter((line) => line.msg.startsWith('connection cap reached')).length).toBeLessThanOrEqual(2);
  });

  it('when a connection sends nothing, then it is closed with 408 once the headers timeout passes', async () => {
    const silent = await trickle(port, '');
    await until(() => silent.closedAt !== undefined, HEADERS_TIMEOUT + 3000, 'the silent connection to be dropped');
    expect(silent.closedAt! - silent.openedAt).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 100);
    expect(silent.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('when a webhook body trickles in after its headers, then the request is dropped with 408 once the request timeout passes, nothing is stored, and nothing is logged as an error', async () => {
    const before = await stored();
    const body = JSON.stringify(delivery(2, { type: 'CUSTOMER_CREATED', timestamp: T0 }));
    const head = `POST /webhooks HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-api-key: ${key}\r\ncontent-length: ${body.length}\r\n\r\n`;
    const slow = await trickle(port, body.slice(10), 500, head + body.slice(0, 10));
    await until(() => slow.closedAt !== undefined, REQUEST_TIMEOUT + 3000, 'the trickling body to be dropped');
    expect(slow.closedAt! - slow.openedAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 100);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(await stored()).toBe(before);
    await until(() => lines.some((line) => line.msg === 'client went away before the request completed'), 2000, 'the debug line');
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it('when clients hang up in the middle of their request bodies, then each is logged at debug without a stack, never as an error', async () => {
    const body = JSON.stringify(delivery(3, { type: 'CUSTOMER_CREATED', timestamp: T0 }));
    const aborted = async (path: string, headers: string) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${headers}content-length: ${body.length + 100}\r\n\r\n${body}`,
      );
      await sleep(30);
      socket.destroy();
    };
    for (let i = 0; i < 20; i++) {
      await aborted('/webhooks', `x-api-key: ${key}\r\n`);
      await aborted('/graphql', `authorization: Bearer ${ADMIN_TOKEN}\r\n`);
    }
    await until(
      () => lines.filter((line) => line.msg === 'client went away before the request completed').length === 40,
      5000,
      '40 debug lines',
    );
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines.filter((line) => line.err !== undefined)).toEqual([]);
  });

  it('when the cap is reached, then live WebSockets are never pushed out; when every connection is one, a new connection is refused', async () => {
    const sockets = Array.from({ length: CAP - 2 }, () => connect(server.app.url, ADMIN_TOKEN));
    await Promise.all(sockets.map((socket) => socket.connected));
    const flood: Trickler[] = [];
    for (let i = 0; i < 10; i++) flood.push(await trickle(port, HEADERS));
    const health = await request(`${server.app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(server.app.subscriptions.connections).toBe(CAP - 2);

    // Two more sockets fill the cap with WebSockets only (pushing out the last tricklers).
    const more = [connect(server.app.url, ADMIN_TOKEN), connect(server.app.url, ADMIN_TOKEN)];
    await Promise.all(more.map((socket) => socket.connected));
    await until(() => flood.every((t) => t.closedAt !== undefined), 3000, 'the tricklers to be pushed out');
    expect(server.app.subscriptions.connections).toBe(CAP);
    await expect(request(`${server.app.url}/healthz`)).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(server.app.subscriptions.connections).toBe(CAP);
    expect(lines.filter((line) => line.msg.startsWith('connection cap reached and every connection busy'))).toHaveLength(1);

    await more[0]!.dispose();
    await until(() => server.app.subscriptions.connections === CAP - 1, 3000, 'a socket to close');
    await expect(request(`${server.app.url}/healthz`)).resolves.toMatchObject({ status: 200 });
  });
});

describe('ConnectionCap', () => {
  let server: http.Server;
  let port: number;
  const release: (() => void)[] = [];
  let evicted = 0;
  let refused = 0;

  beforeEach(async () => {
    evicted = 0;
    refused = 0;
    // `/slow` is answered when the test says so: a request being answered.
    server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/slow') release.push(() => res.end('slow'));
        else res.end('ok');
      });
    });
    new ConnectionCap(server, { max: 4, onEvicted: () => (evicted += 1), onRefused: () => (refused += 1) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const answer of release.splice(0)) answer();
    closeTricklers();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A keep-alive connection that has completed one request (to `path`), left open. */
  const kept = async (path: string) => {
    const trickler = await trickle(port, '', 1000, `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
    return trickler;
  };

  it('pushes out the connection that has waited longest without completing a request: an idle keep-alive one before a newer trickler, oldest first', async () => {
    const idle = await kept('/');
    await until(() => idle.received.includes('ok'), 2000, 'the first answer');
    await sleep(20);
    const slowHeaders = await trickle(port, HEADERS);
    await sleep(20);
    const idle2 = await kept('/');
    await until(() => idle2.received.includes('ok'), 2000, 'the second answer');
    const fourth = await trickle(port, HEADERS);
    expect(evicted).toBe(0);

    await trickle(port, HEADERS);
    await until(() => idle.closedAt !== undefined, 2000, 'the oldest idle connection to be closed');
    await trickle(port, HEADERS);
    await until(() => slowHeaders.closedAt !== undefined, 2000, 'the oldest trickler to be closed');
    expect(idle2.closedAt).toBeUndefined();
    expect(fourth.closedAt).toBeUndefined();
    expect(evicted).toBe(2);
  });

  it('never pushes out a connection whose request has arrived and is being answered; refuses the newcomer when all are', async () => {
    const busy = await Promise.all([kept('/slow'), kept('/slow'), kept('/slow'), kept('/slow')]);
    await until(() => release.length === 4, 2000, 'four requests being answered');
    const newcomer = await trickle(port, HEADERS);
    await until(() => newcomer.closedAt !== undefined, 2000, 'the newcomer to be refused');
    expect(busy.every((t) => t.closedAt === undefined)).toBe(true);
    expect(refused).toBe(1);

    // Once one is answered it waits like any other, and is the one pushed out next.
    release.shift()!();
    await until(() => busy.some((t) => t.received.includes('slow')), 2000, 'the answer');
    const answered = busy.find((t) => t.received.includes('slow'))!;
    const next = await trickle(port, HEADERS);
    await until(() => answered.closedAt !== undefined, 2000, 'the answered connection to be pushed out');
    expect(next.closedAt).toBeUndefined();
    expect(evicted).toBe(1);
  });
});

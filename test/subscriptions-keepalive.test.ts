import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { createSubscriptionServer, type SubscriptionServer } from '../src/graphql/ws.js';
import { createLogger } from '../src/log.js';
import { InProcessFeed } from '../src/realtime/in-process-feed.js';
import { EventLog } from '../src/realtime/log-reader.js';
import { SharedLoads } from '../src/realtime/shared-loads.js';
import { startTestServer, type TestServer } from './support/server.js';
import { until } from './support/ws.js';

const KEEP_ALIVE_MS = 300;

/** The subscription server alone, with a short keep-alive interval, on the test server's database. */
describe('WebSocket keep-alive', () => {
  let app: TestServer;
  let subscriptions: SubscriptionServer;
  let server: http.Server;
  let url: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    app = await startTestServer('sqlite');
    const dataSource = app.app.dataSource;
    subscriptions = createSubscriptionServer({
      schema: await buildGraphQLSchema(),
      logger: createLogger('silent'),
      authenticate: async (token) =>
        token === 'ok' ? { role: 'admin', tokenId: null, studioIds: null, personalData: true, expiresAt: null } : undefined,
      validTokenIds: async () => new Map<number, string>(),
      dataSource,
      realtime: {
        feed: new InProcessFeed(),
        log: new EventLog(dataSource),
        shared: new SharedLoads(),
        maxQueued: 100,
        maxBufferedBytes: 1024 * 1024,
      },
      keepAliveMs: KEEP_ALIVE_MS,
    });
    server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => subscriptions.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await subscriptions.close(1000);
    await new Promise((resolve) => server.close(resolve));
    await app.stop();
  });

  const open = async (autoPong: boolean) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong });
    sockets.push(socket);
    const pings: number[] = [];
    socket.on('ping', () => pings.push(Date.now()));
    socket.on('error', () => undefined);
    const closed = new Promise<{ code: number; at: number }>((resolve) =>
      socket.once('close', (code) => resolve({ code, at: Date.now() })),
    );
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ok' } }));
    await new Promise((resolve) => socket.once('message', resolve));
    return { socket, pings, closed };
  };

  it('pings every socket once per interval; one that answers stays, one that does not is dropped one to two intervals after an unanswered ping', async () => {
    const start = Date.now();
    const answering = await open(true);
    const silent = await open(false);
    const { code, at } = await silent.closed;
    expect(code).toBe(1006);
    expect(silent.pings.length).toBeGreaterThanOrEqual(1);
    const waited = at - silent.pings[0]!;
    expect(waited).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    expect(waited).toBeLessThanOrEqual(2 * KEEP_ALIVE_MS + 300);
    // The answering socket outlives several more intervals.
    await new Promise((resolve) => setTimeout(resolve, 4 * KEEP_ALIVE_MS));
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    expect(answering.pings.length).toBeGreaterThanOrEqual(3);
    expect(answering.pings.length).toBeLessThanOrEqual(Math.ceil((Date.now() - start) / KEEP_ALIVE_MS) + 1);
    await until(() => subscriptions.connections === 1, 1000, 'the silent connection to be gone');
  });
});

import WebSocket from 'ws';
import { TokenService } from '../src/domains/access/token.service.js';
import { TOO_MANY_SOCKETS_CLOSE_CODE } from '../src/graphql/ws.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { closeRawSockets, connect, disposeClients, rawSocket, subscribe, until, wsUrl } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const LIVE = 'subscription { events { seq type } }';

describe('WebSocket limits', () => {
  let server: TestServer;
  let key: string;
  let studioId: number;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3', WS_MAX_SOCKETS_PER_TOKEN: '2' });
    const studio = await server.addStudio();
    key = studio.webhookKey;
    studioId = studio.id;
  });
  afterEach(async () => {
    await disposeClients();
    await closeRawSockets();
    await until(() => server.app.subscriptions.connections === 0, 5000, 'every socket to close');
  });
  afterAll(() => server.stop());

  const init = async (token = ADMIN_TOKEN) => {
    const raw = await rawSocket(server.app.url);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await raw.message('connection_ack');
    return raw;
  };
  const errorFor = (raw: { messages: any[] }, id: string) => raw.messages.find((m) => m.type === 'error' && m.id === id);

  describe('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', () => {
    it('when a socket already runs as many operations as allowed, then one more subscribe gets an error TOO_MANY_SUBSCRIPTIONS, and the others keep receiving', async () => {
      const raw = await init();
      // Shared (fan-out) and standalone (resume) subscriptions count alike.
      raw.send({ type: 'subscribe', id: 'a', payload: { query: LIVE } });
      raw.send({ type: 'subscribe', id: 'b', payload: { query: 'subscription { events(types: ["DEVICE_CREATED"]) { seq type } }' } });
      raw.send({ type: 'subscribe', id: 'c', payload: { query: 'subscription { events(after: "0") { seq type } }' } });
      raw.send({ type: 'subscribe', id: 'd', payload: { query: LIVE } });
      await until(() => errorFor(raw, 'd') !== undefined, 5000, 'the error for d');
      expect(errorFor(raw, 'd').payload).toEqual([
        {
          message: 'too many operations on this socket: at most 3 at once; complete one first, or open another socket',
          extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
        },
      ]);
      await until(() => server.app.subscriptions.subscriptions === 3, 5000, 'the three subscriptions');

      expect((await server.post(key, delivery(5, { type: 'DEVICE_CREATED', timestamp: T0 }))).status).toBe(200);
      await until(
        () => ['a', 'b', 'c'].every((id) => raw.messages.some((m) => m.type === 'next' && m.id === id)),
        5000,
        'the event on a, b and c',
      );
      expect(raw.messages.filter((m) => m.id === 'd')).toHaveLength(1);
      expect(raw.socket.readyState).toBe(WebSocket.OPEN);

      // Once one completes, there is room again.
      raw.send({ type: 'complete', id: 'a' });
      await until(() => server.app.subscriptions.subscriptions === 2, 5000, 'a to end');
      raw.send({ type: 'subscribe', id: 'e', payload: { query: LIVE } });
      await until(() => server.app.subscriptions.subscriptions === 3, 5000, 'e to start');
      expect(errorFor(raw, 'e')).toBeUndefined();
    });

    it('when a socket sends hundreds of messages at once, then its reading pauses and resumes and every message is handled once, in order, while another client connects', async () => {
      const raw = await init();
      for (let i = 0; i < 600; i++) raw.send({ type: 'subscribe', id: `f${i}`, payload: { query: LIVE } });
      const other = await init(); // acknowledged meanwhile
      await until(() => raw.messages.filter((m) => m.type === 'error').length === 597, 10_000, '597 errors');
      expect(raw.messages.filter((m) => m.type === 'error').map((m) => m.id)).toEqual(Array.from({ length: 597 }, (_, i) => `f${i + 3}`));
      expect((await server.post(key, delivery(6, { type: 'DEVICE_CREATED', timestamp: T0 }))).status).toBe(200);
      expect(raw.socket.readyState).toBe(WebSocket.OPEN);
      expect(other.socket.readyState).toBe(WebSocket.OPEN);
    });

    it('when many subscribes arrive at once, then exactly the allowed number run', async () => {
      const raw = await init();
      for (let i = 0; i < 50; i++) raw.send({ type: 'subscribe', id: `s${i}`, payload: { query: LIVE } });
      await until(() => raw.messages.filter((m) => m.type === 'error').length === 47, 5000, '47 errors');
      await until(() => server.app.subscriptions.subscriptions === 3, 5000, 'three subscriptions');
      expect(raw.messages.filter((m) => m.type === 'error').every((m) => m.payload[0].extensions.code === 'TOO_MANY_SUBSCRIPTIONS')).toBe(
        true,
      );
    });
  });

  describe('WS_MAX_SOCKETS_PER_TOKEN', () => {
    it('when a token already has as many sockets as allowed, then another is closed with 4013 at connection_init, while another token connects', async () => {
      const partner = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studioId] })).token;
      const first = connect(server.app.url, partner);
      const second = connect(server.app.url, partner);
      await Promise.all([first.connected, second.connected]);
      const third = connect(server.app.url, partner);
      await expect(third.closed).resolves.toEqual({
        code: TOO_MANY_SOCKETS_CLOSE_CODE,
        reason: 'too many sockets for this token: at most 2 per instance',
      });
      expect(TOO_MANY_SOCKETS_CLOSE_CODE).toBe(4013);

      // Another token is not affected, and the token's open sockets keep working.
      const admin = connect(server.app.url, ADMIN_TOKEN);
      await expect(admin.connected).resolves.toBeUndefined();
      const still = subscribe(first, '{ studios { id } }');
      await expect(still.take(1)).resolves.toEqual([{ data: { studios: [{ id: String(studioId) }] } }]);

      // A socket that closes frees its place.
      await second.dispose();
      await until(() => server.app.subscriptions.connections === 2, 5000, 'the second socket to close');
      const again = connect(server.app.url, partner);
      await expect(again.connected).resolves.toBeUndefined();
    });

    it('when sockets are refused or fail to authenticate, then they do not use up the count', async () => {
      const partner = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studioId] })).token;
      for (let i = 0; i < 3; i++) {
        const refused = connect(server.app.url, 'ggt_unknown');
        await expect(refused.closed).resolves.toMatchObject({ code: 4403 });
      }
      const a = connect(server.app.url, partner);
      await a.connected;
      const b = connect(server.app.url, partner);
      await b.connected;
      const c = connect(server.app.url, partner);
      await expect(c.closed).resolves.toMatchObject({ code: 4013 });
      await a.dispose();
      await b.dispose();
      await until(() => server.app.subscriptions.connections === 0, 5000, 'both to close');
      const d = connect(server.app.url, partner);
      const e = connect(server.app.url, partner);
      await expect(Promise.all([d.connected, e.connected])).resolves.toBeDefined();
    });
  });
});

/**
 * A bare graphql-transport-ws socket that only records, per operation id, the `seq` of each
 * `next` (read with a regex: the test process must not be the bottleneck it measures).
 */
async function replayClient(
  url: string,
  ids: readonly string[],
  query: string,
): Promise<{ seqs: Map<string, number[]>; other: string[]; socket: WebSocket }> {
  const socket = new WebSocket(wsUrl(url), ['graphql-transport-ws']);
  const seqs = new Map(ids.map((id) => [id, [] as number[]]));
  const other: string[] = [];
  const acked = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const text = String(data);
      const next = /^\{"id":"([^"]+)","type":"next","payload":\{"data":\{"events":\{"seq":"(\d+)"\}\}\}\}$/.exec(text);
      if (next) seqs.get(next[1]!)?.push(Number(next[2]));
      else if (text.includes('"connection_ack"')) resolve();
      else other.push(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  await acked;
  for (const id of ids) socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query } }));
  return { seqs, other, socket };
}

describe.each(databaseKinds())('resumes with after: a reconnect storm (%s)', (kind) => {
  const EVENTS = 2000;
  const SOCKETS = 2;
  const PER_SOCKET = 20;
  let server: TestServer;
  let key: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, WS_MAX_SUBSCRIPTIONS_PER_SOCKET: String(PER_SOCKET) });
    key = (await server.addStudio()).webhookKey;
    for (let stored = 0; stored < EVENTS; stored += 1000) {
      const body = delivery(1, ...Array.from({ length: 1000 }, (_, i) => ({ type: 'CUSTOMER_UPDATED', timestamp: T0 + stored + i })));
      expect((await server.post(key, body)).status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await server.stop();
  });

  it('when many subscriptions resume from after "1" over thousands of events, then webhooks are answered between their slices, and each gets every event once, in order, then the live ones', async () => {
    const ids = Array.from({ length: PER_SOCKET }, (_, i) => `r${i}`);
    const replayed = SOCKETS * PER_SOCKET * (EVENTS - 1);
    let clients: Awaited<ReturnType<typeof replayClient>>[] = [];
    const received = () => clients.reduce((sum, client) => sum + [...client.seqs.values()].reduce((s, list) => s + list.length, 0), 0);

    // Webhooks one after another from before the replays start until half of them is through:
    // one is always in flight, so a replay holding the event loop holds its answer.
    const latencies: number[] = [];
    let posting = true;
    const poster = (async () => {
      while (posting) {
        const sent = performance.now();
        const response = await server.post(key, delivery(2, { type: 'DEVICE_CREATED', timestamp: T0 + EVENTS + latencies.length }));
        latencies.push(performance.now() - sent);
        expect(response.status).toBe(200);
      }
    })();
    const started = performance.now();
    clients = await Promise.all(
      Array.from({ length: SOCKETS }, () => replayClient(server.app.url, ids, 'subscription { events(after: "1") { seq } }')),
    );
    sockets.push(...clients.map((client) => client.socket));
    await until(() => received() >= replayed / 2, 150_000, 'half of the replays');
    posting = false;
    await poster;
    const live = latencies.length;
    await until(() => received() === SOCKETS * PER_SOCKET * (EVENTS - 1 + live), 150_000, 'every replay to finish and go live');
    const duration = performance.now() - started;

    // Measured against the replays' own duration, so that a loaded machine slows both alike.
    // Unpaced, one webhook waited for nearly the whole replay; paced, for a few turns of the loop.
    expect(Math.max(...latencies)).toBeLessThan(duration * 0.25);
    const expected = [...Array.from({ length: EVENTS - 1 }, (_, i) => i + 2), ...Array.from({ length: live }, (_, i) => EVENTS + 1 + i)];
    for (const client of clients) {
      expect(client.other).toEqual([]);
      for (const list of client.seqs.values()) expect(list).toEqual(expected);
    }
  }, 300_000);
});

import WebSocket from 'ws';
import { TokenService } from '../src/domains/access/token.service.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { closeRawSockets, connect, disposeClients, rawSocket, subscribe, until, wsUrl } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const LIVE = 'subscription { events { seq type } }';

describe('WebSocket /graphql: connection and protocol', () => {
  let server: TestServer;
  let key: string;
  let studioId: number;

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      ADMIN_TOKEN,
      WS_CONNECTION_INIT_TIMEOUT_MS: '300',
      WS_TOKEN_RECHECK_MS: '100',
      SUBSCRIPTION_MAX_QUEUE: '5',
    });
    const studio = await server.addStudio();
    key = studio.webhookKey;
    studioId = studio.id;
  });
  afterEach(async () => {
    await disposeClients();
    await closeRawSockets();
  });
  afterAll(() => server.stop());

  const init = async (payload: unknown = { authorization: `Bearer ${ADMIN_TOKEN}` }) => {
    const raw = await rawSocket(server.app.url);
    raw.send({ type: 'connection_init', payload });
    await raw.message('connection_ack');
    return raw;
  };

  describe('authentication (connection_init payload.authorization)', () => {
    it('when the token is sent as "Bearer <token>", then the connection is acknowledged', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN);
      await expect(client.connected).resolves.toBeUndefined();
    });

    it('when the bare token is sent, then the connection is acknowledged', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN, ADMIN_TOKEN);
      await expect(client.connected).resolves.toBeUndefined();
    });

    it.each([
      ['no connection params', null, undefined],
      ['an unknown token', 'ggt_not-a-real-token', undefined],
      ['a token that is not a string', null, 42],
      ['"Bearer" alone', null, 'Bearer '],
    ])('when connection_init carries %s, then the socket is closed with 4403 Forbidden', async (_what, token, authorization) => {
      const client = connect(server.app.url, token, authorization as string | undefined);
      await expect(client.closed).resolves.toEqual({ code: 4403, reason: 'Forbidden' });
    });

    it('when a token is revoked, then its open sockets are closed with 4403 (and other tokens stay connected)', async () => {
      const tokens = new TokenService(server.app.dataSource);
      const doomed = await tokens.create({ role: 'partner', studios: [studioId] });
      const kept = await tokens.create({ role: 'partner', studios: [studioId] });
      const a = connect(server.app.url, doomed.token);
      const b = connect(server.app.url, kept.token);
      await Promise.all([a.connected, b.connected]);
      subscribe(a, LIVE);
      await tokens.revoke(doomed.record.id);
      await expect(a.closed).resolves.toEqual({ code: 4403, reason: 'Forbidden: token revoked' });
      const still = subscribe(b, '{ studios { id } }');
      await expect(still.take(1)).resolves.toEqual([{ data: { studios: [{ id: String(studioId) }] } }]);
    });

    // Most rechecks only ask what was revoked or rotated lately; every twelfth asks about every open
    // token, which catches a change that carries no recent time (here: 100 ms rounds, so within ~1.3 s).
    it('when a token is revoked by hand with a time long past, then the periodic full recheck still closes its sockets', async () => {
      const tokens = new TokenService(server.app.dataSource);
      const doomed = await tokens.create({ role: 'partner', studios: [studioId] });
      const a = connect(server.app.url, doomed.token);
      await a.connected;
      // Let a few rounds pass, so that the next ones are the short kind.
      await new Promise((resolve) => setTimeout(resolve, 350));
      const started = Date.now();
      await server.app.dataSource.query(
        `UPDATE "api_tokens" SET "revokedAt" = ${Date.parse('2020-01-01T00:00:00Z')} WHERE "id" = ${doomed.record.id}`,
      );
      await expect(a.closed).resolves.toEqual({ code: 4403, reason: 'Forbidden: token revoked' });
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('protocol errors close with graphql-ws codes', () => {
    it('when a message is not valid JSON, then 4400', async () => {
      const raw = await rawSocket(server.app.url);
      raw.send('this is not json');
      await expect(raw.closed).resolves.toEqual({ code: 4400, reason: 'Invalid message received' });
    });

    it('when a message has an unknown type, then 4400', async () => {
      const raw = await init();
      raw.send({ type: 'gimme', id: '1' });
      await expect(raw.closed).resolves.toMatchObject({ code: 4400 });
    });

    it('when subscribe comes before connection_init, then 4401 Unauthorized', async () => {
      const raw = await rawSocket(server.app.url);
      raw.send({ type: 'subscribe', id: '1', payload: { query: LIVE } });
      await expect(raw.closed).resolves.toEqual({ code: 4401, reason: 'Unauthorized' });
    });

    it('when connection_init does not come in time, then 4408', async () => {
      const raw = await rawSocket(server.app.url);
      await expect(raw.closed).resolves.toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    });

    it('when an operation id is used twice while the first runs, then 4409', async () => {
      const raw = await init();
      raw.send({ type: 'subscribe', id: 'same', payload: { query: LIVE } });
      raw.send({ type: 'subscribe', id: 'same', payload: { query: LIVE } });
      await expect(raw.closed).resolves.toEqual({ code: 4409, reason: 'Subscriber for same already exists' });
    });

    it('when connection_init is sent twice, then 4429', async () => {
      const raw = await init();
      raw.send({ type: 'connection_init', payload: { authorization: ADMIN_TOKEN } });
      await expect(raw.closed).resolves.toEqual({ code: 4429, reason: 'Too many initialisation requests' });
    });

    it('when the client offers no subprotocol, then 4406', async () => {
      const raw = await rawSocket(server.app.url, null);
      await expect(raw.closed).resolves.toMatchObject({ code: 4406 });
    });

    it('when the upgrade asks for another path, then the socket is dropped without a handshake', async () => {
      const socket = new WebSocket(wsUrl(server.app.url, '/webhooks'), ['graphql-transport-ws']);
      const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
      expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    });
  });

  describe('operations', () => {
    it('when the query is invalid, then an error message with GRAPHQL_VALIDATION_FAILED and the socket stays open', async () => {
      const raw = await init();
      raw.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { events { nope } }' } });
      const error = await raw.message('error');
      expect(error).toEqual({
        id: '1',
        type: 'error',
        payload: [expect.objectContaining({ message: expect.stringContaining('nope'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
      });
      raw.send({ type: 'subscribe', id: '2', payload: { query: '{ studios { id } }' } });
      await expect(raw.message('next')).resolves.toMatchObject({ id: '2', payload: { data: { studios: [{ id: String(studioId) }] } } });
    });

    it('when the query does not parse, then an error message with GRAPHQL_PARSE_FAILED', async () => {
      const raw = await init();
      raw.send({ type: 'subscribe', id: '1', payload: { query: 'subscription {' } });
      await expect(raw.message('error')).resolves.toMatchObject({ payload: [{ extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
    });

    it('when a variable does not fit its type, then BAD_USER_INPUT naming it', async () => {
      const raw = await init();
      raw.send({
        type: 'subscribe',
        id: '1',
        payload: { query: 'subscription S($ids: [ID!]) { events(studioIds: $ids) { seq } }', variables: { ids: [true] } },
      });
      await expect(raw.message('error')).resolves.toMatchObject({
        id: '1',
        payload: [{ message: expect.stringContaining('$ids'), extensions: { code: 'BAD_USER_INPUT' } }],
      });
      expect(server.app.subscriptions.subscriptions).toBe(0);
    });

    it('when a subscription is deeper than the depth limit, then QUERY_TOO_DEEP before anything runs', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN);
      const deep =
        'subscription { customerCheckedIn { customer { visits { customer { visits { customer { visits { customer { visits { customer { customerId } } } } } } } } } } }';
      const subscription = subscribe(client, deep);
      await expect(subscription.done).rejects.toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP', limit: 10, measured: 11 }) }),
      ]);
      expect(server.app.subscriptions.subscriptions).toBe(0);
    });

    it('when a subscription is too costly, then QUERY_TOO_COMPLEX', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN);
      const costly = 'subscription { customerCreated { customer { visits(first: 100) { customer { visits(first: 100) { id } } } } } }';
      await expect(subscribe(client, costly).done).rejects.toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }),
      ]);
    });

    it('when a query is sent over the socket, then it is answered and completed', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN);
      const query = subscribe(client, '{ studios { id } }');
      await expect(query.take(1)).resolves.toEqual([{ data: { studios: [{ id: String(studioId) }] } }]);
      await expect(query.done).resolves.toBeUndefined();
    });

    it('when a subscription is sent over HTTP, then 400 BAD_REQUEST and nothing subscribes', async () => {
      const response = await fetch(`${server.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: LIVE }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        errors: [
          expect.objectContaining({ message: expect.stringContaining('served over WebSocket'), extensions: { code: 'BAD_REQUEST' } }),
        ],
      });
      expect(server.app.subscriptions.subscriptions).toBe(0);
    });

    it('when the client completes a subscription, then the server stops listening for it', async () => {
      const client = connect(server.app.url, ADMIN_TOKEN);
      const live = subscribe(client, LIVE);
      await until(() => server.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
      live.unsubscribe();
      await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'the subscription to end');
    });
  });

  describe('slow consumers', () => {
    it('when a subscriber falls more than SUBSCRIPTION_MAX_QUEUE events behind, then its socket is closed with 4008 and the others still get theirs', async () => {
      const slow = connect(server.app.url, ADMIN_TOKEN);
      const fast = connect(server.app.url, ADMIN_TOKEN);
      const all = subscribe(slow, LIVE);
      const devices = subscribe(fast, 'subscription { events(types: ["DEVICE_CREATED"]) { type entityId } }');
      await until(() => server.app.subscriptions.subscriptions === 2, 5000, 'both subscriptions');
      // One delivery of 8 events lands at once: more than the 5 one subscription may hold.
      const burst = delivery(7, ...Array.from({ length: 7 }, (_, i) => ({ type: 'CUSTOMER_UPDATED', timestamp: T0 + i })), {
        type: 'DEVICE_CREATED',
        timestamp: T0 + 10,
      });
      expect((await server.post(key, burst)).status).toBe(200);
      await expect(slow.closed).resolves.toEqual({ code: 4008, reason: 'slow consumer: reconnect and resume with after' });
      await expect(devices.take(1)).resolves.toEqual([{ data: { events: { type: 'DEVICE_CREATED', entityId: '7' } } }]);
      expect(all.results.length).toBeLessThanOrEqual(5);
    });

    it('when a client stops reading its socket, then it is closed with 4008 once its queue is full, without holding up the webhooks', async () => {
      const raw = await init();
      raw.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { events { seq content } }' } });
      await until(() => server.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
      const tcp = (raw.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause();
      // Just under the 64 KB of content one event may carry (webhook limits).
      const padding = 'x'.repeat(60_000);
      let posted = 0;
      // The kernel buffers a few MB; then the server can no longer send, and the queue fills.
      while (server.app.subscriptions.subscriptions === 1 && posted < 1500) {
        const response = await server.post(key, delivery(8, { type: 'SOMETHING_BULKY', timestamp: T0 + posted, content: { padding } }));
        expect(response.status).toBe(200);
        posted += 1;
      }
      expect(server.app.subscriptions.subscriptions).toBe(0);
      tcp.resume();
      await expect(raw.closed).resolves.toEqual({ code: 4008, reason: 'slow consumer: reconnect and resume with after' });
    });
  });
});

describe('WebSocket /graphql: shutdown', () => {
  it('when the service stops, then open sockets are closed with 1001 before the HTTP server closes', async () => {
    const server = await startTestServer('sqlite', { ADMIN_TOKEN });
    try {
      const client = connect(server.app.url, ADMIN_TOKEN);
      subscribe(client, LIVE);
      await until(() => server.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
      const stopped = server.stop();
      await expect(client.closed).resolves.toEqual({ code: 1001, reason: 'going away: the server is shutting down' });
      await stopped;
      expect(server.app.subscriptions.connections).toBe(0);
    } finally {
      await disposeClients();
      await server.stop();
    }
  });
});

import type { Writable } from 'node:stream';
import type { GraphQLResolveInfo } from 'graphql';
import WebSocket from 'ws';
import { createContext } from '../src/api/context.js';
import type { Viewer } from '../src/api/viewer.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { createLogger } from '../src/log.js';
import { MEMBER_ACCESS } from '../src/graphql/member-access.js';
import { SHARED_FIELDS } from '../src/graphql/ws.js';
import type { LoggedEvent } from '../src/events/logged-event.js';
import { InProcessFeed } from '../src/realtime/in-process-feed.js';
import { FanoutHub, FanoutMember, textFrames, type FanoutSocket } from '../src/realtime/fanout-hub.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { closeRawSockets, connect, disposeClients, rawSocket, subscribe, until, type RawSocket } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** ws's frame parser (exported at run time, not in @types/ws). */
const { Receiver } = WebSocket as unknown as { Receiver: new (options: { isServer: boolean }) => Writable };
const T0 = Date.parse('2026-03-02T07:00:00Z');
const LIVE = 'subscription { events { seq type entityId studioId } }';

describe('fan-out: subscriptions of one shape share one execution', () => {
  let server: TestServer;
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let partnerA: string;
  let partnerB: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    const tokens = new TokenService(server.app.dataSource);
    partnerA = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    partnerB = (await tokens.create({ role: 'partner', studios: [b.id] })).token;
  });
  afterEach(async () => {
    await disposeClients();
    await closeRawSockets();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  const post = async (key: string, entityId: number, type = 'CUSTOMER_UPDATED') => {
    const response = await server.post(key, delivery(entityId, { type, timestamp: T0 + entityId }));
    expect(response.status).toBe(200);
  };
  const init = async (token = ADMIN_TOKEN) => {
    const raw = await rawSocket(server.app.url);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await raw.message('connection_ack');
    return raw;
  };
  const nexts = (raw: RawSocket, id: string) => raw.messages.filter((m) => m.type === 'next' && m.id === id).map((m) => m.payload.data);
  const serving = (subscriptions: number, groups: number) =>
    until(
      () => server.app.subscriptions.subscriptions === subscriptions && server.app.subscriptions.groups === groups,
      5000,
      `${subscriptions} subscriptions in ${groups} group(s)`,
    );

  it('when identical documents run under different ids, on one socket and on several, then each gets its own frame with its own id', async () => {
    const odd = 'id with "quotes", a \\ and ü';
    const one = await init();
    const two = await init();
    one.send({ type: 'subscribe', id: 'x', payload: { query: LIVE } });
    one.send({ type: 'subscribe', id: odd, payload: { query: LIVE } });
    two.send({ type: 'subscribe', id: 'x', payload: { query: LIVE } });
    const client = connect(server.app.url, ADMIN_TOKEN);
    const viaClient = subscribe(client, LIVE);
    await serving(4, 1);
    await post(a.webhookKey, 11);
    const [result] = await viaClient.take(1);
    const expected = { events: { seq: expect.any(String), type: 'CUSTOMER_UPDATED', entityId: '11', studioId: String(a.id) } };
    expect(result).toEqual({ data: expected });
    await until(
      () => nexts(one, odd).length === 1 && nexts(one, 'x').length === 1 && nexts(two, 'x').length === 1,
      5000,
      'a frame per subscription',
    );
    expect(nexts(one, 'x')).toEqual([expected.events].map((events) => ({ events })));
    expect(nexts(one, odd)).toEqual(nexts(one, 'x'));
    expect(nexts(two, 'x')).toEqual(nexts(one, 'x'));
    expect(
      one.messages
        .filter((m) => m.type === 'next')
        .map((m) => m.id)
        .sort(),
    ).toEqual([odd, 'x'].sort());
  });

  it("when two tokens with different studio scopes send the same document, then neither sees the other studio's events", async () => {
    const alpha = subscribe(connect(server.app.url, partnerA), LIVE);
    const beta = subscribe(connect(server.app.url, partnerB), LIVE);
    const admin = subscribe(connect(server.app.url, ADMIN_TOKEN), LIVE);
    await serving(3, 3);
    await post(a.webhookKey, 21);
    await post(b.webhookKey, 22);
    await post(a.webhookKey, 23);
    await post(b.webhookKey, 24);
    const all = (await admin.take(4)).map((r) => r.data!['events'].entityId);
    expect(all).toEqual(['21', '22', '23', '24']);
    expect((await alpha.take(2)).map((r) => r.data!['events'].entityId)).toEqual(['21', '23']);
    expect((await beta.take(2)).map((r) => r.data!['events'].entityId)).toEqual(['22', '24']);
    // Events arrive in seq order: anything more would have come before the last ones.
    expect(alpha.results).toHaveLength(2);
    expect(beta.results).toHaveLength(2);
  });

  it('when a filter excludes an event, then that subscription receives nothing of it, while the unfiltered one does', async () => {
    const raw = await init();
    raw.send({
      type: 'subscribe',
      id: 'devices',
      payload: { query: 'subscription { events(types: ["DEVICE_CREATED"]) { type entityId } }' },
    });
    raw.send({
      type: 'subscribe',
      id: 'byVariable',
      payload: { query: 'subscription ($id: ID) { events(entityId: $id) { type entityId } }', variables: { id: '33' } },
    });
    raw.send({ type: 'subscribe', id: 'all', payload: { query: 'subscription { events { type entityId } }' } });
    await serving(3, 3);
    await post(a.webhookKey, 31);
    await post(a.webhookKey, 32, 'DEVICE_CREATED');
    await post(a.webhookKey, 33);
    await until(() => nexts(raw, 'all').length === 3, 5000, 'the three events');
    // The group of `all` sent its last frame after the others were done with that event.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(nexts(raw, 'devices')).toEqual([{ events: { type: 'DEVICE_CREATED', entityId: '32' } }]);
    expect(nexts(raw, 'byVariable')).toEqual([{ events: { type: 'CUSTOMER_UPDATED', entityId: '33' } }]);
  });

  // A document's second group on runs its selection compiled (graphql-jit, subscription-planner.ts),
  // except where a fragment spread has a condition: graphql-js decides those per execution.
  it('when several groups run one document, compiled or not, then each gets what graphql-js executes, conditional fragments included', async () => {
    const raw = await init();
    const plain = 'subscription P($c: [ID!]) { customerUpdated(customerIds: $c) { event { type entityId } customer { customerId } } }';
    const conditional =
      'subscription C($c: [ID!], $x: Boolean!) { customerUpdated(customerIds: $c) { event { type } ...F @include(if: $x) ...F } } ' +
      'fragment F on CustomerEventPayload { event { entityId } }';
    for (const k of [41, 42, 43]) {
      raw.send({ type: 'subscribe', id: `plain${k}`, payload: { query: plain, variables: { c: [String(k)] } } });
      raw.send({ type: 'subscribe', id: `conditional${k}`, payload: { query: conditional, variables: { c: [String(k)], x: k === 43 } } });
    }
    await serving(6, 6);
    for (const k of [41, 42, 43]) await post(a.webhookKey, k);
    await until(() => [41, 42, 43].every((k) => nexts(raw, `conditional${k}`).length === 1), 5000, 'an event per group');
    for (const k of [41, 42, 43]) {
      const id = String(k);
      expect(nexts(raw, `plain${k}`)).toEqual([
        { customerUpdated: { event: { type: 'CUSTOMER_UPDATED', entityId: id }, customer: { customerId: id } } },
      ]);
      // The unconditional spread includes F whatever $x says.
      expect(nexts(raw, `conditional${k}`)).toEqual([{ customerUpdated: { event: { type: 'CUSTOMER_UPDATED', entityId: id } } }]);
    }
  });

  // A planned group's context skips the shared root fields' guards and resolvers (subscription-planner.ts,
  // resolveToSourceWhenPlanned): sound only while each of them, run in full, gives its root back or
  // refuses as `subscribe` does (a member on a field closed to members).
  it('every shared root field, through its guards and resolver, resolves an event to the event itself, for every role', async () => {
    const schema = await buildGraphQLSchema();
    const fields = schema.getSubscriptionType()!.getFields();
    const viewers: Viewer[] = [
      { role: 'admin', tokenId: null, studioIds: null, personalData: true, expiresAt: null },
      { role: 'app', tokenId: 1, studioIds: [a.id], personalData: true, expiresAt: null },
      { role: 'partner', tokenId: 2, studioIds: [a.id], personalData: false, expiresAt: null },
      { role: 'member', tokenId: null, studioIds: [a.id], personalData: false, customerId: 7, expiresAt: null },
    ];
    expect(SHARED_FIELDS.size).toBeGreaterThan(40);
    for (const viewer of viewers) {
      const context = createContext(createLogger('silent'), viewer, server.app.dataSource);
      for (const name of SHARED_FIELDS) {
        const resolve = fields[name]?.resolve;
        expect([name, typeof resolve]).toEqual([name, 'function']);
        for (const args of [{}, { studioIds: [String(a.id)] }]) {
          const root = { event: { seq: 1, entityId: 7 }, customer: { customerId: 7 } };
          let resolved: typeof root;
          try {
            resolved = (await resolve!(root, args, context, {} as GraphQLResolveInfo)) as typeof root;
          } catch (error) {
            expect([viewer.role, name, (error as Error).message]).toEqual([
              'member',
              name,
              expect.stringContaining('not available to members'),
            ]);
            expect(MEMBER_ACCESS[`Subscription.${name}`]).toBe('forbidden');
            continue;
          }
          // The same fields and values (`events` gets an EventRecord copy of its root from type-graphql).
          expect([viewer.role, name, resolved]).toEqual([viewer.role, name, root]);
          expect(resolved.event).toBe(root.event);
        }
      }
    }
  });

  it('when one subscription of a group completes, then the others keep receiving, and the group ends with its last member', async () => {
    const raw = await init();
    raw.send({ type: 'subscribe', id: 'stays', payload: { query: LIVE } });
    raw.send({ type: 'subscribe', id: 'goes', payload: { query: LIVE } });
    await serving(2, 1);
    raw.send({ type: 'complete', id: 'goes' });
    await serving(1, 1);
    await post(a.webhookKey, 41);
    await until(() => nexts(raw, 'stays').length === 1, 5000, 'the event');
    expect(nexts(raw, 'goes')).toEqual([]);
    // A client's complete is not echoed; the id may be used again.
    expect(raw.messages.filter((m) => m.type === 'complete')).toEqual([]);
    raw.send({ type: 'subscribe', id: 'goes', payload: { query: LIVE } });
    await serving(2, 1);
    raw.send({ type: 'complete', id: 'stays' });
    raw.send({ type: 'complete', id: 'goes' });
    await serving(0, 0);
  });

  it('when a group ends while a new subscription of its shape is joining it, then the newcomer gets a new group', async () => {
    const raw = await init();
    raw.send({ type: 'subscribe', id: 'first', payload: { query: LIVE } });
    await serving(1, 1);
    // Both messages in one TCP write: the newcomer finds the group, which ends before it joins.
    const tcp = (raw.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    tcp.cork();
    raw.send({ type: 'subscribe', id: 'second', payload: { query: LIVE } });
    raw.send({ type: 'complete', id: 'first' });
    tcp.uncork();
    // The server runs in this process: once its pong is read, it has handled the messages before.
    raw.send({ type: 'ping' });
    await raw.message('pong');
    expect([server.app.subscriptions.subscriptions, server.app.subscriptions.groups]).toEqual([1, 1]);
    await post(a.webhookKey, 45);
    await until(() => nexts(raw, 'second').length === 1, 5000, 'the event');
    expect(nexts(raw, 'first')).toEqual([]);
  });

  it('when a subscription joins a running group, then it gets the events announced from then on only', async () => {
    const early = subscribe(connect(server.app.url, ADMIN_TOKEN), LIVE);
    await serving(1, 1);
    await post(a.webhookKey, 51);
    await early.take(1);
    const late = subscribe(connect(server.app.url, ADMIN_TOKEN), LIVE);
    await serving(2, 1);
    await post(a.webhookKey, 52);
    expect((await late.take(1)).map((r) => r.data!['events'].entityId)).toEqual(['52']);
    expect((await early.take(2)).map((r) => r.data!['events'].entityId)).toEqual(['51', '52']);
  });

  it('when a resume (after) and a live subscription share a document, then the resume is served on its own, from the log', async () => {
    await post(a.webhookKey, 61);
    const seq = Number((await server.sql<{ max: number }>('SELECT MAX(seq) AS "max" FROM events'))[0]!.max);
    const live = subscribe(connect(server.app.url, ADMIN_TOKEN), 'subscription ($after: String) { events(after: $after) { entityId } }');
    const resumed = subscribe(
      connect(server.app.url, ADMIN_TOKEN),
      'subscription ($after: String) { events(after: $after) { entityId } }',
      { after: String(seq - 1) },
    );
    await serving(2, 1);
    await post(a.webhookKey, 62);
    expect((await resumed.take(2)).map((r) => r.data!['events'].entityId)).toEqual(['61', '62']);
    expect((await live.take(1)).map((r) => r.data!['events'].entityId)).toEqual(['62']);
  });
});

describe('FanoutHub', () => {
  const event = (seq: number, type = 'CUSTOMER_UPDATED'): LoggedEvent => ({
    seq,
    uuid: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    position: 0,
    studioId: 1,
    tenantId: 1,
    type,
    known: true,
    entityId: seq,
    content: null,
    occurredAt: seq,
    receivedAt: seq,
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  /**
   * A socket that keeps the messages it is sent, read from the frames by ws's own parser (as a
   * client reads them); `bufferedAmount` is set by the test.
   */
  class RecordingSocket implements FanoutSocket {
    readyState = 1;
    bufferedAmount = 0;
    readonly sent: string[] = [];
    writes = 0;
    closedWith: [number, string] | undefined;
    private readonly receiver = new Receiver({ isServer: false });
    constructor() {
      this.receiver.on('message', (data: Buffer, isBinary: boolean) =>
        this.sent.push(isBinary ? `binary: ${data.toString('hex')}` : data.toString('utf8')),
      );
      this.receiver.on('error', (error: Error) => this.sent.push(`error: ${error.message}`));
    }
    write(frames: Buffer): void {
      this.writes += 1;
      this.receiver.write(frames);
    }
    close(code: number, reason: string): void {
      this.closedWith = [code, reason];
      this.readyState = 2;
    }
  }

  const setup = (options: { maxQueued?: number; maxBufferedBytes?: number; sliceSize?: number } = {}) => {
    const bus = new InProcessFeed();
    const hub = new FanoutHub({
      feed: bus,
      maxQueued: options.maxQueued ?? 100,
      maxBufferedBytes: options.maxBufferedBytes ?? 1000,
      slow: { code: 4008, reason: 'slow' },
      sliceSize: options.sliceSize ?? 1000,
    });
    const rendered: number[] = [];
    const group = hub.ensureGroup('g', {
      selector: { scope: null, types: ['CUSTOMER_UPDATED'] },
      map: (e) => e,
      render: (root) => {
        rendered.push((root as LoggedEvent).seq);
        return JSON.stringify({ data: { seq: (root as LoggedEvent).seq } });
      },
      fail: () => '[]',
    });
    const join = (id: string) => {
      const socket = new RecordingSocket();
      const member = new FanoutMember(socket, id, { subscriptions: {} });
      group.join(member);
      return { socket, member };
    };
    return { bus, hub, group, join, rendered };
  };

  it('hands nothing out inside publish (the webhook is answered first), then renders each event once for every socket', async () => {
    const { bus, join, rendered } = setup();
    const members = ['1', '1', '2'].map(join);
    await bus.publish([event(1), event(2, 'DEVICE_CREATED'), event(3)]);
    expect(members.map(({ socket }) => socket.sent)).toEqual([[], [], []]);
    await until(() => members.every(({ socket }) => socket.sent.length === 2), 1000, 'the frames');
    expect(rendered).toEqual([1, 3]);
    expect(members[0]!.socket.sent).toEqual([
      '{"id":"1","type":"next","payload":{"data":{"seq":1}}}',
      '{"id":"1","type":"next","payload":{"data":{"seq":3}}}',
    ]);
    expect(members[2]!.socket.sent[1]).toBe('{"id":"2","type":"next","payload":{"data":{"seq":3}}}');
  });

  it('when events are rendered while a walk is under way, then the members not yet walked get them in the same write, the others in the next walk', async () => {
    const { bus, join, rendered } = setup({ sliceSize: 1 });
    const [a, b, c] = ['1', '1', '2'].map(join);
    await bus.publish([event(1), event(2), event(3)]);
    await until(() => [a, b, c].every((m) => m!.socket.sent.length === 3), 1000, 'the frames');
    expect(rendered).toEqual([1, 2, 3]);
    for (const { socket } of [a!, b!, c!]) expect(socket.sent.map((m) => JSON.parse(m).payload.data.seq)).toEqual([1, 2, 3]);
    // a got event 1 before the walk yielded (2 and 3 were rendered meanwhile); b and c got all three at once.
    expect([a, b, c].map((m) => m!.socket.writes)).toEqual([2, 1, 1]);
  });

  it('a member that joins after an event was announced does not get it', async () => {
    const { bus, join } = setup();
    const early = join('1');
    await bus.publish([event(1)]);
    await bus.publish([event(2)]);
    const late = join('1');
    await bus.publish([event(3)]);
    await until(() => early.socket.sent.length === 3 && late.socket.sent.length === 1, 1000, 'the frames');
    expect(late.socket.sent.map((m) => JSON.parse(m).payload.data.seq)).toEqual([3]);
  });

  it('frames text of every length class as ws reads it (7-bit, 16-bit and 64-bit lengths)', () => {
    const socket = new RecordingSocket();
    const texts = ['', 'x'.repeat(125), 'é'.repeat(63), 'y'.repeat(126), 'z'.repeat(65_535), 'w'.repeat(70_000)];
    socket.write(textFrames(texts.map((text) => [Buffer.from(text.slice(0, 1)), Buffer.from(text.slice(1))])));
    expect(socket.sent).toEqual(texts);
  });

  it('writes sliceSize sockets per turn of the event loop', async () => {
    const { bus, join } = setup({ sliceSize: 2 });
    const members = ['a', 'b', 'c', 'd', 'e'].map(join);
    await bus.publish([event(1)]);
    await tick(); // the hub's turn (scheduled first): render, then the first slice
    expect(members.map(({ socket }) => socket.sent.length)).toEqual([1, 1, 0, 0, 0]);
    await tick();
    expect(members.map(({ socket }) => socket.sent.length)).toEqual([1, 1, 1, 1, 0]);
    await until(() => members.every(({ socket }) => socket.sent.length === 1), 1000, 'every slice');
  });

  it('closes a socket with more than maxBufferedBytes waiting with 4008, and it leaves the group; the others get the frame', async () => {
    const { bus, hub, join } = setup({ maxBufferedBytes: 1000 });
    const slow = join('slow');
    const fast = join('fast');
    slow.socket.bufferedAmount = 1001;
    await bus.publish([event(1)]);
    await until(() => fast.socket.sent.length === 1, 1000, 'the frame');
    expect(slow.socket.sent).toEqual([]);
    expect(slow.socket.closedWith).toEqual([4008, 'slow']);
    expect(slow.member.ended).toBe(true);
    expect(hub.subscriptions).toBe(1);
  });

  it('when more than maxQueued matching events wait for a group, then every member is closed with 4008 and the group ends', async () => {
    const { bus, hub, join, rendered } = setup({ maxQueued: 2 });
    const members = ['a', 'b'].map(join);
    await bus.publish([event(1), event(2), event(3)]);
    await tick();
    expect(members.map(({ socket }) => socket.closedWith)).toEqual([
      [4008, 'slow'],
      [4008, 'slow'],
    ]);
    expect(hub.groupCount).toBe(0);
    await tick();
    expect(rendered).toEqual([]);
  });

  it('when mapping or rendering an event fails, then every member gets the events before it, then an error message with its id, and is released', async () => {
    const bus = new InProcessFeed();
    // One socket per turn: b has not been walked yet when event 2 fails.
    const hub = new FanoutHub({ feed: bus, maxQueued: 100, maxBufferedBytes: 1000, slow: { code: 4008, reason: 'slow' }, sliceSize: 1 });
    const group = hub.ensureGroup('g', {
      selector: { scope: null },
      map: (e) => {
        if (e.seq === 2) throw new Error('the database went away');
        return e;
      },
      render: (root) => JSON.stringify({ data: { seq: (root as LoggedEvent).seq } }),
      fail: (error) => JSON.stringify([{ message: (error as Error).message }]),
    });
    const registry = { subscriptions: {} as Record<string, unknown> };
    const members = ['a', 'b'].map((id) => {
      const socket = new RecordingSocket();
      const member = new FanoutMember(socket, id, registry);
      registry.subscriptions[id] = member;
      group.join(member);
      return { socket, member };
    });
    await bus.publish([event(1), event(2), event(3)]);
    await until(() => hub.groupCount === 0, 1000, 'the group to end');
    for (const [i, id] of ['a', 'b'].entries()) {
      expect(members[i]!.socket.sent.map((m) => JSON.parse(m))).toEqual([
        { id, type: 'next', payload: { data: { seq: 1 } } },
        { id, type: 'error', payload: [{ message: 'the database went away' }] },
      ]);
    }
    expect(members[1]!.socket.writes).toBe(1);
    expect(registry.subscriptions).toEqual({});
    expect(hub.groupCount).toBe(0);
    expect(hub.subscriptions).toBe(0);
  });

  it('a member that ended before joining is not added (a complete or close during planning)', () => {
    const { group, hub } = setup();
    const member = new FanoutMember(new RecordingSocket(), '1', { subscriptions: {} });
    void member.return();
    expect(group.join(member)).toBe(false);
    expect(hub.subscriptions).toBe(0);
  });
});

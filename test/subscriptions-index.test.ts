import { randomBytes } from 'node:crypto';
import { TokenService } from '../src/domains/access/token.service.js';
import type { LoggedEvent } from '../src/events/logged-event.js';
import { SelectorIndex } from '../src/realtime/selector-index.js';
import { createTestDatabase, databaseKinds, redisUrl, type DatabaseKind, type TestDatabase } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { closeRawSockets, connect, disposeClients, subscribe, until, type Subscription } from './support/ws.js';

/*
 * The fan-out hub files subscriptions by what they filter on (entity, type, studio, tenant), so an
 * event reaches the subscriptions whose filters match it, and only those do any work for it. These
 * drive the real service: webhooks in, graphql-ws subscribers out, on SQLite and PostgreSQL, then
 * through Redis (one instance on SQLite, two on PostgreSQL).
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const EVENT = '{ seq type entityId studioId }';

interface Posted {
  readonly type: string;
  readonly entityId: number;
  readonly studio: 'a' | 'b';
  readonly content?: Record<string, unknown>;
}

/** What a subscriber receives of an event, whichever field delivered it. */
interface Seen {
  readonly type: string;
  readonly entityId: string;
  readonly studioId: string;
}

/** One subscription of the matrix: where it runs, as whom, and which of the posted events it must get. */
interface Case {
  readonly name: string;
  readonly token: 'admin' | 'partnerA';
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** The root field (its payload is the event, or has `event`). */
  readonly field: string;
  /** Served one by one (a resume), not by a group. */
  readonly alone?: boolean;
  readonly wants: (event: Posted) => boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'customer 1',
    token: 'admin',
    field: 'customerCheckedIn',
    query: `subscription ($c: [ID!]) { customerCheckedIn(customerIds: $c) { event ${EVENT} } }`,
    variables: { c: ['1'] },
    wants: (e) => e.type === 'CUSTOMER_CHECKIN' && e.entityId === 1,
  },
  {
    name: 'customer 2',
    token: 'admin',
    field: 'customerCheckedIn',
    query: `subscription ($c: [ID!]) { customerCheckedIn(customerIds: $c) { event ${EVENT} } }`,
    variables: { c: ['2'] },
    wants: (e) => e.type === 'CUSTOMER_CHECKIN' && e.entityId === 2,
  },
  {
    name: 'check-ins, studio A token',
    token: 'partnerA',
    field: 'customerCheckedIn',
    query: `subscription { customerCheckedIn { event ${EVENT} } }`,
    wants: (e) => e.type === 'CUSTOMER_CHECKIN' && e.studio === 'a',
  },
  {
    name: 'studio B',
    token: 'admin',
    field: 'events',
    query: 'subscription ($s: [ID!]) { events(studioIds: $s) ' + EVENT + ' }',
    variables: { s: ['B'] },
    wants: (e) => e.studio === 'b',
  },
  {
    name: 'two types',
    token: 'admin',
    field: 'events',
    query: `subscription { events(types: ["CUSTOMER_UPDATED", "DEVICE_CREATED"]) ${EVENT} }`,
    wants: (e) => e.type === 'CUSTOMER_UPDATED' || e.type === 'DEVICE_CREATED',
  },
  { name: 'everything', token: 'admin', field: 'events', query: `subscription { events ${EVENT} }`, wants: () => true },
  {
    name: 'no customer',
    token: 'admin',
    field: 'customerCheckedIn',
    query: `subscription { customerCheckedIn(customerIds: []) { event ${EVENT} } }`,
    wants: () => false,
  },
  {
    name: 'contract 77',
    token: 'admin',
    field: 'contractUpdated',
    query: `subscription { contractUpdated(contractIds: ["77"]) { event ${EVENT} } }`,
    wants: (e) => e.type === 'CONTRACT_UPDATED' && e.content?.['contractId'] === 77,
  },
  {
    name: 'entity 1, studio A token',
    token: 'partnerA',
    field: 'events',
    query: `subscription { events(entityId: "1") ${EVENT} }`,
    wants: (e) => e.entityId === 1 && e.studio === 'a',
  },
  {
    name: 'booking 500',
    token: 'admin',
    field: 'classBookingUpdated',
    query: `subscription { classBookingUpdated(bookingIds: ["500"]) { event ${EVENT} } }`,
    wants: (e) => e.type === 'CLASS_BOOKING_UPDATED' && e.entityId === 500,
  },
  {
    name: 'check-outs, resumed',
    token: 'admin',
    field: 'events',
    alone: true,
    query: 'subscription ($after: String) { events(after: $after, types: ["CUSTOMER_CHECKOUT"]) ' + EVENT + ' }',
    variables: { after: 'NOW' },
    wants: (e) => e.type === 'CUSTOMER_CHECKOUT',
  },
];

const POSTED: readonly Posted[] = [
  { type: 'CUSTOMER_CHECKIN', entityId: 1, studio: 'a' },
  { type: 'CUSTOMER_CHECKIN', entityId: 2, studio: 'b' },
  { type: 'CUSTOMER_CHECKIN', entityId: 3, studio: 'a' },
  { type: 'CUSTOMER_UPDATED', entityId: 1, studio: 'b' },
  { type: 'CUSTOMER_CHECKOUT', entityId: 1, studio: 'a' },
  { type: 'CONTRACT_UPDATED', entityId: 4, studio: 'a', content: { contractId: 77 } },
  { type: 'CONTRACT_UPDATED', entityId: 4, studio: 'a', content: { contractId: 78 } },
  { type: 'CLASS_BOOKING_UPDATED', entityId: 500, studio: 'b' },
  { type: 'DEVICE_CREATED', entityId: 9, studio: 'b' },
  { type: 'CUSTOMER_CHECKIN', entityId: 1, studio: 'b' },
  { type: 'CUSTOMER_CHECKOUT', entityId: 2, studio: 'b' },
];

/** The service instances of one scenario, sharing a database (and a Redis channel when there are two). */
interface Setup {
  readonly instances: readonly TestServer[];
  readonly keys: { readonly a: string; readonly b: string };
  readonly studioIds: { readonly a: number; readonly b: number };
  readonly tokens: { readonly admin: string; readonly partnerA: string };
}

async function prepare(instances: readonly TestServer[]): Promise<Setup> {
  const [first] = instances;
  const a = await first!.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
  const b = await first!.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
  const partnerA = (await new TokenService(first!.app.dataSource).create({ role: 'partner', studios: [a.id] })).token;
  return {
    instances,
    keys: { a: a.webhookKey, b: b.webhookKey },
    studioIds: { a: a.id, b: b.id },
    tokens: { admin: ADMIN_TOKEN, partnerA },
  };
}

const counters = (server: TestServer) => ({ ...server.app.subscriptions.fanoutCounters });
const lastSeq = async (server: TestServer) =>
  Number((await server.sql<{ max: number | string | null }>('SELECT MAX(seq) AS "max" FROM events'))[0]?.max ?? 0);
const seen = (subscription: Subscription<Record<string, any>>, field: string): Seen[] =>
  subscription.results.map((result) => {
    const payload = result.data?.[field];
    const event = payload?.event ?? payload;
    return { type: event.type, entityId: event.entityId, studioId: event.studioId };
  });

/**
 * Every case subscribes on each instance in turn; the events are posted round robin over the
 * instances; each subscriber must receive exactly the events its filters (and its token's scope)
 * select, in the order stored; and each instance must have executed exactly one event per group
 * per matching event: no more.
 */
async function routesEveryFilter(setup: Setup): Promise<void> {
  const { instances, keys, studioIds, tokens } = setup;
  const after = String(await lastSeq(instances[0]!));
  const clients = instances.map((server) => ({
    admin: connect(server.app.url, tokens.admin),
    partnerA: connect(server.app.url, tokens.partnerA),
  }));
  const running = CASES.map((c, i) => {
    const where = i % instances.length;
    const variables = Object.fromEntries(
      Object.entries(c.variables ?? {}).map(([name, value]) => [
        name,
        value === 'NOW' ? after : Array.isArray(value) ? value.map((v) => (v === 'B' ? String(studioIds.b) : v)) : value,
      ]),
    );
    return { c, where, subscription: subscribe(clients[where]![c.token], c.query, variables) };
  });
  for (const [where, server] of instances.entries()) {
    const here = running.filter((r) => r.where === where).length;
    await until(() => server.app.subscriptions.subscriptions === here, 5000, `${here} subscriptions on instance ${where + 1}`);
  }
  const before = instances.map(counters);
  for (const [i, event] of POSTED.entries()) {
    const server = instances[i % instances.length]!;
    const response = await server.post(
      keys[event.studio],
      delivery(event.entityId, { type: event.type, timestamp: T0 + i * 60_000, content: event.content ?? null }),
    );
    expect(response.status).toBe(200);
  }
  const studioOf = (event: Posted) => String(studioIds[event.studio]);
  const expected = running.map(({ c }) =>
    POSTED.filter(c.wants).map((e) => ({ type: e.type, entityId: String(e.entityId), studioId: studioOf(e) })),
  );
  await until(
    () => running.every(({ subscription, c }, i) => seen(subscription, c.field).length >= expected[i]!.length),
    10_000,
    'every expected event',
  );
  // Anything wrongly routed would have been delivered by now: every instance has announced every event.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const [i, { c, subscription }] of running.entries()) {
    expect({ name: c.name, got: seen(subscription, c.field) }).toEqual({ name: c.name, got: expected[i] });
    expect(subscription.error()).toBeUndefined();
  }
  for (const [where, server] of instances.entries()) {
    const executions = running
      .filter((r) => r.where === where && !r.c.alone)
      .reduce((sum, { c }) => sum + POSTED.filter(c.wants).length, 0);
    expect({ instance: where + 1, executions: counters(server).executions - before[where]!.executions }).toEqual({
      instance: where + 1,
      executions,
    });
  }
}

/**
 * Members, each subscribed to their own customer id (one group each), spread over the instances: a
 * webhook about a customer nobody watches makes no instance look at or execute any group; one
 * about a watched customer makes the one instance holding that member's group look at it and
 * execute it once, and reaches that member only.
 */
async function skipsWhatNobodyWatches(setup: Setup): Promise<void> {
  const { instances, keys, tokens } = setup;
  const members = 12;
  const query = `subscription ($c: [ID!]) { customerCheckedIn(customerIds: $c) { event ${EVENT} } }`;
  const subscriptions = Array.from({ length: members }, (_, k) => {
    const server = instances[k % instances.length]!;
    return subscribe(connect(server.app.url, tokens.admin), query, { c: [String(1000 + k)] });
  });
  for (const [where, server] of instances.entries()) {
    const here = Math.ceil((members - where) / instances.length);
    await until(
      () => server.app.subscriptions.subscriptions === here && server.app.subscriptions.groups === here,
      5000,
      `${here} groups on instance ${where + 1}`,
    );
  }
  const before = instances.map(counters);
  for (const [i, entityId] of [5000, 5001, 5002].entries()) {
    expect(
      (await instances[i % instances.length]!.post(keys.a, delivery(entityId, { type: 'CUSTOMER_CHECKIN', timestamp: T0 + i }))).status,
    ).toBe(200);
  }
  // The unwatched check-ins were announced everywhere before this one, which reaches member 7.
  const watched = 1007;
  expect((await instances[0]!.post(keys.b, delivery(watched, { type: 'CUSTOMER_CHECKIN', timestamp: T0 + 10 }))).status).toBe(200);
  const [result] = await subscriptions[7]!.take(1);
  expect(result!.data!['customerCheckedIn'].event.entityId).toBe(String(watched));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const holder = 7 % instances.length;
  for (const [where, server] of instances.entries()) {
    const now = counters(server);
    const work = { examined: now.examined - before[where]!.examined, executions: now.executions - before[where]!.executions };
    expect({ instance: where + 1, ...work }).toEqual({
      instance: where + 1,
      ...(where === holder ? { examined: 1, executions: 1 } : { examined: 0, executions: 0 }),
    });
  }
  expect(subscriptions.map((s) => s.results.length)).toEqual(subscriptions.map((_, k) => (k === 7 ? 1 : 0)));
}

const scenarios = (instances: () => readonly TestServer[], setup: () => Setup) => {
  afterEach(async () => {
    await disposeClients();
    await closeRawSockets();
    for (const server of instances()) await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  it('when events of every kind are posted, then each subscription gets exactly those its filters and its scope select, and only matching groups execute', () =>
    routesEveryFilter(setup()));
  it('when a webhook is about a customer nobody watches, then no group is looked at or executed; one about a watched customer reaches that member only', () =>
    skipsWhatNobodyWatches(setup()));
};

describe.each(databaseKinds())("fan-out routed by an index of the subscriptions' filters (%s, one instance)", (kind: DatabaseKind) => {
  let server: TestServer;
  let setup: Setup;
  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, HYDRATION_ENABLED: 'false' });
    setup = await prepare([server]);
  });
  afterAll(() => server.stop());
  scenarios(
    () => [server],
    () => setup,
  );
});

(redisUrl() !== '' ? describe : describe.skip)('fan-out routed by an index, events through Redis (SQLite, one instance)', () => {
  let server: TestServer;
  let setup: Setup;
  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      ADMIN_TOKEN,
      HYDRATION_ENABLED: 'false',
      REDIS_URL: redisUrl(),
      REDIS_CHANNEL: `gymgraph-test:${randomBytes(6).toString('hex')}:events`,
    });
    setup = await prepare([server]);
  });
  afterAll(() => server.stop());
  scenarios(
    () => [server],
    () => setup,
  );
});

(redisUrl() !== '' && databaseKinds().includes('postgres') ? describe : describe.skip)(
  'fan-out routed by an index on two instances sharing PostgreSQL and Redis',
  () => {
    let db: TestDatabase;
    let one: TestServer;
    let two: TestServer;
    let setup: Setup;
    beforeAll(async () => {
      db = await createTestDatabase('postgres');
      const env = {
        ADMIN_TOKEN,
        HYDRATION_ENABLED: 'false',
        REDIS_URL: redisUrl(),
        REDIS_CHANNEL: `gymgraph-test:${randomBytes(6).toString('hex')}:events`,
      };
      one = await startTestServer('postgres', env, { database: db });
      two = await startTestServer('postgres', env, { database: db });
      setup = await prepare([one, two]);
    });
    afterAll(async () => {
      await one?.stop();
      await two?.stop();
      await db?.drop();
    });
    scenarios(
      () => [one, two],
      () => setup,
    );
  },
);

describe('SelectorIndex: where a selector is filed, and which events find it', () => {
  const event = (fields: Partial<LoggedEvent>): LoggedEvent => ({
    seq: 1,
    uuid: '00000000-0000-4000-8000-000000000001',
    position: 0,
    studioId: 1,
    tenantId: 1,
    type: 'CUSTOMER_CHECKIN',
    known: true,
    entityId: 1,
    content: null,
    occurredAt: 0,
    receivedAt: 0,
    ...fields,
  });
  const found = (index: SelectorIndex<string>, fields: Partial<LoggedEvent>) => {
    const items: string[] = [];
    index.candidates(event(fields), (item) => items.push(item));
    return items.sort();
  };

  it('when selectors name entities, types, studios, tenants or nothing, then an event finds exactly the ones its fields are filed under, each once', () => {
    const index = new SelectorIndex<string>();
    index.add('customer 5', { scope: [1], types: ['CUSTOMER_CHECKIN'], entityIds: [5, 5, 6] });
    index.add('check-ins', { scope: null, types: ['CUSTOMER_CHECKIN'] });
    index.add('studio 2 of 1-2', { scope: [1, 2], studioIds: [2, 3] });
    index.add('tenant 7', { scope: null, tenantIds: [7] });
    index.add('everything', { scope: null });
    expect(found(index, { entityId: 5, studioId: 2 })).toEqual(['check-ins', 'customer 5', 'everything', 'studio 2 of 1-2']);
    expect(found(index, { entityId: 6, type: 'CUSTOMER_UPDATED', tenantId: 7 })).toEqual(['customer 5', 'everything', 'tenant 7']);
    expect(found(index, { entityId: 9, type: 'DEVICE_CREATED', studioId: 3 })).toEqual(['everything']);
    expect([index.size, index.unindexed]).toEqual([5, 1]);
  });

  it('when a selector can match no event (an empty list, or studios outside its scope), then no event finds it', () => {
    const index = new SelectorIndex<string>();
    index.add('no customers', { scope: null, entityIds: [] });
    index.add('outside the scope', { scope: [1], studioIds: [2] });
    index.add('no types', { scope: null, types: [], studioIds: [1] });
    for (const fields of [{ entityId: 1 }, { studioId: 2 }, { studioId: 1, type: 'DEVICE_CREATED' }])
      expect(found(index, fields)).toEqual([]);
    expect(index.size).toBe(3);
  });

  it('when an item is deleted or filed again, then events find it only where it is filed now', () => {
    const index = new SelectorIndex<string>();
    index.add('member', { scope: null, entityIds: [1, 2] });
    index.add('member', { scope: null, entityIds: [3] });
    expect([found(index, { entityId: 1 }), found(index, { entityId: 3 })]).toEqual([[], ['member']]);
    index.delete('member');
    expect([found(index, { entityId: 3 }), index.size]).toEqual([[], 0]);
  });
});

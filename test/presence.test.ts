import { TokenService } from '../src/domains/access/token.service.js';
import { nextStayExpiry } from '../src/domains/customers/presence.js';
import { SqlReader } from '../src/db/sql-reader.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-presence-0002';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Studio = Awaited<ReturnType<TestServer['addStudio']>>;

async function gql(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  token = ADMIN_TOKEN,
): Promise<{ data?: any; errors?: any[] }> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: any[] };
}

async function data(server: TestServer, query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN): Promise<any> {
  const body = await gql(server, query, variables, token);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const post = async (server: TestServer, studio: Studio, body: ReturnType<typeof delivery>) => {
  const response = await server.post(studio.webhookKey, body);
  expect(response.status).toBe(200);
  return response.body as { stored: number; duplicates: number };
};
const checkin = (customer: number, at: number) => delivery(customer, { type: 'CUSTOMER_CHECKIN', timestamp: at });
const checkout = (customer: number, at: number) => delivery(customer, { type: 'CUSTOMER_CHECKOUT', timestamp: at });
/** An AUTOMATIC_CUSTOMER_CHECKOUT: the entityId is the (upstream) studio; the customers are in the content. */
const automatic = (upstreamStudio: number, at: number, checkouts: readonly { customerId: number; at: number }[]) =>
  delivery(upstreamStudio, {
    type: 'AUTOMATIC_CUSTOMER_CHECKOUT',
    timestamp: at,
    content: { checkouts: checkouts.map((c) => ({ customerId: c.customerId, checkoutTime: new Date(c.at).toISOString() })) },
  });

const PRESENCE = `query ($studio: ID!, $customers: [ID!]) {
  occupancy(studioIds: [$studio]) { total }
  customers(filter: { customerIds: $customers }) { nodes { customerId checkedIn } }
  inNow: customers(filter: { customerIds: $customers, checkedIn: true }) { totalCount }
}`;
const VISITS = `query ($customers: [ID!]) { visits(filter: { customerIds: $customers }, orderBy: { field: CHECKIN_AT }) {
  nodes { customerId checkinAt checkoutAt durationSeconds checkoutStudioId } } }`;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(databaseKinds())('presence: the maximum stay (%s)', (kind) => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await disposeClients();
    for (const server of servers.splice(0)) await server.stop();
  });
  const start = async (maxStay: string) => {
    const server = await startTestServer(kind, { ADMIN_TOKEN, OCCUPANCY_MAX_STAY: maxStay });
    servers.push(server);
    return server;
  };

  it('when a check-in is older than OCCUPANCY_MAX_STAY and never closed, then occupancy, checkedIn and the checkedIn filter no longer count it; the visit stays open', async () => {
    const server = await start('12h');
    const studio = await server.addStudio();
    const now = Date.now();
    await post(server, studio, checkin(1, now - 13 * HOUR));
    await post(server, studio, checkin(2, now - 11 * HOUR));
    const answer = await data(server, PRESENCE, { studio: studio.id, customers: ['1', '2'] });
    expect(answer.occupancy.total).toBe(1);
    expect(answer.customers.nodes).toEqual([
      { customerId: '1', checkedIn: false },
      { customerId: '2', checkedIn: true },
    ]);
    expect(answer.inNow.totalCount).toBe(1);
    const visits = await data(server, VISITS, { customers: ['1'] });
    expect(visits.visits.nodes).toEqual([
      { customerId: '1', checkinAt: iso(now - 13 * HOUR), checkoutAt: null, durationSeconds: null, checkoutStudioId: null },
    ]);
  });

  it('when OCCUPANCY_MAX_STAY is off, then a check-in of a year ago without check-out still counts', async () => {
    const server = await start('off');
    const studio = await server.addStudio();
    await post(server, studio, checkin(1, Date.now() - 365 * 24 * HOUR));
    const answer = await data(server, PRESENCE, { studio: studio.id, customers: ['1'] });
    expect(answer.occupancy.total).toBe(1);
    expect(answer.customers.nodes).toEqual([{ customerId: '1', checkedIn: true }]);
    expect(answer.inNow.totalCount).toBe(1);
  });

  it('when a counted stay runs past the maximum stay, then occupancyChanged delivers the lower count without an event', async () => {
    const server = await start('1m');
    const studio = await server.addStudio();
    await post(server, studio, checkin(2, Date.now() - 5_000));
    const client = connect(server.app.url, ADMIN_TOKEN);
    await client.connected;
    const changes = subscribe(client, 'subscription ($studio: ID!) { occupancyChanged(studioId: $studio) { checkedIn event { type } } }', {
      studio: studio.id,
    });
    await until(() => server.app.subscriptions.subscriptions >= 1, 5000, 'the subscription');
    // Subscribed first, so that only the delivery of this check-in has to beat its expiry: in for
    // 35 s of the minute allowed, it counts for about 25 s more, then drops out without an event.
    const checkedInAt = Date.now() - 35_000;
    await post(server, studio, checkin(1, checkedInAt));
    // Should it time out, say what the server would count and wait for at that moment.
    const received = await changes.take(2, 50_000).catch(async (error: unknown) => {
      const expiry = await nextStayExpiry(server.app.dataSource, studio.id).catch((why: unknown) => `failed: ${String(why)}`);
      const occupancy = await data(server, PRESENCE, { studio: studio.id, customers: ['1', '2'] }).catch((why: unknown) => String(why));
      throw new Error(
        `${(error as Error).message}; customer 1's stay ran out ${Date.now() - checkedInAt - 60_000} ms ago; ` +
          `next stay expiry now: ${typeof expiry === 'number' ? `in ${expiry - Date.now()} ms` : String(expiry)}; ` +
          `presence now: ${JSON.stringify(occupancy)}; subscriptions open on the server: ${server.app.subscriptions.subscriptions}`,
      );
    });
    expect(received).toEqual([
      { data: { occupancyChanged: { checkedIn: 2, event: { type: 'CUSTOMER_CHECKIN' } } } },
      { data: { occupancyChanged: { checkedIn: 1, event: null } } },
    ]);
    expect((await data(server, PRESENCE, { studio: studio.id, customers: ['1', '2'] })).occupancy.total).toBe(1);
  }, 90_000);

  it('when a second stay runs out while the count for the first is under way, then occupancyChanged still delivers the count after both', async () => {
    const server = await start('1m');
    const studio = await server.addStudio();
    const now = Date.now();
    // In for 50 s and 49.7 s of the minute allowed: they drop out about 10 s from now (time enough
    // to subscribe first on a slow machine), 300 ms apart. Customer 3 stays in.
    await post(server, studio, checkin(1, now - 50_000));
    await post(server, studio, checkin(2, now - 49_700));
    await post(server, studio, checkin(3, now - 5_000));
    // Every count after the subscription's first answers 600 ms after it was read: the count for
    // the first stay to run out is taken before the second one runs out and answers after it, as a
    // slow count (or a timer firing a little early) makes it. Looking for the next one from the
    // moment of the answer skipped the second stay, and its count was never sent.
    const reader = SqlReader.of(server.app.dataSource) as unknown as { all: (sql: string, params?: unknown[]) => Promise<unknown[]> };
    const all = reader.all.bind(reader);
    let countsRead = 0;
    reader.all = async (sql, params) => {
      const rows = await all(sql, params);
      if (sql.includes('AS "checkedIn"') && ++countsRead > 1) await new Promise((resolve) => setTimeout(resolve, 600));
      return rows;
    };
    try {
      const client = connect(server.app.url, ADMIN_TOKEN);
      await client.connected;
      const changes = subscribe(
        client,
        'subscription ($studio: ID!) { occupancyChanged(studioId: $studio) { checkedIn event { type } } }',
        {
          studio: studio.id,
        },
      );
      await until(() => server.app.subscriptions.subscriptions >= 1 && countsRead >= 1, 5000, 'the subscription and its first count');
      expect(changes.results).toEqual([]);
      // Both lower counts; or the last alone, when the first count after the subscription's came
      // after both stays had run out (its timer more than 300 ms late: then nothing is tested).
      const counts = () => changes.results.map((r) => (r.data as { occupancyChanged: { checkedIn: number } }).occupancyChanged.checkedIn);
      await until(() => counts().includes(1), 20_000, 'the count after both stays ran out (1)');
      expect([[2, 1], [1]]).toContainEqual(counts());
      expect(changes.results.every((r) => (r.data as { occupancyChanged: { event: unknown } }).occupancyChanged.event === null)).toBe(true);
    } finally {
      reader.all = all;
    }
  }, 60_000);
});

describe.each(databaseKinds())('AUTOMATIC_CUSTOMER_CHECKOUT (%s)', (kind) => {
  let server: TestServer;
  let studio: Studio;
  let other: Studio;
  /** The studio's id at the upstream: what the event's entityId says (not ours). */
  const UPSTREAM_STUDIO = 4711;
  const T0 = Math.floor((Date.now() - 6 * HOUR) / 1000) * 1000;
  const at = (minutes: number) => T0 + minutes * MINUTE;

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, OCCUPANCY_MAX_STAY: '12h' });
    const tenantUrl = 'https://automatic.open-api.perfectgym.com/v1';
    studio = await server.addStudio({ tenantUrl });
    other = await server.addStudio({ tenantUrl });
  });
  afterEach(() => disposeClients());
  afterAll(() => server.stop());

  it('when the studio checks customers out, then their open visits close at those times, occupancy and checkedIn follow, and a customer not in makes no visit', async () => {
    await post(server, studio, checkin(101, at(0)));
    await post(server, studio, checkin(102, at(10)));
    await post(server, studio, checkin(103, at(20)));
    expect((await data(server, PRESENCE, { studio: studio.id, customers: ['101', '102', '103', '104'] })).occupancy.total).toBe(3);

    const stored = await post(
      server,
      studio,
      automatic(UPSTREAM_STUDIO, at(120), [
        { customerId: 101, at: at(100) },
        { customerId: 102, at: at(110) },
        { customerId: 104, at: at(110) },
      ]),
    );
    expect(stored).toEqual(expect.objectContaining({ stored: 1, duplicates: 0 }));

    const answer = await data(server, PRESENCE, { studio: studio.id, customers: ['101', '102', '103', '104'] });
    expect(answer.occupancy.total).toBe(1);
    expect(answer.customers.nodes).toEqual([
      { customerId: '101', checkedIn: false },
      { customerId: '102', checkedIn: false },
      { customerId: '103', checkedIn: true },
      { customerId: '104', checkedIn: false },
    ]);
    const visits = await data(server, VISITS, { customers: ['101', '102', '103', '104'] });
    expect(visits.visits.nodes).toEqual([
      { customerId: '101', checkinAt: iso(at(0)), checkoutAt: iso(at(100)), durationSeconds: 6000, checkoutStudioId: String(studio.id) },
      { customerId: '102', checkinAt: iso(at(10)), checkoutAt: iso(at(110)), durationSeconds: 6000, checkoutStudioId: String(studio.id) },
      { customerId: '103', checkinAt: iso(at(20)), checkoutAt: null, durationSeconds: null, checkoutStudioId: null },
    ]);
    // 104 was never in: no visit without check-in, and no open one.
    const all = await data(server, '{ visits(filter: {customerIds: ["104"]}, orderBy: {field: ID}) { totalCount } }');
    expect(all.visits.totalCount).toBe(0);
  });

  it('when the same automatic check-out comes twice (a re-delivery, and again under another uuid), then the visit is closed once and nothing else changes', async () => {
    await post(server, studio, checkin(201, at(0)));
    const body = automatic(UPSTREAM_STUDIO, at(60), [{ customerId: 201, at: at(60) }]);
    await post(server, studio, body);
    expect(await post(server, studio, body)).toEqual(expect.objectContaining({ stored: 0, duplicates: 1 }));
    await post(server, studio, automatic(UPSTREAM_STUDIO, at(60), [{ customerId: 201, at: at(60) }]));
    const visits = await data(
      server,
      '{ visits(filter: {customerIds: ["201"]}, orderBy: {field: ID}) { nodes { checkinAt checkoutAt } } }',
    );
    expect(visits.visits.nodes).toEqual([{ checkinAt: iso(at(0)), checkoutAt: iso(at(60)) }]);
  });

  it('when the automatic check-out arrives before the check-in it closes, then the visit is closed all the same', async () => {
    await post(server, studio, automatic(UPSTREAM_STUDIO, at(90), [{ customerId: 301, at: at(90) }]));
    expect((await data(server, '{ visits(filter: {customerIds: ["301"]}, orderBy: {field: ID}) { totalCount } }')).visits.totalCount).toBe(
      0,
    );
    await post(server, studio, checkin(301, at(30)));
    const visits = await data(server, VISITS, { customers: ['301'] });
    expect(visits.visits.nodes).toEqual([
      { customerId: '301', checkinAt: iso(at(30)), checkoutAt: iso(at(90)), durationSeconds: 3600, checkoutStudioId: String(studio.id) },
    ]);
    expect((await data(server, PRESENCE, { studio: studio.id, customers: ['301'] })).customers.nodes).toEqual([
      { customerId: '301', checkedIn: false },
    ]);
  });

  it("when the customer's own check-out happened earlier but arrives later, then it closes the visit, and the automatic one, closing nothing, makes no visit", async () => {
    await post(server, studio, checkin(401, at(0)));
    await post(server, studio, automatic(UPSTREAM_STUDIO, at(300), [{ customerId: 401, at: at(300) }]));
    await post(server, other, checkout(401, at(45)));
    const visits = await data(
      server,
      '{ visits(filter: {customerIds: ["401"]}, orderBy: {field: ID}) { nodes { checkinAt checkoutAt durationSeconds checkoutStudioId } } }',
    );
    expect(visits.visits.nodes).toEqual([
      { checkinAt: iso(at(0)), checkoutAt: iso(at(45)), durationSeconds: 2700, checkoutStudioId: String(other.id) },
    ]);
  });

  it('when a customer checks in again after an automatic check-out, then the new visit is open and counted', async () => {
    await post(server, studio, checkin(501, at(0)));
    await post(server, studio, automatic(UPSTREAM_STUDIO, at(60), [{ customerId: 501, at: at(60) }]));
    await post(server, studio, checkin(501, at(120)));
    const visits = await data(server, VISITS, { customers: ['501'] });
    expect(visits.visits.nodes.map((v: any) => [v.checkinAt, v.checkoutAt])).toEqual([
      [iso(at(0)), iso(at(60))],
      [iso(at(120)), null],
    ]);
    expect((await data(server, PRESENCE, { studio: studio.id, customers: ['501'] })).customers.nodes).toEqual([
      { customerId: '501', checkedIn: true },
    ]);
  });

  it('when the content is not a list of {customerId, checkoutTime}, then 400 naming the field and nothing is stored', async () => {
    const before = await server.sql('SELECT COUNT(*) AS "n" FROM events');
    const cases: [unknown, string][] = [
      [undefined, 'payload[0].content.checkouts'],
      [{ checkouts: 'all' }, 'payload[0].content.checkouts'],
      [{ checkouts: [{ customerId: 1, checkoutTime: '2026-01-15 22:00' }] }, 'payload[0].content.checkouts[0].checkoutTime'],
      [{ checkouts: [{ customerId: 1, checkoutTime: '2026-01-15T22:00:00' }] }, 'payload[0].content.checkouts[0].checkoutTime'],
      [{ checkouts: [{ customerId: 1, checkoutTime: '2026-02-30T22:00:00Z' }] }, 'payload[0].content.checkouts[0].checkoutTime'],
      [{ checkouts: [{ customerId: 'x', checkoutTime: '2026-01-15T22:00:00Z' }] }, 'payload[0].content.checkouts[0].customerId'],
      [{ checkouts: [{ customerId: 1, checkoutTime: '2026-01-15T22:00:00Z' }, 7] }, 'payload[0].content.checkouts[1]'],
    ];
    for (const [content, field] of cases) {
      const response = await server.post(
        studio.webhookKey,
        delivery(UPSTREAM_STUDIO, {
          type: 'AUTOMATIC_CUSTOMER_CHECKOUT',
          timestamp: at(1),
          ...(content === undefined ? {} : { content: content as Record<string, unknown> }),
        }),
      );
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_payload' });
      expect(response.body.problems.map((p: { field: string }) => p.field)).toEqual([field]);
    }
    expect(await server.sql('SELECT COUNT(*) AS "n" FROM events')).toEqual(before);
    // An offset in another notation and the zone id the upstream appends are fine.
    await post(server, studio, checkin(601, at(0)));
    await post(
      server,
      studio,
      delivery(UPSTREAM_STUDIO, {
        type: 'AUTOMATIC_CUSTOMER_CHECKOUT',
        timestamp: at(100),
        content: {
          checkouts: [{ customerId: '601', checkoutTime: `${new Date(at(100) + HOUR).toISOString().slice(0, 19)}+01:00[Europe/Berlin]` }],
        },
      }),
    );
    const visits = await data(server, VISITS, { customers: ['601'] });
    expect(visits.visits.nodes[0].checkoutAt).toBe(iso(at(100)));
  });

  it('when it commits, then customersCheckedOutAutomatically delivers it with the visits it closed (those the token may see), and occupancyChanged the new count', async () => {
    await post(server, studio, checkin(701, at(0)));
    await post(server, studio, checkin(702, at(5)));
    await post(server, other, checkin(703, at(5)));
    const partner = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studio.id] })).token;
    const admin = connect(server.app.url, ADMIN_TOKEN);
    const scoped = connect(server.app.url, partner);
    await Promise.all([admin.connected, scoped.connected]);
    const query =
      'subscription { customersCheckedOutAutomatically { event { type entityId content } visits { customerId checkinAt checkoutAt } } }';
    const forAdmin = subscribe(admin, query);
    const forPartner = subscribe(scoped, query);
    const occupancy = subscribe(admin, 'subscription ($studio: ID!) { occupancyChanged(studioId: $studio) { checkedIn event { type } } }', {
      studio: studio.id,
    });
    await until(() => server.app.subscriptions.subscriptions >= 3, 5000, 'three subscriptions');
    const content = {
      checkouts: [
        { customerId: 701, checkoutTime: iso(at(50)) },
        { customerId: 702, checkoutTime: iso(at(55)) },
      ],
    };
    await post(server, studio, delivery(UPSTREAM_STUDIO, { type: 'AUTOMATIC_CUSTOMER_CHECKOUT', timestamp: at(60), content }));
    const expected = {
      event: { type: 'AUTOMATIC_CUSTOMER_CHECKOUT', entityId: String(UPSTREAM_STUDIO), content },
      visits: [
        { customerId: '701', checkinAt: iso(at(0)), checkoutAt: iso(at(50)) },
        { customerId: '702', checkinAt: iso(at(5)), checkoutAt: iso(at(55)) },
      ],
    };
    expect((await forAdmin.take(1))[0]).toEqual({ data: { customersCheckedOutAutomatically: expected } });
    expect((await forPartner.take(1))[0]).toEqual({ data: { customersCheckedOutAutomatically: expected } });
    const [change] = await occupancy.take(1);
    expect(change!.data!.occupancyChanged.event).toEqual({ type: 'AUTOMATIC_CUSTOMER_CHECKOUT' });
    const counted = (await data(server, PRESENCE, { studio: studio.id, customers: [] })).occupancy.total;
    expect(change!.data!.occupancyChanged.checkedIn).toBe(counted);

    // The other studio's automatic check-out does not reach a token of this one.
    await post(
      server,
      other,
      delivery(UPSTREAM_STUDIO + 1, {
        type: 'AUTOMATIC_CUSTOMER_CHECKOUT',
        timestamp: at(61),
        content: { checkouts: [{ customerId: 703, checkoutTime: iso(at(61)) }] },
      }),
    );
    const delivered = await forAdmin.take(2);
    expect(delivered[1]!.data!.customersCheckedOutAutomatically.visits).toEqual([
      { customerId: '703', checkinAt: iso(at(5)), checkoutAt: iso(at(61)) },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forPartner.results).toHaveLength(1);
  });
});

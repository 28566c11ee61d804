import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

/**
 * The member-app examples (examples/member-*.graphql) run as a member against a studio whose
 * records are hydrated from the upstream stand-in: "my bookings" lists the member's own, the live
 * bookings subscription delivers the member's own cancellation and not another member's, and the
 * occupancy badge counts everyone while showing only the member's own check-ins.
 */

const JWT = {
  JWT_SECRET: 'member-app-test-hs256-secret-0123456789ab',
  JWT_ISSUER: 'https://id.example.test/',
  JWT_AUDIENCE: 'gymgraph-members',
};
const FAST = { HYDRATION_DELAY_MS: '0', HYDRATION_POLL_MS: '20', HYDRATION_RETRY_BASE_MS: '20', HYDRATION_RETRY_MAX_MS: '200' };
const example = (name: string) => fs.readFileSync(path.resolve(__dirname, '..', 'examples', name), 'utf8');

function memberToken(studioId: number, customerId: number): Promise<string> {
  return new SignJWT({ role: 'member', studioIds: [studioId], customerId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(JWT.JWT_ISSUER)
    .setAudience(JWT.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(JWT.JWT_SECRET));
}

async function settled(server: TestServer): Promise<void> {
  await until(
    async () => {
      const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
      const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
      const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ('queued', 'running', 'retrying')`);
      return cursor !== undefined && Number(cursor.seq) >= Number(events.max ?? 0) && Number(open.n) === 0;
    },
    30_000,
    'hydration to settle',
  );
}

describe.each(databaseKinds())('a member app (examples/member-*.graphql, %s)', (kind) => {
  let world: World;
  let standin: Standin;
  let server: TestServer;
  let studioId: number;
  let posted = 0;

  /** Posts what the world sent since the last call. */
  const post = async () => {
    const fresh: WebhookDelivery[] = world.webhookStream().delivered.slice(posted);
    posted += fresh.length;
    for (const d of fresh) expect((await server.post(d.webhookKey, d.body)).status).toBe(200);
  };

  beforeAll(async () => {
    world = new World({ seed: 23, studios: 1, customersPerStudio: 8, days: 7 });
    standin = await startStandin({ world });
    server = await startTestServer(kind, { ...FAST, ...JWT });
    const upstream = world.studios[0]!;
    studioId = (
      await server.addStudio({ name: upstream.name, webhookKey: upstream.webhookKey, apiKey: upstream.apiKey, tenantUrl: standin.baseUrl })
    ).id;
    await post();
    await settled(server);
  }, 60_000);
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
    await standin?.close();
  });

  /** Customers with open class bookings, with those bookings' ids. */
  const openBookings = () => {
    const byCustomer = new Map<number, number[]>();
    for (const b of world.classBookings.values())
      if (b.cancelledAt === null) byCustomer.set(b.customerId, [...(byCustomer.get(b.customerId) ?? []), b.bookingId]);
    return [...byCustomer].filter(([customer]) => world.readableCustomer(customer) !== undefined);
  };

  it('when a member runs "my bookings", then they get their own record and exactly their own class bookings', async () => {
    const [[customer, bookings]] = openBookings() as [[number, number[]]];
    const all = [...world.classBookings.values()]
      .filter((b) => b.customerId === customer)
      .map((b) => String(b.bookingId))
      .sort();
    expect(bookings.length).toBeGreaterThan(0);
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await memberToken(studioId, customer)}` },
      body: JSON.stringify({ query: example('member-my-bookings.graphql') }),
    });
    const body = (await response.json()) as {
      data: {
        customers: {
          nodes: { customerId: string; firstName: string | null; classBookings: { bookingId: string; classSlot: unknown }[] }[];
        };
      };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.customers.nodes.map((n) => n.customerId)).toEqual([String(customer)]);
    const node = body.data.customers.nodes[0]!;
    expect(node.firstName).toBe(world.readableCustomer(customer)!.firstName);
    expect(node.classBookings.map((b) => b.bookingId).sort()).toEqual(all);
    expect(node.classBookings.every((b) => b.classSlot !== null)).toBe(true);
  });

  it("when another member's booking and then the member's own are cancelled, then the live bookings deliver only the member's own", async () => {
    const [[mine, [myBooking]], [, [theirBooking]]] = openBookings() as [[number, number[]], [number, number[]]];
    const client = connect(server.app.url, await memberToken(studioId, mine));
    await client.connected;
    const live = subscribe<{ recordHydrated: { kind: string; record: { bookingId: string; status: string } | null } }>(
      client,
      example('member-bookings-live.graphql'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    world.cancelClassBooking(theirBooking!);
    world.cancelClassBooking(myBooking!);
    await post();
    await settled(server);
    const [first] = await live.take(1, 15_000);
    expect(first).toEqual({
      data: {
        recordHydrated: {
          event: expect.any(Object),
          kind: 'classBooking',
          changedFields: expect.arrayContaining(['bookingStatus']),
          record: expect.objectContaining({ bookingId: String(myBooking), status: 'CANCELLED' }),
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(live.results).toHaveLength(1);
    await client.dispose();
  });

  it("when another member checks in, then the occupancy badge counts them without saying who; the member's own check-in is shown", async () => {
    const [first, second] = [...world.customers.values()].filter((c) => world.readableCustomer(c.id) !== undefined);
    const client = connect(server.app.url, await memberToken(studioId, first!.id));
    await client.connected;
    const badge = subscribe<{ occupancyChanged: { checkedIn: number; event: { type: string } | null } }>(
      client,
      example('member-studio-occupancy.graphql'),
      { studioId: String(studioId) },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = Number(
      (
        await server.sql(
          `SELECT COUNT(*) AS "n" FROM customers WHERE "lastCheckinAt" IS NOT NULL AND ("lastCheckoutAt" IS NULL OR "lastCheckinAt" > "lastCheckoutAt")`,
        )
      )[0].n,
    );
    world.visit(second!.id, world.studios[0]!.id);
    world.visit(first!.id, world.studios[0]!.id);
    await post();
    const messages = (await badge.take(2, 10_000)).map((r) => r.data!.occupancyChanged);
    expect(messages.map((m) => m.event?.type ?? null)).toEqual([null, 'CUSTOMER_CHECKIN']);
    expect(messages[1]!.checkedIn).toBeGreaterThanOrEqual(messages[0]!.checkedIn);
    expect(messages[0]!.checkedIn).toBeGreaterThanOrEqual(Math.min(before, 1));
    await client.dispose();
  });
});

import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { TokenService } from '../src/domains/access/token.service.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until, type Subscription, type TestClient } from './support/ws.js';

/**
 * The sister platform's customer types (src/events/customer.events.ts): CUSTOMER_ACCESS_DISABLED,
 * CUSTOMER_HOME_STUDIO_UPDATED, CUSTOMER_CHECKIN_STUDIOS_UPDATED, CUSTOMER_ACCESS_MEDIUM_* and
 * CUSTOMER_ACCESS_RESTRICTION_*, through the webhook, GraphQL over HTTP and graphql-ws.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const JWT = {
  JWT_SECRET: 'customer-events-hs256-secret-0123456789abcdef',
  JWT_ISSUER: 'https://id.example.test/',
  JWT_AUDIENCE: 'gymgraph-members',
};
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

type Element = { type: string; timestamp: number; content?: Record<string, unknown> | null };
const element = (type: string, minutes: number, content?: Record<string, unknown>): Element => ({
  type,
  timestamp: at(minutes),
  ...(content ? { content } : {}),
});

/** Every field these types fill on Customer (and the ones computed from them). */
const FIELDS = `customerId accessDisabled accessDisabledAt homeStudioUpstreamId previousHomeStudioUpstreamId homeStudioUpdatedAt
  checkinStudiosUpdatedAt checkinStudiosContractId lastAccessMediumCreatedAt lastAccessMediumUpdatedAt lastAccessMediumDeletedAt
  lastAccessMediumChangedAt lastAccessRestrictionCreatedAt lastAccessRestrictionDeletedAt accessRestricted`;

/** What a customer holds before any of these types arrived. */
const UNTOUCHED = {
  accessDisabled: false,
  accessDisabledAt: null,
  homeStudioUpstreamId: null,
  previousHomeStudioUpstreamId: null,
  homeStudioUpdatedAt: null,
  checkinStudiosUpdatedAt: null,
  checkinStudiosContractId: null,
  lastAccessMediumCreatedAt: null,
  lastAccessMediumUpdatedAt: null,
  lastAccessMediumDeletedAt: null,
  lastAccessMediumChangedAt: null,
  lastAccessRestrictionCreatedAt: null,
  lastAccessRestrictionDeletedAt: null,
  accessRestricted: null,
};

/** Each type, the subscription field it has, a content that fits it, and what it leaves on the customer at iso(5). */
const TYPES: readonly { type: string; field: string; content?: Record<string, unknown>; after: Record<string, unknown> }[] = [
  { type: 'CUSTOMER_ACCESS_DISABLED', field: 'customerAccessDisabled', after: { accessDisabled: true, accessDisabledAt: iso(5) } },
  {
    type: 'CUSTOMER_HOME_STUDIO_UPDATED',
    field: 'customerHomeStudioUpdated',
    content: { sourceStudioId: 7, targetStudioId: '8' },
    after: { homeStudioUpstreamId: '8', previousHomeStudioUpstreamId: '7', homeStudioUpdatedAt: iso(5) },
  },
  {
    type: 'CUSTOMER_CHECKIN_STUDIOS_UPDATED',
    field: 'customerCheckinStudiosUpdated',
    content: { contractId: 9001 },
    after: { checkinStudiosUpdatedAt: iso(5), checkinStudiosContractId: '9001' },
  },
  {
    type: 'CUSTOMER_ACCESS_MEDIUM_CREATED',
    field: 'customerAccessMediumCreated',
    after: { lastAccessMediumCreatedAt: iso(5), lastAccessMediumChangedAt: iso(5) },
  },
  {
    type: 'CUSTOMER_ACCESS_MEDIUM_UPDATED',
    field: 'customerAccessMediumUpdated',
    after: { lastAccessMediumUpdatedAt: iso(5), lastAccessMediumChangedAt: iso(5) },
  },
  {
    type: 'CUSTOMER_ACCESS_MEDIUM_DELETED',
    field: 'customerAccessMediumDeleted',
    after: { lastAccessMediumDeletedAt: iso(5), lastAccessMediumChangedAt: iso(5) },
  },
  {
    type: 'CUSTOMER_ACCESS_RESTRICTION_CREATED',
    field: 'customerAccessRestrictionCreated',
    after: { lastAccessRestrictionCreatedAt: iso(5), accessRestricted: true },
  },
  {
    type: 'CUSTOMER_ACCESS_RESTRICTION_DELETED',
    field: 'customerAccessRestrictionDeleted',
    after: { lastAccessRestrictionDeletedAt: iso(5), accessRestricted: false },
  },
];

async function memberJwt(studioIds: number[], customerId: number): Promise<string> {
  return new SignJWT({ role: 'member', studioIds, customerId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(JWT.JWT_ISSUER)
    .setAudience(JWT.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT.JWT_SECRET));
}

async function gql(server: TestServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

describe.each(databaseKinds())('the customer access types (%s)', (kind) => {
  let server: TestServer;
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let partnerB: string;
  let ids = 1000;
  /** A customer id no other test uses. */
  const fresh = () => (ids += 1);

  const post = async (key: string, entityId: number, ...payload: Element[]) => {
    const body = delivery(entityId, ...payload);
    const response = await server.post(key, body);
    expect(response).toMatchObject({ status: 200, body: { stored: payload.length } });
    return body;
  };
  const customer = async (customerId: number, token = ADMIN_TOKEN) => {
    const { customers } = await gql(
      server,
      token,
      `query($ids: [ID!]) { customers(filter: {customerIds: $ids}) { nodes { ${FIELDS} } } }`,
      { ids: [String(customerId)] },
    );
    return customers.nodes[0] ?? null;
  };
  const listening = (count: number) => until(() => server.app.subscriptions.subscriptions >= count, 5000, `${count} subscriptions`);

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, HYDRATION_ENABLED: 'false', ...JWT });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    partnerB = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [b.id] })).token;
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  describe('POST /webhooks: content', () => {
    it.each([
      ['CUSTOMER_HOME_STUDIO_UPDATED', { targetStudioId: 8 }, 'payload[0].content.sourceStudioId'],
      ['CUSTOMER_HOME_STUDIO_UPDATED', { sourceStudioId: 7, targetStudioId: 'eight' }, 'payload[0].content.targetStudioId'],
      ['CUSTOMER_HOME_STUDIO_UPDATED', { sourceStudioId: -1, targetStudioId: 8 }, 'payload[0].content.sourceStudioId'],
      ['CUSTOMER_CHECKIN_STUDIOS_UPDATED', {}, 'payload[0].content.contractId'],
      ['CUSTOMER_CHECKIN_STUDIOS_UPDATED', { contractId: 1.5 }, 'payload[0].content.contractId'],
    ])('when %s carries %j, then 400 naming %s and nothing is stored', async (type, content, field) => {
      const [{ n: before }] = await server.sql('SELECT COUNT(*) AS "n" FROM events');
      const response = await server.post(a.webhookKey, delivery(fresh(), { type, timestamp: at(1), content }));
      expect(response.status).toBe(400);
      expect(response.body.problems).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
      expect(response.body.message).toEqual(expect.stringContaining(field));
      const [{ n: after }] = await server.sql('SELECT COUNT(*) AS "n" FROM events');
      expect(Number(after)).toBe(Number(before));
    });

    it('when HOME_STUDIO content is null, then 400 naming both ids', async () => {
      const response = await server.post(
        a.webhookKey,
        delivery(fresh(), { type: 'CUSTOMER_HOME_STUDIO_UPDATED', timestamp: at(1), content: null }),
      );
      expect(response.status).toBe(400);
      expect(response.body.problems.map((p: { field: string }) => p.field)).toContain('payload[0].content.sourceStudioId');
    });

    it('when a type without content carries none, null, {} or unknown fields, then each is stored and applied', async () => {
      for (const { type, content } of TYPES) {
        if (content) continue;
        for (const variant of [undefined, null, {}, { somethingNew: 1 }]) {
          const id = fresh();
          await post(a.webhookKey, id, { type, timestamp: at(5), ...(variant === undefined ? {} : { content: variant }) });
          expect(await customer(id)).toEqual({ ...UNTOUCHED, customerId: String(id), ...TYPES.find((t) => t.type === type)!.after });
        }
      }
    });
  });

  describe('projection', () => {
    it.each(TYPES.map((t) => [t.type, t] as const))(
      '%s: the customer exists and holds what it says',
      async (_, { type, content, after }) => {
        const id = fresh();
        await post(a.webhookKey, id, element(type, 5, content));
        expect(await customer(id)).toEqual({ ...UNTOUCHED, customerId: String(id), ...after });
        const [row] = await server.sql('SELECT "studioId", "firstEventAt", "lastEventAt" FROM customers WHERE "customerId" = $1', [id]);
        expect({ studioId: Number(row.studioId), firstEventAt: Number(row.firstEventAt), lastEventAt: Number(row.lastEventAt) }).toEqual({
          studioId: a.id,
          firstEventAt: at(5),
          lastEventAt: at(5),
        });
      },
    );

    it('home studio: the latest move by event time wins, whichever arrives last', async () => {
      const id = fresh();
      await post(a.webhookKey, id, element('CUSTOMER_HOME_STUDIO_UPDATED', 3, { sourceStudioId: 8, targetStudioId: 9 }));
      await post(a.webhookKey, id, element('CUSTOMER_HOME_STUDIO_UPDATED', 2, { sourceStudioId: 7, targetStudioId: 8 }));
      expect(await customer(id)).toMatchObject({
        homeStudioUpstreamId: '9',
        previousHomeStudioUpstreamId: '8',
        homeStudioUpdatedAt: iso(3),
      });
    });

    it('check-in studios: the latest change by event time names the contract', async () => {
      const id = fresh();
      await post(a.webhookKey, id, element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 4, { contractId: 52 }));
      await post(a.webhookKey, id, element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 1, { contractId: 51 }));
      expect(await customer(id)).toMatchObject({ checkinStudiosUpdatedAt: iso(4), checkinStudiosContractId: '52' });
    });

    it('access media: the latest time of each change, and the latest of all', async () => {
      const id = fresh();
      await post(
        a.webhookKey,
        id,
        element('CUSTOMER_ACCESS_MEDIUM_CREATED', 1),
        element('CUSTOMER_ACCESS_MEDIUM_UPDATED', 3),
        element('CUSTOMER_ACCESS_MEDIUM_DELETED', 2),
      );
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_MEDIUM_CREATED', 0));
      expect(await customer(id)).toMatchObject({
        lastAccessMediumCreatedAt: iso(1),
        lastAccessMediumUpdatedAt: iso(3),
        lastAccessMediumDeletedAt: iso(2),
        lastAccessMediumChangedAt: iso(3),
      });
    });

    it('access restriction: in force while the latest set is not older than the latest lift', async () => {
      const id = fresh();
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 1));
      expect(await customer(id)).toMatchObject({ accessRestricted: true });
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_RESTRICTION_DELETED', 2));
      expect(await customer(id)).toMatchObject({ accessRestricted: false });
      // An older set arriving late changes nothing.
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 0));
      expect(await customer(id)).toMatchObject({ accessRestricted: false, lastAccessRestrictionCreatedAt: iso(1) });
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 3));
      expect(await customer(id)).toMatchObject({
        accessRestricted: true,
        lastAccessRestrictionCreatedAt: iso(3),
        lastAccessRestrictionDeletedAt: iso(2),
      });
    });

    it('a tie of the same millisecond ends the same in either order: a restriction set wins, the greater home studio and contract win', async () => {
      const tie = [
        element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 2),
        element('CUSTOMER_ACCESS_RESTRICTION_DELETED', 2),
        element('CUSTOMER_HOME_STUDIO_UPDATED', 2, { sourceStudioId: 7, targetStudioId: 9 }),
        element('CUSTOMER_HOME_STUDIO_UPDATED', 2, { sourceStudioId: 7, targetStudioId: 8 }),
        element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 2, { contractId: 61 }),
        element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 2, { contractId: 62 }),
      ];
      const answers = [];
      for (const order of [tie, [...tie].reverse()]) {
        // Apart (the stored row's merge in SQL) and together (the batch's merge in memory).
        const apart = fresh();
        for (const e of order) await post(a.webhookKey, apart, e);
        const together = fresh();
        await post(a.webhookKey, together, ...order);
        for (const id of [apart, together]) answers.push({ ...(await customer(id)), customerId: null });
      }
      expect(answers[0]).toMatchObject({
        accessRestricted: true,
        homeStudioUpstreamId: '9',
        previousHomeStudioUpstreamId: '7',
        checkinStudiosContractId: '62',
      });
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });

    it('access disabled stays disabled: a newer CUSTOMER_UPDATED does not re-enable it, a second one keeps the first time', async () => {
      const id = fresh();
      await post(a.webhookKey, id, element('CUSTOMER_ACCESS_DISABLED', 3));
      await post(a.webhookKey, id, element('CUSTOMER_UPDATED', 4), element('CUSTOMER_ACCESS_DISABLED', 5));
      expect(await customer(id)).toMatchObject({ accessDisabled: true, accessDisabledAt: iso(3) });
    });
  });

  describe('duplicates and out-of-order delivery', () => {
    /** All eight types about one customer, at distinct times. */
    const history = (): Element[] => [
      element('CUSTOMER_CREATED', 1),
      element('CUSTOMER_HOME_STUDIO_UPDATED', 2, { sourceStudioId: 7, targetStudioId: 8 }),
      element('CUSTOMER_ACCESS_MEDIUM_CREATED', 3),
      element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 4, { contractId: 71 }),
      element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 5),
      element('CUSTOMER_ACCESS_MEDIUM_UPDATED', 6),
      element('CUSTOMER_HOME_STUDIO_UPDATED', 7, { sourceStudioId: 8, targetStudioId: 3 }),
      element('CUSTOMER_ACCESS_RESTRICTION_DELETED', 8),
      element('CUSTOMER_CHECKIN_STUDIOS_UPDATED', 9, { contractId: 70 }),
      element('CUSTOMER_ACCESS_MEDIUM_DELETED', 10),
      element('CUSTOMER_ACCESS_DISABLED', 11),
      element('CUSTOMER_ACCESS_RESTRICTION_CREATED', 12),
    ];
    const EXPECTED = {
      accessDisabled: true,
      accessDisabledAt: iso(11),
      homeStudioUpstreamId: '3',
      previousHomeStudioUpstreamId: '8',
      homeStudioUpdatedAt: iso(7),
      checkinStudiosUpdatedAt: iso(9),
      checkinStudiosContractId: '70',
      lastAccessMediumCreatedAt: iso(3),
      lastAccessMediumUpdatedAt: iso(6),
      lastAccessMediumDeletedAt: iso(10),
      lastAccessMediumChangedAt: iso(10),
      lastAccessRestrictionCreatedAt: iso(12),
      lastAccessRestrictionDeletedAt: iso(8),
      accessRestricted: true,
    };
    /** The customer row as stored, without the key and surrogate id. */
    const row = async (customerId: number) => {
      const [found] = await server.sql('SELECT * FROM customers WHERE "customerId" = $1', [customerId]);
      const { id: _id, customerId: _customerId, ...rest } = found;
      return JSON.parse(
        JSON.stringify(rest, (_key, value) =>
          typeof value === 'bigint' || (typeof value === 'string' && /^\d+$/.test(value)) ? Number(value) : value,
        ),
      );
    };

    it('in order, reversed, shuffled in one delivery, and every delivery twice: the same records', async () => {
      const inOrder = fresh();
      for (const e of history()) await post(a.webhookKey, inOrder, e);

      const reversed = fresh();
      const bodies = [];
      for (const e of history().reverse()) bodies.push(await post(a.webhookKey, reversed, e));
      // The same uuids again (re-sends): acknowledged, not applied again.
      for (const body of bodies) expect(await server.post(a.webhookKey, body)).toMatchObject({ status: 200 });

      const together = fresh();
      const shuffled = history();
      shuffled.push(shuffled.shift()!, shuffled.shift()!);
      shuffled.reverse();
      const body = await post(a.webhookKey, together, ...shuffled);
      expect(await server.post(a.webhookKey, body)).toMatchObject({ status: 200 });

      for (const id of [inOrder, reversed, together]) expect(await customer(id)).toEqual({ ...EXPECTED, customerId: String(id) });
      const [{ n: events }] = await server.sql('SELECT COUNT(*) AS "n" FROM events WHERE "entityId" = $1', [reversed]);
      expect(Number(events)).toBe(history().length);
      expect(await row(reversed)).toEqual(await row(inOrder));
      expect(await row(together)).toEqual(await row(inOrder));
    });
  });

  describe('typed subscriptions', () => {
    it.each(TYPES.map((t) => [t.field, t] as const))(
      "%s: the event with the customer reaches the admin and the customer's member; a token of another studio gets nothing",
      async (field, { type, content, after }) => {
        const mine = fresh();
        const other = fresh();
        const admin = connect(server.app.url, ADMIN_TOKEN);
        const member = connect(server.app.url, await memberJwt([a.id, b.id], mine));
        const partner = connect(server.app.url, partnerB);
        const query = `subscription { ${field} { event { type entityId studioId content occurredAt } customer { ${FIELDS} } } }`;
        const [toAdmin, toMember, toPartner] = [admin, member, partner].map((client: TestClient) => subscribe(client, query)) as [
          Subscription<any>,
          Subscription<any>,
          Subscription<any>,
        ];
        await listening(3);

        await post(a.webhookKey, other, element(type, 5, content));
        await post(a.webhookKey, mine, element(type, 5, content));
        // Studio B's own event, after studio A's: the first (and only) thing B's partner may receive.
        await post(b.webhookKey, other, element(type, 5, content));

        const expected = (entityId: number, studioId: number) => ({
          event: { type, entityId: String(entityId), studioId: String(studioId), content: content ?? null, occurredAt: iso(5) },
          customer: { ...UNTOUCHED, customerId: String(entityId), ...after },
        });
        expect((await toAdmin.take(3)).map((r) => r.data![field])).toEqual([
          expected(other, a.id),
          expected(mine, a.id),
          expected(other, b.id),
        ]);
        expect((await toMember.take(1)).map((r) => r.data![field])).toEqual([expected(mine, a.id)]);
        expect((await toPartner.take(1)).map((r) => r.data![field])).toEqual([expected(other, b.id)]);
        // Nothing more for the member: the others' events were never theirs.
        expect(toMember.results).toHaveLength(1);
      },
    );

    it('a member naming another customer is FORBIDDEN', async () => {
      const member = connect(server.app.url, await memberJwt([a.id], fresh()));
      const refused = subscribe(member, `subscription { customerAccessDisabled(customerIds: ["${fresh()}"]) { event { seq } } }`);
      await refused.take(1);
      expect(refused.results[0]!.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    });
  });

  describe('studio scope', () => {
    it('a token of another studio does not see the customer or its fields; the studio that delivered does', async () => {
      const id = fresh();
      await post(
        a.webhookKey,
        id,
        element('CUSTOMER_ACCESS_DISABLED', 1),
        element('CUSTOMER_HOME_STUDIO_UPDATED', 2, { sourceStudioId: 7, targetStudioId: 8 }),
      );
      const partnerA = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] })).token;
      expect(await customer(id, partnerA)).toMatchObject({ accessDisabled: true, homeStudioUpstreamId: '8' });
      expect(await customer(id, partnerB)).toBeNull();
      const { customers } = await gql(server, partnerB, '{ customers(first: 100) { nodes { customerId } } }');
      expect(customers.nodes.map((n: { customerId: string }) => n.customerId)).not.toContain(String(id));
    });
  });
});

// -------------------------------------------------------------------------------------------------
// Hydration against the stand-in upstream (tools/upstream-standin).
// -------------------------------------------------------------------------------------------------

const FAST = {
  ADMIN_TOKEN,
  HYDRATION_DELAY_MS: '0',
  HYDRATION_POLL_MS: '20',
  HYDRATION_RETRY_BASE_MS: '20',
  HYDRATION_RETRY_MAX_MS: '200',
};
const OPEN = `('queued', 'running', 'retrying')`;

describe.each(databaseKinds())('the customer access types and hydration (%s)', (kind) => {
  let world: World;
  let standin: Standin;
  let server: TestServer;

  beforeEach(async () => {
    world = new World({ seed: 23, studios: 2, customersPerStudio: 3, days: 1 });
    standin = await startStandin({ world });
    server = await startTestServer(kind, FAST);
    for (const s of world.studios)
      await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
  });
  afterEach(async () => {
    await server.stop();
    await standin.close();
  });

  const postAll = async (deliveries: readonly WebhookDelivery[]) => {
    for (const d of deliveries) expect(await server.post(d.webhookKey, d.body)).toMatchObject({ status: 200 });
  };
  const craft = (studioId: number, entityId: number, type: string, timestamp = world.now): WebhookDelivery => ({
    studioId,
    webhookKey: world.studio(studioId).webhookKey,
    body: { entityId, uuid: randomUUID(), payload: [{ timestamp, type }] },
  });
  const settled = (on = server) =>
    until(
      async () => {
        const [events] = await on.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
        const [cursor] = await on.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
        const [open] = await on.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ${OPEN}`);
        return Number(cursor.seq) >= Number(events.max ?? 0) && Number(open.n) === 0;
      },
      20_000,
      'hydration to settle',
    );
  const reads = () => standin.stats()['GET /v1/customers/{customerId}']?.requests ?? 0;
  const customerOf = async (customerId: number) => {
    const { customers } = await gql(
      server,
      ADMIN_TOKEN,
      `query($ids: [ID!]) { customers(filter: {customerIds: $ids}) { nodes {
      customerId accessDisabled accessDisabledAt firstName lastName email customerNumber dateOfBirth phoneMobile address { city } personalDataErasedAt
      communicationPreferences { category } homeStudioUpstreamId previousHomeStudioUpstreamId accessRefused accessRestricted status } } }`,
      { ids: [String(customerId)] },
    );
    return customers.nodes[0];
  };

  it('CUSTOMER_ACCESS_DISABLED erases the personal data without reading the customer, and nothing later reads it again or brings it back', async () => {
    const [first, second] = [...world.customers.values()];
    await postAll([
      craft(first!.studioId, first!.id, 'CUSTOMER_CREATED'),
      craft(first!.studioId, first!.id, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED'),
      craft(second!.studioId, second!.id, 'CUSTOMER_CREATED'),
    ]);
    await settled();
    expect(await customerOf(first!.id)).toMatchObject({
      firstName: first!.firstName,
      email: first!.email,
      personalDataErasedAt: null,
      accessDisabled: false,
    });

    const before = reads();
    const known = world.deliveries.length;
    world.disableCustomerAccess(first!.id);
    await postAll(world.deliveries.slice(known));
    await settled();
    expect(reads()).toBe(before);
    const erased = await customerOf(first!.id);
    expect(erased).toMatchObject({
      accessDisabled: true,
      firstName: null,
      lastName: null,
      email: null,
      customerNumber: null,
      dateOfBirth: null,
      phoneMobile: null,
      address: null,
      communicationPreferences: [],
      status: first!.status,
    });
    expect(erased.personalDataErasedAt).not.toBeNull();
    const [job] = await server.sql(
      `SELECT "state", "lastError", "note" FROM hydration_jobs WHERE "kind" = 'customer' AND "upstreamKey" = $1`,
      [String(first!.id)],
    );
    expect(job).toMatchObject({ state: 'done', lastError: null, note: expect.stringContaining('personal data erased') });

    // Newer events that would read the customer: none is read, none re-enables, the data stays erased.
    const later = world.now + 60_000;
    await postAll(
      [
        craft(first!.studioId, first!.id, 'CUSTOMER_UPDATED', later),
        craft(first!.studioId, first!.id, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED', later),
        craft(first!.studioId, first!.id, 'CUSTOMER_ACCESS_RESTRICTION_CREATED', later),
        craft(first!.studioId, first!.id, 'CUSTOMER_HOME_STUDIO_UPDATED', later),
      ].map((d, i) =>
        i === 3
          ? {
              ...d,
              body: {
                ...d.body,
                payload: [{ ...d.body.payload[0]!, content: { sourceStudioId: first!.studioId, targetStudioId: second!.studioId } }],
              },
            }
          : d,
      ),
    );
    await settled();
    expect(reads()).toBe(before);
    expect(standin.stats()['GET /v1/communications/{customerId}/communication-preferences']?.byStatus[403] ?? 0).toBe(0);
    expect(await customerOf(first!.id)).toMatchObject({
      accessDisabled: true,
      firstName: null,
      email: null,
      homeStudioUpstreamId: String(second!.studioId),
    });
    const rows = await server.sql('SELECT "firstName", "lastName", "email", "addressStreet", "searchName", "searchEmail" FROM customers');
    expect(JSON.stringify(rows)).not.toContain(first!.email);
    expect(JSON.stringify(rows)).not.toContain(first!.lastName);
    // The other customer is untouched.
    expect(await customerOf(second!.id)).toMatchObject({ firstName: second!.firstName, accessDisabled: false, personalDataErasedAt: null });
  });

  it('when the access is disabled upstream and the event was lost, the next read answers 403 and erases just the same', async () => {
    const [first] = [...world.customers.values()];
    await postAll([craft(first!.studioId, first!.id, 'CUSTOMER_CREATED')]);
    await settled();
    world.disableCustomerAccess(first!.id);
    await postAll([craft(first!.studioId, first!.id, 'CUSTOMER_UPDATED')]);
    await settled();
    expect(standin.stats()['GET /v1/customers/{customerId}']?.byStatus[403]).toBe(1);
    // Without the event we do not know access is disabled, only that the data may not be read.
    expect(await customerOf(first!.id)).toMatchObject({ accessDisabled: false, firstName: null, email: null });
  });

  it('a home-studio move and access restrictions read the customer again: the record ends as the upstream says', async () => {
    const [first] = [...world.customers.values()];
    const source = first!.studioId;
    const target = world.studios.find((s) => s.id !== source)!.id;
    await postAll([craft(first!.studioId, first!.id, 'CUSTOMER_CREATED')]);
    await settled();
    const before = reads();
    const known = world.deliveries.length;
    world.moveHomeStudio(first!.id, target);
    world.addAccessRestriction(first!.id);
    world.addAccessMedium(first!.id);
    await postAll(world.deliveries.slice(known));
    await settled();
    // The move and the restriction asked for a read (coalesced or not); the access medium did not (the customer was read before).
    expect(reads()).toBeGreaterThan(before);
    expect(reads()).toBeLessThanOrEqual(before + 2);
    expect(await customerOf(first!.id)).toMatchObject({
      homeStudioUpstreamId: String(target),
      previousHomeStudioUpstreamId: String(source),
      accessRefused: true,
      accessRestricted: true,
      accessDisabled: false,
      firstName: first!.firstName,
    });
  });

  it("when the stand-in's whole history with the sister types is posted newest first, then every customer ends as the upstream says", async () => {
    const sister = new World({ seed: 3, studios: 2, customersPerStudio: 40, days: 2, sisterEvents: true });
    const sisterStandin = await startStandin({ world: sister });
    const sisterServer = await startTestServer(kind, FAST);
    try {
      for (const s of sister.studios)
        await sisterServer.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: sisterStandin.baseUrl });
      for (const d of [...sister.deliveries].reverse())
        expect(await sisterServer.post(d.webhookKey, d.body)).toMatchObject({ status: 200 });
      await settled(sisterServer);
      /** The latest element of `type` about each customer. */
      const latest = (type: string) => {
        const found = new Map<number, { timestamp: number; content?: Record<string, unknown> | null }>();
        for (const d of sister.deliveries) {
          for (const e of d.body.payload)
            if (e.type === type && (found.get(d.body.entityId)?.timestamp ?? -1) < e.timestamp) found.set(d.body.entityId, e);
        }
        return found;
      };
      const moves = latest('CUSTOMER_HOME_STUDIO_UPDATED');
      const checkinStudios = latest('CUSTOMER_CHECKIN_STUDIOS_UPDATED');
      const media = latest('CUSTOMER_ACCESS_MEDIUM_CREATED');
      const { customers } = await gql(
        sisterServer,
        ADMIN_TOKEN,
        `{ customers(first: 100) { nodes { customerId accessDisabled firstName email personalDataErasedAt
        homeStudioUpstreamId checkinStudiosContractId lastAccessMediumCreatedAt accessRefused deleted } } }`,
      );
      expect(customers.nodes.length).toBe(sister.customers.size);
      let disabled = 0;
      for (const node of customers.nodes) {
        const c = sister.customers.get(Number(node.customerId))!;
        expect(node.accessDisabled).toBe(c.accessDisabledAt !== null);
        if (c.accessDisabledAt !== null) {
          disabled += 1;
          // Newest first, the disable arrived before anything read the customer: nothing was ever held (or erased).
          expect(node).toMatchObject({ firstName: null, email: null, personalDataErasedAt: null });
          expect(JSON.stringify(await sisterServer.sql('SELECT * FROM customers'))).not.toContain(c.email);
        } else if (c.deletedAt === null) {
          expect(node).toMatchObject({
            firstName: c.firstName,
            homeStudioUpstreamId: String(c.studioId),
            accessRefused: c.accessRefusal || c.accessRestrictions.length > 0,
          });
        }
        const move = moves.get(c.id);
        if (move) expect(node.homeStudioUpstreamId).toBe(String(move.content!['targetStudioId']));
        expect(node.checkinStudiosContractId).toBe(
          checkinStudios.has(c.id) ? String(checkinStudios.get(c.id)!.content!['contractId']) : null,
        );
        expect(node.lastAccessMediumCreatedAt).toBe(media.has(c.id) ? new Date(media.get(c.id)!.timestamp).toISOString() : null);
      }
      expect(disabled).toBe([...sister.customers.values()].filter((c) => c.accessDisabledAt !== null).length);
      expect(disabled).toBeGreaterThan(0);
      expect(moves.size).toBeGreaterThan(0);
    } finally {
      await sisterServer.stop();
      await sisterStandin.close();
    }
  });

  it('CUSTOMER_CHECKIN_STUDIOS_UPDATED reads a customer never read before, once', async () => {
    const contract = world.contracts[0]!;
    const known = world.deliveries.length;
    world.updateCheckinStudios(
      contract.id,
      world.studios.map((s) => s.id),
    );
    await postAll(world.deliveries.slice(known));
    await settled();
    const customer = world.customers.get(contract.customerId)!;
    expect(await customerOf(customer.id)).toMatchObject({ firstName: customer.firstName });
    const { customers } = await gql(
      server,
      ADMIN_TOKEN,
      `{ customers(filter: {customerIds: ["${customer.id}"]}) { nodes { checkinStudiosContractId } } }`,
    );
    expect(customers.nodes[0]).toEqual({ checkinStudiosContractId: String(contract.id) });
    const before = reads();
    const again = world.deliveries.length;
    world.updateCheckinStudios(contract.id, [world.studios[0]!.id]);
    await postAll(world.deliveries.slice(again));
    await settled();
    expect(reads()).toBe(before);
  });
});

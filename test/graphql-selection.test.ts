import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const HOUR = 3_600_000;
/** Check-ins of the busy customer, posted out of time order so that ids (log seq) and times disagree. */
const VISITS = 30;

/**
 * The customer queries read only the columns the selection needs, and nested lists inside the
 * customer's statement keep their order by an ORDER BY inside the JSON aggregate. Whatever a query
 * selects, the answer must be the one a full read gives.
 */
describe.each(databaseKinds())('GraphQL reads select what the query asks for (%s)', (kind) => {
  let server: TestServer;
  let busyId: string;
  let presentId: string;

  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as { data?: any; errors?: unknown[] };
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };

  /** The statements the query sent, and its data. */
  const traced = async (query: string, variables: Record<string, unknown> = {}) => {
    const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
    try {
      const data = await post(query, variables);
      return { data, statements: spy.mock.calls.map((call) => String(call[0])) };
    } finally {
      spy.mockRestore();
    }
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const studio = await server.addStudio({ name: 'Selection Studio' });
    // Visit k checks in at hour k; posted in a scrambled order, one delivery each.
    const order = Array.from({ length: VISITS }, (_, k) => (k * 7) % VISITS);
    for (const k of order) {
      const at = T0 + k * HOUR;
      const res = await server.post(
        studio.webhookKey,
        delivery(500, { type: 'CUSTOMER_CHECKIN', timestamp: at }, { type: 'CUSTOMER_CHECKOUT', timestamp: at + 30 * 60_000 + k * 1000 }),
      );
      expect(res.status).toBe(200);
    }
    expect((await server.post(studio.webhookKey, delivery(501, { type: 'CUSTOMER_CHECKIN', timestamp: T0 }))).status).toBe(200);
    // Stands in for hydration from the Open API.
    await server.sql(`UPDATE customers SET "firstName" = 'Ada', "addressCity" = 'Berlin' WHERE "customerId" = 501`);
    const ids = await post('{ customers(first: 10, filter: {customerIds: ["500", "501"]}) { nodes { id customerId } } }');
    const byCustomer = new Map<string, string>(ids.customers.nodes.map((n: { id: string; customerId: string }) => [n.customerId, n.id]));
    busyId = byCustomer.get('500')!;
    presentId = byCustomer.get('501')!;
  });
  afterAll(() => server?.stop());

  it("when a customer's visits are read inside its statement, in a page, or batched below another list, then all come by id, newest first, as SQL orders them", async () => {
    const expected = (
      await server.sql<{ id: number | string }>(`SELECT "id" FROM visits WHERE "customerId" = 500 ORDER BY "id" DESC LIMIT 25`)
    ).map((r) => String(r.id));
    expect(expected).toHaveLength(25);
    // Ids and check-in times disagree, so an order by time would be caught.
    const byTime = (
      await server.sql<{ id: number | string }>(`SELECT "id" FROM visits WHERE "customerId" = 500 ORDER BY "checkinAt" DESC LIMIT 25`)
    ).map((r) => String(r.id));
    expect(byTime).not.toEqual(expected);

    const single = await traced('query($id: ID!) { customer(id: $id) { visits(first: 25) { id checkinAt } } }', { id: busyId });
    expect(single.statements).toHaveLength(1);
    expect(single.data.customer.visits.map((v: { id: string }) => v.id)).toEqual(expected);

    const page = await post('{ customers(first: 10, filter: {customerIds: ["500"]}) { nodes { visits(first: 25) { id } } } }');
    expect(page.customers.nodes[0].visits.map((v: { id: string }) => v.id)).toEqual(expected);

    // Below a visit, the customer comes from its loader and its visits from the batched window query.
    const nested = await post('query($id: ID!) { customer(id: $id) { visits(first: 1) { customer { visits(first: 25) { id } } } } }', {
      id: busyId,
    });
    expect(nested.customer.visits[0].customer.visits.map((v: { id: string }) => v.id)).toEqual(expected);
  });

  it('when a query selects a few fields, then its statement reads their columns only, and fields computed from other columns still answer right', async () => {
    const few = await traced('query($id: ID!) { customer(id: $id) { checkedIn } }', { id: presentId });
    expect(few.data.customer).toEqual({ checkedIn: true });
    expect(few.statements).toHaveLength(1);
    expect(few.statements[0]).toContain('lastCheckinStudioId');
    expect(few.statements[0]).not.toContain('firstName');
    expect(few.statements[0]).not.toContain('addressCity');

    const more = await traced(
      'query($id: ID!) { customer(id: $id) { firstName address { city street } deleted lastCheckinAt lastCheckoutAt } }',
      { id: presentId },
    );
    expect(more.data.customer).toEqual({
      firstName: 'Ada',
      address: { city: 'Berlin', street: null },
      deleted: false,
      lastCheckinAt: new Date(T0).toISOString(),
      lastCheckoutAt: null,
    });
    expect(more.statements[0]).toContain('firstName');

    // Fields inside an inline fragment on the type itself count like the others.
    const page = await traced(
      '{ customers(first: 5, filter: {customerIds: ["501"]}) { nodes { ... on Customer { customerId firstName } } } }',
    );
    expect(page.data.customers.nodes).toEqual([{ customerId: '501', firstName: 'Ada' }]);
  });

  it('when two selections of one list ask for different fields (aliases, repeated fields, fragments, nested), then each gets all of its own', async () => {
    const full = await post(
      'query($id: ID!) { customer(id: $id) { visits(first: 4) { id checkinAt checkoutAt durationSeconds studioId lastEventAt } } }',
      { id: busyId },
    );
    const visits = full.customer.visits as Record<string, unknown>[];
    const only = (...fields: string[]) => visits.map((v) => Object.fromEntries(fields.map((f) => [f, v[f]])));
    expect(visits.every((v) => typeof v.durationSeconds === 'number' && v.durationSeconds >= 1800)).toBe(true);

    const aliased = await traced(
      'query($id: ID!) { customer(id: $id) { a: visits(first: 4) { id } b: visits(first: 4) { checkinAt durationSeconds } } }',
      { id: busyId },
    );
    expect(aliased.statements).toHaveLength(1);
    expect(aliased.data.customer).toEqual({ a: only('id'), b: only('checkinAt', 'durationSeconds') });

    const merged = await traced(
      `query($id: ID!) { customer(id: $id) { visits(first: 4) { id } ...More } }
       fragment More on Customer { visits(first: 4) { checkoutAt durationSeconds } }`,
      { id: busyId },
    );
    expect(merged.statements).toHaveLength(1);
    expect(merged.data.customer.visits).toEqual(only('id', 'checkoutAt', 'durationSeconds'));

    const nested = await post(
      `query($id: ID!) { customer(id: $id) { visits(first: 4) { id customer { visits(first: 4) { studioId lastEventAt } } } } }`,
      { id: busyId },
    );
    expect(nested.customer.visits.map((v: { id: string }) => v.id)).toEqual(only('id').map((v) => v.id));
    expect(nested.customer.visits[0].customer.visits).toEqual(only('studioId', 'lastEventAt'));
  });
});

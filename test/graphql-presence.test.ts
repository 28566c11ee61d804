import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-presence-0001';

describe.each(databaseKinds())('Customer presence across studios of one operator (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
  });
  afterAll(() => server.stop());

  const query = async (token: string, text: string) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: text }),
    });
    return (await response.json()) as { data: any; errors?: unknown };
  };

  it('when a shared customer last checked in at a studio the token may not see, then its presence is hidden from that token', async () => {
    const tenantUrl = 'https://presence.open-api.perfectgym.com/v1';
    const a = await server.addStudio({ tenantUrl });
    const c = await server.addStudio({ tenantUrl });
    await server.post(a.webhookKey, delivery(5, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 }));
    await server.post(c.webhookKey, delivery(5, { type: 'CUSTOMER_CHECKIN', timestamp: 1_764_000_100_000 }));
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] });
    const text =
      '{ customers(filter: {customerIds: ["5"]}) { nodes { checkedIn lastCheckinAt lastCheckinStudioId lastCheckoutAt } } checkedIn: customers(filter: {checkedIn: true}) { totalCount } }';

    const asA = await query(token, text);
    expect(asA.errors).toBeUndefined();
    expect(asA.data.customers.nodes).toEqual([{ checkedIn: false, lastCheckinAt: null, lastCheckinStudioId: null, lastCheckoutAt: null }]);
    expect(asA.data.checkedIn.totalCount).toBe(0);

    const asAdmin = await query(ADMIN_TOKEN, text);
    expect(asAdmin.data.customers.nodes).toEqual([
      {
        checkedIn: true,
        lastCheckinAt: new Date(1_764_000_100_000).toISOString(),
        lastCheckinStudioId: String(c.id),
        lastCheckoutAt: null,
      },
    ]);
    expect(asAdmin.data.checkedIn.totalCount).toBe(1);
  });

  it('when a shared customer visited two studios, then visitCount and visits count only the visits at studios the token may see', async () => {
    const tenantUrl = 'https://visits.open-api.perfectgym.com/v1';
    const a = await server.addStudio({ tenantUrl });
    const c = await server.addStudio({ tenantUrl });
    const t0 = 1_764_100_000_000;
    await server.post(
      a.webhookKey,
      delivery(
        7,
        { type: 'CUSTOMER_CHECKIN', timestamp: t0 },
        { type: 'CUSTOMER_CHECKOUT', timestamp: t0 + 60_000 },
        { type: 'CUSTOMER_CHECKIN', timestamp: t0 + 120_000 },
      ),
    );
    await server.post(
      c.webhookKey,
      delivery(7, { type: 'CUSTOMER_CHECKIN', timestamp: t0 + 180_000 }, { type: 'CUSTOMER_CHECKOUT', timestamp: t0 + 240_000 }),
    );
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] });
    const text =
      '{ customers(filter: {customerIds: ["7"]}) { nodes { id visitCount visits(first: 1) { studio { id } } all: visits { id } } } }';

    const asA = await query(token, text);
    expect(asA.errors).toBeUndefined();
    expect(asA.data.customers.nodes).toHaveLength(1);
    expect(asA.data.customers.nodes[0].visitCount).toBe(2);
    expect(asA.data.customers.nodes[0].all).toHaveLength(2);
    expect(asA.data.customers.nodes[0].visits).toEqual([{ studio: { id: String(a.id) } }]);

    const asAdmin = await query(ADMIN_TOKEN, text);
    expect(asAdmin.data.customers.nodes[0].visitCount).toBe(3);
    expect(asAdmin.data.customers.nodes[0].all).toHaveLength(3);
    expect(asAdmin.data.customers.nodes[0].visits).toEqual([{ studio: { id: String(c.id) } }]);

    // The same through a fragment, by id, and with a list skipped: the same answers.
    const byId = await query(
      token,
      `{ customer(id: "${asAdmin.data.customers.nodes[0].id}") { ...V skipped: visits @skip(if: true) { id } } } fragment V on Customer { visitCount visits(first: 1) { studio { id } } }`,
    );
    expect(byId.errors).toBeUndefined();
    expect(byId.data.customer).toEqual({ visitCount: 2, visits: [{ studio: { id: String(a.id) } }] });
  });
});

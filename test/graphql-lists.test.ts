import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-lists-00001';
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-02T06:00:00Z');
const at = (minutes: number) => T0 + minutes * MINUTE;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

type Studio = Awaited<ReturnType<TestServer['addStudio']>>;

describe.each(databaseKinds())('lists: visits, nested pages (%s)', (kind) => {
  let server: TestServer;
  let a: Studio;
  let b: Studio;
  let partnerA: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };
  const data = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const { body } = await gql(query, variables, token);
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const post = async (
    studio: Studio,
    customer: number,
    ...payload: { type: string; timestamp: number; content?: Record<string, unknown> }[]
  ) => {
    const response = await server.post(studio.webhookKey, delivery(customer, ...payload));
    expect(response.status).toBe(200);
  };
  /** Every page of `visits` with `variables`, `size` at a time: the nodes in order, and how many pages it took. */
  const allPages = async (variables: Record<string, unknown>, size: number, token = ADMIN_TOKEN) => {
    const nodes: any[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = (
        await data(
          `query ($filter: VisitFilter, $orderBy: VisitOrder, $first: Int, $after: String) {
        visits(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { totalCount nodes { customerId studioId checkinAt checkoutAt } pageInfo { hasNextPage endCursor } } }`,
          { ...variables, first: size, after },
          token,
        )
      ).visits;
      pages += 1;
      nodes.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) return { nodes, pages, totalCount: page.totalCount };
      after = page.pageInfo.endCursor;
    }
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const tenantUrl = 'https://lists.open-api.perfectgym.com/v1';
    a = await server.addStudio({ tenantUrl });
    b = await server.addStudio({ tenantUrl });
    partnerA = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] })).token;
    // Posted out of time order on purpose: the order is by check-in time, not arrival.
    await post(a, 3, { type: 'CUSTOMER_CHECKIN', timestamp: at(40) }, { type: 'CUSTOMER_CHECKOUT', timestamp: at(100) });
    await post(a, 1, { type: 'CUSTOMER_CHECKIN', timestamp: at(0) }, { type: 'CUSTOMER_CHECKOUT', timestamp: at(60) });
    await post(a, 2, { type: 'CUSTOMER_CHECKIN', timestamp: at(20) });
    await post(a, 1, { type: 'CUSTOMER_CHECKIN', timestamp: at(200) }, { type: 'CUSTOMER_CHECKOUT', timestamp: at(230) });
    await post(b, 4, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) }, { type: 'CUSTOMER_CHECKOUT', timestamp: at(70) });
    // Checked in at A, out at B: a token of A sees the visit open.
    await post(a, 5, { type: 'CUSTOMER_CHECKIN', timestamp: at(30) });
    await post(b, 5, { type: 'CUSTOMER_CHECKOUT', timestamp: at(90) });
    // A check-out without a check-in: a visit without check-in time.
    await post(a, 6, { type: 'CUSTOMER_CHECKOUT', timestamp: at(50) });
    // Contracts of customer 1, at both studios.
    await post(a, 1, { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 901 } });
    await post(a, 1, { type: 'CONTRACT_CREATED', timestamp: at(2), content: { contractId: 902 } });
    await post(b, 1, { type: 'CONTRACT_CREATED', timestamp: at(3), content: { contractId: 903 } });
    // Aggregator memberships of customer 1: two at A, one at B (posted out of time order).
    await post(a, 1, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(12), content: { aggregatorId: 'agg-12' } });
    await post(a, 1, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(11), content: { aggregatorId: 'agg-11' } });
    await post(b, 1, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(13), content: { aggregatorId: 'agg-13' } });
  });
  afterAll(() => server.stop());

  const row = (customerId: number, studio: Studio, checkin: number, checkout: number | null) => ({
    customerId: String(customerId),
    studioId: String(studio.id),
    checkinAt: iso(checkin),
    checkoutAt: checkout === null ? null : iso(checkout),
  });

  it('when visits are paged by check-in time, then every visit with a check-in comes once, in check-in order, whatever the page size', async () => {
    const expected = [row(1, a, 0, 60), row(4, b, 10, 70), row(2, a, 20, null), row(5, a, 30, 90), row(3, a, 40, 100), row(1, a, 200, 230)];
    for (const size of [1, 2, 4, 100]) {
      const { nodes, pages, totalCount } = await allPages({}, size);
      expect(nodes).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / size)));
      expect(totalCount).toBe(expected.length);
    }
    const descending = await allPages({ orderBy: { field: 'CHECKIN_AT', direction: 'DESC' } }, 4);
    expect(descending.nodes).toEqual([...expected].reverse());
    // By id (arrival), the check-out without check-in is listed too.
    const byId = await allPages({ orderBy: { field: 'ID' } }, 3);
    expect(byId.nodes).toHaveLength(7);
    expect(byId.nodes.filter((v) => v.checkinAt === null)).toEqual([
      { customerId: '6', studioId: String(a.id), checkinAt: null, checkoutAt: iso(50) },
    ]);
  });

  it('when filtered by studio, customer, an open-ended check-in range, or open / closed, then exactly the matching visits', async () => {
    const pick = async (filter: Record<string, unknown>) =>
      (await allPages({ filter }, 100)).nodes.map((v) => `${v.customerId}@${v.checkinAt}`);
    expect(await pick({ studioIds: [String(b.id)] })).toEqual([`4@${iso(10)}`]);
    expect(await pick({ customerIds: ['1'] })).toEqual([`1@${iso(0)}`, `1@${iso(200)}`]);
    expect(await pick({ checkinAt: { from: iso(30) } })).toEqual([`5@${iso(30)}`, `3@${iso(40)}`, `1@${iso(200)}`]);
    expect(await pick({ checkinAt: { to: iso(20) } })).toEqual([`1@${iso(0)}`, `4@${iso(10)}`]);
    expect(await pick({ checkinAt: { from: iso(10), to: iso(40) } })).toEqual([`4@${iso(10)}`, `2@${iso(20)}`, `5@${iso(30)}`]);
    expect(await pick({ open: true })).toEqual([`2@${iso(20)}`]);
    expect(await pick({ open: false, studioIds: [String(a.id)] })).toEqual([
      `1@${iso(0)}`,
      `5@${iso(30)}`,
      `3@${iso(40)}`,
      `1@${iso(200)}`,
    ]);
    const bad = await gql('{ visits(filter: {checkinAt: {from: "2026-11-03T00:00:00Z", to: "2026-11-02T00:00:00Z"}}) { totalCount } }');
    expect(bad.body.errors?.[0]).toMatchObject({
      message: 'filter.checkinAt: from must be before to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it("when a token of one studio lists visits, then it gets that studio's alone, sees a check-out at the other studio as open, and asking for the other is FORBIDDEN", async () => {
    const { nodes, totalCount } = await allPages({}, 2, partnerA);
    expect(nodes).toEqual([row(1, a, 0, 60), row(2, a, 20, null), row(5, a, 30, null), row(3, a, 40, 100), row(1, a, 200, 230)]);
    expect(totalCount).toBe(5);
    const open = await allPages({ filter: { open: true } }, 10, partnerA);
    expect(open.nodes.map((v) => v.customerId)).toEqual(['2', '5']);
    const forbidden = await gql('query ($s: [ID!]) { visits(filter: {studioIds: $s}) { totalCount } }', { s: [String(b.id)] }, partnerA);
    expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.body.data?.visits ?? null).toBeNull();
  });

  it('when a nested list is paged with after (an id) and a time range, then it goes on after that item, within the range, per customer in one request', async () => {
    const first = await data(`{ customers(filter: {customerIds: ["1", "5"]}) { nodes { id customerId
      visits(first: 1) { id checkinAt } contracts(first: 1) { id contractId } } } }`);
    const [one] = first.customers.nodes;
    expect(one.visits).toEqual([{ id: expect.any(String), checkinAt: iso(200) }]);
    expect(one.contracts).toEqual([{ id: expect.any(String), contractId: '903' }]);
    const next = await data(
      `query ($v: ID, $c: ID) { customers(filter: {customerIds: ["1"]}) { nodes {
      visits(first: 1, after: $v) { checkinAt } contracts(first: 5, after: $c) { contractId } } } }`,
      { v: one.visits[0].id, c: one.contracts[0].id },
    );
    expect(next.customers.nodes[0]).toEqual({ visits: [{ checkinAt: iso(0) }], contracts: [{ contractId: '902' }, { contractId: '901' }] });
    const ranged = await data(`{ customers(filter: {customerIds: ["1", "5"]}) { nodes { customerId
      visits(checkinAt: {from: "${iso(100)}"}) { checkinAt } early: visits(checkinAt: {to: "${iso(100)}"}) { checkinAt }
      contracts(firstEventAt: {from: "${iso(2)}", to: "${iso(3)}"}) { contractId } } } }`);
    expect(ranged.customers.nodes).toEqual([
      { customerId: '1', visits: [{ checkinAt: iso(200) }], early: [{ checkinAt: iso(0) }], contracts: [{ contractId: '902' }] },
      { customerId: '5', visits: [], early: [{ checkinAt: iso(30) }], contracts: [] },
    ]);
    // The same through `customer(id)` (read in the parent's statement) and through a loader (under a visit).
    const byId = await data(`query ($id: ID!, $v: ID) { customer(id: $id) { visits(first: 1, after: $v) { checkinAt } } }`, {
      id: one.id,
      v: one.visits[0].id,
    });
    expect(byId.customer.visits).toEqual([{ checkinAt: iso(0) }]);
    const viaVisit = await data(
      `query ($v: ID) { visits(filter: {customerIds: ["1"]}, first: 1) { nodes { customer { visits(first: 1, after: $v) { checkinAt } } } } }`,
      { v: one.visits[0].id },
    );
    expect(viaVisit.visits.nodes[0].customer.visits).toEqual([{ checkinAt: iso(0) }]);
    // A token of studio A: the contract at B is not in its list.
    const scoped = await data('{ customers(filter: {customerIds: ["1"]}) { nodes { contracts { contractId } } } }', {}, partnerA);
    expect(scoped.customers.nodes[0].contracts).toEqual([{ contractId: '902' }, { contractId: '901' }]);
  });

  it('when aggregator memberships are paged with after (an id) and a createdAt range, then like the other nested lists: newest first, after that item, within the range, scoped', async () => {
    const page = async (args: string, token = ADMIN_TOKEN) =>
      (await data(`{ customers(filter: {customerIds: ["1"]}) { nodes { aggregatorMemberships${args} { id aggregatorId } } } }`, {}, token))
        .customers.nodes[0].aggregatorMemberships as { id: string; aggregatorId: string }[];
    const all = await page('');
    expect(all.map((m) => m.aggregatorId)).toEqual(['agg-13', 'agg-12', 'agg-11']);
    expect((await page(`(first: 1, after: "${all[0]!.id}")`)).map((m) => m.aggregatorId)).toEqual(['agg-12']);
    expect((await page(`(after: "${all[1]!.id}")`)).map((m) => m.aggregatorId)).toEqual(['agg-11']);
    expect((await page(`(createdAt: {from: "${iso(12)}"})`)).map((m) => m.aggregatorId)).toEqual(['agg-13', 'agg-12']);
    expect((await page(`(createdAt: {to: "${iso(12)}"})`)).map((m) => m.aggregatorId)).toEqual(['agg-11']);
    expect((await page(`(createdAt: {from: "${iso(11)}", to: "${iso(13)}"}, first: 1)`)).map((m) => m.aggregatorId)).toEqual(['agg-12']);
    // Through a loader (under a visit) rather than the customers' statement: the same.
    const viaVisit = await data(
      `query ($m: ID) { visits(filter: {customerIds: ["1"]}, first: 1) { nodes { customer { aggregatorMemberships(after: $m) { aggregatorId } } } } }`,
      { m: all[0]!.id },
    );
    expect(viaVisit.visits.nodes[0].customer.aggregatorMemberships).toEqual([{ aggregatorId: 'agg-12' }, { aggregatorId: 'agg-11' }]);
    // A token of studio A does not see the membership delivered by B.
    expect((await page('', partnerA)).map((m) => m.aggregatorId)).toEqual(['agg-12', 'agg-11']);
    const bad = await gql(
      `{ customers(first: 1) { nodes { aggregatorMemberships(createdAt: {from: "${iso(5)}", to: "${iso(5)}"}) { id } } } }`,
    );
    expect(bad.body.errors?.[0]).toMatchObject({
      message: 'aggregatorMemberships(createdAt): from must be before to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('when a nested list gets a bad after or range, then BAD_USER_INPUT naming it', async () => {
    const bad = await gql('{ customers(first: 1) { nodes { visits(after: "abc") { id } } } }');
    expect(bad.body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('visits(after): expected the id of an item of this list'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const range = await gql(`{ customers(first: 1) { nodes { contracts(firstEventAt: {from: "${iso(5)}", to: "${iso(5)}"}) { id } } } }`);
    expect(range.body.errors?.[0]).toMatchObject({
      message: 'contracts(firstEventAt): from must be before to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('when the new lists are asked for in bulk, then the cost model prices them like every list and refuses what is too big before running it', async () => {
    const big = await gql('{ visits(first: 100) { nodes { customer { visits(first: 100) { id } } } } }');
    expect(big.status).toBe(400);
    expect(big.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    const fine = await gql('{ visits(first: 50) { totalCount nodes { id customer { visits(first: 5, after: "1") { id } } } } }');
    expect(fine.status).toBe(200);
    expect(fine.body.errors).toBeUndefined();
  });
});

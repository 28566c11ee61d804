import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { normaliseSearchText } from '../src/domains/customers/customer-search.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-search-00001';
const OPEN = `('queued', 'running', 'retrying')`;
const FAST = {
  ADMIN_TOKEN,
  HYDRATION_DELAY_MS: '0',
  HYDRATION_POLL_MS: '20',
  HYDRATION_RETRY_BASE_MS: '20',
  HYDRATION_RETRY_MAX_MS: '200',
};
const HOUR = 3_600_000;

/** The scanner has read every event stored so far, and no job is waiting, running or retrying. */
async function settled(server: TestServer): Promise<void> {
  await until(
    async () => {
      const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
      const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
      const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ${OPEN}`);
      return Number(cursor?.seq ?? 0) >= Number(events.max ?? 0) && Number(open.n) === 0;
    },
    30_000,
    'hydration to settle',
  );
}

describe.each(databaseKinds())('lists over hydrated fields: customer search, statuses, upcoming classes (%s)', (kind) => {
  let world: World;
  let standin: Standin;
  let server: TestServer;
  /** Our studio id per upstream studio id. */
  const studios = new Map<number, number>();
  let partner: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: any[] };
  };
  const data = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const body = await gql(query, variables, token);
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const post = async (deliveries: readonly WebhookDelivery[]) => {
    for (const d of deliveries) {
      const response = await server.post(d.webhookKey, d.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
  };
  /** The upstream customer ids a customer search finds, every page, sorted. */
  const found = async (filter: Record<string, unknown>, token = ADMIN_TOKEN) => {
    const ids: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (
        await data(
          'query ($filter: CustomerFilter, $after: String) { customers(filter: $filter, first: 5, after: $after) { nodes { customerId } pageInfo { hasNextPage endCursor } } }',
          { filter, after },
          token,
        )
      ).customers;
      ids.push(...page.nodes.map((n: { customerId: string }) => Number(n.customerId)));
      if (!page.pageInfo.hasNextPage) return ids.sort((x, y) => x - y);
      after = page.pageInfo.endCursor;
    }
  };
  /** What a search for `text` should find among the world's customers: the same rule, computed here. */
  const expected = (text: string) => {
    const prefix = normaliseSearchText(text);
    return [...world.customers.values()]
      .filter((c) =>
        [`${c.firstName} ${c.lastName}`, c.lastName, c.email, c.customerNumber].some((field) =>
          normaliseSearchText(field).startsWith(prefix),
        ),
      )
      .map((c) => c.id)
      .sort((x, y) => x - y);
  };

  beforeAll(async () => {
    world = new World({ seed: 23, studios: 2, customersPerStudio: 8, days: 6 });
    standin = await startStandin({ world });
    server = await startTestServer(kind, FAST);
    for (const s of world.studios) {
      const studio = await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
      studios.set(s.id, studio.id);
    }
    partner = (
      await new TokenService(server.app.dataSource).create({
        role: 'partner',
        studios: [studios.get(world.studios[0]!.id)!],
        permissions: ['personalData'],
      })
    ).token;
    await post(world.deliveries);
    await settled(server);
  });
  afterAll(async () => {
    await server.stop();
    await standin.close();
  });

  it('when customers are searched by a prefix of the name, the last name, the e-mail or the customer number, then exactly those, ignoring case and spaces', async () => {
    const someone = [...world.customers.values()][3]!;
    const probes = [
      someone.firstName.toUpperCase(),
      `  ${someone.firstName.toLowerCase()}   ${someone.lastName.slice(0, 2)} `,
      someone.lastName.toUpperCase(),
      someone.email.slice(0, 6).toUpperCase(),
      someone.customerNumber.toLowerCase(),
      'c-10',
      'ü',
      '%',
      '_',
    ];
    for (const probe of probes) expect({ probe, ids: await found({ search: probe }) }).toEqual({ probe, ids: expected(probe) });
    expect(await found({ search: someone.email })).toEqual([someone.id]);
    // The number alone (no personal data needed for it).
    expect(await found({ customerNumber: someone.customerNumber.toLowerCase() })).toEqual(
      [...world.customers.values()]
        .filter((c) => c.customerNumber.toLowerCase().startsWith(someone.customerNumber.toLowerCase()))
        .map((c) => c.id),
    );
    expect(await found({ customerNumber: someone.firstName })).toEqual([]);
    // Combined with other filters, as every filter is.
    const members = [...world.customers.values()].filter((c) => c.status === 'MEMBER').map((c) => c.id);
    expect(await found({ search: 'c-1', status: ['member'] })).toEqual(expected('c-1').filter((id) => members.includes(id)));
  });

  it('when customers are filtered by status, then those with one of the statuses, in any case', async () => {
    const byStatus = (statuses: string[]) =>
      [...world.customers.values()]
        .filter((c) => statuses.includes(c.status))
        .map((c) => c.id)
        .sort((x, y) => x - y);
    expect(await found({ status: ['MEMBER'] })).toEqual(byStatus(['MEMBER']));
    expect(await found({ status: ['prospect', 'Former_Member'] })).toEqual(byStatus(['PROSPECT', 'FORMER_MEMBER']));
    expect(await found({ status: [] })).toEqual([]);
  });

  it('when a token of one studio searches, then it finds only customers of its studio, as the studio filter would', async () => {
    const studioA = String(studios.get(world.studios[0]!.id));
    const all = await found({ search: 'c-' });
    const mine = await found({ search: 'c-' }, partner);
    expect(mine).toEqual(await found({ search: 'c-', studioIds: [studioA] }));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.length).toBeLessThan(all.length);
  });

  it('when the search text is empty or too long, then BAD_USER_INPUT naming the filter', async () => {
    for (const [search, message] of [
      ['   ', 'filter.search: expected at least one character that is not a space'],
      ['x'.repeat(101), 'filter.search: expected at most 100 characters, got 101'],
    ]) {
      const body = await gql('query ($s: String) { customers(filter: {search: $s}) { totalCount } }', { s: search });
      expect(body.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    }
  });

  it('when a partner token without personal data searches by name, e-mail or customer number, then PERSONAL_DATA_FORBIDDEN and nothing is read; the status filter stays allowed', async () => {
    const token = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: 'all' })).token;
    for (const [filter, field] of [
      ['search: "anna"', 'filter.search'],
      ['customerNumber: "C-10"', 'filter.customerNumber'],
    ] as const) {
      const refused = await gql(`{ customers(filter: {${filter}}) { totalCount } }`, {}, token);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'PERSONAL_DATA_FORBIDDEN' });
      expect(refused.errors?.[0]?.message).toContain(`${field} is personal data`);
      expect(refused.data ?? null).toBeNull();
    }
    const byStatus = await gql('{ customers(filter: {status: ["MEMBER"]}) { totalCount } }', {}, token);
    expect(byStatus.errors).toBeUndefined();
  });

  it('when the database plans a search, then each search column is read through its index (LIKE prefix), on this database', async () => {
    const where = `"searchName" LIKE 'anna%' ESCAPE '!' OR "searchLastName" LIKE 'anna%' ESCAPE '!' OR "searchEmail" LIKE 'anna%' ESCAPE '!' OR "searchNumber" LIKE 'anna%' ESCAPE '!'`;
    const runner = server.app.dataSource.createQueryRunner();
    await runner.connect();
    try {
      let plan: string;
      if (kind === 'postgres') {
        // Few rows here: forbid the sequential scan, so the plan shows whether the indexes *can* serve LIKE 'prefix%'.
        await runner.query('SET enable_seqscan = off');
        plan = ((await runner.query(`EXPLAIN SELECT "id" FROM "customers" WHERE ${where}`)) as { 'QUERY PLAN': string }[])
          .map((r) => r['QUERY PLAN'])
          .join('\n');
        await runner.query('RESET enable_seqscan');
      } else {
        plan = ((await runner.query(`EXPLAIN QUERY PLAN SELECT "id" FROM "customers" WHERE ${where}`)) as { detail: string }[])
          .map((r) => r.detail)
          .join('\n');
      }
      for (const index of ['customers_search_name', 'customers_search_last_name', 'customers_search_email', 'customers_search_number'])
        expect(plan).toContain(index);
      expect(plan).not.toMatch(/Seq Scan|SCAN customers\b(?! USING)/);
    } finally {
      await runner.release();
    }
  });

  it('when contracts are filtered by status or cancellation, then those the Open API says so', async () => {
    const contracts = async (filter: Record<string, unknown>) =>
      (
        (await data('query ($f: ContractFilter) { contracts(filter: $f, first: 100) { nodes { contractId } } }', { f: filter })).contracts
          .nodes as { contractId: string }[]
      )
        .map((c) => Number(c.contractId))
        .sort((x, y) => x - y);
    const ids = (keep: (c: (typeof world.contracts)[number]) => boolean) =>
      world.contracts
        .filter(keep)
        .map((c) => c.id)
        .sort((x, y) => x - y);
    expect(await contracts({ contractStatus: ['active'] })).toEqual(ids((c) => c.contractStatus === 'ACTIVE'));
    expect(await contracts({ contractStatus: ['INACTIVE'] })).toEqual(ids((c) => c.contractStatus === 'INACTIVE'));
    expect(await contracts({ cancelled: true })).toEqual(ids((c) => c.cancelled));
    expect(await contracts({ cancelled: false, contractStatus: ['ACTIVE'] })).toEqual(
      ids((c) => !c.cancelled && c.contractStatus === 'ACTIVE'),
    );
  });

  it('when the upcoming classes are asked for, then the slots starting from now on, soonest first, page by page; past ones by start too', async () => {
    const now = Date.now();
    const [first, second] = [...world.classes.values()];
    const before = world.deliveries.length;
    // Scheduled now (events a moment ago), starting later: in 3 h, 1 h and 2 days.
    const scheduled = [
      world.scheduleSlot(first!.id, now + 3 * HOUR, now - 3000),
      world.scheduleSlot(second!.id, now + HOUR, now - 2000),
      world.scheduleSlot(first!.id, now + 48 * HOUR, now - 1000),
    ];
    await post(world.deliveries.slice(before));
    await settled(server);
    const soonest = [...scheduled]
      .sort((x, y) => x.startAt - y.startAt)
      .map((s) => ({ slotId: String(s.id), startAt: new Date(s.startAt).toISOString() }));
    const page1 = await data(
      '{ classSlots(filter: {upcoming: true}, orderBy: {field: START_AT}, first: 2) { totalCount nodes { slotId startAt } pageInfo { hasNextPage endCursor } } }',
    );
    expect(page1.classSlots.nodes).toEqual(soonest.slice(0, 2));
    expect(page1.classSlots.totalCount).toBe(3);
    const page2 = await data(
      'query ($after: String) { classSlots(filter: {upcoming: true}, orderBy: {field: START_AT}, first: 2, after: $after) { nodes { slotId startAt } pageInfo { hasNextPage } } }',
      { after: page1.classSlots.pageInfo.endCursor },
    );
    expect(page2.classSlots).toEqual({ nodes: soonest.slice(2), pageInfo: { hasNextPage: false } });
    // The same with an open-ended range of start times, and the past ones latest first.
    const ranged = await data(
      `{ classSlots(filter: {startAt: {from: "${new Date(now).toISOString()}"}}, orderBy: {field: START_AT, direction: DESC}) { nodes { slotId } } }`,
    );
    expect(ranged.classSlots.nodes.map((n: { slotId: string }) => n.slotId)).toEqual(soonest.map((s) => s.slotId).reverse());
    const past = await data(
      '{ classSlots(filter: {upcoming: false}, orderBy: {field: START_AT, direction: DESC}, first: 100) { nodes { startAt } } }',
    );
    const starts = past.classSlots.nodes.map((n: { startAt: string }) => Date.parse(n.startAt));
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.every((t: number) => t < now)).toBe(true);
    expect(starts).toEqual([...starts].sort((x, y) => y - x));
  });

  it("when a slot's bookings are paged with after, then they go on after that booking, in booking order", async () => {
    const slots = await data('{ classSlots(first: 50) { nodes { slotId bookings(first: 50) { id } } } }');
    const busy = slots.classSlots.nodes.find((s: { bookings: unknown[] }) => s.bookings.length >= 2);
    expect(busy).toBeDefined();
    const ids = busy.bookings.map((b: { id: string }) => b.id);
    const next = await data(
      'query ($slot: ID!, $after: ID) { classSlots(filter: {slotIds: [$slot]}) { nodes { bookings(first: 100, after: $after) { id } } } }',
      { slot: busy.slotId, after: ids[0] },
    );
    expect(next.classSlots.nodes[0].bookings.map((b: { id: string }) => b.id)).toEqual(ids.slice(1));
  });
});

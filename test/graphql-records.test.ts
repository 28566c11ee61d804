import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T = 1_764_000_000_000;
const at = (minutes: number) => T + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

type Node = Record<string, any>;

/** What the generic tests need to know about one record type of the API. */
interface RecordType {
  readonly one: string;
  readonly many: string;
  readonly type: string;
  readonly table: string;
  /** Scalar fields selected on every node. */
  readonly fields: string;
  /** Order fields (besides ID, FIRST_EVENT_AT, LAST_EVENT_AT) and the node property each sorts by. */
  readonly orders: Readonly<Record<string, string>>;
  /** Filters that must narrow the full list, with the rule each one stands for. */
  readonly filters: readonly FilterCase[];
}

/** A filter (or a function giving it, when it names a studio created later), its label, and the rule it stands for. */
interface FilterCase {
  readonly label?: string;
  readonly filter: Record<string, unknown> | (() => Record<string, unknown>);
  readonly keep: (node: Node) => boolean;
}

const COMMON = 'id tenantId studioId firstEventAt lastEventAt';
const BOOKING = `${COMMON} bookingId customerId status statusAt createdAt updatedAt cancelledAt`;

const within = (value: string | null, from: number, to: number) =>
  value !== null && Date.parse(value) >= at(from) && Date.parse(value) < at(to);
const range = (from: number, to: number) => ({ from: iso(from), to: iso(to) });

/** Filters every record type has: its studio, and the time of its latest event. */
const commonFilters = (studioLabel: string, studio: () => number): FilterCase[] => [
  { filter: { studioIds: [] }, keep: () => false },
  { label: `{"studioIds":[${studioLabel}]}`, filter: () => ({ studioIds: [studio()] }), keep: (n) => n.studioId === String(studio()) },
  { filter: { lastEventAt: range(2, 5) }, keep: (n) => within(n.lastEventAt, 2, 5) },
  { filter: { lastEventAt: { from: iso(3) } }, keep: (n) => within(n.lastEventAt, 3, 1e6) },
];

describe.each(databaseKinds())('GraphQL records: contracts, memberships, classes, appointments, devices, finance (%s)', (kind) => {
  let server: TestServer;
  /** Studios A and B belong to one operator (tenant X); studio C to another (tenant Y) that reuses the same upstream ids. */
  let a: { id: number; tenantId: number; webhookKey: string };
  let b: { id: number; tenantId: number; webhookKey: string };
  let c: { id: number; tenantId: number; webhookKey: string };
  let partnerToken: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  /** Runs a query that must succeed. */
  const data = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const result = await gql(query, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data;
  };

  const send = async (
    studio: { webhookKey: string },
    entityId: number,
    type: string,
    minutes: number,
    content?: Record<string, unknown>,
  ) => {
    const response = await server.post(
      studio.webhookKey,
      delivery(entityId, { type, timestamp: at(minutes), ...(content ? { content } : {}) }),
    );
    expect(response.status).toBe(200);
  };

  /** Booking webhooks do not name customer or slot: stands in for hydration from the Open API. */
  const hydrate = (table: 'class_bookings' | 'appointment_bookings', tenantId: number, bookingId: number, set: Record<string, number>) => {
    const columns = Object.keys(set);
    return server.sql(
      `UPDATE ${table} SET ${columns.map((name, i) => `"${name}" = $${i + 1}`).join(', ')} WHERE "tenantId" = $${columns.length + 1} AND "bookingId" = $${columns.length + 2}`,
      [...Object.values(set), tenantId, bookingId],
    );
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    a = await server.addStudio({ tenantUrl: 'https://x.open-api.perfectgym.com/v1' });
    b = await server.addStudio({ tenantUrl: 'https://x.open-api.perfectgym.com/v1' });
    c = await server.addStudio({ tenantUrl: 'https://y.open-api.perfectgym.com/v1' });
    expect(b.tenantId).toBe(a.tenantId);
    expect(c.tenantId).not.toBe(a.tenantId);
    partnerToken = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id] })).token;

    // Customers: 100 and 101 at A, 200 at B; 100 again in tenant Y.
    await send(a, 100, 'CUSTOMER_CREATED', 0);
    await send(a, 101, 'CUSTOMER_CREATED', 0);
    await send(b, 200, 'CUSTOMER_CREATED', 0);
    await send(c, 100, 'CUSTOMER_CREATED', 0);

    // Contracts (entityId = customer). 1002 is customer 100's contract delivered by B.
    await send(a, 100, 'CONTRACT_CREATED', 1, { contractId: 1000 });
    await send(a, 100, 'CONTRACT_CREATED', 2, { contractId: 1001 });
    await send(a, 100, 'CONTRACT_UPDATED', 5, { contractId: 1001 });
    await send(a, 101, 'CONTRACT_UPDATED', 3, { contractId: 1010 });
    await send(b, 100, 'CONTRACT_CREATED', 4, { contractId: 1002 });
    await send(b, 200, 'CONTRACT_CREATED', 2, { contractId: 2000 });
    await send(c, 100, 'CONTRACT_CREATED', 1, { contractId: 1000 });

    // Aggregator memberships (entityId = customer).
    await send(a, 100, 'AGGREGATOR_MEMBER_CREATED', 1, { aggregatorId: 'agg-1' });
    await send(a, 100, 'AGGREGATOR_MEMBER_CREATED', 3, { aggregatorId: 'agg-2' });
    await send(a, 101, 'AGGREGATOR_MEMBER_CREATED', 2, { aggregatorId: 'agg-3' });
    await send(b, 100, 'AGGREGATOR_MEMBER_CREATED', 4, { aggregatorId: 'agg-4' });
    await send(b, 200, 'AGGREGATOR_MEMBER_CREATED', 5, { aggregatorId: 'agg-5' });
    await send(c, 100, 'AGGREGATOR_MEMBER_CREATED', 1, { aggregatorId: 'agg-1' });

    // Class slots (entityId = slot, content.classId = class). 501 is cancelled.
    await send(a, 500, 'CLASS_SLOT_UPDATED', 1, { classId: 50 });
    await send(a, 501, 'CLASS_SLOT_UPDATED', 2, { classId: 50 });
    await send(a, 501, 'CLASS_SLOT_CANCELLED', 3, { classId: 50 });
    await send(a, 502, 'CLASS_SLOT_UPDATED', 4, { classId: 51 });
    await send(b, 600, 'CLASS_SLOT_UPDATED', 2, { classId: 60 });
    await send(c, 500, 'CLASS_SLOT_UPDATED', 1, { classId: 50 });

    // Class bookings (entityId = booking). 7001 is cancelled; 7100 comes from B.
    await send(a, 7000, 'CLASS_BOOKING_CREATED', 1);
    await send(a, 7001, 'CLASS_BOOKING_CREATED', 2);
    await send(a, 7001, 'CLASS_BOOKING_CANCELLED', 6);
    await send(a, 7002, 'CLASS_BOOKING_CREATED', 3);
    await send(a, 7002, 'CLASS_BOOKING_UPDATED', 4);
    await send(a, 7003, 'CLASS_BOOKING_CREATED', 5);
    await send(a, 7004, 'CLASS_BOOKING_CREATED', 3);
    await send(b, 7100, 'CLASS_BOOKING_CREATED', 2);
    await send(c, 7000, 'CLASS_BOOKING_CREATED', 1);

    // Appointment bookings. 8001 is cancelled; 8002 was only ever updated.
    await send(a, 8000, 'APPOINTMENT_BOOKING_CREATED', 1);
    await send(a, 8001, 'APPOINTMENT_BOOKING_CREATED', 2);
    await send(a, 8001, 'APPOINTMENT_BOOKING_CANCELLED', 4);
    await send(a, 8002, 'APPOINTMENT_BOOKING_UPDATED', 3);
    await send(a, 8003, 'APPOINTMENT_BOOKING_CREATED', 5);
    await send(b, 8100, 'APPOINTMENT_BOOKING_CREATED', 2);
    await send(c, 8000, 'APPOINTMENT_BOOKING_CREATED', 1);

    // Devices, debt-collection runs, tax-advisor exports (one *_CREATED each). Equal times on purpose: the id breaks ties.
    for (const [type, ids] of [
      ['DEVICE_CREATED', [900, 901, 902, 910]],
      ['FINANCE_DEBT_COLLECTION_RUN_CREATED', [30, 31, 32, 40]],
      ['TAX_ADVISOR_EXPORT_CREATED', [60, 61, 62, 70]],
    ] as const) {
      await send(a, ids[0], type, 1);
      await send(a, ids[1], type, 3);
      await send(a, ids[2], type, 3);
      await send(b, ids[3], type, 2);
      await send(c, ids[0], type, 1);
    }

    // Hydration: 7003 points at a customer and a slot that only B delivered.
    await hydrate('class_bookings', a.tenantId, 7000, { customerId: 100, classSlotId: 500, classId: 50 });
    await hydrate('class_bookings', a.tenantId, 7001, { customerId: 100, classSlotId: 500, classId: 50 });
    await hydrate('class_bookings', a.tenantId, 7002, { customerId: 101, classSlotId: 501, classId: 50 });
    await hydrate('class_bookings', a.tenantId, 7003, { customerId: 200, classSlotId: 600, classId: 60 });
    await hydrate('class_bookings', a.tenantId, 7100, { customerId: 100, classSlotId: 500, classId: 50 });
    await hydrate('class_bookings', c.tenantId, 7000, { customerId: 100, classSlotId: 500, classId: 50 });
    await hydrate('appointment_bookings', a.tenantId, 8000, { customerId: 100 });
    await hydrate('appointment_bookings', a.tenantId, 8001, { customerId: 101 });
    await hydrate('appointment_bookings', a.tenantId, 8003, { customerId: 200 });
    await hydrate('appointment_bookings', a.tenantId, 8100, { customerId: 100 });
    await hydrate('appointment_bookings', c.tenantId, 8000, { customerId: 100 });
  });
  afterAll(() => server?.stop());

  const TYPES: readonly RecordType[] = [
    {
      one: 'contract',
      many: 'contracts',
      type: 'Contract',
      table: 'contracts',
      fields: `${COMMON} contractId customerId createdAt updatedAt`,
      orders: { CONTRACT_ID: 'contractId' },
      filters: [
        ...commonFilters('B', () => b.id),
        { filter: { contractIds: ['1000', '1010'] }, keep: (n) => ['1000', '1010'].includes(n.contractId) },
        { filter: { customerIds: ['100'] }, keep: (n) => n.customerId === '100' },
        { filter: { createdAt: range(2, 10) }, keep: (n) => within(n.createdAt, 2, 10) },
        { filter: { updatedAt: { to: iso(4) } }, keep: (n) => within(n.updatedAt, -1e6, 4) },
        {
          filter: { customerIds: ['100'], createdAt: { from: iso(2) } },
          keep: (n) => n.customerId === '100' && within(n.createdAt, 2, 1e6),
        },
      ],
    },
    {
      one: 'aggregatorMembership',
      many: 'aggregatorMemberships',
      type: 'AggregatorMembership',
      table: 'aggregator_memberships',
      fields: `${COMMON} customerId aggregatorId createdAt`,
      orders: { CUSTOMER_ID: 'customerId' },
      filters: [
        ...commonFilters('B', () => b.id),
        { filter: { customerIds: ['101', '200'] }, keep: (n) => ['101', '200'].includes(n.customerId) },
        { filter: { aggregatorIds: ['agg-1', 'agg-5'] }, keep: (n) => ['agg-1', 'agg-5'].includes(n.aggregatorId) },
        { filter: { createdAt: range(3, 5) }, keep: (n) => within(n.createdAt, 3, 5) },
      ],
    },
    {
      one: 'classSlot',
      many: 'classSlots',
      type: 'ClassSlot',
      table: 'class_slots',
      fields: `${COMMON} slotId classId status statusAt updatedAt cancelledAt`,
      orders: { SLOT_ID: 'slotId', STATUS_AT: 'statusAt' },
      filters: [
        ...commonFilters('A', () => a.id),
        { filter: { slotIds: ['500', '600'] }, keep: (n) => ['500', '600'].includes(n.slotId) },
        { filter: { classIds: ['50'] }, keep: (n) => n.classId === '50' },
        { filter: { status: 'CANCELLED' }, keep: (n) => n.status === 'CANCELLED' },
        { filter: { status: 'SCHEDULED' }, keep: (n) => n.status === 'SCHEDULED' },
        { filter: { statusAt: range(2, 4) }, keep: (n) => within(n.statusAt, 2, 4) },
        { filter: { cancelledAt: { from: iso(0) } }, keep: (n) => within(n.cancelledAt, 0, 1e6) },
      ],
    },
    {
      one: 'classBooking',
      many: 'classBookings',
      type: 'ClassBooking',
      table: 'class_bookings',
      fields: `${BOOKING} classSlotId classId`,
      orders: { BOOKING_ID: 'bookingId', STATUS_AT: 'statusAt' },
      filters: [
        ...commonFilters('A', () => a.id),
        { filter: { bookingIds: ['7000', '7100'] }, keep: (n) => ['7000', '7100'].includes(n.bookingId) },
        { filter: { customerIds: ['100'] }, keep: (n) => n.customerId === '100' },
        { filter: { classSlotIds: ['501', '600'] }, keep: (n) => ['501', '600'].includes(n.classSlotId) },
        { filter: { classIds: ['50'] }, keep: (n) => n.classId === '50' },
        { filter: { status: 'CANCELLED' }, keep: (n) => n.status === 'CANCELLED' },
        { filter: { status: 'BOOKED' }, keep: (n) => n.status === 'BOOKED' },
        { filter: { createdAt: range(2, 5) }, keep: (n) => within(n.createdAt, 2, 5) },
        { filter: { statusAt: range(4, 6) }, keep: (n) => within(n.statusAt, 4, 6) },
        { filter: { cancelledAt: { from: iso(0) } }, keep: (n) => within(n.cancelledAt, 0, 1e6) },
      ],
    },
    {
      one: 'appointmentBooking',
      many: 'appointmentBookings',
      type: 'AppointmentBooking',
      table: 'appointment_bookings',
      fields: BOOKING,
      orders: { BOOKING_ID: 'bookingId', STATUS_AT: 'statusAt' },
      filters: [
        ...commonFilters('A', () => a.id),
        { filter: { bookingIds: ['8000'] }, keep: (n) => n.bookingId === '8000' },
        { filter: { customerIds: ['101', '200'] }, keep: (n) => ['101', '200'].includes(n.customerId) },
        { filter: { status: 'CANCELLED' }, keep: (n) => n.status === 'CANCELLED' },
        { filter: { status: 'BOOKED' }, keep: (n) => n.status === 'BOOKED' },
        { filter: { createdAt: range(1, 3) }, keep: (n) => within(n.createdAt, 1, 3) },
        { filter: { statusAt: { from: iso(3) } }, keep: (n) => within(n.statusAt, 3, 1e6) },
        { filter: { cancelledAt: { to: iso(10) } }, keep: (n) => within(n.cancelledAt, -1e6, 10) },
      ],
    },
    ...(
      [
        ['device', 'devices', 'Device', 'devices', 'deviceId', 'DEVICE_ID', 'deviceIds', ['900', '910']],
        ['debtCollectionRun', 'debtCollectionRuns', 'DebtCollectionRun', 'debt_collection_runs', 'runId', 'RUN_ID', 'runIds', ['30', '40']],
        [
          'taxAdvisorExport',
          'taxAdvisorExports',
          'TaxAdvisorExport',
          'tax_advisor_exports',
          'exportId',
          'EXPORT_ID',
          'exportIds',
          ['60', '70'],
        ],
      ] as const
    ).map(([one, many, type, table, key, order, idsArg, ids]): RecordType => ({
      one,
      many,
      type,
      table,
      fields: `${COMMON} ${key} createdAt`,
      orders: { [order]: key },
      filters: [
        ...commonFilters('B', () => b.id),
        { filter: { [idsArg]: ids }, keep: (n) => (ids as readonly string[]).includes(n[key]) },
        { filter: { createdAt: range(2, 4) }, keep: (n) => within(n.createdAt, 2, 4) },
      ],
    })),
  ];

  /** The whole list as the admin sees it, in the default order (our id ascending). */
  const listAll = async (t: RecordType, token = ADMIN_TOKEN, filter?: Record<string, unknown>) => {
    const result = await data(
      `query($filter: ${t.type}Filter) { ${t.many}(first: 100, filter: $filter) { totalCount nodes { ${t.fields} } } }`,
      { filter },
      token,
    );
    return result[t.many] as { totalCount: number; nodes: Node[] };
  };

  const page = async (t: RecordType, args: Record<string, unknown>, token = ADMIN_TOKEN) => {
    const result = await data(
      `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ${t.type}Order) {
         ${t.many}(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
           edges { cursor node { id } }
           pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
         }
       }`,
      args,
      token,
    );
    return result[t.many] as { edges: { cursor: string; node: { id: string } }[]; pageInfo: Record<string, any> };
  };

  /** Walks the list two at a time, forward with `after` or backward with `before`; returns the ids in list order. */
  const walk = async (t: RecordType, direction: 'forward' | 'backward', orderBy?: Record<string, unknown>) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const forward: boolean = direction === 'forward';
      const result = await page(t, forward ? { first: 2, after: cursor, orderBy } : { last: 2, before: cursor, orderBy });
      const pageIds = result.edges.map((e) => e.node.id);
      expect(pageIds.length).toBeLessThanOrEqual(2);
      if (forward) ids.push(...pageIds);
      else ids.unshift(...pageIds);
      expect(result.pageInfo.startCursor).toBe(result.edges[0]?.cursor ?? null);
      expect(result.pageInfo.endCursor).toBe(result.edges[result.edges.length - 1]?.cursor ?? null);
      const more = forward ? result.pageInfo.hasNextPage : result.pageInfo.hasPreviousPage;
      if (cursor !== null) expect(forward ? result.pageInfo.hasPreviousPage : result.pageInfo.hasNextPage).toBe(true);
      if (!more) return ids;
      cursor = forward ? result.pageInfo.endCursor : result.pageInfo.startCursor;
    }
    throw new Error('the list did not end');
  };

  const sortKey = (node: Node, property: string): number => (property.endsWith('At') ? Date.parse(node[property]) : Number(node[property]));

  describe.each(TYPES.map((t) => [t.type, t] as const))('%s', (_name, t) => {
    it(`when ${t.one}(id) is asked for each listed record, then it returns that record; an unknown or malformed id gives null`, async () => {
      const all = await listAll(t);
      const rows = await server.sql(`SELECT COUNT(*) AS n FROM ${t.table}`);
      expect(all.nodes).toHaveLength(Number(rows[0].n));
      expect(all.totalCount).toBe(all.nodes.length);
      for (const node of all.nodes) {
        const found = await data(`query($id: ID!) { ${t.one}(id: $id) { ${t.fields} } }`, { id: node.id });
        expect(found[t.one]).toEqual(node);
      }
      const missing = await data(
        `{ a: ${t.one}(id: "999999") { id } b: ${t.one}(id: "abc") { id } c: ${t.one}(id: "99999999999") { id } d: ${t.one}(id: "-1") { id } }`,
      );
      expect(missing).toEqual({ a: null, b: null, c: null, d: null });
    });

    it(`when ${t.many} is paged forward and backward two at a time, then the pages join without duplicates or gaps`, async () => {
      const all = (await listAll(t)).nodes.map((n) => n.id);
      expect(all.length).toBeGreaterThanOrEqual(5);
      expect(all.map(Number)).toEqual([...all.map(Number)].sort((x, y) => x - y));
      expect(await walk(t, 'forward')).toEqual(all);
      expect(await walk(t, 'backward')).toEqual(all);
    });

    const orderFields = { ID: 'id', FIRST_EVENT_AT: 'firstEventAt', LAST_EVENT_AT: 'lastEventAt', ...t.orders };
    it.each(
      Object.entries(orderFields).flatMap(([field, property]) =>
        (['ASC', 'DESC'] as const).map((direction) => [field, direction, property] as const),
      ),
    )(
      `when ${t.many} is ordered by %s %s, then rows come in that order (ties by id) on every page, both ways`,
      async (field, direction, property) => {
        const orderBy = { field, direction };
        const result = await data(
          `query($orderBy: ${t.type}Order) { ${t.many}(first: 100, orderBy: $orderBy) { nodes { ${t.fields} } } }`,
          { orderBy },
        );
        const nodes: Node[] = result[t.many].nodes;
        const sign = direction === 'ASC' ? 1 : -1;
        const expected = [...nodes].sort((x, y) => sign * (sortKey(x, property) - sortKey(y, property) || Number(x.id) - Number(y.id)));
        expect(nodes.map((n) => n.id)).toEqual(expected.map((n) => n.id));
        expect(nodes).toHaveLength((await listAll(t)).nodes.length);
        const ids = nodes.map((n) => n.id);
        expect(await walk(t, 'forward', orderBy)).toEqual(ids);
        expect(await walk(t, 'backward', orderBy)).toEqual(ids);
      },
    );

    it.each(t.filters.map((f) => [f.label ?? JSON.stringify(f.filter), f] as const))(
      `when ${t.many} is filtered by %s, then exactly the matching rows come, and totalCount counts them`,
      async (label, { filter: given, keep }) => {
        const filter = typeof given === 'function' ? given() : given;
        const all = (await listAll(t)).nodes;
        const expected = all.filter(keep);
        if (label === '{"studioIds":[]}') expect(expected).toEqual([]);
        else {
          expect(expected.length).toBeGreaterThan(0); // the fixture must exercise the filter...
          expect(expected.length).toBeLessThan(all.length); // ...and the filter must narrow
        }
        const filtered = await listAll(t, ADMIN_TOKEN, filter);
        expect(filtered.nodes).toEqual(expected);
        expect(filtered.totalCount).toBe(expected.length);
      },
    );

    it(`when ${t.many} asks for more than 100 rows, or a bad cursor, or an empty time range, then BAD_USER_INPUT`, async () => {
      for (const args of [`first: 101`, `last: 101`, `first: -1`, `first: 1, last: 1`, `after: "not-a-cursor"`]) {
        const result = await gql(`{ ${t.many}(${args}) { nodes { id } } }`);
        expect(result.data ?? null).toBeNull();
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const empty = await gql(`query($filter: ${t.type}Filter) { ${t.many}(filter: $filter) { nodes { id } } }`, {
        filter: { lastEventAt: range(3, 3) },
      });
      expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(empty.errors?.[0]?.message).toMatch(/filter\.lastEventAt/);
    });

    it(`when ${t.many} ask for their studio, then each gets the studio of its studioId`, async () => {
      const result = await data(`{ ${t.many}(first: 100) { nodes { studioId studio { id tenantId } } } }`);
      for (const node of result[t.many].nodes) expect(node.studio).toEqual({ id: String(node.studioId), tenantId: expect.any(Number) });
    });

    it(`when a partner token for studio A lists, counts and looks up ${t.many}, then it sees studio A's rows and nothing of B's or C's`, async () => {
      const all = (await listAll(t)).nodes;
      const mine = all.filter((n) => n.studioId === String(a.id));
      const theirs = all.filter((n) => n.studioId !== String(a.id));
      expect(mine.length).toBeGreaterThan(0);
      expect(theirs.length).toBeGreaterThan(0);

      const seen = await listAll(t, partnerToken);
      expect(seen.nodes).toEqual(mine);
      expect(seen.totalCount).toBe(mine.length);
      // Naming a studio outside the token's scope is refused, not answered with an empty list.
      const filteredToB = await gql(
        `query($filter: ${t.type}Filter) { ${t.many}(first: 100, filter: $filter) { totalCount } }`,
        { filter: { studioIds: [a.id, b.id, c.id] } },
        partnerToken,
      );
      expect(filteredToB.errors).toEqual([
        expect.objectContaining({ message: `filter.studioIds: this token may not see studio ${b.id}`, extensions: { code: 'FORBIDDEN' } }),
      ]);

      for (const node of theirs) {
        const found = await data(`query($id: ID!) { ${t.one}(id: $id) { id } }`, { id: node.id }, partnerToken);
        expect(found[t.one]).toBeNull();
      }
      const own = await data(`query($id: ID!) { ${t.one}(id: $id) { id studio { id } } }`, { id: mine[0]!.id }, partnerToken);
      expect(own[t.one]).toEqual({ id: mine[0]!.id, studio: { id: String(a.id) } });
    });
  });

  /** Customer `customerId` of `tenantId`, with its nested lists (admin unless a token is given). */
  const customer = async (tenantId: number, customerId: number, selection: string, token = ADMIN_TOKEN) => {
    const result = await data(
      `query($ids: [ID!]) { customers(first: 10, filter: { customerIds: $ids }) { nodes { tenantId customerId ${selection} } } }`,
      { ids: [String(customerId)] },
      token,
    );
    const nodes: Node[] = result.customers.nodes.filter((n: Node) => n.tenantId === tenantId);
    expect(nodes.length).toBeLessThanOrEqual(1);
    return nodes[0] ?? null;
  };

  /** The SQL statements the service runs while `run` does (every read reports itself to the DataSource's logger). */
  const recordStatements = async (run: () => Promise<unknown>): Promise<string[]> => {
    const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
    try {
      await run();
      return spy.mock.calls.map((call) => String(call[0]));
    } finally {
      spy.mockRestore();
    }
  };

  describe('relations', () => {
    it("when customer.contracts is asked, then the customer's own contracts come, newest first, limited by first; contract.customer points back", async () => {
      const x = await customer(a.tenantId, 100, 'contracts { contractId customerId studioId customer { tenantId customerId } }');
      expect(x!.contracts.map((n: Node) => n.contractId)).toEqual(['1002', '1001', '1000']);
      for (const contract of x!.contracts) expect(contract.customer).toEqual({ tenantId: a.tenantId, customerId: '100' });
      const y = await customer(c.tenantId, 100, 'contracts { contractId studioId }');
      expect(y!.contracts).toEqual([{ contractId: '1000', studioId: String(c.id) }]);
      const limited = await customer(a.tenantId, 100, 'contracts(first: 1) { contractId }');
      expect(limited!.contracts).toEqual([{ contractId: '1002' }]);
      const none = await customer(a.tenantId, 100, 'contracts(first: 0) { contractId }');
      expect(none!.contracts).toEqual([]);
      const tooMany = await gql('{ customers(first: 1) { nodes { contracts(first: 101) { id } } } }');
      expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('when many customers follow their relations in one query, then each relation is loaded in batches, not once per parent', async () => {
      const statements = await recordStatements(() =>
        data(`{ customers(first: 10) { nodes {
          contracts { customer { customerId } studio { id } }
          aggregatorMemberships { customer { customerId } }
          classBookings { customer { customerId } classSlot { slotId bookings { bookingId } } }
          appointmentBookings { customer { customerId } }
        } } }`),
      );
      // The customers' four lists come inside the page's own statement (one JSON array per list and customer);
      // the slots' bookings, one level further down, in one windowed query for all slots.
      const page = statements.filter((sql) => /FROM "customers"/.test(sql) && /json_agg|json_group_array/.test(sql));
      expect(page).toHaveLength(1);
      for (const table of ['contracts', 'aggregator_memberships', 'class_bookings', 'appointment_bookings'])
        expect(page[0]).toContain(`FROM "${table}"`);
      expect(statements.filter((sql) => sql.includes('ROW_NUMBER()'))).toHaveLength(1);
      const customerLoads = statements.filter((sql) => /FROM "customers"/.test(sql) && sql.includes('VALUES'));
      const slotLoads = statements.filter((sql) => /FROM "class_slots"/.test(sql) && sql.includes('VALUES'));
      expect(customerLoads.length).toBeGreaterThanOrEqual(1);
      expect(customerLoads.length).toBeLessThanOrEqual(4); // at most one per relation path, whatever the number of parents
      expect(slotLoads).toHaveLength(1);
    });

    it('when many customers ask for their contracts in one query, then each gets its own', async () => {
      const result = await data('{ customers(first: 20) { nodes { tenantId customerId contracts { tenantId customerId contractId } } } }');
      const nodes: Node[] = result.customers.nodes;
      expect(nodes.length).toBeGreaterThanOrEqual(4);
      const rows: { tenantId: number; customerId: number | string; contractId: number | string }[] = await server.sql(
        'SELECT "tenantId", "customerId", "contractId" FROM contracts',
      );
      for (const node of nodes) {
        const own = rows
          .filter((r) => r.tenantId === node.tenantId && String(r.customerId) === node.customerId)
          .map((r) => String(r.contractId))
          .sort();
        expect(node.contracts.map((n: Node) => n.contractId).sort()).toEqual(own);
        for (const contract of node.contracts) expect([contract.tenantId, contract.customerId]).toEqual([node.tenantId, node.customerId]);
      }
    });

    it("when customer.aggregatorMemberships is asked, then the customer's memberships come, newest first; membership.customer points back", async () => {
      const x = await customer(a.tenantId, 100, 'aggregatorMemberships { aggregatorId customer { tenantId customerId } }');
      expect(x!.aggregatorMemberships.map((n: Node) => n.aggregatorId)).toEqual(['agg-4', 'agg-2', 'agg-1']);
      for (const m of x!.aggregatorMemberships) expect(m.customer).toEqual({ tenantId: a.tenantId, customerId: '100' });
      const limited = await customer(a.tenantId, 100, 'aggregatorMemberships(first: 2) { aggregatorId }');
      expect(limited!.aggregatorMemberships).toEqual([{ aggregatorId: 'agg-4' }, { aggregatorId: 'agg-2' }]);
      const y = await customer(c.tenantId, 100, 'aggregatorMemberships { aggregatorId studioId }');
      expect(y!.aggregatorMemberships).toEqual([{ aggregatorId: 'agg-1', studioId: String(c.id) }]);
    });

    it('when bookings are hydrated, then booking.customer, booking.classSlot, classSlot.bookings, customer.classBookings and customer.appointmentBookings follow the links', async () => {
      const bookings = await data(
        `{ classBookings(first: 100, orderBy: { field: BOOKING_ID }) { nodes { tenantId bookingId customer { tenantId customerId } classSlot { tenantId slotId classId } } } }`,
      );
      const byKey = new Map(bookings.classBookings.nodes.map((n: Node) => [`${n.tenantId}:${n.bookingId}`, n]));
      expect(byKey.get(`${a.tenantId}:7000`)).toMatchObject({
        customer: { tenantId: a.tenantId, customerId: '100' },
        classSlot: { tenantId: a.tenantId, slotId: '500', classId: '50' },
      });
      expect(byKey.get(`${a.tenantId}:7002`)).toMatchObject({ customer: { customerId: '101' }, classSlot: { slotId: '501' } });
      expect(byKey.get(`${a.tenantId}:7003`)).toMatchObject({
        customer: { customerId: '200' },
        classSlot: { slotId: '600', classId: '60' },
      });
      expect(byKey.get(`${a.tenantId}:7004`)).toMatchObject({ customer: null, classSlot: null }); // not hydrated yet
      expect(byKey.get(`${c.tenantId}:7000`)).toMatchObject({
        customer: { tenantId: c.tenantId, customerId: '100' },
        classSlot: { tenantId: c.tenantId, slotId: '500' },
      });

      const slots = await data('{ classSlots(first: 100) { nodes { tenantId slotId bookings { bookingId } } } }');
      const slot = (tenantId: number, slotId: string) =>
        slots.classSlots.nodes.find((n: Node) => n.tenantId === tenantId && n.slotId === slotId);
      expect(slot(a.tenantId, '500').bookings.map((n: Node) => n.bookingId)).toEqual(['7000', '7001', '7100']); // in booking order (ties by id)
      expect(slot(a.tenantId, '501').bookings).toEqual([{ bookingId: '7002' }]);
      expect(slot(a.tenantId, '502').bookings).toEqual([]);
      expect(slot(c.tenantId, '500').bookings).toEqual([{ bookingId: '7000' }]);
      const firstOnly = await data('{ classSlots(first: 1) { nodes { bookings(first: 1) { bookingId } } } }');
      expect(firstOnly.classSlots.nodes[0].bookings).toEqual([{ bookingId: '7000' }]);

      const x = await customer(a.tenantId, 100, 'classBookings { bookingId } appointmentBookings { bookingId }');
      expect(x!.classBookings.map((n: Node) => n.bookingId)).toEqual(['7100', '7001', '7000']); // newest first (ties by id)
      expect(x!.appointmentBookings.map((n: Node) => n.bookingId)).toEqual(['8100', '8000']);
      const y = await customer(c.tenantId, 100, 'classBookings { bookingId studioId } appointmentBookings { bookingId studioId }');
      expect(y).toMatchObject({
        classBookings: [{ bookingId: '7000', studioId: String(c.id) }],
        appointmentBookings: [{ bookingId: '8000', studioId: String(c.id) }],
      });
      const limited = await customer(a.tenantId, 100, 'classBookings(first: 1) { bookingId } appointmentBookings(first: 1) { bookingId }');
      expect(limited).toMatchObject({ classBookings: [{ bookingId: '7100' }], appointmentBookings: [{ bookingId: '8100' }] });

      const appointments = await data(
        '{ appointmentBookings(first: 100) { nodes { tenantId bookingId customer { tenantId customerId } } } }',
      );
      const appointment = (tenantId: number, bookingId: string) =>
        appointments.appointmentBookings.nodes.find((n: Node) => n.tenantId === tenantId && n.bookingId === bookingId);
      expect(appointment(a.tenantId, '8001').customer).toEqual({ tenantId: a.tenantId, customerId: '101' });
      expect(appointment(a.tenantId, '8002').customer).toBeNull(); // not hydrated yet
      expect(appointment(c.tenantId, '8000').customer).toEqual({ tenantId: c.tenantId, customerId: '100' });
    });

    it('when a booking is not hydrated yet, then its customerId, classSlotId and classId are null and no customer or slot lists it', async () => {
      const result = await data(
        `{ classBookings(filter: { bookingIds: ["7004"] }) { nodes { customerId classSlotId classId customer { id } classSlot { id } } } }`,
      );
      expect(result.classBookings.nodes).toEqual([{ customerId: null, classSlotId: null, classId: null, customer: null, classSlot: null }]);
      const customers = await data('{ customers(first: 20) { nodes { classBookings(first: 100) { bookingId } } } }');
      expect(customers.customers.nodes.flatMap((n: Node) => n.classBookings.map((x: Node) => x.bookingId))).not.toContain('7004');
    });
  });

  describe('a partner token for studio A, through relations', () => {
    it('when it follows a customer to their records, then only records delivered by studio A come', async () => {
      const x = await customer(
        a.tenantId,
        100,
        'contracts { contractId } aggregatorMemberships { aggregatorId } classBookings { bookingId } appointmentBookings { bookingId }',
        partnerToken,
      );
      expect(x).toEqual({
        tenantId: a.tenantId,
        customerId: '100',
        contracts: [{ contractId: '1001' }, { contractId: '1000' }],
        aggregatorMemberships: [{ aggregatorId: 'agg-2' }, { aggregatorId: 'agg-1' }],
        classBookings: [{ bookingId: '7001' }, { bookingId: '7000' }],
        appointmentBookings: [{ bookingId: '8000' }],
      });
      expect(await customer(a.tenantId, 200, 'contracts { id }', partnerToken)).toBeNull(); // only B knows customer 200
      expect(await customer(c.tenantId, 100, 'contracts { id }', partnerToken)).toBeNull();
    });

    it("when it follows a booking or a slot, then customers and slots only studio B delivered are null and B's bookings are left out", async () => {
      const bookings = await data(
        `{ classBookings(first: 100, orderBy: { field: BOOKING_ID }) { totalCount nodes { bookingId customerId classSlotId customer { customerId } classSlot { slotId } } } }`,
        {},
        partnerToken,
      );
      expect(bookings.classBookings.totalCount).toBe(5);
      const b7003 = bookings.classBookings.nodes.find((n: Node) => n.bookingId === '7003');
      expect(b7003).toEqual({ bookingId: '7003', customerId: '200', classSlotId: '600', customer: null, classSlot: null });
      const b7000 = bookings.classBookings.nodes.find((n: Node) => n.bookingId === '7000');
      expect(b7000).toEqual({
        bookingId: '7000',
        customerId: '100',
        classSlotId: '500',
        customer: { customerId: '100' },
        classSlot: { slotId: '500' },
      });

      const slots = await data(
        '{ classSlots(first: 100, filter: { slotIds: ["500"] }) { nodes { slotId bookings { bookingId } } } }',
        {},
        partnerToken,
      );
      expect(slots.classSlots.nodes).toEqual([{ slotId: '500', bookings: [{ bookingId: '7000' }, { bookingId: '7001' }] }]);

      const appointments = await data(
        '{ appointmentBookings(first: 100, filter: { bookingIds: ["8003"] }) { nodes { customerId customer { id } } } }',
        {},
        partnerToken,
      );
      expect(appointments.appointmentBookings.nodes).toEqual([{ customerId: '200', customer: null }]);
    });

    it('when it follows a contract or a membership to its customer, then the customer is there (studio A delivered events about them)', async () => {
      const result = await data(
        '{ contracts(first: 100) { nodes { customerId customer { customerId } } } aggregatorMemberships(first: 100) { nodes { customerId customer { customerId } } } }',
        {},
        partnerToken,
      );
      expect(result.contracts.nodes.length).toBe(3);
      for (const node of [...result.contracts.nodes, ...result.aggregatorMemberships.nodes])
        expect(node.customer).toEqual({ customerId: node.customerId });
    });
  });
});

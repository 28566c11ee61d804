import { randomUUID } from 'node:crypto';
import { TokenService } from '../src/domains/access/token.service.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

const RECORD = 'employeeId studioId createdAt updatedAt deletedAt deleted firstEventAt lastEventAt';
const PERSONAL = 'firstName lastName employeeInitials gender email phoneNumber';
const HYDRATED = `${PERSONAL} businessRole competences { id name } hydratedAt personalDataErasedAt`;

async function gql(server: TestServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function data(server: TestServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const body = await gql(server, token, query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const element = (type: string, minutes: number, content?: Record<string, unknown> | null) => ({
  type,
  timestamp: at(minutes),
  ...(content === undefined ? {} : { content }),
});

describe.each(databaseKinds())('EMPLOYEE_* events (%s)', (kind) => {
  let server: TestServer;
  /** Two studios of one operator, and one of another. */
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let c: { id: number; webhookKey: string };
  /** Partner tokens: A with personal data, A without, C with. */
  let partnerA: string;
  let partnerAPlain: string;
  let partnerC: string;
  let nextId = 5000;
  const newId = () => nextId++;

  const post = async (key: string, body: ReturnType<typeof delivery>) => {
    const response = await server.post(key, body);
    expect(response.status).toBe(200);
    return response.body;
  };
  const employee = async (employeeId: number, token = ADMIN_TOKEN, studioId?: number) =>
    (
      await data(server, token, `query($id: ID!, $studio: ID) { employee(employeeId: $id, studioId: $studio) { ${RECORD} } }`, {
        id: String(employeeId),
        studio: studioId ?? null,
      })
    ).employee;
  const rows = (employeeId: number) => server.sql(`SELECT "tenantId", "studioId" FROM employees WHERE "employeeId" = $1`, [employeeId]);

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    c = await server.addStudio({ name: 'Gamma', tenantUrl: 'https://other.example/v1' });
    const tokens = new TokenService(server.app.dataSource);
    partnerA = (await tokens.create({ role: 'partner', studios: [a.id], permissions: ['personalData'] })).token;
    partnerAPlain = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    partnerC = (await tokens.create({ role: 'partner', studios: [c.id], permissions: ['personalData'] })).token;
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  describe('POST /webhooks', () => {
    it.each(['EMPLOYEE_CREATED', 'EMPLOYEE_UPDATED', 'EMPLOYEE_DELETED'])(
      'when %s carries a content that is not an object, then 400 naming payload[0].content and nothing is stored',
      async (type) => {
        const id = newId();
        const body = delivery(id, element(type, 1, 'not an object' as never));
        const response = await server.post(a.webhookKey, body);
        expect(response.status).toBe(400);
        expect(response.body.problems).toEqual(
          expect.arrayContaining([{ field: 'payload[0].content', message: expect.stringContaining('expected an object or null') }]),
        );
        expect(await server.sql(`SELECT "seq" FROM events WHERE "uuid" = $1`, [body.uuid])).toEqual([]);
        expect(await rows(id)).toEqual([]);
      },
    );

    it('when entityId is not an employee id, then 400 naming entityId and nothing is stored', async () => {
      const response = await server.post(a.webhookKey, { uuid: randomUUID(), entityId: 'e-17', payload: [element('EMPLOYEE_CREATED', 1)] });
      expect(response.status).toBe(400);
      expect(response.body.problems.map((p: { field: string }) => p.field)).toEqual(['entityId']);
    });

    it('when the content is absent, null, {} or carries fields the type does not declare, then 200 and each is stored as a known event', async () => {
      const id = newId();
      const body = delivery(
        id,
        element('EMPLOYEE_CREATED', 1),
        element('EMPLOYEE_UPDATED', 2, null),
        element('EMPLOYEE_UPDATED', 3, {}),
        element('EMPLOYEE_UPDATED', 4, { source: 'new-field' }),
      );
      expect(await post(a.webhookKey, body)).toMatchObject({ status: 'ok', stored: 4 });
      const stored = await server.sql(`SELECT "known" FROM events WHERE "uuid" = $1`, [body.uuid]);
      expect(stored.map((row: { known: unknown }) => Boolean(row.known))).toEqual([true, true, true, true]);
      expect(await employee(id)).toMatchObject({ employeeId: String(id), createdAt: iso(1), updatedAt: iso(4) });
    });
  });

  describe('projection', () => {
    it('when EMPLOYEE_CREATED, _UPDATED and _DELETED arrive, then the employee carries their times, and a deleted one is listed only with includeDeleted', async () => {
      const id = newId();
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 10)));
      expect(await employee(id)).toEqual({
        employeeId: String(id),
        studioId: String(a.id),
        createdAt: iso(10),
        updatedAt: null,
        deletedAt: null,
        deleted: false,
        firstEventAt: iso(10),
        lastEventAt: iso(10),
      });
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_UPDATED', 11)));
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_UPDATED', 12)));
      expect(await employee(id)).toMatchObject({
        createdAt: iso(10),
        updatedAt: iso(12),
        deletedAt: null,
        deleted: false,
        lastEventAt: iso(12),
      });
      const list = async (filter: Record<string, unknown>) =>
        (
          await data(
            server,
            ADMIN_TOKEN,
            'query($f: EmployeeFilter) { employees(first: 100, filter: $f) { nodes { employeeId deleted } } }',
            { f: filter },
          )
        ).employees.nodes.filter((n: { employeeId: string }) => n.employeeId === String(id));
      expect(await list({})).toEqual([{ employeeId: String(id), deleted: false }]);

      await post(a.webhookKey, delivery(id, element('EMPLOYEE_DELETED', 13)));
      expect(await employee(id)).toMatchObject({
        createdAt: iso(10),
        updatedAt: iso(12),
        deletedAt: iso(13),
        deleted: true,
        lastEventAt: iso(13),
      });
      expect(await list({})).toEqual([]);
      expect(await list({ includeDeleted: false })).toEqual([]);
      expect(await list({ includeDeleted: true })).toEqual([{ employeeId: String(id), deleted: true }]);
      // Hydrated fields stay null: this studio has no Open API key, so nothing is read and no job exists.
      expect(await server.sql(`SELECT "id" FROM hydration_jobs WHERE "kind" = 'employee' AND "upstreamKey" = $1`, [String(id)])).toEqual(
        [],
      );
    });

    it('when the same delivery (uuid) arrives twice, then it is stored once and the record is as after one', async () => {
      const id = newId();
      const body = delivery(id, element('EMPLOYEE_CREATED', 20), element('EMPLOYEE_UPDATED', 21));
      expect(await post(a.webhookKey, body)).toMatchObject({ stored: 2 });
      const once = await employee(id);
      expect(await post(a.webhookKey, body)).toMatchObject({ stored: 0, duplicates: 2 });
      expect(await employee(id)).toEqual(once);
      expect(await server.sql(`SELECT "seq" FROM events WHERE "uuid" = $1`, [body.uuid])).toHaveLength(2);
      expect(await rows(id)).toHaveLength(1);
    });

    it('when the events arrive out of order, in separate deliveries or in one, then the record is the one in-order delivery makes, owned by the studio of the earliest event', async () => {
      const [inOrder, reversed, oneDelivery] = [newId(), newId(), newId()];
      // The earliest event comes from studio B; an older UPDATED arrives after a newer one.
      const history = (id: number) => [
        { key: b.webhookKey, body: delivery(id, element('EMPLOYEE_CREATED', 30)) },
        { key: a.webhookKey, body: delivery(id, element('EMPLOYEE_UPDATED', 32)) },
        { key: a.webhookKey, body: delivery(id, element('EMPLOYEE_UPDATED', 31)) },
        { key: a.webhookKey, body: delivery(id, element('EMPLOYEE_DELETED', 33)) },
      ];
      for (const { key, body } of history(inOrder)) await post(key, body);
      for (const { key, body } of history(reversed).reverse()) await post(key, body);
      await post(
        a.webhookKey,
        delivery(oneDelivery, element('EMPLOYEE_DELETED', 33), element('EMPLOYEE_UPDATED', 32), element('EMPLOYEE_UPDATED', 31)),
      );
      await post(b.webhookKey, delivery(oneDelivery, element('EMPLOYEE_CREATED', 30)));

      const expected = {
        studioId: String(b.id),
        createdAt: iso(30),
        updatedAt: iso(32),
        deletedAt: iso(33),
        deleted: true,
        firstEventAt: iso(30),
        lastEventAt: iso(33),
      };
      for (const id of [inOrder, reversed, oneDelivery]) expect(await employee(id)).toEqual({ employeeId: String(id), ...expected });
    });
  });

  describe('GraphQL', () => {
    it('when two operators each have an employee with the same id, then employee() asks for studioId, and with it answers the right one', async () => {
      const id = newId();
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 40)));
      await post(c.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 41)));
      const ambiguous = await gql(server, ADMIN_TOKEN, 'query($id: ID!) { employee(employeeId: $id) { employeeId } }', { id: String(id) });
      expect(ambiguous.errors).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('pass studioId'),
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
      // Any studio of the operator names it, not only the one that delivered the event.
      expect(await employee(id, ADMIN_TOKEN, b.id)).toMatchObject({ studioId: String(a.id), createdAt: iso(40) });
      expect(await employee(id, ADMIN_TOKEN, c.id)).toMatchObject({ studioId: String(c.id), createdAt: iso(41) });
      // A token of one operator's studio needs no studioId: it sees one of them.
      expect(await employee(id, partnerC)).toMatchObject({ studioId: String(c.id) });
    });

    it('when employeeId is not an integer, then BAD_USER_INPUT naming it', async () => {
      const body = await gql(server, ADMIN_TOKEN, '{ employee(employeeId: "abc") { employeeId } }');
      expect(body.errors).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('employeeId'),
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
    });

    it('pages through employees with first and after, each once, and counts them', async () => {
      const ids = [newId(), newId(), newId()];
      for (const id of ids) await post(c.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 50)));
      const seen: string[] = [];
      let after: string | null = null;
      let total = 0;
      for (let page = 0; page < 10; page++) {
        const result: any = (
          await data(
            server,
            partnerC,
            'query($after: String) { employees(first: 2, after: $after) { totalCount nodes { employeeId } pageInfo { hasNextPage endCursor } } }',
            { after },
          )
        ).employees;
        total = result.totalCount;
        seen.push(...result.nodes.map((n: { employeeId: string }) => n.employeeId));
        if (!result.pageInfo.hasNextPage) break;
        after = result.pageInfo.endCursor;
      }
      expect(seen.length).toBe(total);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(ids.map(String)));
    });
  });

  describe('studio scope', () => {
    it("when a token of another studio asks, then it sees nothing of the employee, and naming the employee's studio is FORBIDDEN", async () => {
      const id = newId();
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 60)));
      expect(await employee(id, partnerA)).toMatchObject({ employeeId: String(id) });
      expect(await employee(id, partnerC)).toBeNull();
      const listed = (
        await data(server, partnerC, '{ employees(first: 100, filter: {includeDeleted: true}) { nodes { employeeId studioId } } }')
      ).employees.nodes;
      expect(listed.every((n: { studioId: string }) => n.studioId === String(c.id))).toBe(true);
      for (const query of [
        `{ employees(filter: {studioIds: [${a.id}]}) { totalCount } }`,
        `{ employee(employeeId: "${id}", studioId: ${a.id}) { employeeId } }`,
      ]) {
        const body = await gql(server, partnerC, query);
        expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
    });

    it('when a token without the personalData permission reads names or contact fields, then PERSONAL_DATA_FORBIDDEN for them alone', async () => {
      const id = newId();
      await post(a.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 61)));
      const body = await gql(
        server,
        partnerAPlain,
        `query($id: ID!) { employee(employeeId: $id) { employeeId businessRole firstName email } }`,
        { id: String(id) },
      );
      expect(body.data.employee).toEqual({ employeeId: String(id), businessRole: null, firstName: null, email: null });
      expect(body.errors.map((e: any) => [e.path.join('.'), e.extensions.code]).sort()).toEqual([
        ['employee.email', 'PERSONAL_DATA_FORBIDDEN'],
        ['employee.firstName', 'PERSONAL_DATA_FORBIDDEN'],
      ]);
    });
  });

  describe('subscriptions', () => {
    it.each([
      ['employeeCreated', 'EMPLOYEE_CREATED', { createdAt: iso(70), updatedAt: null, deletedAt: null, deleted: false }],
      ['employeeUpdated', 'EMPLOYEE_UPDATED', { createdAt: iso(69), updatedAt: iso(70), deletedAt: null, deleted: false }],
      ['employeeDeleted', 'EMPLOYEE_DELETED', { createdAt: iso(69), updatedAt: null, deletedAt: iso(70), deleted: true }],
    ])("%s delivers %s with the employee as it stands after it, to the studio's token only", async (field, type, expected) => {
      const id = newId();
      if (type !== 'EMPLOYEE_CREATED') await post(a.webhookKey, delivery(id, element('EMPLOYEE_CREATED', 69)));
      const query = `subscription { ${field} { event { type entityId studioId occurredAt } employee { ${RECORD} } } }`;
      const ownClient = connect(server.app.url, partnerA);
      const otherClient = connect(server.app.url, partnerC);
      const own = subscribe(ownClient, query);
      const other = subscribe(otherClient, query);
      await until(() => server.app.subscriptions.subscriptions >= 2, 5000, 'both subscriptions');
      await post(a.webhookKey, delivery(id, element(type, 70)));
      const otherId = newId();
      await post(c.webhookKey, delivery(otherId, element(type, 70)));

      const [mine] = await own.take(1);
      expect(mine!.errors).toBeUndefined();
      expect(mine!.data![field]).toEqual({
        event: { type, entityId: String(id), studioId: String(a.id), occurredAt: iso(70) },
        employee: {
          employeeId: String(id),
          studioId: String(a.id),
          firstEventAt: type === 'EMPLOYEE_CREATED' ? iso(70) : iso(69),
          lastEventAt: iso(70),
          ...expected,
        },
      });
      // The other operator's token gets its own studio's event, never A's.
      const [theirs] = await other.take(1);
      expect(theirs!.data![field].event.entityId).toBe(String(otherId));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(own.results).toHaveLength(1);
      expect(other.results).toHaveLength(1);
    });

    it('when a token names another studio in studioIds, then FORBIDDEN before the stream opens', async () => {
      const client = connect(server.app.url, partnerC);
      const sub = subscribe(client, `subscription { employeeUpdated(studioIds: [${a.id}]) { event { seq } } }`);
      const [first] = await sub.take(1);
      expect(first!.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    });
  });
});

// -------------------------------------------------------------------------------------------------
// Hydration from the stand-in upstream's `GET /v1/employees/{id}`.
// -------------------------------------------------------------------------------------------------

const FAST = {
  ADMIN_TOKEN,
  HYDRATION_DELAY_MS: '0',
  HYDRATION_POLL_MS: '20',
  HYDRATION_RETRY_BASE_MS: '20',
  HYDRATION_RETRY_MAX_MS: '200',
};
const OPEN = `('queued', 'running', 'retrying')`;
const READ = 'GET /v1/employees/{employeeId}';

describe.each(databaseKinds())('EMPLOYEE_* hydration (%s)', (kind) => {
  let world: World;
  let standin: Standin;
  let server: TestServer;
  const ours = new Map<number, number>();

  beforeEach(async () => {
    world = new World({ seed: 17, studios: 2, customersPerStudio: 1, days: 1 });
    standin = await startStandin({ world });
    server = await startTestServer(kind, FAST);
    for (const s of world.studios) {
      const studio = await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
      ours.set(s.id, studio.id);
    }
  });
  afterEach(async () => {
    await disposeClients();
    await server.stop();
    await standin.close();
  });

  /** Posts the deliveries the world made since `from` (its mutations append them). */
  const postSince = async (from: number) => {
    for (const d of world.deliveries.slice(from) as WebhookDelivery[]) {
      const response = await server.post(d.webhookKey, d.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
  };
  const settled = () =>
    until(
      async () => {
        const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
        const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
        const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ${OPEN}`);
        return cursor !== undefined && Number(cursor.seq) >= Number(events.max ?? 0) && Number(open.n) === 0;
      },
      20_000,
      'hydration to settle',
    );
  const reads = () => standin.stats()[READ]?.requests ?? 0;
  const hydrated = async (id: number) =>
    (await data(server, ADMIN_TOKEN, `query($id: ID!) { employee(employeeId: $id) { deleted ${HYDRATED} } }`, { id: String(id) })).employee;

  it('when an employee is created and changed upstream, then the record gets names, role, contact and competences, and businessRoles filters by the role', async () => {
    const studio = world.studios[0]!;
    const start = world.deliveries.length;
    const trainer = world.createEmployee(studio.id, { firstName: 'Anna', lastName: 'Schmidt', businessRole: 'TRAINER' });
    const manager = world.createEmployee(studio.id, { businessRole: 'STUDIO_MANAGER' });
    const client = connect(server.app.url, ADMIN_TOKEN);
    const hydratedEvents = subscribe(
      client,
      `subscription { recordHydrated(kinds: [employee]) { kind changedFields personalDataErased record { ... on Employee { employeeId firstName } } } }`,
    );
    await until(() => server.app.subscriptions.subscriptions >= 1, 5000, 'the subscription');
    await postSince(start);
    await settled();

    const expectWorld = (node: any, e: typeof trainer) =>
      expect(node).toEqual({
        deleted: false,
        firstName: e.firstName,
        lastName: e.lastName,
        employeeInitials: e.employeeInitials,
        gender: e.gender,
        email: e.email,
        phoneNumber: e.phoneNumber,
        businessRole: e.businessRole,
        competences: e.competences.map((x) => ({ id: String(x.id), name: x.name })),
        hydratedAt: expect.any(String),
        personalDataErasedAt: null,
      });
    expectWorld(await hydrated(trainer.id), trainer);
    expectWorld(await hydrated(manager.id), manager);
    expect(trainer.employeeInitials).toBe('AS');

    const roles = async (businessRoles: string[]) =>
      (
        await data(server, ADMIN_TOKEN, 'query($r: [String!]) { employees(filter: {businessRoles: $r}) { nodes { employeeId } } }', {
          r: businessRoles,
        })
      ).employees.nodes.map((n: any) => Number(n.employeeId));
    expect(await roles(['TRAINER'])).toEqual([trainer.id]);
    expect(await roles(['studio_manager ', 'MARKETING'])).toEqual([manager.id]);

    const [first] = await hydratedEvents.take(2);
    expect(first!.data!['recordHydrated']).toMatchObject({
      kind: 'employee',
      personalDataErased: false,
      changedFields: expect.arrayContaining(['firstName', 'businessRole']),
    });

    const before = reads();
    const mark = world.deliveries.length;
    world.updateEmployee(trainer.id, { lastName: 'Meyer', email: 'anna.meyer@staff.example.com' });
    await postSince(mark);
    await settled();
    expect(reads()).toBe(before + 1);
    expect(await hydrated(trainer.id)).toMatchObject({
      lastName: 'Meyer',
      employeeInitials: 'AM',
      email: 'anna.meyer@staff.example.com',
      businessRole: 'TRAINER',
    });
  });

  it('when the employee is deleted, then the tombstone stays with its personal data erased and is not read again; role and competences stay', async () => {
    const studio = world.studios[1]!;
    const start = world.deliveries.length;
    const e = world.createEmployee(studio.id, { businessRole: 'TRAINER' });
    await postSince(start);
    await settled();
    expect(await hydrated(e.id)).toMatchObject({ firstName: e.firstName, personalDataErasedAt: null });

    const before = reads();
    const mark = world.deliveries.length;
    world.deleteEmployee(e.id);
    await postSince(mark);
    await settled();
    // EMPLOYEE_DELETED arrived: erased without asking the upstream (which would answer 404 anyway).
    expect(reads()).toBe(before);
    expect(await hydrated(e.id)).toEqual({
      deleted: true,
      firstName: null,
      lastName: null,
      employeeInitials: null,
      gender: null,
      email: null,
      phoneNumber: null,
      businessRole: 'TRAINER',
      competences: e.competences.map((x) => ({ id: String(x.id), name: x.name })),
      hydratedAt: expect.any(String),
      personalDataErasedAt: expect.any(String),
    });
    const [job] = await server.sql(`SELECT "state", "note" FROM hydration_jobs WHERE "kind" = 'employee' AND "upstreamKey" = $1`, [
      String(e.id),
    ]);
    expect(job).toMatchObject({ state: 'done', note: expect.stringContaining('personal data erased') });

    // A late EMPLOYEE_UPDATED (older than the delete) changes nothing: still a tombstone, still erased.
    expect(
      (await server.post(world.studio(studio.id).webhookKey, delivery(e.id, { type: 'EMPLOYEE_UPDATED', timestamp: world.now - 60_000 })))
        .status,
    ).toBe(200);
    await settled();
    expect(reads()).toBe(before);
    expect(await hydrated(e.id)).toMatchObject({ deleted: true, firstName: null });
  });

  it('when the upstream answers 404 though no EMPLOYEE_DELETED arrived, then the personal data is erased and the record is no tombstone', async () => {
    const studio = world.studios[0]!;
    const start = world.deliveries.length;
    const e = world.createEmployee(studio.id);
    await postSince(start);
    await settled();
    world.deleteEmployee(e.id); // its EMPLOYEE_DELETED is lost on the way
    expect(
      (await server.post(world.studio(studio.id).webhookKey, delivery(e.id, { type: 'EMPLOYEE_UPDATED', timestamp: world.now }))).status,
    ).toBe(200);
    await settled();
    expect(standin.stats()[READ]?.byStatus[404] ?? 0).toBe(1);
    expect(await hydrated(e.id)).toMatchObject({
      deleted: false,
      firstName: null,
      lastName: null,
      email: null,
      personalDataErasedAt: expect.any(String),
      businessRole: e.businessRole,
    });
  });
});

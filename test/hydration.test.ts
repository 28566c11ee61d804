import { randomUUID } from 'node:crypto';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds, redisUrl } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const OPEN = `('queued', 'running', 'retrying')`;

/** Fast settings for tests: no coalescing delay unless a test asks for one, quick polls and retries. */
const FAST = {
  ADMIN_TOKEN,
  HYDRATION_DELAY_MS: '0',
  HYDRATION_POLL_MS: '20',
  HYDRATION_RETRY_BASE_MS: '20',
  HYDRATION_RETRY_MAX_MS: '200',
};

interface Setup {
  readonly world: World;
  readonly standin: Standin;
  readonly server: TestServer;
  /** Our studio id per upstream studio id. */
  readonly studios: Map<number, number>;
}

const opened: { standin: Standin; servers: TestServer[] }[] = [];

async function setup(
  kind: 'sqlite' | 'postgres',
  env: Record<string, string> = {},
  standinOptions: { limitPerWindow?: number; windowMs?: number; failureRate?: number; latencyMs?: (endpoint: string) => number } = {},
): Promise<Setup> {
  const world = new World({ seed: 11, studios: 2, customersPerStudio: 4, days: 3 });
  const standin = await startStandin({ world, ...standinOptions });
  const server = await startTestServer(kind, { ...FAST, ...env });
  opened.push({ standin, servers: [server] });
  const studios = new Map<number, number>();
  for (const s of world.studios) {
    const studio = await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
    studios.set(s.id, studio.id);
  }
  return { world, standin, server, studios };
}

afterEach(async () => {
  await disposeClients();
  for (const { standin, servers } of opened.splice(0)) {
    for (const server of servers.reverse()) await server.stop().catch(() => undefined);
    await standin.close();
  }
});

async function post(server: TestServer, deliveries: readonly WebhookDelivery[]): Promise<void> {
  for (const d of deliveries) {
    const response = await server.post(d.webhookKey, d.body);
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

/** A delivery of our own making, for event types the world's stream does not send. */
const craft = (world: World, studioId: number, entityId: number, type: string, content?: Record<string, unknown>): WebhookDelivery => ({
  studioId,
  webhookKey: world.studio(studioId).webhookKey,
  body: { entityId, uuid: randomUUID(), payload: [{ timestamp: world.now, type, ...(content ? { content } : {}) }] },
});

/** The scanner has read every event stored so far, and no job is waiting, running or retrying. */
async function settled(server: TestServer, timeoutMs = 20_000): Promise<void> {
  await until(
    async () => {
      const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
      const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
      const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ${OPEN}`);
      return Number(cursor.seq) >= Number(events.max ?? 0) && Number(open.n) === 0;
    },
    timeoutMs,
    'hydration to settle',
  );
}

const requests = (standin: Standin, endpoint: string) => standin.stats()[endpoint]?.requests ?? 0;

async function gql(server: TestServer, query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN): Promise<any> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function data(server: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const body = await gql(server, query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const zonedMs = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe.each(databaseKinds())('hydration from the Open API (%s)', (kind) => {
  it('when the webhook stream of every event type is posted, then each record gets the upstream values and the job is done', async () => {
    const { world, standin, server } = await setup(kind);
    const customer = [...world.customers.values()][0]!;
    const contract = world.contracts[0]!;
    const classBooking = [...world.classBookings.values()][0]!;
    const appointment = [...world.appointmentBookings.values()][0]!;
    const studioId = world.studios[0]!.id;
    await post(server, [
      ...world.deliveries,
      // Types the generated history does not contain, about things the world has.
      craft(world, customer.studioId, customer.id, 'AGGREGATOR_MEMBER_CREATED', { aggregatorId: 'agg-1' }),
      craft(world, customer.studioId, contract.customerId, 'CONTRACT_UPDATED', { contractId: contract.id }),
      craft(world, studioId, classBooking.bookingId, 'CLASS_BOOKING_UPDATED'),
      craft(world, appointment.studioId, appointment.bookingId, 'APPOINTMENT_BOOKING_UPDATED'),
      craft(world, customer.studioId, customer.id, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED'),
    ]);
    await settled(server);

    const [{ n: notDone }] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" <> 'done'`);
    expect(Number(notDone)).toBe(0);
    expect(standin.stats()['GET /v1/customers/{customerId}']?.byStatus[404] ?? 0).toBe(0);

    const { customers } = await data(
      server,
      `{ customers(first: 20) { nodes { customerId status firstName lastName email gender dateOfBirth customerNumber
      homeStudioUpstreamId registeredAt preferredLanguage hydratedAt address { street houseNumber zipCode city country }
      communicationPreferences { category channels { channel active } } } } }`,
    );
    expect(customers.nodes.length).toBe(world.customers.size);
    for (const node of customers.nodes) {
      const c = world.customers.get(Number(node.customerId))!;
      expect(node).toMatchObject({
        status: c.status,
        firstName: c.firstName,
        lastName: c.lastName,
        email: c.email,
        gender: c.gender,
        dateOfBirth: c.dateOfBirth,
        customerNumber: c.customerNumber,
        homeStudioUpstreamId: String(c.studioId),
        preferredLanguage: `${c.preferredLanguage}_DE`,
        address: {
          street: c.address.street,
          houseNumber: c.address.houseNumber,
          zipCode: c.address.zipCode,
          city: c.address.city,
          country: c.address.country,
        },
      });
      expect(Date.parse(node.registeredAt)).toBe(c.createdAt);
      expect(node.hydratedAt).not.toBeNull();
    }
    const withPreferences = customers.nodes.find((n: any) => Number(n.customerId) === customer.id);
    expect(withPreferences.communicationPreferences).toEqual(
      (world.communicationPreferences.get(customer.id) ?? []).map((p) => ({
        category: p.messageCategory,
        channels: p.channels.map((ch) => ({ channel: ch.communicationChannel, active: ch.active })),
      })),
    );

    const { contracts } = await data(
      server,
      `{ contracts(first: 100) { nodes { contractId rateName contractStatus startDate endDate cancelled cancellationDate
      termValue termUnit basePriceAmount basePriceCurrency currentPriceAmount currentPriceCurrency hydratedAt } } }`,
    );
    expect(contracts.nodes.length).toBeGreaterThan(0);
    for (const node of contracts.nodes) {
      const c = world.contracts.find((x) => x.id === Number(node.contractId))!;
      expect(node).toMatchObject({
        rateName: c.rateName,
        contractStatus: c.contractStatus,
        startDate: c.startDate,
        endDate: c.endDate,
        cancelled: c.cancelled,
        cancellationDate: c.cancellationDate,
        termValue: c.term.periodValue,
        termUnit: c.term.periodUnit,
        basePriceAmount: c.basePrice.amount,
        basePriceCurrency: c.basePrice.currency,
        currentPriceAmount: c.currentPrice.amount,
        currentPriceCurrency: c.currentPrice.currency,
      });
    }

    const { classBookings } = await data(
      server,
      `{ classBookings(first: 100) { nodes { bookingId status bookingStatus customerId classSlotId classId
      participantStatus classSlotStatus class { title } } } }`,
    );
    expect(classBookings.nodes.length).toBe(world.classBookings.size);
    for (const node of classBookings.nodes) {
      const b = world.classBookings.get(Number(node.bookingId))!;
      expect(node).toMatchObject({
        customerId: String(b.customerId),
        classSlotId: String(b.classSlotId),
        classId: String(b.classId),
        class: { title: world.classes.get(b.classId)!.title },
      });
      expect(node.bookingStatus).toEqual(b.cancelledAt === null ? expect.stringMatching(/^(BOOKED|WAITING_LIST)/) : 'CANCELED');
    }

    const { classSlots } = await data(
      server,
      `{ classSlots(first: 100) { nodes { slotId classId startAt endAt maxParticipants bookedParticipants
      waitingListParticipants instructors locationId locationName class { title type durationMinutes category bookable } } } }`,
    );
    expect(classSlots.nodes.length).toBeGreaterThan(0);
    for (const node of classSlots.nodes) {
      const s = world.slots.get(Number(node.slotId))!;
      const cls = world.classes.get(s.classId)!;
      expect(node).toMatchObject({
        startAt: zonedMs(s.startAt),
        endAt: zonedMs(s.endAt),
        maxParticipants: s.maxParticipants,
        locationId: String(s.location.id),
        locationName: s.location.name,
        class: { title: cls.title, type: cls.type, durationMinutes: cls.duration, category: cls.category, bookable: cls.bookable },
      });
      expect(node.instructors).toHaveLength(s.instructors.length);
      expect(typeof node.bookedParticipants).toBe('number');
    }

    const { appointmentBookings } = await data(
      server,
      `{ appointmentBookings(first: 100) { nodes { bookingId customerId title startAt endAt bookingStatus appointmentStatus } } }`,
    );
    expect(appointmentBookings.nodes.length).toBe(world.appointmentBookings.size);
    for (const node of appointmentBookings.nodes) {
      const b = world.appointmentBookings.get(Number(node.bookingId))!;
      expect(node).toMatchObject({
        customerId: String(b.customerId),
        title: b.title,
        startAt: zonedMs(b.startAt),
        endAt: zonedMs(b.endAt),
      });
    }

    const { devices } = await data(server, `{ devices(first: 100) { nodes { deviceId name model active } } }`);
    expect(devices.nodes.length).toBe(world.devices.length);
    for (const node of devices.nodes) {
      const d = world.devices.find((x) => x.id === Number(node.deviceId))!;
      expect(node).toMatchObject({ name: d.name, model: d.model, active: d.active });
    }

    const { debtCollectionRuns } = await data(
      server,
      `{ debtCollectionRuns(first: 100) { nodes { runId status collectionDate collectionType origin } } }`,
    );
    expect(debtCollectionRuns.nodes.length).toBe(world.debtCollectionRuns.size);
    for (const node of debtCollectionRuns.nodes) {
      const r = world.debtCollectionRuns.get(Number(node.runId))!;
      expect(node).toMatchObject({
        status: r.status,
        collectionDate: r.collectionDate,
        collectionType: r.debtCollectionType,
        origin: r.origin,
      });
    }

    const { taxAdvisorExports } = await data(
      server,
      `{ taxAdvisorExports(first: 100) { nodes { exportId fromDate toDate fileFormat exportFormat } } }`,
    );
    expect(taxAdvisorExports.nodes.length).toBe(world.taxAdvisorExports.size);
    for (const node of taxAdvisorExports.nodes) {
      const e = world.taxAdvisorExports.get(Number(node.exportId))!;
      expect(node).toMatchObject({ fromDate: e.fromDate, toDate: e.toDate, fileFormat: e.exportFileFormat, exportFormat: e.exportFormat });
    }
    // The export's download link expires: no column holds a URL.
    const exportRows = await server.sql(`SELECT * FROM tax_advisor_exports`);
    expect(JSON.stringify(exportRows)).not.toContain('http');

    // Hydration's own events do not queue more work: nothing changes once settled.
    const [before] = await server.sql(`SELECT COUNT(*) AS "n", MAX("seq") AS "seq" FROM events`);
    const reads = standin.requestCount();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [after] = await server.sql(`SELECT COUNT(*) AS "n", MAX("seq") AS "seq" FROM events`);
    expect(after).toEqual(before);
    expect(standin.requestCount()).toBe(reads);
  }, 60_000);

  it('when five CUSTOMER_UPDATED arrive within a second, then the customer is read once', async () => {
    const { world, standin, server } = await setup(kind, { HYDRATION_DELAY_MS: '1000' });
    const customer = [...world.customers.values()][1]!;
    const updates = Array.from({ length: 5 }, (_, i) => craft(world, customer.studioId, customer.id, 'CUSTOMER_UPDATED', { n: i }));
    await post(server, updates);
    await settled(server);
    expect(requests(standin, 'GET /v1/customers/{customerId}')).toBe(1);
    const [job] = await server.sql(`SELECT "state", "runs", "version" FROM hydration_jobs WHERE "kind" = 'customer'`);
    expect({ state: job.state, runs: Number(job.runs) }).toEqual({ state: 'done', runs: 1 });
    // Events read in one scan count once; later ones bump the queued job without making it due again.
    expect(Number(job.version)).toBeGreaterThanOrEqual(1);
    expect(Number(job.version)).toBeLessThanOrEqual(5);
  });

  it('when a customer is deleted upstream, then the tombstone stays and its personal data is erased, with or without CUSTOMER_DELETED', async () => {
    const { world, standin, server } = await setup(kind);
    const [first, second] = [...world.customers.values()];
    await post(server, [
      craft(world, first!.studioId, first!.id, 'CUSTOMER_CREATED'),
      craft(world, second!.studioId, second!.id, 'CUSTOMER_CREATED'),
      craft(world, first!.studioId, first!.id, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED'),
    ]);
    await settled(server);
    const query = `query($ids: [ID!]) { customers(filter: {customerIds: $ids}) { nodes { customerId deleted firstName lastName email phoneMobile dateOfBirth
      customerNumber address { city } personalDataErasedAt status communicationPreferences { category } } } }`;
    const before = (await data(server, query, { ids: [String(first!.id)] })).customers.nodes[0];
    expect(before).toMatchObject({ firstName: first!.firstName, deleted: false, personalDataErasedAt: null });

    // With the event: the customer is not read again, only erased.
    const reads = requests(standin, 'GET /v1/customers/{customerId}');
    const known = world.deliveries.length;
    world.deleteCustomer(first!.id);
    // Without it (the delivery was lost): the next read answers 404, which erases just the same.
    world.deleteCustomer(second!.id);
    await post(server, [world.deliveries[known]!, craft(world, second!.studioId, second!.id, 'CUSTOMER_UPDATED')]);
    await settled(server);
    expect(requests(standin, 'GET /v1/customers/{customerId}')).toBe(reads + 1);
    const erased = (await data(server, query, { ids: [String(first!.id), String(second!.id)] })).customers.nodes;
    for (const node of erased) {
      expect(node).toMatchObject({
        firstName: null,
        lastName: null,
        email: null,
        phoneMobile: null,
        dateOfBirth: null,
        customerNumber: null,
        address: null,
      });
      expect(node.personalDataErasedAt).not.toBeNull();
    }
    expect(erased.find((n: any) => Number(n.customerId) === first!.id)).toMatchObject({ deleted: true, communicationPreferences: [] });
    expect(erased.find((n: any) => Number(n.customerId) === second!.id)).toMatchObject({ deleted: false });
    const jobs = await server.sql(`SELECT "state", "lastError", "note" FROM hydration_jobs WHERE "kind" = 'customer'`);
    for (const job of jobs) expect(job).toMatchObject({ state: 'done', lastError: null });
    const rows = await server.sql(`SELECT "firstName", "email", "addressStreet" FROM customers`);
    expect(JSON.stringify(rows)).not.toContain(first!.email);
    expect(JSON.stringify(rows)).not.toContain(second!.email);
  });

  it('when the upstream answers 429 and 503, then jobs back off and all succeed without a request storm', async () => {
    const { world, standin, server } = await setup(
      kind,
      { OPEN_API_MAX_ATTEMPTS: '1', HYDRATION_MAX_ATTEMPTS: '30', HYDRATION_CONCURRENCY: '4' },
      { limitPerWindow: 3, windowMs: 500, failureRate: 0.3 },
    );
    const customers = [...world.customers.values()];
    const started = Date.now();
    await post(
      server,
      customers.map((c) => craft(world, c.studioId, c.id, 'CUSTOMER_CREATED')),
    );
    await settled(server, 60_000);
    const seconds = (Date.now() - started) / 1000;
    const stats = standin.stats()['GET /v1/customers/{customerId}']!;
    expect(stats.byStatus[200]).toBe(customers.length);
    // No storm: 503s are retried per job with backoff; after a 429 the client waits for the window to end.
    expect(stats.byStatus[429] ?? 0).toBeLessThanOrEqual(4 * Math.ceil(seconds / 0.5 + 1));
    expect(stats.requests).toBeLessThan(customers.length * 6);
    const [{ n }] = await server.sql(`SELECT COUNT(*) AS "n" FROM customers WHERE "firstName" IS NOT NULL`);
    expect(Number(n)).toBe(customers.length);
  }, 90_000);

  it('when a job keeps failing, then it is parked, an admin sees it and can retry it; other tokens get FORBIDDEN', async () => {
    const { world, standin, server, studios } = await setup(
      kind,
      { OPEN_API_MAX_ATTEMPTS: '1', HYDRATION_MAX_ATTEMPTS: '2' },
      { failureRate: 1 },
    );
    const customer = [...world.customers.values()][0]!;
    await post(server, [craft(world, customer.studioId, customer.id, 'CUSTOMER_CREATED')]);
    await settled(server);
    const list = `query($filter: HydrationJobFilter) { hydrationJobs(filter: $filter) { totalCount nodes { id kind upstreamKey state attempts lastError dueAt studioId } } }`;
    const parked = (await data(server, list, { filter: { states: ['PARKED'] } })).hydrationJobs;
    expect(parked.totalCount).toBe(1);
    expect(parked.nodes[0]).toMatchObject({
      kind: 'CUSTOMER',
      upstreamKey: String(customer.id),
      state: 'PARKED',
      attempts: 2,
      studioId: String(studios.get(customer.studioId)),
    });
    expect(parked.nodes[0].lastError).toMatch(/503/);

    const { token } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: 'all' });
    for (const query of [list, `mutation { retryHydrationJob(id: "${parked.nodes[0].id}") { id } }`]) {
      expect((await gql(server, query, {}, token)).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    expect((await gql(server, `mutation { retryHydrationJob(id: "999999") { id } }`)).errors[0].extensions.code).toBe('NOT_FOUND');
    expect((await gql(server, `mutation { retryParkedHydrationJobs(studioId: 999999) }`)).errors[0].extensions.code).toBe('NOT_FOUND');

    standin.setFailureRate(0);
    const retried = await data(server, `mutation($id: ID!) { retryHydrationJob(id: $id) { state attempts } }`, { id: parked.nodes[0].id });
    expect(retried.retryHydrationJob).toEqual({ state: 'QUEUED', attempts: 0 });
    await settled(server);
    const again = await gql(server, `mutation($id: ID!) { retryHydrationJob(id: $id) { id } }`, { id: parked.nodes[0].id });
    expect(again.errors[0].extensions.code).toBe('CONFLICT');
    const done = (await data(server, list, { filter: { states: ['DONE'] } })).hydrationJobs.nodes[0];
    expect(done).toMatchObject({ state: 'DONE', attempts: 0, lastError: null });
    const [row] = await server.sql(`SELECT "firstName" FROM customers WHERE "customerId" = $1`, [customer.id]);
    expect(row.firstName).toBe(customer.firstName);

    // Retrying every parked job of a studio.
    standin.setFailureRate(1);
    const others = [...world.customers.values()].filter((c) => c.studioId === customer.studioId && c.id !== customer.id);
    await post(
      server,
      others.map((c) => craft(world, c.studioId, c.id, 'CUSTOMER_CREATED')),
    );
    await settled(server);
    standin.setFailureRate(0);
    const count = await data(server, `mutation($s: ID!) { retryParkedHydrationJobs(studioId: $s) }`, { s: studios.get(customer.studioId) });
    expect(count.retryParkedHydrationJobs).toBe(others.length);
    await settled(server);
    const [{ n }] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" <> 'done'`);
    expect(Number(n)).toBe(0);
  }, 60_000);

  it('when the server stops with jobs queued and starts again, then every job is done and none is lost', async () => {
    const { world, standin, server } = await setup(kind, { HYDRATION_CONCURRENCY: '1' }, { latencyMs: () => 150 });
    const customers = [...world.customers.values()];
    await post(
      server,
      customers.map((c) => craft(world, c.studioId, c.id, 'CUSTOMER_CREATED')),
    );
    await until(
      async () => Number((await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" = 'done'`))[0].n) >= 1,
      10_000,
      'a first job',
    );
    await server.app.stop();
    const again = await startTestServer(kind, { ...FAST }, { database: server.db });
    opened[opened.length - 1]!.servers.push(again);
    const [{ n: pending }] = await again.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" <> 'done'`);
    expect(Number(pending)).toBeGreaterThan(0);
    await settled(again, 30_000);
    const jobs = await again.sql(`SELECT "state", "runs" FROM hydration_jobs`);
    expect(jobs).toHaveLength(customers.length);
    for (const job of jobs) expect(job.state).toBe('done');
    const [{ n }] = await again.sql(`SELECT COUNT(*) AS "n" FROM customers WHERE "firstName" IS NOT NULL`);
    expect(Number(n)).toBe(customers.length);
    expect(requests(standin, 'GET /v1/customers/{customerId}')).toBeLessThanOrEqual(customers.length + 1);
  }, 60_000);

  it('when hydration changes a record, then GYMGRAPH_RECORD_HYDRATED reaches graphql-ws subscribers with the fresh record', async () => {
    const { world, server, studios } = await setup(kind);
    const customer = [...world.customers.values()][2]!;
    const client = connect(server.app.url, ADMIN_TOKEN);
    await client.connected;
    const typed = subscribe(
      client,
      `subscription { recordHydrated(kinds: [customer]) { kind changedFields personalDataErased event { seq type entityId studioId }
      record { __typename ... on Customer { customerId firstName email } } } }`,
    );
    const raw = subscribe(client, `subscription { events(types: ["GYMGRAPH_RECORD_HYDRATED"]) { seq type entityId } }`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await post(server, [craft(world, customer.studioId, customer.id, 'CUSTOMER_CREATED')]);
    const [message] = await typed.take(1);
    expect(message!.data!.recordHydrated).toMatchObject({
      kind: 'customer',
      personalDataErased: false,
      event: { type: 'GYMGRAPH_RECORD_HYDRATED', entityId: String(customer.id), studioId: String(studios.get(customer.studioId)) },
      record: { __typename: 'Customer', customerId: String(customer.id), firstName: customer.firstName, email: customer.email },
    });
    expect(message!.data!.recordHydrated.changedFields).toEqual(expect.arrayContaining(['firstName', 'email']));
    const [event] = await raw.take(1);
    expect(event!.data!.events.seq).toBe(message!.data!.recordHydrated.event.seq);

    // Resumable: a new subscription with `after` replays it from the log.
    const before = String(Number(message!.data!.recordHydrated.event.seq) - 1);
    const replay = subscribe(
      client,
      `subscription($after: String) { recordHydrated(after: $after) { event { seq } record { ... on Customer { firstName } } } }`,
      { after: before },
    );
    const [replayed] = await replay.take(1);
    expect(replayed!.data!.recordHydrated).toEqual({
      event: { seq: message!.data!.recordHydrated.event.seq },
      record: { firstName: customer.firstName },
    });
  });

  it('when a studio has no Open API key, then its events make records and no jobs, and nothing fails', async () => {
    const { world, server } = await setup(kind);
    const studio = await server.addStudio({ name: 'Keyless' });
    const response = await server.post(studio.webhookKey, {
      entityId: 4242,
      uuid: randomUUID(),
      payload: [{ timestamp: world.now, type: 'CUSTOMER_CREATED' }],
    });
    expect(response.status).toBe(200);
    await settled(server);
    const [{ n }] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs`);
    expect(Number(n)).toBe(0);
    const [customer] = await server.sql(`SELECT "customerId", "hydratedAt" FROM customers`);
    expect({ id: Number(customer.customerId), hydratedAt: customer.hydratedAt }).toEqual({ id: 4242, hydratedAt: null });
  });
});

const postgresOnly = databaseKinds().includes('postgres') ? describe : describe.skip;

postgresOnly('hydration with two instances on one PostgreSQL database', () => {
  it('when both run, then each job is processed exactly once (one upstream read per record)', async () => {
    const world = new World({ seed: 23, studios: 2, customersPerStudio: 10, days: 2 });
    const standin = await startStandin({ world, latencyMs: () => 5 });
    // A delay longer than posting takes: every job exists, with all its events, before either instance may claim it.
    const env = { ...FAST, HYDRATION_DELAY_MS: '8000', HYDRATION_CONCURRENCY: '4' };
    const a = await startTestServer('postgres', env);
    const b = await startTestServer('postgres', env, { database: a.db });
    opened.push({ standin, servers: [a, b] });
    for (const s of world.studios)
      await a.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
    const half = Math.floor(world.deliveries.length / 2);
    await Promise.all([post(a, world.deliveries.slice(0, half)), post(b, world.deliveries.slice(half))]);
    await settled(a, 60_000);
    await settled(b, 60_000);
    const jobs = await a.sql(`SELECT "kind", "state", "runs" FROM hydration_jobs`);
    expect(jobs.length).toBeGreaterThan(50);
    for (const job of jobs) expect({ state: job.state, runs: Number(job.runs) }).toEqual({ state: 'done', runs: 1 });
    // Every job is one request: the upstream was asked exactly as often as there are jobs.
    const total = Object.values(standin.stats()).reduce((sum, s) => sum + s.requests, 0);
    expect(total).toBe(jobs.length);
    const perEntity = await a.sql(
      `SELECT "kind", "upstreamKey", COUNT(*) AS "n" FROM hydration_jobs GROUP BY "kind", "upstreamKey" HAVING COUNT(*) > 1`,
    );
    expect(perEntity).toEqual([]);
  }, 120_000);
});

const postgresAndRedis = databaseKinds().includes('postgres') && redisUrl() !== '' ? describe : describe.skip;

postgresAndRedis('hydration with two instances on one PostgreSQL database and one Redis (REDIS_URL)', () => {
  /** Two instances hydrating 40 customers (one endpoint) for an upstream that takes 30 a minute. */
  async function burst(env: Record<string, string>): Promise<{ standin: Standin; a: TestServer; customers: number }> {
    const world = new World({ seed: 29, studios: 1, customersPerStudio: 40, days: 1 });
    const standin = await startStandin({ world, limitPerWindow: 30, windowMs: 60_000 });
    const settings = { ...FAST, OPEN_API_REQUESTS_PER_MINUTE: '25', HYDRATION_CONCURRENCY: '8', ...env };
    const a = await startTestServer('postgres', settings);
    const b = await startTestServer('postgres', settings, { database: a.db });
    opened.push({ standin, servers: [a, b] });
    const s = world.studios[0]!;
    await a.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
    const customers = [...world.customers.values()].map((c) => craft(world, c.studioId, c.id, 'CUSTOMER_CREATED'));
    await Promise.all([
      post(
        a,
        customers.filter((_, i) => i % 2 === 0),
      ),
      post(
        b,
        customers.filter((_, i) => i % 2 === 1),
      ),
    ]);
    // Both instances claim jobs; once the budget is used, the rest wait for the minute to end.
    await until(() => requests(standin, 'GET /v1/customers/{customerId}') >= 25, 20_000, 'the first 25 reads');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return { standin, a, customers: customers.length };
  }

  it('when both hydrate a burst, then together they stay under the limit at the upstream: the budget is shared, no 429', async () => {
    const { standin, a } = await burst({ REDIS_URL: redisUrl(), REDIS_CHANNEL: `gymgraph-test:${randomUUID()}:events` });
    const stats = standin.stats()['GET /v1/customers/{customerId}']!;
    expect(stats.requests).toBe(25);
    expect(stats.peakSliding).toBe(25);
    expect(stats.byStatus[429]).toBeUndefined();
    const [done] = await a.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" = 'done'`);
    const [open] = await a.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ${OPEN}`);
    expect({ done: Number(done.n), open: Number(open.n) }).toEqual({ done: 25, open: 15 });
  }, 60_000);

  it('when both hydrate the same burst without REDIS_URL, then each spends its own budget: the documented reason not to run two hydrating instances without Redis', async () => {
    const { standin } = await burst({});
    const stats = standin.stats()['GET /v1/customers/{customerId}']!;
    expect(stats.requests).toBeGreaterThan(30);
    expect(stats.byStatus[429]).toBeGreaterThan(0);
  }, 60_000);
});

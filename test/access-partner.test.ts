import { randomUUID } from 'node:crypto';
import { buildClientSchema, getIntrospectionQuery, isInputObjectType, parse, type GraphQLSchema, type IntrospectionQuery } from 'graphql';
import { PERSONAL_DATA_NOTE, personalDataGuards } from '../src/domains/access/personal-data.js';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { DEFAULT_MAX_COST, queryCost } from '../src/api/limits.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import {
  defaultFill,
  fieldsDescribedWith,
  fieldsNamedLike,
  holdsValue,
  operationsReaching,
  targetValues,
  type Coordinate,
  type WalkedOperation,
} from './support/schema-walker.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until, type TestClient } from './support/ws.js';

/**
 * Personal fields, walked over the live schema: every root query field, nested relation and
 * subscription that can reach a personal field is asked for it with a partner token without the
 * personalData permission, and with an app token. The partner gets every personal field as null
 * with PERSONAL_DATA_FORBIDDEN, and everything else exactly as the app gets it; the app gets the
 * values. The operations are generated from the introspected schema (test/support/schema-walker.ts)
 * and the personal fields are the ones the schema says are (the sentence every @PersonalData() field
 * carries), so a personal field or a relation added later is covered without touching this test.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const FAST_HYDRATION = { HYDRATION_DELAY_MS: '0', HYDRATION_POLL_MS: '20', HYDRATION_RETRY_BASE_MS: '20', HYDRATION_RETRY_MAX_MS: '200' };

/**
 * Names that sound personal but are not a person's data, each with the reason. Any other field so
 * named must be marked @PersonalData() (the schema test below fails until it is, or is listed here).
 */
const NOT_PERSONAL: Readonly<Record<Coordinate, string>> = {
  'Studio.name': "a studio's name",
  'Class.title': "a class's title",
  'AppointmentBooking.title': 'what was booked ("Personal training")',
  'Contract.rateName': "a tariff's name",
  'ContractAdditionalModule.rateName': 'an add-on module\'s tariff name ("Sauna")',
  'Device.name': "a device's name",
  'ClassSlot.locationName': 'a room of the studio',
  'PostalAddress.street': 'reached only through Customer.address, which is personal',
  'PostalAddress.houseNumber': 'reached only through Customer.address, which is personal',
  'PostalAddress.zipCode': 'reached only through Customer.address, which is personal',
  'PostalAddress.city': 'reached only through Customer.address, which is personal',
  'PostalAddress.country': 'reached only through Customer.address, which is personal',
  'ApiToken.name': "a token's name (admin only)",
  'EventType.name': 'an event type (CUSTOMER_CHECKIN)',
  'CreateApiTokenInput.name': "a token's name (admin only)",
  'ClassReportRow.capacity': 'the places in a class (matched by "city")',
  'ClassSlotStatsBucket.capacity': 'the places in class slots (matched by "city")',
  'EmployeeCompetence.name': 'what an employee may teach or do ("Yoga")',
};
/** What a personal field tends to be called. */
const SOUNDS_PERSONAL = /name|mail|phone|birth|gender|address|street|zip|city|country|language|customerNumber|iban/i;

interface Answer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

async function gql(server: TestServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as Answer;
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(answer).slice(0, 2000)} for ${query}`);
  return answer;
}

async function createToken(server: TestServer, input: Record<string, unknown>): Promise<string> {
  const answer = await gql(server, ADMIN_TOKEN, 'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }', {
    input,
  });
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return (answer.data as { createApiToken: { secret: string } }).createApiToken.secret;
}

/** `data` with every personal value replaced by null: what the partner must get. */
function withoutPersonal(data: unknown, targets: ReadonlySet<Coordinate>): unknown {
  if (Array.isArray(data)) return data.map((item) => withoutPersonal(item, targets));
  if (data === null || typeof data !== 'object') return data;
  const record = data as Record<string, unknown>;
  const typename = typeof record['__typename'] === 'string' ? record['__typename'] : undefined;
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [
      key,
      typename && targets.has(`${typename}.${key}`) ? null : withoutPersonal(value, targets),
    ]),
  );
}

/** The personal strings of the world's customers that a partner must never see anywhere in an answer. */
function personalStrings(world: World): string[] {
  const values: string[] = [];
  for (const c of world.customers.values()) {
    values.push(c.firstName, c.lastName, c.email, c.customerNumber, c.dateOfBirth, c.address.street);
    for (const phone of [c.phoneNumberMobile, c.phoneNumberPrivate]) if (phone) values.push(phone);
  }
  for (const e of world.employees.values())
    values.push(e.firstName, e.lastName, ...(e.email ? [e.email] : []), ...(e.phoneNumber ? [e.phoneNumber] : []));
  return values.filter((value) => value.length >= 4);
}

interface Universe {
  readonly world: World;
  readonly standin: Standin;
  readonly server: TestServer;
  readonly schema: GraphQLSchema;
  readonly personal: ReadonlySet<Coordinate>;
  readonly partner: string;
  readonly partnerWithPersonalData: string;
  readonly app: string;
  /** An employee hired (EMPLOYEE_CREATED) and changed (EMPLOYEE_UPDATED), for `employee(employeeId)`. */
  readonly employeeId: number;
  /** Whether a query is within the server's cost limit. */
  readonly fits: (query: string) => boolean;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function createUniverse(kind: 'sqlite' | 'postgres'): Promise<Universe> {
  const world = new World({ seed: 5, studios: 2, customersPerStudio: 3, days: 7 });
  // A deleted customer too (its personal data is erased: null for everyone).
  world.deleteCustomer([...world.customers.values()].at(-1)!.id);
  // The studio checks out a customer still in (AUTOMATIC_CUSTOMER_CHECKOUT), so the subscription delivering those visits replays one.
  const stayer = [...world.customers.values()][0]!;
  world.visit(stayer.id, stayer.studioId);
  world.automaticCheckout(stayer.studioId);
  // The customer types of the sister platform, so their subscriptions replay one each: another customer
  // moves home, gets a card and a restriction; a third loses access (read 403, erased, from then on).
  const [, mover, disabled] = [...world.customers.values()];
  world.moveHomeStudio(mover!.id, world.studios.find((s) => s.id !== mover!.studioId)!.id);
  const medium = world.addAccessMedium(mover!.id);
  world.replaceAccessMedium(mover!.id, medium.id);
  world.removeAccessMedium(mover!.id, medium.id);
  world.liftAccessRestriction(mover!.id, world.addAccessRestriction(mover!.id).id);
  world.updateCheckinStudios(
    world.contracts[0]!.id,
    world.studios.map((s) => s.id),
  );
  world.disableCustomerAccess(disabled!.id);
  // A contract paused, given a module and cancelled, so the contract types' subscriptions replay one each.
  const paused = world.contracts.find((c) => !c.cancelled && world.customers.get(c.customerId)?.deletedAt === null)!;
  const pause = world.addIdlePeriod(paused.id, { startDate: isoDay(world.now), endDate: null });
  world.updateIdlePeriod(paused.id, pause.id, isoDay(world.now + 14 * 86_400_000));
  world.cancelIdlePeriod(paused.id, pause.id);
  const addOn = world.addAdditionalModule(paused.id);
  world.updateAdditionalModule(paused.id, addOn.moduleContractId, { price: 5.9 });
  world.cancelAdditionalModule(paused.id, addOn.moduleContractId);
  world.deleteAdditionalModule(paused.id, addOn.moduleContractId);
  world.cancelContract(paused.id);
  // Staff: one hired and changed, one hired and let go (EMPLOYEE_DELETED: a tombstone, its personal data erased).
  const employee = world.createEmployee(world.studios[0]!.id, { businessRole: 'TRAINER' });
  world.updateEmployee(employee.id, { email: `trainer.${employee.id}@staff.example.com` });
  world.deleteEmployee(world.createEmployee(world.studios[0]!.id).id);
  const standin = await startStandin({ world });
  const server = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_COST_PER_MINUTE: '0', ...FAST_HYDRATION });
  try {
    for (const s of world.studios)
      await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
    const customer = [...world.customers.values()][0]!;
    const craft = (entityId: number, type: string, content?: Record<string, unknown>): WebhookDelivery => ({
      studioId: customer.studioId,
      webhookKey: world.studio(customer.studioId).webhookKey,
      body: { entityId, uuid: randomUUID(), payload: [{ timestamp: world.now, type, ...(content ? { content } : {}) }] },
    });
    const contract = world.contracts.find((c) => c.customerId === customer.id) ?? world.contracts[0]!;
    // Event types the generated history may not contain, about things the world has.
    const extra = [
      craft(customer.id, 'AGGREGATOR_MEMBER_CREATED', { aggregatorId: 'agg-walk-1' }),
      craft(customer.id, 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED'),
      craft(customer.id, 'CUSTOMER_UPDATED'),
      craft(contract.customerId, 'CONTRACT_UPDATED', { contractId: contract.id }),
      ...[...world.classBookings.values()]
        .slice(0, 1)
        .flatMap((b) => [craft(b.bookingId, 'CLASS_BOOKING_UPDATED'), craft(b.bookingId, 'CLASS_BOOKING_CANCELLED')]),
      ...[...world.appointmentBookings.values()]
        .slice(0, 1)
        .flatMap((b) => [craft(b.bookingId, 'APPOINTMENT_BOOKING_UPDATED'), craft(b.bookingId, 'APPOINTMENT_BOOKING_CANCELLED')]),
    ];
    for (const d of [...world.deliveries, ...extra]) {
      const response = await server.post(d.webhookKey, d.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    // Hydration fills the personal fields from the stand-in Open API.
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

    const serverSchema = await buildGraphQLSchema();
    const introspection = await gql(server, ADMIN_TOKEN, getIntrospectionQuery());
    const schema = buildClientSchema(introspection.data as unknown as IntrospectionQuery);
    return {
      world,
      standin,
      server,
      schema,
      employeeId: employee.id,
      personal: fieldsDescribedWith(schema, PERSONAL_DATA_NOTE),
      partner: await createToken(server, { role: 'PARTNER', allStudios: true, name: 'analytics partner' }),
      partnerWithPersonalData: await createToken(server, { role: 'PARTNER', allStudios: true, permissions: ['PERSONAL_DATA'] }),
      app: await createToken(server, { role: 'APP', allStudios: true }),
      fits: (query) => queryCost(serverSchema, parse(query)) <= DEFAULT_MAX_COST,
    };
  } catch (error) {
    await server.stop();
    await standin.close();
    throw error;
  }
}

/** What one token got from one operation (several results for a subscription). */
interface Outcome {
  readonly results: readonly Answer[];
}

/**
 * The partner's answers are the app's with every personal field null, each refused with
 * PERSONAL_DATA_FORBIDDEN (and no other error); the app's hold personal values and no error.
 */
function comparePartnerWithApp(
  universe: Universe,
  operation: WalkedOperation,
  partner: Outcome,
  app: Outcome,
): { appValues: Set<Coordinate> } {
  const label = `${operation.kind} ${operation.rootField}`;
  const appValues = new Set<Coordinate>();
  expect({ label, count: partner.results.length }).toEqual({ label, count: app.results.length });
  const forbidden = personalStrings(universe.world);
  app.results.forEach((appResult, i) => {
    const partnerResult = partner.results[i]!;
    expect({ label, errors: appResult.errors ?? [] }).toEqual({ label, errors: [] });
    for (const { coordinate, value } of targetValues(appResult.data, universe.personal)) if (holdsValue(value)) appValues.add(coordinate);
    // Everything but the personal fields is the same; each personal field is null.
    expect({ label, data: partnerResult.data }).toEqual({ label, data: withoutPersonal(appResult.data, universe.personal) });
    for (const { coordinate, value } of targetValues(partnerResult.data, universe.personal))
      expect({ label, coordinate, value }).toEqual({ label, coordinate, value: null });
    const text = JSON.stringify(partnerResult.data);
    for (const value of forbidden)
      if (text.includes(value)) throw new Error(`${label}: the partner got the personal value ${JSON.stringify(value)}`);
    // Refused field by field: PERSONAL_DATA_FORBIDDEN and nothing else, one error at the path of each personal value.
    for (const error of partnerResult.errors ?? []) {
      expect({ label, code: error.extensions?.code, message: error.message }).toEqual({
        label,
        code: 'PERSONAL_DATA_FORBIDDEN',
        message: expect.stringMatching(/^[A-Z]\w*\.\w+ is personal data: this token may not read it/),
      });
    }
    const refused = new Set((partnerResult.errors ?? []).map((e) => e.path?.join('.')));
    for (const { path } of targetValues(appResult.data, universe.personal).filter((t) => t.value !== null)) {
      expect({ label, path, refused: refused.has(path) }).toEqual({ label, path, refused: true });
    }
  });
  return { appValues };
}

/** Collects a subscription's results until none has come for `quietMs` (none at all within `firstMs`: empty). */
async function collect(client: TestClient, query: string, quietMs = 400, firstMs = 3000): Promise<Outcome> {
  const subscription = subscribe(client, query);
  try {
    await subscription.take(1, firstMs);
  } catch (error) {
    subscription.unsubscribe();
    // Refused (an error message), not silent: say so.
    if (subscription.error() !== undefined) throw new Error(`${query}: ${JSON.stringify(subscription.error())}`);
    return { results: [] };
  }
  let seen = 0;
  await until(
    async () => {
      if (subscription.results.length !== seen) {
        seen = subscription.results.length;
        await new Promise((resolve) => setTimeout(resolve, quietMs));
        return subscription.results.length === seen;
      }
      return true;
    },
    30_000,
    'the replay to end',
  );
  subscription.unsubscribe();
  return { results: subscription.results as Answer[] };
}

describe.each(databaseKinds())('personal data and partner tokens, walked over the schema (%s)', (kind) => {
  let universe: Universe;
  beforeAll(async () => {
    universe = await createUniverse(kind);
  }, 120_000);
  afterAll(async () => {
    await disposeClients();
    await universe?.server.stop();
    await universe?.standin.close();
  });

  it('when the schema is read, then the personal fields it declares are those the code guards, and every field named like one is either', async () => {
    const { personal, schema } = universe;
    const guarded = personalDataGuards(await buildGraphQLSchema());
    const isInput = (c: Coordinate) => isInputObjectType(schema.getType(c.split('.')[0]!));
    expect([...personal].filter((c) => !isInput(c)).sort()).toEqual([...guarded.fields].sort());
    // Not empty by accident (a marker renamed): the customer's name is personal.
    expect([...personal]).toEqual(expect.arrayContaining(['Customer.firstName', 'Customer.email']));
    const unmarked = [...fieldsNamedLike(schema, SOUNDS_PERSONAL)].filter((c) => !personal.has(c) && !(c in NOT_PERSONAL));
    expect(unmarked).toEqual([]);
    // A filter or search on a personal field is guarded the same way: marked input fields and guarded arguments go together.
    expect(guarded.arguments.length > 0).toBe([...personal].some(isInput));
  });

  it('when every root query field and relation reaching a personal field is asked, then the partner gets it null with PERSONAL_DATA_FORBIDDEN and the app gets the value', async () => {
    const { server, schema, personal } = universe;
    const operations = operationsReaching(schema, 'query', {
      targets: personal,
      first: 2,
      lookupIds: [1, 2, 3],
      fits: universe.fits,
      // Absent members "since" a time to come: every active member is absent, so the list holds people.
      fill: (arg, field) =>
        field === 'MembersReport.absentMembers' && arg.name === 'since'
          ? '2100-01-01T00:00:00.000Z'
          : field === 'Query.employee' && arg.name === 'employeeId'
            ? String(universe.employeeId)
            : defaultFill(arg),
    });
    expect(operations.length).toBeGreaterThan(5);
    const seenByApp = new Set<Coordinate>();
    const relations = new Set<Coordinate>();
    const rootsWithValues = new Set<string>();
    for (const operation of operations) {
      operation.relations.forEach((r) => relations.add(r));
      const [partner, app, partnerWithPersonalData] = await Promise.all(
        [universe.partner, universe.app, universe.partnerWithPersonalData].map((token) => gql(server, token, operation.query)),
      );
      const { appValues } = comparePartnerWithApp(universe, operation, { results: [partner!] }, { results: [app!] });
      appValues.forEach((c) => seenByApp.add(c));
      // A partner with the permission gets what the app gets.
      expect({ root: operation.rootField, answer: partnerWithPersonalData }).toEqual({ root: operation.rootField, answer: app });
      if (appValues.size > 0) rootsWithValues.add(operation.rootField);
    }
    // Each root field gave the app personal values (for one of the ids tried, for lookups).
    expect(operations.map((o) => o.rootField).filter((root) => !rootsWithValues.has(root))).toEqual([]);
    // Every personal field was asked and held a value for the app somewhere: the walk cannot pass by asking nothing.
    expect([...personal].filter((c) => !isInputObjectType(universe.schema.getType(c.split('.')[0]!)) && !seenByApp.has(c))).toEqual([]);
    // Nested relations are walked, not only root fields.
    expect([...relations]).toEqual(expect.arrayContaining(['Contract.customer', 'Visit.customer']));
  });

  it('when every subscription reaching a personal field replays the log, then the partner gets it null with PERSONAL_DATA_FORBIDDEN and the app gets the value', async () => {
    const { server, schema, personal } = universe;
    const operations = operationsReaching(schema, 'subscription', {
      targets: personal,
      first: 2,
      rootArguments: { after: '0' },
      fits: universe.fits,
    });
    expect(operations.length).toBeGreaterThan(5);
    const partner = connect(server.app.url, universe.partner);
    const app = connect(server.app.url, universe.app);
    await Promise.all([partner.connected, app.connected]);
    const seenByApp = new Set<Coordinate>();
    const silent: string[] = [];
    for (const operation of operations) {
      const [partnerOutcome, appOutcome] = await Promise.all([collect(partner, operation.query), collect(app, operation.query)]);
      if (appOutcome.results.length === 0) silent.push(operation.rootField);
      const { appValues } = comparePartnerWithApp(universe, operation, partnerOutcome, appOutcome);
      appValues.forEach((c) => seenByApp.add(c));
    }
    // Every subscription replayed something (the seed has every event type they deliver), and every personal field held a value.
    expect(silent).toEqual([]);
    expect([...personal].filter((c) => !isInputObjectType(universe.schema.getType(c.split('.')[0]!)) && !seenByApp.has(c))).toEqual([]);
  }, 240_000);

  it('when a partner and an app subscribe live to the same operation, then each gets its own answer (groups never mix them)', async () => {
    const { server, world } = universe;
    const customer = [...world.customers.values()][1]!;
    const query = 'subscription { customerCheckedIn { __typename customer { __typename customerId firstName email } } }';
    const partner = connect(server.app.url, universe.partner);
    const app = connect(server.app.url, universe.app);
    await Promise.all([partner.connected, app.connected]);
    const partnerSub = subscribe(partner, query);
    const appSub = subscribe(app, query);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await server.post(world.studio(customer.studioId).webhookKey, {
      entityId: customer.id,
      uuid: randomUUID(),
      payload: [{ timestamp: world.now + 60_000, type: 'CUSTOMER_CHECKIN' }],
    });
    expect(response.status).toBe(200);
    const [appResult] = await appSub.take(1);
    const [partnerResult] = await partnerSub.take(1);
    expect(appResult!.data).toEqual({
      customerCheckedIn: {
        __typename: 'VisitEventPayload',
        customer: { __typename: 'Customer', customerId: String(customer.id), firstName: customer.firstName, email: customer.email },
      },
    });
    expect(partnerResult!.data).toEqual({
      customerCheckedIn: {
        __typename: 'VisitEventPayload',
        customer: { __typename: 'Customer', customerId: String(customer.id), firstName: null, email: null },
      },
    });
    expect((partnerResult!.errors ?? []).map((e) => [e.extensions?.['code'], e.path?.join('.')])).toEqual([
      ['PERSONAL_DATA_FORBIDDEN', 'customerCheckedIn.customer.firstName'],
      ['PERSONAL_DATA_FORBIDDEN', 'customerCheckedIn.customer.email'],
    ]);
  });
});

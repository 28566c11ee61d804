import { randomUUID } from 'node:crypto';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  isRequiredArgument,
  isUnionType,
  parse,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { TokenService } from '../src/domains/access/token.service.js';
import { DEFAULT_MAX_COST, queryCost } from '../src/api/limits.js';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { KNOWN_EVENT_TYPES } from '../src/events/event-catalog.js';
import { databaseKinds } from './support/databases.js';
import { connectionNode, fill as walkerFill, isDateScalar, isIdLike, leaves, printArgs, readConnection } from './support/member-walker.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Root fields only the admin token may use: any other token gets FORBIDDEN. */
const ADMIN_ONLY_FIELDS = new Set(['hydrationJobs', 'apiTokens']);

/**
 * Scoping, walked over the whole live schema: a partner token for studio A must see nothing of
 * studio B (another operator) nor of studio C (A's operator, but not A's studio) — except what C
 * told about a customer A shares with it.
 *
 * Two universes are compared. "full" holds A, C and B with events of every type; "reference" holds
 * only A and what C delivered about the shared customer, posted in the same order so that every id
 * and sequence number comes out the same. Every root Query field (found by introspection, so fields
 * added later are covered without touching this test) is asked with A's token in both universes —
 * with every id as lookup argument, every enum value, and every studio / upstream-id filter pointed
 * at B and C — and the answers must be identical: whatever B and C added must change nothing A sees.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const minute = (n: number) => T0 + n * 60_000;
/** Wide enough for every event here, narrow enough for hourly statistics buckets. */
const RANGE_FROM = new Date(T0 - 20 * 86_400_000).toISOString();
const RANGE_TO = new Date(T0 + 20 * 86_400_000).toISOString();

type Who = 'A' | 'B' | 'C';
interface Element {
  readonly type: string;
  readonly timestamp: number;
  readonly content?: Record<string, unknown>;
}
interface Planned {
  readonly who: Who;
  readonly body: { readonly entityId: number; readonly uuid: string; readonly payload: readonly Element[] };
}

const planned = (who: Who, entityId: number, ...payload: Element[]): Planned => ({ who, body: { entityId, uuid: randomUUID(), payload } });
const ev = (type: string, at: number, content?: Record<string, unknown>): Element => ({
  type,
  timestamp: minute(at),
  ...(content ? { content } : {}),
});

/** Events of every known type (and one unknown) for one studio; upstream ids are `base + n`. */
function studioEvents(who: Who, base: number, tag: string, start: number): Planned[] {
  const id = (n: number) => base + n;
  const t = (n: number) => start + n;
  return [
    planned(
      who,
      id(1),
      ev('CUSTOMER_CREATED', t(1)),
      ev('CUSTOMER_UPDATED', t(2)),
      ev('CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED', t(3)),
      ev('CUSTOMER_CHECKIN', t(4)),
      ev('CUSTOMER_CHECKOUT', t(5)),
      ev('CONTRACT_CREATED', t(6), { contractId: id(11) }),
      ev('CONTRACT_UPDATED', t(7), { contractId: id(11) }),
      ev('AGGREGATOR_MEMBER_CREATED', t(8), { aggregatorId: `agg-${tag}-${id(1)}` }),
    ),
    planned(who, id(2), ev('CUSTOMER_CREATED', t(9)), ev('CUSTOMER_CHECKIN', t(10))),
    planned(who, id(3), ev('CUSTOMER_CREATED', t(11)), ev('CUSTOMER_DELETED', t(12))),
    planned(who, id(21), ev('CLASS_SLOT_UPDATED', t(13), { classId: id(31) })),
    planned(who, id(22), ev('CLASS_SLOT_CANCELLED', t(14), { classId: id(31) })),
    planned(who, id(41), ev('CLASS_BOOKING_CREATED', t(15)), ev('CLASS_BOOKING_UPDATED', t(16))),
    planned(who, id(42), ev('CLASS_BOOKING_CREATED', t(17)), ev('CLASS_BOOKING_CANCELLED', t(18))),
    planned(who, id(51), ev('APPOINTMENT_BOOKING_CREATED', t(19)), ev('APPOINTMENT_BOOKING_UPDATED', t(20))),
    planned(who, id(52), ev('APPOINTMENT_BOOKING_CREATED', t(21)), ev('APPOINTMENT_BOOKING_CANCELLED', t(22))),
    planned(who, id(61), ev('DEVICE_CREATED', t(23))),
    planned(who, id(71), ev('FINANCE_DEBT_COLLECTION_RUN_CREATED', t(24))),
    planned(who, id(81), ev('TAX_ADVISOR_EXPORT_CREATED', t(25))),
    planned(who, id(91), ev('FUTURE_EVENT_TYPE_NOT_KNOWN_YET', t(26), { note: `${tag}-future-${id(91)}` })),
    // The studio checks out customer id(2) (in since t(10)); the entityId is an upstream studio id.
    planned(
      who,
      id(95),
      ev('AUTOMATIC_CUSTOMER_CHECKOUT', t(27), { checkouts: [{ customerId: id(2), checkoutTime: new Date(minute(t(27))).toISOString() }] }),
    ),
    // The contract id(11) cancelled, paused (pause id(13)) and given modules (id(14) cancelled, id(15) deleted).
    planned(
      who,
      id(1),
      ev('CONTRACT_CANCELLED', t(28), { contractId: id(11) }),
      ev('CONTRACT_IDLE_PERIOD_CREATED', t(29), {
        contractId: id(11),
        idlePeriodId: id(13),
        idlePeriodAmount: 14,
        usedFreeTermsInDays: 14,
      }),
      ev('CONTRACT_IDLE_PERIOD_UPDATED', t(30), { contractId: id(11), idlePeriodId: id(13) }),
      ev('CONTRACT_IDLE_PERIOD_CANCELLED', t(31), { contractId: id(11), idlePeriodId: id(13) }),
      ev('CONTRACT_ADDITIONAL_MODULE_CREATED', t(32), { contractId: id(11), moduleContractId: id(14) }),
      ev('CONTRACT_ADDITIONAL_MODULE_UPDATED', t(33), { contractId: id(11), moduleContractId: id(14) }),
      ev('CONTRACT_ADDITIONAL_MODULE_CANCELLED', t(34), { contractId: id(11), moduleContractId: id(14) }),
      ev('CONTRACT_ADDITIONAL_MODULE_DELETED', t(35), { contractId: id(11), moduleContractId: id(15) }),
    ),
    // The studio's own settings (entityId: an upstream studio id) and its debt collection.
    planned(who, id(96), ev('STUDIO_OPENING_HOURS_UPDATED', t(28)), ev('ADDITIONAL_INFORMATION_FIELDS_UPDATED', t(29))),
    planned(who, id(97), ev('FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', t(30))),
    planned(
      who,
      id(98),
      ev('FINANCE_DEBT_COLLECTION_CASE_UPDATED', t(31), { agencyDebtCollectionCaseId: id(99), collectionCaseId: id(100) }),
    ),
    // The customer's access and home studio (home studios are upstream studio ids: base + 93, 94).
    planned(
      who,
      id(1),
      ev('CUSTOMER_HOME_STUDIO_UPDATED', t(28), { sourceStudioId: id(93), targetStudioId: id(94) }),
      ev('CUSTOMER_CHECKIN_STUDIOS_UPDATED', t(29), { contractId: id(11) }),
      ev('CUSTOMER_ACCESS_MEDIUM_CREATED', t(30)),
      ev('CUSTOMER_ACCESS_MEDIUM_UPDATED', t(31)),
      ev('CUSTOMER_ACCESS_MEDIUM_DELETED', t(32)),
      ev('CUSTOMER_ACCESS_RESTRICTION_CREATED', t(33)),
      ev('CUSTOMER_ACCESS_RESTRICTION_DELETED', t(34)),
      ev('CUSTOMER_ACCESS_DISABLED', t(35)),
    ),
    planned(who, id(103), ev('EMPLOYEE_CREATED', t(36)), ev('EMPLOYEE_UPDATED', t(37))),
    planned(who, id(104), ev('EMPLOYEE_CREATED', t(38)), ev('EMPLOYEE_DELETED', t(39))),
  ];
}

const A_BASE = 1000;
const C_BASE = 550_000;
const B_BASE = 990_000;
const SHARED_CUSTOMER = A_BASE + 1;

const A_EVENTS = studioEvents('A', A_BASE, 'a', 0);
/** C (A's operator) about A's customer: a visit, an update, a contract change, a membership. */
const SHARED_EVENTS = [
  planned(
    'C',
    SHARED_CUSTOMER,
    ev('CUSTOMER_CHECKIN', 101),
    ev('CUSTOMER_CHECKOUT', 102),
    ev('CUSTOMER_UPDATED', 103),
    ev('CONTRACT_UPDATED', 104, { contractId: A_BASE + 11 }),
    ev('AGGREGATOR_MEMBER_CREATED', 105, { aggregatorId: `agg-shared-c-${SHARED_CUSTOMER}` }),
  ),
];
const C_EVENTS = studioEvents('C', C_BASE, 'c', 200);
/** B has every type too, and — another operator — a customer with the same upstream id as A's. */
const B_EVENTS = [
  ...studioEvents('B', B_BASE, 'b', 300),
  planned(
    'B',
    SHARED_CUSTOMER,
    ev('CUSTOMER_CREATED', 400),
    ev('CUSTOMER_CHECKIN', 401),
    ev('CONTRACT_CREATED', 402, { contractId: B_BASE + 111 }),
    ev('AGGREGATOR_MEMBER_CREATED', 403, { aggregatorId: `agg-b-collide-${SHARED_CUSTOMER}` }),
  ),
];

/** Upstream ids of every kind, for filters such as `customerIds`. */
const ALL_UPSTREAM_IDS = [...A_EVENTS, ...C_EVENTS, ...B_EVENTS].map((p) => String(p.body.entityId));

/** What A's token may see in the root lists (the base query, no filter). */
const A_TOTALS: Readonly<Record<string, number>> = {
  customers: 3,
  contracts: 1,
  classSlots: 2,
  classBookings: 2,
  appointmentBookings: 2,
  devices: 1,
  debtCollectionRuns: 1,
  taxAdvisorExports: 1,
  aggregatorMemberships: 1,
  debtCollectionCases: 1,
  // The deleted one is left out unless includeDeleted.
  employees: 1,
  events: A_EVENTS.reduce((n, p) => n + p.body.payload.length, 0),
};

/** Patterns of B's and C-only data (upstream ids 990001+, 550001+, names and aggregator ids). */
const FORBIDDEN_PATTERNS: readonly [string, RegExp][] = [
  ["B's upstream ids", /\b99\d{4}\b/],
  ["B's aggregator ids", /agg-b-/],
  ["B's unknown-event content", /b-future-/],
  ["B's studio name", /Scope Studio B/],
  ["C's own upstream ids", /\b55\d{4}\b/],
  ["C's own aggregator ids", /agg-c-/],
  ["C's unknown-event content", /c-future-/],
  ["C's studio name", /Scope Studio C/],
];

interface Universe {
  readonly server: TestServer;
  readonly studio: Readonly<Record<Who, number>>;
  readonly tenantA: number;
  readonly tokenA: string;
}

async function createUniverse(kind: 'sqlite' | 'postgres', withOthers: boolean): Promise<Universe> {
  // The walk spends far more than a partner's budget by design (budgets: graphql-rate-limit.test.ts).
  const server = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_COST_PER_MINUTE: '0' });
  try {
    const a = await server.addStudio({ name: 'Scope Studio A', tenantUrl: 'https://scope-a.example/v1' });
    const c = await server.addStudio({ name: 'Scope Studio C', tenantUrl: 'https://scope-a.example/v1' });
    const b = withOthers ? await server.addStudio({ name: 'Scope Studio B', tenantUrl: 'https://scope-b.example/v1' }) : undefined;
    expect(c.tenantId).toBe(a.tenantId);
    if (b) expect(b.tenantId).not.toBe(a.tenantId);
    const keys: Partial<Record<Who, string>> = { A: a.webhookKey, C: c.webhookKey, ...(b ? { B: b.webhookKey } : {}) };
    const plan = withOthers ? [...A_EVENTS, ...SHARED_EVENTS, ...C_EVENTS, ...B_EVENTS] : [...A_EVENTS, ...SHARED_EVENTS];
    // One at a time, in this order: ids and sequence numbers come out the same in both universes.
    for (const { who, body } of plan) {
      const response = await server.post(keys[who], body);
      expect(response).toMatchObject({ status: 200, body: { stored: body.payload.length } });
    }
    // With personal data: this walk is about studios (personal fields have theirs, access-partner.test.ts).
    const { token } = await new TokenService(server.app.dataSource).create({
      role: 'partner',
      studios: [a.id],
      name: 'studio A partner',
      permissions: ['personalData'],
    });
    return { server, studio: { A: a.id, C: c.id, B: b?.id ?? -1 }, tenantA: a.tenantId, tokenA: token };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

interface Answer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
}

async function graphql(universe: Universe, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${universe.server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as Answer;
  if (response.status !== 200 && !answer.errors) throw new Error(`HTTP ${response.status} without errors for ${query}`);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Queries built from the schema

/** A value for a required input of `type` (test/support/member-walker.ts), time ranges this test's. */
const fill = (type: GraphQLInputType, name: string, id: number) => walkerFill(type, name, id, { from: RANGE_FROM, to: RANGE_TO });

/** The arguments a field needs (required ones filled), for a nested selection. */
const requiredArgs = (field: GraphQLField<unknown, unknown>) =>
  printArgs(field.args, Object.fromEntries(field.args.filter(isRequiredArgument).map((arg) => [arg.name, fill(arg.type, arg.name, 1)])));

/** Every scalar field, and one level of nested objects and lists (connections: totalCount and nodes). */
function selection(type: GraphQLNamedType): string {
  if (isUnionType(type)) return leaves(type);
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const parts = [leaves(type)];
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (isLeafType(named)) continue;
    const node = connectionNode(named);
    parts.push(
      node
        ? `${field.name}${requiredArgs(field)} { totalCount nodes { ${leaves(node)} } }`
        : `${field.name}${requiredArgs(field)} { ${leaves(named)} }`,
    );
  }
  return parts.join(' ');
}

interface RootProbe {
  readonly field: string;
  readonly connection: boolean;
  readonly lookup: boolean;
  /** Argument sets to try, by name (page arguments excluded). */
  readonly variants: readonly Record<string, unknown>[];
  /** Prints one aliased call. */
  readonly call: (alias: string, values: Record<string, unknown>, page?: { first: number; after: string | null }) => string;
}

/** Options for one argument: what to try besides leaving it out. */
function argumentChoices(arg: GraphQLArgument, universe: Universe, maxId: number): { values: unknown[]; optional: boolean } {
  const optional = !isRequiredArgument(arg);
  const named = getNamedType(arg.type);
  const list = isListType(getNullableType(arg.type));
  const { A, B, C } = universe.studio;
  if (/^studioIds?$/i.test(arg.name) && isIdLike(named)) {
    const studios = [A, B, C, maxId];
    return { values: list ? [[A], [B], [C], [A, B, C]] : studios.map((id) => (named.name === 'ID' ? String(id) : id)), optional };
  }
  if (isEnumType(named)) return { values: named.getValues().map((value) => (list ? [value.value] : value.value)), optional };
  if (optional && isInputObjectType(named)) {
    // Filters: each studio or upstream-id list pointed at everyone's data, one at a time.
    const values: unknown[] = [];
    for (const field of Object.values(named.getFields())) {
      const fieldNamed = getNamedType(field.type);
      if (!isListType(getNullableType(field.type)) || !isIdLike(fieldNamed)) continue;
      const ids = /^studioIds$/i.test(field.name) ? [[B], [C], [A, B, C]] : [ALL_UPSTREAM_IDS];
      for (const set of ids) values.push({ [field.name]: fieldNamed.name === 'ID' ? set.map(String) : set.map(Number) });
    }
    return { values, optional };
  }
  if (optional) return { values: [], optional };
  if (isIdLike(named) && !list) return { values: Array.from({ length: maxId }, (_, i) => fill(arg.type, arg.name, i + 1)), optional };
  return { values: [fill(arg.type, arg.name, 1)], optional };
}

const PAGE_ARGS = new Set(['first', 'last', 'after', 'before']);

/** An optional input object of date fields only: a time range such as `range: TimeRangeInput`. */
function isRangeArgument(arg: GraphQLArgument): boolean {
  const named = getNamedType(arg.type);
  return (
    !isRequiredArgument(arg) &&
    isInputObjectType(named) &&
    Object.values(named.getFields()).every((field) => isDateScalar(getNamedType(field.type)))
  );
}

function rootProbes(schema: GraphQLSchema, universe: Universe, maxId: number): RootProbe[] {
  const probes: RootProbe[] = [];
  for (const field of Object.values(schema.getQueryType()!.getFields())) {
    const named = getNamedType(field.type);
    const node = connectionNode(named);
    const connection =
      node !== undefined && field.args.some((arg) => arg.name === 'first') && field.args.some((arg) => arg.name === 'after');
    const args = field.args.filter((arg) => !(connection && PAGE_ARGS.has(arg.name)));
    // Every argument varied on its own, the others left out (or at their first value when required).
    const base: Record<string, unknown> = {};
    const choices = args.map((arg) => ({ arg, ...argumentChoices(arg, universe, maxId) }));
    for (const choice of choices) if (!choice.optional) base[choice.arg.name] = choice.values[0];
    // A statistics range may be left open (issue 11); the walk still gives one, wide, as when it was required.
    for (const arg of args) if (isRangeArgument(arg)) base[arg.name] = fill(arg.type, arg.name, 1);
    const variants: Record<string, unknown>[] = [{ ...base }];
    for (const choice of choices) {
      for (const value of choice.values.slice(choice.optional ? 0 : 1)) variants.push({ ...base, [choice.arg.name]: value });
    }
    const inner = connection ? `totalCount pageInfo { hasNextPage endCursor } nodes { ${selection(node!)} }` : selection(named);
    const lookup = !connection && args.length === 1 && isRequiredArgument(args[0]!) && isIdLike(getNamedType(args[0]!.type));
    probes.push({
      field: field.name,
      connection,
      lookup,
      variants,
      call: (alias, values, page) => {
        const printed = printArgs(args, values);
        const pageArgs = page ? `first: ${page.first}${page.after === null ? '' : `, after: ${JSON.stringify(page.after)}`}` : '';
        const all = [printed.slice(1, -1), pageArgs].filter((part) => part !== '').join(', ');
        return `${alias}: ${field.name}${all === '' ? '' : `(${all})`}${inner === '' ? '' : ` { ${inner} }`}`;
      },
    });
  }
  return probes;
}

const cost = (schema: GraphQLSchema, query: string) => queryCost(schema, parse(query));

/** The result of one argument set, made comparable between universes. */
type Outcome = { readonly data: unknown; readonly errors: readonly string[] };

/** Runs every variant of a probe, batching aliased calls (and pages) under the cost limit. */
async function runProbe(schema: GraphQLSchema, universe: Universe, token: string, probe: RootProbe): Promise<Outcome[]> {
  const errorsOf = (answer: Answer, alias: string) =>
    (answer.errors ?? []).filter((e) => e.path?.[0] === alias || e.path === undefined).map((e) => `${e.extensions?.code}: ${e.message}`);
  if (!probe.connection) {
    const outcomes: Outcome[] = [];
    // The cost of aliased calls side by side is the sum of their costs.
    // A variant over the cost limit on its own (every leaf of forty days of hourly statistics buckets) is
    // refused before anything runs: nothing of the scope to see there, so it is left out.
    const variants = probe.variants.filter((v) => cost(schema, `{ ${probe.call('v', v)} }`) <= DEFAULT_MAX_COST);
    const costs = variants.map((v) => cost(schema, `{ ${probe.call('v', v)} }`));
    let start = 0;
    while (start < variants.length) {
      let end = start + 1;
      for (let total = costs[start]!; end < variants.length && total + costs[end]! <= DEFAULT_MAX_COST; end += 1) total += costs[end]!;
      const query = `{ ${variants
        .slice(start, end)
        .map((v, i) => probe.call(`v${i}`, v))
        .join(' ')} }`;
      const answer = await graphql(universe, token, query);
      for (let i = 0; i < end - start; i += 1) outcomes.push({ data: answer.data?.[`v${i}`] ?? null, errors: errorsOf(answer, `v${i}`) });
      start = end;
    }
    return outcomes;
  }
  const outcomes: Outcome[] = [];
  for (const values of probe.variants) {
    outcomes.push(
      await readConnection(
        schema,
        (page) => `{ ${probe.call('v', values, page)} }`,
        (query) => graphql(universe, token, query),
        (answer) => errorsOf(answer, 'v'),
      ),
    );
  }
  return outcomes;
}

// ---------------------------------------------------------------------------------------------
// Comparing

/** Times of "now" (registration, receipt) differ between universes; upstream times do not. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) && Date.parse(value) > T0 + 30 * 86_400_000) return '<now>';
  return value;
}

/** Cursors are opaque base64: leave them out of the pattern search. */
const withoutCursors = (value: unknown) => JSON.stringify(value, (key, v) => (/cursor$/i.test(key) ? undefined : v));

/** Every object in `value` with a `key` property, with that property's value. */
function valuesOf(value: unknown, test: (key: string) => boolean, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) valuesOf(item, test, found);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (test(k) && (typeof v !== 'object' || v === null)) found.push(v);
      valuesOf(v, test, found);
    }
  }
  return found;
}

describe.each(databaseKinds())('scoping over every root Query field (%s)', (kind) => {
  let full: Universe;
  let reference: Universe;
  let schema: GraphQLSchema;
  let serverSchema: GraphQLSchema;
  let probes: RootProbe[];
  /** Per probe: A's outcomes in the full universe, in the reference, and the admin's in the full one. */
  const results = new Map<string, { a: Outcome[]; ref: Outcome[]; admin: Outcome[] }>();

  beforeAll(async () => {
    full = await createUniverse(kind, true);
    reference = await createUniverse(kind, false);
    expect(reference.studio.A).toBe(full.studio.A);
    expect(reference.studio.C).toBe(full.studio.C);
    const introspection = await graphql(full, ADMIN_TOKEN, getIntrospectionQuery());
    schema = buildClientSchema(introspection.data as never);
    // Batches are sized with the server's own schema: the scan weights of the cost (limits.ts) are not in the introspection.
    serverSchema = await buildGraphQLSchema();
    const maxId = [...A_EVENTS, ...SHARED_EVENTS, ...C_EVENTS, ...B_EVENTS].reduce((n, p) => n + p.body.payload.length, 0) + 3;
    probes = [];
    for (let probe of rootProbes(schema, full, maxId)) {
      let admin = await runProbe(serverSchema, full, ADMIN_TOKEN, probe);
      if (probe.lookup) {
        // Past the highest id the admin finds (plus a margin), every lookup is null anyway.
        let last = -1;
        admin.forEach((outcome, i) => (last = outcome.data === null ? last : i));
        const keep = Math.min(probe.variants.length, last + 4);
        probe = { ...probe, variants: probe.variants.slice(0, keep) };
        admin = admin.slice(0, keep);
      }
      probes.push(probe);
      results.set(probe.field, {
        a: await runProbe(serverSchema, full, full.tokenA, probe),
        ref: await runProbe(serverSchema, reference, reference.tokenA, probe),
        admin,
      });
    }
  }, 120_000);
  afterAll(async () => {
    await full?.server.stop();
    await reference?.server.stop();
  });

  it('posts every known event type to every studio', () => {
    for (const events of [A_EVENTS, C_EVENTS, B_EVENTS]) {
      const types = new Set(events.flatMap((p) => p.body.payload.map((e) => e.type)));
      for (const type of KNOWN_EVENT_TYPES) expect(types).toContain(type);
    }
  });

  it('walks every root Query field, and the admin walk reaches B and C (so a clean result means something)', () => {
    expect(probes.map((p) => p.field)).toEqual(expect.arrayContaining(['customers', 'customer', 'studios', 'studio']));
    const admin = withoutCursors([...results.values()].map((r) => r.admin));
    for (const [what, pattern] of FORBIDDEN_PATTERNS) expect({ what, seen: pattern.test(admin) }).toEqual({ what, seen: true });
  });

  it("when A's token walks the schema, then no answer holds B's or C's own data", () => {
    for (const probe of probes) {
      const a = withoutCursors(results.get(probe.field)!.a.map((o) => o.data));
      for (const [what, pattern] of FORBIDDEN_PATTERNS) {
        const match = pattern.exec(a);
        expect({ field: probe.field, what, leaked: match?.[0] ?? null }).toEqual({ field: probe.field, what, leaked: null });
      }
      const data = results.get(probe.field)!.a.map((o) => o.data);
      expect({
        field: probe.field,
        tenantIds: [...new Set(valuesOf(data, (k) => k === 'tenantId'))].filter((t) => t !== full.tenantA),
      }).toEqual({ field: probe.field, tenantIds: [] });
      expect({
        field: probe.field,
        studioIds: valuesOf(data, (k) => /studioId$/i.test(k)).filter((s) => String(s) === String(full.studio.B)),
      }).toEqual({ field: probe.field, studioIds: [] });
    }
  });

  it("when A's token walks the schema, then every answer equals the one from a database without B and C's own data", () => {
    for (const probe of probes) {
      const { a, ref } = results.get(probe.field)!;
      probe.variants.forEach((variant, i) => {
        expect({ field: probe.field, variant, outcome: normalise(a[i]) }).toEqual({
          field: probe.field,
          variant,
          outcome: normalise(ref[i]),
        });
      });
    }
  });

  it("when A's token walks the schema, then nothing fails but as a client error, and every field answers something", () => {
    for (const probe of probes) {
      const { a } = results.get(probe.field)!;
      const codes = a.flatMap((o) => o.errors.map((e) => e.split(':')[0]));
      expect({ field: probe.field, unexpected: codes.filter((code) => code !== 'BAD_USER_INPUT' && code !== 'FORBIDDEN') }).toEqual({
        field: probe.field,
        unexpected: [],
      });
      // Admin-only fields (the hydration queue spans studios) refuse every scoped token instead.
      if (ADMIN_ONLY_FIELDS.has(probe.field))
        expect({ field: probe.field, codes: [...new Set(codes)] }).toEqual({ field: probe.field, codes: ['FORBIDDEN'] });
      else expect({ field: probe.field, answered: a.some((o) => o.errors.length === 0) }).toEqual({ field: probe.field, answered: true });
    }
  });

  it("when A's token lists records, then the totals are A's alone", () => {
    expect(results.get('studios')!.a[0]!.data).toEqual([expect.objectContaining({ id: String(full.studio.A), name: 'Scope Studio A' })]);
    for (const probe of probes.filter((p) => p.connection && p.field in A_TOTALS)) {
      const base = results.get(probe.field)!.a[0]!.data as { totalCount: number; nodes: unknown[] };
      expect({ field: probe.field, totalCount: base.totalCount, nodes: base.nodes.length }).toEqual({
        field: probe.field,
        totalCount: A_TOTALS[probe.field],
        nodes: A_TOTALS[probe.field],
      });
    }
  });

  it("when A's token looks up B's records by id, then every lookup answers null", () => {
    for (const probe of probes.filter((p) => p.lookup)) {
      const { a, admin } = results.get(probe.field)!;
      const isB = (record: unknown) => {
        const r = record as Record<string, unknown> | null;
        return (
          r !== null &&
          (r.tenantId === undefined
            ? String(r.studioId) === String(full.studio.B) || (r.studio as { id?: string } | null)?.id === String(full.studio.B)
            : r.tenantId !== full.tenantA)
        );
      };
      const bIds = probe.variants.filter((_, i) => isB(admin[i]!.data));
      expect({ field: probe.field, bRecordsFound: bIds.length > 0 }).toEqual({ field: probe.field, bRecordsFound: true });
      probe.variants.forEach((variant, i) => {
        if (isB(admin[i]!.data))
          expect({ field: probe.field, variant, seen: a[i]!.data }).toEqual({ field: probe.field, variant, seen: null });
      });
    }
  });
});

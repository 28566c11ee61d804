import { TokenService } from '../src/domains/access/token.service.js';
import { ErrorCode } from '../src/api/errors.js';
import { DEFAULT_CONNECTION_COST_SIZE, DEFAULT_MAX_COST, DEFAULT_MAX_DEPTH } from '../src/api/limits.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../src/api/pagination.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const ERROR_CODES: readonly string[] = Object.values(ErrorCode);

interface GraphQLAnswer {
  readonly status: number;
  readonly text: string;
  readonly body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

function client(server: TestServer) {
  return async (body: unknown, token: string | null = ADMIN_TOKEN, headers: Record<string, string> = {}): Promise<GraphQLAnswer> => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) };
  };
}

/** Counts the SQL statements TypeORM sends while `work` runs (every query passes the logger). */
async function countStatements(server: TestServer, work: () => Promise<unknown>): Promise<number> {
  const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
  try {
    await work();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

/** `customers { nodes { visits { customer { visits { ... id } } } } }`, exactly `depth` fields deep. */
function nestedCustomersQuery(depth: number): string {
  const wrappers = Array.from({ length: depth - 3 }, (_, i) => (i % 2 === 0 ? 'visits(first: 1)' : 'customer'));
  const inner = wrappers.reduceRight((selection, wrapper) => `${wrapper} { ${selection} }`, 'id');
  return `{ customers(first: 1) { nodes { ${inner} } } }`;
}

describe.each(databaseKinds())('/graphql security (%s)', (kind) => {
  let server: TestServer;
  let tokens: TokenService;
  let studioId: number;
  let post: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    tokens = new TokenService(server.app.dataSource);
    post = client(server);
    const studio = await server.addStudio({ name: 'Security Studio' });
    studioId = studio.id;
    for (const customerId of [1, 2, 3]) {
      const res = await server.post(studio.webhookKey, delivery(customerId, { type: 'CUSTOMER_CHECKIN', timestamp: T0 + customerId }));
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => server?.stop());

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null, {}],
      ['an unknown ggt_ token', 'ggt_0123456789abcdef0123456789abcdef0123456789a', {}],
      ['a token without our prefix', 'definitely-not-a-token-of-ours', {}],
      ['a near miss of the admin token', `${ADMIN_TOKEN}x`, {}],
    ] as const)('when the request carries %s, then 401 UNAUTHENTICATED and no data', async (_case, token, headers) => {
      const answer = await post({ query: '{ studios { id } }' }, token, headers);
      expect(answer.status).toBe(401);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    });

    it('when the Authorization scheme is not Bearer, then 401 UNAUTHENTICATED', async () => {
      const answer = await post({ query: '{ studios { id } }' }, null, {
        authorization: `Basic ${Buffer.from(`x:${ADMIN_TOKEN}`).toString('base64')}`,
      });
      expect(answer.status).toBe(401);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('when a token is revoked, then its next request is refused with 401, while it worked just before', async () => {
      const { token, record } = await tokens.create({ role: 'partner', studios: [studioId], name: 'soon revoked' });
      const before = await post({ query: '{ studios { id } }' }, token);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({ data: { studios: [{ id: String(studioId) }] } });

      await tokens.revoke(record.id);
      const after = await post({ query: '{ studios { id } }' }, token);
      expect(after.status).toBe(401);
      expect(after.body.errors).toEqual([{ message: 'unknown or revoked token', extensions: { code: 'UNAUTHENTICATED' } }]);
    });
  });

  describe('depth limit', () => {
    it(`when a query nests ${DEFAULT_MAX_DEPTH + 1} fields deep, then 400 QUERY_TOO_DEEP naming the limit and the depth, and no SQL runs`, async () => {
      const query = nestedCustomersQuery(DEFAULT_MAX_DEPTH + 1);
      expect(query).toContain('customers(first: 1) { nodes { visits(first: 1) { customer { visits(first: 1) { customer {');
      let answer: GraphQLAnswer | undefined;
      const statements = await countStatements(server, async () => (answer = await post({ query })));
      expect(answer!.status).toBe(400);
      expect(answer!.body.data).toBeUndefined();
      expect(answer!.body.errors).toEqual([
        {
          message: `query depth ${DEFAULT_MAX_DEPTH + 1} exceeds the limit of ${DEFAULT_MAX_DEPTH}: nest fewer fields`,
          extensions: { code: 'QUERY_TOO_DEEP', limit: DEFAULT_MAX_DEPTH, measured: DEFAULT_MAX_DEPTH + 1 },
        },
      ]);
      expect(statements).toBe(0);
    });

    it('when a query is exactly at the depth limit, then it runs', async () => {
      const answer = await post({ query: nestedCustomersQuery(DEFAULT_MAX_DEPTH) });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.status).toBe(200);
      expect(answer.body.data.customers.nodes).toHaveLength(1);
    });

    it('when the depth hides in fragments, then it is still counted', async () => {
      const query = `
        query Deep { customers(first: 1) { nodes { ...C1 } } }
        fragment C1 on Customer { visits(first: 1) { customer { ...C2 } } }
        fragment C2 on Customer { visits(first: 1) { customer { ...C3 } } }
        fragment C3 on Customer { visits(first: 1) { customer { visits(first: 1) { customer { id } } } } }`;
      const answer = await post({ query });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', measured: 11 });
    });

    it('when a client introspects the whole schema (deeply nested ofType), then it is not refused for depth', async () => {
      const { getIntrospectionQuery } = await import('graphql');
      const answer = await post({ query: getIntrospectionQuery() });
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.__schema.queryType.name).toBe('Query');
    });
  });

  describe('cost limit', () => {
    it('when nested pages multiply past the cost limit, then 400 QUERY_TOO_COMPLEX naming the limit and the cost, and no SQL runs', async () => {
      const query = '{ customers(first: 100) { nodes { id visits(first: 100) { id checkinAt } } } }';
      let answer: GraphQLAnswer | undefined;
      const statements = await countStatements(server, async () => (answer = await post({ query })));
      // customers: 1 + 100 x (nodes: 1 + id 1 + visits: 1 + 100 x (id 1 + checkinAt 1)) = 20301
      expect(answer!.status).toBe(400);
      expect(answer!.body.data).toBeUndefined();
      expect(answer!.body.errors).toEqual([
        {
          message: `query cost 20301 exceeds the limit of ${DEFAULT_MAX_COST}: ask for smaller pages (first/last) or fewer nested lists`,
          extensions: { code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_MAX_COST, measured: 20301 },
        },
      ]);
      expect(statements).toBe(0);
    });

    it('when the page sizes come in variables, then the cost uses their values', async () => {
      const query =
        'query Page($n: Int!, $m: Int) { customers(first: $n) { nodes { visits(first: $n) { id } } } more: customers(first: $m) { totalCount } }';
      const refused = await post({ query, variables: { n: 100, m: 1 } });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');

      const allowed = await post({ query, variables: { n: 10, m: 1 } });
      expect(allowed.body.errors).toBeUndefined();
      expect(allowed.body.data.more.totalCount).toBe(3);
    });

    it('when a realistic dashboard page (100 customers, their latest 10 visits) is asked for, then it runs', async () => {
      const query =
        '{ customers(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { id customerId checkedIn lastCheckinAt visits { id checkinAt checkoutAt studio { id name } } } } }';
      const answer = await post({ query });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.customers.totalCount).toBe(3);
    });

    it('when fragments spread each other twice over (2^20 copies of one field), then QUERY_TOO_COMPLEX before any copy is resolved', async () => {
      const fragments = ['fragment F0 on Query { studios { id } }'];
      for (let i = 1; i <= 20; i += 1) fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
      const answer = await post({ query: `query Bomb { ...F20 } ${fragments.join(' ')}` });
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([
        {
          message: 'query has more than 10000 field selections once fragments are expanded',
          extensions: { code: 'QUERY_TOO_COMPLEX', limit: 10000, measured: 10001 },
        },
      ]);
    });

    it('when a connection is asked for without first or last, then it is costed at the default page size', async () => {
      expect(DEFAULT_CONNECTION_COST_SIZE).toBe(DEFAULT_PAGE_SIZE);
      // customers: 1 + 20 x (nodes: 1 + id 1 + visits: 1 + 10 x (id 1 + checkinAt 1) = 23) = 461
      const { enforceLimits } = await import('../src/api/limits.js');
      const { buildGraphQLSchema } = await import('../src/graphql/schema.js');
      const { parse } = await import('graphql');
      const document = parse('{ customers { nodes { id visits { id checkinAt } } } }');
      const operation = document.definitions[0]!;
      if (operation.kind !== 'OperationDefinition') throw new Error('not an operation');
      expect(enforceLimits(await buildGraphQLSchema(), document, operation, {})).toEqual({ depth: 4, cost: 461 });
    });

    it('when a variable has the wrong type, then BAD_USER_INPUT (not an internal error)', async () => {
      const answer = await post({ query: 'query ($n: Int!) { customers(first: $n) { totalCount } }', variables: { n: 'ten' } });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('page size', () => {
    it(`when first is ${MAX_PAGE_SIZE + 1}, then BAD_USER_INPUT naming the maximum`, async () => {
      const answer = await post({ query: `{ customers(first: ${MAX_PAGE_SIZE + 1}) { nodes { id } } }` });
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors).toEqual([
        expect.objectContaining({
          message: `first must be between 0 and ${MAX_PAGE_SIZE}, got ${MAX_PAGE_SIZE + 1}`,
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ]);
    });

    it(`when last is ${MAX_PAGE_SIZE + 1}, then BAD_USER_INPUT`, async () => {
      const answer = await post({ query: `{ customers(last: ${MAX_PAGE_SIZE + 1}) { nodes { id } } }` });
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
});

describe('/graphql errors outside development (NODE_ENV=production)', () => {
  let server: TestServer;
  let post: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, NODE_ENV: 'production' });
    post = client(server);
    const studio = await server.addStudio({ name: 'Prod Studio' });
    expect((await server.post(studio.webhookKey, delivery(7, { type: 'CUSTOMER_CHECKIN', timestamp: T0 }))).status).toBe(200);
  });
  afterAll(() => server?.stop());

  it('when a resolver fails inside (a table is gone), then the client sees "Internal server error" and no SQL or table name', async () => {
    const before = await post({ query: '{ customers { nodes { id visits { id } } } }' });
    expect(before.body.errors).toBeUndefined();
    await server.sql('ALTER TABLE visits RENAME TO visits_moved_away');
    try {
      const answer = await post({ query: '{ customers { nodes { id visits { id } } } }' });
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      for (const error of answer.body.errors!) {
        expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
        expect(error.extensions).not.toHaveProperty('stacktrace');
      }
      expect(answer.text).not.toMatch(/visits_moved_away|no such table|SELECT|sqlite/i);
    } finally {
      await server.sql('ALTER TABLE visits_moved_away RENAME TO visits');
    }
  });

  it('when requests go wrong in every way we know, then every error carries a code from the ErrorCode enum', async () => {
    const deep = nestedCustomersQuery(DEFAULT_MAX_DEPTH + 2);
    const answers: GraphQLAnswer[] = [
      await post({ query: '{ studios { id } }' }, null),
      await post({ query: '{ studios { id } }' }, 'ggt_unknown'),
      await post('{"query": '),
      await post({ query: '{ studios { id ' }),
      await post({ query: '{ studios { nope } }' }),
      await post({ query: 'query A { studios { id } } query B { studios { name } }', operationName: 'C' }),
      await post({ query: 'query ($n: Int!) { customers(first: $n) { totalCount } }', variables: {} }),
      await post({ query: '{ customer(id: 1, extra: 2) { id } }' }),
      await post({ query: `{ customers(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }` }),
      await post({ query: deep }),
      await post({ query: '{ customers(first: 100) { nodes { visits(first: 100) { id } } } }' }),
      await post({ query: '{ studios { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
      await post({ query: '{ studios { id } }', variables: { padding: 'x'.repeat(1024 * 1024) } }),
    ];
    await server.sql('ALTER TABLE visits RENAME TO visits_moved_away');
    try {
      answers.push(await post({ query: '{ customers { nodes { visits { id } } } }' }));
    } finally {
      await server.sql('ALTER TABLE visits_moved_away RENAME TO visits');
    }
    for (const answer of answers) {
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      for (const error of answer.body.errors!) {
        expect(ERROR_CODES).toContain(error.extensions?.code);
        expect(error.extensions).not.toHaveProperty('stacktrace');
      }
    }
  });
});

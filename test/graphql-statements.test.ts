import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  type GraphQLSchema,
} from 'graphql';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const CUSTOMERS = 120;
/**
 * Nested lists are asked for with this `first`, keeping a 100-customer page under the cost limit
 * (with `totalCount` and every row's `visitCount`, which cost their counts: limits.ts QUERY_COSTS).
 */
const NESTED = 4;

/**
 * Every nested list of a customer page is loaded in batches (DataLoader), so the number of SQL
 * statements depends on which fields are selected, never on how many customers the page holds.
 */
describe.each(databaseKinds())('SQL statements per customer page (%s)', (kind) => {
  let server: TestServer;
  let schema: GraphQLSchema;

  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: unknown[] };
  };

  /** Runs the query and counts the statements TypeORM sent for it (every query passes its logger). */
  const countStatements = async (query: string, variables: Record<string, unknown>) => {
    const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
    try {
      const answer = await post(query, variables);
      return { answer, statements: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const studio = await server.addStudio({ name: 'Busy Studio' });
    for (let i = 1; i <= CUSTOMERS; i += 1) {
      const t = T0 + i * 3_600_000;
      const res = await server.post(
        studio.webhookKey,
        delivery(
          1000 + i,
          { type: 'CUSTOMER_CREATED', timestamp: t },
          { type: 'CUSTOMER_CHECKIN', timestamp: t + 60_000 },
          { type: 'CUSTOMER_CHECKOUT', timestamp: t + 120_000 },
          { type: 'CUSTOMER_CHECKIN', timestamp: t + 180_000 },
          { type: 'CONTRACT_CREATED', timestamp: t + 240_000, content: { contractId: 50_000 + i } },
          { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: t + 300_000, content: { aggregatorId: `agg-${i}` } },
        ),
      );
      expect(res.status).toBe(200);
    }
    const introspection = await post(getIntrospectionQuery());
    schema = buildClientSchema(introspection.data);
  });
  afterAll(() => server?.stop());

  /**
   * A dashboard page: each customer with every nested list the Customer type has (visits with their
   * studio and customer; contracts, bookings, memberships... whichever exist), built from the live
   * schema so lists added later are covered.
   */
  const pageQuery = () => {
    const customer = schema.getType('Customer');
    if (!isObjectType(customer)) throw new Error('no Customer type');
    const nested: string[] = [];
    for (const field of Object.values(customer.getFields())) {
      if (!isListType(getNullableType(field.type))) continue;
      const child = getNamedType(field.type);
      if (!isObjectType(child)) continue;
      const args = field.args.some((arg) => arg.name === 'first') ? `(first: ${NESTED})` : '';
      if (field.name === 'visits') nested.push(`visits${args} { id checkinAt studio { id } customer { id } }`);
      else nested.push(`${field.name}${args} { id }`);
    }
    return {
      query: `query Page($n: Int!) { customers(first: $n) { totalCount nodes { id customerId visitCount ${nested.join(' ')} } } }`,
      lists: nested.length,
    };
  };

  it('when a page of 100 customers with their nested lists is read, then it takes as many statements as a page of 10', async () => {
    const { query, lists } = pageQuery();
    expect(query).toContain(`visits(first: ${NESTED})`);
    expect(lists).toBeGreaterThanOrEqual(2); // visits and studios at least

    const small = await countStatements(query, { n: 10 });
    const large = await countStatements(query, { n: 100 });
    expect(small.answer.errors).toBeUndefined();
    expect(large.answer.errors).toBeUndefined();
    expect(small.answer.data.customers.nodes).toHaveLength(10);
    expect(large.answer.data.customers.nodes).toHaveLength(100);
    expect(large.answer.data.customers.totalCount).toBe(CUSTOMERS);
    for (const node of large.answer.data.customers.nodes) {
      expect(node.visits).toHaveLength(2);
      expect(node.visitCount).toBe(2);
      expect(node.visits[0].customer).toEqual({ id: node.id });
      if ('contracts' in node) expect(node.contracts).toHaveLength(1);
    }

    expect(small.statements).toBeGreaterThanOrEqual(2); // the spy does see them: the page and its count at least
    expect(large.statements).toBe(small.statements);
    // One page query (which may carry the nested lists), one count, and at most one batch per nested list and per relation below.
    expect(large.statements).toBeLessThanOrEqual(2 + 3 * (lists + 2));
  });

  it('when the same page is read twice, then the count does not drift (no per-request caching hides statements)', async () => {
    const { query } = pageQuery();
    const first = await countStatements(query, { n: 50 });
    const second = await countStatements(query, { n: 50 });
    expect(first.answer.errors).toBeUndefined();
    expect(second.statements).toBe(first.statements);
  });
});

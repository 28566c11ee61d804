import 'reflect-metadata';
import net from 'node:net';
import { parse } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { DEFAULT_MAX_COST, MAX_QUERY_TOKENS, MAX_STATS_BUCKETS, QUERY_COSTS, queryCost } from '../src/api/limits.js';
import { MAX_BUCKETS } from '../src/domains/stats/time-buckets.js';
import { buildGraphQLSchema } from '../src/graphql/schema.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The query of the finding: 4,900 aliases of `occupancy { total }` (cost 9,800 before aggregates had a weight). */
const OCCUPANCY_ALIASES = `{ ${Array.from({ length: 4900 }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;
const WEEK = '{from: "2026-11-09T00:00:00.000Z", to: "2026-11-16T00:00:00.000Z"}';
const YEAR = '{from: "2025-11-16T00:00:00.000Z", to: "2026-11-16T00:00:00.000Z"}';

async function post(server: TestServer, body: unknown, token = ADMIN_TOKEN) {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

describe('query cost (limits.ts)', () => {
  let schema: GraphQLSchema;
  const cost = (query: string) => queryCost(schema, parse(query));
  beforeAll(async () => {
    schema = await buildGraphQLSchema();
  });

  it('when a connection selects totalCount, then it costs an aggregate more than its page, once, whatever the page size', () => {
    const page = cost('{ customers(first: 1) { nodes { id } } }');
    expect(cost('{ customers(first: 1) { totalCount nodes { id } } }')).toBe(page + 1 + QUERY_COSTS.aggregate);
    const big = cost('{ customers(first: 100) { nodes { id } } }');
    expect(cost('{ customers(first: 100) { totalCount nodes { id } } }')).toBe(big + 100 + QUERY_COSTS.aggregate);
  });

  it('when an aggregate is asked for, then it costs far more than a scalar field, and aliases add up', () => {
    const scalar = cost('{ studios { id } }') - cost('{ studios { __typename } }') + 1;
    expect(cost('{ occupancy { total } }')).toBeGreaterThanOrEqual(QUERY_COSTS.aggregate);
    expect(cost('{ occupancy { total } }')).toBeGreaterThan(100 * scalar);
    expect(cost('{ a: occupancy { total } b: occupancy { total } c: occupancy { total } }')).toBe(3 * cost('{ occupancy { total } }'));
    expect(cost(OCCUPANCY_ALIASES)).toBeGreaterThan(DEFAULT_MAX_COST * 100);
  });

  it('when a statistics query covers a longer range, then it costs more (rows scanned and buckets)', () => {
    expect(MAX_STATS_BUCKETS).toBe(MAX_BUCKETS);
    const week = cost(`{ visitStats(range: ${WEEK}) { count } }`);
    const year = cost(`{ visitStats(range: ${YEAR}) { count } }`);
    expect(week).toBeGreaterThan(QUERY_COSTS.aggregate);
    expect(year).toBeGreaterThan(week + 300 * QUERY_COSTS.statsDay);
    // A year of days still fits one query; hours of a year do not (8,760 buckets, capped at 2,000).
    expect(year).toBeLessThanOrEqual(DEFAULT_MAX_COST);
    expect(
      cost(`{ visitStats(range: ${YEAR}, groupBy: HOUR) { label count uniqueCustomers closedVisits averageDurationSeconds } }`),
    ).toBeGreaterThan(DEFAULT_MAX_COST);
    for (const field of ['classBookingStats', 'appointmentBookingStats', 'customerStats', 'contractStats', 'eventStats']) {
      expect({ field, cost: cost(`{ ${field}(range: ${WEEK}) { label } }`) }).toEqual({ field, cost: expect.any(Number) });
      expect(cost(`{ ${field}(range: ${WEEK}) { label } }`)).toBeGreaterThan(QUERY_COSTS.aggregate);
    }
  });

  it('when a page of customers selects visitCount, then each row pays for its count instead of 1', () => {
    expect(cost('{ customers(first: 50) { nodes { visitCount } } }') - cost('{ customers(first: 50) { nodes { id } } }')).toBe(
      50 * (QUERY_COSTS.childCount - 1),
    );
  });
});

describe.each(databaseKinds())('/graphql cost over HTTP and WebSocket (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    await server.addStudio({ name: 'Cost Studio' });
  });
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
  });

  it('when 4,900 aliases of occupancy { total } are asked for, then 400 QUERY_TOO_COMPLEX and no SQL runs', async () => {
    const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
    try {
      const answer = await post(server, { query: OCCUPANCY_ALIASES });
      expect(answer.status).toBe(400);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors).toEqual([
        expect.objectContaining({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: DEFAULT_MAX_COST, measured: expect.any(Number) } }),
      ]);
      expect(answer.body.errors![0]!.extensions!['measured']).toBeGreaterThan(4900 * QUERY_COSTS.aggregate);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('when a few aggregates fit the limit, then they run; when aliases push them past it, then QUERY_TOO_COMPLEX', async () => {
    const fits = Math.floor(DEFAULT_MAX_COST / (QUERY_COSTS.aggregate + 2));
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;
    const allowed = await post(server, { query: aliases(fits) });
    expect(allowed.status).toBe(200);
    expect(allowed.body.data.o0).toEqual({ total: 0 });
    const refused = await post(server, { query: aliases(fits + 1) });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('when totalCount is aliased past the limit, then QUERY_TOO_COMPLEX, while as many plain pages run', async () => {
    const n = Math.ceil(DEFAULT_MAX_COST / QUERY_COSTS.aggregate);
    const counts = `{ ${Array.from({ length: n }, (_, i) => `c${i}: customers(first: 1) { totalCount }`).join(' ')} }`;
    const pages = `{ ${Array.from({ length: n }, (_, i) => `c${i}: customers(first: 1) { nodes { id } }`).join(' ')} }`;
    expect((await post(server, { query: counts })).body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const plain = await post(server, { query: pages });
    expect(plain.status).toBe(200);
    expect(plain.body.errors).toBeUndefined();
  });

  it(`when a query has more than ${MAX_QUERY_TOKENS} tokens, then GRAPHQL_PARSE_FAILED before it is validated or costed`, async () => {
    const huge = `{ ${Array.from({ length: 12_000 }, (_, i) => `s${i}: studios { id }`).join(' ')} }`;
    const answer = await post(server, { query: huge });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/Document contains more (than|that) 50000 tokens/),
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      }),
    ]);
  });

  it('when the 4,900-alias query comes over WebSocket, then that operation gets QUERY_TOO_COMPLEX and the socket stays open', async () => {
    const client = connect(server.app.url, ADMIN_TOKEN);
    await client.connected;
    const refused = subscribe(client, OCCUPANCY_ALIASES);
    await expect(refused.done).rejects.toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }),
    ]);
    const fine = subscribe(client, '{ occupancy { total } }');
    await fine.done;
    expect(fine.results).toEqual([{ data: { occupancy: { total: 0 } } }]);
  });
});

describe('/graphql checks the token before reading the body', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
  });
  afterAll(() => server?.stop());

  /** Sends only the request head (announcing `contentLength` bytes that never come) and resolves with what the server answers. */
  const headOnly = (headers: Record<string, string>, contentLength: number) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.app.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer within 10 s; got ${JSON.stringify(received)}`));
      }, 10_000);
      socket.on('data', (chunk) => {
        received += String(chunk);
        const [head, body = ''] = received.split('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(head ?? '');
        if (length && Buffer.byteLength(body) >= Number(length[1])) {
          clearTimeout(timer);
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
      const lines = Object.entries({
        host: '127.0.0.1',
        'content-type': 'application/json',
        'content-length': String(contentLength),
        ...headers,
      }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`POST /graphql HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    });

  it.each([
    ['no Authorization header', {}, 'missing bearer token'],
    ['an unknown token', { authorization: 'Bearer ggt_not-a-token-of-ours' }, 'unknown or revoked token'],
  ] as const)(
    'when a POST with %s announces 100 MB and sends none of it, then 401 UNAUTHENTICATED comes anyway, and the connection closes',
    async (_case, headers, message) => {
      const answer = await headOnly(headers, 100 * 1024 * 1024);
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer).toMatch(/\r\nwww-authenticate: Bearer/i);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      const body = JSON.parse(answer.split('\r\n\r\n')[1]!);
      expect(body).toEqual({ errors: [{ message: expect.stringContaining(message), extensions: { code: 'UNAUTHENTICATED' } }] });
    },
  );

  it('when a browser opens it without a token, then it still gets the query page', async () => {
    const response = await fetch(`${server.app.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    await response.text();
  });
});

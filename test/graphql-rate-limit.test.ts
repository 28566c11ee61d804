import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '../src/config.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { LocalCostBudget, RedisCostBudget } from '../src/graphql/cost-budget.js';
import { QUERY_COSTS } from '../src/api/limits.js';
import { createLogger } from '../src/log.js';
import { createTestDatabase, databaseKinds, redisUrl, type TestDatabase } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** 120,000 points a minute: 2,000 a second, so a refill after a refusal takes a few seconds. */
const PER_MINUTE = 120_000;
/** Nine aggregates: 9 x 1,001 points, under the per-query limit; about 13 of them spend a budget. */
const NINE_AGGREGATES = `{ ${Array.from({ length: 9 }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;
const NINE_COST = 9 * (QUERY_COSTS.aggregate + 1);

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(url: string, token: string, query = NINE_AGGREGATES): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Answer['body'] };
}

/** Sends the nine aggregates until the budget refuses one; returns how many ran and the refusal. */
async function spend(url: string, token: string): Promise<{ ran: number; refusal: Answer }> {
  for (let ran = 0; ran < 40; ran += 1) {
    const answer = await post(url, token);
    if (answer.status !== 200) return { ran, refusal: answer };
    expect(answer.body.errors).toBeUndefined();
  }
  throw new Error('40 queries of 9,009 points ran on a budget of 120,000 a minute');
}

function expectRateLimited(answer: Answer): number {
  expect(answer.status).toBe(429);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toEqual([
    {
      message: expect.stringMatching(/query budget is used up/),
      extensions: { code: 'RATE_LIMITED', cost: NINE_COST, retryAfterSeconds: expect.any(Number) },
    },
  ]);
  const seconds = Number(answer.retryAfter);
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60).toBe(true);
  expect(answer.body.errors![0]!.extensions!['retryAfterSeconds']).toBe(seconds);
  return seconds;
}

describe('GRAPHQL_COST_PER_MINUTE', () => {
  it.each(['5000', '-1', 'lots', '1.5'])('when it is %s, then a ConfigError names the variable', (value) => {
    expect(() => loadConfig({ GRAPHQL_COST_PER_MINUTE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ GRAPHQL_COST_PER_MINUTE: value })).toThrow(/GRAPHQL_COST_PER_MINUTE/);
  });

  it('when it is unset, then 200,000 points a minute; 0 turns the budget off', () => {
    expect(loadConfig({}).graphql.costPerMinute).toBe(200_000);
    expect(loadConfig({ GRAPHQL_COST_PER_MINUTE: '0' }).graphql.costPerMinute).toBe(0);
  });
});

describe('cost budgets (cost-budget.ts)', () => {
  it('when a key spends its minute, then it waits for exactly the refill it lacks, and other keys are untouched', () => {
    let now = 1_000_000;
    const budget = new LocalCostBudget(60_000, () => now); // 1 point a ms
    expect(budget.chargeNow('1', 50_000)).toBe(0);
    expect(budget.chargeNow('1', 15_000)).toBe(5_000);
    expect(budget.chargeNow('2', 60_000)).toBe(0);
    now += 4_999;
    expect(budget.chargeNow('1', 15_000)).toBe(1);
    now += 1;
    expect(budget.chargeNow('1', 15_000)).toBe(0);
    // Never more than a minute's worth, however long it rested.
    now += 3_600_000;
    expect(budget.chargeNow('1', 60_000)).toBe(0);
    expect(budget.chargeNow('1', 1)).toBe(1);
  });

  it('when Redis does not answer, then each instance keeps the budget alone and no charge fails', async () => {
    // Nothing listens on port 1: the connection is refused, again and again.
    const budget = new RedisCostBudget({
      url: 'redis://127.0.0.1:1',
      perMinute: 60_000,
      keyPrefix: `gymgraph-test-${randomUUID()}`,
      logger: createLogger('silent'),
    });
    try {
      expect(await budget.charge('7', 60_000)).toBe(0);
      expect(await budget.charge('7', 1_000)).toBeGreaterThan(0);
      expect(await budget.charge('8', 1_000)).toBe(0);
    } finally {
      await budget.close();
    }
  });
});

describe.each(databaseKinds())('per-token query budget (%s)', (kind) => {
  let server: TestServer;
  let tokenA: string;
  let tokenB: string;
  let tokenC: string;
  let tokenD: string;
  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_COST_PER_MINUTE: String(PER_MINUTE) });
    const studio = await server.addStudio({ name: 'Budget Studio' });
    const tokens = new TokenService(server.app.dataSource);
    tokenA = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'A' })).token;
    tokenB = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'B' })).token;
    tokenC = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'C' })).token;
    tokenD = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'D' })).token;
  });
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
  });

  it('when a token spends its budget, then 429 RATE_LIMITED with Retry-After, another token and the admin token are unaffected, and it refills', async () => {
    const { ran, refusal } = await spend(server.app.url, tokenA);
    // 120,000 / 9,009 = 13 at once, plus what refilled (2,000 a second) while they ran.
    expect(ran).toBeGreaterThanOrEqual(13);
    const seconds = expectRateLimited(refusal);

    const other = await post(server.app.url, tokenB);
    expect(other.status).toBe(200);
    expect(other.body.data.o0).toEqual({ total: 0 });
    // The bootstrap ADMIN_TOKEN is the operator's: never budgeted (the per-query limit still holds).
    for (let i = 0; i < 15; i += 1) expect((await post(server.app.url, ADMIN_TOKEN)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 250));
    const refilled = await post(server.app.url, tokenA);
    expect(refilled.status).toBe(200);
    expect(refilled.body.data.o8).toEqual({ total: 0 });
  });

  it('when a token over budget subscribes over WebSocket, then that operation gets RATE_LIMITED and the socket stays open', async () => {
    await spend(server.app.url, tokenA);
    const client = connect(server.app.url, tokenA);
    await client.connected;
    const refused = subscribe(client, NINE_AGGREGATES);
    await expect(refused.done).rejects.toEqual([
      {
        message: expect.stringMatching(/query budget is used up/),
        extensions: { code: 'RATE_LIMITED', cost: NINE_COST, retryAfterSeconds: expect.any(Number) },
      },
    ]);
    const other = connect(server.app.url, tokenB);
    await other.connected;
    const fine = subscribe(other, '{ occupancy { total } }');
    await fine.done;
    expect(fine.results).toEqual([{ data: { occupancy: { total: 0 } } }]);
    expect(await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 100, 'open'))])).toBe('open');
  });

  it('when a token keeps sending after a 429, then it is answered 429 before its body is even parsed, until Retry-After', async () => {
    const { refusal } = await spend(server.app.url, tokenA);
    expect(refusal.status).toBe(429);
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenA}` },
      body: '{"query": not json',
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: expect.stringMatching(/query budget is used up/),
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) },
        },
      ],
    });
  });

  it('when a token sends queries over the cost limit again and again, then each is charged its cost, and the budget runs out', async () => {
    const tooCostly = `{ ${Array.from({ length: 10 }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;
    let refused = 0;
    for (let i = 0; i < 14; i += 1) {
      const answer = await post(server.app.url, tokenC, tooCostly);
      expect([400, 429]).toContain(answer.status);
      if (answer.status === 400) expect(answer.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      else refused += 1;
    }
    // 14 x 10,000 > 120,000 and what refilled meanwhile: the last ones (or a cheap query after them) meet the budget.
    const cheap = await post(server.app.url, tokenC, '{ studios { id } }');
    expect(refused + (cheap.status === 429 ? 1 : 0)).toBeGreaterThan(0);
    expect((await post(server.app.url, tokenB, '{ studios { id } }')).status).toBe(200);
  });

  it('when a token sends the 4,900-alias occupancy query twice, then both are QUERY_TOO_COMPLEX and the token waits most of a minute', async () => {
    const huge = `{ ${Array.from({ length: 4900 }, (_, i) => `o${i}: occupancy { total }`).join(' ')} }`;
    for (let i = 0; i < 2; i += 1) {
      const answer = await post(server.app.url, tokenD, huge);
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    }
    const next = await post(server.app.url, tokenD, '{ studios { id } }');
    expect(next.status).toBe(429);
    expect(Number(next.retryAfter)).toBeGreaterThanOrEqual(30);
  });
});

const sharedAvailable = databaseKinds().includes('postgres') && redisUrl() !== '';
if (!sharedAvailable) process.stdout.write('\n[gymgraph] PostgreSQL or Redis not available: the shared-budget test is SKIPPED.\n');

(sharedAvailable ? describe : describe.skip)('per-token query budget shared by two instances through Redis (REDIS_URL)', () => {
  let one: TestServer;
  let two: TestServer;
  let tokenA: string;
  let tokenB: string;
  beforeAll(async () => {
    // A channel (and so a key prefix) of this run alone: budgets of other runs never mix in.
    const env = {
      ADMIN_TOKEN,
      GRAPHQL_COST_PER_MINUTE: String(PER_MINUTE),
      REDIS_URL: redisUrl(),
      REDIS_CHANNEL: `gymgraph-test-budget-${randomUUID()}`,
    };
    one = await startTestServer('postgres', env);
    two = await startTestServer('postgres', env, { database: one.db });
    const studio = await one.addStudio({ name: 'Shared Budget Studio' });
    const tokens = new TokenService(one.app.dataSource);
    tokenA = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'A' })).token;
    tokenB = (await tokens.create({ role: 'partner', studios: [studio.id], name: 'B' })).token;
  });
  afterAll(async () => {
    await two?.stop();
    await one?.stop();
  });

  it('when a token spends its budget on one instance, then the other refuses it too, and still serves another token', async () => {
    const { ran, refusal } = await spend(one.app.url, tokenA);
    expect(ran).toBeGreaterThanOrEqual(13);
    expectRateLimited(refusal);
    expectRateLimited(await post(two.app.url, tokenA));
    expect((await post(two.app.url, tokenB)).status).toBe(200);
  });
});

(databaseKinds().includes('postgres') ? describe : describe.skip)(
  '/graphql while the database is unavailable (postgres behind a proxy that is cut)',
  () => {
    let db: TestDatabase;
    let proxy: FaultProxy;
    let server: TestServer;
    let token: string;
    beforeAll(async () => {
      db = await createTestDatabase('postgres');
      const url = new URL(db.url);
      proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.port = String(proxy.port);
      server = await startTestServer(
        'postgres',
        { ADMIN_TOKEN, HYDRATION_ENABLED: 'false', SHUTDOWN_TIMEOUT_MS: '1000' },
        { database: { ...db, url: url.toString() } },
      );
      const studio = await server.addStudio({ name: 'Outage Studio' });
      token = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studio.id] })).token;
      expect((await post(server.app.url, token, '{ studios { id } }')).status).toBe(200);
      proxy.cut();
    });
    afterAll(async () => {
      await server?.stop().catch(() => undefined);
      await proxy?.close();
      await db?.drop();
    });

    it('when a query needs the database, then 503 SERVICE_UNAVAILABLE with Retry-After, not a masked 500', async () => {
      const answer = await post(server.app.url, ADMIN_TOKEN, '{ studios { id } customers(first: 1) { nodes { id } } }');
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('2');
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      for (const error of answer.body.errors!) {
        expect(error).toMatchObject({
          message: 'the database is unavailable right now: retry later',
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        });
      }
    });

    it('when a minted token cannot be checked, then 503 SERVICE_UNAVAILABLE with Retry-After, not 401 or 500', async () => {
      const answer = await post(server.app.url, token, '{ studios { id } }');
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('2');
      expect(answer.body).toEqual({
        errors: [{ message: 'the database is unavailable right now: retry later', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
      });
    });
  },
);

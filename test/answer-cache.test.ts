import { randomBytes } from 'node:crypto';
import { TokenService } from '../src/domains/access/token.service.js';
import { createTestDatabase, databaseKinds, redisUrl } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** One UTC day of hourly visit buckets: a report with both ends of its range, so cacheable. */
const DAY = { from: '2026-03-10T00:00:00.000Z', to: '2026-03-11T00:00:00.000Z' };
const HOURLY = `{ visitStats(range: {from: "${DAY.from}", to: "${DAY.to}"}, groupBy: HOUR) { label count closedVisits } }`;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function graphql(server: TestServer, token: string, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

/** The visits of a `visitStats` answer, over all its buckets. */
const total = (answer: Answer): number => {
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data.visitStats as { count: number }[]).reduce((sum, bucket) => sum + bucket.count, 0);
};

/**
 * A write this instance cannot learn of, as the rollups CLI or another process would make it: every
 * rollup row gains `by` visits, so an answer read from the database after it differs from one before.
 */
const writeBehindItsBack = (server: TestServer, by: number) => server.sql(`UPDATE visit_rollups SET "visits" = "visits" + ${by}`);

/** Counts of `gymgraph_graphql_answer_cache_total` by result, from the instance's registry. */
async function cacheCounts(server: TestServer): Promise<Record<string, number>> {
  const metric = await server.app.metrics!.registry.getSingleMetric('gymgraph_graphql_answer_cache_total')!.get();
  const counts: Record<string, number> = { hit: 0, miss: 0, stored: 0 };
  for (const v of metric.values) counts[String(v.labels['result'])] = v.value;
  return counts;
}

let checkins = 0;
/** Posts a check-in at `utc` to the studio of `key`; resolves once it was acknowledged (200). */
async function checkin(server: TestServer, key: string, utc: string): Promise<void> {
  checkins += 1;
  const response = await server.post(key, delivery(10_000 + checkins, { type: 'CUSTOMER_CHECKIN', timestamp: Date.parse(utc) }));
  expect(response.status).toBe(200);
}

describe.each(databaseKinds())('the answer cache of reports (%s)', (kind) => {
  let server: TestServer;
  let keyA: string;
  let keyB: string;
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    // A long max age: within a test, only a write the instance learns of may end an answer.
    server = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_ANSWER_CACHE_MS: '600000' });
    const a = await server.addStudio({ name: 'Alpha' });
    const b = await server.addStudio({ name: 'Beta' });
    keyA = a.webhookKey;
    keyB = b.webhookKey;
    const tokens = new TokenService(server.app.dataSource);
    tokenA = (await tokens.create({ role: 'partner', studios: [a.id], name: 'A' })).token;
    tokenB = (await tokens.create({ role: 'partner', studios: [b.id], name: 'B' })).token;
    await checkin(server, keyA, '2026-03-10T10:00:00Z');
    await checkin(server, keyA, '2026-03-10T11:15:00Z');
    await checkin(server, keyB, '2026-03-10T10:30:00Z');
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('answers a repeated report from the cache, with the identical body, until the data changes', async () => {
    const before = await cacheCounts(server);
    const first = await graphql(server, ADMIN_TOKEN, HOURLY);
    expect(first.status).toBe(200);
    expect(total(first)).toBe(3);
    await writeBehindItsBack(server, 100);
    try {
      // The write went around the instance: only a cached answer can still say 3.
      const second = await graphql(server, ADMIN_TOKEN, HOURLY);
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      // Variables are part of the key, in canonical order: the same range by variables is one more entry, then a hit.
      const byVariables = `query Hourly($range: TimeRangeInput) { visitStats(range: $range, groupBy: HOUR) { label count closedVisits } }`;
      const stale = await graphql(server, ADMIN_TOKEN, byVariables, { range: { from: DAY.from, to: DAY.to } });
      expect(total(stale)).toBeGreaterThan(100); // another text, another key: read from the rows as they are now
      const again = await graphql(server, ADMIN_TOKEN, byVariables, { range: { to: DAY.to, from: DAY.from } });
      expect(again.text).toBe(stale.text);
      const after = await cacheCounts(server);
      expect(after['hit']! - before['hit']!).toBe(2);
      expect(after['stored']! - before['stored']!).toBe(2);
    } finally {
      await writeBehindItsBack(server, -100);
    }
    // A webhook moves the data generation on: the rows are read again (and the write taken back is seen).
    await checkin(server, keyA, '2026-03-10T12:00:00Z');
    expect(total(await graphql(server, ADMIN_TOKEN, HOURLY))).toBe(4);
  });

  it('never answers a query sent after a webhook’s 200 with an answer read before it', async () => {
    let expected = total(await graphql(server, ADMIN_TOKEN, HOURLY));
    for (let i = 0; i < 10; i++) {
      // Readers in flight while the webhook commits: their answers (read before it) must not outlive its 200.
      const inFlight = Array.from({ length: 4 }, () => graphql(server, ADMIN_TOKEN, HOURLY));
      await checkin(server, i % 2 === 0 ? keyA : keyB, `2026-03-10T${String(13 + (i % 8)).padStart(2, '0')}:05:00Z`);
      expected += 1;
      const after = await graphql(server, ADMIN_TOKEN, HOURLY);
      expect(total(after)).toBe(expected);
      for (const answer of await Promise.all(inFlight)) expect([expected - 1, expected]).toContain(total(answer));
      // And again: now from the cache, still the new answer.
      expect((await graphql(server, ADMIN_TOKEN, HOURLY)).text).toBe(after.text);
    }
  });

  it('answers requests in flight for one question with one read, all with the same body', async () => {
    await checkin(server, keyA, '2026-03-10T22:00:00Z'); // a new generation: nothing cached
    const before = await cacheCounts(server);
    const answers = await Promise.all(Array.from({ length: 16 }, () => graphql(server, ADMIN_TOKEN, HOURLY)));
    const after = await cacheCounts(server);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(answers[0]!.status).toBe(200);
    expect(after['hit']! + after['miss']! - before['hit']! - before['miss']!).toBe(16);
    // Each read that ran stored its answer; the requests that waited for one did not run.
    expect(after['stored']! - before['stored']!).toBe(after['miss']! - before['miss']!);
  });

  it('never lets two tokens with different studio scopes share an answer', async () => {
    const a1 = await graphql(server, tokenA, HOURLY);
    const b1 = await graphql(server, tokenB, HOURLY);
    const admin = await graphql(server, ADMIN_TOKEN, HOURLY);
    expect(total(a1) + total(b1)).toBe(total(admin));
    expect(total(a1)).not.toBe(total(b1));
    // Each token's second ask is its own cached answer, never the other's.
    expect((await graphql(server, tokenA, HOURLY)).text).toBe(a1.text);
    expect((await graphql(server, tokenB, HOURLY)).text).toBe(b1.text);
  });

  it('never caches an operation with a root field that reads the clock', async () => {
    const openEnded = `{ visitStats(range: {from: "${DAY.from}"}, groupBy: DAY) { count } }`;
    const withOccupancy = `{ occupancy { total } visitStats(range: {from: "${DAY.from}", to: "${DAY.to}"}, groupBy: HOUR) { count } }`;
    for (const query of [openEnded, withOccupancy]) {
      const first = total(await graphql(server, ADMIN_TOKEN, query));
      await writeBehindItsBack(server, 1000);
      try {
        // Read again from the rows: every rollup row of the day gained 1000.
        expect(total(await graphql(server, ADMIN_TOKEN, query))).toBeGreaterThanOrEqual(first + 1000);
      } finally {
        await writeBehindItsBack(server, -1000);
      }
    }
  });

  it('charges a hit what its query cost, so a token over its budget is refused for cached answers too', async () => {
    const other = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_ANSWER_CACHE_MS: '600000', GRAPHQL_COST_PER_MINUTE: '10000' });
    try {
      const studio = await other.addStudio({ name: 'Delta' });
      await checkin(other, studio.webhookKey, '2026-03-10T09:00:00Z');
      const token = (await new TokenService(other.app.dataSource).create({ role: 'partner', studios: [studio.id], name: 'D' })).token;
      // The hourly day costs about 1,100 points: ten of them are more than a minute's 10,000.
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await graphql(other, token, HOURLY)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses).toContain(429);
      expect((await cacheCounts(other))['hit']).toBeGreaterThanOrEqual(4);
    } finally {
      await other.stop();
    }
  });

  it('is off with GRAPHQL_ANSWER_CACHE_MS=0, and bounded by it otherwise', async () => {
    for (const [maxAge, cached] of [
      ['0', false],
      ['1500', true],
    ] as const) {
      const other = await startTestServer(kind, { ADMIN_TOKEN, GRAPHQL_ANSWER_CACHE_MS: maxAge });
      try {
        const studio = await other.addStudio({ name: 'Gamma' });
        await checkin(other, studio.webhookKey, '2026-03-10T09:00:00Z');
        const first = await graphql(other, ADMIN_TOKEN, HOURLY);
        expect(total(first)).toBe(1);
        await writeBehindItsBack(other, 5);
        const second = await graphql(other, ADMIN_TOKEN, HOURLY);
        expect(total(second)).toBe(cached ? 1 : 6);
        // Past the max age, the write no one announced is seen.
        await new Promise((resolve) => setTimeout(resolve, 1600));
        expect(total(await graphql(other, ADMIN_TOKEN, HOURLY))).toBe(6);
        const counts = await cacheCounts(other);
        expect(counts['hit']).toBe(cached ? 1 : 0);
      } finally {
        await other.stop();
      }
    }
  }, 60_000);
});

const withRedis = databaseKinds().includes('postgres') && redisUrl() !== '';

(withRedis ? describe : describe.skip)('the answer cache of two instances sharing PostgreSQL and Redis', () => {
  it('ends an answer on one instance when the other announces a commit', async () => {
    const db = await createTestDatabase('postgres');
    const env = {
      ADMIN_TOKEN,
      REDIS_URL: redisUrl(),
      REDIS_CHANNEL: `gymgraph-test:${randomBytes(6).toString('hex')}:events`,
      GRAPHQL_ANSWER_CACHE_MS: '600000',
    };
    const one = await startTestServer('postgres', env, { database: db });
    const two = await startTestServer('postgres', env, { database: db });
    try {
      const studio = await one.addStudio({ name: 'Shared' });
      await checkin(one, studio.webhookKey, '2026-03-10T09:00:00Z');
      expect(total(await graphql(one, ADMIN_TOKEN, HOURLY))).toBe(1);
      expect(total(await graphql(one, ADMIN_TOKEN, HOURLY))).toBe(1); // cached on one
      await checkin(two, studio.webhookKey, '2026-03-10T10:00:00Z');
      // One learns of two's commit from its announcement (Redis, or the log backstop): soon, long before the max age.
      const deadline = Date.now() + 5000;
      let seen = 1;
      while (seen === 1 && Date.now() < deadline) {
        seen = total(await graphql(one, ADMIN_TOKEN, HOURLY));
        if (seen === 1) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen).toBe(2);
    } finally {
      await one.stop();
      await two.stop();
      await db.drop();
    }
  }, 30_000);
});

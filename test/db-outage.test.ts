import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { start, type App } from '../src/main.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { httpRequest, postWebhook, sleep, type HttpResponse, type WebhookBody } from './support/child.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

/** WEBHOOK_ACK_TIMEOUT_MS's default: a webhook is answered within it (plus a margin for a loaded machine). */
const ACK_MS = 4000;
const MARGIN_MS = 2500;

const hasPostgres = databaseKinds().includes('postgres');
const describePg = hasPostgres ? describe : describe.skip;

/** The same database URL, through the proxy on loopback. */
function through(proxy: FaultProxy, url: string): string {
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return proxied.toString();
}

interface Running {
  readonly app: App;
  readonly key: string;
  readonly studioId: number;
  /** Log lines written by the service (only when started with `captureLogs`). */
  readonly lines: Record<string, unknown>[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** The service on `databaseUrl` (a proxied one, possibly), with one studio. */
async function startService(databaseUrl: string, env: Record<string, string> = {}, level: 'warn' | 'info' = 'warn'): Promise<Running> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    HYDRATION_ENABLED: 'false',
    ...env,
  });
  const app = await start(config, pino({ level }, sink));
  cleanups.push(() => app.stop());
  const key = `whk_${randomUUID()}`;
  const studio = await new StudioService(app.dataSource).add({ name: 'Outage Gym', webhookKey: key });
  return { app, key, studioId: studio.id, lines };
}

const checkin = (entityId = 42): WebhookBody => ({
  entityId,
  uuid: randomUUID(),
  payload: [{ type: 'CUSTOMER_CHECKIN', timestamp: Date.now() }],
});

/** POSTs one webhook; resolves with the answer and how long it took. */
async function timedPost(app: App, key: string, body: WebhookBody = checkin()): Promise<HttpResponse & { ms: number }> {
  const started = Date.now();
  const response = await postWebhook(app.url, key, body);
  return { ...response, ms: Date.now() - started };
}

async function readyz(app: App): Promise<HttpResponse & { ms: number }> {
  const started = Date.now();
  const response = await httpRequest(`${app.url}/readyz`);
  return { ...response, ms: Date.now() - started };
}

/** Polls until `check` is true, or fails naming `what`. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A direct connection to the test database (not through the proxy): what is really stored. */
async function direct(db: TestDatabase): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

async function freshPostgres(): Promise<TestDatabase> {
  const db = await createTestDatabase('postgres');
  cleanups.push(() => db.drop());
  return db;
}

async function proxyTo(db: TestDatabase): Promise<FaultProxy> {
  const url = new URL(db.url);
  const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port || 5432) });
  cleanups.push(() => proxy.close());
  return proxy;
}

const ADMIN_TOKEN = 'db-outage-admin-token-0123456789';

async function studiosQuery(app: App): Promise<HttpResponse & { ms: number }> {
  const started = Date.now();
  const response = await httpRequest(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query: '{ studios { id name } }' }),
  });
  return { ...response, ms: Date.now() - started };
}

/** A database outage answers 503 database_unavailable with Retry-After, within the bound. */
function expectUnavailable(response: HttpResponse & { ms: number }): void {
  expect({ status: response.status, error: response.body?.error }).toEqual({ status: 503, error: 'database_unavailable' });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  expect(response.ms).toBeLessThan(ACK_MS + MARGIN_MS);
}

describePg('POST /webhooks when PostgreSQL misbehaves', () => {
  it("when the service's own backends are terminated under webhook load, then it stays up, answers every webhook 200 or 503, keeps every 200, and recovers", async () => {
    const db = await freshPostgres();
    const { app, key } = await startService(db.url, { HYDRATION_ENABLED: 'true', HYDRATION_POLL_MS: '50' });
    const admin = await direct(db);
    const database = new URL(db.url).pathname.slice(1);

    const answers: { uuid: string; status: number; error?: string }[] = [];
    let sending = true;
    const sender = async () => {
      while (sending) {
        const body = checkin(1 + Math.floor(Math.random() * 50));
        try {
          const response = await postWebhook(app.url, key, body);
          answers.push({ uuid: body.uuid, status: response.status, error: response.body?.error });
        } catch (error) {
          answers.push({ uuid: body.uuid, status: 0, error: String(error) });
        }
      }
    };
    const senders = Array.from({ length: 8 }, sender);
    // Kill every backend of ours in this database, again and again, while webhooks flow.
    let killed = 0;
    for (let round = 0; round < 12; round += 1) {
      await sleep(150);
      const result = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'gymgraph%' AND pid <> pg_backend_pid()`,
        [database],
      );
      killed += result.rowCount ?? 0;
    }
    await sleep(300);
    sending = false;
    await Promise.all(senders);

    expect(killed).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(20);
    // Every answer is a 200 or a 503: no 500 for an outage, no dropped or hanging request.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    const ok = answers.filter((a) => a.status === 200).map((a) => a.uuid);
    const { rows } = await admin.query<{ uuid: string }>(`SELECT DISTINCT "uuid" FROM events WHERE "uuid" = ANY($1)`, [ok]);
    expect(rows.map((r) => r.uuid).sort()).toEqual([...ok].sort());

    // Recovered by itself: webhooks are stored and /readyz is green.
    await eventually(async () => (await timedPost(app, key)).status === 200, 15_000, 'a webhook to be stored again');
    await eventually(async () => (await readyz(app)).status === 200, 15_000, '/readyz to be 200 again');
  });

  it('when the connection is cut, then webhooks get 503 database_unavailable with Retry-After, /readyz 503 names the database, and both recover after it is back', async () => {
    const db = await freshPostgres();
    const proxy = await proxyTo(db);
    const { app, key } = await startService(through(proxy, db.url), { ADMIN_TOKEN });
    expect((await timedPost(app, key)).status).toBe(200);
    expect((await studiosQuery(app)).status).toBe(200);

    proxy.cut();
    for (let i = 0; i < 3; i += 1) expectUnavailable(await timedPost(app, key));
    // GraphQL reads fail fast too (how they are answered is the GraphQL transport's business).
    const read = await studiosQuery(app);
    expect(read.status !== 200 || (Array.isArray(read.body?.errors) && read.body.errors.length > 0)).toBe(true);
    expect(read.ms).toBeLessThan(2000 + MARGIN_MS);
    const ready = await readyz(app);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'unavailable', unavailable: ['database'] });
    expect(ready.ms).toBeLessThan(2000 + MARGIN_MS);

    proxy.restore();
    await eventually(async () => (await readyz(app)).status === 200, 15_000, '/readyz to be 200 again');
    const body = checkin();
    await eventually(async () => (await timedPost(app, key, body)).status === 200, 15_000, 'a webhook to be stored again');
    const admin = await direct(db);
    expect((await admin.query(`SELECT 1 FROM events WHERE "uuid" = $1`, [body.uuid])).rowCount).toBe(1);
  });

  it('when the database freezes (connections open, no answer), then webhooks and /readyz are still answered 503 within their bounds, and recover after it thaws', async () => {
    const db = await freshPostgres();
    const proxy = await proxyTo(db);
    const { app, key } = await startService(through(proxy, db.url));
    expect((await timedPost(app, key)).status).toBe(200);
    expect((await readyz(app)).status).toBe(200);

    proxy.freeze();
    const answers = await Promise.all([timedPost(app, key), timedPost(app, key), timedPost(app, key)]);
    for (const answer of answers) expectUnavailable(answer);
    const ready = await readyz(app);
    expect(ready.status).toBe(503);
    expect(ready.body.unavailable).toEqual(['database']);
    expect(ready.ms).toBeLessThan(2000 + MARGIN_MS);

    proxy.restore();
    await eventually(async () => (await readyz(app)).status === 200, 20_000, '/readyz to be 200 again');
    await eventually(async () => (await timedPost(app, key)).status === 200, 20_000, 'a webhook to be stored again');
  });

  it('when hydration jobs meet an outage, then they wait and complete once the database is back', async () => {
    const db = await freshPostgres();
    const proxy = await proxyTo(db);
    const world = new World({ seed: 5, studios: 1, customersPerStudio: 3, days: 1 });
    // Slow answers: the outage begins while jobs are running, between their claim and their record.
    const standin: Standin = await startStandin({ world, latencyMs: () => 1500 });
    cleanups.push(() => standin.close());
    const upstream = world.studios[0]!;
    const running = await startService(through(proxy, db.url), {
      HYDRATION_ENABLED: 'true',
      HYDRATION_DELAY_MS: '0',
      HYDRATION_POLL_MS: '50',
      HYDRATION_RETRY_BASE_MS: '50',
      HYDRATION_RETRY_MAX_MS: '200',
      HYDRATION_LEASE_MS: '1000',
    });
    const studio = await new StudioService(running.app.dataSource).add({
      name: upstream.name,
      webhookKey: upstream.webhookKey,
      apiKey: upstream.apiKey,
      tenantUrl: standin.baseUrl,
    });
    expect(studio.id).toBeGreaterThan(0);
    const admin = await direct(db);
    const customers = [...world.customers.values()].filter((c) => c.studioId === upstream.id).slice(0, 3);
    // Stored while the database is up; the outage begins before hydration can finish them all.
    for (const customer of customers) {
      const body: WebhookBody = {
        entityId: customer.id,
        uuid: randomUUID(),
        payload: [{ type: 'CUSTOMER_UPDATED', timestamp: Date.now() }],
      };
      expect((await postWebhook(running.app.url, upstream.webhookKey, body)).status).toBe(200);
    }
    await eventually(
      async () => {
        const { rows } = await admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM hydration_jobs WHERE "state" = 'running'`);
        return Number(rows[0]!.n) > 0;
      },
      10_000,
      'a hydration job to be running',
    );
    proxy.cut();
    await sleep(3000);
    proxy.restore();

    await eventually(
      async () => {
        const { rows } = await admin.query<{ n: string }>(
          `SELECT COUNT(*) AS n FROM customers WHERE "tenantId" = (SELECT "tenantId" FROM studios WHERE "id" = $1) AND "hydratedAt" IS NOT NULL`,
          [studio.id],
        );
        return Number(rows[0]!.n) === customers.length;
      },
      30_000,
      'every customer to be hydrated after the outage',
    );
    const { rows } = await admin.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM hydration_jobs WHERE "state" IN ('queued', 'running', 'retrying')`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('when a scheduled reconciliation round meets an outage, then it ends with one log line and the next round succeeds', async () => {
    const db = await freshPostgres();
    const proxy = await proxyTo(db);
    const world = new World({ seed: 7, studios: 1, customersPerStudio: 2, days: 1 });
    const standin: Standin = await startStandin({ world });
    cleanups.push(() => standin.close());
    const upstream = world.studios[0]!;
    const { app, lines } = await startService(through(proxy, db.url), { RECONCILE_EVERY: '6h' }, 'info');
    await new StudioService(app.dataSource).add({
      name: upstream.name,
      webhookKey: upstream.webhookKey,
      apiKey: upstream.apiKey,
      tenantUrl: standin.baseUrl,
    });

    proxy.cut();
    await app.reconciliation!.runOnce();
    await app.reconciliation!.runOnce();
    const failed = lines.filter((l) => String(l.msg).includes('the database is unavailable; the next round tries again'));
    expect(failed).toHaveLength(1); // the second round's failure is counted, not written again

    proxy.restore();
    await eventually(async () => (await readyz(app)).status === 200, 15_000, '/readyz to be 200 again');
    await app.reconciliation!.runOnce();
    expect(lines.filter((l) => l.msg === 'reconciliation of a studio finished')).toHaveLength(1);
  });

  it('when the database is away for 5 s under traffic, then the outage is logged in a bounded number of lines', async () => {
    const db = await freshPostgres();
    const proxy = await proxyTo(db);
    const running = await startService(through(proxy, db.url), { HYDRATION_ENABLED: 'true', HYDRATION_POLL_MS: '20' });
    const { app, key, lines } = running;
    expect((await timedPost(app, key)).status).toBe(200);
    const before = lines.length;

    proxy.cut();
    const until = Date.now() + 5000;
    let webhooks = 0;
    while (Date.now() < until) {
      await Promise.all([timedPost(app, key).then((r) => expect(r.status).toBe(503)), readyz(app)]);
      webhooks += 1;
      await sleep(100);
    }
    proxy.restore();
    await eventually(async () => (await readyz(app)).status === 200, 15_000, '/readyz to be 200 again');

    // The ingestor's own per-delivery lines ('could not store delivery', 'batch failed…') belong to
    // the ingest path's batch handling and are not counted here.
    const ours = lines.slice(before).filter((l) => !/could not store delivery|batch failed/.test(String(l.msg)));
    expect(webhooks).toBeGreaterThan(5);
    expect(ours.length).toBeLessThanOrEqual(12);
    const webhookLines = ours.filter((l) => l.msg === 'webhook refused' && l.error === 'database_unavailable');
    expect(webhookLines.length).toBeGreaterThanOrEqual(1);
    expect(webhookLines.length).toBeLessThanOrEqual(2);
  });
});

describe('POST /webhooks on SQLite when another connection holds the write lock', () => {
  it('when a command-line tool holds the lock, then the webhook is answered 503 within the bound without stalling the process, and stored once it is free', async () => {
    const db = await createTestDatabase('sqlite');
    cleanups.push(() => db.drop());
    const { app, key } = await startService(db.url);
    expect((await timedPost(app, key)).status).toBe(200);

    const other = new Database(db.config.kind === 'sqlite' ? db.config.file : '');
    cleanups.push(async () => other.close());
    other.prepare('BEGIN IMMEDIATE').run();
    const pending = timedPost(app, key);
    // Meanwhile the event loop is free: other requests are answered at once.
    await sleep(200);
    const started = Date.now();
    const health = await httpRequest(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const answer = await pending;
    expectUnavailable(answer);
    expect(answer.ms).toBeGreaterThanOrEqual(1500); // it did wait for the lock (DATABASE_LOCK_TIMEOUT_MS, 2000)

    other.prepare('ROLLBACK').run();
    const body = checkin();
    expect((await timedPost(app, key, body)).status).toBe(200);
    const rows = await app.dataSource.query(`SELECT COUNT(*) AS n FROM events WHERE "uuid" = ?`, [body.uuid]);
    expect(Number(rows[0].n)).toBe(1);
  });
});

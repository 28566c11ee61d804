import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { masked } from '../src/log.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'admin-token-secret-0123456789abcdef';

/** Everything the service logs, as parsed lines and as the raw text (for grepping secrets). */
interface Captured {
  readonly logger: pino.Logger;
  readonly lines: Record<string, any>[];
  text(): string;
}

/** A pino logger writing to memory; `info` is LOG_LEVEL's default. */
function capture(level: pino.Level = 'info'): Captured {
  const lines: Record<string, any>[] = [];
  let raw = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      raw += text;
      for (const line of text.split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, any>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines, text: () => raw };
}

const LEVEL = { debug: 20, info: 30, warn: 40 } as const;

const servers: TestServer[] = [];
const standins: Standin[] = [];
/** Databases a test made itself (startTestServer then leaves them). */
const databases: TestDatabase[] = [];
afterEach(async () => {
  await disposeClients();
  for (const server of servers.splice(0)) await server.stop().catch(() => undefined);
  for (const standin of standins.splice(0)) await standin.close();
  for (const database of databases.splice(0)) await database.drop().catch(() => undefined);
});

async function serve(kind: DatabaseKind, log: Captured, env: Record<string, string> = {}, database?: TestDatabase): Promise<TestServer> {
  if (database) databases.push(database);
  const server = await startTestServer(
    kind,
    { ADMIN_TOKEN, HYDRATION_ENABLED: 'false', ...env },
    { logger: log.logger, ...(database ? { database } : {}) },
  );
  servers.push(server);
  return server;
}

async function gql(server: TestServer, body: Record<string, unknown>, token = ADMIN_TOKEN, url = '/graphql'): Promise<Response> {
  return fetch(`${server.app.url}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': `req-${randomUUID()}` },
    body: JSON.stringify(body),
  });
}

const checkin = () => delivery(42, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() });

describe.each(databaseKinds())('logs at LOG_LEVEL=info (%s)', (kind) => {
  describe('POST /webhooks', () => {
    it('when a delivery is stored, then one info request line names the route, status, duration, request id and studio', async () => {
      const log = capture();
      const server = await serve(kind, log);
      const studio = await server.addStudio();
      const requestId = `req-${randomUUID()}`;
      expect((await server.post(studio.webhookKey, checkin(), { 'x-request-id': requestId })).status).toBe(200);

      await until(() => log.lines.some((l) => l.msg === 'request' && l.requestId === requestId), 2000, 'the request line');
      const line = log.lines.find((l) => l.msg === 'request' && l.requestId === requestId)!;
      expect(line).toMatchObject({ level: LEVEL.info, method: 'POST', route: '/webhooks', status: 200, studioId: studio.id });
      expect(typeof line.ms).toBe('number');
      expect(line.ms).toBeGreaterThanOrEqual(0);
      expect(log.lines.filter((l) => l.requestId === requestId)).toHaveLength(1);
    });

    it('when the key is missing, unknown or its studio disabled, then a warn line "webhook refused" says unauthorized and why, never the key', async () => {
      const log = capture();
      const server = await serve(kind, log);
      const studio = await server.addStudio();
      const unknownKey = `unknown-key-${randomUUID()}`;
      expect((await server.post(undefined, checkin())).status).toBe(401);
      expect((await server.post(unknownKey, checkin())).status).toBe(401);
      await new StudioService(server.app.dataSource).setStatus(studio.id, 'disabled');
      expect((await server.post(studio.webhookKey, checkin())).status).toBe(401);

      await until(() => log.lines.filter((l) => l.msg === 'webhook refused').length === 3, 2000, 'three refusals');
      const refused = log.lines.filter((l) => l.msg === 'webhook refused');
      expect(refused.map((l) => [l.level, l.error, l.reason, l.status, l.route])).toEqual([
        [LEVEL.warn, 'unauthorized', 'missing_key', 401, '/webhooks'],
        [LEVEL.warn, 'unauthorized', 'unknown_key', 401, '/webhooks'],
        [LEVEL.warn, 'unauthorized', 'studio_disabled', 401, '/webhooks'],
      ]);
      for (const line of refused) expect(typeof line.requestId).toBe('string');
      expect(refused[2]!.studioId).toBe(studio.id);
      expect(log.text()).not.toContain(unknownKey);
      expect(log.text()).not.toContain(studio.webhookKey);
    });

    it("when the payload is invalid, then the warn line names the first problem's field; other refusals name their code", async () => {
      const log = capture();
      const server = await serve(kind, log, { WEBHOOK_MAX_BODY_BYTES: '1024' });
      const studio = await server.addStudio();
      const bad = delivery(42, { type: 'CUSTOMER_CHECKIN', timestamp: -5 });
      expect((await server.post(studio.webhookKey, bad)).status).toBe(400);
      expect((await server.post(studio.webhookKey, '{not json')).status).toBe(400);
      expect((await server.post(studio.webhookKey, checkin(), { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await server.post(studio.webhookKey, { ...checkin(), padding: 'x'.repeat(2048) })).status).toBe(413);

      await until(() => log.lines.filter((l) => l.msg === 'webhook refused').length === 4, 2000, 'four refusals');
      const refused = log.lines.filter((l) => l.msg === 'webhook refused');
      expect(refused.map((l) => [l.error, l.status])).toEqual([
        ['invalid_payload', 400],
        ['invalid_json', 400],
        ['unsupported_media_type', 415],
        ['payload_too_large', 413],
      ]);
      expect(refused[0]).toMatchObject({ level: LEVEL.warn, reason: 'payload[0].timestamp', studioId: studio.id });
      // Never the body.
      expect(log.text()).not.toContain('{not json');
    });

    it('when a flood of refused deliveries arrives, then they leave one line per reason, not one per delivery', async () => {
      const log = capture();
      const server = await serve(kind, log);
      const studio = await server.addStudio();
      for (let i = 0; i < 30; i++) await server.post(`unknown-${i}`, checkin());
      for (let i = 0; i < 30; i++) await server.post(studio.webhookKey, delivery(42, { type: 'CUSTOMER_CHECKIN', timestamp: -i }));
      await server.post(studio.webhookKey, checkin());
      await until(() => log.lines.some((l) => l.msg === 'request' && l.status === 200), 2000, 'the stored delivery');
      const refused = log.lines.filter((l) => l.msg === 'webhook refused');
      expect(refused.map((l) => l.error)).toEqual(['unauthorized', 'invalid_payload']);
      // Refusals leave no info request line of their own (at debug they do).
      expect(log.lines.filter((l) => l.msg === 'request')).toHaveLength(1);
    });
  });

  describe('POST /graphql', () => {
    it('when a query runs, then its request line names the operation and the token id, never variables or the token', async () => {
      const log = capture();
      const server = await serve(kind, log);
      const { token, record } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: 'all', name: 'logs' });
      const secretVariable = `variable-${randomUUID()}`;
      const response = await gql(
        server,
        {
          query: 'query StudiosForLogs($filter: EventFilter) { events(first: 1, filter: $filter) { totalCount } }',
          variables: { filter: { types: [secretVariable] } },
        },
        token,
        '/graphql?trace=1',
      );
      expect(response.status).toBe(200);

      await until(() => log.lines.some((l) => l.msg === 'request' && l.route === '/graphql'), 2000, 'the request line');
      const line = log.lines.find((l) => l.msg === 'request' && l.route === '/graphql')!;
      expect(line).toMatchObject({
        level: LEVEL.info,
        method: 'POST',
        route: '/graphql',
        status: 200,
        operationType: 'query',
        operationName: 'StudiosForLogs',
        tokenId: record.id,
      });
      expect(line.requestId).toMatch(/^req-/);
      expect(log.text()).not.toContain(secretVariable);
      expect(log.text()).not.toContain(token);
      expect(log.text()).not.toContain('trace=1');
    });

    it('when the token is unknown, then the 401 is logged at info once per interval, not per request', async () => {
      const log = capture();
      const server = await serve(kind, log);
      for (let i = 0; i < 10; i++) expect((await gql(server, { query: '{ studios { id } }' }, `ggt_wrong${i}`)).status).toBe(401);
      await until(() => log.lines.some((l) => l.msg === 'request' && l.status === 401), 2000, 'the 401 line');
      expect(log.lines.filter((l) => l.msg === 'request' && l.status === 401)).toHaveLength(1);
      expect(log.text()).not.toContain('ggt_wrong');
    });
  });

  describe('GET /healthz and /readyz', () => {
    it('when they succeed, then they leave no line at info (they are polled every few seconds); at debug they do', async () => {
      const log = capture();
      const server = await serve(kind, log);
      for (const route of ['/healthz', '/readyz']) expect((await fetch(`${server.app.url}${route}`)).status).toBe(200);
      await fetch(`${server.app.url}/nowhere?secret=1`);
      await until(() => log.lines.some((l) => l.status === 404), 2000, 'the 404 line');
      expect(log.lines.filter((l) => l.msg === 'request').map((l) => [l.route, l.path, l.status])).toEqual([
        ['(unmatched)', '/nowhere', 404],
      ]);

      const debug = capture('debug');
      const verbose = await serve(kind, debug);
      await fetch(`${verbose.app.url}/healthz`);
      await until(() => debug.lines.some((l) => l.msg === 'request' && l.route === '/healthz'), 2000, 'the debug line');
    });
  });

  describe('start-up', () => {
    it('when the service starts, then one line gives the version, the Node version and every setting, secrets masked', async () => {
      const log = capture();
      const database = await createTestDatabase(kind);
      // PostgreSQL here trusts loopback: a password in the URL is sent and ignored.
      const withPassword = database.url.startsWith('postgres')
        ? Object.assign(new URL(database.url), { password: 'db-password-secret' }).toString()
        : database.url;
      const server = await serve(kind, log, { DATABASE_URL: withPassword }, database);
      expect(server.app.url).toMatch(/^http/);

      const line = log.lines.find((l) => l.msg === 'starting gymgraph')!;
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
      expect(line).toMatchObject({ level: LEVEL.info, version: pkg.version, node: process.version });
      expect(line.config.adminToken).toBe('[set]');
      expect(Object.keys(line.config).sort()).toEqual(Object.keys(server.app.config).sort());
      expect(line.config.realtime.maxSocketsPerToken).toBe(server.app.config.realtime.maxSocketsPerToken);
      expect(line.config.http).toEqual(server.app.config.http);
      if (kind === 'postgres') expect(line.config.database.url).toContain(':***@');
      expect(log.text()).not.toContain('db-password-secret');
      expect(log.text()).not.toContain(ADMIN_TOKEN);
    });
  });

  describe('WebSocket connections', () => {
    it('when a client connects and leaves, then one line on open with its token id and one on close with code, duration and subscriptions', async () => {
      const log = capture();
      const server = await serve(kind, log);
      const { token, record } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: 'all' });
      const studio = await server.addStudio();
      const client = connect(server.app.url, token);
      await client.connected;
      const events = subscribe(client, 'subscription { events(after: "0") { seq } }');
      expect((await server.post(studio.webhookKey, checkin())).status).toBe(200);
      await events.take(1);
      await client.dispose();

      await until(() => log.lines.some((l) => l.msg === 'websocket closed'), 3000, 'the close line');
      const opened = log.lines.find((l) => l.msg === 'websocket opened')!;
      const closed = log.lines.find((l) => l.msg === 'websocket closed')!;
      expect(opened).toMatchObject({ level: LEVEL.info, tokenId: record.id });
      expect(closed).toMatchObject({ level: LEVEL.info, tokenId: record.id, connectionId: opened.connectionId, subscriptions: 1 });
      expect(typeof closed.code).toBe('number');
      expect(closed.durationMs).toBeGreaterThanOrEqual(0);
      expect(log.text()).not.toContain(token);
    });
  });
});

describe.each(databaseKinds())('hydration and reconciliation logs (%s)', (kind) => {
  it('when jobs run, then info has a progress summary (claimed, completed) and no line per job; debug has one per job', async () => {
    const world = new World({ seed: 5, studios: 1, customersPerStudio: 3, days: 1 });
    const standin = await startStandin({ world });
    standins.push(standin);
    const log = capture('debug');
    const server = await serve(kind, log, { HYDRATION_ENABLED: 'true', HYDRATION_DELAY_MS: '0', HYDRATION_POLL_MS: '20' });
    const upstream = world.studios[0]!;
    await server.addStudio({ name: upstream.name, webhookKey: upstream.webhookKey, apiKey: upstream.apiKey, tenantUrl: standin.baseUrl });
    for (const d of world.deliveries.slice(0, 10)) expect((await server.post(d.webhookKey, d.body)).status).toBe(200);
    // The scanner has read every event, and every job is done.
    await until(
      async () => {
        const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
        const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
        const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" <> 'done'`);
        return cursor !== undefined && Number(cursor.seq) >= Number(events.max ?? 0) && Number(open.n) === 0;
      },
      20_000,
      'hydration to finish',
    );
    const [jobs] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs`);
    await server.stop();
    servers.splice(servers.indexOf(server), 1);

    const progress = log.lines.filter((l) => l.msg === 'hydration: progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const line of progress) expect(line.level).toBe(LEVEL.info);
    const sum = (field: string) => progress.reduce((total, line) => total + Number(line[field]), 0);
    expect(sum('completed')).toBeGreaterThanOrEqual(Number(jobs.n));
    expect(sum('claimed')).toBeGreaterThanOrEqual(sum('completed'));
    expect(sum('parked')).toBe(0);
    const perJob = log.lines.filter((l) => l.msg === 'hydration: job finished');
    expect(perJob.length).toBe(sum('completed'));
    for (const line of perJob) expect(line.level).toBe(LEVEL.debug);
    expect(log.text()).not.toContain(upstream.apiKey);
  });

  it('when a reconciliation round runs, then each studio has a start and a finish line with its counts', async () => {
    const world = new World({ seed: 6, studios: 1, customersPerStudio: 2, days: 1 });
    const standin = await startStandin({ world });
    standins.push(standin);
    const log = capture();
    const server = await serve(kind, log, { RECONCILE_EVERY: '6h' });
    const upstream = world.studios[0]!;
    const studio = await server.addStudio({
      name: upstream.name,
      webhookKey: upstream.webhookKey,
      apiKey: upstream.apiKey,
      tenantUrl: standin.baseUrl,
    });
    await server.app.reconciliation!.runOnce();

    const lines = log.lines.filter((l) => String(l.msg).startsWith('reconciliation'));
    expect(lines.map((l) => l.msg)).toEqual([
      'reconciliation scheduled',
      'reconciliation round started',
      'reconciliation of a studio started',
      'reconciliation of a studio finished',
      'reconciliation round finished',
    ]);
    expect(lines[2]).toMatchObject({ level: LEVEL.info, studioId: studio.id });
    for (const field of ['seen', 'present', 'repaired', 'skipped']) expect(typeof lines[3]![field]).toBe('number');
    expect(log.text()).not.toContain(upstream.apiKey);
  });
});

describe('secrets in the log', () => {
  it('when a whole scenario runs at debug (webhooks with a key, GraphQL with a token over HTTP and WebSocket, a password in DATABASE_URL, ADMIN_TOKEN), then no secret appears in any line', async () => {
    const kind: DatabaseKind = databaseKinds().includes('postgres') ? 'postgres' : 'sqlite';
    const world = new World({ seed: 7, studios: 1, customersPerStudio: 2, days: 1 });
    const standin = await startStandin({ world });
    standins.push(standin);
    const log = capture('debug');
    const database = await createTestDatabase(kind);
    const password = `pw-${randomUUID()}`;
    const url = kind === 'postgres' ? Object.assign(new URL(database.url), { password }).toString() : database.url;
    const server = await serve(
      kind,
      log,
      { DATABASE_URL: url, HYDRATION_ENABLED: 'true', HYDRATION_DELAY_MS: '0', HYDRATION_POLL_MS: '20' },
      database,
    );
    const upstream = world.studios[0]!;
    await server.addStudio({ name: upstream.name, webhookKey: upstream.webhookKey, apiKey: upstream.apiKey, tenantUrl: standin.baseUrl });
    const { token } = await new TokenService(server.app.dataSource).create({ role: 'partner', studios: 'all' });
    const wrongKey = `wrong-key-${randomUUID()}`;
    const wrongToken = `ggt_${randomUUID()}`;

    for (const d of world.deliveries.slice(0, 5)) expect((await server.post(d.webhookKey, d.body)).status).toBe(200);
    expect((await server.post(wrongKey, checkin())).status).toBe(401);
    expect((await gql(server, { query: '{ studios { id } }' }, token)).status).toBe(200);
    expect((await gql(server, { query: '{ studios { id } }' })).status).toBe(200);
    expect((await gql(server, { query: '{ studios { id } }' }, wrongToken)).status).toBe(401);
    const client = connect(server.app.url, token);
    await client.connected;
    await client.dispose();
    const refused = connect(server.app.url, wrongToken);
    await refused.closed;
    await until(() => log.lines.some((l) => l.msg === 'hydration: job finished'), 20_000, 'a hydrated job');
    await server.stop();
    servers.splice(servers.indexOf(server), 1);

    const text = log.text();
    expect(log.lines.length).toBeGreaterThan(20);
    for (const secret of [
      ADMIN_TOKEN,
      token,
      upstream.webhookKey,
      upstream.apiKey,
      wrongKey,
      wrongToken,
      ...(kind === 'postgres' ? [password] : []),
    ]) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
    }
  });
});

describe("masked (the start-up line's configuration)", () => {
  it('when settings hold secrets, then tokens say only that they are set, URL passwords are ***, limits named per token stay, unset is null', () => {
    expect(
      masked({
        adminToken: 'admin-secret-token',
        metricsToken: undefined,
        realtime: { maxSocketsPerToken: 500, tokenRecheckMs: 5000 },
        database: { kind: 'postgres', url: 'postgres://app:db-secret@db.internal:5432/gym?sslmode=require&password=other-secret' },
        redisUrl: 'rediss://:redis-secret@cache:6380/0',
        host: '0.0.0.0',
        plain: 'sqlite:data/x.sqlite',
      }),
    ).toEqual({
      adminToken: '[set]',
      metricsToken: null,
      realtime: { maxSocketsPerToken: 500, tokenRecheckMs: 5000 },
      database: { kind: 'postgres', url: 'postgres://app:***@db.internal:5432/gym?sslmode=require&password=***' },
      redisUrl: 'rediss://:***@cache:6380/0',
      host: '0.0.0.0',
      plain: 'sqlite:data/x.sqlite',
    });
  });
});

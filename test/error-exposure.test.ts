import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { start, type App } from '../src/main.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from './support/databases.js';
import { delivery } from './support/server.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const WEBHOOK_KEY = 'exposure-webhook-key-0123456789';

/** What must never reach a client outside development: stack frames, paths, driver text, the database's address. */
const INTERNALS =
  /stacktrace|\bat [\w.<]+ \(|\/work\/|node_modules|\.[jt]s:\d+|no such table|does not exist|relation "|SQLITE_|QueryFailedError|127\.0\.0\.1|:5432|visits_moved_away|SELECT /i;

interface Running {
  readonly app: App;
  readonly db: TestDatabase;
  sql(query: string): Promise<unknown>;
  graphql(body: unknown, token?: string | null): Promise<{ status: number; text: string; body: any }>;
  webhook(body: unknown): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

/** The real service with `NODE_ENV` as given — absent meaning the default a deployment gets. */
async function run(kind: DatabaseKind, nodeEnv: string | undefined): Promise<Running> {
  const db = await createTestDatabase(kind);
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ADMIN_TOKEN,
    ...(nodeEnv ? { NODE_ENV: nodeEnv } : {}),
  };
  const app = await start(loadConfig(env), createLogger('silent'));
  await new StudioService(app.dataSource).add({ name: 'Exposure', webhookKey: WEBHOOK_KEY });
  return {
    app,
    db,
    sql: (query) => app.dataSource.query(query),
    async graphql(body, token = ADMIN_TOKEN) {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, text, body: JSON.parse(text) };
    },
    async webhook(body) {
      const response = await fetch(`${app.url}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': WEBHOOK_KEY },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    },
    async stop() {
      await app.stop();
      await db.drop();
    },
  };
}

/** Runs `work` while the visits table is away: every read of visits fails inside the database. */
async function withoutVisits<T>(running: Running, work: () => Promise<T>): Promise<T> {
  await running.sql('ALTER TABLE visits RENAME TO visits_moved_away');
  try {
    return await work();
  } finally {
    await running.sql('ALTER TABLE visits_moved_away RENAME TO visits');
  }
}

const VISITS_QUERY = '{ customers { nodes { customerId visits { id } } } }';

describe.each(databaseKinds())('what a client learns of our internals (%s)', (kind) => {
  afterEach(() => disposeClients());

  describe('with NODE_ENV unset (the default is production)', () => {
    let running: Running;
    beforeAll(async () => {
      running = await run(kind, undefined);
      expect(running.app.config.nodeEnv).toBe('production');
      expect((await running.webhook(delivery(7, { type: 'CUSTOMER_CHECKIN', timestamp: T0 }))).status).toBe(200);
    });
    afterAll(() => running?.stop());

    it('when an anonymous caller asks, then 401 UNAUTHENTICATED with no stack trace or path', async () => {
      for (const token of [null, 'ggt_unknown']) {
        const answer = await running.graphql({ query: '{ studios { id } }' }, token);
        expect(answer.status).toBe(401);
        expect(answer.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
        expect(answer.text).not.toMatch(INTERNALS);
      }
    });

    it('when the database fails under a query over HTTP, then "Internal server error" and nothing of the driver, the SQL, the host or our files', async () => {
      const answer = await withoutVisits(running, () => running.graphql({ query: VISITS_QUERY }));
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      for (const error of answer.body.errors)
        expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(answer.text).not.toMatch(INTERNALS);
    });

    it('when the database fails under an operation over WebSocket, then the same masked error', async () => {
      const client = connect(running.app.url, ADMIN_TOKEN);
      await client.connected;
      const results = await withoutVisits(running, async () => {
        const operation = subscribe(client, VISITS_QUERY);
        await operation.done.catch(() => undefined);
        return { results: operation.results, error: operation.error() };
      });
      const errors = [...results.results.flatMap((r) => r.errors ?? []), ...(Array.isArray(results.error) ? results.error : [])];
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors)
        expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(results)).not.toMatch(INTERNALS);
    });

    it('when storing a webhook fails inside, then a 5xx whose body says nothing of the database', async () => {
      await running.sql('ALTER TABLE visits RENAME TO visits_moved_away');
      let answer: { status: number; text: string };
      try {
        answer = await running.webhook(delivery(8, { type: 'CUSTOMER_CHECKIN', timestamp: T0 + 1000 }));
      } finally {
        await running.sql('ALTER TABLE visits_moved_away RENAME TO visits');
      }
      expect(answer.status).toBeGreaterThanOrEqual(500);
      expect(answer.text).not.toMatch(INTERNALS);
    });
  });

  describe('with NODE_ENV=development set explicitly', () => {
    let running: Running;
    beforeAll(async () => {
      running = await run(kind, 'development');
      expect((await running.webhook(delivery(7, { type: 'CUSTOMER_CHECKIN', timestamp: T0 }))).status).toBe(200);
    });
    afterAll(() => running?.stop());

    it('when the database fails under a query, then the developer sees the driver message and the stack trace', async () => {
      const answer = await withoutVisits(running, () => running.graphql({ query: VISITS_QUERY }));
      const [error] = answer.body.errors;
      // Under Jest a better-sqlite3 error is not an `Error` of the test's realm: graphql-js then shows its code only.
      expect(error.message).toMatch(/visits|no such table|does not exist|SQLITE_ERROR/i);
      expect(error.extensions.stacktrace).toEqual(expect.arrayContaining([expect.stringMatching(/\bat /)]));
    });

    it('when the database fails under an operation over WebSocket, then the developer sees the driver message', async () => {
      const client = connect(running.app.url, ADMIN_TOKEN);
      await client.connected;
      const errors = await withoutVisits(running, async () => {
        const operation = subscribe(client, VISITS_QUERY);
        await operation.done.catch(() => undefined);
        return [
          ...operation.results.flatMap((r) => r.errors ?? []),
          ...(Array.isArray(operation.error()) ? (operation.error() as { message: string }[]) : []),
        ];
      });
      expect(errors.map((e) => e.message).join('\n')).toMatch(/visits|no such table|does not exist|SQLITE_ERROR/i);
    });
  });
});

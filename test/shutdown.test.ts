import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createDataSource } from '../ormconfig.js';
import type { DatabaseConfig } from '../src/config.js';
import {
  errorCode,
  httpRequest,
  killChildren,
  postWebhook,
  runStudioCli,
  sendConcurrently,
  startService,
  withTimeout,
  type SendResult,
  type WebhookBody,
} from './support/child.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const T0 = 1_764_000_000_000;
const WEBHOOK_KEY = `whk_shutdown_${randomUUID().replace(/-/g, '')}`;
/** Socket errors that mean "the connection was refused or closed", as opposed to an answer. */
const CONNECTION_ERRORS = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'];

const customerCreated = (i: number): WebhookBody => ({
  uuid: randomUUID(),
  entityId: 10_000 + i,
  payload: [{ type: 'CUSTOMER_CREATED', timestamp: T0 + i }],
});

/** `uuid|position` of every event in the log, read with a DataSource of its own (the service is gone). */
async function loggedEvents(database: DatabaseConfig): Promise<string[]> {
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  try {
    const rows: { uuid: string; position: number }[] = await dataSource.query('SELECT "uuid", "position" FROM events');
    return rows.map((r) => `${r.uuid}|${Number(r.position)}`);
  } finally {
    await dataSource.destroy();
  }
}

describe.each(databaseKinds())('SIGTERM to the service process (%s)', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const added = await runStudioCli(db.url, ['add', '--name', 'Shutdown Gym', '--webhook-key', WEBHOOK_KEY]);
    expect(added.code).toBe(0);
  });
  afterEach(() => killChildren());
  afterAll(() => db?.drop());

  it('when SIGTERM arrives while deliveries are in flight, then each answered one got 200 (and is stored) or 503, none is dropped after being handled, and it exits 0', async () => {
    const service = await startService(db.url);
    const health = await httpRequest(`${service.url}/healthz`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });

    let acknowledged = 0;
    let inFlightAtSigterm: Set<string> | undefined;
    const pending = new Set<string>();
    const deliveries = Array.from({ length: 3000 }, (_, i) => customerCreated(i));
    const onResult = (result: SendResult) => {
      pending.delete(result.delivery.uuid);
      if ('status' in result && result.status === 200 && ++acknowledged === 150) {
        inFlightAtSigterm = new Set(pending);
        service.process.kill('SIGTERM');
      }
    };
    const onSend = (delivery: WebhookBody) => pending.add(delivery.uuid);
    const results = await withTimeout(
      sendConcurrently(service.url, WEBHOOK_KEY, deliveries, 16, { onSend, onResult }),
      20_000,
      'the delivery stream',
    );
    const exit = await withTimeout(service.exited, 15_000, 'the service to exit after SIGTERM');

    expect(inFlightAtSigterm).toBeDefined();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(service.stdout()).not.toContain('shutdown timeout');
    expect(service.stderr()).toBe('');

    const answered = results.filter((r): r is Extract<SendResult, { status: number }> => 'status' in r);
    const failed = results.filter((r): r is Extract<SendResult, { error: string }> => 'error' in r);
    expect([...new Set(answered.map((r) => r.status))].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const refused of answered.filter((r) => r.status === 503)) expect(refused.body.error).toBe('shutting_down');
    expect([...new Set(failed.map((r) => r.error))].filter((code) => !CONNECTION_ERRORS.includes(code))).toEqual([]);

    const logged = new Set(await loggedEvents(db.config));
    const ok = answered.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(150);
    expect(ok.filter((r) => !logged.has(`${r.delivery.uuid}|0`)).map((r) => r.delivery.uuid)).toEqual([]);
    // A connection that failed belonged to a request the service never took on: had it handled
    // the delivery it would have stored it and answered, so nothing of a failed one is stored.
    expect(failed.filter((r) => logged.has(`${r.delivery.uuid}|0`)).map((r) => r.delivery.uuid)).toEqual([]);
    // Those the service was handling when the signal came were finished, not cut off. (One sent a
    // moment before the signal may not have been read yet: such a one may fail, unstored, as above.)
    const finishedInFlight = answered.filter((r) => inFlightAtSigterm!.has(r.delivery.uuid) && r.status === 200);
    expect(finishedInFlight.length).toBeGreaterThanOrEqual(inFlightAtSigterm!.size / 2);
  }, 45_000);
});

describe.each(databaseKinds())('GET /healthz, GET /readyz and request ids, in-process (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server.stop());

  it('when GET /healthz, then 200 {status: "ok"}', async () => {
    const response = await httpRequest(`${server.app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('when GET /readyz with the database up, then 200 {status: "ready"}', async () => {
    const response = await httpRequest(`${server.app.url}/readyz`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready' });
  });

  it('when a request carries X-Request-Id, then the response echoes it; without one, then a fresh id is generated', async () => {
    const echoed = await httpRequest(`${server.app.url}/healthz`, { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(echoed.headers['x-request-id']).toBe('trace-abc-123');
    const webhook = await postWebhook(server.app.url, 'no-such-key-anywhere-0000', customerCreated(1));
    expect(webhook.status).toBe(401);
    expect(webhook.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const other = await httpRequest(`${server.app.url}/healthz`);
    expect(other.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(other.headers['x-request-id']).not.toBe(webhook.headers['x-request-id']);
  });
});

describe.each(databaseKinds())('app.stop(), in-process (%s)', (kind) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer(kind);
  });
  afterEach(() => server.stop());

  it('when stop() is called, then it resolves, and a webhook posted after stop began gets 503 or a connection error, never a 500', async () => {
    const studio = await server.addStudio();
    const stopped = server.app.stop();
    const outcome = await postWebhook(server.app.url, studio.webhookKey, customerCreated(2)).then(
      (response) => response.status,
      (error: unknown) => errorCode(error),
    );
    expect([503, ...CONNECTION_ERRORS]).toContain(outcome);
    await expect(withTimeout(stopped, 10_000, 'app.stop()')).resolves.toBeUndefined();
    await expect(server.app.stop()).resolves.toBeUndefined(); // idempotent
  });

  it('when stop() begins while a delivery body is still arriving, then that delivery is answered 200 and stored before stop resolves', async () => {
    const studio = await server.addStudio();
    const body = customerCreated(3);
    const text = JSON.stringify(body);
    const handling = new Promise<void>((resolve) => server.app.server.once('request', () => setImmediate(resolve)));
    const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = http.request(
        `${server.app.url}/webhooks`,
        {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(text)),
            'x-api-key': studio.webhookKey,
          },
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
        },
      );
      req.on('error', reject);
      req.write(text.slice(0, 10));
      void handling.then(() => {
        stopping = server.app.stop();
        setTimeout(() => req.end(text.slice(10)), 50);
      });
    });
    let stopping: Promise<void> | undefined;

    const answer = await withTimeout(response, 10_000, 'the answer to the delivery in flight');
    expect(answer).toEqual({ status: 200, body: { status: 'ok', uuid: body.uuid, stored: 1, duplicates: 0 } });
    await withTimeout(stopping!, 10_000, 'app.stop()');
    expect(await loggedEvents(server.db.config)).toContain(`${body.uuid}|0`);
  });

  it('when a delivery on a keep-alive connection is answered after stop began, then the answer says Connection: close, so the sender does not reuse a socket about to be cut', async () => {
    const studio = await server.addStudio();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await postWebhook(server.app.url, studio.webhookKey, customerCreated(4), agent)).headers.connection).toBe('keep-alive');
      const handling = new Promise<void>((resolve) => server.app.server.once('request', () => setImmediate(resolve)));
      const inFlight = postWebhook(server.app.url, studio.webhookKey, customerCreated(5), agent);
      await handling;
      const stopping = server.app.stop();
      const answer = await withTimeout(inFlight, 10_000, 'the answer to the delivery in flight');
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe('close');
      await withTimeout(stopping, 10_000, 'app.stop()');
    } finally {
      agent.destroy();
    }
  });
});

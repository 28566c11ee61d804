import fs from 'node:fs';
import pg from 'pg';
import type { Worker } from 'node:worker_threads';
import { ReadTimeoutError } from '../src/db/read-timeout.js';
import { ApiToken } from '../src/domains/access/api-token.entity.js';
import { Customer } from '../src/domains/customers/customer.entity.js';
import { ScanGate } from '../src/db/scan-gate.js';
import { SqlReader } from '../src/db/sql-reader.js';
import { DatabaseUnavailableError } from '../src/db/unavailable.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * A read that keeps the database busy: SQLite counts about a million rows a second here (less on
 * a loaded machine); PostgreSQL sleeps.
 */
const slowRead = (kind: 'sqlite' | 'postgres', seconds: number) =>
  kind === 'postgres'
    ? `SELECT pg_sleep(${seconds}) AS "slept"`
    : `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${seconds * 1_000_000}) SELECT COUNT(*) AS "n" FROM c`;

async function graphql(
  server: TestServer,
  query: string,
): Promise<{ data?: any; errors?: { message: string; extensions: { code: string } }[] }> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions: { code: string } }[] };
}

/** Posts a check-in and returns how long the acknowledgement took, in ms. */
async function timedWebhook(server: TestServer, key: string, customerId: number): Promise<number> {
  const started = performance.now();
  const response = await server.post(key, delivery(customerId, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() }));
  expect(response.status).toBe(200);
  return performance.now() - started;
}

/** The worker threads of a reader's pool (a look inside, to inject crashes and check shutdown). */
const workersOf = (reader: SqlReader): Worker[] => {
  const pool = (reader as unknown as { pool?: { slots: Set<{ worker: Worker }> } }).pool;
  return pool ? [...pool.slots].map((slot) => slot.worker) : [];
};

/** Generous bound for a webhook acknowledgement (3 ms when quiet): the test machine is shared and loaded. */
const ACK_BOUND_MS = 1000;

describe('SQLite reads on worker threads', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('when a slow read runs, then webhooks are still acknowledged quickly', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: '0' });
    const studio = await server.addStudio();
    const reader = SqlReader.of(server.app.dataSource);
    let finished = false;
    const read = reader.all<{ n: number }>(slowRead('sqlite', 3)).finally(() => (finished = true));
    // The read is on a worker by now (dispatch is synchronous); acknowledge webhooks meanwhile.
    const acks: number[] = [];
    for (let i = 0; i < 5; i += 1) acks.push(await timedWebhook(server, studio.webhookKey, 100 + i));
    // Meaningful only if the read was still running while the webhooks were acknowledged.
    expect(finished).toBe(false);
    expect(Math.max(...acks)).toBeLessThan(ACK_BOUND_MS);
    expect(await read).toEqual([{ n: 3_000_000 }]);
  }, 120_000);

  it('when a worker crashes during a read, then that read fails as unavailable, the worker is replaced and reads go on', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: '0', SQLITE_READ_WORKERS: '1' });
    const reader = SqlReader.of(server.app.dataSource);
    const [worker] = workersOf(reader);
    const read = reader.all(slowRead('sqlite', 1));
    // A crash from outside: the thread ends when SQLite returns from the statement.
    void worker!.terminate();
    await expect(read).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(reader.all<{ one: number }>('SELECT 1 AS "one"')).resolves.toEqual([{ one: 1 }]);
    const [replacement] = workersOf(reader);
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(worker);
    expect((await graphql(server, '{ customers(first: 1) { totalCount } }')).data).toEqual({ customers: { totalCount: 0 } });
  }, 60_000);

  it('when the service stops, then its read workers end and later reads fail as unavailable', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    const reader = SqlReader.of(server.app.dataSource);
    const workers = workersOf(reader);
    expect(workers).toHaveLength(2);
    await server.stop();
    expect(workers.map((worker) => worker.threadId)).toEqual([-1, -1]);
    await expect(reader.all('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
  }, 60_000);

  // A subscription's delivery reads its records by key: one index descent, cheaper than a worker's
  // round trip, so such lookups run on the main connection (SqlReader.findFirst); the rest waits for a worker.
  it('when the only worker is busy, then a lookup by key answers at once and a lookup by another column waits for the worker', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: '0', SQLITE_READ_WORKERS: '1' });
    const studio = await server.addStudio();
    await server.post(studio.webhookKey, delivery(4242, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() }));
    const reader = SqlReader.of(server.app.dataSource);
    let busy = true;
    const slow = reader.all(slowRead('sqlite', 2)).finally(() => (busy = false));
    const byKey = await reader.findOne(Customer, { tenantId: studio.tenantId, customerId: 4242 });
    expect(byKey).toMatchObject({ customerId: 4242 });
    expect(busy).toBe(true);
    const other = await reader.findOne(Customer, { lastCheckinStudioId: -1, firstName: 'nobody' });
    expect(other).toBeNull();
    expect(busy).toBe(false);
    await slow;
  }, 60_000);

  it('when a transaction of the writer is open on the main connection, then a lookup by key does not see its uncommitted rows', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    const reader = SqlReader.of(server.app.dataSource);
    // As when the ingest writer is in a transaction of its own (lookups by key then run on TypeORM's
    // connection, sql-reader-lookups.test.ts): this checks that connection's own guard.
    reader.readLookupsOn(() => undefined);
    const db = (server.app.dataSource.driver as unknown as { databaseConnection: import('better-sqlite3').Database }).databaseConnection;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.prepare(`INSERT INTO "api_tokens" ("name", "role", "tokenHash", "createdAt") VALUES ('uncommitted', 'partner', 'x', 0)`).run();
      const id = Number((db.prepare('SELECT last_insert_rowid() AS "id"').get() as { id: number }).id);
      expect(await reader.findOne(ApiToken, { id })).toBeNull();
    } finally {
      db.exec('ROLLBACK');
    }
  }, 60_000);

  it('when SQLITE_READ_WORKERS is 0, then reads run in-process as before', async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN, SQLITE_READ_WORKERS: '0' });
    const reader = SqlReader.of(server.app.dataSource);
    expect(workersOf(reader)).toEqual([]);
    expect(await reader.all<{ one: number }>('SELECT 1 AS "one"')).toEqual([{ one: 1 }]);
  }, 60_000);
});

describe.each(databaseKinds())('the read timeout on %s', (kind) => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('when a read runs longer than DATABASE_READ_TIMEOUT_MS, then it fails with ReadTimeoutError naming the limit, and reads and webhooks go on', async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: '300' });
    const studio = await server.addStudio();
    const reader = SqlReader.of(server.app.dataSource);
    const started = performance.now();
    const error = await reader.all(slowRead(kind, 5)).catch((caught: unknown) => caught);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ReadTimeoutError);
    expect((error as Error).message).toContain('300 ms');
    // Failed at the limit, not when the statement would have ended.
    expect(elapsed).toBeLessThan(3000);
    await expect(reader.all<{ one: number }>('SELECT 1 AS "one"')).resolves.toEqual([{ one: 1 }]);
    expect(await timedWebhook(server, studio.webhookKey, 1)).toBeLessThan(ACK_BOUND_MS);
  }, 60_000);

  it("when a GraphQL query's read runs longer than the timeout, then the client gets QUERY_TIMEOUT with the limit, and the next query is answered", async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: kind === 'postgres' ? '500' : '10' });
    // On SQLite the filter on an unindexed column makes the count scan every row (about 100 ms for
    // 2M rows on an idle core: ten times the limit), where a bare COUNT would take a fast path.
    const query = '{ customers(first: 1, filter: {lastEventAt: {from: "1970-01-01T00:00:00Z"}}) { totalCount nodes { customerId } } }';
    let release: () => Promise<void>;
    if (kind === 'postgres') {
      // The read waits for a lock held by another session until the statement timeout cancels it.
      const holder = new pg.Client({ connectionString: server.db.url });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE "customers" IN ACCESS EXCLUSIVE MODE');
      release = async () => {
        await holder.query('ROLLBACK');
        await holder.end();
      };
    } else {
      // SQLite readers never wait for locks (WAL): make the count itself slow, far above the limit.
      await server.sql(`INSERT INTO "customers" ("tenantId", "studioId", "firstEventAt", "lastEventAt", "customerId")
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT 1, 1, 0, 0, x FROM c`);
      release = async () => {
        await server.sql('DELETE FROM "customers"');
      };
    }
    try {
      const result = await graphql(server, query);
      expect(result.errors?.[0]?.extensions.code).toBe('QUERY_TIMEOUT');
      expect(result.errors?.[0]?.message).toMatch(/took longer than the \d+ ms allowed for reads/);
    } finally {
      await release();
    }
    // The service keeps serving: the same query, now cheap, is answered. On SQLite the timed-out
    // worker is being replaced and the 10 ms limit includes the queue, so a loaded machine may need
    // a few tries; each answer is either the data or QUERY_TIMEOUT, never anything else.
    let answer: Awaited<ReturnType<typeof graphql>> | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      answer = await graphql(server, query);
      if (!answer.errors) break;
      expect(answer.errors[0]?.extensions.code).toBe('QUERY_TIMEOUT');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toEqual({ data: { customers: { totalCount: 0, nodes: [] } } });
  }, 90_000);
});

describe('the read timeout over WebSocket', () => {
  let server: TestServer;
  afterEach(async () => {
    await disposeClients();
    await server?.stop();
  });

  // PostgreSQL only: there a read can be held on a lock; the SQLite mechanism is the same SqlReader path as above.
  (databaseKinds().includes('postgres') ? it : it.skip)(
    'when the replay of a resumed subscription runs longer than the timeout, then the subscription ends with QUERY_TIMEOUT',
    async () => {
      server = await startTestServer('postgres', { ADMIN_TOKEN, DATABASE_READ_TIMEOUT_MS: '500' });
      const holder = new pg.Client({ connectionString: server.db.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE "events" IN ACCESS EXCLUSIVE MODE');
        const client = connect(server.app.url, ADMIN_TOKEN);
        await client.connected;
        const resumed = subscribe(client, 'subscription { events(after: "0") { seq } }');
        await expect(resumed.done).rejects.toEqual([
          { message: expect.stringMatching(/took longer than the 500 ms allowed for reads/), extensions: { code: 'QUERY_TIMEOUT' } },
        ]);
        expect(resumed.results).toEqual([]);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
    },
    60_000,
  );
});

const STATS = '{ visitStats(range: {from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z"}) { label count } }';
const PAGE = '{ customers(first: 1) { nodes { customerId } } }';

describe.each(databaseKinds())('scans at once (DATABASE_READ_MAX_SCANS) on %s', (kind) => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('when a scan holds the only slot, then a statistics query waits for it and answers after it, while page reads are answered meanwhile', async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, DATABASE_READ_MAX_SCANS: '1', DATABASE_READ_TIMEOUT_MS: '0' });
    const reader = SqlReader.of(server.app.dataSource);
    const order: string[] = [];
    const holder = reader.scan(slowRead(kind, 2)).then(() => order.push('holder'));
    const stats = graphql(server, STATS).then((result) => {
      order.push('stats');
      return result;
    });
    const page = await graphql(server, PAGE);
    order.push('page');
    expect(page).toEqual({ data: { customers: { nodes: [] } } });
    expect(await stats).toEqual({
      data: {
        visitStats: [
          { label: '2026-01-01', count: 0 },
          { label: '2026-01-02', count: 0 },
        ],
      },
    });
    await holder;
    expect(order).toEqual(['page', 'holder', 'stats']);
  }, 60_000);
});

describe('ScanGate', () => {
  it('when a scan waits longer than the read timeout for its slot, then it fails with ReadTimeoutError naming the limit, and later scans run', async () => {
    const gate = new ScanGate(1, 50);
    let finish!: () => void;
    const holder = gate.run(() => new Promise<void>((resolve) => (finish = resolve)));
    const ran: string[] = [];
    const waiter = gate.run(async () => ran.push('waiter'));
    await expect(waiter).rejects.toBeInstanceOf(ReadTimeoutError);
    await expect(waiter).rejects.toThrow('50 ms');
    expect(gate.load).toEqual({ running: 1, waiting: 0 });
    finish();
    await holder;
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(ran).toEqual([]);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('when scans arrive while every slot is taken, then they run in order of arrival, never more than the size at once', async () => {
    const gate = new ScanGate(2, 0);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gate.run(async () => {
          running += 1;
          most = Math.max(most, running);
          order.push(i);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

/** Nice values of this process's threads (Linux), from /proc/self/task/<tid>/stat (field 19). */
function threadNiceness(): number[] {
  return fs.readdirSync('/proc/self/task').map((tid) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('SQLite read workers', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  (fs.existsSync('/proc/thread-self') ? it : it.skip)(
    'when the service runs on Linux, then its read worker threads, and only they, run at the lowest CPU priority (nice 19)',
    async () => {
      const before = threadNiceness().filter((nice) => nice === 19).length;
      server = await startTestServer('sqlite', { ADMIN_TOKEN, SQLITE_READ_WORKERS: '3' });
      expect(threadNiceness().filter((nice) => nice === 19).length - before).toBe(3);
      // The thread that runs the event loop (and this test) keeps its priority.
      expect(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[16]).toBe('0');
    },
    60_000,
  );
});

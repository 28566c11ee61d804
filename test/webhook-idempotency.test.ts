import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { openSqlWriter, type SqlWriter } from '../src/db/sql-writer.js';
import { DatabaseUnavailableError } from '../src/db/unavailable.js';
import { validateDelivery } from '../src/ingest/delivery.js';
import { Ingestor, type IngestOutcome, type Submission } from '../src/ingest/ingestor.js';
import { createLogger } from '../src/log.js';
import { databaseKinds, type DatabaseKind } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const T0 = 1_764_000_000_000;

/** A logger whose lines (parsed) land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

/** A trigger that makes inserting an event of type TEST_EXPLODE fail: a failure the validator cannot foresee. */
async function installExplodingTrigger(server: TestServer, kind: DatabaseKind): Promise<void> {
  if (kind === 'sqlite') {
    await server.sql(
      `CREATE TRIGGER test_explode BEFORE INSERT ON events WHEN NEW."type" = 'TEST_EXPLODE' ` +
        `BEGIN SELECT RAISE(ABORT, 'test: this event cannot be stored'); END`,
    );
    return;
  }
  await server.sql(
    `CREATE FUNCTION test_explode() RETURNS trigger AS $$ BEGIN ` +
      `IF NEW."type" = 'TEST_EXPLODE' THEN RAISE EXCEPTION 'test: this event cannot be stored'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
  );
  await server.sql(`CREATE TRIGGER test_explode BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_explode()`);
}

/** Likewise for the customer record of customerId 666: the failure comes from a projection's write, not the log's. */
async function installExplodingCustomer(server: TestServer, kind: DatabaseKind): Promise<void> {
  if (kind === 'sqlite') {
    await server.sql(
      `CREATE TRIGGER test_explode_customer BEFORE INSERT ON customers WHEN NEW."customerId" = 666 ` +
        `BEGIN SELECT RAISE(ABORT, 'test: this customer cannot be stored'); END`,
    );
    return;
  }
  await server.sql(
    `CREATE FUNCTION test_explode_customer() RETURNS trigger AS $$ BEGIN ` +
      `IF NEW."customerId" = 666 THEN RAISE EXCEPTION 'test: this customer cannot be stored'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
  );
  await server.sql(`CREATE TRIGGER test_explode_customer BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION test_explode_customer()`);
}

describe.each(databaseKinds())('POST /webhooks idempotency (%s)', (kind) => {
  let server: TestServer;
  let key: string;
  const log = capturingLogger();
  beforeAll(async () => {
    server = await startTestServer(kind, {}, { logger: log.logger });
    key = (await server.addStudio()).webhookKey;
  });
  afterAll(() => server.stop());

  const element = (overrides: Record<string, unknown> = {}) => ({ type: 'CUSTOMER_UPDATED', timestamp: T0, ...overrides });
  const body = (overrides: Record<string, unknown> = {}) => ({ entityId: 7, uuid: randomUUID(), payload: [element()], ...overrides });
  const rowsOf = (uuid: string) =>
    server.sql(`SELECT "position", "entityId", "content" FROM events WHERE "uuid" = $1 ORDER BY "position"`, [uuid]);
  const eventCount = async () => Number((await server.sql(`SELECT COUNT(*) AS n FROM events`))[0].n);

  it('when the same body comes again, with content keys in another order, then 200 with duplicates and nothing new', async () => {
    const first = body({ payload: [element({ content: { a: 1, b: { c: 'x', d: [1, 2] } } }), element({ type: 'CUSTOMER_CHECKIN' })] });
    expect((await server.post(key, first)).status).toBe(200);
    const before = await eventCount();
    const again = { ...first, payload: [element({ content: { b: { d: [1, 2], c: 'x' }, a: 1 } }), element({ type: 'CUSTOMER_CHECKIN' })] };
    const response = await server.post(key, again);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', uuid: first.uuid, stored: 0, duplicates: 2 });
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['other content', { payload: [element({ content: { note: 'second' } })] }],
    ['another entityId', { entityId: 8 }],
    ['another timestamp', { payload: [element({ timestamp: T0 + 1 })] }],
    ['another type', { payload: [element({ type: 'CUSTOMER_CREATED' })] }],
  ])('when a stored uuid comes with %s, then 409 uuid_conflict, nothing stored, and a warning with both digests', async (_, change) => {
    const first = body({ payload: [element({ content: { note: 'first' } })] });
    expect((await server.post(key, first)).status).toBe(200);
    const stored = await rowsOf(first.uuid);
    const before = await eventCount();
    const response = await server.post(key, { ...first, ...change });
    expect(response.status).toBe(409);
    expect(response.body).toEqual({ error: 'uuid_conflict', message: expect.stringContaining(first.uuid), uuid: first.uuid });
    expect(await eventCount()).toBe(before);
    expect(await rowsOf(first.uuid)).toEqual(stored);
    const warning = log.lines.find((line) => line.uuid === first.uuid && line.msg === 'uuid already stored with a different body');
    expect(warning).toMatchObject({
      level: 40,
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      storedDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(warning!.digest).not.toBe(warning!.storedDigest);
  });

  it('when a stored one-element uuid comes with three elements, then 409 and no extra positions are stored', async () => {
    const first = body({ entityId: 71 });
    expect((await server.post(key, first)).status).toBe(200);
    const before = await eventCount();
    const response = await server.post(key, {
      ...first,
      entityId: 72,
      payload: [element(), element({ timestamp: T0 + 1 }), element({ timestamp: T0 + 2 })],
    });
    expect(response.status).toBe(409);
    expect(await eventCount()).toBe(before);
    expect((await rowsOf(first.uuid)).map((r) => [r.position, Number(r.entityId)])).toEqual([[0, 71]]);
  });

  it('when a stored three-element uuid comes with one element, then 409 and the three stay as they were', async () => {
    const first = body({ payload: [element(), element({ timestamp: T0 + 1 }), element({ timestamp: T0 + 2 })] });
    expect((await server.post(key, first)).status).toBe(200);
    const response = await server.post(key, { ...first, payload: [element()] });
    expect(response.status).toBe(409);
    expect((await rowsOf(first.uuid)).map((r) => r.position)).toEqual([0, 1, 2]);
  });

  it('when two bodies with one uuid arrive together, then exactly one is stored (200) and the other gets 409', async () => {
    const uuid = randomUUID();
    const one = { entityId: 81, uuid, payload: [element()] };
    const three = { entityId: 82, uuid, payload: [element(), element({ timestamp: T0 + 1 }), element({ timestamp: T0 + 2 })] };
    const [a, b] = await Promise.all([server.post(key, one), server.post(key, three)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? one : three;
    const rows = await rowsOf(uuid);
    expect(rows.map((r) => [r.position, Number(r.entityId)])).toEqual(winner.payload.map((_, i) => [i, winner.entityId]));
  });

  it('when a uuid logged before digests were stored comes again, then the digest is rebuilt from its rows: same body 200, another 409', async () => {
    const first = body({ payload: [element({ content: { note: 'old', n: 1.5 } }), element({ type: 'UNKNOWN_FUTURE_TYPE' })] });
    expect((await server.post(key, first)).status).toBe(200);
    await server.sql(`UPDATE events SET "digest" = NULL WHERE "uuid" = $1`, [first.uuid]);
    const same = await server.post(key, first);
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ stored: 0, duplicates: 2 });
    const other = await server.post(key, {
      ...first,
      payload: [element({ content: { note: 'new', n: 1.5 } }), element({ type: 'UNKNOWN_FUTURE_TYPE' })],
    });
    expect(other.status).toBe(409);
  });

  it('when the uuid is stored for another tenant, then it is no conflict: 200 and stored for this one', async () => {
    const other = await server.addStudio({ tenantUrl: 'https://other-tenant.example.test/v1' });
    const first = body();
    expect((await server.post(key, first)).status).toBe(200);
    const response = await server.post(other.webhookKey, { ...first, entityId: 99 });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ stored: 1, duplicates: 0 });
  });
});

describe.each(databaseKinds())('POST /webhooks batch isolation (%s)', (kind) => {
  let server: TestServer;
  let key: string;
  let studio: { id: number; tenantId: number };
  beforeAll(async () => {
    server = await startTestServer(kind);
    const added = await server.addStudio();
    key = added.webhookKey;
    studio = { id: added.id, tenantId: added.tenantId };
    await installExplodingTrigger(server, kind);
    await installExplodingCustomer(server, kind);
  });
  afterAll(() => server.stop());

  const good = (entityId: number) => ({ entityId, uuid: randomUUID(), payload: [{ type: 'CUSTOMER_CREATED', timestamp: T0 }] });
  const explosive = () => ({ entityId: 1, uuid: randomUUID(), payload: [{ type: 'TEST_EXPLODE', timestamp: T0 }] });
  const stored = async (uuids: string[]) =>
    Number(
      (await server.sql(`SELECT COUNT(*) AS n FROM events WHERE "uuid" IN (${uuids.map((_, i) => `$${i + 1}`).join(', ')})`, uuids))[0].n,
    );

  it('when one delivery of a concurrent burst fails in the database, then it gets 500 and every other one is 200 and stored', async () => {
    const goods = Array.from({ length: 30 }, (_, i) => good(20_000 + i));
    const bad = explosive();
    const answers = await Promise.all([...goods.slice(0, 15), bad, ...goods.slice(15)].map((b) => server.post(key, b)));
    expect(answers[15]!.status).toBe(500);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(30);
    expect(await stored(goods.map((g) => g.uuid))).toBe(30);
    expect(await stored([bad.uuid])).toBe(0);
  });

  /** The service's ingestor on its own writer, counting transactions; `fail` may make a transaction fail after its work. */
  const ingestorWith = (fail?: () => unknown) => {
    const writer = openSqlWriter(server.db.config);
    let transactions = 0;
    const counted: SqlWriter = {
      dialect: writer.dialect,
      transaction(work, afterCommit) {
        transactions += 1;
        return writer.transaction(async (tx) => {
          const result = await work(tx);
          if (fail) throw fail();
          return result;
        }, afterCommit);
      },
      read: (sql, params) => writer.read(sql, params),
      ping: () => writer.ping(),
      close: () => writer.close(),
    };
    return { ingestor: new Ingestor(counted, createLogger('silent')), transactions: () => transactions, close: () => writer.close() };
  };
  const submission = (body: unknown): Submission => {
    const result = validateDelivery(body);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return { studioId: studio.id, tenantId: studio.tenantId, delivery: result.delivery, receivedAt: Date.now() };
  };
  const settle = (promises: Promise<IngestOutcome>[]) => Promise.allSettled(promises);

  it('when one delivery of a batch fails, then the batch is retried once, with a savepoint per delivery: two transactions in all', async () => {
    const { ingestor, transactions, close } = ingestorWith();
    try {
      const goods = Array.from({ length: 10 }, (_, i) => good(30_000 + i));
      const bad = explosive();
      // Submitted in one tick: one batch.
      const results = await settle([...goods.slice(0, 5), bad, ...goods.slice(5)].map((b) => ingestor.submit(submission(b))));
      expect(transactions()).toBe(2);
      expect(results[5]).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringContaining('cannot be stored') }),
      });
      const fulfilled = results.filter((r): r is PromiseFulfilledResult<IngestOutcome> => r.status === 'fulfilled');
      expect(fulfilled.map((r) => r.value.status)).toEqual(Array(10).fill('stored'));
      expect(await stored(goods.map((g) => g.uuid))).toBe(10);
      expect(await stored([bad.uuid])).toBe(0);
    } finally {
      await close();
    }
  });

  it('when a record a delivery projects fails (written with the batch, after the log), then only that delivery fails, after one retry', async () => {
    const { ingestor, transactions, close } = ingestorWith();
    try {
      const goods = Array.from({ length: 6 }, (_, i) => good(60_000 + i));
      const bad = good(666);
      const results = await settle([...goods.slice(0, 3), bad, ...goods.slice(3)].map((b) => ingestor.submit(submission(b))));
      expect(transactions()).toBe(2);
      expect(results[3]).toMatchObject({
        status: 'rejected',
        reason: expect.objectContaining({ message: expect.stringContaining('customer cannot be stored') }),
      });
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6);
      expect(await stored(goods.map((g) => g.uuid))).toBe(6);
      expect(await stored([bad.uuid])).toBe(0);
      const customers = await server.sql(`SELECT COUNT(*) AS n FROM customers WHERE "customerId" >= 60000 AND "customerId" < 60006`);
      expect(Number(customers[0].n)).toBe(6);
    } finally {
      await close();
    }
  });

  it('when one batch carries a uuid twice with different bodies, then the first is stored and the second is a conflict', async () => {
    const { ingestor, close } = ingestorWith();
    try {
      const uuid = randomUUID();
      const first = { entityId: 50_001, uuid, payload: [{ type: 'CUSTOMER_CREATED', timestamp: T0 }] };
      const second = { ...first, payload: [...first.payload, { type: 'CUSTOMER_CHECKIN', timestamp: T0 + 1 }] };
      const same = { ...first };
      const [a, b, c] = await Promise.all([first, second, same].map((body) => ingestor.submit(submission(body))));
      expect(a).toMatchObject({ status: 'stored', stored: 1, duplicates: 0 });
      expect(b).toMatchObject({ status: 'conflict', digest: expect.any(String), storedDigest: expect.any(String) });
      expect(c).toMatchObject({ status: 'stored', stored: 0, duplicates: 1 });
      expect(await stored([uuid])).toBe(1);
    } finally {
      await close();
    }
  });

  it('when the database is unavailable, then the whole batch is refused at once: one transaction, no retry per delivery', async () => {
    const { ingestor, transactions, close } = ingestorWith(() => new DatabaseUnavailableError('test: the database went away'));
    try {
      const goods = Array.from({ length: 8 }, (_, i) => good(40_000 + i));
      const results = await settle(goods.map((b) => ingestor.submit(submission(b))));
      expect(transactions()).toBe(1);
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof DatabaseUnavailableError)).toBe(true);
      expect(await stored(goods.map((g) => g.uuid))).toBe(0);
    } finally {
      await close();
    }
  });
});

import type { DataSource } from 'typeorm';
import { openDatabase } from '../ormconfig.js';
import { SqlReader } from '../src/db/sql-reader.js';
import { openSqlWriter, type SqlTx, type SqlWriter } from '../src/db/sql-writer.js';
import { Customer } from '../src/domains/customers/customer.entity.js';
import type { LoggedEvent } from '../src/events/logged-event.js';
import { createLogger } from '../src/log.js';
import { recordPreload } from '../src/realtime/record-preload.js';
import { SharedLoads } from '../src/realtime/shared-loads.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

// PostgreSQL: the records of events that subscriptions here deliver are read inside the batch's
// transaction and answered with its COMMIT (src/realtime/record-preload.ts, SqlReader.within).
const onPostgres = databaseKinds().includes('postgres') ? describe : describe.skip;
if (!databaseKinds().includes('postgres')) console.warn('record-preload.test.ts: PostgreSQL is not available; its tests are skipped');

const TENANT = 7;
const checkin = (seq: number, customerId: number): LoggedEvent => ({
  seq,
  uuid: `u-${seq}`,
  position: 0,
  studioId: 1,
  tenantId: TENANT,
  type: 'CUSTOMER_UPDATED',
  known: true,
  entityId: customerId,
  content: null,
  occurredAt: 1_700_000_000_000,
  receivedAt: 1_700_000_000_000,
});
const insertCustomer = (tx: SqlTx, customerId: number, at: number) =>
  tx.run(
    `INSERT INTO "customers" ("tenantId", "studioId", "firstEventAt", "lastEventAt", "customerId") VALUES (?, 1, ?, ?, ?)
     ON CONFLICT ("tenantId", "customerId") DO UPDATE SET "lastEventAt" = EXCLUDED."lastEventAt"`,
    [TENANT, at, at, customerId],
  );

onPostgres('PostgreSQL: records read inside the transaction that commits their events', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let writer: SqlWriter;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    dataSource = await openDatabase(db.config, createLogger('silent'));
    writer = openSqlWriter(db.config);
  });
  afterAll(async () => {
    await writer?.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  it("when a wanted event's batch commits, then its records, as the transaction left them, are shared before the announcement", async () => {
    const shared = new SharedLoads();
    // Subscriptions here select the customer of 9001's check-ins, and nothing of 9002's.
    const preload = recordPreload({ dataSource, shared, wanted: (event) => (event.entityId === 9002 ? undefined : new Set(['customer'])) });
    let after: (() => Promise<void>) | undefined;
    await writer.transaction(
      async (tx) => {
        await insertCustomer(tx, 9001, 1_700_000_000_123);
        await insertCustomer(tx, 9002, 1_700_000_000_123);
        // Nobody wants 9002's: not read.
        after = preload(tx, [checkin(101, 9001), checkin(102, 9002)]);
      },
      async () => {
        await after!();
      },
    );
    const customer = await shared.get<Customer | null>('records:101:customer', () => Promise.reject(new Error('not preloaded')));
    expect(customer).toMatchObject({ tenantId: TENANT, customerId: 9001 });
    expect(customer!.lastEventAt).toEqual(new Date(1_700_000_000_123));
    // Only what is selected: not the visit.
    expect(shared.peek('records:101:visit')).toBeUndefined();
    expect(shared.peek('records:102:customer')).toBeUndefined();
  });

  it('when a lookup cannot be queued (a text value, or asked after the queue closed), then it is refused, and the batch commits all the same', async () => {
    let refusedText: unknown;
    let refusedLate: unknown;
    await writer.transaction(async (tx) => {
      await insertCustomer(tx, 9003, 1_700_000_000_000);
      const view = SqlReader.within(dataSource, tx);
      const reader = SqlReader.of(view.dataSource);
      const text = reader.findOne(Customer, { tenantId: TENANT, email: 'not-an-integer-column' } as never).catch((error: unknown) => error);
      const queued = reader.findOne(Customer, { tenantId: TENANT, customerId: 9003 });
      view.close();
      refusedText = await text;
      refusedLate = await reader.findOne(Customer, { tenantId: TENANT, customerId: 9003 }).catch((error: unknown) => error);
      // Queued before the close: answered with the transaction's next message, and sees its write.
      await tx.flush();
      expect(await queued).toMatchObject({ customerId: 9003 });
    });
    expect(String(refusedText)).toContain('only lookups of integer columns by integers');
    expect(String(refusedLate)).toContain('came too late');
    expect(await writer.read<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "customers" WHERE "customerId" = ?`, [9003])).toEqual([
      { n: 1 },
    ]);
  });

  it('when a family reads other than by an integer key (a query builder: automatic check-outs), then its records are read after the commit, and the batch commits', async () => {
    const shared = new SharedLoads();
    const preload = recordPreload({
      dataSource,
      shared,
      wanted: (event) => new Set(event.type === 'AUTOMATIC_CUSTOMER_CHECKOUT' ? ['visits'] : ['visit', 'customer']),
    });
    let after: (() => Promise<void>) | undefined;
    await writer.transaction(
      async (tx) => {
        await insertCustomer(tx, 9005, 1_700_000_000_000);
        after = preload(tx, [{ ...checkin(105, 9005), type: 'AUTOMATIC_CUSTOMER_CHECKOUT' }, checkin(106, 9005)]);
      },
      async () => {
        await after!();
      },
    );
    expect(shared.peek('records:105:visits')).toBeUndefined();
    expect(await shared.peek('records:106:customer')).toMatchObject({ customerId: 9005 });
    // No visit was inserted: read, and null.
    expect(await shared.peek('records:106:visit')).toBeNull();
  });

  it('when the transaction fails, then nothing is shared', async () => {
    const shared = new SharedLoads();
    const preload = recordPreload({ dataSource, shared, wanted: () => new Set(['visit', 'customer']) });
    let after: (() => Promise<void>) | undefined;
    await expect(
      writer.transaction(
        async (tx) => {
          await insertCustomer(tx, 9004, 1_700_000_000_000);
          after = preload(tx, [checkin(104, 9004)]);
          await tx.run('SELECT * FROM "no_such_table"');
        },
        async () => {
          await after!();
        },
      ),
    ).rejects.toThrow();
    expect(shared.peek('records:104:customer')).toBeUndefined();
  });
});

onPostgres('PostgreSQL: a per-customer subscription, its records read in the commit', () => {
  const ADMIN_TOKEN = 'test-admin-token-0123456789';
  let server: TestServer;
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
  });

  it('when a check-in is posted, then the subscriber of that customer gets the visit and the customer as they stand after it', async () => {
    server = await startTestServer('postgres', { ADMIN_TOKEN });
    const studio = await server.addStudio();
    const client = connect(server.app.url, ADMIN_TOKEN);
    const query =
      'subscription S($c: [ID!]) { customerCheckedIn(customerIds: $c) { event { type entityId } visit { customerId } customer { customerId checkedIn } } }';
    const mine = subscribe(client, query, { c: ['5150'] });
    const other = subscribe(client, query, { c: ['5151'] });
    await until(() => server.app.subscriptions.subscriptions === 2, 5000, 'both subscriptions');
    const within = jest.spyOn(SqlReader, 'within');
    const put = jest.spyOn(SharedLoads.prototype, 'put');
    const response = await server.post(studio.webhookKey, delivery(5150, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() }));
    expect(response.status).toBe(200);
    const [result] = await mine.take(1);
    expect(result).toEqual({
      data: {
        customerCheckedIn: {
          event: { type: 'CUSTOMER_CHECKIN', entityId: '5150' },
          visit: { customerId: '5150' },
          customer: { customerId: '5150', checkedIn: true },
        },
      },
    });
    expect(other.results).toEqual([]);
    // Read in the check-in's own transaction, and shared before the delivery looked for them.
    expect(within).toHaveBeenCalledTimes(1);
    expect(put.mock.calls.map(([key, record]) => [key, (record as { customerId: number } | null)?.customerId])).toEqual([
      [expect.stringMatching(/^records:\d+:customer$/), 5150],
      [expect.stringMatching(/^records:\d+:visit$/), 5150],
    ]);
    within.mockRestore();
    put.mockRestore();

    // A subscription of `events` loads no records: nothing is read in the commit for it.
    mine.unsubscribe();
    other.unsubscribe();
    const events = subscribe(client, 'subscription { events(types: ["CUSTOMER_CHECKIN"]) { type entityId } }');
    await until(() => server.app.subscriptions.subscriptions === 1, 5000, 'the events subscription alone');
    const notCalled = jest.spyOn(SqlReader, 'within');
    expect((await server.post(studio.webhookKey, delivery(5152, { type: 'CUSTOMER_CHECKIN', timestamp: Date.now() }))).status).toBe(200);
    expect(await events.take(1)).toEqual([{ data: { events: { type: 'CUSTOMER_CHECKIN', entityId: '5152' } } }]);
    expect(notCalled).not.toHaveBeenCalled();
    notCalled.mockRestore();
  }, 60_000);
});

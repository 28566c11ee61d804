import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, databaseKinds, redisUrl, type TestDatabase } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { sendConcurrently, type WebhookBody } from './support/child.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const available = databaseKinds().includes('postgres') && redisUrl() !== '';

(available ? describe : describe.skip)('two instances sharing PostgreSQL and Redis (REDIS_URL)', () => {
  /** A channel of this run's own: nothing else on the Redis hears these instances, nor they it. */
  const channel = `gymgraph-test:${randomBytes(6).toString('hex')}:events`;
  let db: TestDatabase;
  let one: TestServer;
  let two: TestServer;
  let key: string;
  let studioId: number;
  let redis: Redis;

  const lastSeq = async () => Number((await one.sql<{ max: string | null }>('SELECT MAX(seq) AS "max" FROM events'))[0]?.max ?? 0);

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const env = { ADMIN_TOKEN, REDIS_URL: redisUrl(), REDIS_CHANNEL: channel };
    one = await startTestServer('postgres', env, { database: db });
    two = await startTestServer('postgres', env, { database: db });
    const studio = await one.addStudio({ name: 'Shared' });
    key = studio.webhookKey;
    studioId = studio.id;
    redis = new Redis(redisUrl(), { lazyConnect: true });
    await redis.connect();
  });
  afterEach(() => disposeClients());
  afterAll(async () => {
    redis?.disconnect();
    await one?.stop();
    await two?.stop();
    await db?.drop();
  });

  it('when a webhook is posted to instance one, then a subscriber on instance two gets the event with its record', async () => {
    const onTwo = connect(two.app.url, ADMIN_TOKEN);
    const onOne = connect(one.app.url, ADMIN_TOKEN);
    const checkins = subscribe(
      onTwo,
      'subscription { customerCheckedIn { event { seq studioId entityId } customer { customerId checkedIn } visit { studioId } } }',
    );
    const events = subscribe(onOne, 'subscription { events { seq type } }');
    await until(() => two.app.subscriptions.subscriptions === 1 && one.app.subscriptions.subscriptions === 1, 5000, 'both subscriptions');
    expect((await one.post(key, delivery(42, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }))).status).toBe(200);
    const seq = String(await lastSeq());
    expect((await checkins.take(1))[0]).toEqual({
      data: {
        customerCheckedIn: {
          event: { seq, studioId: String(studioId), entityId: '42' },
          customer: { customerId: '42', checkedIn: true },
          visit: { studioId: String(studioId) },
        },
      },
    });
    // The instance that stored it delivers it too, through Redis like everyone else.
    expect((await events.take(1))[0]).toEqual({ data: { events: { seq, type: 'CUSTOMER_CHECKIN' } } });
  });

  it('when a subscriber on instance two resumes with after, then it gets what instance one stored meanwhile, then live events from either', async () => {
    const cursor = await lastSeq();
    await one.post(key, delivery(43, { type: 'CUSTOMER_CREATED', timestamp: at(2) }));
    await one.post(key, delivery(44, { type: 'CUSTOMER_CREATED', timestamp: at(3) }, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(4) }));
    const client = connect(two.app.url, ADMIN_TOKEN);
    const resumed = subscribe(client, `subscription { events(after: "${cursor}") { seq entityId type } }`);
    await resumed.take(3);
    await two.post(key, delivery(45, { type: 'CUSTOMER_CREATED', timestamp: at(5) }));
    await one.post(key, delivery(46, { type: 'CUSTOMER_CREATED', timestamp: at(6) }));
    const got = (await resumed.take(5)).map((r) => r.data!['events']);
    const stored = (
      await one.sql<{ seq: string; entityId: string; type: string }>(
        `SELECT seq, "entityId", type FROM events WHERE seq > ${cursor} ORDER BY seq`,
      )
    ).map((row) => ({ seq: String(row.seq), entityId: String(row.entityId), type: row.type }));
    expect(got).toEqual(stored);
    expect(got.map((e) => e.entityId)).toEqual(['43', '44', '44', '45', '46']);
  });

  it('when both instances take webhooks at once, then subscribers on both get every event in the same order: the order of the log', async () => {
    const from = await lastSeq();
    const subscribers = [one, two, one, two].map((server) =>
      subscribe(connect(server.app.url, ADMIN_TOKEN), 'subscription { events { seq } }'),
    );
    await until(() => one.app.subscriptions.subscriptions === 2 && two.app.subscriptions.subscriptions === 2, 5000, 'four subscriptions');
    const make = (base: number): WebhookBody[] =>
      Array.from({ length: 60 }, (_, i) => ({
        uuid: `${randomBytes(4).toString('hex')}-0000-4000-8000-${String(base + i).padStart(12, '0')}`,
        entityId: base + i,
        payload: [{ type: 'CUSTOMER_UPDATED', timestamp: at(i) }],
      }));
    const results = await Promise.all([
      sendConcurrently(one.app.url, key, make(1000), 6),
      sendConcurrently(two.app.url, key, make(2000), 6),
    ]);
    expect(results.flat().every((r) => 'status' in r && r.status === 200)).toBe(true);
    const stored = (await one.sql<{ seq: string }>(`SELECT seq FROM events WHERE seq > ${from} ORDER BY seq`)).map((row) =>
      String(row.seq),
    );
    expect(stored).toHaveLength(120);
    for (const subscriber of subscribers) expect((await subscriber.take(120)).map((r) => r.data!['events'].seq)).toEqual(stored);
  });

  it("when an instance's Redis subscription drops, then the events announced meanwhile are read from the log: none is lost or repeated", async () => {
    const client = connect(two.app.url, ADMIN_TOKEN);
    const events = subscribe(client, 'subscription { events { entityId } }');
    await until(() => two.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
    await one.post(key, delivery(50, { type: 'CUSTOMER_CREATED', timestamp: at(1) }));
    await events.take(1);
    // Only this run's subscription connections (they are named after its channel), both instances'.
    const list = String(await redis.call('CLIENT', 'LIST'));
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=gymgraph-subscribe:${channel} `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]!);
    expect(ids).toHaveLength(2);
    for (const id of ids) await redis.call('CLIENT', 'KILL', 'ID', id);
    // Announced while instance two cannot hear them.
    await one.post(key, delivery(51, { type: 'CUSTOMER_CREATED', timestamp: at(2) }));
    await one.post(key, delivery(52, { type: 'CUSTOMER_CREATED', timestamp: at(3) }, { type: 'CUSTOMER_UPDATED', timestamp: at(4) }));
    await until(
      async () =>
        String(await redis.call('CLIENT', 'LIST'))
          .split('\n')
          .filter((line) => line.includes(` name=gymgraph-subscribe:${channel} `)).length === 2,
      10_000,
      'the subscriptions to reconnect',
    );
    await one.post(key, delivery(53, { type: 'CUSTOMER_CREATED', timestamp: at(5) }));
    const got = (await events.take(5)).map((r) => r.data!['events'].entityId);
    expect(got).toEqual(['50', '51', '52', '52', '53']);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { start, type App } from '../src/main.js';
import { createTestDatabase, databaseKinds, redisUrl, type TestDatabase } from './support/databases.js';
import { sendConcurrently, sleep, type SendResult, type WebhookBody } from './support/child.js';
import { connect, disposeClients, until } from './support/ws.js';

/*
 * Live streams never miss an event silently: a Redis message only announces events, the log is the
 * truth. An announcement lost on the way (a PUBLISH whose connection is killed, a Redis outage) only
 * delays its events by about REALTIME_BACKSTOP_MS (1 s by default), and the failures are logged
 * once per interval, not once per batch.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const haveRedis = redisUrl() !== '';
if (!haveRedis) {
  // Visible in the summary as skipped; CI has Redis and runs them.
  describe.skip('live event streams with Redis (no Redis at TEST_REDIS_URL: skipped)', () => it.todo('needs Redis'));
}

/** One log line as pino wrote it. */
interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly component?: string;
  readonly repeated?: number;
}

/** A running service whose log lines are kept (not printed). */
interface Instance {
  readonly app: App;
  readonly lines: LogLine[];
}

async function startInstance(db: TestDatabase, env: Record<string, string>): Promise<Instance> {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ADMIN_TOKEN,
    HYDRATION_ENABLED: 'false',
    ...env,
  });
  const app = await start(config, pino({ level: 'info' }, sink));
  return { app, lines };
}

async function addStudio(app: App): Promise<string> {
  const webhookKey = `test-webhook-key-${randomUUID()}`;
  await new StudioService(app.dataSource).add({ name: 'Gaps', webhookKey });
  return webhookKey;
}

const lastSeq = async (app: App) => Number((await app.dataSource.query('SELECT MAX(seq) AS "max" FROM events'))[0]?.max ?? 0);

async function storedAfter(app: App, from: number): Promise<{ seq: number; entityId: number }[]> {
  const rows: { seq: string | number; entityId: string | number }[] = await app.dataSource.query(
    `SELECT seq, "entityId" FROM events WHERE seq > ${from} ORDER BY seq`,
  );
  return rows.map((row) => ({ seq: Number(row.seq), entityId: Number(row.entityId) }));
}

/** An `events` subscription through a real graphql-ws client, each event stamped with its arrival. */
interface Recorder {
  readonly got: { seq: number; entityId: number; at: number }[];
  failure(): unknown;
}

function recordEvents(app: App): Recorder {
  const client = connect(app.url, ADMIN_TOKEN);
  const got: Recorder['got'] = [];
  let failure: unknown;
  client.client.subscribe<{ events: { seq: string; entityId: string } }>(
    { query: 'subscription { events { seq entityId } }' },
    {
      next: (result) => {
        if (result.data) got.push({ seq: Number(result.data.events.seq), entityId: Number(result.data.events.entityId), at: Date.now() });
        else failure = result.errors;
      },
      error: (error) => (failure = error),
      complete: () => undefined,
    },
  );
  return { got, failure: () => failure };
}

/** Webhooks of one CUSTOMER_UPDATED event each, entity ids from `base`; every `repeatEvery`-th re-sends an earlier one (same uuid). */
function deliveries(count: number, base: number, repeatEvery = 0): WebhookBody[] {
  const list: WebhookBody[] = [];
  for (let i = 0; i < count; i += 1) {
    if (repeatEvery > 0 && i > 0 && i % repeatEvery === 0) list.push(list[i - 1]!);
    else list.push({ uuid: randomUUID(), entityId: base + i, payload: [{ type: 'CUSTOMER_UPDATED', timestamp: T0 + i * 1000 }] });
  }
  return list;
}

/** This run's own connections of one kind (`gymgraph-publish`, `gymgraph-subscribe`), by their names. */
async function connectionIds(control: Redis, kind: string, channel: string): Promise<string[]> {
  const list = String(await control.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${kind}:${channel} `))
    .map((line) => /\bid=(\d+)/.exec(line)![1]!);
}

const PUBLISH_FAILED = /^PUBLISH of committed events failed/;

/**
 * Posts `webhooks` to the instances (split evenly, `concurrency` senders each) while this
 * deployment's publishing connections are killed `kills` times, spread over the run. Then checks
 * that every recorder got every committed event, in `seq` order, once, and the last one soon
 * after its webhook was answered.
 */
async function postWhileKillingPublishers(options: {
  readonly instances: readonly Instance[];
  readonly recorders: readonly Recorder[];
  readonly key: string;
  readonly control: Redis;
  readonly channel: string;
  readonly webhooks: number;
  readonly kills: number;
}): Promise<void> {
  const { instances, recorders, key, control, channel, webhooks, kills } = options;
  const first = instances[0]!.app;
  const from = await lastSeq(first);
  const answered = new Map<string, number>();
  const killing: Promise<void>[] = [];
  let results = 0;
  let killed = 0;
  const every = Math.floor(webhooks / (kills + 1));
  const onResult = (result: SendResult) => {
    if ('status' in result && result.status === 200 && !answered.has(result.delivery.uuid)) answered.set(result.delivery.uuid, Date.now());
    results += 1;
    if (killed < kills && results === every * (killed + 1)) {
      killed += 1;
      killing.push(
        (async () => {
          // A publisher still reconnecting from the previous kill is not listed: kill those that are.
          const ids = await connectionIds(control, 'gymgraph-publish', channel);
          expect(ids.length).toBeGreaterThanOrEqual(1);
          for (const id of ids) await control.call('CLIENT', 'KILL', 'ID', id).catch(() => undefined);
        })(),
      );
    }
  };
  const share = Math.ceil(webhooks / instances.length);
  const sent = await Promise.all(
    instances.map((instance, index) =>
      sendConcurrently(instance.app.url, key, deliveries(share, 100_000 * (index + 1), 17), 6, { onResult }),
    ),
  );
  await Promise.all(killing);
  expect(killed).toBe(kills);
  const failed = sent.flat().filter((r) => !('status' in r) || r.status !== 200);
  expect(failed).toEqual([]);

  const stored = await storedAfter(first, from);
  expect(stored.length).toBe(answered.size);
  for (const recorder of recorders) {
    await until(
      () => recorder.got.filter((e) => e.seq > from).length >= stored.length || recorder.failure() !== undefined,
      15_000,
      `${stored.length} events`,
    );
    expect(recorder.failure()).toBeUndefined();
    const got = recorder.got.filter((e) => e.seq > from);
    // Every committed event, in seq order, each once (the order of the log).
    expect(got.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
  }
  // The last event reached every subscriber soon after its webhook was answered (generous margin:
  // the backstop reads the log every second; the machine is loaded).
  const last = stored[stored.length - 1]!;
  const body = sent.flat().find((r) => r.delivery.entityId === last.entityId)!.delivery;
  const ok = answered.get(body.uuid)!;
  for (const recorder of recorders) {
    const arrived = recorder.got.find((e) => e.seq === last.seq)!.at;
    expect(arrived - ok).toBeLessThan(4000);
  }
}

/**
 * `through`'s PUBLISH is swallowed by the proxy (it times out after 2 s; nothing is announced):
 * subscribers on every instance get the event from the log, about a second later at most.
 */
async function publishLost(options: {
  readonly instances: readonly Instance[];
  readonly through: Instance;
  readonly proxy: FaultProxy;
  readonly key: string;
  readonly control: Redis;
  readonly channel: string;
}): Promise<void> {
  const { instances, through, proxy, key, control, channel } = options;
  const recorders = instances.map((instance) => recordEvents(instance.app));
  await until(() => instances.every((instance) => instance.app.subscriptions.subscriptions === 1), 5000, 'the subscriptions');
  const from = await lastSeq(through.app);
  proxy.setMode('mute');
  try {
    const response = await fetch(`${through.app.url}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ uuid: randomUUID(), entityId: 7, payload: [{ type: 'CUSTOMER_CREATED', timestamp: T0 }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const ok = Date.now();
    const seq = await lastSeq(through.app);
    expect(seq).toBeGreaterThan(from);
    for (const recorder of recorders) {
      await until(() => recorder.got.some((e) => e.seq === seq), 10_000, 'the event');
      // Other instances can only have it from the backstop's read of the log (no message was ever
      // published); `through` reads the log too once its PUBLISH times out (2 s). Generous margin.
      expect(recorder.got.find((e) => e.seq === seq)!.at - ok).toBeLessThan(3000);
      expect(recorder.got.map((e) => e.seq)).toEqual([seq]);
    }
  } finally {
    // Replies to the swallowed commands will never come: fresh connections.
    proxy.reset();
  }
  const publishers = instances.length;
  await until(
    async () => (await connectionIds(control, 'gymgraph-publish', channel)).length === publishers,
    10_000,
    'the publishers to reconnect',
  );
}

/** A TCP proxy to Redis: `down` cuts every connection and each new one at once; `mute` drops what clients send. */
interface FaultProxy {
  readonly url: string;
  setMode(mode: 'up' | 'down' | 'mute'): void;
  /** Cuts every connection (clients reconnect) and lets new ones through again. */
  reset(): void;
  close(): Promise<void>;
}

async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let mode: 'up' | 'down' | 'mute' = 'up';
  const sockets = new Set<net.Socket>();
  const cutAll = () => {
    for (const socket of [...sockets]) socket.destroy();
  };
  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'down') return void client.destroy();
    const upstream = net.connect(Number(port || 6379), hostname === 'localhost' ? '127.0.0.1' : hostname);
    upstream.on('error', () => undefined);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        other.destroy();
      });
    }
    client.on('data', (data) => {
      if (mode === 'up') upstream.write(data);
    });
    upstream.on('data', (data) => client.write(data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    setMode(next) {
      mode = next;
      if (next === 'down') cutAll();
    },
    reset() {
      cutAll();
      mode = 'up';
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const pgAndRedis = haveRedis && databaseKinds().includes('postgres');

(pgAndRedis ? describe : describe.skip)('live events with two instances on one PostgreSQL database and one Redis channel', () => {
  const channel = `gymgraph-test:${randomBytes(6).toString('hex')}:events`;
  let db: TestDatabase;
  let proxy: FaultProxy;
  let one: Instance;
  let two: Instance;
  let key: string;
  let control: Redis;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    proxy = await startFaultProxy(redisUrl());
    // Instance one reaches Redis through the fault proxy, instance two directly.
    one = await startInstance(db, { REDIS_URL: proxy.url, REDIS_CHANNEL: channel });
    two = await startInstance(db, { REDIS_URL: redisUrl(), REDIS_CHANNEL: channel });
    key = await addStudio(one.app);
    control = new Redis(redisUrl(), { lazyConnect: true });
    await control.connect();
  });
  afterEach(async () => {
    await disposeClients();
    await until(
      () => one.app.subscriptions.subscriptions === 0 && two.app.subscriptions.subscriptions === 0,
      5000,
      'the subscriptions to end',
    );
  });
  afterAll(async () => {
    control?.disconnect();
    await one?.app.stop();
    await two?.app.stop();
    await proxy?.close();
    await db?.drop();
  });

  it("when the instances' publishing connections are killed 5 times during a few thousand webhooks, then subscribers on both get every committed event, in seq order, once, the last within seconds", async () => {
    const recorders = [recordEvents(one.app), recordEvents(two.app)];
    await until(() => one.app.subscriptions.subscriptions === 1 && two.app.subscriptions.subscriptions === 1, 5000, 'both subscriptions');
    await postWhileKillingPublishers({ instances: [one, two], recorders, key, control, channel, webhooks: 2400, kills: 5 });
    // A PUBLISH issued while its connection reconnects fails (how many depends on timing; the test
    // below loses one for sure): logged once per interval, not once per batch.
    expect([...one.lines, ...two.lines].filter((line) => PUBLISH_FAILED.test(line.msg)).length).toBeLessThanOrEqual(4);
  }, 120_000);

  it(
    'when a PUBLISH never reaches Redis, then subscribers on both instances still get its events from the log within about a second',
    () => publishLost({ instances: [one, two], through: one, proxy, key, control, channel }),
    30_000,
  );
});

(haveRedis ? describe : describe.skip)('live events on SQLite with Redis (one instance)', () => {
  const channel = `gymgraph-test:${randomBytes(6).toString('hex')}:events`;
  let db: TestDatabase;
  let proxy: FaultProxy;
  let instance: Instance;
  let key: string;
  let control: Redis;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    proxy = await startFaultProxy(redisUrl());
    instance = await startInstance(db, { REDIS_URL: proxy.url, REDIS_CHANNEL: channel });
    key = await addStudio(instance.app);
    control = new Redis(redisUrl(), { lazyConnect: true });
    await control.connect();
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => instance.app.subscriptions.subscriptions === 0, 5000, 'the subscription to end');
  });
  afterAll(async () => {
    control?.disconnect();
    await instance?.app.stop();
    await proxy?.close();
    await db?.drop();
  });

  it('when the publishing connection is killed 5 times during a few thousand webhooks, then the subscriber gets every committed event, in seq order, once', async () => {
    const recorder = recordEvents(instance.app);
    await until(() => instance.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
    await postWhileKillingPublishers({ instances: [instance], recorders: [recorder], key, control, channel, webhooks: 2000, kills: 5 });
  }, 120_000);

  it(
    'when a PUBLISH never reaches Redis, then the subscriber still gets its events from the log within about a second',
    () => publishLost({ instances: [instance], through: instance, proxy, key, control, channel }),
    30_000,
  );

  it('when Redis is unreachable for 5 s under load, then subscribers still get every event (from the log) and the event feed logs a handful of lines, not one per batch', async () => {
    const recorder = recordEvents(instance.app);
    await until(() => instance.app.subscriptions.subscriptions === 1, 5000, 'the subscription');
    const from = await lastSeq(instance.app);
    const firstLine = instance.lines.length;
    const deliveriesSent: WebhookBody[] = [];
    proxy.setMode('down');
    const outageEnds = Date.now() + 5000;
    try {
      const agentless = async () => {
        let i = 0;
        while (Date.now() < outageEnds) {
          const body = {
            uuid: randomUUID(),
            entityId: 500_000 + deliveriesSent.length,
            payload: [{ type: 'CUSTOMER_UPDATED', timestamp: T0 + (i += 1) }],
          };
          deliveriesSent.push(body);
          const response = await fetch(`${instance.app.url}/webhooks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': key },
            body: JSON.stringify(body),
          });
          expect(response.status).toBe(200);
          await response.text();
        }
      };
      await Promise.all([agentless(), agentless(), agentless(), agentless()]);
      const stored = await storedAfter(instance.app, from);
      expect(stored.length).toBe(deliveriesSent.length);
      // Redis is still down: these can only have come from the log.
      await until(() => recorder.got.length >= stored.length, 10_000, `${stored.length} events while Redis is down`);
      expect(recorder.got.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    } finally {
      proxy.setMode('up');
    }
    await until(
      async () => (await connectionIds(control, 'gymgraph-subscribe', channel)).length === 1,
      10_000,
      'the subscription to come back',
    );
    await sleep(500);
    const lines = instance.lines.slice(firstLine);
    const feed = lines.filter((line) => line.component === 'redis-event-feed');
    const perBatch = lines.filter((line) => /publish/i.test(line.msg) && line.component !== 'redis-event-feed');
    const summary = lines.map(
      (line) => `${line.level} ${line.component ?? '-'} ${line.msg}${line.repeated ? ` (repeated ${line.repeated})` : ''}`,
    );
    expect(deliveriesSent.length).toBeGreaterThan(20); // under load: many batches failed to publish
    expect(lines.filter((line) => PUBLISH_FAILED.test(line.msg))).toHaveLength(1);
    expect(perBatch).toEqual([]);
    // One line per key and interval: the PUBLISH, the two connections, the subscription lost and back.
    expect(feed.length <= 8 ? 'at most 8' : summary).toBe('at most 8');
  }, 60_000);
});

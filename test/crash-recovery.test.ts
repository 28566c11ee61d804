import { randomUUID } from 'node:crypto';
import { createDataSource } from '../ormconfig.js';
import type { DatabaseConfig } from '../src/config.js';
import { isKnownEventType } from '../src/events/event-catalog.js';
import {
  killChildren,
  runStudioCli,
  sendConcurrently,
  startService,
  withTimeout,
  type SendResult,
  type WebhookBody,
} from './support/child.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

const T0 = 1_764_000_000_000;
const WEBHOOK_KEY = `whk_crash_${randomUUID().replace(/-/g, '')}`;
const UNKNOWN_TYPE = 'GYMGRAPH_TEST_SOMETHING_NEW';
/** Acknowledged deliveries before the kill. */
const KILL_AFTER = 300;
const SENDERS = 16;

/** What the database holds, read with a DataSource of its own. */
interface Snapshot {
  /** `uuid|position` -> rows in the event log with that key. */
  readonly events: Map<string, { type: string; known: boolean; rows: number }>;
  readonly customers: Map<number, { lastEventAt: number; lastCheckinAt: number | null; lastCheckoutAt: number | null }>;
  readonly contracts: Map<number, { customerId: number; createdAt: number | null }>;
  readonly classBookings: Map<number, { status: string; createdAt: number | null }>;
  /** Per customer, visits ordered by check-in time. */
  readonly visits: Map<number, { checkinAt: number | null; checkoutAt: number | null }[]>;
}

const num = (value: unknown) => (value === null ? null : Number(value));

async function snapshot(database: DatabaseConfig): Promise<Snapshot> {
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  try {
    const q = (sql: string): Promise<Record<string, unknown>[]> => dataSource.query(sql);
    const events = new Map<string, { type: string; known: boolean; rows: number }>();
    for (const r of await q('SELECT "uuid", "position", "type", "known" FROM events')) {
      const key = `${String(r.uuid)}|${Number(r.position)}`;
      const seen = events.get(key);
      events.set(key, { type: String(r.type), known: r.known === true || r.known === 1, rows: (seen?.rows ?? 0) + 1 });
    }
    const customers = new Map(
      (await q('SELECT "customerId", "lastEventAt", "lastCheckinAt", "lastCheckoutAt" FROM customers')).map((r) => [
        Number(r.customerId),
        { lastEventAt: Number(r.lastEventAt), lastCheckinAt: num(r.lastCheckinAt), lastCheckoutAt: num(r.lastCheckoutAt) },
      ]),
    );
    const contracts = new Map(
      (await q('SELECT "contractId", "customerId", "createdAt" FROM contracts')).map((r) => [
        Number(r.contractId),
        { customerId: Number(r.customerId), createdAt: num(r.createdAt) },
      ]),
    );
    const classBookings = new Map(
      (await q('SELECT "bookingId", "status", "createdAt" FROM class_bookings')).map((r) => [
        Number(r.bookingId),
        { status: String(r.status), createdAt: num(r.createdAt) },
      ]),
    );
    const visits = new Map<number, { checkinAt: number | null; checkoutAt: number | null }[]>();
    for (const r of await q('SELECT "customerId", "checkinAt", "checkoutAt" FROM visits ORDER BY "customerId", "checkinAt"')) {
      const list = visits.get(Number(r.customerId)) ?? [];
      list.push({ checkinAt: num(r.checkinAt), checkoutAt: num(r.checkoutAt) });
      visits.set(Number(r.customerId), list);
    }
    return { events, customers, contracts, classBookings, visits };
  } finally {
    await dataSource.destroy();
  }
}

/** A delivery and what the records must show once it has been applied (each uses ids of its own). */
interface Planned {
  readonly body: WebhookBody;
  /** Every way `snapshot` falls short of this delivery having been applied; empty when it has. */
  readonly missing: (snapshot: Snapshot) => string[];
}

function plan(i: number): Planned {
  const uuid = randomUUID();
  const at = T0 + i * 1000;
  const customerId = 1_000_000 + i;
  const problems = (checks: [boolean, string][]) => checks.filter(([ok]) => !ok).map(([, what]) => `delivery ${i} (${uuid}): ${what}`);
  const customer = (s: Snapshot, lastEventAt: number, lastCheckinAt: number, lastCheckoutAt: number | null): [boolean, string][] => {
    const row = s.customers.get(customerId);
    return [
      [row !== undefined, `customer ${customerId} missing`],
      [row === undefined || row.lastEventAt >= lastEventAt, `customer ${customerId} lastEventAt ${row?.lastEventAt} < ${lastEventAt}`],
      [
        row === undefined || row.lastCheckinAt === lastCheckinAt,
        `customer ${customerId} lastCheckinAt ${row?.lastCheckinAt} != ${lastCheckinAt}`,
      ],
      [
        row === undefined || row.lastCheckoutAt === lastCheckoutAt,
        `customer ${customerId} lastCheckoutAt ${row?.lastCheckoutAt} != ${lastCheckoutAt}`,
      ],
    ];
  };
  const visits = (s: Snapshot, expected: { checkinAt: number; checkoutAt: number | null }[]): [boolean, string] => {
    const actual = s.visits.get(customerId) ?? [];
    return [
      JSON.stringify(actual) === JSON.stringify(expected),
      `visits of ${customerId} are ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
    ];
  };

  switch (i % 4) {
    case 0: // a visit and a second check-in still open
      return {
        body: {
          uuid,
          entityId: customerId,
          payload: [
            { type: 'CUSTOMER_CHECKIN', timestamp: at },
            { type: 'CUSTOMER_CHECKOUT', timestamp: at + 60_000 },
            { type: 'CUSTOMER_CHECKIN', timestamp: at + 120_000 },
          ],
        },
        missing: (s) =>
          problems([
            ...customer(s, at + 120_000, at + 120_000, at + 60_000),
            visits(s, [
              { checkinAt: at, checkoutAt: at + 60_000 },
              { checkinAt: at + 120_000, checkoutAt: null },
            ]),
          ]),
      };
    case 1: {
      // a contract, then a check-in
      const contractId = 5_000_000 + i;
      return {
        body: {
          uuid,
          entityId: customerId,
          payload: [
            { type: 'CONTRACT_CREATED', timestamp: at, content: { contractId } },
            { type: 'CUSTOMER_CHECKIN', timestamp: at + 1 },
          ],
        },
        missing: (s) => {
          const contract = s.contracts.get(contractId);
          return problems([
            [contract?.customerId === customerId, `contract ${contractId} is ${JSON.stringify(contract)}, expected customer ${customerId}`],
            [contract?.createdAt === at, `contract ${contractId} createdAt ${contract?.createdAt} != ${at}`],
            ...customer(s, at + 1, at + 1, null),
            visits(s, [{ checkinAt: at + 1, checkoutAt: null }]),
          ]);
        },
      };
    }
    case 2: {
      // a class booking
      const bookingId = 7_000_000 + i;
      return {
        body: { uuid, entityId: bookingId, payload: [{ type: 'CLASS_BOOKING_CREATED', timestamp: at }] },
        missing: (s) => {
          const booking = s.classBookings.get(bookingId);
          return problems([
            [booking?.status === 'BOOKED' && booking.createdAt === at, `class booking ${bookingId} is ${JSON.stringify(booking)}`],
          ]);
        },
      };
    }
    default: // a type this version does not know (logged, applied to nothing), then a check-in
      return {
        body: {
          uuid,
          entityId: customerId,
          payload: [
            { type: UNKNOWN_TYPE, timestamp: at + 10, content: { anything: 'goes' } },
            { type: 'CUSTOMER_CHECKIN', timestamp: at + 5 },
          ],
        },
        // lastEventAt is the check-in's time: the later unknown event touched no record.
        missing: (s) =>
          problems([
            [
              s.customers.get(customerId)?.lastEventAt === at + 5,
              `customer ${customerId} lastEventAt ${s.customers.get(customerId)?.lastEventAt} != ${at + 5}`,
            ],
            ...customer(s, at + 5, at + 5, null),
            visits(s, [{ checkinAt: at + 5, checkoutAt: null }]),
          ]),
      };
  }
}

/** Elements of `body` missing from the event log, or logged with the wrong type or known flag. */
function unlogged(body: WebhookBody, s: Snapshot): string[] {
  return body.payload.flatMap((element, position) => {
    const logged = s.events.get(`${body.uuid}|${position}`);
    const ok = logged !== undefined && logged.type === element.type && logged.known === isKnownEventType(element.type);
    return ok ? [] : [`${body.uuid}|${position} (${element.type}) is ${JSON.stringify(logged ?? 'not logged')}`];
  });
}

const loggedCount = (body: WebhookBody, s: Snapshot) =>
  body.payload.filter((_, position) => s.events.has(`${body.uuid}|${position}`)).length;

describe.each(databaseKinds())('crash recovery: the service process killed mid-stream (%s)', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const added = await runStudioCli(db.url, ['add', '--name', 'Crash Test Gym', '--webhook-key', WEBHOOK_KEY]);
    expect(added.code).toBe(0);
  });
  afterEach(() => killChildren());
  afterAll(() => db?.drop());

  it('when SIGKILL hits after 300 acknowledged deliveries, then every acknowledged one is logged and applied, and re-posting everything after a restart stores each element exactly once', async () => {
    const planned = new Map<string, Planned>();
    for (let i = 0; i < 4000; i++) {
      const p = plan(i);
      planned.set(p.body.uuid, p);
    }

    // 1. Stream deliveries and kill the process in the middle of it.
    const first = await startService(db.url);
    let acknowledged = 0;
    const onResult = (result: SendResult) => {
      if ('status' in result && result.status === 200 && ++acknowledged === KILL_AFTER) first.process.kill('SIGKILL');
    };
    const bodies = [...planned.values()].map((p) => p.body);
    const results = await withTimeout(
      sendConcurrently(first.url, WEBHOOK_KEY, bodies, SENDERS, { onResult }),
      20_000,
      'the delivery stream',
    );
    expect(await withTimeout(first.exited, 5_000, 'the killed service to exit')).toEqual({ code: null, signal: 'SIGKILL' });

    const acked = results.filter((r) => 'status' in r && r.status === 200).map((r) => r.delivery);
    const unanswered = results.filter((r) => !('status' in r)).map((r) => r.delivery);
    expect(results.filter((r) => 'status' in r && r.status !== 200)).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(unanswered.length).toBeGreaterThan(0); // the kill did cut deliveries off in flight
    const sent = results.map((r) => r.delivery);

    // 2. Straight from the database the killed process left behind.
    const afterCrash = await snapshot(db.config);
    expect(acked.flatMap((body) => unlogged(body, afterCrash))).toEqual([]);
    expect(acked.flatMap((body) => planned.get(body.uuid)!.missing(afterCrash))).toEqual([]);
    // A delivery's elements commit together: an unanswered one is logged whole or not at all.
    expect(unanswered.filter((body) => ![0, body.payload.length].includes(loggedCount(body, afterCrash))).map((b) => b.uuid)).toEqual([]);
    expect([...afterCrash.events.values()].filter((e) => e.rows !== 1)).toEqual([]);

    // 3. Restart and re-post everything that was sent, answered or not.
    const second = await startService(db.url);
    const reposted = await withTimeout(sendConcurrently(second.url, WEBHOOK_KEY, sent, SENDERS), 20_000, 'the re-posted deliveries');
    second.process.kill('SIGTERM');
    expect(await withTimeout(second.exited, 10_000, 'the restarted service to exit')).toEqual({ code: 0, signal: null });

    expect(reposted).toHaveLength(sent.length);
    const ackedUuids = new Set(acked.map((b) => b.uuid));
    const wrongAnswers = reposted.flatMap((r) => {
      if (!('status' in r) || r.status !== 200) return [`${r.delivery.uuid}: ${JSON.stringify('status' in r ? r.body : r.error)}`];
      const n = r.delivery.payload.length;
      const { stored, duplicates } = r.body as { stored: number; duplicates: number };
      const expected = ackedUuids.has(r.delivery.uuid)
        ? stored === 0 && duplicates === n
        : stored + duplicates === n && (stored === 0 || stored === n);
      return expected ? [] : [`${r.delivery.uuid}: stored ${stored}, duplicates ${duplicates} of ${n}`];
    });
    expect(wrongAnswers).toEqual([]);

    // 4. Exactly one log row per element of everything sent, and everything applied.
    const afterRestart = await snapshot(db.config);
    expect([...afterRestart.events.values()].filter((e) => e.rows !== 1)).toEqual([]);
    expect(afterRestart.events.size).toBe(sent.reduce((sum, body) => sum + body.payload.length, 0));
    expect(sent.flatMap((body) => unlogged(body, afterRestart))).toEqual([]);
    expect(sent.flatMap((body) => planned.get(body.uuid)!.missing(afterRestart))).toEqual([]);
  }, 60_000);
});

import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { start } from '../src/main.js';
import { RECONCILE_KINDS, reconciliationUuid, type ReconcileReport } from '../src/reconcile/reconciler.js';
import { RECORD_HYDRATED_EVENT_TYPE } from '../src/upstream/hydration/hydration-targets.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { killChildren, runReconcileCli } from './support/child.js';
import { createTestDatabase, databaseKinds, type DatabaseKind, type TestDatabase } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const DAY = 86_400_000;

/** Posts deliveries over HTTP, a few at a time, and insists on 200 for each. */
async function postAll(server: TestServer, deliveries: readonly WebhookDelivery[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        const answer = await server.post(delivery.webhookKey, delivery.body);
        if (answer.status !== 200)
          throw new Error(`delivery ${delivery.body.uuid} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
    }),
  );
}

/** Registers the world's studios (same order, so the same ids on every server) with their keys and the stand-in's URL. */
async function registerStudios(server: TestServer, world: World, standin: Standin): Promise<number[]> {
  const ids: number[] = [];
  for (const studio of world.studios) {
    const added = await server.addStudio({
      name: studio.name,
      webhookKey: studio.webhookKey,
      apiKey: studio.apiKey,
      tenantUrl: standin.baseUrl,
    });
    ids.push(added.id);
  }
  return ids;
}

/** The records reconciliation is responsible for, in a comparable form. */
async function records(server: TestServer) {
  return {
    customers: await server.sql(
      `SELECT "customerId", "studioId", "createdAt", "firstEventAt", "lastCheckinAt", "lastCheckinStudioId", "lastCheckoutAt",
              CASE WHEN "deletedAt" IS NULL THEN 0 ELSE 1 END AS "deleted" FROM customers ORDER BY "customerId"`,
    ),
    visits: await server.sql(
      `SELECT "customerId", "studioId", "checkinAt", "checkoutAt", "checkoutStudioId" FROM visits ORDER BY "customerId", "checkinAt", "checkoutAt"`,
    ),
    contracts: await server.sql(`SELECT "contractId", "customerId", "studioId" FROM contracts ORDER BY "contractId"`),
    classBookings: await server.sql(`SELECT "bookingId", "status", "studioId" FROM class_bookings ORDER BY "bookingId"`),
    appointmentBookings: await server.sql(`SELECT "bookingId", "status", "studioId" FROM appointment_bookings ORDER BY "bookingId"`),
  };
}

/** Events in the log other than hydration's own entries, which the stand-in's keys make the server write in the background. */
const countEvents = async (server: TestServer) =>
  Number((await server.sql(`SELECT COUNT(*) AS n FROM events WHERE "type" <> '${RECORD_HYDRATED_EVENT_TYPE}'`))[0].n);
const totals = (report: ReconcileReport, field: 'seen' | 'present' | 'repaired' | 'skipped') =>
  RECONCILE_KINDS.reduce((sum, k) => sum + report.counts[k][field], 0);

describe.each(databaseKinds())('reconciliation (%s)', (kind: DatabaseKind) => {
  const world = new World({ seed: 31, studios: 2, customersPerStudio: 15 });
  const since = new Date(world.startAt - DAY).toISOString();
  let standin: Standin;
  let full: TestServer;
  let lossy: TestServer;
  let studioIds: number[];
  let dropped: WebhookDelivery[];
  let victim: number;

  beforeAll(async () => {
    standin = await startStandin({ world });
    const stream = world.webhookStream({ dropFraction: 0.05, seed: 5 });
    dropped = stream.dropped;

    // A customer none of whose deliveries were lost is deleted upstream; only its deletion is lost.
    const touched = new Set(dropped.map((d) => d.body.entityId));
    const bookingsOf = (customerId: number) => [
      ...[...world.classBookings.values()].filter((b) => b.customerId === customerId).map((b) => b.bookingId),
      ...[...world.appointmentBookings.values()].filter((b) => b.customerId === customerId).map((b) => b.bookingId),
    ];
    victim = [...world.customers.values()].find((c) => !touched.has(c.id) && bookingsOf(c.id).every((b) => !touched.has(b)))!.id;
    const before = world.deliveries.length;
    world.deleteCustomer(victim);
    const deletion = world.deliveries.slice(before);

    [full, lossy] = await Promise.all([startTestServer(kind), startTestServer(kind)]);
    studioIds = await registerStudios(full, world, standin);
    expect(await registerStudios(lossy, world, standin)).toEqual(studioIds);
    await postAll(full, [...world.deliveries]);
    await postAll(lossy, stream.delivered);
    expect(dropped.length).toBeGreaterThan(10);
    expect(deletion).toHaveLength(1);
  });
  afterEach(() => killChildren());
  afterAll(async () => {
    await Promise.all([full?.stop(), lossy?.stop()]);
    await standin?.close();
  });

  const reconcile = async (studioId: number, ...args: string[]): Promise<ReconcileReport> => {
    const result = await runReconcileCli(lossy.db.url, ['--studio', String(studioId), '--since', since, '--json', ...args]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as ReconcileReport;
  };

  it('when the stream lost deliveries, then the records differ from the full stream before reconciliation', async () => {
    expect(await records(lossy)).not.toEqual(await records(full));
  });

  it('when run with --dry-run, then it counts what is missing and changes nothing', async () => {
    const events = await countEvents(lossy);
    const report = await reconcile(studioIds[0]!, '--dry-run');
    expect(report.dryRun).toBe(true);
    expect(totals(report, 'repaired')).toBeGreaterThan(0);
    expect(await countEvents(lossy)).toBe(events);
  });

  it('when every studio is reconciled, then customers, visits with their times, contracts and bookings equal those of the full stream', async () => {
    const reports = [];
    for (const id of studioIds) reports.push(await reconcile(id));
    const repaired = reports.reduce((sum, r) => sum + totals(r, 'repaired'), 0);
    expect(repaired).toBeGreaterThan(0);
    expect(repaired).toBeLessThanOrEqual(dropped.length + 1);
    expect(reports.reduce((sum, r) => sum + r.counts.deletedCustomers.repaired, 0)).toBe(1);
    for (const report of reports) for (const k of RECONCILE_KINDS) expect(report.counts[k].skipped).toBe(0);

    expect(await records(lossy)).toEqual(await records(full));

    // What reconciliation did is in the event log, marked, with the upstream id.
    const synthesised = await lossy.sql(
      `SELECT "type", "entityId", "content", "occurredAt" FROM events WHERE "content" LIKE '%reconciliation%'`,
    );
    expect(synthesised).toHaveLength(repaired);
    const checkin = synthesised.find((e) => e.type === 'CUSTOMER_CHECKIN');
    if (checkin) {
      const content = JSON.parse(checkin.content);
      expect(content).toEqual({ source: 'reconciliation', checkinId: expect.any(Number) });
      const upstream = world.checkins.find((c) => c.checkinId === content.checkinId)!;
      expect(Number(checkin.occurredAt)).toBe(upstream.checkInAt);
      expect(Number(checkin.entityId)).toBe(upstream.customerId);
    }
    expect(synthesised).toContainEqual(
      expect.objectContaining({ type: 'CUSTOMER_DELETED', entityId: kind === 'postgres' ? String(victim) : victim }),
    );
  });

  it('when reconciliation runs a second time, then everything is present and nothing changes', async () => {
    const events = await countEvents(lossy);
    const before = await records(lossy);
    for (const id of studioIds) {
      const report = await reconcile(id);
      expect(totals(report, 'repaired')).toBe(0);
      expect(totals(report, 'present')).toBe(totals(report, 'seen'));
    }
    expect(await countEvents(lossy)).toBe(events);
    expect(await records(lossy)).toEqual(before);
  });

  it('when a lost check-in or check-out webhook arrives late, after reconciliation repaired it, then no visit is doubled', async () => {
    const late = dropped.filter((d) => ['CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT'].includes(d.body.payload[0]!.type));
    expect(late.length).toBeGreaterThan(0);
    const events = await countEvents(lossy);
    await postAll(lossy, late);
    expect(await countEvents(lossy)).toBe(events + late.length); // logged: they are other deliveries
    expect(await records(lossy)).toEqual(await records(full));
  });

  it('when the CLI is run without a usable studio, then it says why and exits 2', async () => {
    const missing = await runReconcileCli(lossy.db.url, ['--studio', '999']);
    expect(missing).toMatchObject({ code: 2, stdout: '', stderr: 'error: no studio with id 999\n' });
    const noKey = await new StudioService(lossy.app.dataSource).add({ name: 'Keyless', webhookKey: `whk-${randomUUID()}` });
    const keyless = await runReconcileCli(lossy.db.url, ['--studio', String(noKey.id)]);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain(`studio ${noKey.id} ("Keyless") has no Open API key or tenant URL`);
    const usage = await runReconcileCli(lossy.db.url, []);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--studio is required');
    expect(usage.stderr).toContain('usage: npm run reconcile');
  });
});

describe.each(databaseKinds())('scheduled reconciliation in the server (%s)', (kind: DatabaseKind) => {
  it('when RECONCILE_EVERY is set and a round runs, then every studio with a key is reconciled and a summary per studio is logged', async () => {
    const world = new World({ seed: 77, studios: 2, customersPerStudio: 6 });
    const standin = await startStandin({ world });
    const db: TestDatabase = await createTestDatabase(kind);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const app = await start(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: db.url,
        RECONCILE_EVERY: '6h',
        RECONCILE_LOOKBACK: '30d',
      }),
      logger,
    );
    try {
      expect(app.reconciliation).toBeDefined();
      for (const studio of world.studios) {
        await new StudioService(app.dataSource).add({
          name: studio.name,
          webhookKey: studio.webhookKey,
          apiKey: studio.apiKey,
          tenantUrl: standin.baseUrl,
        });
      }
      // Nothing was delivered at all: the round rebuilds what it can from the Open API.
      await app.reconciliation!.runOnce();
      const summaries = lines.filter((l) => l.msg === 'reconciliation of a studio finished');
      expect(summaries.map((l) => l.studioId)).toEqual([1, 2]);
      for (const summary of summaries) expect(summary.repaired).toBeGreaterThan(0);
      const customers = await app.dataSource.query('SELECT COUNT(*) AS n FROM customers');
      expect(Number(customers[0].n)).toBe(world.customers.size);
      const checkins = world.checkins.filter((c) => c.checkInAt >= Date.now() - 30 * DAY).length;
      const visits = await app.dataSource.query(`SELECT COUNT(*) AS n FROM visits WHERE "checkinAt" IS NOT NULL`);
      expect(Number(visits[0].n)).toBe(checkins);
    } finally {
      await app.stop();
      await db.drop();
      await standin.close();
    }
  });
});

describe.each(databaseKinds())('visits from duplicated presence events (%s)', (kind: DatabaseKind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.stop());

  it('when a check-in and a check-out each arrive twice under different uuids at the same upstream time, then there is one visit', async () => {
    const studio = await server.addStudio();
    const customerId = 4242;
    const at = 1_764_000_000_000;
    const send = (type: string, timestamp: number) =>
      server.post(studio.webhookKey, { uuid: randomUUID(), entityId: customerId, payload: [{ type, timestamp }] });
    // Check-out first, then the check-in, then both again: order must not matter.
    for (const [type, timestamp] of [
      ['CUSTOMER_CHECKOUT', at + 3_600_000],
      ['CUSTOMER_CHECKIN', at],
      ['CUSTOMER_CHECKIN', at],
      ['CUSTOMER_CHECKOUT', at + 3_600_000],
    ] as const) {
      expect((await send(type, timestamp)).status).toBe(200);
    }
    const visits = await server.sql(`SELECT "checkinAt", "checkoutAt" FROM visits WHERE "customerId" = $1`, [customerId]);
    expect(visits.map((v) => [Number(v.checkinAt), Number(v.checkoutAt)])).toEqual([[at, at + 3_600_000]]);
  });

  it('when reconciliation-style uuids are derived, then they are stable, distinct per action, and valid uuids', () => {
    const a = reconciliationUuid(1, 'checkins', 100_001, 'checkin');
    expect(a).toBe(reconciliationUuid(1, 'checkins', 100_001, 'checkin'));
    expect(a).not.toBe(reconciliationUuid(1, 'checkouts', 100_001, 'checkout'));
    expect(a).not.toBe(reconciliationUuid(2, 'checkins', 100_001, 'checkin'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe.each(databaseKinds())("reconciliation after a studio's automatic check-out (%s)", (kind: DatabaseKind) => {
  it('when the studio checked customers out itself, then reconciliation finds those check-outs present and synthesises none', async () => {
    const world = new World({ seed: 47, studios: 1, customersPerStudio: 12, days: 4 });
    const studio = world.studios[0]!;
    // Whoever is still in at the end is checked out by the studio; one more is let in first, so that someone is.
    world.visit([...world.customers.keys()][0]!, studio.id);
    const closed = world.automaticCheckout(studio.id);
    expect(closed.length).toBeGreaterThan(0);
    const standin = await startStandin({ world });
    const server = await startTestServer(kind);
    try {
      const [studioId] = await registerStudios(server, world, standin);
      await postAll(server, [...world.deliveries]);
      const result = await runReconcileCli(server.db.url, [
        '--studio',
        String(studioId),
        '--since',
        new Date(world.startAt - DAY).toISOString(),
        '--json',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const report = JSON.parse(result.stdout) as ReconcileReport;
      expect(report.counts.checkouts).toMatchObject({ repaired: 0 });
      expect(report.counts.checkouts.present).toBe(report.counts.checkouts.seen);
      const open = await server.sql(`SELECT COUNT(*) AS "n" FROM visits WHERE "checkinAt" IS NOT NULL AND "checkoutAt" IS NULL`);
      expect(Number(open[0].n)).toBe(0);
    } finally {
      await server.stop();
      await standin.close();
    }
  });
});

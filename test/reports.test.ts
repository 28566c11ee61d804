import { randomUUID } from 'node:crypto';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery, type WorldClassBooking, type WorldSlot } from '../tools/upstream-standin/world.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { until } from './support/ws.js';

/**
 * The reports (classReport, membersReport, Studio.summary) against a stand-in upstream: its webhook
 * stream is posted, hydration reads the Open API, and every number is compared with a computation
 * over the world the stream came from, here in the test.
 */

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const FAST = {
  ADMIN_TOKEN,
  HYDRATION_DELAY_MS: '0',
  HYDRATION_POLL_MS: '20',
  HYDRATION_RETRY_BASE_MS: '20',
  HYDRATION_RETRY_MAX_MS: '200',
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Upstream studio ids of the world (World numbers them from 11). */
const A = 11;
const B = 12;
const ZONE_A = 'America/Los_Angeles';
const ZONE_B = 'Asia/Kathmandu';

const localDate = (ms: number, zone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
/** `2026-W02` for a local date, by the ISO rule (the week of its Thursday). */
function isoWeek(date: string): string {
  const day = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  const thursday = new Date(day + (3 - weekday) * DAY);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

interface Setup {
  readonly world: World;
  readonly standin: Standin;
  readonly server: TestServer;
  /** Our studio id per upstream studio id. */
  readonly ours: Map<number, number>;
  readonly tokenA: string;
}

async function gql(
  server: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  token = ADMIN_TOKEN,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}

async function data(server: TestServer, query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN): Promise<any> {
  const { body } = await gql(server, query, variables, token);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** The scanner has read every event stored so far, and no job is waiting, running or retrying. */
async function settled(server: TestServer): Promise<void> {
  await until(
    async () => {
      const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
      const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
      const [open] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ('queued', 'running', 'retrying')`);
      return Number(cursor?.seq ?? 0) >= Number(events.max ?? 0) && Number(open.n) === 0;
    },
    60_000,
    'hydration to settle',
  );
}

const craft = (
  world: World,
  studioId: number,
  entityId: number,
  timestamp: number,
  type: string,
  content?: Record<string, unknown>,
): WebhookDelivery => ({
  studioId,
  webhookKey: world.studio(studioId).webhookKey,
  body: { entityId, uuid: randomUUID(), payload: [{ timestamp, type, ...(content ? { content } : {}) }] },
});

const studioOfSlot = (world: World, slot: WorldSlot) => world.classes.get(slot.classId)!.studioId;

/**
 * A world whose slots are all known (a CLASS_SLOT_UPDATED for each, before any cancellation), with
 * one slot overbooked (a waiting list) and some no-shows.
 */
function makeWorld(): { world: World; extra: WebhookDelivery[] } {
  const world = new World({ seed: 23, studios: 2, customersPerStudio: 16, days: 14 });
  const extra = [...world.slots.values()].map((slot) =>
    craft(world, studioOfSlot(world, slot), slot.id, slot.startAt - 100 * HOUR, 'CLASS_SLOT_UPDATED', { classId: slot.classId }),
  );
  const open = (slot: WorldSlot) => [...world.classBookings.values()].filter((b) => b.classSlotId === slot.id && b.cancelledAt === null);
  // Overbook the open slot of studio A with the fewest places, by two more than it holds.
  const slotsA = [...world.slots.values()]
    .filter((s) => studioOfSlot(world, s) === A && !s.cancelled)
    .sort((x, y) => x.maxParticipants - y.maxParticipants || x.id - y.id);
  const full = slotsA[0]!;
  const customersA = [...world.customers.values()].filter((c) => c.studioId === A && !open(full).some((b) => b.customerId === c.id));
  const missing = full.maxParticipants - open(full).length + 2;
  if (customersA.length < missing)
    throw new Error(`seed: slot ${full.id} needs ${missing} more customers, studio A has ${customersA.length}`);
  customersA.slice(0, missing).forEach((c, i) => world.bookClass(c.id, full.id, full.startAt - 2 * HOUR + i * 1000));
  // Three no-shows per studio, among the bookings that hold a place.
  for (const studio of [A, B]) {
    const holding = [...world.slots.values()]
      .filter((s) => studioOfSlot(world, s) === studio && !s.cancelled && s.id !== full.id)
      .flatMap((s) => open(s));
    for (const booking of holding.slice(0, 3)) world.markNoShow(booking.bookingId);
  }
  return { world, extra };
}

// ---- the expected numbers, computed from the world ----

interface SlotCounts {
  slots: number;
  cancelledSlots: number;
  booked: number;
  capacity: number | null;
  waitingList: number;
  cancellations: number;
  attended: number;
  noShows: number;
}
const zero = (): SlotCounts => ({
  slots: 0,
  cancelledSlots: 0,
  booked: 0,
  capacity: null,
  waitingList: 0,
  cancellations: 0,
  attended: 0,
  noShows: 0,
});

/** What one slot contributes: places in booking order, the rest waiting; every slot of the world has ended. */
function slotCounts(world: World, slot: WorldSlot): SlotCounts {
  if (slot.cancelled) return { ...zero(), cancelledSlots: 1 };
  const bookings = [...world.classBookings.values()].filter((b) => b.classSlotId === slot.id);
  const open = bookings.filter((b) => b.cancelledAt === null).sort((x, y) => x.bookedAt - y.bookedAt || x.bookingId - y.bookingId);
  const holding: WorldClassBooking[] = open.slice(0, slot.maxParticipants);
  return {
    slots: 1,
    cancelledSlots: 0,
    booked: holding.length,
    capacity: slot.maxParticipants,
    waitingList: open.length - holding.length,
    cancellations: bookings.length - open.length,
    attended: holding.filter((b) => !b.noShow).length,
    noShows: holding.filter((b) => b.noShow).length,
  };
}

function sum(rows: readonly SlotCounts[]): SlotCounts & { fillRate: number | null } {
  const total = zero();
  for (const r of rows) {
    for (const key of ['slots', 'cancelledSlots', 'booked', 'waitingList', 'cancellations', 'attended', 'noShows'] as const)
      total[key] += r[key];
    if (r.capacity !== null) total.capacity = (total.capacity ?? 0) + r.capacity;
  }
  return { ...total, fillRate: total.capacity ? Math.round((total.booked / total.capacity) * 10_000) / 10_000 : null };
}

/** Contracts active on `date` (ISO): started, not ended, not cancelled by then; the world's contracts run a year. */
const activeOn = (world: World, date: string, studio?: number) =>
  new Set(
    world.contracts
      .filter(
        (k) => (studio === undefined || world.customers.get(k.customerId)!.studioId === studio) && k.startDate <= date && date <= k.endDate,
      )
      .filter((k) => (k.cancellationDate === null ? k.contractStatus === 'ACTIVE' : date < k.cancellationDate))
      .map((k) => k.customerId),
  );

const REPORT_FIELDS =
  'label start end slotId classId instructor slots cancelledSlots booked capacity fillRate waitingList cancellations attended noShows';
const counts = (row: any) => ({
  slots: row.slots,
  cancelledSlots: row.cancelledSlots,
  booked: row.booked,
  capacity: row.capacity,
  fillRate: row.fillRate,
  waitingList: row.waitingList,
  cancellations: row.cancellations,
  attended: row.attended,
  noShows: row.noShows,
});
const CLASS_REPORT = `query($range: TimeRangeInput, $groupBy: [ClassReportGrouping!], $timeZone: String, $studioIds: [ID!]) {
  classReport(range: $range, groupBy: $groupBy, timeZone: $timeZone, studioIds: $studioIds) { ${REPORT_FIELDS} } }`;

describe.each(databaseKinds())('reports (%s)', (kind) => {
  let setup: Setup;

  beforeAll(async () => {
    const { world, extra } = makeWorld();
    const standin = await startStandin({ world });
    const server = await startTestServer(kind, FAST);
    const ours = new Map<number, number>();
    for (const s of world.studios) {
      const studio = await server.addStudio({
        name: s.name,
        webhookKey: s.webhookKey,
        apiKey: s.apiKey,
        tenantUrl: standin.baseUrl,
        timeZone: s.id === A ? ZONE_A : ZONE_B,
      });
      ours.set(s.id, studio.id);
    }
    for (const d of [...extra, ...world.deliveries]) {
      const response = await server.post(d.webhookKey, d.body);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    await settled(server);
    const tokenA = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [ours.get(A)!], name: 'studio A' }))
      .token;
    setup = { world, standin, server, ours, tokenA };
  }, 120_000);

  afterAll(async () => {
    await setup?.server.stop();
    await setup?.standin.close();
  });

  describe('classReport', () => {
    it('when grouped by slot over an open-ended range, then each slot has the booked places, capacity, waiting list, cancellations, attendance and no-shows of the world', async () => {
      const { world, server } = setup;
      const from = world.startAt + 5 * DAY;
      const { classReport } = await data(server, CLASS_REPORT, { range: { from: new Date(from).toISOString() }, groupBy: 'SLOT' });
      const slots = [...world.slots.values()].filter((s) => s.startAt >= from).sort((x, y) => x.startAt - y.startAt || x.id - y.id);
      expect(classReport.map((row: any) => row.slotId)).toEqual(slots.map((s) => String(s.id)));
      for (const [i, slot] of slots.entries()) {
        const row = classReport[i];
        expect({ slot: slot.id, ...counts(row) }).toEqual({ slot: slot.id, ...sum([slotCounts(world, slot)]) });
        expect(row).toMatchObject({
          start: new Date(slot.startAt).toISOString(),
          end: new Date(slot.endAt).toISOString(),
          classId: String(slot.classId),
          instructor: `${slot.instructors[0]!.firstName} ${slot.instructors[0]!.lastName}`,
        });
      }
      // The stream had what each column needs: an overbooked slot, no-shows, cancellations, a cancelled slot.
      const total = sum(slots.map((s) => slotCounts(world, s)));
      expect(total.waitingList).toBe(2);
      expect(total.noShows).toBeGreaterThan(0);
      expect(total.cancellations).toBeGreaterThan(0);
    });

    it("when grouped by local day or week, then slots fall in the day of their start in the zone asked for (or the studio's), not in UTC", async () => {
      const { world, server, tokenA } = setup;
      // No zone given: studio A's for A's token; UTC for the admin, whose studios have different zones.
      for (const [zone, token, groupBy, given] of [
        [ZONE_B, ADMIN_TOKEN, 'DAY', true],
        [ZONE_A, tokenA, 'DAY', false],
        [ZONE_B, ADMIN_TOKEN, 'WEEK', true],
        ['UTC', ADMIN_TOKEN, 'DAY', false],
      ] as const) {
        const scoped = token === tokenA;
        const { classReport } = await data(server, CLASS_REPORT, { groupBy, ...(given ? { timeZone: zone } : {}) }, token);
        const byPeriod = new Map<string, SlotCounts[]>();
        for (const slot of world.slots.values()) {
          if (scoped && studioOfSlot(world, slot) !== A) continue;
          const day = localDate(slot.startAt, zone);
          const label = groupBy === 'DAY' ? day : isoWeek(day);
          byPeriod.set(label, [...(byPeriod.get(label) ?? []), slotCounts(world, slot)]);
        }
        const expected = [...byPeriod.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, rows]) => ({ label, ...sum(rows) }));
        expect(classReport.map((row: any) => ({ label: row.label, ...counts(row) }))).toEqual(expected);
        for (const row of classReport) {
          // A local day starts at local midnight of its label.
          if (groupBy === 'DAY') expect(localDate(Date.parse(row.start), zone)).toBe(row.label);
          if (groupBy === 'DAY') expect(localDate(Date.parse(row.start) - 1, zone)).not.toBe(row.label);
        }
      }
      // The zones do put some slots on another day than UTC does.
      expect([...world.slots.values()].some((s) => localDate(s.startAt, ZONE_A) !== localDate(s.startAt, 'UTC'))).toBe(true);
    });

    it('when grouped by class or instructor, then each row adds up its slots', async () => {
      const { world, server } = setup;
      for (const groupBy of ['CLASS', 'INSTRUCTOR'] as const) {
        const { classReport } = await data(server, CLASS_REPORT, { groupBy });
        const groups = new Map<string, SlotCounts[]>();
        for (const slot of world.slots.values()) {
          const key = groupBy === 'CLASS' ? String(slot.classId) : `${slot.instructors[0]!.firstName} ${slot.instructors[0]!.lastName}`;
          groups.set(key, [...(groups.get(key) ?? []), slotCounts(world, slot)]);
        }
        const sortKey = (label: string) => (groupBy === 'CLASS' ? label.padStart(12, '0') : label);
        const expected = [...groups.entries()]
          .sort(([a], [b]) => (sortKey(a) < sortKey(b) ? -1 : 1))
          .map(([label, rows]) => ({ label, ...sum(rows) }));
        expect(classReport.map((row: any) => ({ label: row.label, ...counts(row) }))).toEqual(expected);
      }
    });

    it('when grouped by a list of dimensions, then one row per combination that has slots, in the order of the list, each row adding up its slots', async () => {
      const { world, server, ours } = setup;
      const weekdayHour = (ms: number, zone: string) => {
        const parts = new Intl.DateTimeFormat('en-US', {
          timeZone: zone,
          weekday: 'long',
          hour: '2-digit',
          hourCycle: 'h23',
        }).formatToParts(ms);
        const weekday = parts.find((p) => p.type === 'weekday')!.value;
        const hour = Number(parts.find((p) => p.type === 'hour')!.value);
        return { weekday, day: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].indexOf(weekday) + 1, hour };
      };
      const expectGroups = async (
        variables: Record<string, unknown>,
        keyOf: (slot: WorldSlot) => { label: string; order: readonly (number | string)[] },
        extra: (row: any) => Record<string, unknown> = () => ({}),
      ) => {
        const { classReport } = await data(server, CLASS_REPORT, variables);
        const groups = new Map<string, { order: readonly (number | string)[]; rows: SlotCounts[] }>();
        for (const slot of world.slots.values()) {
          const { label, order } = keyOf(slot);
          const group = groups.get(label) ?? { order, rows: [] };
          group.rows.push(slotCounts(world, slot));
          groups.set(label, group);
        }
        const compare = (a: readonly (number | string)[], b: readonly (number | string)[]) => {
          for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
          return 0;
        };
        const expected = [...groups.entries()]
          .sort(([, a], [, b]) => compare(a.order, b.order))
          .map(([label, g]) => ({ label, ...sum(g.rows) }));
        expect(classReport.map((row: any) => ({ label: row.label, ...counts(row) }))).toEqual(expected);
        return classReport.map((row: any) => ({ label: row.label, ...extra(row) }));
      };
      // [CLASS, WEEK]: per class (by id), then per ISO week of the start in the zone asked for.
      await expectGroups({ groupBy: ['CLASS', 'WEEK'], timeZone: ZONE_B }, (slot) => {
        const week = isoWeek(localDate(slot.startAt, ZONE_B));
        return { label: `${slot.classId} / ${week}`, order: [slot.classId, week] };
      });
      // The weekly timetable [DAY_OF_WEEK, HOUR_OF_DAY] in studio A's zone: weekday and hour fields set.
      const timetable = await expectGroups(
        { groupBy: ['DAY_OF_WEEK', 'HOUR_OF_DAY'], timeZone: ZONE_A },
        (slot) => {
          const { weekday, day, hour } = weekdayHour(slot.startAt, ZONE_A);
          return { label: `${weekday} / ${String(hour).padStart(2, '0')}:00`, order: [day, hour] };
        },
        (row) => ({ start: row.start, slotId: row.slotId }),
      );
      expect(timetable.every((row: any) => row.start === null && row.slotId === null)).toBe(true);
      // [STUDIO, INSTRUCTOR]: our studio ids, then the instructor's name.
      const studioOf = (slot: WorldSlot) => ours.get(studioOfSlot(world, slot))!;
      const name = (slot: WorldSlot) => `${slot.instructors[0]!.firstName} ${slot.instructors[0]!.lastName}`;
      await expectGroups({ groupBy: ['STUDIO', 'INSTRUCTOR'] }, (slot) => ({
        label: `${studioOf(slot)} / ${name(slot)}`,
        order: [studioOf(slot), name(slot)],
      }));
      // An empty list: one total over every slot.
      await expectGroups({ groupBy: [] }, () => ({ label: 'total', order: [] }));
    });

    it('when groupBy names a dimension twice or two periods, then BAD_USER_INPUT naming groupBy', async () => {
      for (const groupBy of [
        ['DAY', 'WEEK'],
        ['CLASS', 'CLASS'],
      ]) {
        const { body } = await gql(setup.server, CLASS_REPORT, { groupBy });
        expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(body.errors?.[0]?.message).toMatch(/^groupBy: /);
      }
    });

    it("when a token of studio A asks, then it sees only studio A's slots, and naming studio B is FORBIDDEN", async () => {
      const { world, server, tokenA, ours } = setup;
      const { classReport } = await data(server, CLASS_REPORT, { groupBy: 'CLASS' }, tokenA);
      const classesA = [...world.classes.values()]
        .filter((c) => c.studioId === A)
        .map((c) => String(c.id))
        .sort();
      expect(classReport.map((row: any) => row.classId).sort()).toEqual(classesA);
      const { body } = await gql(server, CLASS_REPORT, { studioIds: [String(ours.get(B))] }, tokenA);
      expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('membersReport', () => {
    const MEMBERS = `query($date: String, $timeZone: String, $studioIds: [ID!], $groupBy: [ContractPeriodGrouping!]) {
      membersReport(date: $date, timeZone: $timeZone, studioIds: $studioIds) { date timeZone activeMembers
        contracts(groupBy: $groupBy) { label start end created cancelled } } }`;

    it('when asked for a date, then active members are the customers with a contract started, not ended and not cancelled by then', async () => {
      const { world, server, tokenA } = setup;
      for (const date of ['2026-01-01', '2026-01-04', '2026-01-12']) {
        const all = await data(server, MEMBERS, { date });
        const scoped = await data(server, MEMBERS, { date }, tokenA);
        expect({ date, all: all.membersReport.activeMembers, a: scoped.membersReport.activeMembers }).toEqual({
          date,
          all: activeOn(world, date).size,
          a: activeOn(world, date, A).size,
        });
      }
      // Cancellations happen within the history: the count moves.
      expect(activeOn(world, '2026-01-12').size).toBeLessThan(world.contracts.length);
    });

    it('when contracts are grouped by local day, week or month, then new contracts fall in the local period of their creation and cancellations on their date', async () => {
      const { world, server } = setup;
      for (const [zone, groupBy] of [
        [ZONE_A, 'DAY'],
        [ZONE_B, 'WEEK'],
        [ZONE_A, 'MONTH'],
      ] as const) {
        const { membersReport } = await data(server, MEMBERS, { timeZone: zone, groupBy });
        // The zone as this runtime's Intl names it (ICU calls Asia/Kathmandu "Asia/Katmandu").
        expect(membersReport.timeZone).toBe(new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone);
        const label = (date: string) => (groupBy === 'DAY' ? date : groupBy === 'WEEK' ? isoWeek(date) : date.slice(0, 7));
        const expected = new Map<string, { created: number; cancelled: number }>();
        const bump = (key: string, field: 'created' | 'cancelled') => {
          const entry = expected.get(key) ?? { created: 0, cancelled: 0 };
          entry[field] += 1;
          expected.set(key, entry);
        };
        for (const k of world.contracts) {
          bump(label(localDate(k.createdAt, zone)), 'created');
          if (k.cancellationDate) bump(label(k.cancellationDate), 'cancelled');
        }
        const answered = membersReport.contracts
          .filter((p: any) => p.created + p.cancelled > 0)
          .map((p: any) => [p.label, { created: p.created, cancelled: p.cancelled }]);
        expect(answered).toEqual([...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
        // Periods follow each other without gaps.
        for (let i = 1; i < membersReport.contracts.length; i++)
          expect(membersReport.contracts[i].start).toBe(membersReport.contracts[i - 1].end);
      }
    });

    it('when contracts are grouped by a list of dimensions, then one row per studio and period (zeros included), or per period and weekday; a list without a period is refused', async () => {
      const { world, server, ours } = setup;
      const { membersReport } = await data(server, MEMBERS, { timeZone: ZONE_A, groupBy: ['STUDIO', 'MONTH'] });
      const expected = new Map<string, { created: number; cancelled: number }>();
      const bump = (key: string, field: 'created' | 'cancelled') => {
        const entry = expected.get(key) ?? { created: 0, cancelled: 0 };
        entry[field] += 1;
        expected.set(key, entry);
      };
      for (const k of world.contracts) {
        const studio = ours.get(world.customers.get(k.customerId)!.studioId)!;
        bump(`${studio} / ${localDate(k.createdAt, ZONE_A).slice(0, 7)}`, 'created');
        if (k.cancellationDate) bump(`${studio} / ${k.cancellationDate.slice(0, 7)}`, 'cancelled');
      }
      const rows = membersReport.contracts.map((p: any) => [p.label, { created: p.created, cancelled: p.cancelled }]);
      expect(rows.filter(([, c]: any) => c.created + c.cancelled > 0)).toEqual(
        [...expected.entries()].sort(([a], [b]) => Number(a.split(' / ')[0]) - Number(b.split(' / ')[0]) || (a < b ? -1 : 1)),
      );
      // Every studio has every month, the studio outermost.
      const months = new Set(membersReport.contracts.map((p: any) => p.label.split(' / ')[1]));
      expect(membersReport.contracts).toHaveLength(2 * months.size);
      expect(membersReport.contracts[0].label.startsWith(`${Math.min(...ours.values())} / `)).toBe(true);
      // [WEEK, DAY_OF_WEEK]: the weekday of the creation (local) or of the cancellation date.
      const weekdays = await data(
        server,
        `{ membersReport(timeZone: "${ZONE_B}") { contracts(groupBy: [WEEK, DAY_OF_WEEK]) { label dayOfWeek studioId created cancelled } } }`,
      );
      const byWeekday = new Map<number, number>();
      const weekdayOf = (date: string) => ((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
      for (const k of world.contracts) {
        const day = weekdayOf(localDate(k.createdAt, ZONE_B));
        byWeekday.set(day, (byWeekday.get(day) ?? 0) + 1);
      }
      const answered = new Map<number, number>();
      for (const p of weekdays.membersReport.contracts) {
        expect(p.studioId).toBeNull();
        expect(p.label).toMatch(/^\d{4}-W\d{2} \/ [A-Z][a-z]+day$/);
        answered.set(p.dayOfWeek, (answered.get(p.dayOfWeek) ?? 0) + p.created);
      }
      expect([...answered.entries()].filter(([, n]) => n > 0).sort()).toEqual([...byWeekday.entries()].sort());
      const { body } = await gql(server, MEMBERS, { groupBy: ['STUDIO'] });
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0]?.message).toMatch(/^groupBy: a contract period needs one of DAY, WEEK or MONTH/);
      // Past 2,000 local days (from 2020 to the last contract, in 2026): TOO_MANY_BUCKETS.
      const long = await gql(
        server,
        `{ membersReport { contracts(groupBy: [STUDIO, DAY], range: {from: "2020-01-01T00:00:00Z"}) { created } } }`,
      );
      expect(long.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_BUCKETS');
    });

    it('when members absent since a time are paged through, then every page holds the next members, none twice, and together those with no check-in since', async () => {
      const { world, server, tokenA } = setup;
      const since = world.endAt - 1.5 * DAY;
      const date = '2026-01-12';
      const query = `query($since: DateTimeISO!, $after: String, $date: String) { membersReport(date: $date) {
        absentMembers(since: $since, first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { customerId lastCheckinAt customer { customerId } } } } }`;
      const seen: any[] = [];
      let after: string | null = null;
      let total = 0;
      for (let page = 0; page < 50; page++) {
        const { membersReport }: any = await data(server, query, { since: new Date(since).toISOString(), after, date }, tokenA);
        const { nodes, pageInfo, totalCount } = membersReport.absentMembers;
        expect(nodes.length).toBeLessThanOrEqual(3);
        seen.push(...nodes);
        total = totalCount;
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
      }
      const checkinsA = world.checkins.filter((c) => c.studioId === A);
      const expected = [...activeOn(world, date, A)]
        .filter((id) => !checkinsA.some((c) => c.customerId === id && c.checkInAt >= since))
        .sort((x, y) => x - y);
      expect(expected.length).toBeGreaterThan(3);
      expect(seen.map((n) => Number(n.customerId))).toEqual(expected);
      expect(total).toBe(expected.length);
      for (const node of seen) {
        const last = Math.max(...checkinsA.filter((c) => c.customerId === Number(node.customerId)).map((c) => c.checkInAt));
        expect({ id: node.customerId, last: node.lastCheckinAt }).toEqual({
          id: node.customerId,
          last: Number.isFinite(last) ? new Date(last).toISOString() : null,
        });
        expect(node.customer).toEqual({ customerId: node.customerId });
      }
    });
  });

  describe('studioSummary', () => {
    const SUMMARY = `query($id: ID!, $date: String) { studioSummary(studioId: $id, date: $date) { date timeZone customers activeMembers inNow visitsToday bookingsToday
      studio { id } classesToday { slotId booked capacity fillRate waitingList attended noShows } } }`;

    it("when asked for a local day, then it counts the studio's customers, members, visits, bookings and classes of that day in the studio's zone", async () => {
      const { world, server, ours, tokenA } = setup;
      for (const date of ['2026-01-05', '2026-01-09']) {
        const { studioSummary } = await data(server, SUMMARY, { id: String(ours.get(A)), date }, tokenA);
        const inDay = (ms: number) => localDate(ms, ZONE_A) === date;
        const slotsOfDay = [...world.slots.values()]
          .filter((s) => studioOfSlot(world, s) === A && inDay(s.startAt))
          .sort((x, y) => x.startAt - y.startAt || x.id - y.id);
        const linked = new Set([...world.customers.values()].filter((c) => c.studioId === A).map((c) => c.id));
        for (const c of world.checkins) if (c.studioId === A) linked.add(c.customerId);
        expect(studioSummary).toMatchObject({
          date,
          timeZone: ZONE_A,
          studio: { id: String(ours.get(A)) },
          customers: linked.size,
          activeMembers: activeOn(world, date, A).size,
          visitsToday: world.checkins.filter((c) => c.studioId === A && inDay(c.checkInAt)).length,
          bookingsToday:
            [...world.classBookings.values()].filter((b) => world.classes.get(b.classId)!.studioId === A && inDay(b.bookedAt)).length +
            [...world.appointmentBookings.values()].filter((b) => b.studioId === A && inDay(b.bookedAt)).length,
        });
        expect(
          studioSummary.classesToday.map((row: any) => ({
            slotId: row.slotId,
            booked: row.booked,
            waitingList: row.waitingList,
            noShows: row.noShows,
          })),
        ).toEqual(
          slotsOfDay.map((s) => {
            const c = slotCounts(world, s);
            return { slotId: String(s.id), booked: c.booked, waitingList: c.waitingList, noShows: c.noShows };
          }),
        );
      }
    });

    it('when a customer checks in now, then inNow counts them, as occupancy does', async () => {
      const { world, server, ours } = setup;
      const read = async () => {
        const { studioSummary, occupancy } = await data(
          server,
          `query($id: ID!, $ids: [ID!]) { studioSummary(studioId: $id) { inNow } occupancy(studioIds: $ids) { total } }`,
          { id: String(ours.get(A)), ids: [String(ours.get(A))] },
        );
        return { inNow: studioSummary.inNow, occupancy: occupancy.total };
      };
      const before = await read();
      expect(before.inNow).toBe(before.occupancy);
      // Someone whose latest visit is closed walks in.
      const customer = [...world.customers.values()].find((c) => {
        const visits = world.checkins.filter((v) => v.customerId === c.id).sort((x, y) => x.checkInAt - y.checkInAt);
        return visits.length > 0 && visits[visits.length - 1]!.checkOutAt !== null;
      })!;
      const response = await server.post(
        world.studio(A).webhookKey,
        craft(world, A, customer.id, Date.now() - 60_000, 'CUSTOMER_CHECKIN').body,
      );
      expect(response.status).toBe(200);
      const after = await read();
      expect(after).toEqual({ inNow: before.inNow + 1, occupancy: before.occupancy + 1 });
    });

    it('when a token of studio A asks for studio B, then it is FORBIDDEN and nothing is answered; an unknown studio has no summary', async () => {
      const { server, ours, tokenA } = setup;
      const { body } = await gql(server, SUMMARY, { id: String(ours.get(B)) }, tokenA);
      expect({ code: body.errors?.[0]?.extensions?.code, data: body.data?.studioSummary ?? null }).toEqual({
        code: 'FORBIDDEN',
        data: null,
      });
      expect((await data(server, SUMMARY, { id: '999999' })).studioSummary).toBeNull();
    });
  });

  describe('plans', () => {
    /** The statements a GraphQL operation ran, as SqlReader logs them before it runs them. */
    async function statements(query: string, variables: Record<string, unknown>, token: string): Promise<[string, unknown[]][]> {
      const logger = setup.server.app.dataSource.logger as { logQuery: (sql: string, params?: unknown[]) => void };
      const original = logger.logQuery;
      const seen: [string, unknown[]][] = [];
      logger.logQuery = (sql, params) => seen.push([sql, params ?? []]);
      try {
        await data(setup.server, query, variables, token);
      } finally {
        logger.logQuery = original;
      }
      return seen;
    }

    // SQLite only (not defined on PostgreSQL, which plans tiny tables by their statistics: a scan is
    // cheapest there); bench:reports shows its plans at 100k customers.
    if (kind === 'sqlite')
      it("when a page of absent members or a class report is read, then SQLite seeks the reports' indexes (no scan of contracts or slots)", async () => {
        const { server, tokenA, world } = setup;
        const first = await data(
          server,
          `query($since: DateTimeISO!) { membersReport(date: "2026-01-12") { absentMembers(since: $since, first: 2) { pageInfo { endCursor } } } }`,
          { since: new Date(world.endAt).toISOString() },
          tokenA,
        );
        const plan = async (query: string, variables: Record<string, unknown>, table: string) => {
          const [sql, params] = (await statements(query, variables, tokenA)).find(([text]) => text.includes(`FROM "${table}"`))!;
          return (await server.sql(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row: any) => String(row.detail)).join('\n');
        };
        const absent = await plan(
          `query($since: DateTimeISO!, $after: String) { membersReport(date: "2026-01-12") { absentMembers(since: $since, first: 2, after: $after) { nodes { customerId } } } }`,
          { since: new Date(world.endAt).toISOString(), after: first.membersReport.absentMembers.pageInfo.endCursor },
          'contracts',
        );
        expect(absent).toMatch(/SEARCH k USING INDEX contracts_member \(studioId=\? AND \(tenantId,customerId\)>\(\?,\?\)\)/);
        expect(absent).not.toMatch(/SCAN k/);
        const classes = await plan(
          `{ classReport(range: {from: "2026-01-05T00:00:00Z", to: "2026-01-08T00:00:00Z"}) { booked } }`,
          {},
          'class_slots',
        );
        expect(classes).toMatch(/SEARCH s USING INDEX class_slots_studio_start \(studioId=\? AND startAt>\? AND startAt<\?\)/);
        expect(classes).toMatch(/SEARCH b USING INDEX class_bookings_slot/);
      });
  });

  describe('limits and bad input', () => {
    it('when a query holds eleven reports or six two-number summaries, then it is refused as QUERY_TOO_COMPLEX before anything runs', async () => {
      const aliases = Array.from({ length: 11 }, (_, i) => `r${i}: classReport(groupBy: CLASS) { booked }`).join(' ');
      const { status, body } = await gql(setup.server, `{ ${aliases} }`);
      expect({ status, code: body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'QUERY_TOO_COMPLEX' });
      const summaries = Array.from(
        { length: 6 },
        (_, i) => `s${i}: studioSummary(studioId: "${setup.ours.get(A)}") { inNow customers }`,
      ).join(' ');
      const refused = await gql(setup.server, `{ ${summaries} }`);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    });

    it.each([
      ['an unknown grouping', 'GRAPHQL_VALIDATION_FAILED', `{ classReport(groupBy: HOURLY) { booked } }`, /HOURLY/],
      [
        'an inverted range',
        'BAD_USER_INPUT',
        `{ classReport(range: {from: "2026-01-10T00:00:00Z", to: "2026-01-01T00:00:00Z"}) { booked } }`,
        /range: from must be before to/,
      ],
      ['an unknown zone', 'BAD_USER_INPUT', `{ classReport(groupBy: DAY, timeZone: "Mars/Olympus") { booked } }`, /timeZone/],
      ['an impossible date', 'BAD_USER_INPUT', `{ membersReport(date: "2026-02-30") { activeMembers } }`, /date: expected a calendar date/],
      [
        'an inverted contracts range',
        'BAD_USER_INPUT',
        `{ membersReport { contracts(range: {from: "2026-01-10T00:00:00Z", to: "2026-01-01T00:00:00Z"}) { created } } }`,
        /range: from must be before to/,
      ],
      [
        'a foreign cursor',
        'BAD_USER_INPUT',
        `{ membersReport { absentMembers(since: "2026-01-01T00:00:00Z", after: "bm90IGEgY3Vyc29y") { totalCount } } }`,
        /after: not a cursor/,
      ],
      [
        'a page too large',
        'BAD_USER_INPUT',
        `{ membersReport { absentMembers(since: "2026-01-01T00:00:00Z", first: 101) { nodes { customerId } } } }`,
        /first must be between 0 and 100/,
      ],
    ])('when a report is asked with %s, then the answer is the error %s and no data', async (_, code, query, message) => {
      const { body } = await gql(setup.server, query);
      expect(body.errors?.[0]?.extensions?.code).toBe(code);
      expect(body.errors?.[0]?.message).toMatch(message);
      expect(body.data ?? null).toBeNull();
    });
  });
});

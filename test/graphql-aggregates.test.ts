import { TokenService } from '../src/domains/access/token.service.js';
import { WallClock, calendarPlan } from '../src/domains/stats/time-buckets.js';
import { databaseKinds, type DatabaseKind } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * The fixture straddles the end of summer time in Berlin: on Sunday 2026-10-25 the clocks go back
 * from 03:00 CEST (UTC+2) to 02:00 CET (UTC+1) at 01:00 UTC, so that local day lasts 25 hours,
 * from 2026-10-24T22:00Z to 2026-10-25T23:00Z, and the hour 02:00 happens twice.
 * Studios A and B belong to different operators: customer 101 of A and customer 101 of B are two people.
 */
type Row = readonly [studio: 'A' | 'B', type: string, entityId: number, utc: string, content?: Record<string, unknown>];
const FIXTURE: readonly Row[] = [
  ['A', 'CUSTOMER_CREATED', 101, '2026-10-24T21:00Z'], //        Berlin Sat 24th 23:00
  ['A', 'CUSTOMER_CHECKIN', 101, '2026-10-24T21:30Z'], //        Sat 23:30, visit of 1 h
  ['A', 'CUSTOMER_CHECKOUT', 101, '2026-10-24T22:30Z'],
  ['A', 'CUSTOMER_CREATED', 102, '2026-10-24T22:10Z'], //        Sun 25th 00:10 CEST (Saturday in UTC)
  ['A', 'CUSTOMER_CHECKIN', 102, '2026-10-24T22:15Z'], //        Sun 00:15, visit of 30 min
  ['A', 'CUSTOMER_CHECKOUT', 102, '2026-10-24T22:45Z'],
  ['A', 'CUSTOMER_CHECKIN', 101, '2026-10-25T00:30Z'], //        Sun 02:30 CEST (first 02:00 hour), 1 h
  ['A', 'CUSTOMER_CHECKOUT', 101, '2026-10-25T01:30Z'],
  ['A', 'CUSTOMER_CHECKIN', 103, '2026-10-25T01:10Z'], //        Sun 02:10 CET (second 02:00 hour), still in
  ['A', 'CUSTOMER_CHECKIN', 102, '2026-10-25T22:30Z'], //        Sun 23:30 CET: the 25-hour Sunday, 1 h
  ['A', 'CUSTOMER_CHECKOUT', 102, '2026-10-25T23:30Z'],
  ['A', 'CUSTOMER_CHECKIN', 104, '2026-10-25T23:00Z'], //        Mon 26th 00:00, 1 h
  ['A', 'CUSTOMER_CHECKOUT', 104, '2026-10-26T00:00Z'],
  ['A', 'CONTRACT_CREATED', 101, '2026-10-25T12:00Z', { contractId: 9001 }], // Sun
  ['A', 'CLASS_BOOKING_CREATED', 5001, '2026-10-25T09:00Z'], //  Sun, booked
  ['A', 'CLASS_BOOKING_CREATED', 5002, '2026-10-25T09:00Z'],
  ['A', 'CLASS_BOOKING_CANCELLED', 5002, '2026-10-25T23:30Z'], // Mon 00:30: cancelled
  ['A', 'APPOINTMENT_BOOKING_CREATED', 6001, '2026-10-25T08:00Z'], // Sun, booked
  ['A', 'SOMETHING_NEW_UPSTREAM', 1, '2026-10-25T12:00Z'], //   Sun, unknown type
  ['B', 'CUSTOMER_CHECKIN', 101, '2026-10-25T10:00Z'], //        Sun, 20 min
  ['B', 'CUSTOMER_CHECKOUT', 101, '2026-10-25T10:20Z'],
  ['B', 'CUSTOMER_CHECKIN', 105, '2026-10-26T08:00Z'], //        Mon, still in
  ['B', 'CUSTOMER_CREATED', 106, '2026-10-25T22:59Z'], //        Sun 23:59 CET
  ['B', 'CUSTOMER_CHECKIN', 106, '2026-10-26T09:00Z'], //        Mon, never checked out...
  ['B', 'CUSTOMER_DELETED', 106, '2026-10-26T10:00Z'], //        ...but deleted: not in the studio
  ['B', 'CONTRACT_CREATED', 105, '2026-10-25T23:30Z', { contractId: 9002 }], // Mon 00:30
  ['B', 'CLASS_BOOKING_CREATED', 5003, '2026-10-24T22:30Z'], //  Sun 00:30, booked
  ['B', 'APPOINTMENT_BOOKING_CREATED', 6002, '2026-10-25T08:00Z'], // Sun...
  ['B', 'APPOINTMENT_BOOKING_UPDATED', 6002, '2026-10-25T09:00Z'], // ...still booked
  ['B', 'APPOINTMENT_BOOKING_CANCELLED', 6003, '2026-10-26T08:00Z'], // Mon, cancelled
];

/** Berlin Saturday 24th to Monday 26th, local midnight to local midnight. */
const BERLIN_DAYS = { from: '2026-10-23T22:00:00.000Z', to: '2026-10-26T23:00:00.000Z' };
const SAT = { label: '2026-10-24', start: '2026-10-23T22:00:00.000Z', end: '2026-10-24T22:00:00.000Z' };
const SUN = { label: '2026-10-25', start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z' };
const MON = { label: '2026-10-26', start: '2026-10-25T23:00:00.000Z', end: '2026-10-26T23:00:00.000Z' };
const NO_TIME = { start: null, end: null };

interface Fixture {
  readonly server: TestServer;
  readonly studios: { readonly A: number; readonly B: number; readonly C: number };
  graphql(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ data?: any; errors?: { message: string; extensions: { code: string } }[] }>;
  /** The data of a query that must succeed. */
  data(query: string, variables?: Record<string, unknown>, token?: string): Promise<any>;
}

/** Starts a server, registers studios A, B and C (C receives nothing), and posts the fixture as real webhooks. */
async function loadFixture(kind: DatabaseKind): Promise<Fixture> {
  const server = await startTestServer(kind, { ADMIN_TOKEN });
  const a = await server.addStudio({ name: 'Alpha' });
  const b = await server.addStudio({ name: 'Beta' });
  const c = await server.addStudio({ name: 'Gamma' });
  for (const [studio, type, entityId, utc, content] of FIXTURE) {
    const response = await server.post(
      (studio === 'A' ? a : b).webhookKey,
      delivery(entityId, { type, timestamp: Date.parse(utc), ...(content ? { content } : {}) }),
    );
    expect(response.status).toBe(200);
  }
  // What hydration from the Open API will fill: the class and slot of two of the three class bookings.
  await server.sql(`UPDATE class_bookings SET "classId" = 77, "classSlotId" = 701 WHERE "bookingId" = 5001`);
  await server.sql(`UPDATE class_bookings SET "classId" = 77, "classSlotId" = 702 WHERE "bookingId" = 5002`);
  // Cancellations, as hydration records them (a calendar date): both contracts on Monday, 9002 at studio B.
  await server.sql(`UPDATE contracts SET "cancelled" = TRUE, "cancellationDate" = '2026-10-26' WHERE "contractId" IN (9001, 9002)`);
  const graphql: Fixture['graphql'] = async (query, variables = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Awaited<ReturnType<Fixture['graphql']>>;
  };
  return {
    server,
    studios: { A: a.id, B: b.id, C: c.id },
    graphql,
    async data(query, variables, token) {
      const result = await graphql(query, variables, token);
      expect(result.errors).toBeUndefined();
      return result.data;
    },
  };
}

const VISIT_FIELDS = 'label start end studioId count uniqueCustomers closedVisits averageDurationSeconds';
const visitStats = (args: string) => `query V($range: TimeRangeInput!) { visitStats(range: $range${args}) { ${VISIT_FIELDS} } }`;

/** Every aggregate the API offers, on the fixture: compared across databases below. */
const AGGREGATE_QUERIES: readonly (readonly [string, string])[] = [
  ['occupancy', '{ occupancy { total studios { studio { id name } checkedIn } } }'],
  ['visits by Berlin day', visitStats(', groupBy: DAY, timeZone: "Europe/Berlin"')],
  ['visits by UTC day', visitStats(', groupBy: DAY')],
  ['visits by Berlin hour', visitStats(', groupBy: HOUR, timeZone: "Europe/Berlin"')],
  ['visits by Berlin week', visitStats(', groupBy: WEEK, timeZone: "Europe/Berlin"')],
  ['visits by studio', visitStats(', groupBy: STUDIO')],
  [
    'class bookings by day',
    `query C($range: TimeRangeInput!) { classBookingStats(range: $range, timeZone: "Europe/Berlin") { label start end classId classSlotId booked cancelled } }`,
  ],
  [
    'class bookings by class',
    `query C($range: TimeRangeInput!) { classBookingStats(range: $range, groupBy: CLASS) { label start end classId classSlotId booked cancelled } }`,
  ],
  [
    'class bookings by slot',
    `query C($range: TimeRangeInput!) { classBookingStats(range: $range, groupBy: SLOT) { label classId classSlotId booked cancelled } }`,
  ],
  [
    'appointments by day',
    `query P($range: TimeRangeInput!) { appointmentBookingStats(range: $range, timeZone: "Europe/Berlin") { label start end studioId booked cancelled } }`,
  ],
  [
    'appointments by studio',
    `query P($range: TimeRangeInput!) { appointmentBookingStats(range: $range, groupBy: STUDIO) { label start end studioId booked cancelled } }`,
  ],
  [
    'customers',
    `query U($range: TimeRangeInput!) { customerStats(range: $range, timeZone: "Europe/Berlin") { label start end created deleted } }`,
  ],
  [
    'contracts',
    `query K($range: TimeRangeInput!) { contractStats(range: $range, timeZone: "Europe/Berlin") { label start end created cancelled } }`,
  ],
  [
    'events by type',
    `query E($range: TimeRangeInput!) { eventStats(range: $range, groupBy: TYPE) { label start end type studioId count } }`,
  ],
  ['events by studio', `query E($range: TimeRangeInput!) { eventStats(range: $range, groupBy: STUDIO) { label type studioId count } }`],
  [
    'events by day',
    `query E($range: TimeRangeInput!) { eventStats(range: $range, groupBy: DAY, timeZone: "Europe/Berlin") { label start end count } }`,
  ],
  // Several dimensions, one query per statistics field.
  [
    'class bookings by studio and class',
    `query C($range: TimeRangeInput!) { classBookingStats(range: $range, groupBy: [STUDIO, CLASS]) { label studioId classId classSlotId booked cancelled } }`,
  ],
  [
    'class bookings by class and slot',
    `query C($range: TimeRangeInput!) { classBookingStats(range: $range, groupBy: [CLASS, SLOT]) { label classId classSlotId booked cancelled } }`,
  ],
  [
    'appointments by weekday and studio',
    `query P($range: TimeRangeInput!) { appointmentBookingStats(range: $range, groupBy: [DAY_OF_WEEK, STUDIO], timeZone: "Europe/Berlin") { label dayOfWeek studioId booked cancelled } }`,
  ],
  [
    'customers by hour of day',
    `query U($range: TimeRangeInput!) { customerStats(range: $range, groupBy: [HOUR_OF_DAY], timeZone: "Europe/Berlin") { label hourOfDay created deleted } }`,
  ],
  [
    'contracts by studio and week',
    `query K($range: TimeRangeInput!) { contractStats(range: $range, groupBy: [STUDIO, WEEK], timeZone: "Europe/Berlin") { label start end studioId created cancelled } }`,
  ],
  [
    'events by type and studio',
    `query E($range: TimeRangeInput!) { eventStats(range: $range, groupBy: [TYPE, STUDIO]) { label type studioId count } }`,
  ],
];
const rangeFor = (name: string) =>
  name === 'visits by UTC day'
    ? { from: '2026-10-24T00:00:00Z', to: '2026-10-27T00:00:00Z' }
    : name === 'visits by Berlin hour'
      ? { from: '2026-10-24T23:00:00Z', to: '2026-10-25T03:00:00Z' }
      : name === 'visits by Berlin week'
        ? { from: '2026-10-18T22:00:00Z', to: '2026-11-01T23:00:00Z' }
        : BERLIN_DAYS;

describe.each(databaseKinds())('GraphQL aggregates (%s)', (kind) => {
  let fixture: Fixture;
  let partnerToken: string;
  let A: number;
  let B: number;
  let C: number;

  beforeAll(async () => {
    fixture = await loadFixture(kind);
    ({ A, B, C } = fixture.studios);
    partnerToken = (await new TokenService(fixture.server.app.dataSource).create({ role: 'partner', studios: [A] })).token;
  });
  afterAll(() => fixture.server.stop());

  const query = (name: string, token?: string) =>
    fixture.data(AGGREGATE_QUERIES.find(([n]) => n === name)![1], { range: rangeFor(name) }, token);

  describe('occupancy', () => {
    it('when asked, then every studio with the customers checked in now (deleted ones not), zeros included, and the total', async () => {
      expect((await query('occupancy')).occupancy).toEqual({
        total: 2,
        studios: [
          { studio: { id: String(A), name: 'Alpha' }, checkedIn: 1 }, // 103
          { studio: { id: String(B), name: 'Beta' }, checkedIn: 1 }, // 105 (106 is deleted)
          { studio: { id: String(C), name: 'Gamma' }, checkedIn: 0 },
        ],
      });
    });

    it('when studioIds is given, then only those studios', async () => {
      const { occupancy } = await fixture.data(
        'query O($ids: [ID!]) { occupancy(studioIds: $ids) { total studios { studio { id } checkedIn } } }',
        { ids: [B, C] },
      );
      expect(occupancy).toEqual({
        total: 1,
        studios: [
          { studio: { id: String(B) }, checkedIn: 1 },
          { studio: { id: String(C) }, checkedIn: 0 },
        ],
      });
    });
  });

  describe('visitStats', () => {
    it('when grouped by Berlin day across the end of summer time, then Sunday lasts 25 hours and holds its late-evening visits', async () => {
      expect((await query('visits by Berlin day')).visitStats).toEqual([
        { ...SAT, studioId: null, count: 1, uniqueCustomers: 1, closedVisits: 1, averageDurationSeconds: 3600 },
        // A-102 (00:15 CEST, Saturday in UTC), A-101, A-103, B-101 (another person), A-102 again at 23:30 CET.
        { ...SUN, studioId: null, count: 5, uniqueCustomers: 4, closedVisits: 4, averageDurationSeconds: (1800 + 3600 + 1200 + 3600) / 4 },
        { ...MON, studioId: null, count: 3, uniqueCustomers: 3, closedVisits: 1, averageDurationSeconds: 3600 },
      ]);
    });

    it('when uniqueCustomers is left out or asked for through a fragment, then the other figures are the same and the distinct count still right', async () => {
      const range = rangeFor('visits by Berlin day');
      const without = await fixture.data(
        'query($range: TimeRangeInput!) { visitStats(range: $range, groupBy: DAY, timeZone: "Europe/Berlin") { label count closedVisits } }',
        { range },
      );
      expect(without.visitStats).toEqual([
        { label: SAT.label, count: 1, closedVisits: 1 },
        { label: SUN.label, count: 5, closedVisits: 4 },
        { label: MON.label, count: 3, closedVisits: 1 },
      ]);
      const viaFragment = await fixture.data(
        'query($range: TimeRangeInput!) { visitStats(range: $range, groupBy: DAY, timeZone: "Europe/Berlin") { label ...U } } fragment U on VisitStatsBucket { uniqueCustomers }',
        { range },
      );
      expect(viaFragment.visitStats.map((b: { uniqueCustomers: number }) => b.uniqueCustomers)).toEqual([1, 4, 3]);
    });

    it('when grouped by UTC day (the default zone), then the same visits fall on other days, and an empty day is listed with zeros', async () => {
      expect((await query('visits by UTC day')).visitStats).toEqual([
        {
          label: '2026-10-24',
          start: '2026-10-24T00:00:00.000Z',
          end: '2026-10-25T00:00:00.000Z',
          studioId: null,
          count: 2,
          uniqueCustomers: 2,
          closedVisits: 2,
          averageDurationSeconds: 2700,
        },
        {
          label: '2026-10-25',
          start: '2026-10-25T00:00:00.000Z',
          end: '2026-10-26T00:00:00.000Z',
          studioId: null,
          count: 5,
          uniqueCustomers: 5,
          closedVisits: 4,
          averageDurationSeconds: 3000,
        },
        {
          label: '2026-10-26',
          start: '2026-10-26T00:00:00.000Z',
          end: '2026-10-27T00:00:00.000Z',
          studioId: null,
          count: 2,
          uniqueCustomers: 2,
          closedVisits: 0,
          averageDurationSeconds: null,
        },
      ]);
    });

    it('when grouped by Berlin hour, then the repeated 02:00 hour is two buckets, one per offset', async () => {
      const zero = { studioId: null, count: 0, uniqueCustomers: 0, closedVisits: 0, averageDurationSeconds: null };
      expect((await query('visits by Berlin hour')).visitStats).toEqual([
        { ...zero, label: '2026-10-25T01:00', start: '2026-10-24T23:00:00.000Z', end: '2026-10-25T00:00:00.000Z' },
        {
          ...zero,
          label: '2026-10-25T02:00',
          start: '2026-10-25T00:00:00.000Z',
          end: '2026-10-25T01:00:00.000Z',
          count: 1,
          uniqueCustomers: 1,
          closedVisits: 1,
          averageDurationSeconds: 3600,
        },
        {
          ...zero,
          label: '2026-10-25T02:00',
          start: '2026-10-25T01:00:00.000Z',
          end: '2026-10-25T02:00:00.000Z',
          count: 1,
          uniqueCustomers: 1,
        },
        { ...zero, label: '2026-10-25T03:00', start: '2026-10-25T02:00:00.000Z', end: '2026-10-25T03:00:00.000Z' },
      ]);
    });

    it('when grouped by Berlin week, then ISO weeks from Monday midnight, the one with the change lasting 169 hours', async () => {
      expect((await query('visits by Berlin week')).visitStats).toEqual([
        {
          label: '2026-W43',
          start: '2026-10-18T22:00:00.000Z',
          end: '2026-10-25T23:00:00.000Z',
          studioId: null,
          count: 6,
          uniqueCustomers: 4,
          closedVisits: 5,
          averageDurationSeconds: (3600 + 1800 + 3600 + 1200 + 3600) / 5,
        },
        {
          label: '2026-W44',
          start: '2026-10-25T23:00:00.000Z',
          end: '2026-11-01T23:00:00.000Z',
          studioId: null,
          count: 3,
          uniqueCustomers: 3,
          closedVisits: 1,
          averageDurationSeconds: 3600,
        },
      ]);
    });

    it('when grouped by studio, then every studio, zeros included', async () => {
      expect((await query('visits by studio')).visitStats).toEqual([
        {
          label: String(A),
          ...NO_TIME,
          studioId: String(A),
          count: 6,
          uniqueCustomers: 4,
          closedVisits: 5,
          averageDurationSeconds: (3600 + 1800 + 3600 + 3600 + 3600) / 5,
        },
        { label: String(B), ...NO_TIME, studioId: String(B), count: 3, uniqueCustomers: 3, closedVisits: 1, averageDurationSeconds: 1200 },
        { label: String(C), ...NO_TIME, studioId: String(C), count: 0, uniqueCustomers: 0, closedVisits: 0, averageDurationSeconds: null },
      ]);
    });

    it('when the Berlin days cover the start of summer time, then that Sunday lasts 23 hours, and days without visits are listed', async () => {
      const { visitStats: rows } = await fixture.data(visitStats(', timeZone: "Europe/Berlin"'), {
        range: { from: '2026-03-28T12:00:00Z', to: '2026-03-30T12:00:00Z' },
      });
      expect(rows.map((r: { label: string; start: string; end: string; count: number }) => [r.label, r.start, r.end, r.count])).toEqual([
        ['2026-03-28', '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', 0],
        ['2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 0],
        ['2026-03-30', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z', 0],
      ]);
    });

    it('when the range ends are exclusive at to, then a visit starting exactly at to is not counted', async () => {
      const { visitStats: rows } = await fixture.data(
        visitStats(', groupBy: STUDIO, studioIds: [$a]').replace('$range: TimeRangeInput!', '$range: TimeRangeInput!, $a: ID!'),
        {
          range: { from: '2026-10-24T21:30:00Z', to: '2026-10-25T23:00:00Z' },
          a: A,
        },
      );
      // 21:30 (from, inclusive) .. 22:30 on Sunday; 104 checks in at 23:00 exactly.
      expect(rows).toEqual([
        { label: String(A), ...NO_TIME, studioId: String(A), count: 5, uniqueCustomers: 3, closedVisits: 4, averageDurationSeconds: 3150 },
      ]);
    });
  });

  describe('booking statistics', () => {
    it('when class bookings are grouped by day, then each booking counts once, on the day of the event that decided its status', async () => {
      expect((await query('class bookings by day')).classBookingStats).toEqual([
        { ...SAT, classId: null, classSlotId: null, booked: 0, cancelled: 0 },
        { ...SUN, classId: null, classSlotId: null, booked: 2, cancelled: 0 },
        { ...MON, classId: null, classSlotId: null, booked: 0, cancelled: 1 },
      ]);
    });

    it('when class bookings are grouped by class or slot, then by id, bookings not hydrated yet last as "unknown"', async () => {
      expect((await query('class bookings by class')).classBookingStats).toEqual([
        { label: '77', ...NO_TIME, classId: '77', classSlotId: null, booked: 1, cancelled: 1 },
        { label: 'unknown', ...NO_TIME, classId: null, classSlotId: null, booked: 1, cancelled: 0 },
      ]);
      expect((await query('class bookings by slot')).classBookingStats).toEqual([
        { label: '701', classId: null, classSlotId: '701', booked: 1, cancelled: 0 },
        { label: '702', classId: null, classSlotId: '702', booked: 0, cancelled: 1 },
        { label: 'unknown', classId: null, classSlotId: null, booked: 1, cancelled: 0 },
      ]);
    });

    it('when appointment bookings are grouped by day or studio, then booked and cancelled counts', async () => {
      expect((await query('appointments by day')).appointmentBookingStats).toEqual([
        { ...SAT, studioId: null, booked: 0, cancelled: 0 },
        { ...SUN, studioId: null, booked: 2, cancelled: 0 },
        { ...MON, studioId: null, booked: 0, cancelled: 1 },
      ]);
      expect((await query('appointments by studio')).appointmentBookingStats).toEqual([
        { label: String(A), ...NO_TIME, studioId: String(A), booked: 1, cancelled: 0 },
        { label: String(B), ...NO_TIME, studioId: String(B), booked: 1, cancelled: 1 },
        { label: String(C), ...NO_TIME, studioId: String(C), booked: 0, cancelled: 0 },
      ]);
    });
  });

  describe('customer, contract and event statistics', () => {
    it('when customers are counted per Berlin day, then creations and deletions on their local days', async () => {
      expect((await query('customers')).customerStats).toEqual([
        { ...SAT, created: 1, deleted: 0 },
        { ...SUN, created: 2, deleted: 0 }, // A-102 at 00:10 CEST, B-106 at 23:59 CET
        { ...MON, created: 0, deleted: 1 },
      ]);
    });

    it('when contracts are counted per Berlin day, then a contract created at 00:30 local counts on Monday, and cancellations on their date', async () => {
      expect((await query('contracts')).contractStats).toEqual([
        { ...SAT, created: 0, cancelled: 0 },
        { ...SUN, created: 1, cancelled: 0 },
        { ...MON, created: 1, cancelled: 2 },
      ]);
    });

    it('when the range covers one far-east day, then the cancellations dated that day count; a day without any counts 0', async () => {
      const { contractStats } = await fixture.data(
        `query K($range: TimeRangeInput!) { contractStats(range: $range, timeZone: "Pacific/Kiritimati") { label cancelled } }`,
        { range: { from: '2026-10-26T00:00:00Z', to: '2026-10-26T09:00:00Z' } },
      );
      // 00:00Z is 14:00 on the 26th in Kiritimati (UTC+14), and 09:00Z 23:00: one day, the 26th.
      expect(contractStats).toEqual([{ label: '2026-10-26', cancelled: 2 }]);
      const utc = await fixture.data(`query K($range: TimeRangeInput!) { contractStats(range: $range) { label cancelled } }`, {
        range: { from: '2026-10-27T00:00:00Z', to: '2026-10-28T00:00:00Z' },
      });
      expect(utc.contractStats).toEqual([{ label: '2026-10-27', cancelled: 0 }]);
    });

    it('when events are counted by type, studio or day, then the log, unknown types included', async () => {
      const byType = (await query('events by type')).eventStats.map((row: { label: string; type: string; count: number }) => [
        row.type,
        row.count,
      ]);
      expect(byType).toEqual([
        ['APPOINTMENT_BOOKING_CANCELLED', 1],
        ['APPOINTMENT_BOOKING_CREATED', 2],
        ['APPOINTMENT_BOOKING_UPDATED', 1],
        ['CLASS_BOOKING_CANCELLED', 1],
        ['CLASS_BOOKING_CREATED', 3],
        ['CONTRACT_CREATED', 2],
        ['CUSTOMER_CHECKIN', 9],
        ['CUSTOMER_CHECKOUT', 6],
        ['CUSTOMER_CREATED', 3],
        ['CUSTOMER_DELETED', 1],
        ['SOMETHING_NEW_UPSTREAM', 1],
      ]);
      expect((await query('events by type')).eventStats[0]).toEqual({
        label: 'APPOINTMENT_BOOKING_CANCELLED',
        ...NO_TIME,
        type: 'APPOINTMENT_BOOKING_CANCELLED',
        studioId: null,
        count: 1,
      });
      expect((await query('events by studio')).eventStats).toEqual([
        { label: String(A), type: null, studioId: String(A), count: 19 },
        { label: String(B), type: null, studioId: String(B), count: 11 },
        { label: String(C), type: null, studioId: String(C), count: 0 },
      ]);
      expect((await query('events by day')).eventStats).toEqual([
        { ...SAT, count: 2 },
        { ...SUN, count: 19 },
        { ...MON, count: 9 },
      ]);
    });
  });

  describe('several dimensions in every statistics query', () => {
    const nonZero = (rows: Record<string, unknown>[], ...measures: string[]) => rows.filter((row) => measures.some((m) => row[m] !== 0));

    it('when class bookings are grouped by [STUDIO, CLASS], then every studio times every class that occurs, each id in its own field', async () => {
      const unknown = (studio: number) => ({ label: `${studio} / unknown`, studioId: String(studio), classId: null, classSlotId: null });
      const class77 = (studio: number) => ({ label: `${studio} / 77`, studioId: String(studio), classId: '77', classSlotId: null });
      expect((await query('class bookings by studio and class')).classBookingStats).toEqual([
        { ...class77(A), booked: 1, cancelled: 1 },
        { ...unknown(A), booked: 0, cancelled: 0 },
        { ...class77(B), booked: 0, cancelled: 0 },
        { ...unknown(B), booked: 1, cancelled: 0 },
        { ...class77(C), booked: 0, cancelled: 0 },
        { ...unknown(C), booked: 0, cancelled: 0 },
      ]);
      const bySlot = (await query('class bookings by class and slot')).classBookingStats;
      expect(bySlot).toHaveLength(6);
      expect(nonZero(bySlot, 'booked', 'cancelled')).toEqual([
        { label: '77 / 701', classId: '77', classSlotId: '701', booked: 1, cancelled: 0 },
        { label: '77 / 702', classId: '77', classSlotId: '702', booked: 0, cancelled: 1 },
        { label: 'unknown / unknown', classId: null, classSlotId: null, booked: 1, cancelled: 0 },
      ]);
    });

    it('when appointment bookings are grouped by [DAY_OF_WEEK, STUDIO] in Berlin, then 7 x 3 buckets, a cancellation at Monday 09:00 CET on Monday', async () => {
      const rows = (await query('appointments by weekday and studio')).appointmentBookingStats;
      expect(rows).toHaveLength(21);
      expect(nonZero(rows, 'booked', 'cancelled')).toEqual([
        { label: `Monday / ${B}`, dayOfWeek: 1, studioId: String(B), booked: 0, cancelled: 1 },
        { label: `Sunday / ${A}`, dayOfWeek: 7, studioId: String(A), booked: 1, cancelled: 0 },
        { label: `Sunday / ${B}`, dayOfWeek: 7, studioId: String(B), booked: 1, cancelled: 0 },
      ]);
    });

    it('when customers are grouped by Berlin hour of the day, then 24 buckets, summer and winter time each on their local hour', async () => {
      const rows = (await query('customers by hour of day')).customerStats;
      expect(rows).toHaveLength(24);
      // 21:00Z on Saturday is 23:00 CEST, 22:59Z on Sunday 23:59 CET; 22:10Z 00:10 CEST; the deletion 10:00Z 11:00 CET.
      expect(nonZero(rows, 'created', 'deleted')).toEqual([
        { label: '00:00', hourOfDay: 0, created: 1, deleted: 0 },
        { label: '11:00', hourOfDay: 11, created: 0, deleted: 1 },
        { label: '23:00', hourOfDay: 23, created: 2, deleted: 0 },
      ]);
    });

    it('when contracts are grouped by [STUDIO, WEEK] in Berlin, then Monday 00:30 CET and the Monday cancellations fall in week 44', async () => {
      const week = (studio: number, label: string, start: string, end: string, created: number, cancelled: number) => ({
        label: `${studio} / ${label}`,
        start,
        end,
        studioId: String(studio),
        created,
        cancelled,
      });
      const W43 = ['2026-W43', '2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z'] as const;
      const W44 = ['2026-W44', '2026-10-25T23:00:00.000Z', '2026-11-01T23:00:00.000Z'] as const;
      expect((await query('contracts by studio and week')).contractStats).toEqual([
        week(A, ...W43, 1, 0),
        week(A, ...W44, 0, 1),
        week(B, ...W43, 0, 0),
        week(B, ...W44, 1, 1),
        week(C, ...W43, 0, 0),
        week(C, ...W44, 0, 0),
      ]);
    });

    it('when events are grouped by [TYPE, STUDIO], then every type that occurs times every studio', async () => {
      const rows = (await query('events by type and studio')).eventStats;
      expect(rows).toHaveLength(11 * 3);
      expect(rows.filter((row: { type: string }) => row.type === 'CUSTOMER_CHECKIN')).toEqual([
        { label: `CUSTOMER_CHECKIN / ${A}`, type: 'CUSTOMER_CHECKIN', studioId: String(A), count: 6 },
        { label: `CUSTOMER_CHECKIN / ${B}`, type: 'CUSTOMER_CHECKIN', studioId: String(B), count: 3 },
        { label: `CUSTOMER_CHECKIN / ${C}`, type: 'CUSTOMER_CHECKIN', studioId: String(C), count: 0 },
      ]);
    });

    it('when the range is left open, then every statistics query counts everything from its first item to now', async () => {
      // One query each: a range left open at `from` is costed as a year.
      const data = Object.fromEntries(
        await Promise.all(
          Object.entries({
            e: `eventStats(groupBy: []) { label count }`,
            u: `customerStats(groupBy: [], range: {to: "2026-10-26T00:00:00Z"}) { created deleted }`,
            c: `classBookingStats(groupBy: [STUDIO], studioIds: ["${A}"]) { booked cancelled }`,
            p: `appointmentBookingStats(groupBy: MONTH, range: {from: "2026-10-01T00:00:00Z"}) { label booked cancelled }`,
            k: `contractStats(groupBy: []) { created cancelled }`,
          }).map(async ([alias, field]) => [alias, (await fixture.data(`{ ${alias}: ${field} }`))[alias]]),
        ),
      );
      expect(data.e).toEqual([{ label: 'total', count: FIXTURE.length }]);
      expect(data.u).toEqual([{ created: 3, deleted: 0 }]);
      expect(data.c).toEqual([{ booked: 1, cancelled: 1 }]);
      expect(data.p[0]).toEqual({ label: '2026-10', booked: 2, cancelled: 1 });
      expect(data.k).toEqual([{ created: 2, cancelled: 2 }]);
    });

    it('when a calendar period needs more than 2000 buckets in a list of dimensions, then TOO_MANY_BUCKETS in every statistics query', async () => {
      const range = { from: '2026-08-01T00:00:00Z', to: '2026-10-30T00:00:00Z' };
      for (const field of ['classBookingStats', 'appointmentBookingStats', 'eventStats']) {
        const result = await fixture.graphql(
          `query S($range: TimeRangeInput!, $ids: [ID!]) { ${field}(range: $range, groupBy: [STUDIO, HOUR], studioIds: $ids) { label } }`,
          { range, ids: [A, B] },
        );
        expect(result.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/more than 2000 hour buckets/),
            extensions: { code: 'TOO_MANY_BUCKETS' },
          }),
        ]);
      }
      const customers = await fixture.graphql(
        `query S($range: TimeRangeInput!) { customerStats(range: $range, groupBy: [HOUR]) { label } }`,
        { range },
      );
      expect(customers.errors?.[0]?.extensions.code).toBe('TOO_MANY_BUCKETS');
    });
  });

  describe('scope', () => {
    it('when a partner token for studio A asks, then every aggregate counts only A (and its customers)', async () => {
      expect((await query('occupancy', partnerToken)).occupancy).toEqual({
        total: 1,
        studios: [{ studio: { id: String(A), name: 'Alpha' }, checkedIn: 1 }],
      });
      expect(
        (await query('visits by Berlin day', partnerToken)).visitStats.map(
          (r: { count: number; uniqueCustomers: number; averageDurationSeconds: number | null }) => [
            r.count,
            r.uniqueCustomers,
            r.averageDurationSeconds,
          ],
        ),
      ).toEqual([
        [1, 1, 3600],
        [4, 3, 3000],
        [1, 1, 3600],
      ]);
      expect((await query('visits by studio', partnerToken)).visitStats.map((r: { studioId: string }) => r.studioId)).toEqual([String(A)]);
      expect(
        (await query('class bookings by day', partnerToken)).classBookingStats.map((r: { booked: number; cancelled: number }) => [
          r.booked,
          r.cancelled,
        ]),
      ).toEqual([
        [0, 0],
        [1, 0],
        [0, 1],
      ]);
      expect((await query('appointments by studio', partnerToken)).appointmentBookingStats).toEqual([
        { label: String(A), ...NO_TIME, studioId: String(A), booked: 1, cancelled: 0 },
      ]);
      expect(
        (await query('customers', partnerToken)).customerStats.map((r: { created: number; deleted: number }) => [r.created, r.deleted]),
      ).toEqual([
        [1, 0],
        [1, 0],
        [0, 0],
      ]);
      expect(
        (await query('contracts', partnerToken)).contractStats.map((r: { created: number; cancelled: number }) => [r.created, r.cancelled]),
      ).toEqual([
        [0, 0],
        [1, 0],
        [0, 1],
      ]);
      expect((await query('events by studio', partnerToken)).eventStats).toEqual([
        { label: String(A), type: null, studioId: String(A), count: 19 },
      ]);
      const types = (await query('events by type', partnerToken)).eventStats.map((r: { type: string; count: number }) => [r.type, r.count]);
      expect(types).toContainEqual(['CUSTOMER_CHECKIN', 6]);
      expect(types).not.toContainEqual(expect.arrayContaining(['APPOINTMENT_BOOKING_CANCELLED']));
    });

    it('when a partner token names another studio in studioIds, then FORBIDDEN, not an empty answer', async () => {
      const variables = { range: BERLIN_DAYS, ids: [B] };
      for (const [query, vars] of [
        [
          `query V($range: TimeRangeInput!, $ids: [ID!]) { visitStats(range: $range, groupBy: STUDIO, studioIds: $ids) { studioId count } }`,
          variables,
        ],
        ['query O($ids: [ID!]) { occupancy(studioIds: $ids) { total studios { checkedIn } } }', { ids: [B] }],
        [`query U($range: TimeRangeInput!, $ids: [ID!]) { customerStats(range: $range, studioIds: $ids) { created deleted } }`, variables],
      ] as const) {
        const result = await fixture.graphql(query, vars, partnerToken);
        expect(result.errors).toEqual([
          expect.objectContaining({ message: `studioIds: this token may not see studio ${B}`, extensions: { code: 'FORBIDDEN' } }),
        ]);
      }
    });

    it('when the admin restricts studioIds, then only those studios are counted', async () => {
      const { eventStats } = await fixture.data(
        `query E($range: TimeRangeInput!, $ids: [ID!]) { eventStats(range: $range, studioIds: $ids) { type count } }`,
        { range: BERLIN_DAYS, ids: [B] },
      );
      expect(eventStats).toContainEqual({ type: 'APPOINTMENT_BOOKING_CANCELLED', count: 1 });
      expect(eventStats).not.toContainEqual(expect.objectContaining({ type: 'SOMETHING_NEW_UPSTREAM' }));
    });
  });

  describe('bad input', () => {
    const code = async (query: string, variables: Record<string, unknown>) => {
      const result = await fixture.graphql(query, variables);
      expect(result.data ?? null).toBeNull();
      return [result.errors?.[0]?.extensions.code, result.errors?.[0]?.message];
    };

    it('when the time zone is not an IANA zone, then BAD_USER_INPUT naming timeZone', async () => {
      const [errorCode, message] = await code(
        `query V($range: TimeRangeInput!) { visitStats(range: $range, timeZone: "Mars/Olympus_Mons") { count } }`,
        { range: BERLIN_DAYS },
      );
      expect(errorCode).toBe('BAD_USER_INPUT');
      expect(message).toMatch(/timeZone.*Mars\/Olympus_Mons/);
    });

    it('when the range needs more than 2000 buckets, then TOO_MANY_BUCKETS', async () => {
      const [errorCode, message] = await code(`query V($range: TimeRangeInput!) { visitStats(range: $range, groupBy: HOUR) { count } }`, {
        range: { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' },
      });
      expect(errorCode).toBe('TOO_MANY_BUCKETS');
      expect(message).toMatch(/more than 2000/);
      // Just under the cap is fine: 2000 hours.
      const { visitStats: rows } = await fixture.data(
        `query V($range: TimeRangeInput!) { visitStats(range: $range, groupBy: HOUR) { count } }`,
        { range: { from: '2026-09-13T00:00:00Z', to: '2026-12-05T08:00:00Z' } },
      );
      expect(rows).toHaveLength(2000);
      expect(rows.reduce((sum: number, r: { count: number }) => sum + r.count, 0)).toBe(9);
    });

    it('when the range is empty, then BAD_USER_INPUT', async () => {
      const q = `query C($range: TimeRangeInput!) { contractStats(range: $range) { created } }`;
      expect(await code(q, { range: { from: '2026-10-24T00:00:00Z', to: '2026-10-24T00:00:00Z' } })).toEqual([
        'BAD_USER_INPUT',
        expect.stringMatching(/before/),
      ]);
      expect(await code(q, { range: { from: '2999-01-01T00:00:00Z' } })).toEqual(['BAD_USER_INPUT', expect.stringMatching(/before.*now/)]);
    });
  });
});

const kinds = databaseKinds();
(kinds.includes('postgres') ? describe : describe.skip)('GraphQL aggregates on SQLite and PostgreSQL', () => {
  let fixtures: Fixture[] = [];
  beforeAll(async () => {
    fixtures = [await loadFixture('sqlite'), await loadFixture('postgres')];
  });
  afterAll(() => Promise.all(fixtures.map((f) => f.server.stop())));

  it.each(AGGREGATE_QUERIES.map(([name]) => name))(
    'when %s is asked on the same fixture, then both databases answer the same',
    async (name) => {
      const text = AGGREGATE_QUERIES.find(([n]) => n === name)![1];
      const [sqlite, postgres] = await Promise.all(fixtures.map((f) => f.data(text, { range: rangeFor(name) })));
      expect(postgres).toEqual(sqlite);
      expect(JSON.stringify(sqlite)).not.toBe('{}');
    },
  );
});

describe('calendar buckets in time zones with unusual clocks', () => {
  const buckets = (zone: string, unit: 'HOUR' | 'DAY' | 'WEEK', from: string, to: string) =>
    calendarPlan(new WallClock(zone), unit, Date.parse(from), Date.parse(to), 2000).buckets.map((b) => [
      b.label,
      new Date(b.start).toISOString(),
      (b.end - b.start) / 60_000,
    ]);

  it('when a zone moves its clocks by 30 minutes (Lord Howe), then the hour of the change lasts 30 minutes', () => {
    expect(buckets('Australia/Lord_Howe', 'HOUR', '2026-10-03T14:30:00Z', '2026-10-03T17:00:00Z')).toEqual([
      ['2026-10-04T01:00', '2026-10-03T14:30:00.000Z', 60],
      ['2026-10-04T02:30', '2026-10-03T15:30:00.000Z', 30],
      ['2026-10-04T03:00', '2026-10-03T16:00:00.000Z', 60],
    ]);
  });

  it('when the zone is off the hour (Kolkata, UTC+5:30), then hours start at half past in UTC', () => {
    expect(buckets('Asia/Kolkata', 'HOUR', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z')).toEqual([
      ['2026-01-01T05:00', '2025-12-31T23:30:00.000Z', 60],
      ['2026-01-01T06:00', '2026-01-01T00:30:00.000Z', 60],
    ]);
  });

  it('when midnight does not exist (Santiago springs forward at 24:00), then the day starts at 01:00 and lasts 23 hours', () => {
    expect(buckets('America/Santiago', 'DAY', '2026-09-06T12:00:00Z', '2026-09-07T12:00:00Z')).toEqual([
      ['2026-09-06', '2026-09-06T04:00:00.000Z', 23 * 60],
      ['2026-09-07', '2026-09-07T03:00:00.000Z', 24 * 60],
    ]);
  });

  it('when a zone skips a whole day (Apia, 2011-12-30), then that day has no bucket', () => {
    expect(buckets('Pacific/Apia', 'DAY', '2011-12-29T12:00:00Z', '2011-12-31T12:00:00Z').map(([label]) => label)).toEqual([
      '2011-12-29',
      '2011-12-31',
      '2012-01-01',
    ]);
  });

  it('when weeks straddle a year end, then they carry the ISO week-year', () => {
    expect(buckets('UTC', 'WEEK', '2026-12-28T00:00:00Z', '2027-01-05T00:00:00Z').map(([label]) => label)).toEqual([
      '2026-W53',
      '2027-W01',
    ]);
  });
});

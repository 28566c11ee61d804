import { SignJWT } from 'jose';
import { TokenService } from '../src/domains/access/token.service.js';
import { BERLIN_DAYS, MON, SAT, SUN, graphqlAs } from './support/stats-fixtures.js';
import { databaseKinds, type DatabaseKind } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const JWT = {
  JWT_SECRET: 'record-stats-test-hs256-secret-0123456789',
  JWT_ISSUER: 'https://id.example.test/',
  JWT_AUDIENCE: 'gymgraph-members',
};

/**
 * classSlotStats, deviceStats and financeStats around the end of summer time in Berlin (Sunday
 * 2026-10-25 lasts 25 hours there), as graphql-contract-stats.test.ts sets it: studios A and B receive
 * the records, studio C nothing. A slot's start and participant counts come from the Open API; they
 * are written here as hydration would write them.
 */
type Slot = readonly [
  studio: 'A' | 'B',
  slotId: number,
  classId: number,
  startUtc: string | null,
  max: number | null,
  booked: number | null,
  waiting: number | null,
  cancelled: boolean,
];
const SLOTS: readonly Slot[] = [
  ['A', 501, 71, '2026-10-24T21:30Z', 10, 8, 0, false], // Berlin Sat 23:30
  ['A', 502, 71, '2026-10-24T22:30Z', 12, 12, 3, false], // Berlin Sun 00:30 (Saturday in UTC)
  ['A', 503, 72, '2026-10-25T12:00Z', 20, 5, 0, true], // Berlin Sun 13:00, cancelled
  ['B', 504, 73, '2026-10-25T23:30Z', null, 4, null, false], // Berlin Mon 00:30, no known limit
  ['A', 505, 72, null, 9, 9, 9, false], // not hydrated: no start, not counted
];
/** [studio, type, entityId, utc]: devices, debt-collection runs and tax-advisor exports. */
const RECORDS: readonly (readonly ['A' | 'B', string, number, string])[] = [
  ['A', 'DEVICE_CREATED', 601, '2026-10-24T21:30Z'],
  ['A', 'DEVICE_CREATED', 602, '2026-10-25T12:00Z'],
  ['B', 'DEVICE_CREATED', 603, '2026-10-25T23:30Z'],
  ['A', 'FINANCE_DEBT_COLLECTION_RUN_CREATED', 701, '2026-10-24T22:30Z'],
  ['B', 'TAX_ADVISOR_EXPORT_CREATED', 801, '2026-10-25T12:00Z'],
  ['A', 'TAX_ADVISOR_EXPORT_CREATED', 802, '2026-10-25T23:30Z'],
];

describe.each(databaseKinds())('statistics of class slots, devices and finance (%s)', (kind: DatabaseKind) => {
  let server: TestServer;
  let A: string;
  let B: string;
  let C: string;
  let partnerToken: string;

  const graphql = (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) =>
    graphqlAs(server.app.url, token, query, variables);
  /** The buckets of a statistics query that must succeed. */
  const stats = async (field: string, args: string, fields: string, variables: Record<string, unknown> = {}, token?: string) => {
    const result = await graphql(`query K($range: TimeRangeInput) { ${field}(range: $range${args}) { ${fields} } }`, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data[field] as Record<string, unknown>[];
  };
  const refused = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const result = await graphql(query, variables, token);
    expect(result.data ?? null).toBeNull();
    return { code: result.errors?.[0]?.extensions.code, message: result.errors?.[0]?.message };
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, ...JWT });
    const studios = { A: await server.addStudio({ name: 'Alpha' }), B: await server.addStudio({ name: 'Beta' }) };
    C = String((await server.addStudio({ name: 'Gamma' })).id);
    [A, B] = [String(studios.A.id), String(studios.B.id)];
    for (const [studio, slotId, classId, , , , , cancelled] of SLOTS) {
      const type = cancelled ? 'CLASS_SLOT_CANCELLED' : 'CLASS_SLOT_UPDATED';
      const response = await server.post(
        studios[studio].webhookKey,
        delivery(slotId, { type, timestamp: Date.parse('2026-10-20T10:00Z'), content: { classId } }),
      );
      expect(response.status).toBe(200);
    }
    for (const [, slotId, , start, max, booked, waiting] of SLOTS) {
      if (start === null) continue;
      await server.sql(
        `UPDATE class_slots SET "startAt" = ${Date.parse(start)}, "maxParticipants" = ${max ?? 'NULL'}, "bookedParticipants" = ${booked ?? 'NULL'},
          "waitingListParticipants" = ${waiting ?? 'NULL'} WHERE "slotId" = ${slotId}`,
      );
    }
    for (const [studio, type, entityId, utc] of RECORDS) {
      const response = await server.post(studios[studio].webhookKey, delivery(entityId, { type, timestamp: Date.parse(utc) }));
      expect(response.status).toBe(200);
    }
    await server.sql(`UPDATE devices SET "active" = TRUE WHERE "deviceId" IN (601, 603)`);
    partnerToken = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [Number(A)] })).token;
  });
  afterAll(() => server.stop());

  describe('classSlotStats', () => {
    const FIELDS = 'label start end slots cancelled capacity bookedParticipants waitingListParticipants';

    it('when grouped by Berlin day (the default, or a single value, or a list of it), then each slot in the local day of its start, a cancelled one counted apart', async () => {
      const expected = [
        { ...SAT, slots: 1, cancelled: 0, capacity: 10, bookedParticipants: 8, waitingListParticipants: 0 },
        { ...SUN, slots: 2, cancelled: 1, capacity: 12, bookedParticipants: 12, waitingListParticipants: 3 },
        { ...MON, slots: 1, cancelled: 0, capacity: 0, bookedParticipants: 4, waitingListParticipants: 0 },
      ];
      for (const groupBy of ['', ', groupBy: DAY', ', groupBy: [DAY]'])
        expect(await stats('classSlotStats', `, timeZone: "Europe/Berlin"${groupBy}`, FIELDS, { range: BERLIN_DAYS })).toEqual(expected);
    });

    it('when grouped by [STUDIO, CLASS] over an open range, then the counts per studio and class equal a direct count of the hydrated slots', async () => {
      const rows = await stats('classSlotStats', ', groupBy: [STUDIO, CLASS]', 'label studioId classId slots cancelled');
      const direct = await server.sql(
        `SELECT "studioId" AS "studioId", "classId" AS "classId", COUNT(*) AS "n", COUNT(CASE WHEN "status" = 'CANCELLED' THEN 1 END) AS "c"
           FROM class_slots WHERE "startAt" IS NOT NULL GROUP BY "studioId", "classId" ORDER BY "studioId", "classId"`,
      );
      expect(rows.filter((row) => row['slots'] !== 0)).toEqual(
        direct.map((row: any) => ({
          label: `${row.studioId} / ${row.classId}`,
          studioId: String(row.studioId),
          classId: String(row.classId),
          slots: Number(row.n),
          cancelled: Number(row.c),
        })),
      );
      expect(rows.reduce((sum, row) => sum + Number(row['slots']), 0)).toBe(4);
    });

    it('when grouped by [DAY_OF_WEEK, HOUR_OF_DAY] in Berlin, then the 7 × 24 timetable, the slots at their local weekday and hour', async () => {
      const rows = await stats(
        'classSlotStats',
        ', groupBy: [DAY_OF_WEEK, HOUR_OF_DAY], timeZone: "Europe/Berlin"',
        'label dayOfWeek hourOfDay slots',
        {
          range: BERLIN_DAYS,
        },
      );
      expect(rows).toHaveLength(7 * 24);
      expect(rows.filter((row) => row['slots'] !== 0)).toEqual([
        { label: 'Monday / 00:00', dayOfWeek: 1, hourOfDay: 0, slots: 1 },
        { label: 'Saturday / 23:00', dayOfWeek: 6, hourOfDay: 23, slots: 1 },
        { label: 'Sunday / 00:00', dayOfWeek: 7, hourOfDay: 0, slots: 1 },
        { label: 'Sunday / 13:00', dayOfWeek: 7, hourOfDay: 13, slots: 1 },
      ]);
    });
  });

  describe('deviceStats', () => {
    it('when grouped by [STUDIO, DAY] in Berlin, then the devices registered per studio and local day, every studio with zeros, the active ones among them', async () => {
      const rows = await stats('deviceStats', ', groupBy: [STUDIO, DAY], timeZone: "Europe/Berlin"', 'label studioId registered active', {
        range: BERLIN_DAYS,
      });
      const bucket = (studio: string, day: typeof SAT, registered: number, active: number) => ({
        label: `${studio} / ${day.label}`,
        studioId: studio,
        registered,
        active,
      });
      expect(rows).toEqual([
        bucket(A, SAT, 1, 1),
        bucket(A, SUN, 1, 0),
        bucket(A, MON, 0, 0),
        bucket(B, SAT, 0, 0),
        bucket(B, SUN, 0, 0),
        bucket(B, MON, 1, 1),
        bucket(C, SAT, 0, 0),
        bucket(C, SUN, 0, 0),
        bucket(C, MON, 0, 0),
      ]);
    });

    it('when the range is open at either end, then from the first registration to now (or to `to`), the totals those of a direct count', async () => {
      const [direct] = await server.sql(`SELECT COUNT(*) AS "n" FROM devices`);
      for (const range of [undefined, { to: '2026-10-27T00:00:00Z' }, { from: '2026-10-01T00:00:00Z' }]) {
        const rows = await stats('deviceStats', ', groupBy: []', 'label registered', { range });
        expect(rows).toEqual([{ label: 'total', registered: Number(direct.n) }]);
      }
      const months = await stats('deviceStats', ', groupBy: MONTH', 'label registered');
      expect(months[0]).toEqual({ label: '2026-10', registered: 3 });
      expect(Date.parse(String((await stats('deviceStats', ', groupBy: MONTH', 'end')).at(-1)!['end']))).toBeGreaterThan(Date.now());
    });
  });

  describe('financeStats', () => {
    it('when grouped by Berlin day, then the debt-collection runs and tax-advisor exports created that day', async () => {
      expect(
        await stats('financeStats', ', timeZone: "Europe/Berlin"', 'label start end debtCollectionRuns taxAdvisorExports', {
          range: BERLIN_DAYS,
        }),
      ).toEqual([
        { ...SAT, debtCollectionRuns: 0, taxAdvisorExports: 0 },
        { ...SUN, debtCollectionRuns: 1, taxAdvisorExports: 1 },
        { ...MON, debtCollectionRuns: 0, taxAdvisorExports: 1 },
      ]);
    });

    it('when grouped by studio over an open range, then per studio, equal to a direct count of each table', async () => {
      const rows = await stats('financeStats', ', groupBy: STUDIO', 'studioId debtCollectionRuns taxAdvisorExports');
      const count = async (table: string, studio: string) =>
        Number((await server.sql(`SELECT COUNT(*) AS "n" FROM ${table} WHERE "studioId" = ${Number(studio)}`))[0].n);
      const expected = [];
      for (const studio of [A, B, C])
        expected.push({
          studioId: studio,
          debtCollectionRuns: await count('debt_collection_runs', studio),
          taxAdvisorExports: await count('tax_advisor_exports', studio),
        });
      expect(rows).toEqual(expected);
      expect(rows.map((row) => Number(row['debtCollectionRuns']) + Number(row['taxAdvisorExports']))).toEqual([2, 1, 0]);
    });
  });

  describe('scope, members, caps', () => {
    it('when a partner token of studio A asks, then only A is listed and counted, and naming studio B is FORBIDDEN', async () => {
      expect(await stats('classSlotStats', ', groupBy: STUDIO', 'studioId slots', { range: BERLIN_DAYS }, partnerToken)).toEqual([
        { studioId: A, slots: 3 },
      ]);
      expect(await stats('deviceStats', ', groupBy: []', 'registered', {}, partnerToken)).toEqual([{ registered: 2 }]);
      expect(await stats('financeStats', ', groupBy: []', 'debtCollectionRuns taxAdvisorExports', {}, partnerToken)).toEqual([
        { debtCollectionRuns: 1, taxAdvisorExports: 1 },
      ]);
      for (const field of ['classSlotStats', 'deviceStats', 'financeStats']) {
        const forbidden = await refused(`{ ${field}(studioIds: ["${B}"]) { label } }`, {}, partnerToken);
        expect({ field, code: forbidden.code }).toEqual({ field, code: 'FORBIDDEN' });
      }
    });

    it('when a member asks for any of them, then FORBIDDEN and no data', async () => {
      const member = await new SignJWT({ role: 'member', studioIds: [Number(A)], customerId: 1 })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(JWT.JWT_ISSUER)
        .setAudience(JWT.JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(JWT.JWT_SECRET));
      for (const field of ['classSlotStats', 'deviceStats', 'financeStats']) {
        const answer = await refused(`{ ${field} { label } }`, {}, member);
        expect({ field, code: answer.code }).toEqual({ field, code: 'FORBIDDEN' });
      }
    });

    it('when a period needs more than 2000 buckets or the combinations more than 10,000, then TOO_MANY_BUCKETS; several dimensions twice is BAD_USER_INPUT', async () => {
      const hours = await refused(
        `query K($range: TimeRangeInput) { classSlotStats(range: $range, groupBy: [STUDIO, HOUR], studioIds: ["${A}"]) { slots } }`,
        { range: { from: '2026-08-01T00:00:00Z', to: '2026-10-30T00:00:00Z' } },
      );
      expect(hours).toEqual({ code: 'TOO_MANY_BUCKETS', message: expect.stringMatching(/more than 2000 hour buckets/) });
      const twice = await refused(`{ financeStats(groupBy: [STUDIO, STUDIO]) { label } }`);
      expect(twice.code).toBe('BAD_USER_INPUT');
      // Last: more studios, which every answer grouped by STUDIO would list. 35 days x 24 hours x 12 studios = 10,080
      // combinations (costed as 10 studios: within the cost limit); 34 days, 9,792: every combination.
      for (let i = 0; i < 9; i += 1) await server.addStudio({ name: `Extra ${i}` });
      const product = await refused(
        `query K($range: TimeRangeInput) { deviceStats(range: $range, groupBy: [DAY, HOUR_OF_DAY, STUDIO]) { registered } }`,
        { range: { from: '2026-09-24T00:00:00Z', to: '2026-10-29T00:00:00Z' } },
      );
      expect(product).toEqual({ code: 'TOO_MANY_BUCKETS', message: expect.stringMatching(/^groupBy: 10080 buckets, more than the 10000/) });
      const under = await stats('deviceStats', ', groupBy: [DAY, HOUR_OF_DAY, STUDIO]', 'registered', {
        range: { from: '2026-09-25T00:00:00Z', to: '2026-10-29T00:00:00Z' },
      });
      expect(under).toHaveLength(9792);
      expect(under.reduce((sum, row) => sum + Number(row['registered']), 0)).toBe(3);
    });
  });
});

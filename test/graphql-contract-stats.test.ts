import { TokenService } from '../src/domains/access/token.service.js';
import { BERLIN_DAYS, MON, SAT, SUN, graphqlAs } from './support/stats-fixtures.js';
import { databaseKinds, type DatabaseKind } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * Contracts around the end of summer time in Berlin (Sunday 2026-10-25, clocks back from 03:00 CEST
 * to 02:00 CET at 01:00 UTC: that local day lasts 25 hours). Studio C receives nothing.
 * Cancellations are calendar dates, as hydration from the Open API records them.
 */
type Contract = readonly [
  studio: 'A' | 'B',
  type: 'CONTRACT_CREATED' | 'CONTRACT_UPDATED',
  contractId: number,
  utc: string,
  cancellationDate: string | null,
];
const CONTRACTS: readonly Contract[] = [
  ['A', 'CONTRACT_CREATED', 9001, '2026-10-24T21:30Z', '2026-10-26'], // Berlin Sat 23:30; cancelled Monday
  ['A', 'CONTRACT_CREATED', 9002, '2026-10-24T22:30Z', null], //         Berlin Sun 00:30 (Saturday in UTC)
  ['A', 'CONTRACT_CREATED', 9003, '2026-10-25T23:30Z', null], //         Berlin Mon 00:30 (Sunday in UTC)
  ['B', 'CONTRACT_CREATED', 9004, '2026-10-25T12:00Z', '2026-10-25'], // Berlin Sun 13:00; cancelled Sunday
  // Known only from an update (no creation time), cancelled weeks before any contract here was created.
  ['B', 'CONTRACT_UPDATED', 9005, '2026-10-26T08:00Z', '2026-09-30'],
];

describe.each(databaseKinds())('contractStats grouped by a list (%s)', (kind: DatabaseKind) => {
  let server: TestServer;
  let A: string;
  let B: string;
  let C: string;
  let partnerToken: string;

  const graphql = (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) =>
    graphqlAs(server.app.url, token, query, variables);
  /** The buckets of a contractStats query that must succeed. */
  const stats = async (args: string, fields: string, variables: Record<string, unknown> = {}, token?: string) => {
    const result = await graphql(`query K($range: TimeRangeInput) { contractStats(range: $range${args}) { ${fields} } }`, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data.contractStats as Record<string, unknown>[];
  };
  const refused = async (args: string, fields: string, variables: Record<string, unknown>, declarations = '') => {
    const result = await graphql(
      `query K($range: TimeRangeInput${declarations ? `, ${declarations}` : ''}) { contractStats(range: $range${args}) { ${fields} } }`,
      variables,
    );
    expect(result.data ?? null).toBeNull();
    return { code: result.errors?.[0]?.extensions.code, message: result.errors?.[0]?.message };
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const studios = { A: await server.addStudio({ name: 'Alpha' }), B: await server.addStudio({ name: 'Beta' }) };
    C = String((await server.addStudio({ name: 'Gamma' })).id);
    [A, B] = [String(studios.A.id), String(studios.B.id)];
    for (const [studio, type, contractId, utc] of CONTRACTS) {
      const response = await server.post(
        studios[studio].webhookKey,
        delivery(7000 + contractId, { type, timestamp: Date.parse(utc), content: { contractId } }),
      );
      expect(response.status).toBe(200);
    }
    for (const [, , contractId, , date] of CONTRACTS) {
      if (date)
        await server.sql(`UPDATE contracts SET "cancelled" = TRUE, "cancellationDate" = '${date}' WHERE "contractId" = ${contractId}`);
    }
    partnerToken = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [Number(A)] })).token;
  });
  afterAll(() => server.stop());

  it('when groupBy is one value, left out, or a list of that value, then the same Berlin days as before, a contract created at 00:30 local on its local day', async () => {
    const expected = [
      { ...SAT, created: 1, cancelled: 0 },
      { ...SUN, created: 2, cancelled: 1 },
      { ...MON, created: 1, cancelled: 1 },
    ];
    for (const groupBy of ['', ', groupBy: DAY', ', groupBy: [DAY]']) {
      expect(await stats(`, timeZone: "Europe/Berlin"${groupBy}`, 'label start end created cancelled', { range: BERLIN_DAYS })).toEqual(
        expected,
      );
    }
  });

  it('when grouped by UTC day instead, then the contracts created near midnight move to the UTC day, the cancellation dates stay on theirs', async () => {
    expect(await stats('', 'label created cancelled', { range: { from: '2026-10-24T00:00:00Z', to: '2026-10-27T00:00:00Z' } })).toEqual([
      { label: '2026-10-24', created: 2, cancelled: 0 },
      { label: '2026-10-25', created: 2, cancelled: 1 },
      { label: '2026-10-26', created: 0, cancelled: 1 },
    ]);
  });

  it('when grouped by [STUDIO, DAY], then one bucket per studio and Berlin day, every studio with zeros, the studio outermost', async () => {
    const rows = await stats(
      ', groupBy: [STUDIO, DAY], timeZone: "Europe/Berlin"',
      'label studioId start end dayOfWeek created cancelled',
      { range: BERLIN_DAYS },
    );
    const bucket = (studio: string, day: typeof SAT, created: number, cancelled: number) => ({
      ...day,
      label: `${studio} / ${day.label}`,
      studioId: studio,
      dayOfWeek: null,
      created,
      cancelled,
    });
    expect(rows).toEqual([
      bucket(A, SAT, 1, 0),
      bucket(A, SUN, 1, 0),
      bucket(A, MON, 1, 1),
      bucket(B, SAT, 0, 0),
      bucket(B, SUN, 1, 1),
      bucket(B, MON, 0, 0),
      bucket(C, SAT, 0, 0),
      bucket(C, SUN, 0, 0),
      bucket(C, MON, 0, 0),
    ]);
  });

  it('when grouped by day of the week or ISO week, then by the Berlin calendar: Sunday 00:30 CEST is a Sunday of week 43, Monday 00:30 CET a Monday of week 44', async () => {
    const weekdays = await stats(', groupBy: DAY_OF_WEEK, timeZone: "Europe/Berlin"', 'label dayOfWeek start created cancelled', {
      range: BERLIN_DAYS,
    });
    expect(weekdays).toHaveLength(7);
    expect(weekdays.filter((row) => row['created'] !== 0 || row['cancelled'] !== 0)).toEqual([
      { label: 'Monday', dayOfWeek: 1, start: null, created: 1, cancelled: 1 },
      { label: 'Saturday', dayOfWeek: 6, start: null, created: 1, cancelled: 0 },
      { label: 'Sunday', dayOfWeek: 7, start: null, created: 2, cancelled: 1 },
    ]);
    expect(await stats(', groupBy: [WEEK, STUDIO], timeZone: "Europe/Berlin"', 'label created cancelled', { range: BERLIN_DAYS })).toEqual([
      { label: `2026-W43 / ${A}`, created: 2, cancelled: 0 },
      { label: `2026-W43 / ${B}`, created: 1, cancelled: 1 },
      { label: `2026-W43 / ${C}`, created: 0, cancelled: 0 },
      { label: `2026-W44 / ${A}`, created: 1, cancelled: 1 },
      { label: `2026-W44 / ${B}`, created: 0, cancelled: 0 },
      { label: `2026-W44 / ${C}`, created: 0, cancelled: 0 },
    ]);
    // In UTC, 9003 (Monday 00:30 in Berlin) was created on Sunday, in week 43.
    expect(
      await stats(', groupBy: WEEK', 'label created', { range: { from: '2026-10-19T00:00:00Z', to: '2026-11-02T00:00:00Z' } }),
    ).toEqual([
      { label: '2026-W43', created: 4 },
      { label: '2026-W44', created: 0 },
    ]);
  });

  it('when grouped by Berlin hour, then the creations per hour, the repeated 02:00 hour twice; asking for cancelled too is BAD_USER_INPUT (a date has no hour)', async () => {
    const hours = await stats(', groupBy: [HOUR], timeZone: "Europe/Berlin"', 'label start created', {
      range: { from: SUN.start, to: SUN.end },
    });
    expect(hours).toHaveLength(25);
    expect(hours.filter((row) => row['label'] === '2026-10-25T02:00')).toHaveLength(2);
    expect(hours.filter((row) => row['created'] !== 0)).toEqual([
      { label: '2026-10-25T00:00', start: '2026-10-24T22:00:00.000Z', created: 1 },
      { label: '2026-10-25T13:00', start: '2026-10-25T12:00:00.000Z', created: 1 },
    ]);
    for (const groupBy of ['HOUR', '[STUDIO, HOUR_OF_DAY]']) {
      const { code, message } = await refused(`, groupBy: ${groupBy}`, 'created cancelled', { range: BERLIN_DAYS });
      expect(code).toBe('BAD_USER_INPUT');
      expect(message).toMatch(/^groupBy: cancelled is counted by a calendar date, which has no hour/);
    }
  });

  it('when the range is left open, then it starts at the earliest creation or cancellation date and ends now, every month listed', async () => {
    const months = await stats(', groupBy: [MONTH], timeZone: "Europe/Berlin"', 'label start end created cancelled');
    // From 2026-09-30 (9005's cancellation) to now: September, October, then zeros up to this month.
    expect(months.slice(0, 2)).toEqual([
      { label: '2026-09', start: '2026-08-31T22:00:00.000Z', end: '2026-09-30T22:00:00.000Z', created: 0, cancelled: 1 },
      { label: '2026-10', start: '2026-09-30T22:00:00.000Z', end: '2026-10-31T23:00:00.000Z', created: 4, cancelled: 2 },
    ]);
    expect(months.slice(2).every((row) => row['created'] === 0 && row['cancelled'] === 0)).toBe(true);
    const last = months[months.length - 1]!;
    expect(Date.parse(String(last['start']))).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(String(last['end']))).toBeGreaterThan(Date.now());
    // Only `to` given: from the earliest item; only `from`: to now. Grouped by studio alone, no calendar fields.
    const perStudio = [
      { label: A, studioId: A, start: null, created: 3, cancelled: 1 },
      { label: B, studioId: B, start: null, created: 1, cancelled: 2 },
      { label: C, studioId: C, start: null, created: 0, cancelled: 0 },
    ];
    expect(await stats(', groupBy: STUDIO', 'label studioId start created cancelled', { range: { to: '2026-10-27T00:00:00Z' } })).toEqual(
      perStudio,
    );
    expect(await stats(', groupBy: STUDIO', 'label studioId start created cancelled', { range: { from: '2026-09-01T00:00:00Z' } })).toEqual(
      perStudio,
    );
    // An empty list: one total.
    expect(await stats(', groupBy: []', 'label created cancelled')).toEqual([{ label: 'total', created: 4, cancelled: 3 }]);
  });

  it('when a partner token for studio A asks by studio, then only A is listed and counted', async () => {
    expect(await stats(', groupBy: [STUDIO]', 'studioId created cancelled', { range: BERLIN_DAYS }, partnerToken)).toEqual([
      { studioId: A, created: 3, cancelled: 1 },
    ]);
  });

  it('when a calendar period needs more than 2000 buckets, then TOO_MANY_BUCKETS, whatever the other dimensions', async () => {
    // 90 days of hours: 2,160 buckets (within the cost limit with three studios named).
    const range = { from: '2026-08-01T00:00:00Z', to: '2026-10-30T00:00:00Z' };
    const hours = await refused(', groupBy: [STUDIO, HOUR], studioIds: $ids', 'created', { range, ids: [A, B, C] }, '$ids: [ID!]');
    expect(hours).toEqual({ code: 'TOO_MANY_BUCKETS', message: expect.stringMatching(/more than 2000 hour buckets/) });
  });

  // Last: it registers more studios, which every other answer grouped by STUDIO would list.
  it('when the combinations of the dimensions are more than 10,000, then TOO_MANY_BUCKETS; just under, every combination', async () => {
    for (let i = 0; i < 9; i += 1) await server.addStudio({ name: `Extra ${i}` });
    // 35 days x 24 hours x 12 studios = 10,080 combinations (costed as 10 studios: within the cost limit).
    const product = await refused(', groupBy: [DAY, HOUR_OF_DAY, STUDIO]', 'created', {
      range: { from: '2026-09-24T00:00:00Z', to: '2026-10-29T00:00:00Z' },
    });
    expect(product).toEqual({ code: 'TOO_MANY_BUCKETS', message: expect.stringMatching(/^groupBy: 10080 buckets, more than the 10000/) });
    // 34 days: 9,792.
    const under = await stats(', groupBy: [DAY, HOUR_OF_DAY, STUDIO]', 'created', {
      range: { from: '2026-09-25T00:00:00Z', to: '2026-10-29T00:00:00Z' },
    });
    expect(under).toHaveLength(9792);
    expect(under.reduce((sum, row) => sum + Number(row['created']), 0)).toBe(4);
  });
});

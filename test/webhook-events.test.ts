import { randomUUID } from 'node:crypto';
import { SEARCH_COLUMNS } from '../src/domains/customers/customer-search.js';
import { HYDRATED_COLUMNS } from '../src/migrations/1764000000003-hydration.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

type Studio = Awaited<ReturnType<TestServer['addStudio']>>;
type Element = { type: string; timestamp: number; content?: Record<string, unknown> | null };
type Row = Record<string, unknown>;

/** Upstream times: minute `n` after a fixed instant (epoch ms). */
const T0 = 1_764_000_000_000;
const at = (minute: number) => T0 + minute * 60_000;
/** The customer columns of the sister platform's access and home-studio types (CUSTOMER_ACCESS_*, ...), untouched by the others. */
const NO_ACCESS_EVENTS = {
  accessDisabledAt: null,
  homeStudioUpdatedAt: null,
  homeStudioOrder: null,
  previousHomeStudioUpstreamId: null,
  checkinStudiosUpdatedAt: null,
  checkinStudiosOrder: null,
  checkinStudiosContractId: null,
  lastAccessMediumCreatedAt: null,
  lastAccessMediumUpdatedAt: null,
  lastAccessMediumDeletedAt: null,
  lastAccessRestrictionCreatedAt: null,
  lastAccessRestrictionDeletedAt: null,
};

const RECORD_TABLES = [
  'customers',
  'visits',
  'contracts',
  'class_slots',
  'class_bookings',
  'appointment_bookings',
  'aggregator_memberships',
  'devices',
  'debt_collection_runs',
  'tax_advisor_exports',
] as const;

/** Text columns keep their value; every other digit string is a BIGINT that PostgreSQL returned as text. */
const TEXT_COLUMNS = new Set(['uuid', 'type', 'status', 'aggregatorId', 'content']);

/** Makes a row read from either database comparable: BIGINTs as numbers, booleans as booleans. */
function normalise(row: Row): Row {
  const out: Row = {};
  for (const [name, value] of Object.entries(row)) {
    if (name === 'known') out[name] = value === true || value === 1 || value === '1';
    else if (typeof value === 'string' && !TEXT_COLUMNS.has(name) && /^-?\d+$/.test(value)) out[name] = Number(value);
    else out[name] = value;
  }
  return out;
}

/** A copy of `row` without the given columns (surrogate keys, tenant ids) for comparisons. */
function omit(row: Row | undefined, ...names: string[]): Row | undefined {
  if (!row) return row;
  return Object.fromEntries(Object.entries(row).filter(([name]) => !names.includes(name)));
}

/** mulberry32: a tiny seeded PRNG, so a failing property run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A total order on visit rows: by start (check-in, else check-out), then by end, then by studio. */
function visitOrder(a: Row, b: Row): number {
  const start = (v: Row) => Number(v.checkinAt ?? v.checkoutAt);
  const end = (v: Row) => (v.checkoutAt === null ? Infinity : Number(v.checkoutAt));
  return (
    start(a) - start(b) ||
    Number(a.checkinAt === null) - Number(b.checkinAt === null) ||
    end(a) - end(b) ||
    Number(a.studioId) - Number(b.studioId)
  );
}

interface Presence {
  readonly type: 'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT';
  readonly timestamp: number;
  readonly studio: Studio;
}

/**
 * The documented pairing rule, as a model: order by time, a check-in before a check-out at the same
 * millisecond; a check-out closes the event right before it if that is a check-in.
 */
function expectedVisits(events: readonly Presence[]): Row[] {
  const rank = (event: Presence) => (event.type === 'CUSTOMER_CHECKIN' ? 0 : 1);
  // Two check-ins (or check-outs) at the same millisecond are one event delivered twice.
  const sorted = [...events]
    .sort((a, b) => a.timestamp - b.timestamp || rank(a) - rank(b))
    .filter((event, index, all) => !(index > 0 && all[index - 1]!.type === event.type && all[index - 1]!.timestamp === event.timestamp));
  const visits: Row[] = [];
  sorted.forEach((event, index) => {
    if (event.type === 'CUSTOMER_CHECKIN') {
      visits.push({
        studioId: event.studio.id,
        checkinAt: event.timestamp,
        checkoutAt: null,
        checkoutStudioId: null,
        lastEventAt: event.timestamp,
      });
    } else if (sorted[index - 1]?.type === 'CUSTOMER_CHECKIN') {
      Object.assign(visits[visits.length - 1]!, {
        checkoutAt: event.timestamp,
        checkoutStudioId: event.studio.id,
        lastEventAt: event.timestamp,
      });
    } else {
      visits.push({
        studioId: event.studio.id,
        checkinAt: null,
        checkoutAt: event.timestamp,
        checkoutStudioId: event.studio.id,
        lastEventAt: event.timestamp,
      });
    }
  });
  return visits.sort(visitOrder);
}

describe.each(databaseKinds())('POST /webhooks applies events to records (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server.stop());

  const rows = async (query: string, params: unknown[] = []) => (await server.sql<Row>(query, params)).map(normalise);

  /** Posts one delivery and expects it to be stored. */
  const send = async (studio: Studio, entityId: number, ...payload: Element[]) => {
    const body = delivery(entityId, ...payload);
    const response = await server.post(studio.webhookKey, body);
    expect(response.status).toBe(200);
    return { body, response: response.body as { status: string; uuid: string; stored: number; duplicates: number } };
  };

  /** Posts each element as its own delivery, one after the other. */
  const sendEach = async (studio: Studio, entityId: number, elements: readonly Element[]) => {
    for (const element of elements) await send(studio, entityId, element);
  };

  /** The single record of `table` with `column` = `id` in the studio's tenant. */
  const record = async (studio: Studio, table: string, column: string, id: number | string) => {
    const found = await rows(`SELECT * FROM ${table} WHERE "tenantId" = $1 AND "${column}" = $2`, [studio.tenantId, id]);
    expect(found.length).toBeLessThanOrEqual(1);
    // The columns hydration fills stay null here (no studio has an Open API key): only what the events made is compared.
    // Hydration's columns (and the search copies of them) are not the events' business.
    return omit(
      found[0],
      ...HYDRATED_COLUMNS.filter(([t]) => t === table).map(([, c]) => c),
      ...(table === 'customers' ? SEARCH_COLUMNS : []),
    );
  };
  const customer = (studio: Studio, customerId: number) => record(studio, 'customers', 'customerId', customerId);

  /** A customer's visits, in time order, without the seq-derived columns. */
  const visitsOf = async (studio: Studio, customerId: number) =>
    (await rows(`SELECT * FROM visits WHERE "tenantId" = $1 AND "customerId" = $2`, [studio.tenantId, customerId]))
      .map((row) => omit(row, 'id', 'checkoutSeq', 'tenantId', 'customerId')!)
      .sort(visitOrder);

  /** Every record row of every table, for "nothing changed" checks. */
  const allRecords = async () => {
    const out: Record<string, Row[]> = {};
    for (const table of RECORD_TABLES) out[table] = await rows(`SELECT * FROM ${table} ORDER BY "id"`);
    return out;
  };
  const eventCount = async () => Number((await server.sql('SELECT COUNT(*) AS n FROM events'))[0].n);

  /**
   * Posts `elements` in the given order from one fresh studio and in reverse order from another
   * (each its own tenant), and returns both resulting records without tenant-specific columns.
   */
  const inBothOrders = async (entityId: number, elements: readonly Element[], read: (studio: Studio) => Promise<Row | undefined>) => {
    const forward = await server.addStudio();
    const backward = await server.addStudio();
    await sendEach(forward, entityId, elements);
    await sendEach(backward, entityId, [...elements].reverse());
    const strip = (row: Row | undefined) => omit(row, 'id', 'tenantId', 'studioId');
    return [strip(await read(forward)), strip(await read(backward))] as const;
  };

  describe('customers', () => {
    it('when CUSTOMER_CREATED arrives, then the customer exists with createdAt and the studio that delivered it', async () => {
      const studio = await server.addStudio();
      await send(studio, 1001, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      expect(await customer(studio, 1001)).toEqual({
        id: expect.any(Number),
        tenantId: studio.tenantId,
        studioId: studio.id,
        customerId: 1001,
        firstEventAt: at(1),
        lastEventAt: at(1),
        createdAt: at(1),
        updatedAt: null,
        communicationPreferencesUpdatedAt: null,
        deletedAt: null,
        lastCheckinAt: null,
        lastCheckinStudioId: null,
        lastCheckoutAt: null,
        ...NO_ACCESS_EVENTS,
      });
    });

    it('when CUSTOMER_UPDATED arrives twice, then updatedAt and lastEventAt are the later time', async () => {
      const studio = await server.addStudio();
      await send(studio, 1002, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      await send(studio, 1002, { type: 'CUSTOMER_UPDATED', timestamp: at(2) });
      await send(studio, 1002, { type: 'CUSTOMER_UPDATED', timestamp: at(5) });
      expect(await customer(studio, 1002)).toMatchObject({ createdAt: at(1), updatedAt: at(5), firstEventAt: at(1), lastEventAt: at(5) });
    });

    it('when CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED arrives, then communicationPreferencesUpdatedAt is set', async () => {
      const studio = await server.addStudio();
      await send(studio, 1003, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      await send(studio, 1003, { type: 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED', timestamp: at(3) });
      expect(await customer(studio, 1003)).toMatchObject({
        createdAt: at(1),
        updatedAt: null,
        communicationPreferencesUpdatedAt: at(3),
        lastEventAt: at(3),
      });
    });

    it('when CUSTOMER_DELETED arrives, then deletedAt is set and the row is kept', async () => {
      const studio = await server.addStudio();
      await send(studio, 1004, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      await send(studio, 1004, { type: 'CUSTOMER_DELETED', timestamp: at(9) });
      expect(await customer(studio, 1004)).toMatchObject({ customerId: 1004, createdAt: at(1), deletedAt: at(9), lastEventAt: at(9) });
    });

    it.each([
      ['CUSTOMER_UPDATED', undefined],
      ['CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED', undefined],
      ['CUSTOMER_DELETED', undefined],
      ['CUSTOMER_CHECKIN', undefined],
      ['CUSTOMER_CHECKOUT', undefined],
      ['CONTRACT_CREATED', { contractId: 1 }],
      ['CONTRACT_UPDATED', { contractId: 2 }],
      ['AGGREGATOR_MEMBER_CREATED', { aggregatorId: 'm-1' }],
    ])('when %s arrives for an unknown customer, then the customer is created', async (type, content) => {
      const studio = await server.addStudio();
      await send(studio, 1005, { type, timestamp: at(4), ...(content ? { content } : {}) });
      expect(await customer(studio, 1005)).toMatchObject({
        tenantId: studio.tenantId,
        studioId: studio.id,
        customerId: 1005,
        createdAt: null,
        firstEventAt: at(4),
        lastEventAt: at(4),
      });
    });

    it.each([
      ['CLASS_BOOKING_CREATED', undefined],
      ['APPOINTMENT_BOOKING_CREATED', undefined],
      ['CLASS_SLOT_UPDATED', { classId: 3 }],
      ['DEVICE_CREATED', undefined],
      ['FINANCE_DEBT_COLLECTION_RUN_CREATED', undefined],
      ['TAX_ADVISOR_EXPORT_CREATED', undefined],
    ])('when %s arrives, then its entityId is not taken for a customer', async (type, content) => {
      const studio = await server.addStudio();
      await send(studio, 1006, { type, timestamp: at(4), ...(content ? { content } : {}) });
      expect(await rows(`SELECT * FROM customers WHERE "tenantId" = $1`, [studio.tenantId])).toEqual([]);
    });

    it('when CUSTOMER_DELETED is followed by an older CUSTOMER_UPDATED, then deletedAt is kept and updatedAt is the older time, in either order', async () => {
      const [forward, backward] = await inBothOrders(
        1007,
        [
          { type: 'CUSTOMER_DELETED', timestamp: at(2) },
          { type: 'CUSTOMER_UPDATED', timestamp: at(1) },
        ],
        (studio) => customer(studio, 1007),
      );
      expect(forward).toEqual({
        customerId: 1007,
        createdAt: null,
        updatedAt: at(1),
        communicationPreferencesUpdatedAt: null,
        deletedAt: at(2),
        lastCheckinAt: null,
        lastCheckinStudioId: null,
        lastCheckoutAt: null,
        firstEventAt: at(1),
        lastEventAt: at(2),
        ...NO_ACCESS_EVENTS,
      });
      expect(backward).toEqual(forward);
    });

    it('when events arrive newest first, then firstEventAt is the oldest and lastEventAt the newest time', async () => {
      const studio = await server.addStudio();
      await send(studio, 1008, { type: 'CUSTOMER_UPDATED', timestamp: at(30) });
      await send(studio, 1008, { type: 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED', timestamp: at(20) });
      await send(studio, 1008, { type: 'CUSTOMER_CREATED', timestamp: at(10) });
      await send(studio, 1008, { type: 'CUSTOMER_UPDATED', timestamp: at(25) });
      expect(await customer(studio, 1008)).toMatchObject({
        createdAt: at(10),
        updatedAt: at(30),
        communicationPreferencesUpdatedAt: at(20),
        firstEventAt: at(10),
        lastEventAt: at(30),
      });
    });
  });

  describe('check-ins and visits', () => {
    const checkedInNow = async (studio: Studio) =>
      (
        await rows(
          `SELECT "customerId" FROM customers WHERE "tenantId" = $1 AND "lastCheckinAt" IS NOT NULL
           AND ("lastCheckoutAt" IS NULL OR "lastCheckinAt" > "lastCheckoutAt") ORDER BY "customerId"`,
          [studio.tenantId],
        )
      ).map((row) => row.customerId);

    it('when a check-in and then a check-out arrive, then they form one visit and the customer is checked in, then out', async () => {
      const studio = await server.addStudio();
      const checkin = await send(studio, 2001, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) });
      expect(await visitsOf(studio, 2001)).toEqual([
        { studioId: studio.id, checkinAt: at(1), checkoutAt: null, checkoutStudioId: null, lastEventAt: at(1) },
      ]);
      expect(await customer(studio, 2001)).toMatchObject({ lastCheckinAt: at(1), lastCheckinStudioId: studio.id, lastCheckoutAt: null });
      expect(await checkedInNow(studio)).toEqual([2001]);

      const checkout = await send(studio, 2001, { type: 'CUSTOMER_CHECKOUT', timestamp: at(50) });
      expect(await visitsOf(studio, 2001)).toEqual([
        { studioId: studio.id, checkinAt: at(1), checkoutAt: at(50), checkoutStudioId: studio.id, lastEventAt: at(50) },
      ]);
      expect(await customer(studio, 2001)).toMatchObject({
        lastCheckinAt: at(1),
        lastCheckinStudioId: studio.id,
        lastCheckoutAt: at(50),
        lastEventAt: at(50),
      });
      expect(await checkedInNow(studio)).toEqual([]);

      // The visit is keyed by the check-in's event-log seq and names the check-out's.
      const seqOf = async (uuid: string) => (await rows(`SELECT "seq" FROM events WHERE "uuid" = $1`, [uuid]))[0]!.seq;
      const [visit] = await rows(`SELECT "id", "checkoutSeq" FROM visits WHERE "tenantId" = $1`, [studio.tenantId]);
      expect(visit).toEqual({ id: await seqOf(checkin.body.uuid), checkoutSeq: await seqOf(checkout.body.uuid) });
    });

    it('when a check-out arrives with no open visit, then it is recorded as a visit without check-in', async () => {
      const studio = await server.addStudio();
      await send(studio, 2002, { type: 'CUSTOMER_CHECKOUT', timestamp: at(5) });
      expect(await visitsOf(studio, 2002)).toEqual([
        { studioId: studio.id, checkinAt: null, checkoutAt: at(5), checkoutStudioId: studio.id, lastEventAt: at(5) },
      ]);
      // A second check-out after a closed visit closes nothing either.
      await send(studio, 2002, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) });
      await send(studio, 2002, { type: 'CUSTOMER_CHECKOUT', timestamp: at(20) });
      await send(studio, 2002, { type: 'CUSTOMER_CHECKOUT', timestamp: at(30) });
      expect(await visitsOf(studio, 2002)).toEqual([
        { studioId: studio.id, checkinAt: null, checkoutAt: at(5), checkoutStudioId: studio.id, lastEventAt: at(5) },
        { studioId: studio.id, checkinAt: at(10), checkoutAt: at(20), checkoutStudioId: studio.id, lastEventAt: at(20) },
        { studioId: studio.id, checkinAt: null, checkoutAt: at(30), checkoutStudioId: studio.id, lastEventAt: at(30) },
      ]);
      expect(await customer(studio, 2002)).toMatchObject({ lastCheckinAt: at(10), lastCheckoutAt: at(30) });
      expect(await checkedInNow(studio)).toEqual([]);
    });

    it('when the check-out (t2) is posted before its check-in (t1), then there is one paired visit and no orphan', async () => {
      const studio = await server.addStudio();
      await send(studio, 2003, { type: 'CUSTOMER_CHECKOUT', timestamp: at(2) });
      await send(studio, 2003, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) });
      expect(await visitsOf(studio, 2003)).toEqual([
        { studioId: studio.id, checkinAt: at(1), checkoutAt: at(2), checkoutStudioId: studio.id, lastEventAt: at(2) },
      ]);
      expect(await customer(studio, 2003)).toMatchObject({
        lastCheckinAt: at(1),
        lastCheckoutAt: at(2),
        firstEventAt: at(1),
        lastEventAt: at(2),
      });
      expect(await checkedInNow(studio)).toEqual([]);
    });

    it('when a late check-in (t2) lands inside a visit (t1-t3), then the visits are (t1, open) and (t2, t3), as in time order', async () => {
      const late = await server.addStudio();
      await send(late, 2004, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) });
      await send(late, 2004, { type: 'CUSTOMER_CHECKOUT', timestamp: at(3) });
      await send(late, 2004, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) });
      const expected = [
        { studioId: late.id, checkinAt: at(1), checkoutAt: null, checkoutStudioId: null, lastEventAt: at(1) },
        { studioId: late.id, checkinAt: at(2), checkoutAt: at(3), checkoutStudioId: late.id, lastEventAt: at(3) },
      ];
      expect(await visitsOf(late, 2004)).toEqual(expected);

      const inOrder = await server.addStudio();
      await sendEach(inOrder, 2004, [
        { type: 'CUSTOMER_CHECKIN', timestamp: at(1) },
        { type: 'CUSTOMER_CHECKIN', timestamp: at(2) },
        { type: 'CUSTOMER_CHECKOUT', timestamp: at(3) },
      ]);
      expect(await visitsOf(inOrder, 2004)).toEqual(
        expected.map((visit) => ({ ...visit, studioId: inOrder.id, checkoutStudioId: visit.checkoutStudioId && inOrder.id })),
      );
    });

    it('when a late check-out (t2) lands inside a visit (t1-t3), then it closes the visit and t3 stands alone', async () => {
      const studio = await server.addStudio();
      await send(studio, 2005, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) });
      await send(studio, 2005, { type: 'CUSTOMER_CHECKOUT', timestamp: at(3) });
      await send(studio, 2005, { type: 'CUSTOMER_CHECKOUT', timestamp: at(2) });
      expect(await visitsOf(studio, 2005)).toEqual([
        { studioId: studio.id, checkinAt: at(1), checkoutAt: at(2), checkoutStudioId: studio.id, lastEventAt: at(2) },
        { studioId: studio.id, checkinAt: null, checkoutAt: at(3), checkoutStudioId: studio.id, lastEventAt: at(3) },
      ]);
    });

    it('when an older check-in arrives after a newer one, then lastCheckinAt and its studio stay the newer ones', async () => {
      const tenantUrl = 'https://late-checkin.open-api.perfectgym.com/v1';
      const first = await server.addStudio({ tenantUrl });
      const second = await server.addStudio({ tenantUrl });
      await send(second, 2006, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) });
      await send(first, 2006, { type: 'CUSTOMER_CHECKIN', timestamp: at(5) });
      expect(await customer(first, 2006)).toMatchObject({
        lastCheckinAt: at(10),
        lastCheckinStudioId: second.id,
        studioId: first.id,
        firstEventAt: at(5),
      });
    });

    it.each([1, 2, 3, 4, 5])(
      'when ~30 check-ins and check-outs (seed %i) arrive shuffled, batched and duplicated, then the visits equal those of time order',
      async (seed) => {
        const random = prng(seed);
        const tenantUrl = `https://property-${seed}.open-api.perfectgym.com/v1`;
        const studios = [await server.addStudio({ tenantUrl }), await server.addStudio({ tenantUrl })];
        const events: (Presence & { uuids: Record<number, string> })[] = [];
        for (let i = 0, time = at(0); i < 26 + Math.floor(random() * 10); i += 1) {
          const previous = events[events.length - 1];
          // Some events share a millisecond with the one before. Such a tie is broken by arrival
          // order (seq), so tied events come from the same studio for the outcome to be order-free.
          const tie = previous !== undefined && random() < 0.15;
          if (!tie) time += 1 + Math.floor(random() * 90 * 60_000);
          events.push({
            type: random() < 0.55 ? 'CUSTOMER_CHECKIN' : 'CUSTOMER_CHECKOUT',
            timestamp: time,
            studio: tie ? previous.studio : studios[Math.floor(random() * studios.length)]!,
            uuids: {},
          });
        }
        // Each customer's copy of an event has its own uuid; re-sending it reuses that uuid.
        const post = (event: Presence & { uuids: Record<number, string> }, customerId: number) =>
          server.post(event.studio.webhookKey, {
            entityId: customerId,
            uuid: (event.uuids[customerId] ??= randomUUID()),
            payload: [{ type: event.type, timestamp: event.timestamp }],
          });

        const ordered = seed * 10 + 3001;
        for (const event of events) expect((await post(event, ordered)).body).toMatchObject({ stored: 1, duplicates: 0 });

        // Shuffled, in concurrent groups (several deliveries per transaction), then some re-sent.
        const shuffled = ordered + 1;
        const pending = shuffle(events, random);
        while (pending.length > 0) {
          const group = pending.splice(0, 1 + Math.floor(random() * 4));
          const responses = await Promise.all(group.map((event) => post(event, shuffled)));
          for (const response of responses) expect(response.body).toMatchObject({ stored: 1, duplicates: 0 });
        }
        const resent = shuffle(events, random).slice(0, 6);
        const again = await Promise.all(resent.map((event) => post(event, shuffled)));
        for (const response of again) expect(response.body).toMatchObject({ stored: 0, duplicates: 1 });

        const expected = expectedVisits(events);
        expect(await visitsOf(studios[0]!, ordered)).toEqual(expected);
        expect(await visitsOf(studios[0]!, shuffled)).toEqual(expected);
        expect(omit(await customer(studios[0]!, shuffled), 'id', 'customerId')).toEqual(
          omit(await customer(studios[0]!, ordered), 'id', 'customerId'),
        );
      },
    );
  });

  describe('contracts', () => {
    it('when CONTRACT_CREATED and CONTRACT_UPDATED arrive, then the contract is keyed by content.contractId and belongs to entityId', async () => {
      const studio = await server.addStudio();
      await send(studio, 4001, { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 77 } });
      await send(studio, 4001, { type: 'CONTRACT_UPDATED', timestamp: at(8), content: { contractId: '77' } });
      expect(await record(studio, 'contracts', 'contractId', 77)).toEqual({
        id: expect.any(Number),
        tenantId: studio.tenantId,
        studioId: studio.id,
        contractId: 77,
        customerId: 4001,
        createdAt: at(1),
        updatedAt: at(8),
        cancelledAt: null,
        firstEventAt: at(1),
        lastEventAt: at(8),
      });
      expect(await record(studio, 'contracts', 'customerId', 77)).toBeUndefined();
      expect(await customer(studio, 4001)).toMatchObject({ customerId: 4001, createdAt: null, firstEventAt: at(1), lastEventAt: at(8) });
    });

    it('when a customer has two contracts, then each is its own row', async () => {
      const studio = await server.addStudio();
      await send(studio, 4002, { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 1 } });
      await send(studio, 4002, { type: 'CONTRACT_CREATED', timestamp: at(2), content: { contractId: 2 } });
      const contracts = await rows(`SELECT "contractId", "customerId" FROM contracts WHERE "tenantId" = $1 ORDER BY "contractId"`, [
        studio.tenantId,
      ]);
      expect(contracts).toEqual([
        { contractId: 1, customerId: 4002 },
        { contractId: 2, customerId: 4002 },
      ]);
    });

    it('when CONTRACT_UPDATED arrives before CONTRACT_CREATED, then the record is the same as in time order', async () => {
      const [forward, backward] = await inBothOrders(
        4003,
        [
          { type: 'CONTRACT_CREATED', timestamp: at(1), content: { contractId: 9 } },
          { type: 'CONTRACT_UPDATED', timestamp: at(2), content: { contractId: 9 } },
        ],
        (studio) => record(studio, 'contracts', 'contractId', 9),
      );
      expect(forward).toEqual({
        contractId: 9,
        customerId: 4003,
        createdAt: at(1),
        updatedAt: at(2),
        cancelledAt: null,
        firstEventAt: at(1),
        lastEventAt: at(2),
      });
      expect(backward).toEqual(forward);
    });
  });

  describe.each([
    ['CLASS_BOOKING', 'class_bookings'],
    ['APPOINTMENT_BOOKING', 'appointment_bookings'],
  ])('%s_*', (prefix, table) => {
    const booking = (studio: Studio, id: number) => record(studio, table, 'bookingId', id);
    /** Booking webhooks name neither customer nor slot: those columns wait for hydration from the Open API. */
    const notHydrated = table === 'class_bookings' ? { customerId: null, classSlotId: null, classId: null } : { customerId: null };

    it(`when ${prefix}_CREATED, _CANCELLED and a later _UPDATED arrive, then the latest event decides BOOKED / CANCELLED`, async () => {
      const studio = await server.addStudio();
      await send(studio, 5001, { type: `${prefix}_CREATED`, timestamp: at(1) });
      expect(await booking(studio, 5001)).toEqual({
        id: expect.any(Number),
        tenantId: studio.tenantId,
        studioId: studio.id,
        bookingId: 5001,
        status: 'BOOKED',
        statusAt: at(1),
        createdAt: at(1),
        updatedAt: null,
        cancelledAt: null,
        firstEventAt: at(1),
        lastEventAt: at(1),
        ...notHydrated,
      });
      await send(studio, 5001, { type: `${prefix}_CANCELLED`, timestamp: at(2) });
      expect(await booking(studio, 5001)).toMatchObject({ status: 'CANCELLED', statusAt: at(2), cancelledAt: at(2), lastEventAt: at(2) });
      await send(studio, 5001, { type: `${prefix}_UPDATED`, timestamp: at(3) });
      expect(await booking(studio, 5001)).toMatchObject({
        status: 'BOOKED',
        statusAt: at(3),
        createdAt: at(1),
        updatedAt: at(3),
        cancelledAt: at(2),
        firstEventAt: at(1),
        lastEventAt: at(3),
      });
      expect(await rows(`SELECT * FROM customers WHERE "tenantId" = $1`, [studio.tenantId])).toEqual([]);
    });

    it(`when ${prefix}_CANCELLED (t2) arrives before _CREATED (t1), then it is CANCELLED, as in time order`, async () => {
      const [forward, backward] = await inBothOrders(
        5002,
        [
          { type: `${prefix}_CREATED`, timestamp: at(1) },
          { type: `${prefix}_CANCELLED`, timestamp: at(2) },
        ],
        (studio) => booking(studio, 5002),
      );
      expect(forward).toEqual({
        bookingId: 5002,
        status: 'CANCELLED',
        statusAt: at(2),
        createdAt: at(1),
        updatedAt: null,
        cancelledAt: at(2),
        firstEventAt: at(1),
        lastEventAt: at(2),
        ...notHydrated,
      });
      expect(backward).toEqual(forward);
    });

    it(`when ${prefix}_UPDATED (t3) arrives before _CANCELLED (t2), then it is BOOKED, as in time order`, async () => {
      const [forward, backward] = await inBothOrders(
        5003,
        [
          { type: `${prefix}_CREATED`, timestamp: at(1) },
          { type: `${prefix}_CANCELLED`, timestamp: at(2) },
          { type: `${prefix}_UPDATED`, timestamp: at(3) },
        ],
        (studio) => booking(studio, 5003),
      );
      expect(forward).toMatchObject({ status: 'BOOKED', statusAt: at(3), cancelledAt: at(2), updatedAt: at(3) });
      expect(backward).toEqual(forward);
    });

    it(`when ${prefix}_UPDATED and _CANCELLED carry the same time, then the cancellation wins in either order`, async () => {
      const [forward, backward] = await inBothOrders(
        5004,
        [
          { type: `${prefix}_UPDATED`, timestamp: at(4) },
          { type: `${prefix}_CANCELLED`, timestamp: at(4) },
        ],
        (studio) => booking(studio, 5004),
      );
      expect(forward).toMatchObject({ status: 'CANCELLED', statusAt: at(4) });
      expect(backward).toEqual(forward);
    });
  });

  describe('bookings under arbitrary arrival', () => {
    it.each([11, 12, 13])(
      "when a booking's events (seed %i) arrive shuffled and in concurrent groups, then the record equals the one of time order",
      async (seed) => {
        const random = prng(seed);
        const changes = ['CREATED', 'UPDATED', 'CANCELLED'] as const;
        const events: Element[] = [];
        for (let i = 0, time = at(0); i < 12; i += 1) {
          if (i === 0 || random() > 0.2) time += 1 + Math.floor(random() * 600_000); // else a tie with the one before
          events.push({ type: `CLASS_BOOKING_${changes[Math.floor(random() * changes.length)]!}`, timestamp: time });
        }
        const ordered = await server.addStudio();
        await sendEach(ordered, 15_001, events);
        const shuffled = await server.addStudio();
        const pending = shuffle(events, random);
        while (pending.length > 0) {
          const group = pending.splice(0, 1 + Math.floor(random() * 4));
          await Promise.all(group.map((element) => send(shuffled, 15_001, element)));
        }

        // The model: the latest event decides, a cancellation wins a tie.
        const times = (suffix: string) => events.filter((e) => e.type.endsWith(suffix)).map((e) => e.timestamp);
        const last = Math.max(...events.map((e) => e.timestamp));
        const cancelledLast = events.some((e) => e.timestamp === last && e.type.endsWith('CANCELLED'));
        const orNull = (values: number[], pick: (...v: number[]) => number) => (values.length > 0 ? pick(...values) : null);
        const expected = {
          bookingId: 15_001,
          status: cancelledLast ? 'CANCELLED' : 'BOOKED',
          statusAt: last,
          createdAt: orNull(times('CREATED'), Math.min),
          updatedAt: orNull(times('UPDATED'), Math.max),
          cancelledAt: orNull(times('CANCELLED'), Math.max),
          firstEventAt: events[0]!.timestamp,
          lastEventAt: last,
          customerId: null,
          classSlotId: null,
          classId: null,
        };
        const read = async (studio: Studio) =>
          omit(await record(studio, 'class_bookings', 'bookingId', 15_001), 'id', 'tenantId', 'studioId');
        expect(await read(ordered)).toEqual(expected);
        expect(await read(shuffled)).toEqual(expected);
      },
    );
  });

  describe('class slots', () => {
    const slot = (studio: Studio, id: number) => record(studio, 'class_slots', 'slotId', id);

    it('when CLASS_SLOT_UPDATED, _CANCELLED and a later _UPDATED arrive, then the status follows the latest event', async () => {
      const studio = await server.addStudio();
      await send(studio, 6001, { type: 'CLASS_SLOT_UPDATED', timestamp: at(1), content: { classId: 60 } });
      expect(await slot(studio, 6001)).toEqual({
        id: expect.any(Number),
        tenantId: studio.tenantId,
        studioId: studio.id,
        slotId: 6001,
        classId: 60,
        status: 'SCHEDULED',
        statusAt: at(1),
        updatedAt: at(1),
        cancelledAt: null,
        firstEventAt: at(1),
        lastEventAt: at(1),
      });
      await send(studio, 6001, { type: 'CLASS_SLOT_CANCELLED', timestamp: at(2), content: { classId: 60 } });
      expect(await slot(studio, 6001)).toMatchObject({
        status: 'CANCELLED',
        statusAt: at(2),
        cancelledAt: at(2),
        updatedAt: at(1),
        lastEventAt: at(2),
      });
      await send(studio, 6001, { type: 'CLASS_SLOT_UPDATED', timestamp: at(3), content: { classId: 61 } });
      expect(await slot(studio, 6001)).toMatchObject({
        status: 'SCHEDULED',
        classId: 61,
        statusAt: at(3),
        updatedAt: at(3),
        cancelledAt: at(2),
        lastEventAt: at(3),
      });
    });

    it('when CLASS_SLOT_CANCELLED (t2) arrives before an older _UPDATED (t1), then it stays CANCELLED, as in time order', async () => {
      const [forward, backward] = await inBothOrders(
        6002,
        [
          { type: 'CLASS_SLOT_UPDATED', timestamp: at(1), content: { classId: 8 } },
          { type: 'CLASS_SLOT_CANCELLED', timestamp: at(2), content: { classId: 9 } },
        ],
        (studio) => slot(studio, 6002),
      );
      expect(forward).toEqual({
        slotId: 6002,
        classId: 9,
        status: 'CANCELLED',
        statusAt: at(2),
        updatedAt: at(1),
        cancelledAt: at(2),
        firstEventAt: at(1),
        lastEventAt: at(2),
      });
      expect(backward).toEqual(forward);
    });
  });

  describe('aggregator memberships', () => {
    it('when AGGREGATOR_MEMBER_CREATED arrives, then the membership keeps aggregatorId as a string and the customer exists', async () => {
      const studio = await server.addStudio();
      await send(studio, 7001, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(1), content: { aggregatorId: 'USC-00042' } });
      await send(studio, 7001, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(2), content: { aggregatorId: 12345 } });
      const memberships = await rows(`SELECT * FROM aggregator_memberships WHERE "tenantId" = $1 ORDER BY "createdAt"`, [studio.tenantId]);
      expect(memberships).toEqual([
        {
          id: expect.any(Number),
          tenantId: studio.tenantId,
          studioId: studio.id,
          customerId: 7001,
          aggregatorId: 'USC-00042',
          createdAt: at(1),
          firstEventAt: at(1),
          lastEventAt: at(1),
        },
        {
          id: expect.any(Number),
          tenantId: studio.tenantId,
          studioId: studio.id,
          customerId: 7001,
          aggregatorId: '12345',
          createdAt: at(2),
          firstEventAt: at(2),
          lastEventAt: at(2),
        },
      ]);
      expect(
        typeof (await server.sql(`SELECT "aggregatorId" FROM aggregator_memberships WHERE "tenantId" = $1`, [studio.tenantId]))[0]
          .aggregatorId,
      ).toBe('string');
      expect(await customer(studio, 7001)).toMatchObject({ customerId: 7001, firstEventAt: at(1), lastEventAt: at(2) });
    });

    it('when the same membership arrives again with an older time, then one row keeps the earliest createdAt and the latest lastEventAt', async () => {
      const studio = await server.addStudio();
      await send(studio, 7002, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(5), content: { aggregatorId: 'x' } });
      await send(studio, 7002, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(3), content: { aggregatorId: 'x' } });
      expect(
        await rows(`SELECT "createdAt", "firstEventAt", "lastEventAt" FROM aggregator_memberships WHERE "tenantId" = $1`, [
          studio.tenantId,
        ]),
      ).toEqual([{ createdAt: at(3), firstEventAt: at(3), lastEventAt: at(5) }]);
    });
  });

  describe.each([
    ['DEVICE_CREATED', 'devices', 'deviceId'],
    ['FINANCE_DEBT_COLLECTION_RUN_CREATED', 'debt_collection_runs', 'runId'],
    ['TAX_ADVISOR_EXPORT_CREATED', 'tax_advisor_exports', 'exportId'],
  ])('%s', (type, table, column) => {
    it(`when ${type} arrives, then a ${table} row keyed by entityId exists`, async () => {
      const studio = await server.addStudio();
      await send(studio, 8001, { type, timestamp: at(7) });
      expect(await record(studio, table, column, 8001)).toEqual({
        id: expect.any(Number),
        tenantId: studio.tenantId,
        studioId: studio.id,
        [column]: 8001,
        createdAt: at(7),
        firstEventAt: at(7),
        lastEventAt: at(7),
      });
    });

    it(`when ${type} arrives twice for one id, newer first, then one row with the earliest createdAt and the latest lastEventAt`, async () => {
      const studio = await server.addStudio();
      await send(studio, 8002, { type, timestamp: at(9) });
      await send(studio, 8002, { type, timestamp: at(4) });
      expect(await record(studio, table, column, 8002)).toMatchObject({ createdAt: at(4), firstEventAt: at(4), lastEventAt: at(9) });
    });
  });

  describe('duplicates', () => {
    it('when the same uuid is posted again, then 200 with duplicates counted, no new event row and records unchanged', async () => {
      const studio = await server.addStudio();
      await send(studio, 9001, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      const { body, response } = await send(
        studio,
        9001,
        { type: 'CUSTOMER_CHECKIN', timestamp: at(2) },
        { type: 'CONTRACT_CREATED', timestamp: at(2), content: { contractId: 91 } },
      );
      expect(response).toEqual({ status: 'ok', uuid: body.uuid, stored: 2, duplicates: 0 });

      const events = await eventCount();
      const records = await allRecords();
      const again = await server.post(studio.webhookKey, body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ status: 'ok', uuid: body.uuid, stored: 0, duplicates: 2 });
      expect(await eventCount()).toBe(events);
      expect(await allRecords()).toEqual(records);
    });

    it('when a re-delivery carries a changed timestamp, then it is a uuid conflict (409) and changes nothing', async () => {
      const studio = await server.addStudio();
      const { body } = await send(studio, 9002, { type: 'CUSTOMER_UPDATED', timestamp: at(1) });
      const records = await allRecords();
      const again = await server.post(studio.webhookKey, { ...body, payload: [{ type: 'CUSTOMER_UPDATED', timestamp: at(99) }] });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: 'uuid_conflict', uuid: body.uuid });
      expect(await allRecords()).toEqual(records);
    });

    it('when the same delivery is posted twice at once, then it is stored once and the other answer counts a duplicate', async () => {
      const studio = await server.addStudio();
      const body = delivery(9003, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) });
      const responses = await Promise.all([server.post(studio.webhookKey, body), server.post(studio.webhookKey, body)]);
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(responses.map((r) => r.body.stored).sort()).toEqual([0, 1]);
      expect(responses.map((r) => r.body.duplicates).sort()).toEqual([0, 1]);
      expect(await rows(`SELECT "position" FROM events WHERE "uuid" = $1`, [body.uuid])).toEqual([{ position: 0 }]);
      expect(await visitsOf(studio, 9003)).toHaveLength(1);
    });
  });

  describe('multi-element deliveries', () => {
    it('when a delivery carries 3 elements of different types, then all are logged at positions 0..2 and all applied', async () => {
      const studio = await server.addStudio();
      const { body, response } = await send(
        studio,
        10_001,
        { type: 'CUSTOMER_CREATED', timestamp: at(1) },
        { type: 'CONTRACT_CREATED', timestamp: at(2), content: { contractId: 55 } },
        { type: 'CUSTOMER_CHECKIN', timestamp: at(3) },
      );
      expect(response).toEqual({ status: 'ok', uuid: body.uuid, stored: 3, duplicates: 0 });
      const events = await rows(
        `SELECT "position", "type", "known", "entityId", "occurredAt", "studioId", "tenantId", "content" FROM events WHERE "uuid" = $1 ORDER BY "seq"`,
        [body.uuid],
      );
      expect(events).toEqual([
        {
          position: 0,
          type: 'CUSTOMER_CREATED',
          known: true,
          entityId: 10_001,
          occurredAt: at(1),
          studioId: studio.id,
          tenantId: studio.tenantId,
          content: null,
        },
        {
          position: 1,
          type: 'CONTRACT_CREATED',
          known: true,
          entityId: 10_001,
          occurredAt: at(2),
          studioId: studio.id,
          tenantId: studio.tenantId,
          content: '{"contractId":55}',
        },
        {
          position: 2,
          type: 'CUSTOMER_CHECKIN',
          known: true,
          entityId: 10_001,
          occurredAt: at(3),
          studioId: studio.id,
          tenantId: studio.tenantId,
          content: null,
        },
      ]);
      expect(await customer(studio, 10_001)).toMatchObject({
        createdAt: at(1),
        lastCheckinAt: at(3),
        lastCheckinStudioId: studio.id,
        firstEventAt: at(1),
        lastEventAt: at(3),
      });
      expect(await record(studio, 'contracts', 'contractId', 55)).toMatchObject({ customerId: 10_001, createdAt: at(2) });
      expect(await visitsOf(studio, 10_001)).toEqual([
        { studioId: studio.id, checkinAt: at(3), checkoutAt: null, checkoutStudioId: null, lastEventAt: at(3) },
      ]);
    });

    it('when one delivery carries a check-in and its check-out, then they form one visit', async () => {
      const studio = await server.addStudio();
      await send(studio, 10_002, { type: 'CUSTOMER_CHECKOUT', timestamp: at(9) }, { type: 'CUSTOMER_CHECKIN', timestamp: at(4) });
      expect(await visitsOf(studio, 10_002)).toEqual([
        { studioId: studio.id, checkinAt: at(4), checkoutAt: at(9), checkoutStudioId: studio.id, lastEventAt: at(9) },
      ]);
    });
  });

  describe('unknown event types', () => {
    it('when a type is unknown, then it is logged with known = false, answered 200 and changes no record', async () => {
      const studio = await server.addStudio();
      await send(studio, 11_001, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      const records = await allRecords();
      const { body, response } = await send(studio, 11_001, {
        type: 'CUSTOMER_SOMETHING_NEW_UPSTREAM',
        timestamp: at(2),
        content: { reason: 'debt' },
      });
      expect(response).toMatchObject({ stored: 1, duplicates: 0 });
      expect(await rows(`SELECT "type", "known", "entityId", "content" FROM events WHERE "uuid" = $1`, [body.uuid])).toEqual([
        { type: 'CUSTOMER_SOMETHING_NEW_UPSTREAM', known: false, entityId: 11_001, content: '{"reason":"debt"}' },
      ]);
      expect(await allRecords()).toEqual(records);
    });

    it('when a delivery mixes known and unknown types, then the known ones are applied and all are logged', async () => {
      const studio = await server.addStudio();
      const { body, response } = await send(
        studio,
        11_002,
        { type: 'STAFF_SHIFT_STARTED', timestamp: at(1) },
        { type: 'CUSTOMER_UPDATED', timestamp: at(2) },
        { type: 'CUSTOMER_SOMETHING_ELSE_NEW_UPSTREAM', timestamp: at(3), content: { restrictionId: 11_002 } },
      );
      expect(response).toMatchObject({ stored: 3, duplicates: 0 });
      expect(await rows(`SELECT "position", "known" FROM events WHERE "uuid" = $1 ORDER BY "position"`, [body.uuid])).toEqual([
        { position: 0, known: false },
        { position: 1, known: true },
        { position: 2, known: false },
      ]);
      expect(await customer(studio, 11_002)).toMatchObject({
        updatedAt: at(2),
        firstEventAt: at(2),
        lastEventAt: at(2),
        lastCheckoutAt: null,
      });
      expect(await visitsOf(studio, 11_002)).toEqual([]);
    });
  });

  describe('tenants', () => {
    it('when studios of different tenants post the same upstream ids, then each tenant gets its own records', async () => {
      const a = await server.addStudio();
      const b = await server.addStudio();
      expect(a.tenantId).not.toBe(b.tenantId);
      const created = delivery(12_001, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      // Even the very same body (same uuid) is a separate event for each tenant.
      expect((await server.post(a.webhookKey, created)).body).toMatchObject({ stored: 1, duplicates: 0 });
      expect((await server.post(b.webhookKey, created)).body).toMatchObject({ stored: 1, duplicates: 0 });
      await send(b, 12_001, { type: 'CUSTOMER_DELETED', timestamp: at(2) });
      await send(a, 12_002, { type: 'CLASS_BOOKING_CREATED', timestamp: at(1) });
      await send(b, 12_002, { type: 'CLASS_BOOKING_CREATED', timestamp: at(1) });
      await send(b, 12_002, { type: 'CLASS_BOOKING_CANCELLED', timestamp: at(2) });

      const customers = await rows(
        `SELECT "tenantId", "studioId", "deletedAt" FROM customers WHERE "customerId" = $1 ORDER BY "tenantId"`,
        [12_001],
      );
      expect(customers).toEqual([
        { tenantId: a.tenantId, studioId: a.id, deletedAt: null },
        { tenantId: b.tenantId, studioId: b.id, deletedAt: at(2) },
      ]);
      const bookings = await rows(`SELECT "tenantId", "status" FROM class_bookings WHERE "bookingId" = $1 ORDER BY "tenantId"`, [12_002]);
      expect(bookings).toEqual([
        { tenantId: a.tenantId, status: 'BOOKED' },
        { tenantId: b.tenantId, status: 'CANCELLED' },
      ]);
    });

    it('when studios of the same tenant post about one customer, then the customer is shared and each visit names the studio of its check-in', async () => {
      const tenantUrl = 'https://acme.open-api.perfectgym.com/v1';
      const north = await server.addStudio({ tenantUrl });
      const south = await server.addStudio({ tenantUrl });
      expect(south.tenantId).toBe(north.tenantId);

      await send(north, 13_001, { type: 'CUSTOMER_CREATED', timestamp: at(1) });
      await send(south, 13_001, { type: 'CUSTOMER_UPDATED', timestamp: at(2) });
      await send(south, 13_001, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) });
      await send(north, 13_001, { type: 'CUSTOMER_CHECKOUT', timestamp: at(70) });
      await send(north, 13_001, { type: 'CUSTOMER_CHECKIN', timestamp: at(100) });

      expect(
        await rows(`SELECT "studioId" FROM customers WHERE "tenantId" = $1 AND "customerId" = $2`, [north.tenantId, 13_001]),
      ).toHaveLength(1);
      expect(await customer(north, 13_001)).toMatchObject({
        studioId: north.id,
        createdAt: at(1),
        updatedAt: at(2),
        lastCheckinAt: at(100),
        lastCheckinStudioId: north.id,
        lastCheckoutAt: at(70),
      });
      expect(await visitsOf(north, 13_001)).toEqual([
        { studioId: south.id, checkinAt: at(10), checkoutAt: at(70), checkoutStudioId: north.id, lastEventAt: at(70) },
        { studioId: north.id, checkinAt: at(100), checkoutAt: null, checkoutStudioId: null, lastEventAt: at(100) },
      ]);
    });
  });

  describe('concurrency', () => {
    it('when 200 deliveries are posted at once, then all get 200 and every event is logged once with a unique, increasing seq', async () => {
      const studio = await server.addStudio();
      const bodies = Array.from({ length: 200 }, (_, i) =>
        delivery(14_000 + i, { type: 'CUSTOMER_CREATED', timestamp: at(i) }, { type: 'CUSTOMER_CHECKIN', timestamp: at(i) + 1 }),
      );
      const responses = await Promise.all(bodies.map((body) => server.post(studio.webhookKey, body)));
      expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 200));
      expect(responses.map((r) => r.body)).toEqual(bodies.map((b) => ({ status: 'ok', uuid: b.uuid, stored: 2, duplicates: 0 })));

      const events = await rows(`SELECT "seq", "uuid", "position" FROM events WHERE "studioId" = $1 ORDER BY "seq"`, [studio.id]);
      expect(events).toHaveLength(400);
      expect(new Set(events.map((e) => e.seq)).size).toBe(400);
      const keys = new Set(events.map((e) => `${e.uuid}|${e.position}`));
      expect(keys).toEqual(new Set(bodies.flatMap((b) => [`${b.uuid}|0`, `${b.uuid}|1`])));
      // Within a delivery, the log keeps the payload order.
      const seqOf = new Map(events.map((e) => [`${e.uuid}|${e.position}`, e.seq as number]));
      for (const body of bodies) expect(seqOf.get(`${body.uuid}|1`)!).toBeGreaterThan(seqOf.get(`${body.uuid}|0`)!);

      const customers = await rows(
        `SELECT "customerId", "createdAt", "lastCheckinAt" FROM customers WHERE "tenantId" = $1 ORDER BY "customerId"`,
        [studio.tenantId],
      );
      expect(customers).toEqual(bodies.map((_, i) => ({ customerId: 14_000 + i, createdAt: at(i), lastCheckinAt: at(i) + 1 })));
      expect(Number((await server.sql(`SELECT COUNT(*) AS n FROM visits WHERE "tenantId" = $1`, [studio.tenantId]))[0].n)).toBe(200);
    });
  });
});

describe.each(databaseKinds())('POST /webhooks deduplication across studios (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server.stop());

  it('when two studios of one tenant deliver the same uuid, then it is one event, applied once', async () => {
    const tenantUrl = 'https://dedup.open-api.perfectgym.com/v1';
    const a = await server.addStudio({ tenantUrl });
    const b = await server.addStudio({ tenantUrl });
    const body = delivery(77, { type: 'CUSTOMER_CHECKIN', timestamp: 1_764_000_000_000 });
    expect((await server.post(a.webhookKey, body)).body).toMatchObject({ stored: 1, duplicates: 0 });
    expect((await server.post(b.webhookKey, body)).body).toMatchObject({ stored: 0, duplicates: 1 });
    const events = await server.sql(`SELECT "studioId" FROM events WHERE "uuid" = $1`, [body.uuid]);
    expect(events.map((e) => Number(e.studioId))).toEqual([a.id]);
    expect(await server.sql(`SELECT "id" FROM visits WHERE "customerId" = $1 AND "tenantId" = $2`, [77, a.tenantId])).toHaveLength(1);
  });

  it('when studios of different tenants deliver the same uuid, then each tenant logs its own event', async () => {
    const a = await server.addStudio();
    const b = await server.addStudio();
    const body = delivery(78, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 });
    expect((await server.post(a.webhookKey, body)).body).toMatchObject({ stored: 1 });
    expect((await server.post(b.webhookKey, body)).body).toMatchObject({ stored: 1 });
  });
});

describe.each(databaseKinds())('POST /webhooks string values (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server.stop());

  it('when an id string carries quotes, backslashes and SQL, then it is stored exactly as sent', async () => {
    const studio = await server.addStudio();
    const hostile = `O'Brien\\'); DROP TABLE customers; -- \\x27 ''`;
    const body = delivery(901, { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: 1_764_000_000_000, content: { aggregatorId: hostile } });
    expect((await server.post(studio.webhookKey, body)).status).toBe(200);
    const rows = await server.sql(`SELECT "aggregatorId" FROM aggregator_memberships WHERE "customerId" = $1`, [901]);
    expect(rows.map((r) => r.aggregatorId)).toEqual([hostile]);
    expect(await server.sql(`SELECT "customerId" FROM customers WHERE "customerId" = $1`, [901])).toHaveLength(1);
  });
});

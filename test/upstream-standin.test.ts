import { validateDelivery } from '../src/ingest/delivery.js';
import { isKnownEventType } from '../src/events/event-catalog.js';
import { parseZonedDateTime } from '../src/upstream/zoned-date-time.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';

describe('stand-in upstream: the world and its webhook stream', () => {
  it('when two worlds are generated from one seed, then they and their streams are identical; another seed differs', () => {
    const a = new World({ seed: 5 });
    const b = new World({ seed: 5 });
    expect(JSON.stringify([...a.customers.values()])).toBe(JSON.stringify([...b.customers.values()]));
    expect(a.deliveries).toEqual(b.deliveries);
    expect(new World({ seed: 6 }).deliveries).not.toEqual(a.deliveries);
  });

  it('when the stream is generated, then every delivery is a valid webhook body of a known type, in time order, with the entity the type names', () => {
    const world = new World({ seed: 9 });
    const types = new Set<string>();
    let last = 0;
    for (const delivery of world.deliveries) {
      const result = validateDelivery(JSON.parse(JSON.stringify(delivery.body)));
      expect(result.ok).toBe(true);
      const [element] = delivery.body.payload;
      expect(isKnownEventType(element!.type)).toBe(true);
      expect(element!.timestamp).toBeGreaterThanOrEqual(last);
      last = element!.timestamp;
      types.add(element!.type);
      expect(delivery.webhookKey).toBe(world.studio(delivery.studioId).webhookKey);
    }
    expect([...types].sort()).toEqual([
      'APPOINTMENT_BOOKING_CANCELLED',
      'APPOINTMENT_BOOKING_CREATED',
      'CLASS_BOOKING_CANCELLED',
      'CLASS_BOOKING_CREATED',
      'CLASS_SLOT_CANCELLED',
      'CLASS_SLOT_UPDATED',
      'CONTRACT_CREATED',
      'CUSTOMER_CHECKIN',
      'CUSTOMER_CHECKOUT',
      'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED',
      'CUSTOMER_CREATED',
      'CUSTOMER_UPDATED',
      'DEVICE_CREATED',
      'FINANCE_DEBT_COLLECTION_RUN_CREATED',
      'TAX_ADVISOR_EXPORT_CREATED',
    ]);

    // Event times are the world's times: each check-in has its CUSTOMER_CHECKIN at checkInAt, from the studio where it happened.
    for (const checkin of world.checkins.slice(0, 20)) {
      expect(world.deliveries).toContainEqual(
        expect.objectContaining({
          studioId: checkin.studioId,
          body: expect.objectContaining({
            entityId: checkin.customerId,
            payload: [{ timestamp: checkin.checkInAt, type: 'CUSTOMER_CHECKIN' }],
          }),
        }),
      );
    }
    for (const contract of world.contracts.slice(0, 10)) {
      expect(world.deliveries).toContainEqual(
        expect.objectContaining({
          body: expect.objectContaining({
            entityId: contract.customerId,
            payload: [{ timestamp: contract.createdAt, type: 'CONTRACT_CREATED', content: { contractId: contract.id } }],
          }),
        }),
      );
    }
  });

  it('when a fraction is dropped, then delivered + dropped is the whole stream, the split is seeded, and about that fraction is lost', () => {
    const world = new World({ seed: 11 });
    const first = world.webhookStream({ dropFraction: 0.05 });
    const again = world.webhookStream({ dropFraction: 0.05 });
    expect(first).toEqual(again);
    expect(first.delivered.length + first.dropped.length).toBe(world.deliveries.length);
    expect(first.dropped.length / world.deliveries.length).toBeGreaterThan(0.02);
    expect(first.dropped.length / world.deliveries.length).toBeLessThan(0.09);
    expect(world.webhookStream().dropped).toEqual([]);
  });

  it('when the world is mutated, then the mutation is in the stream after the history, at its own time', () => {
    const world = new World({ seed: 12 });
    const before = world.deliveries.length;
    const customer = [...world.customers.values()][0]!;
    world.updateCustomer(customer.id, { email: 'new@example.com' });
    world.deleteCustomer(customer.id);
    const booking = [...world.classBookings.values()].find((b) => b.cancelledAt === null)!;
    world.cancelClassBooking(booking.bookingId);
    const added = world.deliveries.slice(before).map((d) => [d.body.entityId, d.body.payload[0]!.type]);
    expect(added).toEqual([
      [customer.id, 'CUSTOMER_UPDATED'],
      [customer.id, 'CUSTOMER_DELETED'],
      [booking.bookingId, 'CLASS_BOOKING_CANCELLED'],
    ]);
    expect(world.deliveries[before]!.body.payload[0]!.timestamp).toBeGreaterThan(world.endAt);
    expect(world.readableCustomer(customer.id)).toBeUndefined();
  });
});

describe('stand-in upstream: the HTTP server', () => {
  const world = new World({ seed: 21, studios: 2, customersPerStudio: 8 });
  const [one, two] = world.studios;
  let standin: Standin;
  /** `key` null: no x-api-key header. */
  const get = async (path: string, key: string | null = one!.apiKey, method = 'GET') => {
    const response = await fetch(`${standin.baseUrl}${path}`, { method, headers: key === null ? {} : { 'x-api-key': key } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    standin = await startStandin({ world, limitPerWindow: 5, windowMs: 60_000 });
  });
  afterAll(() => standin.close());
  beforeEach(() => standin.resetStats());

  it('when the key is missing or unknown, then 401 with the error JSON and a traceId', async () => {
    for (const key of [null, 'nope']) {
      const answer = await get('/studios/information', key);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        errorMessage: expect.any(String),
        errorCode: 'UNAUTHORIZED',
        traceId: expect.stringMatching(/^standin-[0-9a-f]{8}$/),
      });
    }
    expect((await get('/studios/information', null, 'HEAD')).status).toBe(401);
    expect((await get('/studios/information', one!.apiKey, 'HEAD')).status).toBe(200);
  });

  it("when a key is used, then it selects its studio: information, the home customers and the devices are that studio's", async () => {
    expect((await get('/studios/information', two!.apiKey)).body).toMatchObject({ studioId: two!.id, name: two!.name });
    const customers = await get('/customers?sliceSize=100', two!.apiKey);
    expect(customers.body.hasNext).toBe(false);
    expect(customers.body.result.map((c: { studioId: number }) => c.studioId)).toEqual(Array(8).fill(two!.id));
    expect((await get('/devices', two!.apiKey)).body.map((d: { id: number }) => d.id)).toEqual(
      world.devices.filter((d) => d.studioId === two!.id).map((d) => d.id),
    );
  });

  it('when date-times are answered, then they carry offset and zone; calendar dates stay dates', async () => {
    const customer = [...world.customers.values()][0]!;
    const body = (await get(`/customers/${customer.id}`)).body;
    expect(body.createdDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0[12]:00\[Europe\/Berlin\]$/);
    expect(parseZonedDateTime(body.createdDateTime)?.getTime()).toBe(customer.createdAt);
    expect(body.dateOfBirth).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  it('when a slice offset is not one the server gave out, or sliceSize is out of range, then 400', async () => {
    expect((await get('/customers?offset=%%%')).status).toBe(400);
    expect((await get('/customers?sliceSize=1000')).status).toBe(400);
  });

  it('when an endpoint had its limit in the window, then 429 with Retry-After for the rest of it, other endpoints unaffected; counters show it', async () => {
    const id = [...world.customers.keys()][0]!;
    // Not across a minute boundary (the windows are calendar minutes).
    if (Date.now() % 60_000 > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - (Date.now() % 60_000)));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(`/customers/${id}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await get(`/customers/${id}`);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(limited.body.errorCode).toBe('TOO_MANY_REQUESTS');
    expect((await get('/devices')).status).toBe(200);
    const stats = standin.stats()['GET /v1/customers/{customerId}']!;
    expect(stats).toEqual({ requests: 8, byStatus: { 200: 5, 429: 3 }, peakPerWindow: 8, peakSliding: 8 });
  });

  it('when a customer is deleted in the world, then reads of it answer 404; a cancelled booking reads CANCELED', async () => {
    const local = new World({ seed: 3, studios: 1, customersPerStudio: 4 });
    const s = await startStandin({ world: local });
    try {
      const customer = [...local.customers.values()][1]!;
      const booking = [...local.classBookings.values()].find((b) => b.cancelledAt === null)!;
      const read = (path: string) =>
        fetch(`${s.baseUrl}${path}`, { headers: { 'x-api-key': local.studios[0]!.apiKey } }).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        }));
      expect((await read(`/customers/${customer.id}`)).status).toBe(200);
      local.deleteCustomer(customer.id);
      for (const path of [
        `/customers/${customer.id}`,
        `/customers/${customer.id}/contracts`,
        `/customers/${customer.id}/activities/checkins`,
      ]) {
        const answer = await read(path);
        expect(answer.status).toBe(404);
        expect(answer.body.errorMessage).toContain(`customer ${customer.id}`);
      }
      local.cancelClassBooking(booking.bookingId);
      expect((await read(`/classes/booking/${booking.bookingId}`)).body.bookingStatus).toBe('CANCELED');
    } finally {
      await s.close();
    }
  });

  it('when the failure rate is 1, then every request is a 503 with the error JSON', async () => {
    standin.setFailureRate(1);
    try {
      const answer = await get('/devices');
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ errorCode: 'SERVICE_UNAVAILABLE', traceId: expect.any(String) });
    } finally {
      standin.setFailureRate(0);
    }
  });

  it('when activation is confirmed with a studio key, then it is recorded for that studio and answered 204', async () => {
    const response = await fetch(`${standin.baseUrl}/studios/confirmActivation`, { method: 'POST', headers: { 'x-api-key': two!.apiKey } });
    expect(response.status).toBe(204);
    expect(standin.activations.get(two!.id)).toBe(1);
  });
});

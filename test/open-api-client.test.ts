import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { OpenApiClient, type OpenApiClientOptions } from '../src/upstream/open-api.client.js';
import { OpenApiError } from '../src/upstream/open-api.js';
import { RateLimiters } from '../src/upstream/rate-limiter.js';
import { RedisRateLimiters } from '../src/upstream/redis-rate-limiter.js';
import { freePort } from './support/child.js';
import { redisUrl } from './support/databases.js';
import { until } from './support/ws.js';

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('Open API client against the stand-in upstream', () => {
  const world = new World({ seed: 42, studios: 2, customersPerStudio: 12 });
  const studio = world.studios[0]!;
  let standin: Standin;
  const started: Standin[] = [];
  const start = async (options: Partial<Parameters<typeof startStandin>[0]> = {}) => {
    const s = await startStandin({ world, ...options });
    started.push(s);
    return s;
  };
  const client = (s: Standin, options: Partial<OpenApiClientOptions> = {}) =>
    new OpenApiClient({
      baseUrl: s.baseUrl,
      apiKey: studio.apiKey,
      logger: pino({ level: 'silent' }),
      limiters: new RateLimiters(),
      backoffBaseMs: 5,
      ...options,
    });

  beforeAll(async () => {
    standin = await start();
  });
  afterAll(async () => {
    for (const s of started) await s.close();
  });

  describe('typed answers', () => {
    const api = () => client(standin);
    const home = [...world.customers.values()].filter((c) => c.studioId === studio.id);
    const member = home.find(
      (c) => world.contracts.some((k) => k.customerId === c.id) && world.checkins.some((k) => k.customerId === c.id),
    )!;

    it('when the key is checked, then true for the studio key and false for an unknown key; activation is confirmed upstream', async () => {
      expect(await api().checkKey()).toBe(true);
      expect(await client(standin, { apiKey: 'not-a-key-of-this-tenant' }).checkKey()).toBe(false);
      await api().confirmActivation();
      expect(standin.activations.get(studio.id)).toBe(1);
    });

    it('when the studio is read, then its information and utilization', async () => {
      expect(await api().getStudioInformation()).toEqual({
        studioId: studio.id,
        name: studio.name,
        city: studio.city,
        countryCode: 'DE',
        openingHours: studio.openingHours,
        closingHours: studio.closingHours.map((h) => ({ reason: h.reason, dateTimeFrom: new Date(h.from), dateTimeTo: new Date(h.to) })),
      });
      const utilization = await api().getUtilization();
      expect(utilization).toEqual({ count: expect.any(Number), capacity: studio.capacity });
    });

    it('when a customer is read, then personal data is typed, the zoned creation time is a Date, and the expiring image link is gone', async () => {
      const customer = await api().getCustomer(member.id);
      expect(customer).toEqual({
        id: member.id,
        status: member.status,
        accessRefusal: member.accessRefusal,
        customerNumber: member.customerNumber,
        studioId: studio.id,
        createdDateTime: new Date(member.createdAt),
        firstName: member.firstName,
        lastName: member.lastName,
        dateOfBirth: member.dateOfBirth,
        gender: member.gender,
        email: member.email,
        phoneNumberPrivate: member.phoneNumberPrivate,
        phoneNumberMobile: member.phoneNumberMobile,
        address: member.address,
        preferredLanguage: `${member.preferredLanguage}_DE`,
      });
      expect(JSON.stringify(customer)).not.toContain('imageUrl');
      expect(JSON.stringify(customer)).not.toContain(member.iban);
    });

    it('when customers are listed in slices, then following offset while hasNext yields every home customer once', async () => {
      const ids: number[] = [];
      let offset: string | undefined;
      let slices = 0;
      for (;;) {
        const slice = await api().listCustomers({ offset, sliceSize: 5 });
        slices += 1;
        ids.push(...slice.result.map((c) => c.id));
        if (!slice.hasNext) break;
        offset = slice.offset;
      }
      expect(ids).toEqual(home.map((c) => c.id).sort((a, b) => a - b));
      expect(slices).toBe(Math.ceil(home.length / 5));
    });

    it('when check-ins are listed for a range, then only those in it, with zoned times as Dates', async () => {
      const all = world.checkins.filter((c) => c.customerId === member.id).sort((a, b) => a.checkInAt - b.checkInAt);
      const from = new Date(all[0]!.checkInAt + 1);
      const slice = await api().listCheckins(member.id, { from, to: new Date(world.endAt) });
      expect(slice.hasNext).toBe(false);
      expect(slice.result).toEqual(
        all.slice(1).map((c) => ({
          checkinId: c.checkinId,
          checkInDateTime: new Date(c.checkInAt),
          checkOutDateTime: c.checkOutAt === null ? null : new Date(c.checkOutAt),
          studioId: c.studioId,
          studioName: world.studio(c.studioId).name,
        })),
      );
    });

    it('when contracts and communication preferences are read, then prices are flattened and the arrays typed', async () => {
      const contract = world.contracts.find((c) => c.customerId === member.id)!;
      expect(await api().listContracts(member.id)).toEqual([
        {
          id: contract.id,
          rateName: contract.rateName,
          contractStatus: contract.contractStatus,
          createdDate: new Date(contract.createdAt).toISOString().slice(0, 10),
          startDate: contract.startDate,
          endDate: contract.endDate,
          cancelled: contract.cancelled,
          cancellationDate: contract.cancellationDate,
          term: contract.term,
          basePrice: contract.basePrice,
          currentPrice: contract.currentPrice,
          idlePeriods: [],
          additionalModules: [],
        },
      ]);
      expect(await api().getCommunicationPreferences(member.id)).toEqual(world.communicationPreferences.get(member.id));
    });

    it('when class bookings, slots and classes are read, then typed, instructors as names, no image links', async () => {
      const booking = [...world.classBookings.values()].find((b) => world.classes.get(b.classId)!.studioId === studio.id)!;
      const read = await api().getClassBooking(booking.bookingId);
      expect(read).toMatchObject({
        bookingId: booking.bookingId,
        classId: booking.classId,
        classSlotId: booking.classSlotId,
        customerId: booking.customerId,
        bookingStatus: booking.cancelledAt === null ? 'BOOKED' : 'CANCELED',
      });
      const listed = await api().listCustomerClassBookings(booking.customerId, { sliceSize: 100 });
      expect(listed.result.map((b) => b.bookingId)).toContain(booking.bookingId);
      expect(listed.result.every((b) => b.customerId === booking.customerId)).toBe(true);

      const slot = world.slots.get(booking.classSlotId)!;
      expect(await api().getClassSlot(booking.classId, slot.id)).toEqual({
        id: slot.id,
        startDateTime: new Date(slot.startAt),
        endDateTime: new Date(slot.endAt),
        maxParticipants: slot.maxParticipants,
        bookedParticipants: expect.any(Number),
        waitingListParticipants: expect.any(Number),
        instructors: slot.instructors.map((i) => `${i.firstName} ${i.lastName}`),
        location: slot.location,
      });
      const cls = world.classes.get(booking.classId)!;
      expect(await api().getClass(cls.id)).toEqual({
        id: cls.id,
        title: cls.title,
        type: cls.type,
        duration: cls.duration,
        category: cls.category,
        bookable: true,
      });
    });

    it('when appointment bookings are read, then typed with zoned start and end', async () => {
      const booking = [...world.appointmentBookings.values()].find((b) => b.studioId === studio.id)!;
      const read = await api().getAppointmentBooking(booking.bookingId);
      expect(read).toEqual({
        bookingId: booking.bookingId,
        bookingStatus: booking.cancelledAt === null ? 'BOOKED' : 'CANCELED',
        startDateTime: new Date(booking.startAt),
        endDateTime: new Date(booking.endAt),
        appointmentStatus: expect.any(String),
        participantStatus: expect.any(String),
        customerId: booking.customerId,
        title: booking.title,
      });
      const listed = await api().listCustomerAppointmentBookings(booking.customerId);
      expect(listed.result).toContainEqual(read);
    });

    it('when devices, a debt-collection run and a tax-advisor export are read, then typed and without the expiring download link', async () => {
      expect(await api().listDevices()).toEqual(
        world.devices.filter((d) => d.studioId === studio.id).map((d) => ({ id: d.id, name: d.name, active: d.active, model: d.model })),
      );
      const run = [...world.debtCollectionRuns.values()][0]!;
      expect(await api().getDebtCollectionRun(run.id)).toEqual({
        collectionDate: run.collectionDate,
        debtCollectionType: run.debtCollectionType,
        status: run.status,
        origin: run.origin,
      });
      const taxExport = [...world.taxAdvisorExports.values()][0]!;
      const read = await api().getTaxAdvisorExport(taxExport.id);
      expect(read).toEqual({
        fromDate: taxExport.fromDate,
        toDate: taxExport.toDate,
        exportFileFormat: taxExport.exportFileFormat,
        exportFormat: taxExport.exportFormat,
      });
      expect(JSON.stringify(read)).not.toContain('http');
    });
  });

  describe('employees', () => {
    const serve = async (answer: unknown, read: (api: OpenApiClient) => Promise<unknown>) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
        return await read(
          new OpenApiClient({ baseUrl: url, apiKey: 'k', logger: pino({ level: 'silent' }), limiters: new RateLimiters() }),
        ).catch((e: unknown) => e);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    };

    it('when an employee is read, then typed with its competences, and absent optional fields are null', async () => {
      const employees = [...world.employees.values()];
      const trainer = employees.find((e) => e.competences.length > 0) ?? employees[0]!;
      expect(await client(standin).getEmployee(trainer.id)).toEqual({
        id: trainer.id,
        firstName: trainer.firstName,
        lastName: trainer.lastName,
        gender: trainer.gender,
        employeeInitials: trainer.employeeInitials,
        businessRole: trainer.businessRole,
        email: trainer.email,
        phoneNumber: trainer.phoneNumber,
        employeeCompetences: trainer.competences,
      });
      const bare = await serve(
        { id: '7', firstName: 'Jo', lastName: 'Li', gender: 'UNISEX', employeeInitials: 'JL', employeeCompetences: ['Yoga'] },
        (api) => api.getEmployee(7),
      );
      expect(bare).toEqual({
        id: 7,
        firstName: 'Jo',
        lastName: 'Li',
        gender: 'UNISEX',
        employeeInitials: 'JL',
        businessRole: null,
        email: null,
        phoneNumber: null,
        employeeCompetences: [{ id: null, name: 'Yoga' }],
      });
    });

    it.each([
      [{ id: 7, lastName: 'Li', gender: 'MALE', employeeInitials: 'JL' }, 'firstName: expected a string, got nothing'],
      [{ id: 7, firstName: 'Jo', lastName: 'Li', gender: 'MALE' }, 'employeeInitials: expected a string, got nothing'],
      [
        { id: 7, firstName: 'Jo', lastName: 'Li', gender: 'MALE', employeeInitials: 'JL', employeeCompetences: [{ id: 1 }] },
        'employeeCompetences[0].name: expected a string, got nothing',
      ],
      [
        { id: 7, firstName: 'Jo', lastName: 'Li', gender: 'MALE', employeeInitials: 'JL', employeeCompetences: 'Yoga' },
        'employeeCompetences: expected an array, got "Yoga"',
      ],
    ])('when the employee answer is %j, then INVALID_ANSWER naming the field', async (answer, message) => {
      const error = await serve(answer, (api) => api.getEmployee(7));
      expect(error).toBeInstanceOf(OpenApiError);
      expect(error).toMatchObject({ status: 200, errorCode: 'INVALID_ANSWER', endpoint: 'GET /v1/employees/{employeeId}' });
      expect((error as Error).message).toContain(message);
    });
  });

  describe('errors', () => {
    it('when a deleted customer is read, then OpenApiError.gone after one request, and the upstream traceId is logged', async () => {
      const local = new World({ seed: 7, studios: 1, customersPerStudio: 3 });
      const s = await start({ world: local });
      const victim = [...local.customers.values()][0]!;
      local.deleteCustomer(victim.id);
      const { logger, lines } = capturingLogger();
      const error = await new OpenApiClient({ baseUrl: s.baseUrl, apiKey: local.studios[0]!.apiKey, logger, limiters: new RateLimiters() })
        .getCustomer(victim.id)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenApiError);
      expect(error).toMatchObject({
        status: 404,
        gone: true,
        transient: false,
        endpoint: 'GET /v1/customers/{customerId}',
        errorCode: 'NOT_FOUND',
        traceId: expect.stringMatching(/^standin-/),
      });
      expect(s.stats()['GET /v1/customers/{customerId}']!.requests).toBe(1);
      expect(lines).toContainEqual(expect.objectContaining({ traceId: (error as OpenApiError).traceId, status: 404 }));
      expect(JSON.stringify(lines)).not.toContain(local.studios[0]!.apiKey);
    });

    it('when the key is wrong, then 401 at once, not retried', async () => {
      const s = await start();
      const error = await client(s, { apiKey: 'wrong-key-wrong-key' })
        .getStudioInformation()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 401, gone: false, transient: false, errorCode: 'UNAUTHORIZED' });
      expect(s.requestCount()).toBe(1);
    });

    it('when the answer has the wrong shape, then an INVALID_ANSWER error naming the field', async () => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            result: [
              { id: 1, status: 'MEMBER', accessRefusal: false },
              { id: 'two', status: 'MEMBER', accessRefusal: false },
            ],
            offset: '1',
            hasNext: false,
          }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
        const error = await new OpenApiClient({
          baseUrl: url,
          apiKey: 'k',
          logger: pino({ level: 'silent' }),
          limiters: new RateLimiters(),
        })
          .listCustomers()
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OpenApiError);
        expect(error).toMatchObject({ status: 200, errorCode: 'INVALID_ANSWER', transient: false });
        expect((error as Error).message).toContain('result[1].id: expected an integer id, got "two"');
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('when nothing listens at the URL, then a network error (status 0) after the bounded attempts', async () => {
      const port = await freePort();
      const error = await new OpenApiClient({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        apiKey: 'k',
        logger: pino({ level: 'silent' }),
        limiters: new RateLimiters(),
        maxAttempts: 3,
        backoffBaseMs: 1,
      })
        .checkKey()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 0, transient: true, errorCode: 'ECONNREFUSED' });
    });
  });

  describe('resilience', () => {
    it('when an answer is slower than the timeout, then each attempt is cut at the timeout and the call fails with status 0', async () => {
      const s = await start({ latencyMs: (endpoint) => (endpoint === 'GET /v1/studios/utilization' ? 1000 : 0) });
      const began = Date.now();
      const error = await client(s, { timeoutMs: 150, maxAttempts: 2 })
        .getUtilization()
        .catch((e: unknown) => e);
      const took = Date.now() - began;
      expect(error).toMatchObject({ status: 0, errorCode: 'TIMEOUT', transient: true });
      expect((error as Error).message).toContain('timed out after 150 ms');
      expect(took).toBeGreaterThanOrEqual(300);
      expect(took).toBeLessThan(1000);
      // The server counts a request when it has read it; give the second one a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(s.requestCount()).toBe(2);
    });

    it('when the upstream answers 503 half of the time, then calls back off and all succeed', async () => {
      const s = await start({ failureRate: 0.5, seed: 3 });
      const api = client(s, { maxAttempts: 12, backoffBaseMs: 2, backoffCapMs: 20 });
      const ids = [...world.customers.keys()].slice(0, 20);
      const customers = await Promise.all(ids.map((id) => api.getCustomer(id)));
      expect(customers.map((c) => c.id)).toEqual(ids);
      const stats = s.stats()['GET /v1/customers/{customerId}']!;
      expect(stats.byStatus[503]).toBeGreaterThan(0);
      expect(stats.byStatus[200]).toBe(20);
    });

    it('when the upstream keeps answering 503, then the call gives up after maxAttempts with a transient error', async () => {
      const s = await start({ failureRate: 1 });
      const error = await client(s, { maxAttempts: 3, backoffBaseMs: 2 })
        .getCustomer([...world.customers.keys()][0]!)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 503, transient: true, errorCode: 'SERVICE_UNAVAILABLE' });
      expect(s.requestCount()).toBe(3);
    });

    it.each([
      ['with Retry-After', true],
      ['without Retry-After (the rest of the window)', false],
    ])(
      'when the endpoint is over its limit (429 %s), then the calls wait for the next window and succeed, without a storm',
      async (_case, retryAfter) => {
        const windowMs = 1000;
        const s = await start({ limitPerWindow: 10, windowMs, retryAfter });
        // Align to the start of a window, so the quota cannot roll over while it is being used up.
        await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 20));
        const ids = [...world.customers.keys()];
        for (const id of ids.slice(0, 10)) {
          const response = await fetch(`${s.baseUrl}/customers/${id}`, { headers: { 'x-api-key': studio.apiKey } });
          expect(response.status).toBe(200);
          await response.text();
        }
        const windowEnd = Date.now() - (Date.now() % windowMs) + windowMs;
        const api = client(s, { windowMs, requestsPerWindow: 1000 });
        const calls = ids.slice(10, 16);
        const customers = await Promise.all(calls.map((id) => api.getCustomer(id)));
        expect(customers.map((c) => c.id)).toEqual(calls);
        expect(Date.now()).toBeGreaterThanOrEqual(windowEnd);

        const stats = s.stats()['GET /v1/customers/{customerId}']!;
        expect(stats.byStatus[200]).toBe(10 + calls.length);
        // Each call met at most one 429 (they were all in flight together); after that everyone waited.
        expect(stats.byStatus[429]).toBeGreaterThanOrEqual(1);
        expect(stats.byStatus[429]).toBeLessThanOrEqual(calls.length);
      },
    );

    it('when a burst is far larger than the limit, then the client keeps every window under its limit and the upstream never answers 429', async () => {
      const windowMs = 1000;
      const s = await start({ limitPerWindow: 30, windowMs });
      const api = client(s, { windowMs, requestsPerWindow: 25 });
      const ids = [...world.customers.keys()];
      const burst = Array.from({ length: 70 }, (_, i) => ids[i % ids.length]!);
      const began = Date.now();
      const customers = await Promise.all(burst.map((id) => api.getCustomer(id)));
      expect(customers).toHaveLength(70);
      const stats = s.stats()['GET /v1/customers/{customerId}']!;
      expect(stats.byStatus[429]).toBeUndefined();
      expect(stats.requests).toBe(70);
      expect(stats.peakPerWindow).toBeLessThanOrEqual(25);
      expect(stats.peakSliding).toBeLessThanOrEqual(25);
      // 70 requests at 25 per second need at least two further windows.
      expect(Date.now() - began).toBeGreaterThanOrEqual(2 * windowMs - 50);
    });

    it('when the registry is closed while calls wait for their turn, then they fail at once with LIMITER_CLOSED and send nothing', async () => {
      const s = await start();
      const limiters = new RateLimiters();
      const api = client(s, { windowMs: 60_000, requestsPerWindow: 1, limiters });
      const ids = [...world.customers.keys()];
      await api.getCustomer(ids[0]!);
      const waiting = api.getCustomer(ids[1]!).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const began = Date.now();
      await limiters.close();
      expect(await waiting).toMatchObject({ errorCode: 'LIMITER_CLOSED', status: 0 });
      expect(Date.now() - began).toBeLessThan(1000);
      expect(await api.getCustomer(ids[2]!).catch((e: unknown) => e)).toMatchObject({ errorCode: 'LIMITER_CLOSED' });
      expect(s.requestCount()).toBe(1);
    });

    it('when two clients share a key, then they share its limiter; another endpoint has its own', async () => {
      const windowMs = 1000;
      const s = await start({ limitPerWindow: 1000, windowMs });
      const limiters = new RateLimiters();
      const a = client(s, { windowMs, requestsPerWindow: 5, limiters });
      const b = client(s, { windowMs, requestsPerWindow: 5, limiters });
      const ids = [...world.customers.keys()].slice(0, 10);
      await Promise.all([
        ...ids.slice(0, 5).map((id) => a.getCustomer(id)),
        ...ids.slice(5).map((id) => b.getCustomer(id)),
        a.listDevices(),
        b.listDevices(),
      ]);
      const stats = s.stats();
      expect(stats['GET /v1/customers/{customerId}']!.peakSliding).toBeLessThanOrEqual(5);
      expect(stats['GET /v1/devices']!.requests).toBe(2);
    });
  });
});

/** A TCP relay to Redis that a test can cut and restore, to make Redis unreachable mid-run. */
async function redisRelay(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const listen = (server: net.Server, at: number) => new Promise<void>((resolve) => server.listen(at, '127.0.0.1', resolve));
  const make = () =>
    net.createServer((client) => {
      const upstream = net.connect(Number(port || 6379), hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
  let server = make();
  await listen(server, 0);
  const relayPort = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${relayPort}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      server = make();
      await listen(server, relayPort);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

(redisUrl() ? describe : describe.skip)('Open API limits shared by instances through Redis (REDIS_URL)', () => {
  const world = new World({ seed: 43, studios: 1, customersPerStudio: 40 });
  const studio = world.studios[0]!;
  const ids = [...world.customers.keys()];
  /** Keys of this run's own: nothing else on the Redis shares these budgets. */
  const prefix = `gymgraph-test:${randomBytes(6).toString('hex')}:open-api-limit`;
  const standins: Standin[] = [];
  const registries: { close(): Promise<void> }[] = [];
  let redis: Redis;

  const standin = async (options: Partial<Parameters<typeof startStandin>[0]>) => {
    const s = await startStandin({ world, ...options });
    standins.push(s);
    return s;
  };
  /** One instance's registry, as src/main.ts makes it with REDIS_URL. */
  const instance = async (url = redisUrl(), logger = pino({ level: 'silent' })) => {
    const limiters = await RedisRateLimiters.open({ url, logger, keyPrefix: prefix });
    registries.push(limiters);
    return limiters;
  };
  const client = (s: Standin, limiters: OpenApiClientOptions['limiters'], options: Partial<OpenApiClientOptions> = {}) =>
    new OpenApiClient({
      baseUrl: s.baseUrl,
      apiKey: studio.apiKey,
      logger: pino({ level: 'silent' }),
      ...(limiters ? { limiters } : {}),
      backoffBaseMs: 5,
      ...options,
    });
  const alignToWindow = (windowMs: number) => new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 20));
  const keys = (pattern: string) => redis.keys(`${prefix}:${pattern}`);

  beforeAll(async () => {
    redis = new Redis(redisUrl(), { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    for (const limiters of registries) await limiters.close();
    for (const s of standins) await s.close();
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
    redis.disconnect();
  });

  it('when two instances send a burst with one key, then together they stay under the limit at the upstream, no 429, and both finish', async () => {
    const windowMs = 1000;
    const s = await standin({ limitPerWindow: 30, windowMs });
    const burst = (api: OpenApiClient, from: number, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => api.getCustomer(ids[(from + i) % ids.length]!)));

    // Control: two in-process registries, 25 each, are 50 in one window for an upstream that takes 30.
    await alignToWindow(windowMs);
    const alone = [
      client(s, new RateLimiters(), { windowMs, requestsPerWindow: 25 }),
      client(s, new RateLimiters(), { windowMs, requestsPerWindow: 25 }),
    ];
    await Promise.all([burst(alone[0]!, 0, 25), burst(alone[1]!, 25, 25)]);
    expect(s.stats()['GET /v1/customers/{customerId}']!.peakSliding).toBeGreaterThan(30);
    expect(s.stats()['GET /v1/customers/{customerId}']!.byStatus[429]).toBeGreaterThan(0);

    await new Promise((resolve) => setTimeout(resolve, windowMs));
    s.resetStats();
    const [a, b] = [await instance(), await instance()];
    const one = client(s, a, { windowMs, requestsPerWindow: 25 });
    const two = client(s, b, { windowMs, requestsPerWindow: 25 });
    const began = Date.now();
    const [first, second] = await Promise.all([burst(one, 0, 35), burst(two, 35, 35)]);
    expect(first.length + second.length).toBe(70);
    const stats = s.stats()['GET /v1/customers/{customerId}']!;
    expect(stats.requests).toBe(70);
    expect(stats.byStatus[429]).toBeUndefined();
    expect(stats.peakSliding).toBeLessThanOrEqual(25);
    // 70 requests at 25 per second need at least two further windows.
    expect(Date.now() - began).toBeGreaterThanOrEqual(2 * windowMs - 50);
    // No API key in Redis key names, and nothing stays for good.
    const names = await keys('*');
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(names)).not.toContain(studio.apiKey);
    for (const name of names) expect(await redis.pttl(name)).toBeGreaterThan(0);
  });

  it('when one instance meets a 429, then the other waits for the end of the window too instead of meeting its own', async () => {
    const windowMs = 1000;
    const s = await standin({ limitPerWindow: 10, windowMs });
    await alignToWindow(windowMs);
    // Someone else (another consumer of the key) used up this window.
    for (const id of ids.slice(0, 10)) {
      const response = await fetch(`${s.baseUrl}/customers/${id}`, { headers: { 'x-api-key': studio.apiKey } });
      expect(response.status).toBe(200);
      await response.text();
    }
    const windowEnd = Date.now() - (Date.now() % windowMs) + windowMs;
    const one = client(s, await instance(), { windowMs, requestsPerWindow: 1000 });
    const two = client(s, await instance(), { windowMs, requestsPerWindow: 1000 });
    const first = one.getCustomer(ids[10]!);
    await until(
      async () => (s.stats()['GET /v1/customers/{customerId}']!.byStatus[429] ?? 0) === 1 && (await keys('*:paused')).length === 1,
      2000,
      'the 429 and the shared pause',
    );
    expect(Date.now()).toBeLessThan(windowEnd);
    const [a, b] = await Promise.all([first, two.getCustomer(ids[11]!)]);
    expect([a.id, b.id]).toEqual([ids[10], ids[11]]);
    expect(Date.now()).toBeGreaterThanOrEqual(windowEnd);
    const stats = s.stats()['GET /v1/customers/{customerId}']!;
    expect(stats.byStatus[429]).toBe(1);
    expect(stats.byStatus[200]).toBe(12);
  });

  it('when Redis stops answering mid-run, then each instance goes on with its share of the budget and says so, and shares again once Redis is back', async () => {
    // Longer than the reconnection (Redis is retried a second after a failure), so the places taken
    // alone are still held when they are written back.
    const windowMs = 2500;
    const s = await standin({ limitPerWindow: 1000, windowMs });
    const relay = await redisRelay(redisUrl());
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const a = await instance(relay.url, logger);
    const b = await instance(relay.url);
    try {
      const one = client(s, a, { windowMs, requestsPerWindow: 20 });
      const two = client(s, b, { windowMs, requestsPerWindow: 20 });
      // Both use the key: Redis counts two instances (and tells instance one so on its next request).
      await two.getCustomer(ids[1]!);
      await one.getCustomer(ids[0]!);
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      s.resetStats();

      await relay.cut();
      const began = Date.now();
      const got = await Promise.all(ids.slice(0, 30).map((id) => one.getCustomer(id)));
      expect(got).toHaveLength(30);
      const stats = s.stats()['GET /v1/customers/{customerId}']!;
      // Alone, instance one keeps to half of the 20: 30 requests need two further windows.
      expect(stats.peakSliding).toBeLessThanOrEqual(10);
      expect(Date.now() - began).toBeGreaterThanOrEqual(2 * windowMs - 50);
      expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('Redis does not answer') }));
      // Every reconnection attempt and request fails meanwhile: logged once per interval and kind, not each time.
      const warnings = lines.filter((l) => Number(l.level) >= 40);
      expect(warnings.length).toBeLessThanOrEqual(5);

      await relay.restore();
      await until(() => a.usable(), 10_000, 'the reconnection');
      await one.getCustomer(ids[31]!);
      expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: expect.stringContaining('Redis answers again') }));
      // The places taken alone within the last window were added to Redis for the other instances to see.
      const [held] = await keys('*GET /v1/customers/{customerId}:held');
      expect(await redis.zcard(held!)).toBeGreaterThanOrEqual(2);
    } finally {
      await a.close();
      await b.close();
      await relay.close();
    }
  }, 30_000);
});

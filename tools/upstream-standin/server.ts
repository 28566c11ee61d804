import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatZonedDateTime, parseZonedDateTime } from '../../src/upstream/zoned-date-time.js';
import type { AdditionalModuleAnswer, ContractAnswer, EmployeeAnswer, IdlePeriodAnswer, StudioInformationAnswer } from './answers.js';
import { Random } from './random.js';
import type { World, WorldContract, WorldCustomer, WorldStudio } from './world.js';

/**
 * A stand-in for one tenant's PerfectGym Next Open API, serving a {@link World} over HTTP with the
 * documented shapes: zoned date-times, slices with an opaque offset and `hasNext`, bare arrays where
 * documented, `x-api-key` selecting the studio (401 otherwise), HEAD on any endpoint, the error JSON
 * with a traceId, a per-endpoint rate limit answered with 429 for the rest of the window, optional
 * seeded random 503s, and counters of what it was asked. Not product runtime: for tests and demos.
 *
 * Choices where the upstream documentation is silent (the client in src/upstream makes the same):
 * - `GET /v1/customers` (sliced) lists the customers whose home studio is the key's studio.
 * - `GET /v1/classes/booking?customerId=` and `GET /v1/appointments/booking?customerId=` (sliced)
 *   list one customer's bookings at the key's studio.
 * - Reads by id (customer, booking, slot, employee, ...) see the whole tenant; deleted customers
 *   and employees are 404. A customer whose access is disabled is 403 `FORBIDDEN` on every read of
 *   it (customer, contracts, check-ins, preferences, booking lists) and is left out of
 *   `GET /v1/customers`; its bookings stay readable by booking id.
 * - `accessRefusal` reads true while the customer has an access restriction.
 * - The answers of the sister types' reads are typed in answers.ts.
 * - Rate windows are aligned to multiples of `windowMs` since the epoch (calendar minutes by
 *   default), counted per (key, endpoint template); `Retry-After` says when the window ends.
 */
export interface StandinOptions {
  readonly world: World;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Requests per endpoint template per key per window before 429. @default 1000 */
  readonly limitPerWindow?: number;
  /** @default 60000 */
  readonly windowMs?: number;
  /** Send `Retry-After` with 429. @default true */
  readonly retryAfter?: boolean;
  /** Share of requests answered 503 before any work (seeded). @default 0 */
  readonly failureRate?: number;
  /** @default the world's seed */
  readonly seed?: number;
  /** Delay before answering, per endpoint template (ms). @default none */
  readonly latencyMs?: (endpoint: string) => number;
}

export interface EndpointStats {
  /** Every request to this endpoint template (counted on arrival), whatever the answer. */
  readonly requests: number;
  /** Answers by status (a request still waiting for its answer is in `requests` only). */
  readonly byStatus: Readonly<Record<number, number>>;
  /** Most requests that arrived in one (aligned) window. */
  readonly peakPerWindow: number;
  /** Most requests that arrived within any `windowMs` span (sliding). */
  readonly peakSliding: number;
}

export interface Standin {
  /** The tenant base URL to register: `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly world: World;
  /** Counters per endpoint template (`GET /v1/customers/{customerId}`). */
  stats(): Record<string, EndpointStats>;
  /** Total requests received. */
  requestCount(): number;
  /** Upstream studio ids whose activation was confirmed, with how often. */
  readonly activations: Map<number, number>;
  /** Forget counters (not activations) and rate windows. */
  resetStats(): void;
  /** Change the 503 rate while running. */
  setFailureRate(rate: number): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string,
  ) {
    super(message);
  }
}

type Handler = (ctx: { studio: WorldStudio; params: string[]; query: URLSearchParams }) => unknown;

interface Route {
  readonly method: 'GET' | 'POST';
  readonly template: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

const MAX_SLICE = 100;

export async function startStandin(options: StandinOptions): Promise<Standin> {
  const { world } = options;
  const limit = options.limitPerWindow ?? 1000;
  const windowMs = options.windowMs ?? 60_000;
  const random = new Random((options.seed ?? world.seed) + 104_729);
  let failureRate = options.failureRate ?? 0;
  let traceCounter = 0;
  const activations = new Map<number, number>();

  const arrivals = new Map<string, number[]>();
  const statuses = new Map<string, Record<number, number>>();
  /** Accepted requests in the current window per key and template. */
  const windows = new Map<string, { start: number; count: number }>();
  const arrived = (template: string, at: number) => {
    let times = arrivals.get(template);
    if (!times) arrivals.set(template, (times = []));
    times.push(at);
  };
  const answered = (template: string, status: number) => {
    let counts = statuses.get(template);
    if (!counts) statuses.set(template, (counts = {}));
    counts[status] = (counts[status] ?? 0) + 1;
  };

  const date = (ms: number | null) => (ms === null ? null : formatZonedDateTime(new Date(ms), world.zone));
  const byKey = new Map(world.studios.map((s) => [s.apiKey, s]));
  const id = (raw: string) => Number(raw);
  const notFound = (what: string): never => {
    throw new HttpError(404, `${what} not found`, 'NOT_FOUND');
  };

  /** The customer, else 404 (no such or deleted) or 403 (access disabled). */
  const readable = (customerId: number): WorldCustomer => {
    const customer = world.readableCustomer(customerId) ?? notFound(`customer ${customerId}`);
    if (customer.accessDisabledAt !== null) throw new HttpError(403, `access to customer ${customerId} is disabled`, 'FORBIDDEN');
    return customer;
  };
  const customerJson = (customerId: number) => {
    const c = readable(customerId);
    return {
      id: c.id,
      status: c.status,
      accessRefusal: c.accessRefusal || c.accessRestrictions.length > 0,
      customerNumber: c.customerNumber,
      studioId: c.studioId,
      createdDateTime: date(c.createdAt),
      firstName: c.firstName,
      lastName: c.lastName,
      dateOfBirth: c.dateOfBirth,
      gender: c.gender,
      email: c.email,
      phoneNumberPrivate: c.phoneNumberPrivate,
      phoneNumberMobile: c.phoneNumberMobile,
      address: { ...c.address },
      preferredLanguage: { languageCode: c.preferredLanguage, countryCode: 'DE' },
      imageUrl: `https://images.example.invalid/customers/${c.id}.jpg?expires=${world.now + 15 * 60_000}`,
      bankAccount: { iban: c.iban, accountHolder: `${c.firstName} ${c.lastName}` },
    };
  };
  const classBookingJson = (bookingId: number) => {
    const b = world.classBookings.get(bookingId) ?? notFound(`class booking ${bookingId}`);
    const slot = world.slots.get(b.classSlotId)!;
    // Places go in booking order; the bookings beyond them wait (and do not take part).
    const place = [...world.classBookings.values()]
      .filter((o) => o.classSlotId === b.classSlotId && o.cancelledAt === null)
      .sort((x, y) => x.bookedAt - y.bookedAt || x.bookingId - y.bookingId)
      .findIndex((o) => o.bookingId === b.bookingId);
    const waiting = b.cancelledAt === null && place >= slot.maxParticipants;
    const ended = slot.endAt < world.now;
    return {
      bookingId: b.bookingId,
      bookingStatus: b.cancelledAt !== null ? 'CANCELED' : waiting ? 'WAITING_LIST' : 'BOOKED',
      classSlotId: b.classSlotId,
      classId: b.classId,
      customerId: b.customerId,
      classSlotStatus: slot.cancelled ? 'CANCELED' : ended ? 'COMPLETED' : 'PLANNED',
      participantStatus:
        b.cancelledAt !== null || ((waiting || b.noShow === true) && ended) ? 'NOT_PARTICIPATING' : ended ? 'PARTICIPATING' : 'UNSET',
    };
  };
  const appointmentBookingJson = (bookingId: number) => {
    const b = world.appointmentBookings.get(bookingId) ?? notFound(`appointment booking ${bookingId}`);
    return {
      bookingId: b.bookingId,
      bookingStatus: b.cancelledAt === null ? 'BOOKED' : 'CANCELED',
      startDateTime: date(b.startAt),
      endDateTime: date(b.endAt),
      appointmentStatus: b.cancelledAt !== null ? 'CANCELED' : b.endAt < world.now ? 'COMPLETED' : 'PLANNED',
      participantStatus: b.cancelledAt !== null ? 'NOT_PARTICIPATING' : 'UNSET',
      customerId: b.customerId,
      title: b.title,
    };
  };
  const customerOfTenant = (raw: string | null) => {
    const customerId = Number(raw);
    if (raw === null || !Number.isSafeInteger(customerId)) throw new HttpError(400, 'customerId is required', 'VALIDATION_ERROR');
    return readable(customerId);
  };
  const contractJson = (c: WorldContract): ContractAnswer => ({
    id: c.id,
    rateName: c.rateName,
    contractStatus: c.contractStatus,
    createdDate: isoDate(c.createdAt),
    startDate: c.startDate,
    endDate: c.endDate,
    cancelled: c.cancelled,
    cancellationDate: c.cancellationDate,
    term: c.term,
    priceDetails: { basePrice: c.basePrice, currentPrice: c.currentPrice },
    idlePeriods: c.idlePeriods.map((p): IdlePeriodAnswer => ({
      id: p.id,
      startDate: p.startDate,
      endDate: p.endDate,
      unlimited: p.unlimited,
      reason: p.reason,
      temporalUnit: p.temporalUnit,
      idlePeriodAmount: p.amount,
      usedFreeTermsInDays: p.usedFreeTermsInDays,
      fee: p.fee && { ...p.fee },
      createdDate: isoDate(p.createdAt),
    })),
    additionalModules: c.additionalModules.map((m): AdditionalModuleAnswer => ({
      id: m.moduleContractId,
      moduleContractId: m.moduleContractId,
      rateName: m.rateName,
      status: m.endDate < isoDate(world.now) ? 'INACTIVE' : m.status,
      startDate: m.startDate,
      endDate: m.endDate,
      cancelled: m.cancelled,
      cancellationDate: m.cancellationDate,
      price: { ...m.price },
    })),
  });

  const routes: Route[] = [];
  const route = (method: Route['method'], template: string, handler: Handler) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '(\\d{1,16})')}$`);
    routes.push({ method, template: `${method} ${template}`, pattern, handler });
  };

  route('POST', '/v1/studios/confirmActivation', ({ studio }) => {
    activations.set(studio.id, (activations.get(studio.id) ?? 0) + 1);
    return undefined;
  });
  route('GET', '/v1/studios/information', ({ studio }): StudioInformationAnswer => ({
    studioId: studio.id,
    name: studio.name,
    city: studio.city,
    countryCode: studio.countryCode,
    openingHours: studio.openingHours.map((h) => ({ ...h })),
    closingHours: studio.closingHours.map((h) => ({ reason: h.reason, dateTimeFrom: date(h.from)!, dateTimeTo: date(h.to)! })),
  }));
  route('GET', '/v1/studios/utilization', ({ studio }) => ({
    count: world.checkins.filter(
      (c) => c.studioId === studio.id && c.checkInAt <= world.now && (c.checkOutAt === null || c.checkOutAt > world.now),
    ).length,
    capacity: studio.capacity,
  }));
  route('GET', '/v1/customers', ({ studio, query }) =>
    slice(
      query,
      [...world.customers.values()]
        .filter((c) => c.studioId === studio.id && c.deletedAt === null && c.accessDisabledAt === null)
        .sort((a, b) => a.id - b.id),
      (c) => customerJson(c.id),
    ),
  );
  route('GET', '/v1/customers/{customerId}', ({ params }) => customerJson(id(params[0]!)));
  route('GET', '/v1/customers/{customerId}/activities/checkins', ({ params, query }) => {
    const customer = readable(id(params[0]!));
    const from = instant(query.get('fromDate'), 'fromDate', -Infinity);
    const to = instant(query.get('toDate'), 'toDate', Infinity);
    const items = world.checkins
      .filter((c) => c.customerId === customer.id && c.checkInAt >= from && c.checkInAt <= to)
      .sort((a, b) => a.checkInAt - b.checkInAt || a.checkinId - b.checkinId);
    return slice(query, items, (c) => ({
      checkinId: c.checkinId,
      checkInDateTime: date(c.checkInAt),
      checkOutDateTime: date(c.checkOutAt),
      studioId: c.studioId,
      studioName: world.studio(c.studioId).name,
    }));
  });
  route('GET', '/v1/customers/{customerId}/contracts', ({ params }) => {
    const customer = readable(id(params[0]!));
    return world.contracts.filter((c) => c.customerId === customer.id).map(contractJson);
  });
  route('GET', '/v1/communications/{customerId}/communication-preferences', ({ params }) => {
    const customer = readable(id(params[0]!));
    return world.communicationPreferences.get(customer.id) ?? [];
  });
  route('GET', '/v1/classes/booking', ({ studio, query }) => {
    const customer = customerOfTenant(query.get('customerId'));
    const items = [...world.classBookings.values()]
      .filter((b) => b.customerId === customer.id && world.classes.get(b.classId)!.studioId === studio.id)
      .sort((a, b) => a.bookingId - b.bookingId);
    return slice(query, items, (b) => classBookingJson(b.bookingId));
  });
  route('GET', '/v1/classes/booking/{bookingId}', ({ params }) => classBookingJson(id(params[0]!)));
  route('GET', '/v1/classes/{classId}', ({ params }) => {
    const c = world.classes.get(id(params[0]!)) ?? notFound(`class ${params[0]}`);
    return {
      id: c.id,
      title: c.title,
      type: c.type,
      duration: c.duration,
      category: c.category,
      bookable: c.bookable,
      imageUrl: `https://images.example.invalid/classes/${c.id}.jpg`,
    };
  });
  route('GET', '/v1/classes/{classId}/slots/{classSlotId}', ({ params }) => {
    const s = world.slots.get(id(params[1]!));
    if (!s || s.classId !== id(params[0]!)) return notFound(`slot ${params[1]} of class ${params[0]}`);
    const booked = [...world.classBookings.values()].filter((b) => b.classSlotId === s.id && b.cancelledAt === null).length;
    return {
      id: s.id,
      startDateTime: date(s.startAt),
      endDateTime: date(s.endAt),
      maxParticipants: s.maxParticipants,
      bookedParticipants: Math.min(booked, s.maxParticipants),
      waitingListParticipants: Math.max(0, booked - s.maxParticipants),
      instructors: s.instructors.map((i) => ({ ...i, imageUrl: 'https://images.example.invalid/instructor.jpg' })),
      location: s.location,
    };
  });
  route('GET', '/v1/appointments/booking', ({ studio, query }) => {
    const customer = customerOfTenant(query.get('customerId'));
    const items = [...world.appointmentBookings.values()]
      .filter((b) => b.customerId === customer.id && b.studioId === studio.id)
      .sort((a, b) => a.bookingId - b.bookingId);
    return slice(query, items, (b) => appointmentBookingJson(b.bookingId));
  });
  route('GET', '/v1/appointments/booking/{bookingId}', ({ params }) => appointmentBookingJson(id(params[0]!)));
  route('GET', '/v1/employees/{employeeId}', ({ params }): EmployeeAnswer => {
    const e = world.employees.get(id(params[0]!));
    if (!e || e.deletedAt !== null) return notFound(`employee ${params[0]}`);
    return {
      id: e.id,
      firstName: e.firstName,
      lastName: e.lastName,
      gender: e.gender,
      employeeInitials: e.employeeInitials,
      ...(e.businessRole !== null ? { businessRole: e.businessRole } : {}),
      ...(e.email !== null ? { email: e.email } : {}),
      ...(e.phoneNumber !== null ? { phoneNumber: e.phoneNumber } : {}),
      employeeCompetences: e.competences.map((c) => ({ ...c })),
    };
  });
  route('GET', '/v1/devices', ({ studio }) =>
    world.devices.filter((d) => d.studioId === studio.id).map((d) => ({ id: d.id, name: d.name, active: d.active, model: d.model })),
  );
  route('GET', '/v1/debt-collection/{runId}/details', ({ params }) => {
    const run = world.debtCollectionRuns.get(id(params[0]!)) ?? notFound(`debt collection run ${params[0]}`);
    return { collectionDate: run.collectionDate, debtCollectionType: run.debtCollectionType, status: run.status, origin: run.origin };
  });
  route('GET', '/v1/taxadvisor/exports/{exportId}', ({ params }) => {
    const e = world.taxAdvisorExports.get(id(params[0]!)) ?? notFound(`tax advisor export ${params[0]}`);
    return {
      fromDate: e.fromDate,
      toDate: e.toDate,
      exportFileFormat: e.exportFileFormat,
      exportFormat: e.exportFormat,
      downloadUrl: `https://files.example.invalid/exports/${e.id}.${e.exportFileFormat.toLowerCase()}?expires=${world.now + 15 * 60_000}`,
    };
  });

  const server = http.createServer((req, res) => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const matched = routes
      .filter((r) => r.method === method)
      .map((r) => ({ r, m: r.pattern.exec(url.pathname) }))
      .find((x) => x.m !== null);
    const template = matched ? matched.r.template.replace(/^GET /, req.method === 'HEAD' ? 'HEAD ' : 'GET ') : `${req.method} (unknown)`;
    const traceId = `standin-${(++traceCounter).toString(16).padStart(8, '0')}`;
    arrived(template, at);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      answered(template, status);
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        ...(text ? { 'content-type': 'application/json' } : {}),
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const fail = (status: number, errorMessage: string, errorCode: string, headers: Record<string, string> = {}) =>
      send(status, { errorMessage, errorCode, traceId }, headers);

    const answer = () => {
      const key = req.headers['x-api-key'];
      const studio = typeof key === 'string' ? byKey.get(key) : undefined;
      if (!studio) return fail(401, 'Unauthorized: missing or invalid API key', 'UNAUTHORIZED');
      if (!matched) return fail(404, `no endpoint ${req.method} ${url.pathname}`, 'NOT_FOUND');
      if (failureRate > 0 && random.chance(failureRate)) return fail(503, 'Service temporarily unavailable', 'SERVICE_UNAVAILABLE');

      const now = Date.now();
      const windowStart = now - (now % windowMs);
      const windowKey = `${studio.apiKey}\n${matched.r.template}`;
      let window = windows.get(windowKey);
      if (!window || window.start !== windowStart) windows.set(windowKey, (window = { start: windowStart, count: 0 }));
      if (window.count >= limit) {
        const retry: Record<string, string> =
          options.retryAfter === false ? {} : { 'retry-after': String(Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000))) };
        return fail(429, `Rate limit of ${limit} requests per window exceeded for ${matched.r.template}`, 'TOO_MANY_REQUESTS', retry);
      }
      window.count += 1;
      try {
        const body = matched.r.handler({ studio, params: matched.m!.slice(1), query: url.searchParams });
        send(body === undefined ? 204 : 200, body);
      } catch (error) {
        if (error instanceof HttpError) return fail(error.status, error.message, error.errorCode);
        fail(500, 'Internal error', 'INTERNAL_ERROR');
      }
    };

    req.resume();
    req.on('end', () => {
      const delay = matched ? (options.latencyMs?.(matched.r.template) ?? 0) : 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    world,
    activations,
    stats() {
      const out: Record<string, EndpointStats> = {};
      for (const [template, times] of arrivals) {
        const perWindow = new Map<number, number>();
        let peakSliding = 0;
        let first = 0;
        times.forEach((t, i) => {
          perWindow.set(t - (t % windowMs), (perWindow.get(t - (t % windowMs)) ?? 0) + 1);
          while (times[first]! <= t - windowMs) first += 1;
          peakSliding = Math.max(peakSliding, i - first + 1);
        });
        out[template] = {
          requests: times.length,
          byStatus: { ...statuses.get(template) },
          peakPerWindow: Math.max(0, ...perWindow.values()),
          peakSliding,
        };
      }
      return out;
    },
    requestCount: () => [...arrivals.values()].reduce((sum, times) => sum + times.length, 0),
    resetStats() {
      arrivals.clear();
      statuses.clear();
      windows.clear();
    },
    setFailureRate(rate: number) {
      failureRate = rate;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `fromDate`/`toDate`: a calendar date (whole day, UTC) or a date-time. */
function instant(raw: string | null, name: string, fallback: number): number {
  if (raw === null || raw === '') return fallback;
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return Date.parse(raw) + (fallback === Infinity ? 86_400_000 - 1 : 0);
  const date = parseZonedDateTime(raw);
  if (!date) throw new HttpError(400, `${name} must be a date or a date-time, got ${JSON.stringify(raw)}`, 'VALIDATION_ERROR');
  return date.getTime();
}

/** One slice of `items` after the opaque offset (base64url of the position), at most `sliceSize`. */
function slice<T>(
  query: URLSearchParams,
  items: readonly T[],
  toJson: (item: T) => unknown,
): { result: unknown[]; offset: string; hasNext: boolean } {
  const rawSize = query.get('sliceSize');
  const size = rawSize === null ? 50 : Number(rawSize);
  if (!Number.isInteger(size) || size < 1 || size > MAX_SLICE)
    throw new HttpError(400, `sliceSize must be from 1 to ${MAX_SLICE}`, 'VALIDATION_ERROR');
  const rawOffset = query.get('offset');
  let start = 0;
  if (rawOffset !== null && rawOffset !== '' && rawOffset !== '0') {
    const decoded = /^[A-Za-z0-9_-]+$/.test(rawOffset)
      ? Number(Buffer.from(rawOffset, 'base64url').toString('utf8').replace(/^pos:/, ''))
      : NaN;
    if (!Number.isInteger(decoded) || decoded < 0) throw new HttpError(400, 'offset is not one this server gave out', 'VALIDATION_ERROR');
    start = decoded;
  }
  const page = items.slice(start, start + size);
  const next = start + page.length;
  return { result: page.map(toJson), offset: Buffer.from(`pos:${next}`).toString('base64url'), hasNext: next < items.length };
}

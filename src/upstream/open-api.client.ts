import { RepeatedLog, type Logger } from '../log.js';
import type { UpstreamMetrics } from '../metrics/metrics.js';
import * as answers from './open-api.answers.js';
import { AnswerError, parseArray, parseObject, parseSlice } from './open-api.answers.js';
import {
  OpenApiError,
  type OpenApi,
  type Slice,
  type SliceRequest,
  type UpstreamAppointmentBooking,
  type UpstreamCheckin,
  type UpstreamClass,
  type UpstreamClassBooking,
  type UpstreamClassSlot,
  type UpstreamCommunicationPreference,
  type UpstreamContract,
  type UpstreamCustomer,
  type UpstreamDebtCollectionRun,
  type UpstreamDevice,
  type UpstreamEmployee,
  type UpstreamStudioInformation,
  type UpstreamTaxAdvisorExport,
  type UpstreamUtilization,
} from './open-api.js';
import { sharedRateLimiters, type RateLimiterRegistry } from './rate-limiter.js';

/** How clients behave towards the upstream; `config.openApi` supplies the first three. */
export interface OpenApiSettings {
  /**
   * Requests per endpoint per window, per API key, for all clients of that key sharing the
   * registry (`limiters`): one process, or every instance on one Redis.
   * The upstream allows 1000 per minute and answers 429 for the rest of the minute beyond it; the
   * margin covers clock skew and other consumers of the key. @default 900
   */
  readonly requestsPerWindow?: number;
  /** Length of the rate window in ms (injectable so tests need not wait a minute). @default 60000 */
  readonly windowMs?: number;
  /** Per attempt, connect to last byte, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Attempts for 5xx answers, network errors and timeouts (1 = no retry). @default 5 */
  readonly maxAttempts?: number;
  /** How many 429s one call waits out before it gives up. @default 5 */
  readonly maxRateLimitWaits?: number;
  /** Backoff: attempt n waits a uniformly random time in [0, min(cap, base * 2^(n-1))). @default 250 */
  readonly backoffBaseMs?: number;
  /** @default 8000 */
  readonly backoffCapMs?: number;
  /** [0, 1) source for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Where the rate limits live (in-process, or shared through Redis). @default the process-wide registry */
  readonly limiters?: RateLimiterRegistry;
  /** Requests by endpoint and status, time waiting for the rate limit; absent: not counted. */
  readonly metrics?: UpstreamMetrics | undefined;
}

export interface OpenApiClientOptions extends OpenApiSettings {
  /**
   * The tenant's Open API base URL as e-mailed, e.g. `https://acme.open-api.perfectgym.com/v1`
   * (a trailing `/v1` is optional: the endpoints are written with it).
   */
  readonly baseUrl: string;
  /** The studio's Open API key, sent as `x-api-key`; never logged. */
  readonly apiKey: string;
  readonly logger: Logger;
}

type Query = Record<string, string | number | undefined>;

interface Call<T> {
  readonly method: 'GET' | 'HEAD' | 'POST';
  /** The endpoint template, e.g. `GET /v1/customers/{customerId}`: what is rate-limited and named in errors. */
  readonly endpoint: string;
  readonly path: string;
  readonly query?: Query;
  /** Turns the 2xx answer (parsed JSON, or undefined when empty) into the typed value. */
  readonly parse: (body: unknown, status: number) => T;
  /** Statuses that are answers rather than errors (HEAD's 401). */
  readonly accept?: readonly number[];
}

/** Statuses worth another attempt after a backoff (429 is handled apart: it waits for the window). */
const isRetryable = (status: number) => status >= 500;

/**
 * The Open API client of one studio: every call is rate-limited per endpoint template and key,
 * bounded by a timeout, retried on 5xx / network errors / timeouts with exponential backoff and full
 * jitter, waits out 429 (`Retry-After`, else the rest of the window) with every other call to that
 * endpoint, and throws {@link OpenApiError} (400/401/403/404/409 at once, others after the retries).
 * Answers are validated before they are returned; an answer of the wrong shape is an OpenApiError
 * with `errorCode` `INVALID_ANSWER`.
 *
 * Two list endpoints the upstream documentation does not name are, by this service's choice:
 * - `GET /v1/classes/booking?customerId=&offset=&sliceSize=` (a slice of {@link UpstreamClassBooking})
 * - `GET /v1/appointments/booking?customerId=&offset=&sliceSize=` (a slice of {@link UpstreamAppointmentBooking})
 * and `GET /v1/customers?offset=&sliceSize=` is a slice of the key's studio's customers (its home
 * customers). tools/upstream-standin implements the same.
 */
export class OpenApiClient implements OpenApi {
  private readonly origin: string;
  private readonly settings: Required<Omit<OpenApiSettings, 'limiters' | 'random' | 'metrics'>> & {
    random: () => number;
    limiters: RateLimiterRegistry;
  };
  /**
   * An upstream that is down or throttling fails every call of every job the same way: its lines
   * once per interval per endpoint and status, with a count.
   */
  private readonly repeated: RepeatedLog;

  constructor(private readonly options: OpenApiClientOptions) {
    this.repeated = new RepeatedLog(options.logger);
    this.origin = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.settings = {
      requestsPerWindow: options.requestsPerWindow ?? 900,
      windowMs: options.windowMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 5,
      maxRateLimitWaits: options.maxRateLimitWaits ?? 5,
      backoffBaseMs: options.backoffBaseMs ?? 250,
      backoffCapMs: options.backoffCapMs ?? 8000,
      random: options.random ?? Math.random,
      limiters: options.limiters ?? sharedRateLimiters,
    };
  }

  checkKey(): Promise<boolean> {
    return this.call({
      method: 'HEAD',
      endpoint: 'HEAD /v1/studios/information',
      path: '/v1/studios/information',
      accept: [401],
      parse: (_body, status) => status !== 401,
    });
  }

  confirmActivation(): Promise<void> {
    return this.call({
      method: 'POST',
      endpoint: 'POST /v1/studios/confirmActivation',
      path: '/v1/studios/confirmActivation',
      parse: () => undefined,
    });
  }

  getStudioInformation(): Promise<UpstreamStudioInformation> {
    return this.get('GET /v1/studios/information', '/v1/studios/information', undefined, (b) => parseObject(b, answers.studioInformation));
  }

  getUtilization(): Promise<UpstreamUtilization> {
    return this.get('GET /v1/studios/utilization', '/v1/studios/utilization', undefined, (b) => parseObject(b, answers.utilization));
  }

  getCustomer(customerId: number): Promise<UpstreamCustomer> {
    return this.get('GET /v1/customers/{customerId}', `/v1/customers/${id(customerId)}`, undefined, (b) =>
      parseObject(b, answers.customer),
    );
  }

  listCustomers(slice?: SliceRequest): Promise<Slice<UpstreamCustomer>> {
    return this.get('GET /v1/customers', '/v1/customers', sliceQuery(slice), (b) => parseSlice(b, answers.customer));
  }

  listCheckins(
    customerId: number,
    range: { readonly from: Date; readonly to: Date },
    slice?: SliceRequest,
  ): Promise<Slice<UpstreamCheckin>> {
    return this.get(
      'GET /v1/customers/{customerId}/activities/checkins',
      `/v1/customers/${id(customerId)}/activities/checkins`,
      { fromDate: range.from.toISOString(), toDate: range.to.toISOString(), ...sliceQuery(slice) },
      (b) => parseSlice(b, answers.checkin),
    );
  }

  listContracts(customerId: number): Promise<readonly UpstreamContract[]> {
    return this.get('GET /v1/customers/{customerId}/contracts', `/v1/customers/${id(customerId)}/contracts`, undefined, (b) =>
      parseArray(b, answers.contract),
    );
  }

  getCommunicationPreferences(customerId: number): Promise<readonly UpstreamCommunicationPreference[]> {
    return this.get(
      'GET /v1/communications/{customerId}/communication-preferences',
      `/v1/communications/${id(customerId)}/communication-preferences`,
      undefined,
      (b) => parseArray(b, answers.communicationPreference),
    );
  }

  getClassBooking(bookingId: number): Promise<UpstreamClassBooking> {
    return this.get('GET /v1/classes/booking/{bookingId}', `/v1/classes/booking/${id(bookingId)}`, undefined, (b) =>
      parseObject(b, answers.classBooking),
    );
  }

  listCustomerClassBookings(customerId: number, slice?: SliceRequest): Promise<Slice<UpstreamClassBooking>> {
    return this.get('GET /v1/classes/booking', '/v1/classes/booking', { customerId: id(customerId), ...sliceQuery(slice) }, (b) =>
      parseSlice(b, answers.classBooking),
    );
  }

  getClassSlot(classId: number, slotId: number): Promise<UpstreamClassSlot> {
    return this.get('GET /v1/classes/{classId}/slots/{classSlotId}', `/v1/classes/${id(classId)}/slots/${id(slotId)}`, undefined, (b) =>
      parseObject(b, answers.classSlot),
    );
  }

  getClass(classId: number): Promise<UpstreamClass> {
    return this.get('GET /v1/classes/{classId}', `/v1/classes/${id(classId)}`, undefined, (b) => parseObject(b, answers.upstreamClass));
  }

  getAppointmentBooking(bookingId: number): Promise<UpstreamAppointmentBooking> {
    return this.get('GET /v1/appointments/booking/{bookingId}', `/v1/appointments/booking/${id(bookingId)}`, undefined, (b) =>
      parseObject(b, answers.appointmentBooking),
    );
  }

  listCustomerAppointmentBookings(customerId: number, slice?: SliceRequest): Promise<Slice<UpstreamAppointmentBooking>> {
    return this.get('GET /v1/appointments/booking', '/v1/appointments/booking', { customerId: id(customerId), ...sliceQuery(slice) }, (b) =>
      parseSlice(b, answers.appointmentBooking),
    );
  }

  listDevices(): Promise<readonly UpstreamDevice[]> {
    return this.get('GET /v1/devices', '/v1/devices', undefined, (b) => parseArray(b, answers.device));
  }

  getDebtCollectionRun(runId: number): Promise<UpstreamDebtCollectionRun> {
    return this.get('GET /v1/debt-collection/{runId}/details', `/v1/debt-collection/${id(runId)}/details`, undefined, (b) =>
      parseObject(b, answers.debtCollectionRun),
    );
  }

  getTaxAdvisorExport(exportId: number): Promise<UpstreamTaxAdvisorExport> {
    return this.get('GET /v1/taxadvisor/exports/{exportId}', `/v1/taxadvisor/exports/${id(exportId)}`, undefined, (b) =>
      parseObject(b, answers.taxAdvisorExport),
    );
  }

  getEmployee(employeeId: number): Promise<UpstreamEmployee> {
    return this.get('GET /v1/employees/{employeeId}', `/v1/employees/${id(employeeId)}`, undefined, (b) =>
      parseObject(b, answers.employee),
    );
  }

  private get<T>(endpoint: string, path: string, query: Query | undefined, parse: (body: unknown) => T): Promise<T> {
    return this.call({ method: 'GET', endpoint, path, ...(query ? { query } : {}), parse });
  }

  private async call<T>(call: Call<T>): Promise<T> {
    const { settings, options } = this;
    const limiter = settings.limiters.for(
      this.origin,
      options.apiKey,
      call.endpoint,
      settings.requestsPerWindow,
      settings.windowMs,
      settings.timeoutMs,
    );
    const url = this.url(call.path, call.query);
    let attempt = 0;
    let rateLimitWaits = 0;
    for (;;) {
      attempt += 1;
      const { metrics } = options;
      const waiting = metrics ? performance.now() : 0;
      const release = await limiter.acquire();
      metrics?.waited(performance.now() - waiting);
      let failure: OpenApiError;
      let retryAt: number | undefined;
      let answered = false;
      try {
        const response = await fetch(url, {
          method: call.method,
          headers: { 'x-api-key': options.apiKey, accept: 'application/json' },
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
        answered = true;
        metrics?.request(call.endpoint, response.status);
        const text = call.method === 'HEAD' ? '' : await response.text();
        if (response.ok || call.accept?.includes(response.status)) return this.parse(call, response.status, text);
        failure = errorFrom(call.endpoint, response.status, text);
        if (response.status === 429) {
          retryAt =
            Date.now() + (retryAfterMs(response.headers.get('retry-after')) ?? settings.windowMs - (Date.now() % settings.windowMs));
        }
      } catch (error) {
        if (error instanceof OpenApiError) throw error;
        failure = networkError(call.endpoint, error, settings.timeoutMs);
        if (!answered) metrics?.request(call.endpoint, 0);
      } finally {
        release();
      }

      if (retryAt !== undefined && rateLimitWaits < settings.maxRateLimitWaits) {
        // Every waiter of this endpoint pauses with us; the retry does not count as a failed attempt.
        rateLimitWaits += 1;
        attempt -= 1;
        limiter.pauseUntil(retryAt);
        this.repeated.warn(
          `rate-limit:${call.endpoint}`,
          { endpoint: call.endpoint, retryInMs: retryAt - Date.now(), traceId: failure.traceId },
          'Open API rate limit hit (429): waiting for the window',
        );
        continue;
      }
      const retryable = retryAt === undefined && (failure.status === 0 || isRetryable(failure.status));
      if (retryable && attempt < settings.maxAttempts) {
        const delay = Math.floor(settings.random() * Math.min(settings.backoffCapMs, settings.backoffBaseMs * 2 ** (attempt - 1)));
        this.repeated.warn(
          `retry:${call.endpoint}:${failure.status}`,
          {
            endpoint: call.endpoint,
            status: failure.status,
            errorCode: failure.errorCode,
            traceId: failure.traceId,
            attempt,
            retryInMs: delay,
          },
          `Open API call failed, retrying: ${failure.message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      // 404/403 are answers about the thing (deleted, no longer readable), not faults of the call.
      this.repeated[failure.gone ? 'info' : 'warn'](
        `failed:${call.endpoint}:${failure.status}`,
        { endpoint: call.endpoint, status: failure.status, errorCode: failure.errorCode, traceId: failure.traceId, attempts: attempt },
        `Open API call failed: ${failure.message}`,
      );
      throw failure;
    }
  }

  private parse<T>(call: Call<T>, status: number, text: string): T {
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw invalid(call.endpoint, status, 'the answer is not JSON');
      }
    }
    try {
      return call.parse(body, status);
    } catch (error) {
      if (error instanceof AnswerError) throw invalid(call.endpoint, status, error.message);
      throw error;
    }
  }

  private url(path: string, query: Query | undefined): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.origin}${path}${search ? `?${search}` : ''}`;
  }
}

const id = (value: number) => {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`expected a non-negative integer id, got ${value}`);
  return String(value);
};

const sliceQuery = (slice: SliceRequest | undefined): Query => ({ offset: slice?.offset, sliceSize: slice?.sliceSize ?? 100 });

function invalid(endpoint: string, status: number, detail: string): OpenApiError {
  return new OpenApiError(`${endpoint}: unexpected answer: ${detail}`, status, endpoint, 'INVALID_ANSWER');
}

/** `{errorMessage, errorCode?, traceId?, reference?}`, or whatever came instead. */
function errorFrom(endpoint: string, status: number, text: string): OpenApiError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const str = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value.slice(0, 500) : null);
  const message = str(fields.errorMessage) ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
  const reference = str(fields.reference);
  return new OpenApiError(
    `${endpoint}: ${status} ${message}${reference ? ` (reference ${reference})` : ''}`,
    status,
    endpoint,
    str(fields.errorCode),
    str(fields.traceId),
  );
}

function networkError(endpoint: string, error: unknown, timeoutMs: number): OpenApiError {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError')
    return new OpenApiError(`${endpoint}: timed out after ${timeoutMs} ms`, 0, endpoint, 'TIMEOUT');
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const detail = code ?? (typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error));
  return new OpenApiError(`${endpoint}: could not reach the Open API (${detail})`, 0, endpoint, code ?? 'NETWORK');
}

/** `Retry-After`: seconds, or an HTTP date. */
function retryAfterMs(raw: string | null): number | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * The client for one studio, from the service configuration (`OPEN_API_*`): what hydration and
 * reconciliation use. `baseUrl` is the studio's tenant URL, `apiKey` its Open API key.
 */
export function openApiClientFor(
  studio: { readonly baseUrl: string; readonly apiKey: string },
  config: { readonly requestsPerMinute: number; readonly timeoutMs: number; readonly maxAttempts: number },
  logger: Logger,
  overrides: OpenApiSettings = {},
): OpenApiClient {
  return new OpenApiClient({
    baseUrl: studio.baseUrl,
    apiKey: studio.apiKey,
    logger,
    requestsPerWindow: config.requestsPerMinute,
    windowMs: 60_000,
    timeoutMs: config.timeoutMs,
    maxAttempts: config.maxAttempts,
    ...overrides,
  });
}

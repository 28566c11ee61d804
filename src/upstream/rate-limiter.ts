import { createHash } from 'node:crypto';
import { OpenApiError } from './open-api.js';

/**
 * The rate limit of one upstream endpoint of one API key, as the client uses it: in-process
 * ({@link EndpointLimiter}) or shared by every instance through Redis (redis-rate-limiter.ts).
 */
export interface EndpointLimit {
  /**
   * Resolves when a request may start, with the function to call once it has finished (answer read,
   * or failed). Rejects with an {@link OpenApiError} `LIMITER_CLOSED` when the registry is closed.
   */
  acquire(): Promise<() => void>;
  /** Nobody starts before `until` (epoch ms, this process's clock); extends, never shortens, a pause. */
  pauseUntil(until: number): void;
  /** Requests waiting for their turn here. */
  readonly waiting: number;
}

/** Where clients get their {@link EndpointLimit}s: one per (base URL, API key, endpoint template, window). */
export interface RateLimiterRegistry {
  /**
   * The limit for this endpoint of this key, created with `limit`/`windowMs` on first use (later
   * callers share it, whatever they pass). `maxRequestMs` bounds how long one request can take
   * (the client's timeout): a shared limiter holds a place that long at most before it hears the end.
   */
  for(baseUrl: string, apiKey: string, endpoint: string, limit: number, windowMs: number, maxRequestMs?: number): EndpointLimit;
  /** Stops the timers; waiters reject with `LIMITER_CLOSED`, later acquires too. Idempotent. */
  close(): Promise<void>;
}

/** The error waiters get when their registry closes (the service is stopping). */
export const limiterClosed = (endpoint: string) =>
  new OpenApiError(`${endpoint}: the rate limiter was closed (shutting down)`, 0, endpoint, 'LIMITER_CLOSED');

/** sha256 hex of an API key: what limiter registries keep instead of the key. */
export const keyDigest = (apiKey: string) => createHash('sha256').update(apiKey).digest('hex');

/**
 * A sliding-window limiter for one upstream endpoint: a request holds its place from the moment it
 * starts until `windowMs` after it finished, and at most `limit` places are held. The upstream counts
 * a request when it arrives, which is somewhere between our start and our finish; counting until
 * finish + window means no `windowMs` span at the upstream ever sees more than `limit` of ours,
 * whatever the network delays and however the upstream aligns its minute.
 *
 * Waiters are served first come, first served by one timer, and {@link pauseUntil} holds all of
 * them back at once (after a 429), so a pause never turns into a burst of retries.
 */
export class EndpointLimiter implements EndpointLimit {
  /** Finish times of the requests of the last window, oldest first. */
  private readonly finished: number[] = [];
  private inFlight = 0;
  private readonly waiters: { readonly resolve: (release: () => void) => void; readonly reject: (error: Error) => void }[] = [];
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed: Error | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  }

  /**
   * Resolves when a request may start, with the function to call once it has finished (answer read,
   * or failed). Not calling it keeps the place held for good.
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closed);
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Rejects every waiter (and later acquires) with `error`; places already granted stay valid. */
  close(error: Error): void {
    this.closed = error;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  /** Nobody starts before `until` (epoch ms); extends, never shortens, a pause in force. */
  pauseUntil(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump();
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.waiters.length;
  }

  private pump(): void {
    if (this.timer || this.closed) return;
    while (this.waiters.length > 0) {
      const now = this.now();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
      while (this.finished.length > 0 && this.finished[0]! <= now - this.windowMs) this.finished.shift();
      if (this.inFlight + this.finished.length >= this.limit) {
        // All places in flight: the next release wakes us; otherwise the oldest finish expires.
        if (this.finished.length > 0) this.wake(this.finished[0]! + this.windowMs - now);
        return;
      }
      this.inFlight += 1;
      let released = false;
      this.waiters.shift()!.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        this.finished.push(this.now());
        this.pump();
      });
    }
  }

  private wake(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }
}

/**
 * In-process limiters, one per (base URL, API key, endpoint template, window): every client of the
 * same key that uses this registry shares them, as the upstream counts per key and endpoint. Keys
 * are held only as digests. Instances that share a key need {@link RedisRateLimiters} instead.
 */
export class RateLimiters implements RateLimiterRegistry {
  private readonly limiters = new Map<string, { readonly limiter: EndpointLimiter; readonly endpoint: string }>();
  private closed = false;

  constructor(private readonly now: () => number = Date.now) {}

  for(baseUrl: string, apiKey: string, endpoint: string, limit: number, windowMs: number): EndpointLimiter {
    const key = `${baseUrl}\n${keyDigest(apiKey)}\n${endpoint}\n${windowMs}`;
    let entry = this.limiters.get(key);
    if (!entry) {
      entry = { limiter: new EndpointLimiter(limit, windowMs, this.now), endpoint };
      if (this.closed) entry.limiter.close(limiterClosed(endpoint));
      this.limiters.set(key, entry);
    }
    return entry.limiter;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { limiter, endpoint } of this.limiters.values()) limiter.close(limiterClosed(endpoint));
  }
}

/**
 * The process-wide registry of clients given no other: the command-line tools' (one process, one
 * run). The server gives its clients a registry of its own (src/main.ts): Redis-backed with
 * `REDIS_URL`, so that all instances share the upstream's budget.
 */
export const sharedRateLimiters = new RateLimiters();

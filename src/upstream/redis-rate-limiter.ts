import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RepeatedLog, type Logger } from '../log.js';
import { keyDigest, limiterClosed, type EndpointLimit, type RateLimiterRegistry } from './rate-limiter.js';

/**
 * Atomically: backfill this instance's places (after a reconnect or a stretch without Redis), note
 * the instance as a user of the key, then grant a place if the endpoint is neither paused nor full.
 * Times are Redis's own clock (`TIME`), so the instances' clocks need not agree.
 *
 * KEYS: held (sorted set member -> expiry ms), paused (expiry ms), users (hash instance -> last seen ms)
 * ARGV: member, limit, holdMs, windowMs, instance, n, then n pairs (member, age ms | -1 in flight)
 * Returns {granted 0|1, wait ms, instances of the key seen within two windows}.
 */
const ACQUIRE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, hold, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 0, tonumber(ARGV[6]) - 1 do
  local age = tonumber(ARGV[8 + 2 * i])
  local score = now + hold
  if age >= 0 then score = now - age + window end
  if score > now then redis.call('ZADD', KEYS[1], 'NX', score, ARGV[7 + 2 * i]) end
end
redis.call('HSET', KEYS[3], ARGV[5], now)
local users, instances = redis.call('HGETALL', KEYS[3]), 0
for i = 1, #users, 2 do
  if tonumber(users[i + 1]) > now - 2 * window then instances = instances + 1 else redis.call('HDEL', KEYS[3], users[i]) end
end
redis.call('PEXPIRE', KEYS[3], 2 * window)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Every place ends within hold ms from now: so may the set, if nobody comes back (no-op when empty).
redis.call('PEXPIRE', KEYS[1], hold + 1000)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {0, paused - now, instances} end
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - now, instances}
end
redis.call('ZADD', KEYS[1], now + hold, ARGV[1])
redis.call('PEXPIRE', KEYS[1], hold + 1000)
return {1, 0, instances}
`;

/** KEYS: held. ARGV: member, windowMs. The request finished: its place is held for a window from now. */
const RELEASE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
`;

/** KEYS: paused. ARGV: ms from now. Extends, never shortens, the pause. */
const PAUSE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = now + tonumber(ARGV[1])
if ends > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ends, 'PX', tonumber(ARGV[1])) end
return 1
`;

/** After a failed Redis command, the limiters work alone for at least this long before trying again. */
const RETRY_REDIS_MS = 1000;

/** A small fixed set of keys for repeated Redis errors: the errno when there is one, else a generic one. */
function errorKind(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'other';
}

export interface RedisRateLimitersOptions {
  /** `REDIS_URL` */
  readonly url: string;
  readonly logger: Logger;
  /**
   * Prefix of the Redis keys. Deliberately not per deployment: the upstream counts per key, so every
   * user of a key on this Redis must share its budget. Tests pass a prefix of their own.
   * @default "gymgraph:open-api-limit"
   */
  readonly keyPrefix?: string;
  /** Per Redis command; slower answers count as "Redis unreachable". @default 1000 */
  readonly commandTimeoutMs?: number;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** What a {@link SharedEndpointLimiter} needs from its registry. */
interface SharedStore {
  readonly logger: Logger;
  readonly repeated: RepeatedLog;
  /** Redis answers (connected, and no failure in the last {@link RETRY_REDIS_MS}). */
  usable(): boolean;
  /** Bumped on every (re)connection: Redis may have lost what it held, so limiters backfill. */
  readonly epoch: number;
  member(): string;
  acquire(keys: readonly string[], args: readonly (string | number)[]): Promise<[number, number, number]>;
  release(key: string, member: string, windowMs: number): void;
  pause(key: string, ms: number): void;
  failed(error: unknown): void;
}

/**
 * The Open API limits of every instance that shares a Redis (`REDIS_URL`): one budget per (tenant
 * base URL, digest of the API key, endpoint template, window), so N instances together stay under
 * the limit one instance would. Redis keys, in one cluster slot per API key:
 *
 * - `<prefix>:{<sha256(baseUrl, sha256(apiKey))>}:<windowMs>:<endpoint>:held`: a sorted set of the
 *   places held, scored by when they end. A place is taken when a request starts (ending, for now,
 *   `maxRequestMs + windowMs` later, in case the instance dies) and ends a window after the answer.
 * - `...:paused`: after a 429 at any instance, nobody starts before it ends.
 * - `<prefix>:{...}:users`: instances that used the key lately (for the share below).
 *
 * When Redis does not answer (down, or slower than `commandTimeoutMs`), each instance goes on alone
 * with its share of the budget: `floor(limit / instances)`, instances as Redis counted them at
 * its last request to that endpoint, its own places of the last window included; it logs the change once, and after each failure waits {@link RETRY_REDIS_MS} before it
 * tries Redis again. Once back, it adds its places to Redis (they may be missing: not recorded, or
 * Redis restarted empty) before it takes a new one. No request storm, no crash.
 */
export class RedisRateLimiters implements RateLimiterRegistry, SharedStore {
  readonly logger: Logger;
  /** Lines that repeat while Redis is away: once per interval and key, with a count. */
  readonly repeated: RepeatedLog;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly instance = randomBytes(8).toString('hex');
  private readonly limiters = new Map<string, SharedEndpointLimiter>();
  private sequence = 0;
  private downUntil = 0;
  private down = false;
  private closed = false;
  private connections = 0;

  private constructor(options: RedisRateLimitersOptions) {
    this.logger = options.logger.child({ component: 'open-api-limits' });
    this.prefix = options.keyPrefix ?? 'gymgraph:open-api-limit';
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      connectionName: 'gymgraph-open-api-limit',
    });
    this.redis.defineCommand('limitAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    this.redis.defineCommand('limitRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis.defineCommand('limitPause', { numberOfKeys: 1, lua: PAUSE });
    this.repeated = new RepeatedLog(this.logger);
    this.redis.on('error', (error: Error) => {
      // Every reconnection attempt repeats it: once per interval and kind of error, with a count.
      this.repeated.warn(`redis:${errorKind(error)}`, { err: error }, 'redis connection error (Open API limits)');
    });
    this.redis.on('ready', () => {
      this.connections += 1;
    });
  }

  /** Connects (within `connectTimeoutMs`) or throws. */
  static async open(options: RedisRateLimitersOptions): Promise<RedisRateLimiters> {
    const limiters = new RedisRateLimiters(options);
    try {
      await limiters.redis.connect();
    } catch (error) {
      limiters.redis.disconnect();
      throw error;
    }
    return limiters;
  }

  for(baseUrl: string, apiKey: string, endpoint: string, limit: number, windowMs: number, maxRequestMs = 10_000): EndpointLimit {
    const tenant = createHash('sha256')
      .update(`${baseUrl}\n${keyDigest(apiKey)}`)
      .digest('hex')
      .slice(0, 32);
    const base = `${this.prefix}:{${tenant}}`;
    const name = `${base}:${windowMs}:${endpoint}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new SharedEndpointLimiter(this, {
        endpoint,
        limit,
        windowMs,
        holdMs: maxRequestMs + windowMs + 1000,
        held: `${name}:held`,
        paused: `${name}:paused`,
        users: `${base}:users`,
        instance: this.instance,
      });
      if (this.closed) limiter.close();
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  get epoch(): number {
    return this.connections;
  }

  usable(): boolean {
    if (this.closed) return false;
    if (this.redis.status !== 'ready') {
      this.failed(new Error(`the Redis connection is ${this.redis.status}`));
      return false;
    }
    return Date.now() >= this.downUntil;
  }

  member(): string {
    this.sequence += 1;
    return `${this.instance}:${this.sequence}`;
  }

  async acquire(keys: readonly string[], args: readonly (string | number)[]): Promise<[number, number, number]> {
    const answer = (await (this.redis as unknown as { limitAcquire(...a: unknown[]): Promise<unknown> }).limitAcquire(
      ...keys,
      ...args,
    )) as unknown;
    if (!Array.isArray(answer) || answer.length !== 3)
      throw new Error(`unexpected answer from the limit script: ${JSON.stringify(answer)}`);
    if (this.down) {
      this.down = false;
      this.logger.info('Open API limits: Redis answers again; the budget is shared by all instances again');
    }
    return answer.map(Number) as [number, number, number];
  }

  release(key: string, member: string, windowMs: number): void {
    if (!this.usable()) return; // the place keeps its longer provisional end, and is backfilled later
    (this.redis as unknown as { limitRelease(...a: unknown[]): Promise<unknown> })
      .limitRelease(key, member, windowMs)
      .catch((error: unknown) => this.failed(error));
  }

  pause(key: string, ms: number): void {
    if (!this.usable() || !(ms > 0)) return;
    (this.redis as unknown as { limitPause(...a: unknown[]): Promise<unknown> })
      .limitPause(key, Math.ceil(ms))
      .catch((error: unknown) => this.failed(error));
  }

  failed(error: unknown): void {
    this.downUntil = Date.now() + RETRY_REDIS_MS;
    if (this.closed || this.down) return;
    this.down = true;
    // Once per outage; a Redis that flaps is still written at most once per interval (with a count).
    this.repeated.warn(
      'down',
      { err: error },
      'Open API limits: Redis does not answer; each instance goes on alone with its share of the budget until it is back',
    );
  }

  /** Rejects the waiters (`LIMITER_CLOSED`) and closes the Redis connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const limiter of this.limiters.values()) limiter.close();
    // Not connected (Redis away): no QUIT to wait for, and no reconnection after this.
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

interface SharedLimitSpec {
  readonly endpoint: string;
  readonly limit: number;
  readonly windowMs: number;
  /** How long a place is held at most before its request is heard to end. */
  readonly holdMs: number;
  readonly held: string;
  readonly paused: string;
  readonly users: string;
  readonly instance: string;
}

interface Waiter {
  readonly resolve: (release: () => void) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One endpoint's budget shared through Redis. Local waiters are served first come, first served by
 * one loop that asks Redis for a place per waiter. This instance also keeps its own places (in
 * flight, and finished within the window) as the in-process limiter does: they bound it to its share
 * while Redis is away, and are what it adds back to Redis afterwards.
 */
class SharedEndpointLimiter implements EndpointLimit {
  private readonly waiters: Waiter[] = [];
  /** Own places in flight: member -> shared (granted by Redis). */
  private readonly inFlight = new Map<string, boolean>();
  /** Own finished places of the last window, oldest first. */
  private readonly finished: { readonly at: number; readonly member: string }[] = [];
  private pausedUntil = 0;
  /** Instances using the key, as Redis last counted them. */
  private instances = 1;
  /** The registry epoch our places were last written in; differs after a reconnect. */
  private writtenEpoch: number;
  /** Places were granted without Redis: add them when it is back. */
  private unwritten = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private closedError: Error | undefined;

  constructor(
    private readonly store: SharedStore,
    private readonly spec: SharedLimitSpec,
  ) {
    this.writtenEpoch = store.epoch;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (this.closedError) return reject(this.closedError);
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  pauseUntil(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.store.pause(this.spec.paused, until - Date.now());
    this.pump();
  }

  close(): void {
    this.closedError = limiterClosed(this.spec.endpoint);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.closedError);
  }

  private pump(): void {
    if (this.closedError) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = true;
    void this.serve()
      .catch((error: unknown) =>
        this.store.repeated.error('loop', { err: error, endpoint: this.spec.endpoint }, 'Open API limits: limiter loop failed'),
      )
      .finally(() => {
        this.running = false;
        if (this.again && !this.timer) this.pump();
        this.again = false;
      });
  }

  private async serve(): Promise<void> {
    const { windowMs, limit } = this.spec;
    while (this.waiters.length > 0 && !this.closedError) {
      this.again = false;
      const now = Date.now();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
      while (this.finished.length > 0 && this.finished[0]!.at <= now - windowMs) this.finished.shift();
      const shared = this.store.usable();
      // Alone, this instance keeps to its share; shared, Redis decides, but never beyond the whole limit.
      const cap = shared ? limit : Math.max(1, Math.floor(limit / Math.max(1, this.instances)));
      if (this.inFlight.size + this.finished.length >= cap) {
        if (this.finished.length > 0) this.wake(this.finished[0]!.at + windowMs - now);
        else if (!shared) this.wake(RETRY_REDIS_MS); // in case Redis comes back with room
        return; // otherwise one of ours finishing wakes us
      }
      const member = this.store.member();
      if (shared) {
        const backfill = this.unwritten || this.writtenEpoch !== this.store.epoch ? this.ownPlaces(now) : [];
        const epoch = this.store.epoch;
        let answer: [number, number, number];
        try {
          answer = await this.store.acquire(
            [this.spec.held, this.spec.paused, this.spec.users],
            [member, limit, this.spec.holdMs, windowMs, this.spec.instance, backfill.length / 2, ...backfill],
          );
        } catch (error) {
          this.store.failed(error);
          continue; // alone now
        }
        if (backfill.length > 0 || this.writtenEpoch !== epoch) {
          this.unwritten = false;
          this.writtenEpoch = epoch;
        }
        const [granted, waitMs, instances] = answer;
        this.instances = Math.max(1, instances);
        if (granted !== 1) {
          // A place held by a request in flight ends at least a window from now; a finished one when its score says.
          return this.wake(Math.min(Math.max(1, waitMs), windowMs));
        }
      } else {
        this.unwritten = true;
      }
      if (this.closedError || this.waiters.length === 0) {
        // Closed (or nobody left) while Redis answered: the place just taken ends on its own.
        if (shared) this.store.release(this.spec.held, member, windowMs);
        return;
      }
      this.grant(member, shared);
    }
  }

  private grant(member: string, shared: boolean): void {
    this.inFlight.set(member, shared);
    let released = false;
    this.waiters.shift()!.resolve(() => {
      if (released) return;
      released = true;
      this.inFlight.delete(member);
      this.finished.push({ at: Date.now(), member });
      if (shared) this.store.release(this.spec.held, member, this.spec.windowMs);
      this.pump();
    });
  }

  /** (member, age ms | -1 in flight) pairs of every place of ours still held. */
  private ownPlaces(now: number): (string | number)[] {
    const pairs: (string | number)[] = [];
    for (const member of this.inFlight.keys()) pairs.push(member, -1);
    for (const place of this.finished) pairs.push(place.member, now - place.at);
    return pairs;
  }

  private wake(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }
}

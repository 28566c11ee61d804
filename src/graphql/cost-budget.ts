import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { viewerKey, type Viewer } from '../api/viewer.js';
import type { Logger } from '../log.js';
import { ErrorCode } from '../api/errors.js';

/**
 * A budget of query cost points per token (`GRAPHQL_COST_PER_MINUTE`): a token bucket that holds
 * at most a minute's worth and refills continuously. Every operation is charged its estimated cost
 * (limits.ts) before it runs, over HTTP and at `subscribe` over WebSocket; an operation that does
 * not fit is refused (RATE_LIMITED, HTTP 429 with `Retry-After`) and costs nothing.
 */
export interface CostBudget {
  /** Points per minute, and the most a key can hold. */
  readonly perMinute: number;
  /**
   * Takes `cost` points from the budget of `key` (a token id, never a token). Resolves 0 when they
   * were taken, otherwise the ms until that many will be there (and nothing is taken).
   */
  charge(key: string, cost: number): Promise<number>;
  /** Closes what the budget holds open (a Redis connection). Idempotent. */
  close(): Promise<void>;
}

/** Refusals remembered per instance before the oldest are dropped. */
const REFUSALS_KEPT = 10_000;

/**
 * The budget as the GraphQL transports use it: per viewer, and with each refusal remembered until
 * its `Retry-After` has passed, so that a token hammering the API while over budget is answered 429
 * before its request is even parsed (parsing and validating a large query is work too).
 *
 * Each API token and each member (JWT) has its own budget. The bootstrap `ADMIN_TOKEN` is not budgeted: it is the operator's, not handed to
 * partners, and must work during an incident — when everything else may be over budget. Its
 * queries still obey the per-query limits.
 */
/** The key `viewer` is budgeted under (the token id as before, `member:…` for a member); undefined for ADMIN_TOKEN. */
function budgetKey(viewer: Viewer): string | undefined {
  return viewer.tokenId === null && viewer.role !== 'member' ? undefined : viewerKey(viewer);
}

export class ViewerBudget {
  /** Budget key (viewer.ts `viewerKey`) -> until when (epoch ms) its last refusal holds. */
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    private readonly budget: CostBudget,
    private readonly now: () => number = Date.now,
    /** Called for every refusal (RATE_LIMITED), for the metrics. */
    private readonly onRefused: () => void = () => undefined,
  ) {}

  /** The RATE_LIMITED error when `viewer` was refused and its `Retry-After` has not passed yet (no I/O); else undefined. */
  refused(viewer: Viewer): GraphQLError | undefined {
    const key = budgetKey(viewer);
    if (key === undefined) return undefined;
    const until = this.refusedUntil.get(key);
    if (until === undefined) return undefined;
    const waitMs = until - this.now();
    if (waitMs > 0) {
      this.onRefused();
      return rateLimited(waitMs);
    }
    this.refusedUntil.delete(key);
    return undefined;
  }

  /**
   * Charges `viewer` for an operation of `cost` points (at most a minute's worth: more could never
   * be granted); undefined when charged (or not budgeted), otherwise the RATE_LIMITED error to answer
   * with (HTTP 429, `Retry-After` in whole seconds, and `retryAfterSeconds` in its extensions for
   * WebSocket clients, which see no headers).
   */
  async charge(viewer: Viewer, cost: number): Promise<GraphQLError | undefined> {
    const key = budgetKey(viewer);
    if (key === undefined || cost <= 0) return undefined;
    const waitMs = await this.budget.charge(key, Math.min(cost, this.budget.perMinute));
    if (waitMs <= 0) return undefined;
    if (this.refusedUntil.size >= REFUSALS_KEPT) this.refusedUntil.clear();
    this.refusedUntil.set(key, this.now() + waitMs);
    this.onRefused();
    return rateLimited(waitMs, cost);
  }

  close(): Promise<void> {
    return this.budget.close();
  }
}

function rateLimited(waitMs: number, cost?: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const what = cost === undefined ? 'this token was refused moments ago' : `this operation costs ${cost} points`;
  return new GraphQLError(`this token's query budget is used up for now: ${what}; retry in ${seconds} s (or send cheaper queries)`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      ...(cost === undefined ? {} : { cost }),
      retryAfterSeconds: seconds,
      http: { status: 429, headers: new Map([['retry-after', String(seconds)]]) },
    },
  });
}

/** The budget of one key, as both implementations keep it. */
interface Bucket {
  points: number;
  /** When `points` was last brought up to date, epoch ms. */
  at: number;
}

/** Buckets kept in memory before full ones are dropped (a full bucket is the same as none). */
const SWEEP_AT = 10_000;

/** One instance's budgets, in memory: the budget without `REDIS_URL`, and the fallback while Redis is away. */
export class LocalCostBudget implements CostBudget {
  private readonly buckets = new Map<string, Bucket>();
  /** Points added per ms. */
  private readonly rate: number;

  constructor(
    /** Points per minute, and the most a bucket holds. */
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perMinute > 0)) throw new RangeError(`perMinute must be positive, got ${perMinute}`);
    this.rate = perMinute / 60_000;
  }

  async charge(key: string, cost: number): Promise<number> {
    return this.chargeNow(key, cost);
  }

  /** {@link charge}, synchronously. */
  chargeNow(key: string, cost: number): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { points: this.perMinute, at: now };
    bucket.points = Math.min(this.perMinute, bucket.points + Math.max(0, now - bucket.at) * this.rate);
    bucket.at = now;
    if (this.buckets.size >= SWEEP_AT && !this.buckets.has(key)) this.sweep(now);
    this.buckets.set(key, bucket);
    if (bucket.points >= cost) {
      bucket.points -= cost;
      return 0;
    }
    return Math.ceil((cost - bucket.points) / this.rate);
  }

  async close(): Promise<void> {}

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.points + (now - bucket.at) * this.rate >= this.perMinute) this.buckets.delete(key);
  }
}

/**
 * KEYS: the bucket (hash points, at). ARGV: points per minute, cost. Times are Redis's own clock
 * (`TIME`), so the instances' clocks need not agree. Returns 0 when charged, else the ms to wait.
 * The key expires once the bucket would be full again: an idle token leaves nothing behind.
 */
const CHARGE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate = capacity / 60000
local state = redis.call('HMGET', KEYS[1], 'points', 'at')
local points, at = tonumber(state[1]), tonumber(state[2])
if not points or not at then points = capacity; at = now end
points = math.min(capacity, points + math.max(0, now - at) * rate)
local wait = 0
if points >= cost then points = points - cost else wait = math.ceil((cost - points) / rate) end
redis.call('HSET', KEYS[1], 'points', tostring(points), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - points) / rate) + 1000)
return wait
`;

/** After a failed Redis command, the budget is kept per instance for at least this long before Redis is tried again. */
const RETRY_REDIS_MS = 1000;

export interface RedisCostBudgetOptions {
  /** `REDIS_URL` */
  readonly url: string;
  readonly perMinute: number;
  /**
   * Prefix of the keys, `<prefix>:{<token id>}`. Instances that share a database must share it, and
   * nothing else may (token ids are per database): main.ts derives it from `REDIS_CHANNEL`.
   */
  readonly keyPrefix: string;
  readonly logger: Logger;
  /** Per Redis command; slower answers count as "Redis unreachable". @default 500 */
  readonly commandTimeoutMs?: number;
}

/**
 * The budgets of every instance that shares a Redis: one bucket per token id, charged atomically by
 * a Lua script. While Redis does not answer (down, or slower than `commandTimeoutMs`), each instance
 * charges a bucket of its own ({@link LocalCostBudget}: a token can then spend the budget once per
 * instance), logs the change once, and tries Redis again after {@link RETRY_REDIS_MS}; a query is
 * never refused or failed because Redis is away.
 */
export class RedisCostBudget implements CostBudget {
  private readonly redis: Redis;
  private readonly local: LocalCostBudget;
  private readonly logger: Logger;
  readonly perMinute: number;
  private downUntil = 0;
  private down = false;
  private closed = false;

  constructor(private readonly options: RedisCostBudgetOptions) {
    this.logger = options.logger.child({ component: 'graphql-cost-budget' });
    this.perMinute = options.perMinute;
    this.local = new LocalCostBudget(options.perMinute);
    // No offline queue: a charge while disconnected fails at once and falls back to the local budget.
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectionName: 'gymgraph-graphql-cost',
    });
    this.redis.defineCommand('costCharge', { numberOfKeys: 1, lua: CHARGE });
    let lastError = '';
    this.redis.on('error', (error: Error) => {
      // Every reconnection attempt repeats it: logged once per distinct message.
      if (error.message !== lastError) this.logger.warn({ err: error }, 'redis connection error (GraphQL cost budget)');
      lastError = error.message;
    });
    this.redis.on('ready', () => (lastError = ''));
  }

  async charge(key: string, cost: number): Promise<number> {
    const { status } = this.redis;
    if (this.closed || status !== 'ready' || Date.now() < this.downUntil) {
      // Still connecting at startup is not an outage worth a warning; a lost connection is.
      if (!this.closed && status !== 'ready' && status !== 'connecting' && status !== 'connect')
        this.failed(new Error(`the Redis connection is ${status}`));
      return this.local.chargeNow(key, cost);
    }
    try {
      const answer: unknown = await (this.redis as unknown as { costCharge(...args: unknown[]): Promise<unknown> }).costCharge(
        `${this.options.keyPrefix}:{${key}}`,
        this.options.perMinute,
        cost,
      );
      const wait = Number(answer);
      if (!Number.isFinite(wait)) throw new Error(`unexpected answer from the cost script: ${JSON.stringify(answer)}`);
      if (this.down) {
        this.down = false;
        this.logger.info('GraphQL cost budget: Redis answers again; budgets are shared by all instances again');
      }
      return wait;
    } catch (error) {
      this.failed(error);
      return this.local.chargeNow(key, cost);
    }
  }

  private failed(error: unknown): void {
    this.downUntil = Date.now() + RETRY_REDIS_MS;
    if (this.down) return;
    this.down = true;
    this.logger.warn({ err: error }, 'GraphQL cost budget: Redis does not answer; each instance keeps the budgets alone until it is back');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.redis.status !== 'ready') return this.redis.disconnect();
    await this.redis.quit().then(
      () => undefined,
      () => this.redis.disconnect(),
    );
  }
}

import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The service's configuration. This module is the only reader of `process.env`: everything else
 * receives a validated {@link Config}.
 */
export interface Config {
  /** HTTP port for webhooks, GraphQL and health checks. `PORT`. @default 4000 */
  readonly port: number;
  /** Interface to listen on. `HOST`. @default "0.0.0.0" */
  readonly host: string;
  /**
   * Where records live. `DATABASE_URL`: unset means the embedded SQLite file
   * `data/gymgraph.sqlite`; `sqlite:<path>` a SQLite file elsewhere; `postgres://...` PostgreSQL.
   */
  readonly database: DatabaseConfig;
  /** How long the service waits for the database before it answers 503 instead (see {@link DatabaseTimeouts}). */
  readonly databaseTimeouts: DatabaseTimeouts;
  /** How GraphQL reads are run and bounded (src/db/sql-reader.ts). */
  readonly reads: ReadConfig;
  /**
   * `REDIS_URL`: pub/sub fan-out between instances, and the Open API rate limits they share.
   * Unset: in-process pub/sub, and limits per instance.
   */
  readonly redisUrl: string | undefined;
  /** How long a caller may take to send a request, and how many connections may be open. */
  readonly http: HttpConfig;
  /** Subscriptions over WebSocket (`/graphql`, protocol `graphql-transport-ws`). */
  readonly realtime: RealtimeConfig;
  /** GraphQL queries over HTTP and WebSocket. */
  readonly graphql: GraphQLConfig;
  /** Hydration of records from the upstream Open API (src/upstream/hydration/). */
  readonly hydration: HydrationConfig;
  /** `ADMIN_TOKEN`: bootstrap admin bearer token for the API. */
  readonly adminToken: string | undefined;
  /**
   * `NODE_ENV`. Only `development` (set explicitly) shows clients internal details: error messages
   * of the database driver and stack traces, over HTTP and WebSocket. Unset is `production`, so a
   * deployment that forgets it leaks nothing. @default "production"
   */
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** `LOG_LEVEL` (pino level). @default "info" ("silent" under test) */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `WEBHOOK_MAX_BODY_BYTES`: larger webhook bodies are refused with 413. @default 1048576 (1 MB) */
  readonly webhookMaxBodyBytes: number;
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for in-flight work before closing anyway. @default 10000 */
  readonly shutdownTimeoutMs: number;
  /**
   * `WEBHOOK_ACK_TIMEOUT_MS`: the longest a webhook waits for its commit, from its arrival, in ms.
   * Later it is answered 503 `database_unavailable` with `Retry-After` (the upstream sends it again;
   * if the commit still lands, the re-delivery is answered 200 with `duplicates`). Below the
   * upstream's 5 s budget for an answer. @default 4000
   */
  readonly webhookAckTimeoutMs: number;
  /** How this service calls the upstream Open API (hydration, reconciliation, activation). */
  readonly openApi: OpenApiConfig;
  /** Reconciliation against the Open API (src/reconcile/). */
  readonly reconcile: ReconcileConfig;
  /** `GET /metrics` for Prometheus (src/metrics/). */
  readonly metrics: MetricsConfig;
  /** Who counts as present in a studio (src/domains/customers/presence.ts). */
  readonly presence: PresenceConfig;
  /**
   * Member access through JWTs (src/domains/access/jwt-verifier.ts): on when `JWT_JWKS_URL`,
   * `JWT_PUBLIC_KEY` or `JWT_SECRET` is set; then `JWT_ISSUER` and `JWT_AUDIENCE` are required.
   * @default undefined (off: only API tokens are accepted)
   */
  readonly jwt: JwtConfig | undefined;
}

/** How member JWTs are verified. A JWT only ever stands for one member (role `member`). */
export interface JwtConfig {
  /**
   * `JWT_JWKS_URL`: where the identity provider publishes its public keys (RS256/ES256), fetched
   * when first needed and again when a token names an unknown `kid` (key rotation), at most once per
   * `jwksCooldownMs`. `https:` (plain `http:` only on loopback). Not together with `JWT_PUBLIC_KEY`.
   */
  readonly jwksUrl: string | undefined;
  /** `JWT_PUBLIC_KEY`: one PEM public key (RSA for RS256, EC P-256 for ES256); `\n` may stand for line breaks. */
  readonly publicKey: string | undefined;
  /** `JWT_SECRET`: an HS256 shared secret (at least 32 characters); HS256 tokens are refused without it. */
  readonly secret: string | undefined;
  /** `JWT_ISSUER`: the `iss` every token must carry. Required with JWTs. */
  readonly issuer: string;
  /** `JWT_AUDIENCE`: an `aud` every token must carry (this API, as the provider names it). Required with JWTs. */
  readonly audience: string;
  /** `JWT_CLOCK_SKEW_S`: tolerance for `exp` and `nbf`, in seconds. @default 30 */
  readonly clockSkewS: number;
  /** `JWT_JWKS_COOLDOWN_MS`: the least time between two fetches of the JWKS. @default 30000 */
  readonly jwksCooldownMs: number;
  /**
   * Where the scope is in the claims: `JWT_CLAIM_ROLE` (@default "role"), `JWT_CLAIM_STUDIO_IDS`
   * (@default "studioIds"), `JWT_CLAIM_CUSTOMER_ID` (@default "customerId"). A name may be a path
   * through nested objects, e.g. `https://example.com/claims.role`.
   */
  readonly claims: { readonly role: string; readonly studioIds: string; readonly customerId: string };
}

export interface PresenceConfig {
  /**
   * `OCCUPANCY_MAX_STAY`: how long after a check-in that no check-out closed the customer still
   * counts as present (`occupancy`, `occupancyChanged`, `Customer.checkedIn`, the dashboard): a
   * duration (`90m`, `12h`, `1d`; from 1m to 366d), or `off` (null: an open check-in counts forever).
   * The visit itself stays open; only presence ends. 12 hours covers any real training day (a long
   * session, sauna, a double class) and clears a never-closed check-in before the next morning.
   * @default 43200000 (12 hours)
   */
  readonly maxStayMs: number | null;
}

export interface MetricsConfig {
  /**
   * `METRICS_ENABLED`: `true` or `false`. Off, there is no `/metrics` route (404) and nothing is
   * counted or timed anywhere. @default true
   */
  readonly enabled: boolean;
  /**
   * `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <token>` (else 401);
   * unset, it is open to whoever reaches the port. At least 16 characters, no whitespace.
   * @default unset
   */
  readonly token: string | undefined;
}

export interface ReadConfig {
  /**
   * `DATABASE_READ_TIMEOUT_MS`: a GraphQL read (query, subscription load, resume page) running longer
   * is stopped and the operation fails with QUERY_TIMEOUT. PostgreSQL: `statement_timeout` of the
   * read pool; SQLite: the read's worker thread is replaced. 0: no limit. The bench's slowest reads
   * take well under a second; 5 s stops a runaway query long before clients and proxies give up
   * (typically 30-60 s). @default 5000 (ms)
   */
  readonly timeoutMs: number;
  /**
   * `SQLITE_READ_WORKERS`: worker threads that run GraphQL reads on SQLite, each with its own
   * read-only connection, so that no read holds the event loop that acknowledges webhooks. Two: one
   * expensive read leaves another worker to the rest, and more threads than the cores of a small
   * machine only compete with the main thread. 0: reads on the main thread as before (no timeout;
   * for debugging). @default 2
   */
  readonly sqliteWorkers: number;
  /**
   * `DATABASE_READ_MAX_SCANS`: GraphQL scans (the GROUP BY and COUNT statements of statistics,
   * `occupancy` and `totalCount`) running at once, across every token; the others wait their turn,
   * at most `DATABASE_READ_TIMEOUT_MS` (then QUERY_TIMEOUT). A scan keeps a core busy while it runs
   * (SQLite worker or PostgreSQL backend): this leaves the other cores to the webhook path. Page
   * and child reads are not queued. @default half the cores (`os.availableParallelism()`), at least 1
   */
  readonly maxConcurrentScans: number;
}

export interface ReconcileConfig {
  /**
   * `RECONCILE_EVERY`: run reconciliation of every active studio with an Open API key this often
   * inside the server (`30m`, `6h`, `1d`; at least 1 minute). Unset: never (use `npm run reconcile`).
   * On PostgreSQL one instance at a time runs it (advisory lock). @default unset
   */
  readonly everyMs: number | undefined;
  /**
   * `RECONCILE_LOOKBACK`: how far back check-ins are compared (`7d`, `48h`), for the scheduled run
   * and as the CLI's default `--since`. @default "7d"
   */
  readonly lookbackMs: number;
}

/** Settings of the Open API clients (src/upstream/open-api.client.ts). */
export interface OpenApiConfig {
  /**
   * `OPEN_API_REQUESTS_PER_MINUTE`: requests per endpoint per minute per studio key. With
   * `REDIS_URL` for all instances (and reconciliation runs) on that Redis together; without it for
   * this instance alone, so instances sharing a database without Redis must not all hydrate (or must
   * divide this by their number). The upstream allows 1000 and answers 429 beyond; the margin leaves
   * room for other users of the key. @default 900
   */
  readonly requestsPerMinute: number;
  /** `OPEN_API_TIMEOUT_MS`: per attempt, from connect to the last byte. @default 10000 */
  readonly timeoutMs: number;
  /** `OPEN_API_MAX_ATTEMPTS`: attempts for 5xx answers, network errors and timeouts (1 = no retry). @default 5 */
  readonly maxAttempts: number;
}

/**
 * Bounds on what one HTTP caller may hold (src/http/server.ts): a request — headers and body —
 * arrives within a bounded time or the connection is dropped, and the connections open at once are
 * capped, making room for new callers by closing those that have waited longest without completing
 * a request (src/http/connection-cap.ts), so slow or silent clients cannot starve `/healthz` or
 * webhooks.
 */
export interface HttpConfig {
  /**
   * `HTTP_HEADERS_TIMEOUT_MS`: a request's headers must have arrived this long after its first
   * byte (or, on a new connection, after it opened); else 408 and the connection is closed. At most
   * `HTTP_REQUEST_TIMEOUT_MS`. @default 10000
   */
  readonly headersTimeoutMs: number;
  /**
   * `HTTP_REQUEST_TIMEOUT_MS`: the whole request, headers and body, must have arrived within this
   * time; else 408 and the connection is closed. This is what bounds a body trickled a byte at a
   * time (the least average rate is the body's size over this time: 1 MB in 30 s is 35 KB/s). The
   * time taken to answer does not count. @default 30000
   */
  readonly requestTimeoutMs: number;
  /**
   * `HTTP_KEEP_ALIVE_TIMEOUT_MS`: how long a connection may stay open idle between requests.
   * Above the 60 s idle timeout of common load balancers, so that they, not we, close idle
   * connections (no request lost on a connection closed under it). @default 65000
   */
  readonly keepAliveTimeoutMs: number;
  /**
   * `HTTP_MAX_CONNECTIONS`: open TCP connections, WebSockets included. A new connection over the
   * cap closes the one that has waited longest without completing a request (idle, or still
   * sending headers or body); live WebSockets and requests being answered are never closed for
   * it. @default 16384, or 80% of the process's open-file limit when that is lower
   */
  readonly maxConnections: number;
}

/**
 * Who may call `/graphql` from a page of another origin (`CORS_ORIGINS`): exact origins
 * (`https://app.example.com`, `http://localhost:5173`), or `'*'` for any. Empty: none.
 */
export type CorsOrigins = readonly string[] | '*';

/** Settings of GraphQL over HTTP and WebSocket. */
export interface GraphQLConfig {
  /**
   * `GRAPHQL_COST_PER_MINUTE`: query cost points (src/api/limits.ts) each token may spend per
   * minute, over HTTP and WebSocket together; at most a minute's worth at once, refilled
   * continuously. Over it: HTTP 429 RATE_LIMITED with `Retry-After`. With `REDIS_URL` one budget for
   * all instances, otherwise per instance. `0` turns the budget off. Not charged: the bootstrap
   * `ADMIN_TOKEN`. At least the per-query limit (10000), or the largest queries could never run.
   * @default 200000 (points per minute)
   */
  readonly costPerMinute: number;
  /**
   * The answer cache of report queries over HTTP (src/graphql/answer-cache.ts). `maxAgeMs`
   * (`GRAPHQL_ANSWER_CACHE_MS`): longest time an answer is served from it, which bounds staleness
   * after writes this instance cannot learn of (CLIs, another instance's write before its
   * announcement arrives); writes it does learn of end an answer at once. `0` turns it off.
   * `maxEntries` (`GRAPHQL_ANSWER_CACHE_ENTRIES`), `maxBytes` (`GRAPHQL_ANSWER_CACHE_BYTES`): its
   * bounds, least recently used answers going first.
   * @default 1000 ms, 1000 answers, 64 MiB
   */
  readonly answerCache: { readonly maxAgeMs: number; readonly maxEntries: number; readonly maxBytes: number };
  /**
   * `CORS_ORIGINS`: the origins of pages allowed to call `/graphql` from a browser, comma-separated,
   * each exactly as browsers send `Origin` (`https://app.example.com`, `http://localhost:5173`); the
   * same list admits their WebSockets (other origins: 403). `*`: any origin (warned about at start
   * in production). The service's own pages and clients that are not browsers need no entry.
   * @default [] (no cross-origin access)
   */
  readonly corsOrigins: CorsOrigins;
}

/** Settings of the subscription server and of the fan-out of committed events. */
export interface RealtimeConfig {
  /**
   * `REDIS_CHANNEL`: the Redis pub/sub channel committed events cross between instances (only with
   * `REDIS_URL`). Instances that share a database must share the channel; anything else must not.
   * @default "gymgraph:events"
   */
  readonly redisChannel: string;
  /**
   * `REALTIME_BACKSTOP_MS` (only with `REDIS_URL`): how often each instance reads the event log after
   * the last event it delivered, so that an event whose Redis announcement was lost (a failed
   * `PUBLISH`, a dropped subscription) reaches its subscribers at most this much later. Idle, it costs
   * one indexed query per interval. @default 1000 (ms)
   */
  readonly backstopMs: number;
  /**
   * `SUBSCRIPTION_MAX_QUEUE`: events one subscription may have waiting for its client. A client
   * that falls further behind is closed with 4008 ("slow consumer"). @default 1000
   */
  readonly maxQueuedEvents: number;
  /**
   * `SUBSCRIPTION_MAX_BUFFERED_BYTES`: bytes a connection may have waiting in its socket's send
   * buffer when a new event arrives; more closes it with 4008 too. @default 1048576 (1 MB)
   */
  readonly maxBufferedBytes: number;
  /**
   * `WS_TOKEN_RECHECK_MS`: how often the tokens of open WebSocket connections are checked again
   * (one query for all); the connections of a revoked or rotated token are closed with 4403, and an
   * expiring credential (an API token's expiry, a member JWT's `exp`) is closed at its expiry by a timer. @default 5000
   */
  readonly tokenRecheckMs: number;
  /**
   * `WS_KEEP_ALIVE_MS`: every open WebSocket is pinged once per interval; one that has not answered
   * is dropped one to two intervals after the ping. Each ping is a write of its own: at 10,000 idle
   * sockets, 12 s cost ~35 ms of CPU a second (bench/README.md, "Member apps"); 30 s still keeps a
   * socket open through a balancer's idle timeout of a minute. @default 30000
   */
  readonly keepAliveMs: number;
  /**
   * `WS_CONNECTION_INIT_TIMEOUT_MS`: how long a new WebSocket may wait before sending
   * `connection_init`; later, it is closed with 4408. @default 3000
   */
  readonly connectionInitTimeoutMs: number;
  /**
   * `WS_MAX_SUBSCRIPTIONS_PER_SOCKET`: operations (subscriptions, and queries while they run) one
   * WebSocket may have at once. A `subscribe` over it is answered with an `error` message, code
   * `TOO_MANY_SUBSCRIPTIONS`; the socket and its other subscriptions go on. @default 100
   */
  readonly maxSubscriptionsPerSocket: number;
  /**
   * `WS_MAX_SOCKETS_PER_TOKEN`: WebSockets one token may have open on this instance. One more is
   * closed at `connection_init` with 4013 (try again later, or at another instance). @default 500
   */
  readonly maxSocketsPerToken: number;
  /**
   * `WS_REPLAY_EVENTS_PER_SECOND`: events (and log page reads) all replays of this instance
   * (subscriptions resumed with `after`) may deliver a second, together; 0 for no limit. Bounds
   * what a reconnect storm costs the machine (socket writes, the database's page reads), on top of
   * the pacer's share of each turn of the event loop (src/realtime/replay-pacer.ts); a storm then
   * takes longer to catch up. @default 50000
   */
  readonly replayEventsPerSecond: number;
}

/**
 * Hydration: after an event is stored, a durable job reads the current state of what it names
 * from the studio's Open API and fills the record (src/upstream/hydration/hydration.ts).
 */
export interface HydrationConfig {
  /**
   * `HYDRATION_ENABLED`: `true` or `false`. Off, no jobs are queued or run on this instance (the
   * scanner's cursor stays where it is, so turning it on again catches up). @default true
   */
  readonly enabled: boolean;
  /** `HYDRATION_CONCURRENCY`: jobs one instance runs at the same time. @default 8 */
  readonly concurrency: number;
  /** `HYDRATION_MAX_ATTEMPTS`: failed attempts in a row after which a job is parked. @default 8 */
  readonly maxAttempts: number;
  /**
   * `HYDRATION_RETRY_BASE_MS`: backoff after the first failure; each further failure doubles it (up to
   * `HYDRATION_RETRY_MAX_MS`), and the wait is drawn between half and all of it (jitter). @default 2000
   */
  readonly retryBaseMs: number;
  /** `HYDRATION_RETRY_MAX_MS`: the longest backoff. @default 300000 (5 minutes) */
  readonly retryMaxMs: number;
  /**
   * `HYDRATION_DELAY_MS`: how long after the first event a new job waits before it runs, so that a
   * burst of events about one record (five CUSTOMER_UPDATED in a second) costs one read. @default 1000
   */
  readonly delayMs: number;
  /** `HYDRATION_POLL_MS`: how often an idle instance looks for new events and due jobs. @default 500 */
  readonly pollMs: number;
  /**
   * `HYDRATION_LEASE_MS`: how long a claimed job belongs to its instance; renewed while it runs, so
   * it only matters when an instance dies — its jobs run elsewhere once the lease ran out. @default 60000
   */
  readonly leaseMs: number;
}

/**
 * Bounds on waiting for the database, so that an outage is answered (503) instead of hanging.
 * Defaults fit the upstream's 5 s webhook budget: connect (2 s) or lock (2 s) plus a statement
 * stays within `WEBHOOK_ACK_TIMEOUT_MS` (4 s), which answers 503 whatever happens.
 */
export interface DatabaseTimeouts {
  /**
   * `DATABASE_CONNECT_TIMEOUT_MS`: opening a PostgreSQL connection, or waiting for a free one in a
   * pool, in ms (every pool: the ingest writer's, hydration's, TypeORM's). @default 2000
   */
  readonly connectMs: number;
  /**
   * `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL `statement_timeout` of the write connections (ingest,
   * hydration queue), in ms. The same time plus 1 s bounds each of their statements on the client
   * side, for a server or network that stopped answering (where `statement_timeout` cannot fire).
   * Reads have their own setting. @default 3000
   */
  readonly statementMs: number;
  /**
   * `DATABASE_LOCK_TIMEOUT_MS`: PostgreSQL `lock_timeout` of the write connections (rows, tables and
   * the ingest advisory lock), and on SQLite how long a write waits for the file's write lock held
   * by another process (e.g. a command-line tool), in ms. @default 2000
   */
  readonly lockMs: number;
}

/** The defaults of {@link DatabaseTimeouts}. */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectMs: 2000, statementMs: 3000, lockMs: 2000 };

export type DatabaseConfig = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

/** The default embedded database file, relative to the working directory. */
export const DEFAULT_SQLITE_FILE = path.join('data', 'gymgraph.sqlite');

/** What the configuration's defaults depend on besides the environment. */
export interface HostLimits {
  /** The process's open-file limit (each connection is one); undefined where it cannot be read. */
  readonly openFileLimit: number | undefined;
}

/** The largest default `HTTP_MAX_CONNECTIONS`: ten thousand subscribers and room besides. */
const MAX_CONNECTIONS_DEFAULT = 16_384;

/**
 * The default `HTTP_MAX_CONNECTIONS`: 80% of the open-file limit when that is lower than 16384,
 * leaving the rest for the database pool, Redis, Open API calls and files, so that a flood of
 * connections meets the cap before the process runs out of file descriptors.
 */
export function defaultMaxConnections(limits: HostLimits): number {
  const { openFileLimit } = limits;
  if (openFileLimit === undefined) return MAX_CONNECTIONS_DEFAULT;
  return Math.max(16, Math.min(MAX_CONNECTIONS_DEFAULT, Math.floor(openFileLimit * 0.8)));
}

/** The soft open-file limit of this process (Linux: /proc/self/limits; elsewhere undefined). */
export function hostLimits(): HostLimits {
  try {
    const soft = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const value = soft === undefined || soft === 'unlimited' ? NaN : Number(soft);
    return { openFileLimit: Number.isSafeInteger(value) && value > 0 ? value : undefined };
  } catch {
    return { openFileLimit: undefined };
  }
}

/** Reads and validates the configuration; throws {@link ConfigError} listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, host: HostLimits = hostLimits()): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`);
    return fallback;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    return fallback;
  };

  const nodeEnv = oneOf('NODE_ENV', NODE_ENVS, 'production');
  const config: Config = {
    port: int('PORT', 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    database: parseDatabaseUrl(env.DATABASE_URL, problems),
    databaseTimeouts: parseDatabaseTimeouts(env, problems),
    reads: {
      timeoutMs: int('DATABASE_READ_TIMEOUT_MS', 5000, 0, 3_600_000),
      sqliteWorkers: int('SQLITE_READ_WORKERS', 2, 0, 64),
      maxConcurrentScans: int('DATABASE_READ_MAX_SCANS', defaultMaxScans(), 1, 1024),
    },
    redisUrl: parseRedisUrl(env.REDIS_URL, problems),
    http: {
      headersTimeoutMs: int('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
      keepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 100, 3_600_000),
      maxConnections: int('HTTP_MAX_CONNECTIONS', defaultMaxConnections(host), 16, 1_000_000),
    },
    realtime: {
      redisChannel: parseRedisChannel(env.REDIS_CHANNEL, problems),
      backstopMs: int('REALTIME_BACKSTOP_MS', 1000, 50, 60_000),
      maxQueuedEvents: int('SUBSCRIPTION_MAX_QUEUE', 1000, 1, 1_000_000),
      maxBufferedBytes: int('SUBSCRIPTION_MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      tokenRecheckMs: int('WS_TOKEN_RECHECK_MS', 5000, 50, 3_600_000),
      keepAliveMs: int('WS_KEEP_ALIVE_MS', 30_000, 100, 600_000),
      connectionInitTimeoutMs: int('WS_CONNECTION_INIT_TIMEOUT_MS', 3000, 50, 600_000),
      maxSubscriptionsPerSocket: int('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1, 100_000),
      maxSocketsPerToken: int('WS_MAX_SOCKETS_PER_TOKEN', 500, 1, 1_000_000),
      replayEventsPerSecond: int('WS_REPLAY_EVENTS_PER_SECOND', 50_000, 0, 1_000_000_000),
    },
    graphql: {
      costPerMinute: costPerMinute(int('GRAPHQL_COST_PER_MINUTE', DEFAULT_COST_PER_MINUTE, 0, 1_000_000_000), problems),
      answerCache: {
        maxAgeMs: int('GRAPHQL_ANSWER_CACHE_MS', 1000, 0, 3_600_000),
        maxEntries: int('GRAPHQL_ANSWER_CACHE_ENTRIES', 1000, 1, 1_000_000),
        maxBytes: int('GRAPHQL_ANSWER_CACHE_BYTES', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024),
      },
      corsOrigins: corsOrigins(env.CORS_ORIGINS, problems),
    },
    hydration: {
      enabled: bool('HYDRATION_ENABLED', true),
      concurrency: int('HYDRATION_CONCURRENCY', 8, 1, 256),
      maxAttempts: int('HYDRATION_MAX_ATTEMPTS', 8, 1, 100),
      retryBaseMs: int('HYDRATION_RETRY_BASE_MS', 2000, 1, 3_600_000),
      retryMaxMs: int('HYDRATION_RETRY_MAX_MS', 300_000, 1, 86_400_000),
      delayMs: int('HYDRATION_DELAY_MS', 1000, 0, 3_600_000),
      pollMs: int('HYDRATION_POLL_MS', 500, 10, 60_000),
      leaseMs: int('HYDRATION_LEASE_MS', 60_000, 1000, 3_600_000),
    },
    adminToken: parseAdminToken(env.ADMIN_TOKEN, problems),
    nodeEnv,
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    webhookMaxBodyBytes: int('WEBHOOK_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    webhookAckTimeoutMs: int('WEBHOOK_ACK_TIMEOUT_MS', 4000, 100, 600_000),
    openApi: loadOpenApiConfig(env, problems),
    reconcile: {
      everyMs: parseDuration('RECONCILE_EVERY', env.RECONCILE_EVERY, undefined, problems),
      lookbackMs: parseDuration('RECONCILE_LOOKBACK', env.RECONCILE_LOOKBACK, 7 * DAY_MS, problems)!,
    },
    metrics: {
      enabled: bool('METRICS_ENABLED', true),
      token: parseMetricsToken(env.METRICS_TOKEN, problems),
    },
    presence: loadPresenceConfig(env, problems),
    jwt: parseJwtConfig(env, problems, int),
  };
  if (config.hydration.retryMaxMs < config.hydration.retryBaseMs) {
    problems.push(
      `HYDRATION_RETRY_MAX_MS (${config.hydration.retryMaxMs}) must not be below HYDRATION_RETRY_BASE_MS (${config.hydration.retryBaseMs})`,
    );
  }
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    // node:http refuses it too: the headers are part of the request.
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS (${config.http.headersTimeoutMs}) must not be above HTTP_REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The Open API client settings (also read on their own by the command-line tools). */
export function loadOpenApiConfig(env: NodeJS.ProcessEnv = process.env, problems?: string[]): OpenApiConfig {
  const own: string[] = [];
  const list = problems ?? own;
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      list.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const config: OpenApiConfig = {
    requestsPerMinute: int('OPEN_API_REQUESTS_PER_MINUTE', 900, 1, 1000),
    timeoutMs: int('OPEN_API_TIMEOUT_MS', 10_000, 100, 300_000),
    maxAttempts: int('OPEN_API_MAX_ATTEMPTS', 5, 1, 20),
  };
  if (own.length > 0) throw new ConfigError(own);
  return config;
}

const DAY_MS = 86_400_000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** `OCCUPANCY_MAX_STAY` when unset: 12 hours (see {@link PresenceConfig.maxStayMs}). */
export const DEFAULT_OCCUPANCY_MAX_STAY_MS = 12 * 3_600_000;

/** `30m`, `6h`, `1d` -> ms; at least a minute, at most a year. `alternative`: what else the variable takes, for the message. */
export function parseDuration<T extends number | undefined>(
  name: string,
  raw: string | undefined,
  fallback: T,
  problems: string[],
  alternative?: string,
): number | T {
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d{1,6})(m|h|d)$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!(ms >= 60_000 && ms <= 366 * DAY_MS)) {
    problems.push(
      `${name} must be a duration such as 30m, 6h or 7d (from 1m to 366d)${alternative ? ` ${alternative}` : ''}, got ${JSON.stringify(raw)}`,
    );
    return fallback;
  }
  return ms;
}

/** The presence settings (also read on their own by the command-line tools). */
export function loadPresenceConfig(env: NodeJS.ProcessEnv = process.env, problems?: string[]): PresenceConfig {
  const own: string[] = [];
  const raw = env.OCCUPANCY_MAX_STAY?.trim();
  const maxStayMs =
    raw === 'off' ? null : parseDuration('OCCUPANCY_MAX_STAY', raw, DEFAULT_OCCUPANCY_MAX_STAY_MS, problems ?? own, 'or off');
  if (own.length > 0) throw new ConfigError(own);
  return { maxStayMs };
}

/** Only the database part, for tools (CLI, migrations) that need nothing else. */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const problems: string[] = [];
  const database = parseDatabaseUrl(env.DATABASE_URL, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return database;
}

/** Only the database timeouts, for tools (CLI) that need nothing else. */
export function loadDatabaseTimeouts(env: NodeJS.ProcessEnv = process.env): DatabaseTimeouts {
  const problems: string[] = [];
  const timeouts = parseDatabaseTimeouts(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return timeouts;
}

function parseDatabaseTimeouts(env: NodeJS.ProcessEnv, problems: string[]): DatabaseTimeouts {
  const int = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 100 || value > 600_000) {
      problems.push(`${name} must be an integer from 100 to 600000 (ms), got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  return {
    connectMs: int('DATABASE_CONNECT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.connectMs),
    statementMs: int('DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.statementMs),
    lockMs: int('DATABASE_LOCK_TIMEOUT_MS', DEFAULT_DATABASE_TIMEOUTS.lockMs),
  };
}

function parseDatabaseUrl(raw: string | undefined, problems: string[]): DatabaseConfig {
  if (raw === undefined || raw === '') return { kind: 'sqlite', file: DEFAULT_SQLITE_FILE };
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') problems.push('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:data/gymgraph.sqlite');
    return { kind: 'sqlite', file };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      problems.push('DATABASE_URL is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  problems.push(`DATABASE_URL must start with postgres://, postgresql:// or sqlite:, got ${JSON.stringify(raw.split(':')[0] + ':...')}`);
  return { kind: 'sqlite', file: DEFAULT_SQLITE_FILE };
}

function parseRedisUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^rediss?:\/\//.test(raw)) problems.push('REDIS_URL must start with redis:// or rediss://');
  return raw;
}

/** `DATABASE_READ_MAX_SCANS` when unset: half the cores this process may use, at least 1. */
export function defaultMaxScans(cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

/** `GRAPHQL_COST_PER_MINUTE` when unset. */
export const DEFAULT_COST_PER_MINUTE = 200_000;
/** The smallest budget that is not 0 (off): the per-query cost limit (limits.ts `DEFAULT_MAX_COST`). */
const MIN_COST_PER_MINUTE = 10_000;

function costPerMinute(value: number, problems: string[]): number {
  if (value !== 0 && value < MIN_COST_PER_MINUTE) {
    problems.push(`GRAPHQL_COST_PER_MINUTE must be 0 (off) or at least ${MIN_COST_PER_MINUTE} (the per-query cost limit), got ${value}`);
    return DEFAULT_COST_PER_MINUTE;
  }
  return value;
}

/** The default Redis channel of committed events. */
export const DEFAULT_REDIS_CHANNEL = 'gymgraph:events';

/**
 * `CORS_ORIGINS`: a comma-separated list of origins, each exactly as a browser sends it in `Origin`
 * (`scheme://host[:port]`, http or https, lowercase, no default port, no path), or `*` alone.
 */
function corsOrigins(raw: string | undefined, problems: string[]): CorsOrigins {
  if (raw === undefined || raw.trim() === '') return [];
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.includes('*')) {
    if (entries.length === 1) return '*';
    problems.push(`CORS_ORIGINS must be "*" alone (every origin) or a list of origins, got ${JSON.stringify(raw)}`);
    return [];
  }
  const found = entries.map((entry) => [entry, originProblem(entry)] as const).filter(([, problem]) => problem !== undefined);
  for (const [entry, problem] of found) problems.push(`CORS_ORIGINS entry ${JSON.stringify(entry)} ${problem}`);
  return found.length > 0 ? [] : [...new Set(entries)];
}

function originProblem(entry: string): string | undefined {
  if (entry === '') return 'is empty (a stray comma?)';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not an origin: expected scheme://host[:port], e.g. https://app.example.com';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http or https origin';
  if (url.origin !== entry) {
    return `is not an origin as browsers send it: expected ${JSON.stringify(url.origin)} (no path, no trailing slash, lowercase host, no default port)`;
  }
  return undefined;
}

function parseRedisChannel(raw: string | undefined, problems: string[]): string {
  if (raw === undefined || raw === '') return DEFAULT_REDIS_CHANNEL;
  // Glob characters would matter to PSUBSCRIBE users sharing the Redis; whitespace is a typo.
  if (raw.length > 200 || !/^[\x21-\x7e]+$/.test(raw) || /[*?[\]]/.test(raw)) {
    problems.push(
      `REDIS_CHANNEL must be 1 to 200 printable ASCII characters without spaces or * ? [ ], got ${JSON.stringify(raw.slice(0, 50))}`,
    );
    return DEFAULT_REDIS_CHANNEL;
  }
  return raw;
}

function parseMetricsToken(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || /\s/.test(raw)) problems.push('METRICS_TOKEN must be at least 16 characters long, without whitespace');
  return raw;
}

function parseAdminToken(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16) problems.push('ADMIN_TOKEN must be at least 16 characters long');
  return raw;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function parseJwtConfig(
  env: NodeJS.ProcessEnv,
  problems: string[],
  int: (name: string, fallback: number, min: number, max: number) => number,
): JwtConfig | undefined {
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const jwksUrl = set('JWT_JWKS_URL');
  const publicKey = set('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const secret = set('JWT_SECRET');
  const clockSkewS = int('JWT_CLOCK_SKEW_S', 30, 0, 300);
  const jwksCooldownMs = int('JWT_JWKS_COOLDOWN_MS', 30_000, 100, 3_600_000);
  if (jwksUrl === undefined && publicKey === undefined && secret === undefined) {
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE']) {
      if (set(name) !== undefined) problems.push(`${name} is set but JWTs are off: set JWT_JWKS_URL, JWT_PUBLIC_KEY or JWT_SECRET too`);
    }
    return undefined;
  }
  if (jwksUrl !== undefined && publicKey !== undefined) problems.push('JWT_JWKS_URL and JWT_PUBLIC_KEY are exclusive: set one of them');
  if (jwksUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(jwksUrl);
    } catch {
      problems.push(`JWT_JWKS_URL must be a URL, got ${JSON.stringify(jwksUrl)}`);
    }
    if (url && url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      problems.push(`JWT_JWKS_URL must be https: (plain http: only on loopback), got ${JSON.stringify(url.protocol)}`);
    }
  }
  if (publicKey !== undefined) {
    try {
      const key = createPublicKey(publicKey);
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (key.asymmetricKeyType !== 'rsa' && !(key.asymmetricKeyType === 'ec' && curve === 'prime256v1')) {
        problems.push(
          `JWT_PUBLIC_KEY must be an RSA (RS256) or EC P-256 (ES256) public key, got ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''}`,
        );
      }
    } catch (error) {
      problems.push(`JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----): ${(error as Error).message}`);
    }
  }
  if (secret !== undefined && secret.length < 32)
    problems.push('JWT_SECRET must be at least 32 characters long (HS256 needs a 256-bit secret)');
  const issuer = set('JWT_ISSUER');
  const audience = set('JWT_AUDIENCE');
  if (issuer === undefined) problems.push('JWT_ISSUER is required with JWTs: the iss your identity provider puts in member tokens');
  if (audience === undefined)
    problems.push('JWT_AUDIENCE is required with JWTs: the aud your identity provider puts in member tokens for this API');
  const claim = (name: string, fallback: string) => {
    const value = set(name) ?? fallback;
    if (/\s/.test(value) || value.startsWith('.') || value.endsWith('.'))
      problems.push(`${name} must be a claim name or a dotted path without spaces, got ${JSON.stringify(value)}`);
    return value;
  };
  return {
    jwksUrl,
    publicKey,
    secret,
    issuer: issuer ?? '',
    audience: audience ?? '',
    clockSkewS,
    jwksCooldownMs,
    claims: {
      role: claim('JWT_CLAIM_ROLE', 'role'),
      studioIds: claim('JWT_CLAIM_STUDIO_IDS', 'studioIds'),
      customerId: claim('JWT_CLAIM_CUSTOMER_ID', 'customerId'),
    },
  };
}

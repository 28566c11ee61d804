import 'reflect-metadata';
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from './config.js';
import { usePresenceRule } from './domains/customers/presence.js';
import { openDatabase } from '../ormconfig.js';
import { pingDataSource } from './db/database.js';
import { SqlReader } from './db/sql-reader.js';
import { openSqlWriter, type SqlWriter } from './db/sql-writer.js';
import { CredentialRefused, JwtVerifier, looksLikeJwt } from './domains/access/jwt-verifier.js';
import { TokenService } from './domains/access/token.service.js';
import type { Viewer } from './api/viewer.js';
import { LocalCostBudget, RedisCostBudget, ViewerBudget } from './graphql/cost-budget.js';
import { AnswerCache, DataGeneration } from './graphql/answer-cache.js';
import { createGraphQLHandler } from './graphql/http.js';
import { ideAssets } from './graphql/ide.js';
import { buildGraphQLSchema } from './graphql/schema.js';
import { createSubscriptionServer, type SubscriptionServer } from './graphql/ws.js';
import { createGraphQLCors } from './http/cors.js';
import { createHttpServer } from './http/server.js';
import { StaticFiles } from './http/static-files.js';
import { dashboardFiles } from './dashboard/dashboard.assets.js';
import { Ingestor } from './ingest/ingestor.js';
import { StudioKeys } from './ingest/studio-keys.js';
import { createWebhookHandler } from './ingest/webhook.handler.js';
import { DisposerStack } from './disposers.js';
import { createLogger, masked, RepeatedLog, type Logger } from './log.js';
import { InProcessFeed } from './realtime/in-process-feed.js';
import type { EventFeed } from './realtime/feed.js';
import { EventLog } from './realtime/log-reader.js';
import { openRedisEventFeed } from './realtime/redis-feed.js';
import { replayPacer } from './realtime/replay-pacer.js';
import { SharedLoads } from './realtime/shared-loads.js';
import { recordPreload } from './realtime/record-preload.js';
import { startReconcileScheduler, type ReconcileScheduler } from './reconcile/reconcile.scheduler.js';
import { RECONCILE_KINDS, Reconciler } from './reconcile/reconciler.js';
import { openApiClientFor } from './upstream/open-api.client.js';
import { RateLimiters, type RateLimiterRegistry } from './upstream/rate-limiter.js';
import { RedisRateLimiters } from './upstream/redis-rate-limiter.js';
import { Hydration } from './upstream/hydration/hydration.js';
import { HYDRATION_CURSOR } from './upstream/hydration/hydration-scanner.js';
import { ErrorCode } from './api/errors.js';
import { KNOWN_EVENT_TYPES } from './events/event-catalog.js';
import { createMetricsHandler } from './metrics/metrics.handler.js';
import { Metrics, type DatabaseSnapshot } from './metrics/metrics.js';
import { TABLES } from './db/tables.js';

/** A running service. */
export interface App {
  readonly config: Config;
  readonly server: Server;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly dataSource: DataSource;
  /** Where committed events go out: in-process, or through Redis with `REDIS_URL`. */
  readonly bus: EventFeed;
  /** GraphQL over WebSocket on `/graphql`. */
  readonly subscriptions: SubscriptionServer;
  /** The scheduled reconciliation (`RECONCILE_EVERY`), if configured. */
  readonly reconciliation: ReconcileScheduler | undefined;
  /** Fills records from the upstream Open API after events (src/upstream/hydration/). */
  readonly hydration: Hydration;
  /** This instance's Prometheus metrics (`GET /metrics`); undefined with `METRICS_ENABLED=false`. */
  readonly metrics: Metrics | undefined;
  /**
   * Closes the WebSockets (1001), stops taking webhooks, finishes those in flight (and announces
   * their events), then closes the event feed and the database. Idempotent.
   */
  stop(): Promise<void>;
}

/** gymgraph's version, from its package.json (found from the sources and from dist alike). */
const VERSION = ((): string => {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'gymgraph' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look further up
    }
  }
  return 'unknown';
})();

/** How long `/readyz` waits for the database to answer `SELECT 1` before it reports it unavailable, in ms. */
const READY_PING_TIMEOUT_MS = 2000;

/** Longest wait for WebSocket clients to answer the closing handshake at shutdown, in ms. */
const WEBSOCKET_CLOSE_WAIT_MS = 2000;

/**
 * Connections the kernel may hold for us before we accept them (capped by `net.core.somaxconn`).
 * Node's default, 511, is less than a reconnect storm: the connections beyond it are dropped and
 * their clients retry after 1, 3, 7 s (TCP's SYN backoff), which is where a storm's slowest
 * `connection_ack`s came from.
 */
const LISTEN_BACKLOG = 4096;

/**
 * Starts the service: config -> schema -> database (migrations) -> event feed -> ingest, GraphQL
 * over HTTP and WebSocket -> HTTP. Each thing opened registers its closing on one disposer stack:
 * a start that fails half-way closes what it opened, and `stop()` closes everything, in reverse.
 */
export async function start(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<App> {
  // First, so that a start that fails still shows what it was started with. Secrets masked (log.ts).
  logger.info({ version: VERSION, node: process.version, config: masked(config) }, 'starting gymgraph');
  const disposers = new DisposerStack(logger);
  try {
    return await open(config, logger, disposers);
  } catch (error) {
    await disposers.disposeAll(true);
    throw error;
  }
}

async function open(config: Config, logger: Logger, disposers: DisposerStack): Promise<App> {
  const schema = await buildGraphQLSchema();
  // Pages' assets, each under its own prefix (/dashboard/, /graphql/ide/); a missing package fails here, before anything opens.
  const assets = new StaticFiles({ ...dashboardFiles(), ...ideAssets() });
  // Its own registry per instance; off, nothing anywhere is counted or timed.
  const metrics = config.metrics.enabled
    ? new Metrics({ eventTypes: KNOWN_EVENT_TYPES, errorCodes: Object.values(ErrorCode), reconcileKinds: RECONCILE_KINDS })
    : undefined;
  const dataSource = await openDatabase(config.database, logger, {
    timeouts: config.databaseTimeouts,
    readTimeoutMs: config.reads.timeoutMs,
  });
  // Last of all: after everything that reads (GraphQL, subscriptions, hydration) has stopped.
  disposers.defer('database', () => dataSource.destroy());
  usePresenceRule(dataSource, config.presence);
  /** Database trouble that repeats during an outage: logged once per interval, with a count. */
  const outages = new RepeatedLog(logger.child({ component: 'database' }));
  const lost = (pool: string) => (error: Error) =>
    outages.warn(`lost:${pool}`, { err: error, pool }, 'a database connection was lost; it is replaced on next use');
  // GraphQL reads: on SQLite in worker threads, off the event loop that acknowledges webhooks.
  const reader = await SqlReader.open(dataSource, {
    timeoutMs: config.reads.timeoutMs,
    sqliteWorkers: config.reads.sqliteWorkers,
    maxConcurrentScans: config.reads.maxConcurrentScans,
    logger,
  });
  disposers.defer('reads', () => reader.close());
  const writer = openSqlWriter(config.database, {
    orderedAnnouncements: config.redisUrl !== undefined,
    timeouts: config.databaseTimeouts,
    onConnectionError: lost('ingest'),
  });
  disposers.defer('ingest writer', () => writer.close());
  // SQLite: lookups by key (a delivery's records among them) on the connection that just committed (see readLookupsOn).
  if (writer.idleConnection) reader.readLookupsOn(() => writer.idleConnection!());
  /** Hydration's queue bookkeeping: its own pool on PostgreSQL, so it never queues behind webhooks. */
  const queueWriter =
    config.database.kind === 'postgres'
      ? openSqlWriter(config.database, {
          ingestLock: false,
          timeouts: config.databaseTimeouts,
          applicationName: 'gymgraph-hydration',
          onConnectionError: lost('hydration'),
        })
      : writer;
  if (queueWriter !== writer) disposers.defer('hydration writer', () => queueWriter.close());
  const tokens = new TokenService(dataSource);
  const jwt = config.jwt ? new JwtVerifier(config.jwt) : undefined;
  /** The viewer a bearer token stands for (API token, ADMIN_TOKEN or a member's JWT). A JWT (three base64url parts) is a member's. */
  const authenticate = (token: string): Promise<Viewer | undefined> => {
    if (!looksLikeJwt(token)) return tokens.authenticate(token, config.adminToken);
    if (!jwt)
      return Promise.reject(
        new CredentialRefused('JWTs are not accepted by this server (no JWT_JWKS_URL, JWT_PUBLIC_KEY or JWT_SECRET): use an API token'),
      );
    return jwt.verify(token);
  };
  /** Query cost points per token (`GRAPHQL_COST_PER_MINUTE`); shared through Redis with `REDIS_URL`, keyed by token id under the deployment's channel name. */
  const budget =
    config.graphql.costPerMinute === 0
      ? undefined
      : new ViewerBudget(
          config.redisUrl
            ? new RedisCostBudget({
                url: config.redisUrl,
                perMinute: config.graphql.costPerMinute,
                keyPrefix: `${config.realtime.redisChannel}:graphql-cost`,
                logger,
              })
            : new LocalCostBudget(config.graphql.costPerMinute),
          Date.now,
          metrics ? () => metrics.graphql.rateLimited() : undefined,
        );
  if (budget) disposers.defer('cost budget', () => budget.close());
  /**
   * Moves on with every write this instance learns of: its own ingest commits (before their acks),
   * hydration commits, mutations, and every batch the event feed announces (other instances' commits,
   * found through Redis or the log backstop). The answer cache serves an answer only within the
   * generation its read started in.
   */
  const generation = new DataGeneration();
  const answers = config.graphql.answerCache.maxAgeMs > 0 ? new AnswerCache(generation, config.graphql.answerCache) : undefined;
  const graphql = await createGraphQLHandler(schema, {
    introspection: true,
    development: config.nodeEnv === 'development',
    logger,
    authenticate,
    dataSource,
    ...(budget ? { budget } : {}),
    metrics: metrics?.graphql,
    answers,
  });
  disposers.defer('graphql', () => graphql.stop());
  const log = new EventLog(dataSource);
  const feed: EventFeed = config.redisUrl
    ? await openRedisEventFeed({
        url: config.redisUrl,
        channel: config.realtime.redisChannel,
        backstopMs: config.realtime.backstopMs,
        logger,
        log,
      })
    : new InProcessFeed();
  disposers.defer('event feed', () => feed.close());
  feed.subscribe(() => generation.advance());
  /** This instance's Open API rate limits: shared by all instances through Redis with `REDIS_URL`. */
  const limiters: RateLimiterRegistry = config.redisUrl
    ? await RedisRateLimiters.open({ url: config.redisUrl, logger })
    : new RateLimiters();
  disposers.defer('rate limiters', () => limiters.close());
  const openApi = (studio: Parameters<typeof openApiClientFor>[0]) =>
    openApiClientFor(studio, config.openApi, logger, { limiters, metrics: metrics?.upstream });

  // One pacer per process (one event loop): the last service started in it sets its rate.
  replayPacer.limit(config.realtime.replayEventsPerSecond || Infinity);
  /** Records per event and occupancy counts, loaded once per event for every subscriber. */
  const shared = new SharedLoads();
  const subscriptions = createSubscriptionServer({
    schema,
    logger,
    authenticate,
    validTokenIds: (ids) => tokens.validIds(ids),
    changedTokens: (since) => tokens.changedSince(since),
    dataSource,
    realtime: {
      feed,
      log,
      shared,
      maxQueued: config.realtime.maxQueuedEvents,
      maxBufferedBytes: config.realtime.maxBufferedBytes,
    },
    development: config.nodeEnv === 'development',
    ...(budget ? { budget } : {}),
    connectionInitTimeoutMs: config.realtime.connectionInitTimeoutMs,
    tokenRecheckMs: config.realtime.tokenRecheckMs,
    keepAliveMs: config.realtime.keepAliveMs,
    maxSubscriptionsPerSocket: config.realtime.maxSubscriptionsPerSocket,
    maxSocketsPerToken: config.realtime.maxSocketsPerToken,
    metrics,
  });
  // Subscribers are told to go (1001) and resume elsewhere with `after`: on stop, before the HTTP
  // server closes (its close waits for upgraded sockets too), see the front door below.
  let socketsClosed: Promise<void> | undefined;
  const closeSockets = () => (socketsClosed ??= subscriptions.close(Math.min(config.shutdownTimeoutMs, WEBSOCKET_CLOSE_WAIT_MS)));
  disposers.defer('websockets', closeSockets);
  // Before the feed and the writers: finished jobs are committed and announced, the rest handed back.
  const hydration = new Hydration({
    config: config.hydration,
    writer,
    queue: queueWriter,
    feed,
    onDurable: () => generation.advance(),
    logger,
    metrics: metrics?.hydration,
    openApi,
  });
  disposers.defer('hydration', () => hydration.stop());
  const ingestor = new Ingestor(writer, logger, {
    onDurable: () => generation.advance(),
    onCommitted: (events) => {
      hydration.requestScan();
      return feed.publish(events);
    },
    metrics: metrics?.webhooks,
    // PostgreSQL: the records of events this instance's subscriptions deliver travel with the COMMIT.
    ...(config.database.kind === 'postgres'
      ? { withinCommit: recordPreload({ dataSource, shared, wanted: (event) => subscriptions.wantsRecords(event) }) }
      : {}),
  });
  // RECONCILE_EVERY: repairs what webhooks missed, through the same ingestor (so subscribers see it).
  const reconciliation =
    config.reconcile.everyMs === undefined
      ? undefined
      : startReconcileScheduler({
          everyMs: config.reconcile.everyMs,
          lookbackMs: config.reconcile.lookbackMs,
          dataSource,
          logger,
          read: (sql, params) => writer.read(sql, params),
          metrics: metrics?.reconcile,
          reconciler: new Reconciler({
            read: (sql, params) => writer.read(sql, params),
            submit: (submission) => ingestor.submit(submission),
            logger,
            openApi,
          }),
        });
  if (reconciliation) disposers.defer('reconciliation', () => reconciliation.stop());

  let accepting = true;
  const inFlight = new Set<Promise<void>>();
  const webhooks = createWebhookHandler({
    keys: new StudioKeys(writer),
    ingestor,
    maxBodyBytes: config.webhookMaxBodyBytes,
    accepting: () => accepting,
    ackTimeoutMs: config.webhookAckTimeoutMs,
    metrics: metrics?.webhooks,
  });
  // Read when Prometheus scrapes; the database part through hydration's pool (its own on PostgreSQL).
  metrics?.observe({
    sockets: () => subscriptions.connections,
    subscriptionFields: Object.keys(schema.getSubscriptionType()?.getFields() ?? {}),
    subscriptionsByField: () => subscriptions.subscriptionsByField(),
    pools: () => ({
      ingest: writer.poolStats?.(),
      hydration: queueWriter === writer ? undefined : queueWriter.poolStats?.(),
      reads: reader.poolStats(),
    }),
    sqliteReads: () => reader.workerStats(),
    database: () => readDatabaseSnapshot(queueWriter),
  });
  const databaseAnswers = readinessProbe(() => Promise.all([writer.ping(), pingDataSource(dataSource, READY_PING_TIMEOUT_MS)]), outages);
  if (config.graphql.corsOrigins === '*' && config.nodeEnv === 'production') {
    logger.warn(
      { corsOrigins: '*' },
      'CORS_ORIGINS=*: pages of any origin may call /graphql and open WebSockets with a token they hold; list the origins of your front-ends instead',
    );
  }
  const { server, drain } = createHttpServer(
    {
      webhooks: (req, res, log) => {
        const work = webhooks(req, res, log);
        inFlight.add(work);
        return work.finally(() => inFlight.delete(work));
      },
      graphql: (req, res, log) => graphql.handle(req, res, log),
      graphqlUpgrade: (req, socket, head) => subscriptions.handleUpgrade(req, socket, head),
      ...(metrics ? { metrics: createMetricsHandler(metrics, config.metrics.token) } : {}),
      cors: createGraphQLCors(config.graphql.corsOrigins),
      ready: async () => {
        const database = await databaseAnswers();
        const unavailable = [...(database ? [] : ['database']), ...(accepting ? [] : ['shutting-down'])];
        return { ready: unavailable.length === 0, unavailable };
      },
      assets,
    },
    logger,
    config.http,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The front door, closed first: no new webhooks, the sockets told to go, the webhooks in flight
  // finished (and their events announced) within SHUTDOWN_TIMEOUT_MS.
  disposers.defer('http', async () => {
    accepting = false;
    drain();
    await reconciliation?.stop();
    await closeSockets();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const finished = (async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await ingestor.drain();
    })();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref());
    if ((await Promise.race([finished, timeout])) === 'timeout') logger.warn('shutdown timeout: closing with work in flight');
    server.closeAllConnections();
    await closed;
  });
  hydration.start();
  const { port } = server.address() as AddressInfo;
  logger.info({ port, database: config.database.kind, events: config.redisUrl ? 'redis' : 'in-process' }, 'gymgraph listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: closing WebSockets, no new webhooks, finishing those in flight');
      await disposers.disposeAll();
      logger.info('stopped');
    })());

  return {
    config,
    server,
    url: `http://127.0.0.1:${port}`,
    dataSource,
    bus: feed,
    subscriptions,
    reconciliation,
    hydration,
    metrics,
    stop,
  };
}

/**
 * `/readyz`'s database check. One probe at a time, however often it is asked: a frozen database
 * must not collect a hanging query per request. Each request waits for it at most
 * READY_PING_TIMEOUT_MS; the probe itself ends within the pools' connect and query timeouts, so it
 * never sticks.
 */
function readinessProbe(ping: () => Promise<unknown>, outages: RepeatedLog): () => Promise<boolean> {
  let probing: Promise<boolean> | undefined;
  return async () => {
    const probe = (probing ??= ping()
      .then(
        () => true,
        (error: unknown) => {
          outages.warn('ready', { err: error }, 'readiness: the database does not answer');
          return false;
        },
      )
      .finally(() => {
        probing = undefined;
      }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_PING_TIMEOUT_MS);
    });
    return Promise.race([probe, late]).finally(() => clearTimeout(timer));
  };
}

/** The gauges read from the database at scrape time: three indexed reads. */
async function readDatabaseSnapshot(db: SqlWriter): Promise<DatabaseSnapshot> {
  const [jobs, last, cursor] = await Promise.all([
    db.read<{ state: string; count: number | string }>(
      `SELECT "state", COUNT(*) AS "count" FROM ${TABLES.hydration_jobs} WHERE "state" IN ('queued', 'running', 'retrying', 'parked') GROUP BY "state"`,
    ),
    db.read<{ seq: number | string | null }>(`SELECT MAX("seq") AS "seq" FROM ${TABLES.events}`),
    db.read<{ seq: number | string }>(`SELECT "seq" FROM ${TABLES.log_cursors} WHERE "name" = ?`, [HYDRATION_CURSOR]),
  ]);
  const lastSeq = Number(last[0]?.seq ?? 0);
  return {
    jobs: Object.fromEntries(jobs.map((row) => [row.state, Number(row.count)])),
    lastSeq,
    // No cursor yet: the scanner starts at the end of the log when it first runs.
    hydrationCursor: cursor[0] === undefined ? lastSeq : Number(cursor[0].seq),
  };
}

/** `npm start`: run until SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gymgraph: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const app = await start(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) void main();

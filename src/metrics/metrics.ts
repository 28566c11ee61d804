import { readdir } from 'node:fs/promises';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, in a registry of their own (never prom-client's global one, so
 * two instances in one process do not collide). Naming follows Prometheus conventions: base units
 * in the name (`_seconds`, `_bytes`), `_total` on counters, our own prefixed `gymgraph_`; GraphQL
 * request duration follows OpenTelemetry's semantic conventions (`graphql.operation.type`,
 * `error.type`, the HTTP server duration buckets) mapped to Prometheus names.
 *
 * Hot paths (webhook ingest, fan-out) only increment and observe children cached here at start:
 * no label object is built per event. Every label takes its values from a fixed set given at start
 * (event types, error codes, subscription fields, close codes); anything else becomes `other` or
 * `unknown`, so the number of series stays bounded whatever clients send.
 *
 * Built only with `METRICS_ENABLED=true`; otherwise the components get no metrics object and skip
 * instrumentation altogether.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly webhooks: WebhookMetrics;
  readonly graphql: GraphQLMetrics;
  readonly realtime: RealtimeMetrics;
  readonly upstream: UpstreamMetrics;
  readonly hydration: HydrationMetrics;
  readonly reconcile: ReconcileMetrics;

  constructor(vocabulary: MetricsVocabulary) {
    collectDefaultMetrics({ register: this.registry });
    replaceLinearDefaults(this.registry);
    this.webhooks = new WebhookMetrics(this.registry, vocabulary.eventTypes);
    this.graphql = new GraphQLMetrics(this.registry, vocabulary.errorCodes);
    this.realtime = new RealtimeMetrics(this.registry);
    this.upstream = new UpstreamMetrics(this.registry);
    this.hydration = new HydrationMetrics(this.registry);
    this.reconcile = new ReconcileMetrics(this.registry, vocabulary.reconcileKinds);
  }

  /** The text exposition of every metric, collecting the scrape-time gauges. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Gauges read when Prometheus scrapes, never on a hot path: open sockets and subscriptions, the
   * database pools, and (from the database, one read per scrape shared by its gauges, bounded by
   * `dbTimeoutMs`) the hydration jobs by state, the event log's last `seq` and the hydration cursor.
   */
  observe(sources: ScrapeSources, options: { readonly dbTimeoutMs?: number } = {}): void {
    const registers = [this.registry];
    new Gauge({
      name: 'gymgraph_websocket_connections',
      help: 'Open WebSocket connections on /graphql.',
      registers,
      collect() {
        this.set(sources.sockets());
      },
    });
    const fields = sources.subscriptionFields;
    new Gauge({
      name: 'gymgraph_subscriptions',
      help: 'Active GraphQL subscriptions, by root field.',
      labelNames: ['field'],
      registers,
      collect() {
        const counts = sources.subscriptionsByField();
        for (const field of fields) this.labels(field).set(counts.get(field) ?? 0);
      },
    });
    new Gauge({
      name: 'gymgraph_db_pool_connections',
      help: 'Connections of a PostgreSQL pool, by pool and state (in_use, idle).',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        for (const [pool, stats] of Object.entries(sources.pools())) {
          if (!stats) continue;
          this.labels(pool, 'in_use').set(stats.total - stats.idle);
          this.labels(pool, 'idle').set(stats.idle);
        }
      },
    });
    new Gauge({
      name: 'gymgraph_db_pool_waiting',
      help: 'Callers waiting for a connection of a PostgreSQL pool.',
      labelNames: ['pool'],
      registers,
      collect() {
        for (const [pool, stats] of Object.entries(sources.pools())) if (stats) this.labels(pool).set(stats.waiting);
      },
    });
    new Gauge({
      name: 'gymgraph_sqlite_read_workers',
      help: 'SQLite read worker threads, by state (busy, idle).',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = sources.sqliteReads();
        if (!stats) return;
        this.labels('busy').set(stats.busy);
        this.labels('idle').set(stats.workers - stats.busy);
      },
    });
    new Gauge({
      name: 'gymgraph_sqlite_read_queue',
      help: 'GraphQL reads waiting for a SQLite read worker.',
      registers,
      collect() {
        const stats = sources.sqliteReads();
        if (stats) this.set(stats.queued);
      },
    });

    const { dbTimeoutMs = 1000 } = options;
    /** The last snapshot read: what the gauges keep showing when a read fails or is late. */
    let last: DatabaseSnapshot | undefined;
    let reading: Promise<DatabaseSnapshot | undefined> | undefined;
    const failures = new Counter({
      name: 'gymgraph_metrics_database_read_failures_total',
      help: 'Scrape-time database reads that failed or took longer than their timeout (the gauges then keep their last values).',
      registers,
    });
    /**
     * One read for the gauges below, shared by the collectors of a scrape (prom-client starts them
     * all at once) and by scrapes arriving while it runs.
     */
    const snapshot = (): Promise<DatabaseSnapshot | undefined> =>
      (reading ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const late = new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), dbTimeoutMs);
          });
          const read = sources.database();
          read.catch(() => undefined);
          const result = await Promise.race([read, late]);
          if (result === undefined) failures.inc();
          else last = result;
        } catch {
          failures.inc();
        } finally {
          clearTimeout(timer);
          reading = undefined;
        }
        return last;
      })());
    new Gauge({
      name: 'gymgraph_hydration_jobs',
      help: 'Hydration jobs not done, by state (queued, running, retrying, parked); read from the database at scrape time.',
      labelNames: ['state'],
      registers,
      async collect() {
        const read = await snapshot();
        if (!read) return;
        for (const state of HYDRATION_OPEN_STATES) this.labels(state).set(read.jobs[state] ?? 0);
      },
    });
    new Gauge({
      name: 'gymgraph_event_log_last_seq',
      help: 'The highest seq in the event log.',
      registers,
      async collect() {
        const read = await snapshot();
        if (read) this.set(read.lastSeq);
      },
    });
    new Gauge({
      name: 'gymgraph_hydration_cursor_lag_events',
      help: 'Events in the log the hydration scanner has not read yet (last seq minus its cursor).',
      registers,
      async collect() {
        const read = await snapshot();
        if (read) this.set(Math.max(0, read.lastSeq - read.hydrationCursor));
      },
    });
  }
}

/**
 * prom-client's defaults that cost time linear in open sockets, synchronously, on the event loop
 * that also fans out: `process_open_fds` reads /proc/self/fd with readdirSync (~10 ms per 5,000
 * fds here), `nodejs_active_handles` / `nodejs_active_resources` group every handle by type. With
 * 10,000 subscribers a scrape took ~200 ms (bench/fanout.js --scrape). `process_open_fds` is kept,
 * read with an asynchronous readdir (off the event loop); the per-type handle and resource counts
 * go (their `_total`s stay, and the WebSockets have their own gauge).
 */
function replaceLinearDefaults(registry: Registry): void {
  for (const name of ['process_open_fds', 'nodejs_active_handles', 'nodejs_active_resources']) registry.removeSingleMetric(name);
  if (process.platform !== 'linux') return;
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors.',
    registers: [registry],
    async collect() {
      try {
        this.set((await readdir('/proc/self/fd')).length - 1); // minus the one readdir holds
      } catch {
        // /proc unavailable (a sandbox): no sample this scrape
      }
    },
  });
}

/** The fixed sets labels take their values from. */
export interface MetricsVocabulary {
  /** Known webhook event types; any other is counted as `unknown`. */
  readonly eventTypes: readonly string[];
  /** GraphQL error codes (`extensions.code`); any other is counted as `OTHER`. */
  readonly errorCodes: readonly string[];
  /** Reconciliation kinds (what a repair adds). */
  readonly reconcileKinds: readonly string[];
}

/** What a PostgreSQL pool says of itself (pg's Pool `totalCount`, `idleCount`, `waitingCount`). */
export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

export interface DatabaseSnapshot {
  /** Jobs per state, for the states not `done`. */
  readonly jobs: Readonly<Record<string, number>>;
  readonly lastSeq: number;
  readonly hydrationCursor: number;
}

/** Where the scrape-time gauges read from; each called once per scrape. */
export interface ScrapeSources {
  readonly sockets: () => number;
  /** The root fields of the Subscription type: the values of the `field` label. */
  readonly subscriptionFields: readonly string[];
  readonly subscriptionsByField: () => ReadonlyMap<string, number>;
  /** PostgreSQL pools by name (`ingest`, `hydration`, `reads`); undefined entries are skipped. */
  readonly pools: () => Readonly<Record<string, PoolStats | undefined>>;
  /** SQLite read workers, when reads run in them. */
  readonly sqliteReads: () => { readonly workers: number; readonly busy: number; readonly queued: number } | undefined;
  /** A few cheap reads (indexed counts and maxima). */
  readonly database: () => Promise<DatabaseSnapshot>;
}

const HYDRATION_OPEN_STATES = ['queued', 'running', 'retrying', 'parked'] as const;

/** Seconds, for latencies from a millisecond to ten seconds (webhook acks, commits, fan-out). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Seconds: OpenTelemetry's advised boundaries for `http.server.request.duration`. */
const OTEL_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** What a webhook delivery came to: the `outcome` label of `gymgraph_webhook_deliveries_total`. */
export const WEBHOOK_OUTCOMES = [
  'stored',
  'duplicate',
  'unauthorized',
  'unsupported_media_type',
  'payload_too_large',
  'invalid_json',
  'invalid_payload',
  'uuid_conflict',
  'database_unavailable',
  'overloaded',
  'shutting_down',
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

function zeroed(child: Counter.Internal): Counter.Internal {
  child.inc(0);
  return child;
}

/** The children of one labelled counter for a fixed set of values, the rest under `fallback`. */
class BoundedCounter {
  private readonly children = new Map<string, Counter.Internal>();
  private readonly fallback: Counter.Internal;

  constructor(counter: Counter, values: readonly string[], fallback: string) {
    // Each at 0 from the start (prom-client shows a child only once it was incremented), so that
    // rate() and absent-series alerts work before the first event of a kind.
    for (const value of values) this.children.set(value, zeroed(counter.labels(value)));
    this.fallback = zeroed(counter.labels(fallback));
  }

  inc(value: string, by = 1): void {
    (this.children.get(value) ?? this.fallback).inc(by);
  }
}

export class WebhookMetrics {
  private readonly deliveries: Record<WebhookOutcome, Counter.Internal>;
  private readonly events: BoundedCounter;
  private readonly ack: Histogram;
  private readonly batch: Histogram;
  private readonly commit: Histogram;

  constructor(registry: Registry, eventTypes: readonly string[]) {
    const registers = [registry];
    const deliveries = new Counter({
      name: 'gymgraph_webhook_deliveries_total',
      help: "Webhook deliveries answered, by outcome (stored, duplicate, the refusal's error code, or error: failed or the caller went away).",
      labelNames: ['outcome'],
      registers,
    });
    this.deliveries = Object.fromEntries(WEBHOOK_OUTCOMES.map((outcome) => [outcome, zeroed(deliveries.labels(outcome))])) as Record<
      WebhookOutcome,
      Counter.Internal
    >;
    this.events = new BoundedCounter(
      new Counter({
        name: 'gymgraph_ingest_events_total',
        help: 'Events stored in the log by ingest (webhooks and reconciliation), by type (unknown types as `unknown`).',
        labelNames: ['type'],
        registers,
      }),
      eventTypes,
      'unknown',
    );
    this.ack = new Histogram({
      name: 'gymgraph_webhook_ack_duration_seconds',
      help: "From a webhook's arrival to its 200 answer (stored or duplicate), in seconds.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batch = new Histogram({
      name: 'gymgraph_ingest_batch_deliveries',
      help: 'Deliveries per group-commit transaction.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.commit = new Histogram({
      name: 'gymgraph_ingest_commit_duration_seconds',
      help: 'One group-commit transaction, from asking the writer (which runs one transaction at a time) to its commit, in seconds.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** A delivery answered; `arrivedAt` (performance.now() ms) is given for the 200s. */
  delivery(outcome: WebhookOutcome, arrivedAt?: number): void {
    this.deliveries[outcome].inc();
    if (arrivedAt !== undefined) this.ack.observe((performance.now() - arrivedAt) / 1000);
  }

  /** An event stored, by its type (known or not). */
  event(type: string, known: boolean): void {
    this.events.inc(known ? type : 'unknown');
  }

  /** A group-commit transaction committed: its deliveries and how long it took (ms). */
  committed(deliveries: number, ms: number): void {
    this.batch.observe(deliveries);
    this.commit.observe(ms / 1000);
  }
}

export class GraphQLMetrics {
  private readonly duration: Histogram<'graphql_operation_type' | 'error_type'>;
  private readonly durations = new Map<string, Histogram.Internal<'graphql_operation_type' | 'error_type'>>();
  private readonly codes: ReadonlySet<string>;
  private readonly errors: BoundedCounter;
  private readonly cost: Histogram;
  private readonly limited: Counter;
  private readonly answers: Record<'hit' | 'miss' | 'stored', Counter.Internal>;

  constructor(registry: Registry, errorCodes: readonly string[]) {
    const registers = [registry];
    this.codes = new Set(errorCodes);
    this.duration = new Histogram({
      name: 'graphql_server_request_duration_seconds',
      help: "GraphQL over HTTP: duration of a request, by graphql_operation_type (query, mutation; absent when the operation was never resolved) and error_type (the first error's code; absent on success), in seconds.",
      labelNames: ['graphql_operation_type', 'error_type'],
      buckets: OTEL_DURATION_BUCKETS,
      registers,
    });
    this.errors = new BoundedCounter(
      new Counter({
        name: 'gymgraph_graphql_errors_total',
        help: 'GraphQL errors answered over HTTP and WebSocket, by code (extensions.code).',
        labelNames: ['code'],
        registers,
      }),
      errorCodes,
      'OTHER',
    );
    this.cost = new Histogram({
      name: 'gymgraph_graphql_query_cost',
      help: 'Estimated cost of each operation measured (points of the cost limit).',
      buckets: [1, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    });
    this.limited = new Counter({
      name: 'gymgraph_graphql_rate_limited_total',
      help: 'Operations refused with RATE_LIMITED (the per-token cost budget), over HTTP and WebSocket.',
      registers,
    });
    const answers = new Counter({
      name: 'gymgraph_graphql_answer_cache_total',
      help: 'GraphQL over HTTP, requests the answer cache could serve (GRAPHQL_ANSWER_CACHE_MS), by result: hit (answered from the cache), miss (executed), stored (a miss whose answer was kept).',
      labelNames: ['result'],
      registers,
    });
    this.answers = {
      hit: answers.labels({ result: 'hit' }),
      miss: answers.labels({ result: 'miss' }),
      stored: answers.labels({ result: 'stored' }),
    };
  }

  /**
   * One request answered over HTTP: `type` is the operation type (undefined when it was never
   * resolved), `code` the first error's code (undefined on success), `ms` its duration.
   */
  request(type: string | undefined, code: string | undefined, ms: number): void {
    const operation = type === 'query' || type === 'mutation' || type === 'subscription' ? type : undefined;
    const error = code === undefined ? undefined : this.codes.has(code) ? code : 'OTHER';
    const key = `${operation ?? ''}|${error ?? ''}`;
    let child = this.durations.get(key);
    if (!child) {
      child = this.duration.labels({
        ...(operation ? { graphql_operation_type: operation } : {}),
        ...(error ? { error_type: error } : {}),
      });
      this.durations.set(key, child);
    }
    child.observe(ms / 1000);
  }

  error(code: unknown): void {
    this.errors.inc(typeof code === 'string' ? code : 'OTHER');
  }

  measured(cost: number): void {
    this.cost.observe(cost);
  }

  rateLimited(): void {
    this.limited.inc();
  }

  /** One lookup in the answer cache (`hit`, `miss`), or a miss's answer kept (`stored`). */
  answerCache(result: 'hit' | 'miss' | 'stored'): void {
    this.answers[result].inc();
  }
}

/** Close codes worth a series of their own (RFC 6455, graphql-ws and ours); others are `other`. */
const CLOSE_CODES = [
  1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1011, 4008, 4013, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4500,
].map(String);

export class RealtimeMetrics {
  private readonly closed: BoundedCounter;
  private readonly lag: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.closed = new BoundedCounter(
      new Counter({
        name: 'gymgraph_websocket_closed_total',
        help: "WebSocket connections closed, by close code (either side's; uncommon codes as `other`).",
        labelNames: ['code'],
        registers,
      }),
      CLOSE_CODES,
      'other',
    );
    this.lag = new Histogram({
      name: 'gymgraph_fanout_lag_seconds',
      help: "From an event's announcement to this instance (right after its commit, or after crossing Redis) to its frame written to the last socket of a subscription group, in seconds.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  socketClosed(code: number): void {
    this.closed.inc(String(code));
  }

  /** An event written to every socket of a group, `ms` after it was announced. */
  fannedOut(ms: number): void {
    this.lag.observe(ms / 1000);
  }
}

/** Statuses that get a series of their own; others are counted by class (`2xx`, `5xx`), no answer as `none`. */
const UPSTREAM_STATUSES = new Set([200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504]);

export class UpstreamMetrics {
  private readonly requests: Counter<'endpoint' | 'status'>;
  private readonly children = new Map<string, Counter.Internal>();
  private readonly waiting: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'gymgraph_open_api_requests_total',
      help: 'Open API requests, by endpoint template and status (`none`: no answer; 429: rate limited upstream).',
      labelNames: ['endpoint', 'status'],
      registers,
    });
    this.waiting = new Histogram({
      name: 'gymgraph_open_api_rate_limit_wait_seconds',
      help: 'Time an Open API call waited for its rate limit (our limiter, and Retry-After after a 429), in seconds.',
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120],
      registers,
    });
  }

  /** `endpoint` is a template from the code (`GET /v1/customers/{customerId}`), never a filled path. */
  request(endpoint: string, status: number): void {
    const label = status === 0 ? 'none' : UPSTREAM_STATUSES.has(status) ? String(status) : `${Math.floor(status / 100)}xx`;
    const key = `${endpoint} ${label}`;
    let child = this.children.get(key);
    if (!child) this.children.set(key, (child = this.requests.labels(endpoint, label)));
    child.inc();
  }

  waited(ms: number): void {
    this.waiting.observe(ms / 1000);
  }
}

export class HydrationMetrics {
  private readonly runs: Record<'ok' | 'failed', Counter.Internal>;

  constructor(registry: Registry) {
    const runs = new Counter({
      name: 'gymgraph_hydration_job_runs_total',
      help: 'Hydration job runs, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.runs = { ok: zeroed(runs.labels('ok')), failed: zeroed(runs.labels('failed')) };
  }

  ran(outcome: 'ok' | 'failed'): void {
    this.runs[outcome].inc();
  }
}

export class ReconcileMetrics {
  private readonly runs: Counter<'outcome'>;
  private readonly repairs: BoundedCounter;

  constructor(registry: Registry, kinds: readonly string[]) {
    const registers = [registry];
    this.runs = new Counter({
      name: 'gymgraph_reconcile_runs_total',
      help: 'Scheduled reconciliations of a studio, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.repairs = new BoundedCounter(
      new Counter({
        name: 'gymgraph_reconcile_repairs_total',
        help: 'Records reconciliation repaired (events it added), by kind.',
        labelNames: ['kind'],
        registers,
      }),
      kinds,
      'other',
    );
  }

  run(outcome: 'ok' | 'failed'): void {
    this.runs.labels(outcome).inc();
  }

  repaired(kind: string, count: number): void {
    if (count > 0) this.repairs.inc(kind, count);
  }
}

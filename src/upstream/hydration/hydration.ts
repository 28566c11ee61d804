import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { HydrationConfig } from '../../config.js';
import { EVENT_LOG_INSERT, eventLogParams } from '../../db/event-log-writer.js';
import type { Param, SqlTx, SqlWriter } from '../../db/sql-writer.js';
import type { LoggedEvent } from '../../events/logged-event.js';
import { hydratorOf } from '../../domains/areas.js';
import { CUSTOMER_GONE_SQL } from '../../domains/customers/customer.hydrators.js';
import type { ClaimedJob, HydrationReads, RecordWrite } from '../../domains/hydrator.js';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import { RepeatedLog, type Logger } from '../../log.js';
import type { HydrationMetrics } from '../../metrics/metrics.js';
import type { EventFeed } from '../../realtime/feed.js';
import { OpenApiError, type OpenApi } from '../open-api.js';
import { claimJobs, failJob, finishJob, hasClaimableJobs, queueTargets, releaseJobs, renewLeases } from './hydration-queue.js';
import { hasUnscannedEvents, scanEvents } from './hydration-scanner.js';
import { RECORD_HYDRATED_EVENT_TYPE } from './hydration-targets.js';
import { TABLES } from '../../db/tables.js';

/** What a studio's Open API client is made from. */
export interface OpenApiAccess {
  readonly studioId: number;
  /** The tenant's Open API base URL. */
  readonly baseUrl: string;
  /** The studio's Open API key. */
  readonly apiKey: string;
}

export interface HydrationOptions {
  readonly config: HydrationConfig;
  /**
   * The ingest writer. Record writes and their GYMGRAPH_RECORD_HYDRATED events go through it: its
   * transactions run one at a time and take the ingest lock on PostgreSQL, so the new events get
   * `seq`s in commit order and are announced in that order, like webhooks.
   */
  readonly writer: SqlWriter;
  /**
   * The queue's bookkeeping (scanning, claiming, leases, failures): the ingest writer itself on
   * SQLite (one connection writes the file), a writer without the ingest lock on PostgreSQL, so
   * that it never waits for webhooks nor makes them wait.
   */
  readonly queue: SqlWriter;
  /** Where committed events are announced: hydration's own events go out here. */
  readonly feed: EventFeed;
  /** Called synchronously after each commit that changed records, before it is announced (the answer cache's data generation). */
  readonly onDurable?: () => void;
  /** Makes a studio's Open API client. Clients are reused per (base URL, key): their rate limits live inside. */
  readonly openApi: (access: OpenApiAccess) => OpenApi;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
  /** [0, 1) source for the backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** Job runs by outcome; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: HydrationMetrics | undefined;
}

/** Events read per scanner transaction. */
const SCAN_BATCH = 1000;
/**
 * A scan woken by new events waits at least this long after the previous one, so bursts share a scan.
 * On SQLite every scan is a write transaction (an fsync) in the webhooks' own writer: at full ingest
 * speed a 50 ms gap cost a visible share of throughput. Jobs are not due before HYDRATION_DELAY_MS
 * anyway, so scanning more often than this would not make them run sooner.
 */
const MIN_SCAN_GAP_MS = 250;
/** How long studio credentials are cached. */
const ACCESS_TTL_MS = 10_000;
/** Most completions committed in one transaction. */
const COMPLETION_BATCH = 200;
/** How long `stop()` waits for running jobs before handing them back to the queue. */
const STOP_WAIT_MS = 2000;
/**
 * How often the progress line ("hydration: progress") is written, when anything happened: one line a
 * minute tells on-call whether hydration keeps up, where a line per job (at debug) would drown the log.
 */
export const HYDRATION_SUMMARY_MS = 60_000;

/** Jobs since the last progress line. */
interface Progress {
  claimed: number;
  /** Finished and recorded. */
  completed: number;
  /** Failed, to be retried after their backoff. */
  failed: number;
  /** Failed `maxAttempts` times in a row: waiting for an admin (`retryHydrationJob`, `retryParkedHydrationJobs`). */
  parked: number;
  /** Handed back to the queue unfinished at shutdown. */
  handedBack: number;
}

const noProgress = (): Progress => ({ claimed: 0, completed: 0, failed: 0, parked: 0, handedBack: 0 });

interface Completion {
  readonly job: ClaimedJob;
  readonly outcome: { readonly type: 'ok'; readonly write: RecordWrite } | { readonly type: 'failed'; readonly error: unknown };
  resolve(): void;
}

/**
 * Hydration: fills records from the upstream Open API after the webhooks told us something changed.
 *
 * - A **scanner** follows the event log from a durable cursor (`log_cursors`), maps each event to the
 *   reads it asks for (hydration-targets.ts) and upserts one job per (tenant, kind, upstream id) in
 *   `hydration_jobs`, advancing the cursor in the same transaction. The webhook path is untouched:
 *   it only appends events, as before.
 * - A **runner** claims due jobs with a lease (renewed while they run), at most `concurrency` at a
 *   time, calls the studio's Open API client (which rate-limits itself per endpoint), and commits the
 *   record write, the job's completion and a GYMGRAPH_RECORD_HYDRATED event per changed record in one
 *   transaction; the events are announced through the feed after commit. Failures retry with
 *   exponential backoff and jitter and are parked after `maxAttempts`.
 *
 * Subscribers learn about hydrated records from GYMGRAPH_RECORD_HYDRATED: an event of the log like
 * any other (it has a `seq`, replays with `after`, shows in `events`), which the scanner ignores, so
 * hydration never feeds on itself.
 */
export class Hydration {
  /** Names this instance's leases. */
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly active = new Map<number, Promise<void>>();
  private readonly clients = new Map<string, OpenApi>();
  private readonly access = new Map<number, { at: number; value: OpenApiAccess | null }>();
  private readonly completions: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Set once stop() handed unfinished jobs back: their late answers are dropped. */
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private scanWanted = true;
  private lastScan = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private progress = noProgress();
  private progressSince = 0;
  private readonly reads: HydrationReads;
  /** Failures that repeat every poll while the database is away: once per interval, with a count. */
  private readonly repeated: RepeatedLog;

  constructor(private readonly options: HydrationOptions) {
    this.repeated = new RepeatedLog(options.logger);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.reads = {
      customerGone: async (tenantId, customerId) => {
        const rows = await options.queue.read<{ gone: unknown }>(
          `SELECT ${CUSTOMER_GONE_SQL} AS "gone" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "customerId" = ?`,
          [tenantId, customerId],
        );
        return rows[0] !== undefined && Number(rows[0].gone) === 1;
      },
      slotClassId: async (tenantId, slotId) => {
        const rows = await options.queue.read<{ classId: number | string }>(
          `SELECT "classId" FROM ${TABLES.class_slots} WHERE "tenantId" = ? AND "slotId" = ?`,
          [tenantId, slotId],
        );
        return rows[0] === undefined ? null : Number(rows[0].classId);
      },
      employeeDeleted: async (tenantId, employeeId) => {
        const rows = await options.queue.read<{ deletedAt: unknown }>(
          `SELECT "deletedAt" FROM ${TABLES.employees} WHERE "tenantId" = ? AND "employeeId" = ?`,
          [tenantId, employeeId],
        );
        return rows[0] !== undefined && rows[0].deletedAt !== null;
      },
    };
  }

  /** Starts scanning and running jobs (nothing when hydration is disabled). */
  start(): void {
    if (!this.options.config.enabled || this.loop) return;
    const leaseMs = this.options.config.leaseMs;
    this.renewTimer = setInterval(
      () => {
        if (this.active.size === 0) return;
        const now = this.now();
        this.options.queue
          .transaction((tx) => renewLeases(tx, this.instanceId, now + leaseMs, now))
          .catch((error: unknown) => {
            this.repeated.warn('renew', { err: error }, 'hydration: renewing leases failed');
          });
      },
      Math.max(Math.floor(leaseMs / 3), 100),
    );
    this.renewTimer.unref();
    this.progressSince = this.now();
    this.summaryTimer = setInterval(() => this.summarise(), HYDRATION_SUMMARY_MS);
    this.summaryTimer.unref();
    this.loop = this.run();
  }

  /**
   * Asks for a scan of the log soon: the ingestor calls it after each commit (a flag and a timer,
   * nothing more). Events stored by other instances are found by the poll (`pollMs`).
   */
  requestScan(): void {
    this.scanWanted = true;
    this.wake();
  }

  /**
   * Stops claiming, waits a little for running jobs, hands the rest back to the queue (due at once,
   * the attempt not counted) and commits what finished. Jobs are in the database: nothing is lost.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.wake();
    await this.loop;
    const running = Promise.allSettled([...this.active.values()]);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, STOP_WAIT_MS, 'timeout').unref());
    if ((await Promise.race([running, timeout])) === 'timeout') {
      const ids = [...this.active.keys()];
      this.options.logger.info({ jobs: ids.length }, 'hydration: handing unfinished jobs back to the queue');
      this.progress.handedBack += ids.length;
      await this.options.queue
        .transaction((tx) => releaseJobs(tx, ids, this.instanceId, this.now()))
        .catch((error: unknown) => {
          this.options.logger.warn({ err: error }, 'hydration: could not hand jobs back; they run again when their lease ends');
        });
    }
    this.closed = true;
    while (this.flushing) await this.flushing;
    // What happened since the last progress line, so that none is lost to the restart.
    this.summarise();
  }

  /** The progress line: counts since the previous one, written only when something happened. */
  private summarise(): void {
    const { progress } = this;
    const now = this.now();
    if (progress.claimed + progress.completed + progress.failed + progress.parked + progress.handedBack > 0) {
      this.options.logger.info({ ...progress, running: this.active.size, intervalMs: now - this.progressSince }, 'hydration: progress');
    }
    this.progress = noProgress();
    this.progressSince = now;
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { pollMs, concurrency } = this.options.config;
    while (!this.stopping) {
      let claimed = 0;
      try {
        const now = this.now();
        if ((this.scanWanted && now - this.lastScan >= MIN_SCAN_GAP_MS) || now - this.lastScan >= pollMs) {
          this.scanWanted = false;
          this.lastScan = now;
          await this.scan();
        }
        const free = concurrency - this.active.size;
        if (free > 0 && !this.stopping) claimed = await this.claim(free);
      } catch (error) {
        // The database away: every poll fails the same way until it is back, then the loop goes on.
        this.repeated.error('loop', { err: error }, 'hydration: scanning or claiming failed; trying again');
      }
      if (this.stopping) break;
      // Busy: wait for a slot (a finishing job wakes us). Idle: wait for new events or the next poll.
      if (claimed === 0 || this.active.size >= concurrency) {
        await this.sleep(this.scanWanted ? MIN_SCAN_GAP_MS : pollMs);
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  private async scan(): Promise<void> {
    const { delayMs } = this.options.config;
    for (;;) {
      if (!(await hasUnscannedEvents(this.options.queue))) return;
      const result = await this.options.queue.transaction((tx) => scanEvents(tx, SCAN_BATCH, delayMs, this.now()));
      if (result.events < SCAN_BATCH || this.stopping) return;
    }
  }

  private async claim(limit: number): Promise<number> {
    const now = this.now();
    if (!(await hasClaimableJobs(this.options.queue, now))) return 0;
    const jobs = await this.options.queue.transaction((tx) =>
      claimJobs(tx, this.instanceId, limit, now, now + this.options.config.leaseMs),
    );
    this.progress.claimed += jobs.length;
    for (const job of jobs) {
      const running = this.execute(job).finally(() => {
        this.active.delete(job.id);
        this.wake();
      });
      this.active.set(job.id, running);
    }
    return jobs.length;
  }

  private async execute(job: ClaimedJob): Promise<void> {
    let outcome: Completion['outcome'];
    try {
      const access = await this.studioAccess(job.studioId);
      if (access === null) {
        outcome = {
          type: 'ok',
          write: async () => ({
            changes: [],
            note: 'the studio has no Open API key (or its operator no base URL): nothing to read',
            followUps: [],
          }),
        };
      } else {
        outcome = { type: 'ok', write: await hydratorOf(job.kind)(job, this.client(access), this.reads) };
      }
    } catch (error) {
      // Our database away is not the job's failure: no attempt is counted; it runs again when its lease ends.
      if (isDatabaseUnavailable(error)) {
        this.repeated.warn(
          'job-db',
          { err: error, jobId: job.id },
          'hydration: the database is unavailable; the job runs again when its lease ends',
        );
        return;
      }
      outcome = { type: 'failed', error };
    }
    this.options.metrics?.ran(outcome.type);
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.completions.push({ job, outcome, resolve });
      this.flushing ??= this.flush();
    });
  }

  private client(access: OpenApiAccess): OpenApi {
    const key = `${access.baseUrl}\n${access.apiKey}`;
    let client = this.clients.get(key);
    if (!client) {
      client = this.options.openApi(access);
      this.clients.set(key, client);
    }
    return client;
  }

  private async studioAccess(studioId: number): Promise<OpenApiAccess | null> {
    const cached = this.access.get(studioId);
    if (cached && this.now() - cached.at < ACCESS_TTL_MS) return cached.value;
    const [row] = await this.options.queue.read<{ apiKey: string | null; baseUrl: string | null }>(
      `SELECT s."apiKey", t."baseUrl" FROM ${TABLES.studios} s JOIN ${TABLES.tenants} t ON t."id" = s."tenantId" WHERE s."id" = ?`,
      [studioId],
    );
    const value = row && row.apiKey && row.baseUrl ? { studioId, baseUrl: row.baseUrl, apiKey: row.apiKey } : null;
    this.access.set(studioId, { at: this.now(), value });
    return value;
  }

  /** Group commit of finished runs, like the ingestor's: under load one transaction serves many jobs. */
  private async flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.completions.length > 0) {
        const batch = this.completions.splice(0, COMPLETION_BATCH);
        try {
          await this.commit(batch);
        } catch (error) {
          // One by one only helps against a bad job; with the database away each would wait in vain.
          if (batch.length > 1 && !isDatabaseUnavailable(error)) {
            for (const completion of batch) {
              await this.commit([completion]).catch((err: unknown) => {
                this.repeated.error(
                  'record',
                  { err, jobId: completion.job.id },
                  'hydration: could not record a finished job; it runs again when its lease ends',
                );
              });
            }
          } else {
            this.repeated.error(
              'record',
              { err: error, jobId: batch[0]!.job.id, jobs: batch.length },
              'hydration: could not record a finished job; it runs again when its lease ends',
            );
          }
        } finally {
          for (const completion of batch) completion.resolve();
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async commit(batch: readonly Completion[]): Promise<void> {
    const writes = batch.some((c) => c.outcome.type === 'ok');
    // Only runs that may append events need the ingest writer; failures are the queue's business.
    const db = writes ? this.options.writer : this.options.queue;
    /** Jobs this transaction finishes: counted, and logged at debug, once it committed. */
    const finished: { jobId: number; kind: string; key: string; changes: number }[] = [];
    const failures: { job: ClaimedJob; error: unknown }[] = [];
    await db.transaction(
      async (tx) => {
        finished.length = 0;
        failures.length = 0;
        const now = this.now();
        const events: Param[][] = [];
        const logged: LoggedEvent[] = [];
        for (const { job, outcome } of batch) {
          if (outcome.type === 'failed') {
            const changed = await failJob(
              tx,
              job.id,
              this.instanceId,
              describe(outcome.error),
              this.options.config.maxAttempts,
              now + this.backoff(job.attempts),
              now,
            );
            if (changed > 0) failures.push({ job, error: outcome.error });
            continue;
          }
          if (!(await this.stillOwned(tx, job.id))) continue;
          const result = await outcome.write(tx, now);
          await finishJob(tx, job.id, this.instanceId, result.note, now);
          finished.push({ jobId: job.id, kind: job.kind, key: job.upstreamKey, changes: result.changes.length });
          if (result.followUps.length > 0) {
            await queueTargets(
              tx,
              result.followUps.map((t) => ({
                ...t,
                tenantId: job.tenantId,
                studioId: job.studioId,
                firstSeq: job.lastSeq,
                lastSeq: job.lastSeq,
                dueAt: now,
              })),
              now,
            );
          }
          for (const change of result.changes) {
            const content = { record: change.record, jobId: job.id, changed: change.changed, ...(change.erased ? { erased: true } : {}) };
            const uuid = randomUUID();
            events.push(
              eventLogParams({
                uuid,
                position: 0,
                studioId: job.studioId,
                tenantId: job.tenantId,
                type: RECORD_HYDRATED_EVENT_TYPE,
                known: true,
                entityId: change.entityId,
                contentJson: JSON.stringify(content),
                occurredAt: now,
                receivedAt: now,
                digest: null,
              }),
            );
            logged.push({
              seq: 0,
              uuid,
              position: 0,
              studioId: job.studioId,
              tenantId: job.tenantId,
              type: RECORD_HYDRATED_EVENT_TYPE,
              known: true,
              entityId: change.entityId,
              content,
              occurredAt: now,
              receivedAt: now,
            });
          }
        }
        if (events.length === 0) return [];
        const inserted = await tx.insertMany<{ seq: number | string; uuid: string }>(EVENT_LOG_INSERT, events, `RETURNING "seq", "uuid"`);
        const seqs = new Map(inserted.map((r) => [r.uuid, Number(r.seq)]));
        return logged.map((event) => ({ ...event, seq: seqs.get(event.uuid)! })).sort((a, b) => a.seq - b.seq);
      },
      async (events) => {
        this.progress.completed += finished.length;
        for (const job of finished) this.options.logger.debug(job, 'hydration: job finished');
        for (const { job, error } of failures) this.failed(job, error);
        if (events.length === 0) return;
        this.options.onDurable?.();
        try {
          await this.options.feed.publish(events);
        } catch (error) {
          this.options.logger.error(
            { err: error, events: events.length },
            'hydration: announcing hydrated records failed (they are in the log)',
          );
        }
      },
    );
  }

  /**
   * A failed run: counted for the progress line and logged per job at debug; the warnings, which an
   * upstream outage would repeat for every job, once per interval with a count.
   */
  private failed(job: ClaimedJob, error: unknown): void {
    const parked = job.attempts >= this.options.config.maxAttempts;
    const fields = { jobId: job.id, kind: job.kind, key: job.upstreamKey, attempts: job.attempts, err: error };
    this.options.logger.debug(fields, parked ? 'hydration: job parked' : 'hydration: job failed');
    if (parked) {
      this.progress.parked += 1;
      this.repeated.warn(
        'job-parked',
        fields,
        'hydration: job parked after failing HYDRATION_MAX_ATTEMPTS times; retry it with retryHydrationJob once the cause is fixed',
      );
    } else {
      this.progress.failed += 1;
      this.repeated.warn('job-failed', fields, 'hydration: job failed; it is retried after its backoff');
    }
  }

  /** True while the job is still this instance's (its lease may have run out and been taken over). */
  private async stillOwned(tx: SqlTx, jobId: number): Promise<boolean> {
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const rows = await tx.all(
      `SELECT "id" FROM ${TABLES.hydration_jobs} WHERE "id" = ? AND "leaseOwner" = ? AND "state" = 'running'${lock}`,
      [jobId, this.instanceId],
    );
    return rows.length > 0;
  }

  /** Exponential backoff with jitter: half to all of base * 2^(attempts-1), capped. */
  private backoff(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.options.config;
    const full = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
    return Math.round(full / 2 + (this.random() * full) / 2);
  }
}

/** A failure as shown to admins: the upstream's status, endpoint and message, never a key. */
function describe(error: unknown): string {
  if (error instanceof OpenApiError) {
    const extra = [error.errorCode && `code ${error.errorCode}`, error.traceId && `trace ${error.traceId}`].filter(Boolean).join(', ');
    return `${error.status === 0 ? 'no answer' : `HTTP ${error.status}`} from ${error.endpoint}: ${error.message}${extra ? ` (${extra})` : ''}`.slice(
      0,
      2000,
    );
  }
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);
}

import type { DataSource } from 'typeorm';
import { HAS_OPEN_API_ACCESS } from '../domains/studios/open-api-access.js';
import type { Param } from '../db/sql-writer.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { RepeatedLog, type Logger } from '../log.js';
import type { ReconcileMetrics } from '../metrics/metrics.js';
import { RECONCILE_KINDS, type Reconciler } from './reconciler.js';
import { TABLES } from '../db/tables.js';

/** Any constant; the same for every instance sharing a PostgreSQL database. */
const RECONCILE_LOCK_KEY = 0x6779_7263;

export interface ReconcileSchedulerOptions {
  /** Time between the end of one round and the start of the next, in ms (`RECONCILE_EVERY`). */
  readonly everyMs: number;
  /** Check-ins of the last `lookbackMs` are compared (`RECONCILE_LOOKBACK`). */
  readonly lookbackMs: number;
  readonly reconciler: Reconciler;
  /** For the list of studios (SqlWriter.read). */
  readonly read: <T>(sql: string, params?: readonly Param[]) => Promise<T[]>;
  /** On PostgreSQL, the advisory lock that lets one instance at a time run a round. */
  readonly dataSource: DataSource;
  readonly logger: Logger;
  /** Runs and repairs; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: ReconcileMetrics | undefined;
}

export interface ReconcileScheduler {
  /** Runs a round now (unless one is running here, or on another instance). */
  runOnce(): Promise<void>;
  /** No further rounds; a round in progress stops after its current customer. */
  stop(): Promise<void>;
}

/**
 * Reconciles every active studio with an Open API key and tenant URL, every `everyMs`, inside the
 * server. On PostgreSQL a round runs under a session advisory lock taken with try-lock: when another
 * instance holds it, this one skips the round. Each studio's counts are logged as one line.
 */
export function startReconcileScheduler(options: ReconcileSchedulerOptions): ReconcileScheduler {
  const { logger } = options;
  const log = logger.child({ component: 'reconcile' });
  /** A database outage fails round after round the same way: logged once per interval, with a count. */
  const repeated = new RepeatedLog(log);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const abort = new AbortController();

  const round = async () => {
    const lock = options.dataSource.options.type === 'postgres' ? options.dataSource.createQueryRunner() : undefined;
    try {
      if (lock) {
        const [row] = (await lock.query('SELECT pg_try_advisory_lock($1) AS "locked"', [RECONCILE_LOCK_KEY])) as { locked: boolean }[];
        if (!row?.locked) {
          log.info('reconciliation round skipped: another instance is running one');
          return;
        }
      }
      try {
        const studios = await options.read<{ id: number }>(
          `SELECT s."id" FROM ${TABLES.studios} s JOIN ${TABLES.tenants} t ON t."id" = s."tenantId"
           WHERE s."status" = 'active' AND ${HAS_OPEN_API_ACCESS} ORDER BY s."id"`,
        );
        log.info({ studios: studios.length }, 'reconciliation round started');
        const roundStarted = Date.now();
        let repaired = 0;
        for (const { id } of studios) {
          if (abort.signal.aborted) return;
          const since = new Date(Date.now() - options.lookbackMs);
          log.info({ studioId: Number(id), since: since.toISOString() }, 'reconciliation of a studio started');
          try {
            const report = await options.reconciler.reconcileStudio(Number(id), { since, signal: abort.signal });
            options.metrics?.run('ok');
            if (options.metrics) for (const kind of RECONCILE_KINDS) options.metrics.repaired(kind, report.counts[kind].repaired);
            const total = (field: 'seen' | 'present' | 'repaired' | 'skipped') =>
              RECONCILE_KINDS.reduce((sum, k) => sum + report.counts[k][field], 0);
            log.info(
              {
                studioId: report.studioId,
                since: report.since.toISOString(),
                durationMs: report.durationMs,
                seen: total('seen'),
                present: total('present'),
                repaired: total('repaired'),
                skipped: total('skipped'),
                counts: report.counts,
                customerErrors: report.customerErrors,
              },
              'reconciliation of a studio finished',
            );
            repaired += total('repaired');
          } catch (error) {
            if (abort.signal.aborted) return;
            options.metrics?.run('failed');
            if (isDatabaseUnavailable(error)) {
              // The other studios would fail the same way: the round ends here.
              repeated.error(
                'database',
                { err: error, studioId: Number(id) },
                'reconciliation stopped: the database is unavailable; the next round tries again',
              );
              return;
            }
            log.error({ err: error, studioId: Number(id) }, 'reconciliation of a studio failed; the next round tries again');
          }
        }
        log.info({ studios: studios.length, repaired, durationMs: Date.now() - roundStarted }, 'reconciliation round finished');
      } finally {
        await lock?.query('SELECT pg_advisory_unlock($1)', [RECONCILE_LOCK_KEY]);
      }
    } finally {
      await lock?.release();
    }
  };

  const runOnce = (): Promise<void> => {
    running ??= round()
      .catch((error: unknown) => {
        if (isDatabaseUnavailable(error))
          repeated.error(
            'database',
            { err: error },
            'reconciliation round failed: the database is unavailable; the next round tries again',
          );
        else log.error({ err: error }, 'reconciliation round failed');
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), options.everyMs);
    timer.unref();
  };
  schedule();
  log.info({ everyMs: options.everyMs, lookbackMs: options.lookbackMs }, 'reconciliation scheduled');

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}

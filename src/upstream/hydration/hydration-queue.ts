import type { Param, SqlTx, SqlWriter } from '../../db/sql-writer.js';
import { HYDRATION_KINDS, type HydrationKind } from './hydration-job.entity.js';
import type { HydrationTarget, JobParams } from './hydration-targets.js';
import type { ClaimedJob } from '../../domains/hydrator.js';
import { TABLES } from '../../db/tables.js';

/** A target with the tenant, studio and events that asked for it. */
export interface QueuedTarget extends HydrationTarget {
  readonly tenantId: number;
  readonly studioId: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** When it may run first (epoch ms). */
  readonly dueAt: number;
}

const INSERT_JOBS =
  `INSERT INTO ${TABLES.hydration_jobs} ("tenantId", "studioId", "kind", "upstreamKey", "params", "state", "version", "attempts", "dueAt", ` +
  `"firstSeq", "lastSeq", "runs", "createdAt", "updatedAt")`;

/**
 * `refresh`: a job that is queued, retrying or running keeps its place and its schedule (a running
 * one runs again afterwards: `version` no longer matches its `runVersion`); a done or parked one is
 * queued again from scratch. All SET expressions see the row as it was (SQL semantics).
 */
const REFRESH =
  `ON CONFLICT ("tenantId", "kind", "upstreamKey") DO UPDATE SET "version" = hydration_jobs."version" + 1, ` +
  `"studioId" = excluded."studioId", "params" = COALESCE(excluded."params", hydration_jobs."params"), "lastSeq" = excluded."lastSeq", ` +
  `"updatedAt" = excluded."updatedAt", ` +
  `"attempts" = CASE WHEN hydration_jobs."state" IN ('done', 'parked') THEN 0 ELSE hydration_jobs."attempts" END, ` +
  `"dueAt" = CASE WHEN hydration_jobs."state" IN ('done', 'parked') THEN excluded."dueAt" ELSE hydration_jobs."dueAt" END, ` +
  `"state" = CASE WHEN hydration_jobs."state" IN ('done', 'parked') THEN 'queued' ELSE hydration_jobs."state" END`;
const ENSURE = `ON CONFLICT ("tenantId", "kind", "upstreamKey") DO NOTHING`;

/**
 * Queues targets, coalescing those about the same (tenant, kind, key) first: a `refresh` wins over
 * an `ensure`, the latest event's studio and params win, the earliest due time wins.
 */
export async function queueTargets(tx: SqlTx, targets: readonly QueuedTarget[], now: number): Promise<number> {
  const merged = new Map<string, QueuedTarget>();
  for (const t of targets) {
    const key = `${t.tenantId}|${t.kind}|${t.key}`;
    const seen = merged.get(key);
    merged.set(
      key,
      seen === undefined
        ? t
        : {
            ...t,
            mode: seen.mode === 'refresh' || t.mode === 'refresh' ? 'refresh' : 'ensure',
            params: t.params ?? seen.params,
            firstSeq: Math.min(seen.firstSeq, t.firstSeq),
            lastSeq: Math.max(seen.lastSeq, t.lastSeq),
            dueAt: Math.min(seen.dueAt, t.dueAt),
            studioId: t.lastSeq >= seen.lastSeq ? t.studioId : seen.studioId,
          },
    );
  }
  const row = (t: QueuedTarget): Param[] => [
    t.tenantId,
    t.studioId,
    t.kind,
    t.key,
    t.params === null ? null : JSON.stringify(t.params),
    'queued',
    1,
    0,
    t.dueAt,
    t.firstSeq,
    t.lastSeq,
    0,
    now,
    now,
  ];
  const all = [...merged.values()];
  await tx.insertMany(INSERT_JOBS, all.filter((t) => t.mode === 'refresh').map(row), REFRESH);
  await tx.insertMany(INSERT_JOBS, all.filter((t) => t.mode === 'ensure').map(row), ENSURE);
  return all.length;
}

interface ClaimRow {
  id: number | string;
  tenantId: number;
  studioId: number;
  kind: string;
  upstreamKey: string;
  params: string | null;
  attempts: number;
  lastSeq: number | string;
}

/**
 * Claims up to `limit` due jobs for `owner` until `leaseUntil`: queued and retrying jobs whose time
 * has come, and running jobs whose lease ran out (their instance died). On PostgreSQL `FOR UPDATE
 * SKIP LOCKED` lets instances claim side by side without waiting for or taking each other's jobs; on
 * SQLite the writer's `BEGIN IMMEDIATE` makes the claim exclusive.
 */
/** Jobs that may be claimed at `now` (bound twice): due ones, and running ones whose lease ran out. */
const CLAIMABLE = `("state" IN ('queued', 'retrying') AND "dueAt" <= ?) OR ("state" = 'running' AND "leaseUntil" < ?)`;

/**
 * Whether {@link claimJobs} would find anything, by a plain read: the runner asks this first, so an
 * idle queue costs no write transaction (on SQLite each one is an fsync in the webhooks' writer).
 */
export async function hasClaimableJobs(db: Pick<SqlWriter, 'read'>, now: number): Promise<boolean> {
  return (await db.read(`SELECT 1 AS "due" FROM ${TABLES.hydration_jobs} WHERE ${CLAIMABLE} LIMIT 1`, [now, now])).length > 0;
}

export async function claimJobs(tx: SqlTx, owner: string, limit: number, now: number, leaseUntil: number): Promise<ClaimedJob[]> {
  const due = `SELECT "id" FROM ${TABLES.hydration_jobs} WHERE ${CLAIMABLE} ORDER BY "dueAt" LIMIT ?${tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''}`;
  const rows = await tx.all<ClaimRow>(
    `UPDATE ${TABLES.hydration_jobs} SET "state" = 'running', "leaseOwner" = ?, "leaseUntil" = ?, "runVersion" = "version", "attempts" = "attempts" + 1, ` +
      `"updatedAt" = ? WHERE "id" IN (${due}) RETURNING "id", "tenantId", "studioId", "kind", "upstreamKey", "params", "attempts", "lastSeq"`,
    [owner, leaseUntil, now, now, now, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    tenantId: Number(r.tenantId),
    studioId: Number(r.studioId),
    kind: parseKind(r.kind),
    upstreamKey: r.upstreamKey,
    params: r.params === null ? null : (JSON.parse(r.params) as JobParams),
    attempts: Number(r.attempts),
    lastSeq: Number(r.lastSeq),
  }));
}

function parseKind(kind: string): HydrationKind {
  if ((HYDRATION_KINDS as readonly string[]).includes(kind)) return kind as HydrationKind;
  throw new Error(`unknown hydration job kind ${JSON.stringify(kind)}`);
}

/**
 * Extends the leases of the jobs `owner` is running. On PostgreSQL it skips rows another transaction
 * holds (a scan re-queueing a running job, in its own row order): waiting for them, in heap order,
 * deadlocked against such scans with two instances. A skipped lease is renewed on the next round,
 * which comes at a third of the lease.
 */
export function renewLeases(tx: SqlTx, owner: string, leaseUntil: number, now: number): Promise<number> {
  const mine = `"leaseOwner" = ? AND "state" = 'running' AND "leaseUntil" >= ?`;
  if (tx.dialect !== 'postgres')
    return tx.run(`UPDATE ${TABLES.hydration_jobs} SET "leaseUntil" = ? WHERE ${mine}`, [leaseUntil, owner, now]);
  return tx.run(
    `UPDATE ${TABLES.hydration_jobs} SET "leaseUntil" = ? WHERE "id" IN (SELECT "id" FROM ${TABLES.hydration_jobs} WHERE ${mine} FOR UPDATE SKIP LOCKED)`,
    [leaseUntil, owner, now],
  );
}

/**
 * Marks a successful run: done — or queued again at once when an event asked for the job while it
 * ran. False when the job is no longer `owner`'s (its lease ran out and another instance took it):
 * then nothing of this run may be written.
 */
export async function finishJob(tx: SqlTx, jobId: number, owner: string, note: string | null, now: number): Promise<boolean> {
  const changed = await tx.run(
    `UPDATE ${TABLES.hydration_jobs} SET "state" = CASE WHEN "version" = "runVersion" THEN 'done' ELSE 'queued' END, "attempts" = 0, "dueAt" = ?, ` +
      `"leaseOwner" = NULL, "leaseUntil" = NULL, "lastError" = NULL, "note" = ?, "runs" = "runs" + 1, "doneAt" = ?, "updatedAt" = ? ` +
      `WHERE "id" = ? AND "leaseOwner" = ? AND "state" = 'running'`,
    [now, note, now, now, jobId, owner],
  );
  return changed > 0;
}

/** Marks a failed run: retrying at `retryAt`, or parked once `maxAttempts` attempts failed in a row. */
export function failJob(
  tx: SqlTx,
  jobId: number,
  owner: string,
  error: string,
  maxAttempts: number,
  retryAt: number,
  now: number,
): Promise<number> {
  return tx.run(
    `UPDATE ${TABLES.hydration_jobs} SET "state" = CASE WHEN "attempts" >= ? THEN 'parked' ELSE 'retrying' END, "dueAt" = ?, "leaseOwner" = NULL, ` +
      `"leaseUntil" = NULL, "lastError" = ?, "updatedAt" = ? WHERE "id" = ? AND "leaseOwner" = ? AND "state" = 'running'`,
    [maxAttempts, retryAt, error, now, jobId, owner],
  );
}

/** Gives claimed jobs back untouched (shutdown before they ran): due again at once, the attempt not counted. */
export function releaseJobs(tx: SqlTx, jobIds: readonly number[], owner: string, now: number): Promise<number> {
  if (jobIds.length === 0) return Promise.resolve(0);
  return tx.run(
    `UPDATE ${TABLES.hydration_jobs} SET "state" = CASE WHEN "attempts" > 1 THEN 'retrying' ELSE 'queued' END, "attempts" = "attempts" - 1, "dueAt" = ?, ` +
      `"leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = ? WHERE "leaseOwner" = ? AND "state" = 'running' AND "id" IN (${jobIds.map(() => '?').join(', ')})`,
    [now, now, owner, ...jobIds],
  );
}

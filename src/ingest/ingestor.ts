import { EVENT_LOG_INSERT, eventLogParams } from '../db/event-log-writer.js';
import type { Param, SqlTx, SqlWriter } from '../db/sql-writer.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { RepeatedLog, type Logger } from '../log.js';
import type { WebhookMetrics } from '../metrics/metrics.js';
import type { Delivery } from './delivery.js';
import { deliveryDigest } from './delivery.js';
import { toKnownEvent, type KnownEvent } from '../events/event-catalog.js';
import type { LoggedEvent } from '../events/logged-event.js';
import { project, readAhead, type ProjectionReads } from './projection.js';
import { TABLES } from '../db/tables.js';

/** A delivery whose key matched an active studio and whose body passed validation. */
export interface Submission {
  readonly studioId: number;
  readonly tenantId: number;
  readonly delivery: Delivery;
  /** Epoch ms. */
  readonly receivedAt: number;
}

export type IngestOutcome =
  | { readonly status: 'stored'; readonly stored: number; readonly duplicates: number; readonly events: readonly LoggedEvent[] }
  /** The studio was disabled between the key check and the commit: nothing stored. */
  | { readonly status: 'studio-disabled' }
  /**
   * The uuid is already stored (for this tenant, or earlier in the same batch) with another body:
   * nothing stored. Both digests are given for the log.
   */
  | { readonly status: 'conflict'; readonly digest: string; readonly storedDigest: string };

/** A delivery that failed on its own in the isolated retry (see {@link Ingestor}): answered with its error. */
interface Failed {
  readonly status: 'failed';
  readonly error: unknown;
}

export class IngestOverloadedError extends Error {
  constructor() {
    super('too many deliveries waiting to be stored');
  }
}

export interface IngestorOptions {
  /** Most events per transaction. @default 500 */
  readonly maxBatchEvents?: number;
  /** Deliveries allowed to wait for a transaction before new ones get 503. @default 20000 */
  readonly maxQueued?: number;
  /**
   * Called with the events of each committed batch, in sequence order, after the batch's webhooks
   * were answered. The next batch (of any instance sharing the database) waits until the returned
   * promise settles, so announcements leave in commit order; keep it short. Errors are logged.
   */
  readonly onCommitted?: (events: readonly LoggedEvent[]) => void | Promise<void>;
  /**
   * Called synchronously after each batch's COMMIT, before any of its webhooks is acknowledged: a
   * read started after an acknowledgement then knows the data changed (the answer cache's data
   * generation, src/graphql/answer-cache.ts).
   */
  readonly onDurable?: () => void;
  /**
   * Called inside each batch's transaction once its events are stored, with those events: reads it
   * queues there (`tx.allLater`) go to the database with the COMMIT. Returns what to run once the
   * batch has committed, before `onCommitted` announces it (src/realtime/record-preload.ts), or
   * nothing. Not called for a batch that fails; what it returns is then dropped.
   */
  readonly withinCommit?: (tx: SqlTx, events: readonly LoggedEvent[]) => (() => Promise<void>) | undefined;
  /** Events stored by type, batch sizes and commit durations; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: WebhookMetrics | undefined;
}

interface Pending {
  readonly submission: Submission;
  resolve(outcome: IngestOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit. Deliveries arriving while a transaction is open wait and go together in the next
 * one, so under load one commit (and one fsync) serves hundreds of webhooks, and at low rates each
 * delivery still commits at once. A webhook is acknowledged only after the transaction holding its
 * events and their effects has committed.
 */
export class Ingestor {
  private readonly queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly maxBatchEvents: number;
  private readonly maxQueued: number;
  /** A database outage fails every batch the same way: once per interval, with a count. */
  private readonly outage: RepeatedLog;

  constructor(
    private readonly writer: SqlWriter,
    private readonly logger: Logger,
    private readonly options: IngestorOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 500;
    this.maxQueued = options.maxQueued ?? 20_000;
    this.outage = new RepeatedLog(logger);
  }

  /** Stores a delivery; resolves once it is durable (or known to be a duplicate). */
  submit(submission: Submission): Promise<IngestOutcome> {
    if (this.queue.length >= this.maxQueued) return Promise.reject(new IngestOverloadedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ submission, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Resolves when every submitted delivery has been answered. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // Let the requests that arrived in this tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.commit(batch, false);
        } catch (error) {
          await this.recover(batch, error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * After a batch transaction failed. Database unavailable: the whole batch is refused at once (the
   * handler answers 503; retrying delivery by delivery would only hammer a database that is down).
   * Anything else is retried once, in ONE transaction where each delivery runs under its own
   * savepoint: the culprit is rolled back and answered with its error, the others commit together.
   * So a bad delivery costs its neighbours one retry, never a transaction each.
   */
  private async recover(batch: Pending[], error: unknown): Promise<void> {
    if (batch.length === 1 || isDatabaseUnavailable(error)) {
      if (isDatabaseUnavailable(error))
        this.outage.error(
          'database-unavailable',
          { err: error, deliveries: batch.length },
          'could not store deliveries: database unavailable (answered 503)',
        );
      else this.logger.error({ err: error, uuid: batch[0]!.submission.delivery.uuid }, 'could not store delivery');
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.logger.warn({ err: error, deliveries: batch.length }, 'batch failed; retrying it with a savepoint per delivery');
    try {
      await this.commit(batch, true);
    } catch (retryError) {
      this.logger.error({ err: retryError, deliveries: batch.length }, 'could not store batch, even with a savepoint per delivery');
      for (const pending of batch) pending.reject(retryError);
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let events = 0;
    while (this.queue.length > 0) {
      const size = this.queue[0]!.submission.delivery.elements.length;
      if (batch.length > 0 && events + size > this.maxBatchEvents) break;
      batch.push(this.queue.shift()!);
      events += size;
    }
    return batch;
  }

  private async commit(batch: Pending[], isolated: boolean): Promise<void> {
    const { metrics } = this.options;
    const started = metrics ? performance.now() : 0;
    const { withinCommit } = this.options;
    let committedWork: (() => Promise<void>) | undefined;
    await this.writer.transaction(
      async (tx) => {
        const submissions = batch.map((p) => p.submission);
        const outcomes = isolated ? await storeIsolated(tx, submissions) : await store(tx, submissions);
        committedWork = undefined;
        if (withinCommit) {
          const stored = outcomes.flatMap((outcome) => (outcome.status === 'stored' ? outcome.events : []));
          // An extra: whatever goes wrong in it must not fail the batch.
          try {
            if (stored.length > 0) committedWork = withinCommit(tx, stored);
          } catch (error) {
            this.logger.warn({ err: error }, 'work inside a commit failed; the batch goes on without it');
          }
        }
        return outcomes;
      },
      async (outcomes) => {
        this.options.onDurable?.();
        metrics?.committed(batch.length, performance.now() - started);
        const committed: LoggedEvent[] = [];
        batch.forEach((pending, index) => {
          const outcome = outcomes[index]!;
          if (outcome.status === 'failed') {
            this.logger.error({ err: outcome.error, uuid: pending.submission.delivery.uuid }, 'could not store delivery');
            pending.reject(outcome.error);
            return;
          }
          if (outcome.status === 'stored') committed.push(...outcome.events);
          pending.resolve(outcome);
        });
        if (metrics) for (const event of committed) metrics.event(event.type, event.known);
        if (committedWork) {
          try {
            await committedWork();
          } catch (error) {
            this.logger.warn({ err: error }, 'work after a commit failed; the events are announced without it');
          }
        }
        if (committed.length === 0 || !this.options.onCommitted) return;
        committed.sort((a, b) => a.seq - b.seq);
        try {
          await this.options.onCommitted(committed);
        } catch (error) {
          this.logger.error(
            { err: error, events: committed.length, lastSeq: committed[committed.length - 1]!.seq },
            'publishing committed events failed',
          );
        }
      },
    );
  }
}

const ON_DUPLICATE = `ON CONFLICT ("tenantId", "uuid", "position") DO NOTHING RETURNING "seq", "tenantId", "uuid", "position"`;

/**
 * Logs the batch's events (skipping ones already logged) and applies the new ones, in one transaction.
 *
 * The studios are checked again inside the transaction (the CLI may have disabled one since its key
 * was checked), but the check travels with the events' INSERT: on PostgreSQL `BEGIN`, the ingest
 * lock, the check and the INSERT are one message, so the transaction waits for this process one
 * round trip less (each costs a turn of the event loop, which a busy process makes long). Should a
 * studio have been disabled meanwhile (rare), the rows are taken back and only the others stored.
 */
async function store(tx: SqlTx, submissions: readonly Submission[]): Promise<IngestOutcome[]> {
  const checked = activeStudiosLater(tx, submissions);
  const inserting = tx.insertManyLater<InsertedRow>(EVENT_LOG_INSERT, eventRows(submissions), ON_DUPLICATE);
  // The projection's reads, after the INSERT in the same message, for every event of the batch
  // (new or not: see VisitProjector).
  const reads = readAhead(
    tx,
    submissions.flatMap(({ tenantId, delivery }) =>
      delivery.elements.map((element) => ({
        tenantId,
        entityId: delivery.entityId,
        type: element.type,
        occurredAt: element.timestamp,
      })),
    ),
  );
  await tx.flush();
  const inserted = await inserting;
  const active = await checked;
  if (submissions.every((s) => active.has(s.studioId))) return storeGroup(tx, submissions, active, { inserted, reads });
  await takeBack(
    tx,
    inserted.map((row) => Number(row.seq)),
  );
  return storeGroup(tx, submissions, active);
}

const SAVEPOINT = 'ingest_delivery';

/**
 * Like {@link store}, but each delivery under its own savepoint: one that fails is rolled back and
 * comes out as `failed`, the others stay. Database unavailability is not one delivery's fault, so
 * it fails the whole transaction.
 */
async function storeIsolated(tx: SqlTx, submissions: readonly Submission[]): Promise<(IngestOutcome | Failed)[]> {
  const active = await activeStudios(tx, submissions);
  const outcomes: (IngestOutcome | Failed)[] = [];
  for (const submission of submissions) {
    await tx.run(`SAVEPOINT ${SAVEPOINT}`);
    try {
      const [outcome] = await storeGroup(tx, [submission], active);
      // Also sends what the delivery queued on PostgreSQL, so its errors surface here, not at COMMIT.
      await tx.run(`RELEASE SAVEPOINT ${SAVEPOINT}`);
      outcomes.push(outcome!);
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      await rollbackToSavepoint(tx);
      outcomes.push({ status: 'failed', error });
    }
  }
  return outcomes;
}

async function rollbackToSavepoint(tx: SqlTx): Promise<void> {
  const statement = `ROLLBACK TO SAVEPOINT ${SAVEPOINT}`;
  try {
    await tx.run(statement);
  } catch {
    // On PostgreSQL the first attempt may travel with writes the failed delivery queued, and one
    // failing skips the rest of that message; the queue is empty now, so this one runs alone.
    await tx.run(statement);
  }
  await tx.run(`RELEASE SAVEPOINT ${SAVEPOINT}`);
}

interface Placed {
  readonly submission: Submission;
  readonly events: LoggedEvent[];
}

/** What the events' INSERT returns for each new row. */
interface InsertedRow {
  readonly seq: number;
  readonly tenantId: number;
  readonly uuid: string;
  readonly position: number;
}

/** The rows of EVENT_LOG_INSERT for every element of the submissions. */
function eventRows(submissions: readonly Submission[]): Param[][] {
  const rows: Param[][] = [];
  for (const { studioId, tenantId, delivery, receivedAt } of submissions) {
    delivery.elements.forEach((element, position) => {
      rows.push(
        eventLogParams({
          uuid: delivery.uuid,
          position,
          studioId,
          tenantId,
          type: element.type,
          known: element.known,
          entityId: delivery.entityId,
          contentJson: element.contentJson,
          occurredAt: element.timestamp,
          receivedAt,
          digest: delivery.digest,
        }),
      );
    });
  }
  return rows;
}

/** Deletes rows this transaction logged (by seq) that must not stay. */
async function takeBack(tx: SqlTx, seqs: readonly number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += 500) {
    const slice = seqs.slice(i, i + 500);
    await tx.run(`DELETE FROM ${TABLES.events} WHERE "seq" IN (${slice.map(() => '?').join(', ')})`, slice);
  }
}

/** What {@link store} sent ahead for a batch of active studios only. */
interface SentAhead {
  /** What the INSERT of all of the batch's events returned. */
  readonly inserted: readonly InsertedRow[];
  /** The projection's reads, made right after that INSERT. */
  readonly reads: ProjectionReads;
}

/**
 * Stores the submissions of active studios: logs their events (unless `ahead` did), answers
 * duplicates and conflicts, projects the new events.
 */
async function storeGroup(
  tx: SqlTx,
  submissions: readonly Submission[],
  active: ReadonlySet<number>,
  ahead?: SentAhead,
): Promise<IngestOutcome[]> {
  const accepted = submissions.filter((s) => active.has(s.studioId));
  const inserted = ahead?.inserted ?? (await tx.insertMany<InsertedRow>(EVENT_LOG_INSERT, eventRows(accepted), ON_DUPLICATE));
  const seqByKey = new Map(inserted.map((r) => [`${r.tenantId}|${r.uuid}|${r.position}`, Number(r.seq)]));

  // Which delivery each new row belongs to: the first in the batch with that key.
  const placed: Placed[] = accepted.map((submission) => {
    const { studioId, tenantId, delivery, receivedAt } = submission;
    const events: LoggedEvent[] = [];
    delivery.elements.forEach((element, position) => {
      const key = `${tenantId}|${delivery.uuid}|${position}`;
      const seq = seqByKey.get(key);
      if (seq === undefined) return; // already in the log
      seqByKey.delete(key); // the same uuid twice in one batch: only the first one is new
      events.push({
        seq,
        uuid: delivery.uuid,
        position,
        studioId,
        tenantId,
        type: element.type,
        known: element.known,
        entityId: delivery.entityId,
        content: element.content,
        occurredAt: element.timestamp,
        receivedAt,
      });
    });
    return { submission, events };
  });

  // The uuid was there already (or earlier in this batch): the same body is a duplicate, another is
  // a conflict. Every delivery starts at position 0, so a known uuid always leaves at least one row
  // out; a delivery only partly new carries another number of elements, so is a conflict for sure,
  // and the positions it added are taken back before the stored body is read.
  const seen = placed.filter((p) => p.events.length < p.submission.delivery.elements.length);
  const storedDigests = seen.length === 0 ? new Map<string, string>() : await readStoredDigests(tx, seen);
  const conflicts = new Map<Submission, string>();
  for (const { submission } of seen) {
    const storedDigest = storedDigests.get(`${submission.tenantId}|${submission.delivery.uuid}`) ?? '';
    if (storedDigest !== submission.delivery.digest) conflicts.set(submission, storedDigest);
  }

  const known: KnownEvent[] = [];
  const byDelivery = new Map(placed.map((p) => [p.submission, p.events]));
  const outcomes = submissions.map((submission): IngestOutcome => {
    if (!active.has(submission.studioId)) return { status: 'studio-disabled' };
    const storedDigest = conflicts.get(submission);
    if (storedDigest !== undefined) return { status: 'conflict', digest: submission.delivery.digest, storedDigest };
    const events = byDelivery.get(submission)!;
    for (const event of events) {
      const typed = toKnownEvent(event);
      if (typed) known.push(typed);
    }
    return { status: 'stored', stored: events.length, duplicates: submission.delivery.elements.length - events.length, events };
  });

  // Reads made ahead saw the rows just taken back, if any: then they are made again.
  const takenBack = seen.some((p) => p.events.length > 0);
  await project(known, tx, takenBack ? undefined : ahead?.reads);
  return outcomes;
}

/**
 * Takes back the rows of deliveries only partly new (see {@link storeGroup}), then reads the digest
 * of each uuid in `seen` as stored: `tenantId|uuid` -> digest. Rows logged before digests were
 * stored (migration 1764000000004) have none: for those it is rebuilt from the rows themselves
 * (entityId, type, occurredAt, content by position), which hold everything the digest covers.
 */
async function readStoredDigests(tx: SqlTx, seen: readonly Placed[]): Promise<Map<string, string>> {
  await takeBack(
    tx,
    seen.flatMap((p) => p.events.map((e) => e.seq)),
  );
  const byTenant = new Map<number, Set<string>>();
  for (const { submission } of seen) {
    let uuids = byTenant.get(submission.tenantId);
    if (!uuids) byTenant.set(submission.tenantId, (uuids = new Set()));
    uuids.add(submission.delivery.uuid);
  }
  const where: string[] = [];
  const params: Param[] = [];
  for (const [tenantId, uuids] of byTenant) {
    where.push(`("tenantId" = ? AND "uuid" IN (${[...uuids].map(() => '?').join(', ')}))`);
    params.push(tenantId, ...uuids);
  }
  const rows = await tx.all<{
    tenantId: number;
    uuid: string;
    position: number;
    digest: string | null;
    entityId: number;
    type: string;
    occurredAt: number;
    content: string | null;
  }>(
    `SELECT "tenantId", "uuid", "position", "digest", "entityId", "type", "occurredAt", "content" FROM ${TABLES.events} WHERE ${where.join(' OR ')} ORDER BY "tenantId", "uuid", "position"`,
    params,
  );
  const grouped = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${Number(row.tenantId)}|${row.uuid}`;
    const group = grouped.get(key);
    if (group) group.push(row);
    else grouped.set(key, [row]);
  }
  const digests = new Map<string, string>();
  for (const [key, group] of grouped) {
    const first = group[0]!;
    digests.set(
      key,
      first.digest ??
        deliveryDigest(
          Number(first.entityId),
          group.map((row) => ({
            type: row.type,
            timestamp: Number(row.occurredAt),
            content: row.content === null ? null : (JSON.parse(row.content) as Record<string, unknown>),
          })),
        ),
    );
  }
  return digests;
}

/** Re-checks, inside the transaction, that each studio is still active (the CLI may have disabled it). */
async function activeStudios(tx: SqlTx, submissions: readonly Submission[]): Promise<Set<number>> {
  const { sql, ids } = activeStudiosQuery(submissions);
  return new Set((await tx.all<{ id: number }>(sql, ids)).map((r) => Number(r.id)));
}

/** {@link activeStudios}, sent with the next statement (SqlTx.allLater). */
function activeStudiosLater(tx: SqlTx, submissions: readonly Submission[]): Promise<Set<number>> {
  const { sql, ids } = activeStudiosQuery(submissions);
  const active = tx.allLater<{ id: number }>(sql, ids).then((rows) => new Set(rows.map((r) => Number(r.id))));
  active.catch(() => undefined); // awaited after the INSERT: when that fails first, nobody awaits this
  return active;
}

function activeStudiosQuery(submissions: readonly Submission[]): { sql: string; ids: number[] } {
  const ids = [...new Set(submissions.map((s) => s.studioId))];
  return { sql: `SELECT "id" FROM ${TABLES.studios} WHERE "status" = 'active' AND "id" IN (${ids.map(() => '?').join(', ')})`, ids };
}

import type { SqlTx, SqlWriter } from '../../db/sql-writer.js';
import { HAS_OPEN_API_ACCESS } from '../../domains/studios/open-api-access.js';
import type { LoggedEvent } from '../../events/logged-event.js';
import { hydrationTargets } from './hydration-targets.js';
import { queueTargets, type QueuedTarget } from './hydration-queue.js';
import { TABLES } from '../../db/tables.js';

/** The scanner's row in `log_cursors`. */
export const HYDRATION_CURSOR = 'hydration';

interface EventRow {
  seq: number | string;
  uuid: string;
  position: number;
  studioId: number;
  tenantId: number;
  type: string;
  known: boolean | number;
  entityId: number | string;
  content: string | null;
  occurredAt: number | string;
  receivedAt: number | string;
}

export interface ScanResult {
  /** Events read (0: the scanner has caught up). */
  readonly events: number;
  /** Jobs queued or refreshed (after coalescing). */
  readonly targets: number;
}

/**
 * One step of the scanner: reads up to `limit` events after the cursor, queues the jobs they ask for
 * and moves the cursor past them — all in `tx`, so a crash either does all of it or none. Events of
 * studios without Open API access (no key, or a tenant without a base URL) ask for nothing.
 *
 * Reading "after seq N" misses nothing because `seq` follows commit order: every transaction that
 * appends to the log (ingest, and hydration's own events) holds the ingest lock on PostgreSQL, and
 * SQLite has one writer. On PostgreSQL the cursor row is locked first, so scanners of several
 * instances take turns instead of queueing the same events twice.
 */
/**
 * Whether the log has events after the scanner's cursor, by a plain read: the scanner asks this first,
 * so a quiet log costs no write transaction.
 */
export async function hasUnscannedEvents(db: Pick<SqlWriter, 'read'>): Promise<boolean> {
  const rows = await db.read(
    `SELECT 1 AS "unscanned" FROM ${TABLES.events} WHERE "seq" > COALESCE((SELECT "seq" FROM ${TABLES.log_cursors} WHERE "name" = ?), 0) LIMIT 1`,
    [HYDRATION_CURSOR],
  );
  return rows.length > 0;
}

export async function scanEvents(tx: SqlTx, limit: number, delayMs: number, now: number): Promise<ScanResult> {
  const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const [cursor] = await tx.all<{ seq: number | string }>(`SELECT "seq" FROM ${TABLES.log_cursors} WHERE "name" = ?${lock}`, [
    HYDRATION_CURSOR,
  ]);
  if (!cursor) {
    // Only if someone deleted the row: start from the end of the log rather than re-read all of it.
    await tx.run(`INSERT INTO ${TABLES.log_cursors} ("name", "seq") SELECT ?, COALESCE(MAX("seq"), 0) FROM ${TABLES.events}`, [
      HYDRATION_CURSOR,
    ]);
    return { events: 0, targets: 0 };
  }
  const rows = await tx.all<EventRow>(
    `SELECT "seq", "uuid", "position", "studioId", "tenantId", "type", "known", "entityId", "content", "occurredAt", "receivedAt" ` +
      `FROM ${TABLES.events} WHERE "seq" > ? ORDER BY "seq" LIMIT ?`,
    [Number(cursor.seq), limit],
  );
  if (rows.length === 0) return { events: 0, targets: 0 };
  const open = new Set(
    (
      await tx.all<{ id: number }>(
        `SELECT s."id" FROM ${TABLES.studios} s JOIN ${TABLES.tenants} t ON t."id" = s."tenantId" WHERE ${HAS_OPEN_API_ACCESS}`,
      )
    ).map((r) => Number(r.id)),
  );
  const targets: QueuedTarget[] = [];
  for (const row of rows) {
    if (!open.has(Number(row.studioId))) continue;
    const event = toLoggedEvent(row);
    for (const target of hydrationTargets(event)) {
      targets.push({
        ...target,
        tenantId: event.tenantId,
        studioId: event.studioId,
        firstSeq: event.seq,
        lastSeq: event.seq,
        dueAt: Math.max(event.receivedAt + delayMs, 0),
      });
    }
  }
  const queued = targets.length === 0 ? 0 : await queueTargets(tx, targets, now);
  await tx.run(`UPDATE ${TABLES.log_cursors} SET "seq" = ? WHERE "name" = ?`, [Number(rows[rows.length - 1]!.seq), HYDRATION_CURSOR]);
  return { events: rows.length, targets: queued };
}

function toLoggedEvent(row: EventRow): LoggedEvent {
  let content: Record<string, unknown> | null = null;
  if (row.content !== null) {
    const parsed: unknown = JSON.parse(row.content);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) content = parsed as Record<string, unknown>;
  }
  return {
    seq: Number(row.seq),
    uuid: row.uuid,
    position: Number(row.position),
    studioId: Number(row.studioId),
    tenantId: Number(row.tenantId),
    type: row.type,
    known: Boolean(Number(row.known)),
    entityId: Number(row.entityId),
    content,
    occurredAt: Number(row.occurredAt),
    receivedAt: Number(row.receivedAt),
  };
}

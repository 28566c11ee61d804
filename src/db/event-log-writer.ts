import type { Param } from './sql-writer.js';
import { TABLES } from './tables.js';

/** One row of the event log as it is written, by ingest and by hydration alike. */
export interface EventLogRow {
  readonly uuid: string;
  readonly position: number;
  readonly studioId: number;
  readonly tenantId: number;
  readonly type: string;
  readonly known: boolean;
  readonly entityId: number;
  /** `content` as JSON text, or null. */
  readonly contentJson: string | null;
  /** Epoch ms. */
  readonly occurredAt: number;
  readonly receivedAt: number;
  /** The delivery's digest (a webhook), or null (the service's own events). */
  readonly digest: string | null;
}

/** The one INSERT into the event log; pass it to SqlTx.insertMany / insertManyLater with {@link eventLogParams}. */
export const EVENT_LOG_INSERT = `INSERT INTO ${TABLES.events} ("uuid", "position", "studioId", "tenantId", "type", "known", "entityId", "content", "occurredAt", "receivedAt", "digest")`;

/** The parameters of {@link EVENT_LOG_INSERT} for one row. */
export function eventLogParams(row: EventLogRow): Param[] {
  return [
    row.uuid,
    row.position,
    row.studioId,
    row.tenantId,
    row.type,
    row.known,
    row.entityId,
    row.contentJson,
    row.occurredAt,
    row.receivedAt,
    row.digest,
  ];
}

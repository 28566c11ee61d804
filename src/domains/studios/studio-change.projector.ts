import type { Param, SqlTx } from '../../db/sql-writer.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

export type StudioEvent = Extract<KnownEvent, { type: 'STUDIO_OPENING_HOURS_UPDATED' | 'ADDITIONAL_INFORMATION_FIELDS_UPDATED' }>;

/** The `studios` column each studio event keeps the latest upstream time of. */
const COLUMN = {
  STUDIO_OPENING_HOURS_UPDATED: 'openingHoursUpdatedAt',
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: 'additionalInformationFieldsUpdatedAt',
} as const satisfies { readonly [T in StudioEvent['type']]: string };

type Column = (typeof COLUMN)[keyof typeof COLUMN];

interface Pending {
  readonly studioId: number;
  /** The event's entityId: the upstream studio id it says it is about. */
  readonly upstreamStudioId: number;
  readonly latest: Partial<Record<Column, number>>;
}

/**
 * STUDIO_OPENING_HOURS_UPDATED / ADDITIONAL_INFORMATION_FIELDS_UPDATED: the studio that delivered
 * the event (known by its webhook key) keeps the upstream time of the latest change of each kind.
 * The studio row exists (the key found it), so this is an UPDATE, not an upsert; each column only
 * ever moves forward (`max`), which makes duplicates and late arrivals change nothing.
 *
 * entityId is the upstream studio id. When the registry knows the studio's upstream id (hydration
 * read it from `GET /v1/studios/information` with the studio's own Open API key) and the event names
 * another one, the event is about a studio other than the one whose key delivered it: it is logged
 * and announced like any other, but does not change this studio's record (the guard is part of the
 * UPDATE, so it sees the registry as committed). Before the first read nothing can be checked, and
 * the event is taken to be about the delivering studio.
 */
export class StudioChangeProjector {
  private readonly pending = new Map<string, Pending>();

  apply(event: StudioEvent): void {
    const key = `${event.studioId}|${event.entityId}`;
    const row = this.pending.get(key) ?? { studioId: event.studioId, upstreamStudioId: event.entityId, latest: {} };
    const column = COLUMN[event.type];
    row.latest[column] = Math.max(row.latest[column] ?? event.occurredAt, event.occurredAt);
    this.pending.set(key, row);
  }

  write(tx: SqlTx): void {
    for (const { studioId, upstreamStudioId, latest } of this.pending.values()) {
      const columns = Object.entries(latest) as [Column, number][];
      const set = columns.map(([column]) => `"${column}" = CASE WHEN "${column}" IS NULL OR "${column}" < ? THEN ? ELSE "${column}" END`);
      const params: Param[] = columns.flatMap(([, at]) => [at, at]);
      tx.runLater(
        `UPDATE "${TABLES.studios}" SET ${set.join(', ')} WHERE "id" = ? AND ("upstreamStudioId" IS NULL OR "upstreamStudioId" = ?)`,
        [...params, studioId, upstreamStudioId],
      );
    }
    this.pending.clear();
  }
}

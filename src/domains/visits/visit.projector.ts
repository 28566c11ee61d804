import type { Param, SqlTx } from '../../db/sql-writer.js';
import type { KnownEvent } from '../../ingest/event-types.js';

type PresenceEvent = Extract<KnownEvent, { type: 'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT' }>;

export interface PresenceRow {
  tenantId: number;
  entityId: number;
  seq: number;
  studioId: number;
  type: 'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT';
  occurredAt: number;
}

/** How a visit row is written: every column recomputed from the pairing. */
type VisitRow = [id: number, tenantId: number, customerId: number, studioId: number, checkinAt: number | null,
  checkoutAt: number | null, checkoutStudioId: number | null, checkoutSeq: number | null, lastEventAt: number];

const PRESENCE = `"type" IN ('CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT')`;
/** The customer's presence events from the anchor on (correlated with the `affected` row `a`). */
const WINDOW_CONDITION = `e."tenantId" = a."tenantId" AND e."entityId" = a."entityId" AND e.${PRESENCE}
  AND e."occurredAt" >= COALESCE((SELECT MAX(p."occurredAt") FROM events p
        WHERE p."tenantId" = a."tenantId" AND p."entityId" = a."entityId" AND p.${PRESENCE} AND p."occurredAt" < a."since"), a."since")`;
/*
 * Both forms make the planner walk events_entity (tenant, customer, time) once per affected
 * customer. Left to choose, both databases sometimes scanned every check-in and check-out through
 * the type index instead, which costs more with every event logged (bench/README.md).
 */
const WINDOW_POSTGRES = `FROM affected a CROSS JOIN LATERAL (SELECT * FROM events e WHERE ${WINDOW_CONDITION}) e`;
// CROSS JOIN fixes SQLite's join order (affected outside): with a few hundred customers its planner
// otherwise walked the whole index once instead of seeking it per customer.
const WINDOW_SQLITE = `FROM affected a CROSS JOIN events e INDEXED BY events_entity ON ${WINDOW_CONDITION}`;

/** Customers per window query; keeps statements well under parameter limits. */
const CHUNK = 300;

/** A customer whose visits are recomputed from `since` (the earliest new presence time) on. */
interface Affected {
  readonly tenantId: number;
  readonly customerId: number;
  readonly since: number;
}

/**
 * Windows read ahead ({@link VisitProjector.readAhead}), for customers and times known before the
 * batch's INSERT answered: read in the same message as that INSERT on PostgreSQL.
 */
export interface VisitWindows {
  readonly affected: ReadonlyMap<string, Affected>;
  /** The rows of each chunk of `affected`, in order. */
  readonly chunks: readonly { readonly affected: readonly Affected[]; readonly rows: Promise<PresenceRow[]> }[];
}

/**
 * Visits are pairs of a check-in and the check-out that closed it.
 *
 * The pairing rule: order a customer's check-ins and check-outs by upstream time (a check-in before
 * a check-out at the same millisecond, then by sequence), counting twins of the same type at the
 * same millisecond once; a check-out closes the event right before it if that is a check-in, and
 * otherwise stands alone as a check-out without a visit to close.
 * That makes the visits a function of the *set* of events, so duplicates and late arrivals give the
 * same result as in-order delivery.
 *
 * A new event only changes the pairing of its neighbours, so each batch recomputes, per customer,
 * the window from the last event before the earliest new one (the anchor) to the end. Recomputing
 * a wider window (from an earlier time, or for a customer with no new event) rewrites the same
 * visits: which is what lets the windows be read ahead, before the batch knows which of its events
 * are new ({@link readAhead}).
 */
export class VisitProjector {
  /** Earliest new presence time per customer key. */
  private readonly since = new Map<string, Affected>();

  apply(event: PresenceEvent): void {
    note(this.since, event.tenantId, event.entityId, event.occurredAt);
  }

  /**
   * Queues the window reads for presence events that may be new (SqlTx.allLater: on PostgreSQL they
   * travel with the statements queued before them, e.g. the batch's INSERT, whose rows they see).
   */
  static readAhead(tx: SqlTx, events: readonly { readonly tenantId: number; readonly customerId: number; readonly occurredAt: number }[]): VisitWindows {
    const affected = new Map<string, Affected>();
    for (const event of events) note(affected, event.tenantId, event.customerId, event.occurredAt);
    const all = [...affected.values()];
    const chunks: { affected: Affected[]; rows: Promise<PresenceRow[]> }[] = [];
    for (let start = 0; start < all.length; start += CHUNK) {
      const chunk = all.slice(start, start + CHUNK);
      const { sql, params } = windowQuery(tx, chunk);
      chunks.push({ affected: chunk, rows: tx.allLater<PresenceRow>(sql, params) });
    }
    return { affected, chunks };
  }

  /**
   * Writes the visits of the events applied. With `ahead` (read after every event of the batch was
   * logged, and before anything was taken back), its windows are used when they cover every
   * customer applied from at most its time; otherwise the windows are read now.
   */
  async write(tx: SqlTx, ahead?: VisitWindows): Promise<void> {
    const since = [...this.since];
    this.since.clear();
    const covered = ahead !== undefined && since.every(([key, mine]) => (ahead.affected.get(key)?.since ?? Infinity) <= mine.since);
    if (covered) {
      for (const chunk of ahead.chunks) this.writeChunk(tx, chunk.affected, await chunk.rows);
      return;
    }
    const affected = since.map(([, mine]) => mine);
    for (let start = 0; start < affected.length; start += CHUNK) {
      const chunk = affected.slice(start, start + CHUNK);
      const { sql, params } = windowQuery(tx, chunk);
      this.writeChunk(tx, chunk, await tx.all<PresenceRow>(sql, params));
    }
  }

  private writeChunk(tx: SqlTx, affected: readonly Affected[], rows: readonly PresenceRow[]): void {
    const sinceByKey = new Map(affected.map((a) => [`${a.tenantId}:${a.customerId}`, a.since]));
    const upserts: VisitRow[] = [];
    const pairedCheckouts: number[] = [];
    let window: PresenceRow[] = [];
    const flush = () => {
      if (window.length > 0) pair(window, sinceByKey.get(`${window[0]!.tenantId}:${window[0]!.entityId}`)!, upserts, pairedCheckouts);
      window = [];
    };
    for (const row of rows) {
      const last = window[window.length - 1];
      if (last && (last.tenantId !== row.tenantId || last.entityId !== row.entityId)) flush();
      window.push({ ...row, seq: Number(row.seq), occurredAt: Number(row.occurredAt), entityId: Number(row.entityId) });
    }
    flush();

    tx.insertLater(
      `INSERT INTO visits ("id", "tenantId", "customerId", "studioId", "checkinAt", "checkoutAt", "checkoutStudioId", "checkoutSeq", "lastEventAt")`,
      upserts,
      `ON CONFLICT ("id") DO UPDATE SET "studioId" = excluded."studioId", "checkinAt" = excluded."checkinAt",
        "checkoutAt" = excluded."checkoutAt", "checkoutStudioId" = excluded."checkoutStudioId",
        "checkoutSeq" = excluded."checkoutSeq", "lastEventAt" = excluded."lastEventAt"`,
    );
    if (pairedCheckouts.length > 0) {
      tx.runLater(`DELETE FROM visits WHERE "id" IN (${pairedCheckouts.map(() => '?').join(', ')})`, pairedCheckouts);
    }
  }
}

/** Keeps the earliest time per customer. */
function note(affected: Map<string, Affected>, tenantId: number, customerId: number, occurredAt: number): void {
  const key = `${tenantId}:${customerId}`;
  const current = affected.get(key);
  if (!current || occurredAt < current.since) affected.set(key, { tenantId, customerId, since: occurredAt });
}

/** The presence events of each customer of `affected` from its anchor on, in pairing order. */
function windowQuery(tx: SqlTx, affected: readonly Affected[]): { sql: string; params: Param[] } {
  const values = affected.map(() => '(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT))').join(', ');
  return {
    sql: `WITH affected ("tenantId", "entityId", "since") AS (VALUES ${values})
       SELECT e."tenantId", e."entityId", e."seq", e."studioId", e."type", e."occurredAt"
       ${tx.dialect === 'postgres' ? WINDOW_POSTGRES : WINDOW_SQLITE}
       ORDER BY e."tenantId", e."entityId", e."occurredAt", CASE e."type" WHEN 'CUSTOMER_CHECKIN' THEN 0 ELSE 1 END, e."seq"`,
    params: affected.flatMap((a) => [a.tenantId, a.customerId, a.since]),
  };
}

/**
 * Two check-ins (or two check-outs) of one customer at the same upstream millisecond are one event
 * delivered twice under different uuids: a webhook re-sent after reconciliation had already
 * synthesised it, say. The first logged (lowest seq) stands; the others pair with nothing and make
 * no visit. Rows are ordered by time, type, seq, so such twins are neighbours.
 */
function distinct(window: PresenceRow[]): PresenceRow[] {
  return window.filter((event, index) => {
    const previous = window[index - 1];
    return !(previous && previous.type === event.type && previous.occurredAt === event.occurredAt);
  });
}

/** Applies the pairing rule to one customer's window (see {@link VisitProjector}). */
function pair(all: PresenceRow[], since: number, upserts: VisitRow[], pairedCheckouts: number[]): void {
  const window = distinct(all);
  const anchored = window[0]!.occurredAt < since;
  window.forEach((event, index) => {
    if (event.type === 'CUSTOMER_CHECKIN') {
      const next = window[index + 1];
      const out = next?.type === 'CUSTOMER_CHECKOUT' ? next : undefined;
      upserts.push([event.seq, event.tenantId, event.entityId, event.studioId, event.occurredAt,
        out?.occurredAt ?? null, out?.studioId ?? null, out?.seq ?? null, out?.occurredAt ?? event.occurredAt]);
      return;
    }
    // The anchor check-out's partner lies before the window and cannot have changed.
    if (index === 0 && anchored) return;
    if (window[index - 1]?.type === 'CUSTOMER_CHECKIN') {
      pairedCheckouts.push(event.seq);
    } else {
      upserts.push([event.seq, event.tenantId, event.entityId, event.studioId, null, event.occurredAt, event.studioId, event.seq, event.occurredAt]);
    }
  });
}

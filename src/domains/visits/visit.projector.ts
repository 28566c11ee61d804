import type { Param, SqlTx } from '../../db/sql-writer.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { VisitRollupDelta, type VisitShape } from './visit-rollup.js';
import { TABLES } from '../../db/tables.js';

type PresenceEvent = Extract<KnownEvent, { type: 'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT' }>;
type AutomaticCheckoutEvent = Extract<KnownEvent, { type: 'AUTOMATIC_CUSTOMER_CHECKOUT' }>;

/** What closes or opens a stay: the customer's own events, and a studio's automatic check-out of them. */
type PresenceType = 'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT' | 'AUTOMATIC_CUSTOMER_CHECKOUT';

export interface PresenceRow {
  tenantId: number;
  entityId: number;
  seq: number;
  studioId: number;
  type: PresenceType;
  occurredAt: number;
  /** The stored visit whose id is this event's seq, if any (what the write replaces or deletes). */
  stored: VisitShape | undefined;
}

/** A window row as read: the event, and the stored visit it anchors (`v*` columns, null without one). */
export interface WindowRow extends Omit<PresenceRow, 'stored'> {
  vTenantId: number | null;
  vStudioId: number | null;
  vCheckinAt: number | string | null;
  vCheckoutAt: number | string | null;
  vCheckoutStudioId: number | null;
  vId: number | string | null;
}

/** How a visit row is written: every column recomputed from the pairing. */
type VisitRow = [
  id: number,
  tenantId: number,
  customerId: number,
  studioId: number,
  checkinAt: number | null,
  checkoutAt: number | null,
  checkoutStudioId: number | null,
  checkoutSeq: number | null,
  lastEventAt: number,
];

const PRESENCE = `"type" IN ('CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT')`;
/** The customer's presence events from the anchor on (correlated with the `affected` row `a`). */
const WINDOW_CONDITION = `e."tenantId" = a."tenantId" AND e."entityId" = a."entityId" AND e.${PRESENCE}
  AND e."occurredAt" >= COALESCE((SELECT MAX(p."occurredAt") FROM ${TABLES.events} p
        WHERE p."tenantId" = a."tenantId" AND p."entityId" = a."entityId" AND p.${PRESENCE} AND p."occurredAt" < a."since"), a."since")`;
/*
 * Both forms make the planner walk events_entity (tenant, customer, time) once per affected
 * customer. Left to choose, both databases sometimes scanned every check-in and check-out through
 * the type index instead, which costs more with every event logged (bench/README.md).
 */
const WINDOW_POSTGRES = `FROM affected a CROSS JOIN LATERAL (SELECT * FROM ${TABLES.events} e WHERE ${WINDOW_CONDITION}) e LEFT JOIN ${TABLES.visits} v ON v."id" = e."seq"`;
// CROSS JOIN fixes SQLite's join order (affected outside): with a few hundred customers its planner
// otherwise walked the whole index once instead of seeking it per customer.
const WINDOW_SQLITE = `FROM affected a CROSS JOIN ${TABLES.events} e INDEXED BY events_entity ON ${WINDOW_CONDITION} LEFT JOIN ${TABLES.visits} v ON v."id" = e."seq"`;
/**
 * The customer's automatic check-outs from their own anchor on (the latest one before `since`), read
 * in the same statement: one index seek on automatic_checkouts_customer per customer, nothing when
 * the studio never sent one. {@link mergeWindow} cuts the two anchors down to the later one. An
 * automatic check-out never has a visit of its own (it closes an open one or nothing): no `v*` columns.
 */
const AUTOMATIC_WINDOW = `SELECT x."tenantId", x."customerId" AS "entityId", x."seq", x."studioId", 'AUTOMATIC_CUSTOMER_CHECKOUT' AS "type", x."checkoutAt" AS "occurredAt",
    NULL AS "vId", NULL AS "vTenantId", NULL AS "vStudioId", NULL AS "vCheckinAt", NULL AS "vCheckoutAt", NULL AS "vCheckoutStudioId"
  FROM affected a CROSS JOIN ${TABLES.automatic_checkouts} x
 WHERE x."tenantId" = a."tenantId" AND x."customerId" = a."entityId"
   AND x."checkoutAt" >= COALESCE((SELECT MAX(q."checkoutAt") FROM ${TABLES.automatic_checkouts} q
         WHERE q."tenantId" = a."tenantId" AND q."customerId" = a."entityId" AND q."checkoutAt" < a."since"), a."since")`;

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
  readonly chunks: readonly { readonly affected: readonly Affected[]; readonly rows: Promise<WindowRow[]> }[];
}

/** The pairing order at one millisecond: check-ins first, then the customer's check-out, then a studio's. */
const TYPE_ORDER: Readonly<Record<PresenceType, number>> = { CUSTOMER_CHECKIN: 0, CUSTOMER_CHECKOUT: 1, AUTOMATIC_CUSTOMER_CHECKOUT: 2 };
const byPairingOrder = (a: PresenceRow, b: PresenceRow) =>
  a.occurredAt - b.occurredAt || TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.seq - b.seq;

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
 *
 * AUTOMATIC_CUSTOMER_CHECKOUT (a studio checking customers out itself) is a check-out of each
 * customer it lists, at that customer's `checkoutTime`, under the same rule — with one difference:
 * it closes an open check-in or does nothing. It never stands alone as a visit without check-in
 * (a studio closing for the night checks out whoever it believes is inside; a customer who had
 * left already made no visit of it). Arriving before the check-in it closes, twice, or after a
 * real check-out that came earlier upstream, it ends in the same visits as in-order delivery; a
 * real check-out at the same millisecond wins (the twins rule).
 *
 * This is the one place that writes `visits`, and it keeps `visit_rollups` equal to them in the same
 * transaction: the window query reads, beside each event, the visit stored under its seq (the row an
 * upsert replaces or a delete removes), and every written row's old version is subtracted from its
 * rollup and its new version added ({@link VisitRollupDelta}). Anything else that must change visits
 * should log or synthesise presence events and let this projector pair them, as the automatic
 * check-outs are (read into the window above); a writer that cannot must pass every row it replaces and writes through a
 * VisitRollupDelta in its transaction, or the rollups drift (test/rollups.property.test.ts
 * compares them with the visits).
 */
export class VisitProjector {
  /** Earliest new presence time per customer key. */
  private readonly since = new Map<string, Affected>();
  /** Rows for automatic_checkouts, written before the windows are read. */
  private readonly automatic: Param[][] = [];

  apply(event: PresenceEvent): void {
    note(this.since, event.tenantId, event.entityId, event.occurredAt);
  }

  /** Each listed customer's check-out joins their window (the event's entityId is a studio). */
  applyAutomatic(event: AutomaticCheckoutEvent): void {
    event.content.checkouts.forEach((checkout, position) => {
      this.automatic.push([event.seq, position, event.tenantId, event.studioId, checkout.customerId, checkout.checkoutAt]);
      note(this.since, event.tenantId, checkout.customerId, checkout.checkoutAt);
    });
  }

  /**
   * Queues the window reads for presence events that may be new (SqlTx.allLater: on PostgreSQL they
   * travel with the statements queued before them, e.g. the batch's INSERT, whose rows they see).
   */
  static readAhead(
    tx: SqlTx,
    events: readonly { readonly tenantId: number; readonly customerId: number; readonly occurredAt: number }[],
  ): VisitWindows {
    const affected = new Map<string, Affected>();
    for (const event of events) note(affected, event.tenantId, event.customerId, event.occurredAt);
    const all = [...affected.values()];
    const chunks: { affected: Affected[]; rows: Promise<WindowRow[]> }[] = [];
    for (let start = 0; start < all.length; start += CHUNK) {
      const chunk = all.slice(start, start + CHUNK);
      const { sql, params } = windowQuery(tx, chunk);
      chunks.push({ affected: chunk, rows: tx.allLater<WindowRow>(sql, params) });
    }
    return { affected, chunks };
  }

  /**
   * Writes the visits of the events applied. With `ahead` (read after every event of the batch was
   * logged, and before anything was taken back), its windows are used when they cover every
   * customer applied from at most its time and the batch holds no automatic check-out (those are
   * stored here, after the windows were read ahead); otherwise the windows are read now.
   */
  async write(tx: SqlTx, ahead?: VisitWindows): Promise<void> {
    const automatic = this.automatic.length > 0;
    if (automatic) {
      await tx.insertMany(
        `INSERT INTO ${TABLES.automatic_checkouts} ("seq", "position", "tenantId", "studioId", "customerId", "checkoutAt")`,
        this.automatic,
        '',
      );
      this.automatic.length = 0;
    }
    const since = [...this.since];
    this.since.clear();
    const covered =
      !automatic && ahead !== undefined && since.every(([key, mine]) => (ahead.affected.get(key)?.since ?? Infinity) <= mine.since);
    if (covered) {
      for (const chunk of ahead.chunks) this.writeChunk(tx, chunk.affected, await chunk.rows);
      return;
    }
    const affected = since.map(([, mine]) => mine);
    for (let start = 0; start < affected.length; start += CHUNK) {
      const chunk = affected.slice(start, start + CHUNK);
      const { sql, params } = windowQuery(tx, chunk);
      this.writeChunk(tx, chunk, await tx.all<WindowRow>(sql, params));
    }
  }

  private writeChunk(tx: SqlTx, affected: readonly Affected[], rows: readonly WindowRow[]): void {
    const sinceByKey = new Map(affected.map((a) => [`${a.tenantId}:${a.customerId}`, a.since]));
    const upserts: VisitRow[] = [];
    const pairedCheckouts: number[] = [];
    const rollups = new VisitRollupDelta();
    let window: PresenceRow[] = [];
    const flush = () => {
      if (window.length > 0) {
        const since = sinceByKey.get(`${window[0]!.tenantId}:${window[0]!.entityId}`)!;
        pair(mergeWindow(window, since), since, upserts, pairedCheckouts, rollups);
      }
      window = [];
    };
    for (const row of rows) {
      const last = window[window.length - 1];
      const customer = Number(row.entityId);
      if (last && (last.tenantId !== Number(row.tenantId) || last.entityId !== customer)) flush();
      window.push({
        tenantId: Number(row.tenantId),
        entityId: customer,
        seq: Number(row.seq),
        studioId: Number(row.studioId),
        type: row.type,
        occurredAt: Number(row.occurredAt),
        stored:
          row.vId === null
            ? undefined
            : {
                tenantId: Number(row.vTenantId),
                studioId: Number(row.vStudioId),
                checkinAt: nullableNumber(row.vCheckinAt),
                checkoutAt: nullableNumber(row.vCheckoutAt),
                checkoutStudioId: nullableNumber(row.vCheckoutStudioId),
              },
      });
    }
    flush();

    tx.insertLater(
      `INSERT INTO ${TABLES.visits} ("id", "tenantId", "customerId", "studioId", "checkinAt", "checkoutAt", "checkoutStudioId", "checkoutSeq", "lastEventAt")`,
      upserts,
      `ON CONFLICT ("id") DO UPDATE SET "studioId" = excluded."studioId", "checkinAt" = excluded."checkinAt",
        "checkoutAt" = excluded."checkoutAt", "checkoutStudioId" = excluded."checkoutStudioId",
        "checkoutSeq" = excluded."checkoutSeq", "lastEventAt" = excluded."lastEventAt"`,
    );
    if (pairedCheckouts.length > 0) {
      tx.runLater(`DELETE FROM ${TABLES.visits} WHERE "id" IN (${pairedCheckouts.map(() => '?').join(', ')})`, pairedCheckouts);
    }
    rollups.write(tx);
  }
}

const nullableNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

/** Keeps the earliest time per customer. */
function note(affected: Map<string, Affected>, tenantId: number, customerId: number, occurredAt: number): void {
  const key = `${tenantId}:${customerId}`;
  const current = affected.get(key);
  if (!current || occurredAt < current.since) affected.set(key, { tenantId, customerId, since: occurredAt });
}

/**
 * The presence events of each customer of `affected` from its anchor on, each with the visit stored
 * under its seq, and the customer's automatic check-outs; by customer ({@link mergeWindow} orders each).
 */
function windowQuery(tx: SqlTx, affected: readonly Affected[]): { sql: string; params: Param[] } {
  const values = affected.map(() => '(CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT))').join(', ');
  return {
    sql: `WITH affected ("tenantId", "entityId", "since") AS (VALUES ${values})
       SELECT e."tenantId", e."entityId", e."seq", e."studioId", e."type", e."occurredAt", v."id" AS "vId", v."tenantId" AS "vTenantId",
         v."studioId" AS "vStudioId", v."checkinAt" AS "vCheckinAt", v."checkoutAt" AS "vCheckoutAt", v."checkoutStudioId" AS "vCheckoutStudioId"
       ${tx.dialect === 'postgres' ? WINDOW_POSTGRES : WINDOW_SQLITE}
       UNION ALL ${AUTOMATIC_WINDOW}
       ORDER BY 1, 2`,
    params: affected.flatMap((a) => [a.tenantId, a.customerId, a.since]),
  };
}

/**
 * One customer's window from both sources in pairing order, starting at the later of their two
 * anchors (each source read from its own latest row before `since`; the earlier anchor's rows up to
 * the later one are not the whole story, since the other source's rows before its anchor were not read).
 */
function mergeWindow(rows: PresenceRow[], since: number): PresenceRow[] {
  rows.sort(byPairingOrder);
  let start = -Infinity;
  const firstOwn = rows.find((row) => row.type !== 'AUTOMATIC_CUSTOMER_CHECKOUT');
  const firstAutomatic = rows.find((row) => row.type === 'AUTOMATIC_CUSTOMER_CHECKOUT');
  for (const first of [firstOwn, firstAutomatic]) if (first && first.occurredAt < since) start = Math.max(start, first.occurredAt);
  return start === -Infinity ? rows : rows.filter((row) => row.occurredAt >= start);
}

/** A check-in opens; either check-out closes. */
const isCheckout = (row: PresenceRow) => row.type !== 'CUSTOMER_CHECKIN';

/**
 * Two check-ins (or two check-outs) of one customer at the same upstream millisecond are one event
 * delivered twice under different uuids: a webhook re-sent after reconciliation had already
 * synthesised it, say. The first logged (lowest seq) stands; the others pair with nothing and make
 * no visit. A customer's check-out and a studio's at the same millisecond are twins too (the customer's
 * stands). Rows are ordered by time, type, seq, so such twins are neighbours.
 */
function distinct(window: PresenceRow[]): PresenceRow[] {
  return window.filter((event, index) => {
    const previous = window[index - 1];
    return !(previous && isCheckout(previous) === isCheckout(event) && previous.occurredAt === event.occurredAt);
  });
}

/** Applies the pairing rule to one customer's window (see {@link VisitProjector}). */
function pair(all: PresenceRow[], since: number, upserts: VisitRow[], pairedCheckouts: number[], rollups: VisitRollupDelta): void {
  const window = distinct(all);
  const anchored = window[0]!.occurredAt < since;
  /** Writes a visit row: the stored one under its id (if any) leaves the rollups, the new one enters. */
  const upsert = (event: PresenceRow, row: VisitRow) => {
    upserts.push(row);
    if (event.stored) rollups.remove(event.stored);
    rollups.insert({ tenantId: row[1], studioId: row[3], checkinAt: row[4], checkoutAt: row[5], checkoutStudioId: row[6] });
  };
  window.forEach((event, index) => {
    if (event.type === 'CUSTOMER_CHECKIN') {
      const next = window[index + 1];
      const out = next && isCheckout(next) ? next : undefined;
      upsert(event, [
        event.seq,
        event.tenantId,
        event.entityId,
        event.studioId,
        event.occurredAt,
        out?.occurredAt ?? null,
        out?.studioId ?? null,
        out?.seq ?? null,
        out?.occurredAt ?? event.occurredAt,
      ]);
      return;
    }
    // The anchor check-out's partner lies before the window and cannot have changed.
    if (index === 0 && anchored) return;
    if (event.type === 'AUTOMATIC_CUSTOMER_CHECKOUT') return; // closes what is open, or nothing (see VisitProjector)
    if (window[index - 1]?.type === 'CUSTOMER_CHECKIN') {
      pairedCheckouts.push(event.seq);
      if (event.stored) rollups.remove(event.stored);
    } else {
      upsert(event, [
        event.seq,
        event.tenantId,
        event.entityId,
        event.studioId,
        null,
        event.occurredAt,
        event.studioId,
        event.seq,
        event.occurredAt,
      ]);
    }
  });
}

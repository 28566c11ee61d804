import type { Param, SqlTx } from '../../db/sql-writer.js';
import { TABLES } from '../../db/tables.js';

/**
 * Visit rollups: per studio and quarter hour (UTC) of the check-in, the sums a GROUP BY over the
 * `visits` rows of that quarter hour gives. Every IANA zone's offset, and every change of it, is a
 * whole number of quarter hours (since the 1970s), so a zone's local hours, days, weeks and months
 * are sums of these buckets (stats.resolver.ts checks that for the zone and range it is asked about).
 *
 * They are kept equal to the visits by construction: the one code path that writes visits
 * ({@link VisitProjector}, in the ingest transaction) records, for every visit row it replaces or
 * deletes, the row as it was and the row as it will be, and adds the difference here in the same
 * transaction. `npm run rollups -- rebuild` and the migration recompute them with {@link rebuildVisitRollups}.
 */
export const ROLLUP_BUCKET_MS = 15 * 60_000;

/**
 * Upper bounds (exclusive, ms) of the length-of-stay histogram's bins; the last bin is open.
 * 0–15 min, 15–30, 30–45, 45–60, 1–1.5 h, 1.5–2 h, 2–3 h, 3 h and more.
 */
export const STAY_BOUNDS_MS = [15, 30, 45, 60, 90, 120, 180].map((minutes) => minutes * 60_000);
export const STAY_BINS = STAY_BOUNDS_MS.length + 1;

/** The rollup's measure columns, in the order of {@link Contribution}. */
export const ROLLUP_MEASURES = [
  'visits',
  'closed',
  'durationMs',
  'closedAway',
  'durationAwayMs',
  ...Array.from({ length: STAY_BINS }, (_, i) => `stay${i}`),
] as const;

/** The part of a visit row a rollup reads. */
export interface VisitShape {
  readonly tenantId: number;
  readonly studioId: number;
  readonly checkinAt: number | null;
  readonly checkoutAt: number | null;
  readonly checkoutStudioId: number | null;
}

/** Index of the stay bin of a length of stay (ms). */
export function stayBin(durationMs: number): number {
  const index = STAY_BOUNDS_MS.findIndex((bound) => durationMs < bound);
  return index === -1 ? STAY_BOUNDS_MS.length : index;
}

/** The SQL twin of {@link stayBin}'s bins: `COUNT(CASE ...)` per bin of `duration` (an expression, NULL for open visits). */
export function staySql(duration: string): string[] {
  return Array.from({ length: STAY_BINS }, (_, i) => {
    const low = i === 0 ? '' : `${duration} >= ${STAY_BOUNDS_MS[i - 1]}`;
    const high = i === STAY_BOUNDS_MS.length ? '' : `${duration} < ${STAY_BOUNDS_MS[i]}`;
    return `COUNT(CASE WHEN ${[`${duration} IS NOT NULL`, low, high].filter(Boolean).join(' AND ')} THEN 1 END)`;
  });
}

/** The quarter hour (epoch ms of its start) of an instant. */
export const bucketOf = (at: number): number => at - (((at % ROLLUP_BUCKET_MS) + ROLLUP_BUCKET_MS) % ROLLUP_BUCKET_MS);

/**
 * What one visit adds to its rollup row. Visits without a check-in (a check-out alone) are in no
 * bucket, as in the statistics, which bucket visits by check-in.
 */
function contribution(visit: VisitShape): number[] | undefined {
  if (visit.checkinAt === null) return undefined;
  const values = new Array<number>(ROLLUP_MEASURES.length).fill(0);
  values[0] = 1;
  if (visit.checkoutAt !== null) {
    const duration = visit.checkoutAt - visit.checkinAt;
    values[1] = 1;
    values[2] = duration;
    if (visit.checkoutStudioId !== visit.studioId) {
      values[3] = 1;
      values[4] = duration;
    }
    values[5 + stayBin(duration)] = 1;
  }
  return values;
}

/**
 * The rollup changes of one transaction's visit writes: old rows subtracted, new rows added,
 * written as one additive upsert. Buckets whose changes cancel out (a visit recomputed unchanged,
 * which is most of them) are not written at all.
 */
export class VisitRollupDelta {
  private readonly rows = new Map<string, { tenantId: number; studioId: number; bucket: number; values: number[] }>();

  /** A visit row as it was before this transaction's write (replaced or deleted). */
  remove(visit: VisitShape): void {
    this.add(visit, -1);
  }

  /** A visit row as this transaction writes it. */
  insert(visit: VisitShape): void {
    this.add(visit, 1);
  }

  private add(visit: VisitShape, sign: 1 | -1): void {
    const values = contribution(visit);
    if (!values) return;
    const bucket = bucketOf(visit.checkinAt!);
    const key = `${visit.studioId}:${bucket}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { tenantId: visit.tenantId, studioId: visit.studioId, bucket, values: new Array<number>(ROLLUP_MEASURES.length).fill(0) };
      this.rows.set(key, row);
    }
    values.forEach((value, i) => {
      row.values[i]! += sign * value;
    });
  }

  /** Queues the additive upsert (see SqlTx.insertLater) and clears the delta. */
  write(tx: SqlTx): void {
    const rows: Param[][] = [];
    for (const row of this.rows.values()) {
      if (row.values.some((value) => value !== 0)) rows.push([row.studioId, row.bucket, row.tenantId, ...row.values]);
    }
    this.rows.clear();
    tx.insertLater(
      `INSERT INTO "${TABLES.visit_rollups}" ("studioId", "bucket", "tenantId", ${ROLLUP_MEASURES.map((m) => `"${m}"`).join(', ')})`,
      rows,
      `ON CONFLICT ("studioId", "bucket") DO UPDATE SET ${ROLLUP_MEASURES.map((m) => `"${m}" = "${TABLES.visit_rollups}"."${m}" + excluded."${m}"`).join(', ')}`,
    );
  }
}

/** The rollup rows the visits give, as one `SELECT ... GROUP BY` (the same on SQLite and PostgreSQL), columns named as in the table. */
export function rollupsFromVisitsSql(): string {
  const duration = `(v."checkoutAt" - v."checkinAt")`;
  const away = `v."checkoutAt" IS NOT NULL AND v."checkoutStudioId" <> v."studioId"`;
  // Floor to the quarter hour; SQL's % truncates toward zero, hence the double modulo.
  const bucket = `(v."checkinAt" - ((v."checkinAt" % ${ROLLUP_BUCKET_MS}) + ${ROLLUP_BUCKET_MS}) % ${ROLLUP_BUCKET_MS})`;
  const measures = [
    'COUNT(v."id")',
    'COUNT(v."checkoutAt")',
    `COALESCE(SUM(${duration}), 0)`,
    `COUNT(CASE WHEN ${away} THEN 1 END)`,
    `COALESCE(SUM(CASE WHEN ${away} THEN ${duration} END), 0)`,
    ...staySql(duration),
  ];
  return `SELECT v."studioId" AS "studioId", ${bucket} AS "bucket", MIN(v."tenantId") AS "tenantId",
      ${measures.map((sql, i) => `${sql} AS "${ROLLUP_MEASURES[i]}"`).join(', ')}
    FROM "${TABLES.visits}" v WHERE v."checkinAt" IS NOT NULL
    GROUP BY v."studioId", ${bucket}`;
}

/** Replaces every rollup by what the visits give; `run` executes one statement (in the caller's transaction). */
export async function rebuildVisitRollups(run: (sql: string) => Promise<unknown>): Promise<void> {
  await run(`DELETE FROM "${TABLES.visit_rollups}"`);
  await run(
    `INSERT INTO "${TABLES.visit_rollups}" ("studioId", "bucket", "tenantId", ${ROLLUP_MEASURES.map((m) => `"${m}"`).join(', ')}) ${rollupsFromVisitsSql()}`,
  );
}

import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import type { TimeRangeInput } from '../../api/filters.js';
import { DEFAULT_LIST_COST_SIZE, MAX_STATS_BUCKETS, MAX_STATS_GROUPS, QUERY_COSTS } from '../../api/limits.js';
import { SqlReader } from '../../db/sql-reader.js';
import { studioIn } from '../stats/stats-query.js';
import { TimeBucketError, WallClock } from '../stats/time-buckets.js';
import { TABLES } from '../../db/tables.js';

const DAY_MS = 86_400_000;
/**
 * What each open end of a report's range adds to its cost: a month. The cost is estimated before
 * anything is read, so an open range cannot be sized by its data; what it reads is bounded instead
 * (`MAX_REPORT_SLOTS`, {@link MAX_REPORT_ROWS}).
 */
const OPEN_END_COST_MS = 31 * DAY_MS;

/** The most rows one report answer holds (the statistics' bucket cap): more is BAD_USER_INPUT. */
export const MAX_REPORT_ROWS = MAX_STATS_BUCKETS;

/** Bucketing mistakes (an unknown zone, too many buckets) are the caller's: BAD_USER_INPUT naming the argument. */
export function reportInput<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof TimeBucketError) throw clientError(ErrorCode.BAD_USER_INPUT, error.message);
    throw error;
  }
}

/**
 * The studios a report covers: `studioIds` (already checked against the viewer's scope), else the
 * viewer's studios, else every studio — always as a list, so that the reports' statements can seek
 * the indexes that lead with the studio (`contracts_member`, `class_slots_studio_start`, ...).
 */
export async function reportStudios(context: GraphQLContext, studioIds: readonly number[] | null | undefined): Promise<readonly number[]> {
  if (studioIds != null) return studioIds;
  if (context.scope.studioIds !== null) return context.scope.studioIds;
  const rows = await SqlReader.of(context.dataSource).all<{ id: unknown }>(
    `SELECT st."id" AS "id" FROM "${TABLES.studios}" st ORDER BY st."id"`,
  );
  return rows.map((row) => Number(row.id));
}

/** `column` among the report's studios, as SQL conditions (the ids are integers we inline; none matches nothing). */
export const studiosSql = (column: string, studios: readonly number[]): string[] => studioIn(column, studios);

/**
 * The clock of a report: `timeZone` when given; otherwise the zone of its studios when they all
 * have the same one (`Studio.timeZone`), else UTC.
 */
export async function reportClock(
  context: GraphQLContext,
  timeZone: string | null | undefined,
  studios: readonly number[],
): Promise<WallClock> {
  if (timeZone != null) return reportInput(() => new WallClock(timeZone));
  const rows = await SqlReader.of(context.dataSource).all<{ timeZone: string | null }>(
    `SELECT DISTINCT st."timeZone" AS "timeZone" FROM "${TABLES.studios}" st WHERE ${studiosSql('st."id"', studios).join(' AND ')}`,
  );
  const zone = rows.length === 1 ? rows[0]!.timeZone : null;
  return new WallClock(zone ?? 'UTC');
}

/** A local calendar day: its ISO date and its wall time (epoch ms of that date's midnight on a UTC clock). */
export interface LocalDay {
  readonly date: string;
  readonly wall: number;
}

/** `2026-01-14` checked, or today in the clock's zone when not given. */
export function localDay(raw: string | null | undefined, clock: WallClock, argument: string): LocalDay {
  if (raw == null) {
    const wall = clock.wall(Date.now());
    const midnight = wall - (wall % DAY_MS);
    return { date: new Date(midnight).toISOString().slice(0, 10), wall: midnight };
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const wall = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!match || new Date(wall).toISOString().slice(0, 10) !== raw) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected a calendar date such as "2026-01-14", got ${JSON.stringify(raw)}`);
  }
  return { date: raw, wall };
}

/** The first instant of a local day and the first after it (23 or 25 hours later when the clocks change). */
export function dayBounds(day: LocalDay, clock: WallClock): { readonly from: number; readonly to: number } {
  return { from: clock.instant(day.wall), to: clock.instant(day.wall + DAY_MS) };
}

/** A report's time range: either end may be open (null); an inverted one is BAD_USER_INPUT. */
export function reportRange(
  range: TimeRangeInput | null | undefined,
  argument = 'range',
): { readonly from: number | null; readonly to: number | null } {
  const from = range?.from ? range.from.getTime() : null;
  const to = range?.to ? range.to.getTime() : null;
  if (from !== null && to !== null && from >= to) throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: from must be before to`);
  return { from, to };
}

/**
 * The `complexity` of a report over a time range, in the statistics' terms (limits.ts, statsComplexity):
 * one aggregate, {@link QUERY_COSTS.statsDay} per day of the range (an open range counts as a month per open end), and
 * its rows times what is selected in one — a row per day or week of the range for DAY and WEEK (per
 * month for MONTH), five a day for SLOT (a studio's timetable), 24 and 7 for HOUR_OF_DAY and DAY_OF_WEEK,
 * the number of `studioIds` for STUDIO (when given), {@link DEFAULT_LIST_COST_SIZE} otherwise, each at most
 * {@link MAX_REPORT_ROWS}; with several dimensions the product, at most the bucket cap ({@link MAX_STATS_GROUPS}).
 */
export function reportComplexity(
  defaultGrouping: string,
): (options: { readonly args: Record<string, unknown>; readonly childComplexity: number }) => number {
  return ({ args, childComplexity }) => {
    const range = args['range'] as { from?: unknown; to?: unknown } | undefined;
    const from = range?.from instanceof Date ? range.from.getTime() : NaN;
    const to = range?.to instanceof Date ? range.to.getTime() : NaN;
    const span =
      Number.isFinite(from) && Number.isFinite(to)
        ? Math.max(to - from, DAY_MS)
        : Number.isFinite(from) || Number.isFinite(to)
          ? OPEN_END_COST_MS
          : 2 * OPEN_END_COST_MS;
    const days = Math.ceil(span / DAY_MS);
    const groupBy = args['groupBy'];
    const groupings: readonly unknown[] = Array.isArray(groupBy) ? groupBy : typeof groupBy === 'string' ? [groupBy] : [defaultGrouping];
    const studioIds = Array.isArray(args['studioIds']) ? args['studioIds'].length : undefined;
    // With several dimensions, the product of their rows (each at most MAX_REPORT_ROWS, the product at most the bucket cap).
    let rows = 1;
    for (const grouping of groupings) {
      const dimension =
        grouping === 'DAY'
          ? days + 1
          : grouping === 'WEEK'
            ? Math.ceil(days / 7) + 1
            : grouping === 'MONTH'
              ? Math.ceil(days / 28) + 1
              : grouping === 'SLOT'
                ? 5 * days
                : grouping === 'HOUR_OF_DAY'
                  ? 24
                  : grouping === 'DAY_OF_WEEK'
                    ? 7
                    : grouping === 'STUDIO' && studioIds !== undefined
                      ? studioIds
                      : DEFAULT_LIST_COST_SIZE;
      rows *= Math.min(MAX_REPORT_ROWS, dimension);
    }
    return 1 + QUERY_COSTS.aggregate + QUERY_COSTS.statsDay * days + Math.min(MAX_STATS_GROUPS, rows) * childComplexity;
  };
}

import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { unreachable } from '../../events/event-catalog.js';
import {
  TimeBucketError,
  cyclicSql,
  cyclicValues,
  dateDimensions,
  sqlInt,
  type CalendarPlan,
  type CyclicUnit,
  type ZoneOffsets,
} from './time-buckets.js';
import { TABLES } from '../../db/tables.js';

/**
 * One dimension rows are grouped by: a calendar period (local hour, day, week or month), a cyclic
 * local time (hour of the day, ISO day of the week), the studio (every studio matching `studios`,
 * with zeros), or the value of a column (only values that occur). A query groups by a list of
 * them: one bucket per combination, the first dimension outermost.
 */
export type Grouping =
  | { readonly kind: 'calendar'; readonly plan: CalendarPlan }
  | { readonly kind: 'cyclic'; readonly unit: CyclicUnit; readonly zone: ZoneOffsets }
  | { readonly kind: 'studio'; readonly studios: readonly string[] }
  | { readonly kind: 'column'; readonly expression: string; readonly numeric: boolean };

/** The most buckets (combinations of the dimensions' groups) one statistics answer may have. */
export const MAX_GROUPS = 10_000;

/** More buckets than {@link MAX_GROUPS}: the caller's to narrow; the message says the limit and the count. */
export class TooManyBucketsError extends Error {
  override name = 'TooManyBucketsError';
  constructor(
    readonly limit: number,
    readonly measured: number,
  ) {
    super(
      `groupBy: ${measured} buckets, more than the ${limit} one answer may have; narrow the range or the studios, or group by fewer or longer periods`,
    );
  }
}

/**
 * The rows to count, as trusted SQL: the FROM item has the alias `r`; every value in it was checked
 * to be an integer we inline (see `sqlInt`) — there is no user text in these statements.
 */
export interface StatsSource<A extends string> {
  /** FROM item with alias `r`, e.g. `"visits" r`. */
  readonly from: string;
  /** The row's time (epoch ms): rows are limited to the range by it, and bucketed by it. */
  readonly time: string;
  /** The row's studio, for grouping by studio. */
  readonly studio?: string;
  /** Conditions every counted row meets besides the range: the viewer's scope and the arguments. */
  readonly conditions: readonly string[];
  /**
   * Aggregates by output name. They must read columns of `r` (COUNT(r."id"), never COUNT(*)): a
   * studio without rows is a LEFT JOIN row of NULLs and must count 0.
   */
  readonly aggregates: { readonly [name in A]: string };
  /**
   * Calendar and column groupings: aggregate per value of this expression first, then add the
   * partial results up (e.g. `r."tenantId"`, so that distinct customers can be counted by their
   * upstream id alone, cheaper than a distinct count of a composed key). Every aggregate must then
   * be additive across partitions: COUNT, SUM, or COUNT(DISTINCT) of something no two partitions share.
   */
  readonly partition?: string;
  /**
   * `scan` (default): the statement waits for a scan slot (SqlReader.scan), as every statement whose
   * work grows with the data does; `all`: not queued, for a read known to be small (a few thousand
   * rollup rows).
   */
  readonly read?: 'scan' | 'all';
}

/** What a group (a combination of one group of each dimension) stands for. */
export interface StatsGroup {
  /** The groups' labels joined by " / ": calendar label, hour ("13:00"), weekday ("Monday"), studio id, or the column's value ("unknown" when null). */
  readonly label: string;
  /** Identifies the group within one answer (for merging two answers over the same dimensions). */
  readonly key: string;
  /** With a calendar dimension: its bucket; otherwise null. */
  readonly start: Date | null;
  readonly end: Date | null;
  /** With a studio dimension: the studio id. */
  readonly studioId: number | null;
  /** With a column dimension: the value (null for the group of rows where it is null). */
  readonly value: string | null;
  /** With an HOUR_OF_DAY dimension: 0 to 23. */
  readonly hourOfDay: number | null;
  /** With a DAY_OF_WEEK dimension: 1 (Monday) to 7 (Sunday). */
  readonly dayOfWeek: number | null;
}

export type StatsRow<A extends string> = { readonly group: StatsGroup } & { readonly [name in A]: number };

// Presence (who is in now) is one rule shared with customers' `checkedIn`: customers/presence.ts.
export { checkedInByStudio } from '../customers/presence.js';

/** `column` among `ids` (null: no condition; an empty list matches nothing). */
export function studioIn(column: string, ids: readonly number[] | null | undefined): string[] {
  if (ids == null) return [];
  return [ids.length === 0 ? '1 = 0' : `${column} IN (${ids.map(sqlInt).join(', ')})`];
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;
const toNumber = (value: unknown) => (value == null ? 0 : Number(value));

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The label of a cyclic group: "13:00" for an hour of the day, "Monday" for ISO weekday 1. */
export function cyclicLabel(unit: CyclicUnit, value: number): string {
  return unit === 'HOUR_OF_DAY' ? `${String(value).padStart(2, '0')}:00` : WEEKDAYS[value - 1]!;
}

/** One group of one dimension: its key (as the SQL gives it), what it sets in the {@link StatsGroup}, and the group it is alone. */
interface DimensionGroup {
  readonly key: string;
  readonly label: string;
  readonly fields: Partial<Omit<StatsGroup, 'label' | 'key'>>;
  readonly group: StatsGroup;
}

const NO_FIELDS = { start: null, end: null, studioId: null, value: null, hourOfDay: null, dayOfWeek: null } as const;

function dimensionGroup(key: string, label: string, fields: DimensionGroup['fields']): DimensionGroup {
  return { key, label, fields, group: { ...NO_FIELDS, ...fields, key, label } };
}

/** The group of a combination of several dimensions' groups. */
function combined(picked: readonly DimensionGroup[]): StatsGroup {
  const key = picked.map((g) => g.key).join('|');
  const label = picked.length === 0 ? 'total' : picked.map((g) => g.label).join(' / ');
  return Object.assign({ ...NO_FIELDS, key, label }, ...picked.map((g) => g.fields)) as StatsGroup;
}

/** Calendar groups per plan (plans are cached per zone and range by the resolvers, and immutable). */
const calendarGroupsOf = new WeakMap<CalendarPlan, DimensionGroup[]>();
function calendarGroups(plan: CalendarPlan): DimensionGroup[] {
  let groups = calendarGroupsOf.get(plan);
  if (!groups) {
    groups = plan.buckets.map((b) => dimensionGroup(b.key, b.label, { start: new Date(b.start), end: new Date(b.end) }));
    calendarGroupsOf.set(plan, groups);
  }
  return groups;
}

const CYCLIC_GROUPS: Readonly<Record<CyclicUnit, DimensionGroup[]>> = {
  HOUR_OF_DAY: cyclicValues('HOUR_OF_DAY').map((v) => dimensionGroup(String(v), cyclicLabel('HOUR_OF_DAY', v), { hourOfDay: v })),
  DAY_OF_WEEK: cyclicValues('DAY_OF_WEEK').map((v) => dimensionGroup(String(v), cyclicLabel('DAY_OF_WEEK', v), { dayOfWeek: v })),
};

/** The SQL expressions of a dimension's key for a row (joined by ':' they give {@link DimensionGroup.key}). */
function keySql<A extends string>(grouping: Grouping, source: StatsSource<A>): readonly string[] {
  switch (grouping.kind) {
    case 'calendar':
      return grouping.plan.keySql(source.time);
    case 'cyclic':
      return [cyclicSql(grouping.zone, grouping.unit, source.time)];
    case 'studio':
      if (!source.studio) throw new Error('this source cannot be grouped by studio');
      return [source.studio];
    case 'column':
      return [grouping.expression];
    default:
      return unreachable(grouping);
  }
}

/** Groups a grouping has whatever the rows (columns: none known before the rows are read). */
function knownGroups(grouping: Grouping): number {
  return grouping.kind === 'calendar' ? grouping.plan.buckets.length : grouping.kind === 'cyclic' ? cyclicValues(grouping.unit).length : 1;
}

/**
 * Counts `source` rows within [from, to) per combination of the groupings' groups in one GROUP BY
 * statement; the database does the counting, JS only adds the combinations that had no rows (every
 * calendar bucket, hour, weekday and studio is listed; column values only where they occur).
 * No groupings: one total. Aggregates come back as numbers (PostgreSQL returns COUNT and SUM of
 * BIGINT as strings).
 * @throws TooManyBucketsError past {@link MAX_GROUPS} combinations.
 */
export async function groupedStats<A extends string>(
  dataSource: DataSource,
  source: StatsSource<A>,
  groupings: readonly Grouping[],
  range: { readonly from: number; readonly to: number },
): Promise<StatsRow<A>[]> {
  const names = Object.keys(source.aggregates) as A[];
  const aggregates = names.map((name) => `${source.aggregates[name]} AS ${quoted(name)}`).join(', ');
  const rowConditions = [`${source.time} >= ${sqlInt(range.from)}`, `${source.time} < ${sqlInt(range.to)}`, ...source.conditions].join(
    ' AND ',
  );
  const from = `${source.from} WHERE ${rowConditions}`;
  const dimensionKeys = groupings.map((grouping) => keySql(grouping, source));
  const keys = dimensionKeys.flat();
  const known = groupings.reduce((product, grouping) => product * knownGroups(grouping), 1);
  if (known > MAX_GROUPS) throw new TooManyBucketsError(MAX_GROUPS, known);

  let sql: string;
  if (keys.length === 0) {
    sql = `SELECT ${aggregates} FROM ${from}`;
  } else {
    const keyList = keys.map((key, i) => `${key} AS "k${i}"`).join(', ');
    const positions = keys.map((_, i) => i + 1).join(', ');
    if (!source.partition) {
      sql = `SELECT ${keyList}, ${aggregates} FROM ${from} GROUP BY ${positions}`;
    } else {
      const outer = names.map((name) => `SUM(p.${quoted(name)}) AS ${quoted(name)}`).join(', ');
      sql = `SELECT ${keys.map((_, i) => `p."k${i}"`).join(', ')}, ${outer}
        FROM (SELECT ${keyList}, ${aggregates} FROM ${from} GROUP BY ${positions}, ${source.partition}) p GROUP BY ${positions}`;
    }
  }
  const studioGrouping = groupings.find((g): g is Extract<Grouping, { kind: 'studio' }> => g.kind === 'studio');
  // Through SqlReader: off the main thread on SQLite, under the read timeout, a few scans at a time.
  const reader = SqlReader.of(dataSource);
  const [rows, studioIds] = await Promise.all([
    source.read === 'all' ? reader.all<Record<string, unknown>>(sql) : reader.scan<Record<string, unknown>>(sql),
    studioGrouping
      ? reader.all<{ id: number | string }>(
          `SELECT st."id" AS "id" FROM "${TABLES.studios}" st${studioGrouping.studios.length === 0 ? '' : ` WHERE ${studioGrouping.studios.join(' AND ')}`} ORDER BY st."id"`,
        )
      : Promise.resolve([]),
  ]);

  // Each row's key per dimension, as strings.
  const first = dimensionKeys.map((_, d) => dimensionKeys.slice(0, d).reduce((sum, k) => sum + k.length, 0));
  const rowKey = (row: Record<string, unknown>, d: number) =>
    dimensionKeys[d]!.map((_, j) => String(row[`k${first[d]! + j}`] ?? '')).join(':');
  const byKey = new Map(rows.map((row) => [groupings.map((_, d) => rowKey(row, d)).join('|'), row]));

  const dimensionGroups: readonly DimensionGroup[][] = groupings.map((grouping, d) => {
    switch (grouping.kind) {
      case 'calendar':
        return calendarGroups(grouping.plan);
      case 'cyclic':
        return CYCLIC_GROUPS[grouping.unit];
      case 'studio':
        return studioIds.map((s) => dimensionGroup(String(s.id), String(s.id), { studioId: Number(s.id) }));
      case 'column': {
        // Sorted here because the databases order NULL differently (first on SQLite, last on PostgreSQL).
        const column = (row: Record<string, unknown>) => (row[`k${first[d]!}`] == null ? null : String(row[`k${first[d]!}`]));
        const compare = (a: string | null, b: string | null) =>
          a === null ? (b === null ? 0 : 1) : b === null ? -1 : grouping.numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
        return [...new Set(rows.map(column))].sort(compare).map((value) => dimensionGroup(value ?? '', value ?? 'unknown', { value }));
      }
      default:
        return unreachable(grouping);
    }
  });
  const total = dimensionGroups.reduce((product, groups) => product * groups.length, 1);
  if (total > MAX_GROUPS) throw new TooManyBucketsError(MAX_GROUPS, total);

  const result: StatsRow<A>[] = [];
  const rest = new Set(byKey.keys());
  const walk = (d: number, picked: readonly DimensionGroup[]): void => {
    if (d === dimensionGroups.length) {
      // One dimension (most queries): its group objects, made once per plan, serve as they are.
      const group = picked.length === 1 ? picked[0]!.group : combined(picked);
      rest.delete(group.key);
      const row: Record<string, unknown> = { group };
      const found = byKey.get(group.key);
      for (const name of names) row[name] = toNumber(found?.[name]);
      result.push(row as StatsRow<A>);
      return;
    }
    for (const g of dimensionGroups[d]!) walk(d + 1, [...picked, g]);
  };
  walk(0, []);
  // Every counted row falls in a listed group by construction; a miss is a bug, never dropped silently.
  if (rest.size > 0 && keys.length > 0) throw new Error(`statistics groups missed keys ${[...rest].slice(0, 5).join(', ')}`);
  return result;
}

/** Rows dated by a calendar date with no time of day (e.g. a hydrated cancellation date), for {@link datedStats}. */
export interface DatedSource<A extends string> extends Omit<StatsSource<A>, 'time' | 'partition' | 'read'> {
  /** The row's local date: ISO text (`2026-11-24`); rows where it is NULL are not counted. */
  readonly date: string;
  /** What the rows are, for the message refusing an hour, e.g. `cancelled`. */
  readonly what: string;
}

/**
 * {@link groupedStats} for rows dated by a calendar date: counts `source` rows dated `first` to `last`
 * (ISO dates, inclusive) per date, and studio when grouped by it, in one GROUP BY statement, then adds
 * each date into the group its day belongs to — the DAY, WEEK or MONTH bucket of that label, its ISO
 * weekday, its studio. The keys are {@link StatsGroup.key}s of groupedStats over the same groupings, so
 * the answers merge by key; a date in no calendar bucket of the plan (a day the zone skipped) is not counted.
 * @throws TimeBucketError when grouped by an hour (HOUR, HOUR_OF_DAY): a date has none. Grouping by a column is a bug.
 */
export async function datedStats<A extends string>(
  dataSource: DataSource,
  source: DatedSource<A>,
  groupings: readonly Grouping[],
  dates: { readonly first: string; readonly last: string },
): Promise<Map<string, { [name in A]: number }>> {
  for (const grouping of groupings) {
    // Column values only list where the other answer's rows have them: a date's row could be lost.
    if (grouping.kind === 'column') throw new Error('a dated source cannot be grouped by a column');
    const unit = grouping.kind === 'calendar' ? grouping.plan.unit : grouping.kind === 'cyclic' ? grouping.unit : undefined;
    if (unit === 'HOUR' || unit === 'HOUR_OF_DAY') {
      throw new TimeBucketError(
        `groupBy: ${source.what} is counted by a calendar date, which has no hour; group it by DAY, WEEK, MONTH, DAY_OF_WEEK or STUDIO, or leave it out (grouped by ${unit})`,
      );
    }
  }
  const names = Object.keys(source.aggregates) as A[];
  const byStudio = groupings.some((grouping) => grouping.kind === 'studio');
  if (byStudio && !source.studio) throw new Error('this source cannot be grouped by studio');
  const reader = SqlReader.of(dataSource);
  const params = reader.params();
  const keys = [source.date, ...(byStudio ? [source.studio!] : [])];
  const where = [`${source.date} >= ${params.add(dates.first)}`, `${source.date} <= ${params.add(dates.last)}`, ...source.conditions].join(
    ' AND ',
  );
  const rows = await reader.scan<Record<string, unknown>>(
    `SELECT ${keys.map((key, i) => `${key} AS "k${i}"`).join(', ')}, ${names.map((name) => `${source.aggregates[name]} AS ${quoted(name)}`).join(', ')}
       FROM ${source.from} WHERE ${where} GROUP BY ${keys.map((_, i) => i + 1).join(', ')}`,
    params.values,
  );
  const bucketKeys = groupings.map((grouping) =>
    grouping.kind === 'calendar' ? new Map(grouping.plan.buckets.map((b) => [b.label, b.key])) : undefined,
  );
  const result = new Map<string, { [name in A]: number }>();
  for (const row of rows) {
    const date = dateDimensions(String(row['k0']));
    const parts = groupings.map((grouping, d) =>
      grouping.kind === 'calendar'
        ? bucketKeys[d]!.get(date[grouping.plan.unit as 'DAY' | 'WEEK' | 'MONTH'])
        : grouping.kind === 'cyclic'
          ? String(date.DAY_OF_WEEK)
          : String(row['k1']),
    );
    if (parts.some((part) => part === undefined)) continue;
    const key = parts.join('|');
    const sums = result.get(key) ?? (Object.fromEntries(names.map((name) => [name, 0])) as { [name in A]: number });
    for (const name of names) sums[name] += toNumber(row[name]);
    result.set(key, sums);
  }
  return result;
}

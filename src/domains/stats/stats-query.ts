import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { unreachable } from '../../ingest/event-types.js';
import { sqlInt, type CalendarPlan } from './time-buckets.js';

/**
 * How rows are grouped: by calendar bucket (local hour, day or week), by studio (every studio
 * matching `studios`, with zeros), or by the value of a column (only values that occur).
 */
export type Grouping =
  | { readonly kind: 'calendar'; readonly plan: CalendarPlan }
  | { readonly kind: 'studio'; readonly studios: readonly string[] }
  | { readonly kind: 'column'; readonly expression: string; readonly numeric: boolean };

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
}

/** What a group stands for. */
export interface StatsGroup {
  /** Calendar label, studio id, or the column's value ("unknown" when null). */
  readonly label: string;
  /** Calendar groups: the bucket; otherwise null. */
  readonly start: Date | null;
  readonly end: Date | null;
  /** Studio groups: the studio id. */
  readonly studioId: number | null;
  /** Column groups: the value (null for the group of rows where it is null). */
  readonly value: string | null;
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

/**
 * Counts `source` rows within [from, to) per group in one GROUP BY statement; the database does the
 * counting, JS only adds the calendar buckets that had no rows. Aggregates come back as numbers
 * (PostgreSQL returns COUNT and SUM of BIGINT as strings).
 */
export async function groupedStats<A extends string>(
  dataSource: DataSource,
  source: StatsSource<A>,
  grouping: Grouping,
  range: { readonly from: number; readonly to: number },
): Promise<StatsRow<A>[]> {
  const names = Object.keys(source.aggregates) as A[];
  const aggregates = names.map((name) => `${source.aggregates[name]} AS ${quoted(name)}`).join(', ');
  const rowConditions = [`${source.time} >= ${sqlInt(range.from)}`, `${source.time} < ${sqlInt(range.to)}`, ...source.conditions].join(' AND ');
  /** `SELECT keys as k0.., aggregates FROM <from> GROUP BY keys`, through the partitions when the source has them. */
  const grouped = (keys: readonly string[], from: string) => {
    const keyList = keys.map((key, i) => `${key} AS "k${i}"`).join(', ');
    const positions = keys.map((_, i) => i + 1).join(', ');
    if (!source.partition) return `SELECT ${keyList}, ${aggregates} FROM ${from} GROUP BY ${positions}`;
    const outer = names.map((name) => `SUM(p.${quoted(name)}) AS ${quoted(name)}`).join(', ');
    return `SELECT ${keys.map((_, i) => `p."k${i}"`).join(', ')}, ${outer}
      FROM (SELECT ${keyList}, ${aggregates} FROM ${from} GROUP BY ${positions}, ${source.partition}) p GROUP BY ${positions}`;
  };
  // Through SqlReader: off the main thread on SQLite, under the read timeout, a few scans at a time.
  const query = (sql: string) => SqlReader.of(dataSource).scan<Record<string, unknown>>(sql);
  const values = (row: Record<string, unknown>) => Object.fromEntries(names.map((name) => [name, toNumber(row[name])])) as { [name in A]: number };

  switch (grouping.kind) {
    case 'calendar': {
      const keys = grouping.plan.keySql(source.time);
      const rows = await query(grouped(keys, `${source.from} WHERE ${rowConditions}`));
      const byKey = new Map(rows.map((row) => [keys.map((_, i) => String(row[`k${i}`])).join(':'), row]));
      const rest = new Set(byKey.keys());
      const result = grouping.plan.buckets.map((bucket) => {
        rest.delete(bucket.key);
        const group = { label: bucket.label, start: new Date(bucket.start), end: new Date(bucket.end), studioId: null, value: null };
        return { group, ...values(byKey.get(bucket.key) ?? {}) } as StatsRow<A>;
      });
      // Every row in the range falls in a bucket by construction; a miss is a bug, never dropped silently.
      if (rest.size > 0) throw new Error(`calendar buckets missed keys ${[...rest].join(', ')}`);
      return result;
    }
    case 'studio': {
      if (!source.studio) throw new Error('this source cannot be grouped by studio');
      const where = grouping.studios.length === 0 ? '' : ` WHERE ${grouping.studios.join(' AND ')}`;
      const rows = await query(
        `SELECT st."id" AS "k0", ${aggregates}
           FROM "studios" st LEFT JOIN ${source.from} ON ${source.studio} = st."id" AND ${rowConditions}${where}
           GROUP BY st."id" ORDER BY st."id"`,
      );
      return rows.map((row) => {
        const studioId = Number(row['k0']);
        return { group: { label: String(studioId), start: null, end: null, studioId, value: null }, ...values(row) } as StatsRow<A>;
      });
    }
    case 'column': {
      const rows = await query(grouped([grouping.expression], `${source.from} WHERE ${rowConditions}`));
      // Sorted here because the databases order NULL differently (first on SQLite, last on PostgreSQL).
      const value = (row: Record<string, unknown>) => (row['k0'] == null ? null : String(row['k0']));
      const compare = (a: string | null, b: string | null) =>
        a === null ? (b === null ? 0 : 1) : b === null ? -1 : grouping.numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
      return rows
        .map((row) => ({ group: { label: value(row) ?? 'unknown', start: null, end: null, studioId: null, value: value(row) }, ...values(row) }) as StatsRow<A>)
        .sort((a, b) => compare(a.group.value, b.group.value));
    }
    default:
      return unreachable(grouping);
  }
}

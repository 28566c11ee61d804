import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import type { DataSource } from 'typeorm';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import type { TimeRangeInput } from '../../api/filters.js';
import { SqlReader } from '../../db/sql-reader.js';
import { ROLLUP_BUCKET_MS } from '../visits/visit-rollup.js';
import {
  TooManyBucketsError,
  datedStats,
  groupedStats,
  studioIn,
  type DatedSource,
  type Grouping,
  type StatsGroup,
  type StatsRow,
} from './stats-query.js';
import {
  BucketCapError,
  MAX_BUCKETS,
  TimeBucketError,
  WallClock,
  calendarPlan,
  zoneOffsets,
  type CalendarPlan,
  type CalendarUnit,
  type CyclicUnit,
  type ZoneOffsets,
} from './time-buckets.js';

/*
 * What every statistics field does with its arguments: the range (open ends), the zone, the
 * `groupBy` list turned into groupings, the viewer's studios; and the statistics engine
 * (stats-query.ts) with its errors turned into the client's (TOO_MANY_BUCKETS, BAD_USER_INPUT).
 * Shared by the statistics resolvers and the reports.
 */
export const RANGE = {
  nullable: true,
  description:
    'The half-open time range to count: `from` (inclusive) and `to` (exclusive). Either may be left out (or the whole range): ' +
    '`from` then defaults to the first item counted (to its quarter hour), `to` to now (rounded up to the next quarter hour).',
} as const;
export const TIME_ZONE = {
  defaultValue: 'UTC',
  description:
    'IANA time zone of the calendar buckets, e.g. "Europe/Berlin": days start at local midnight and last 23 or 25 hours when the clocks change.',
};
export const GROUP_BY =
  'The dimensions of one bucket, in order (the first outermost): one bucket per combination, e.g. `[STUDIO, HOUR]` or the heatmap ' +
  '`[DAY_OF_WEEK, HOUR_OF_DAY]`; at most one calendar period (HOUR, DAY, WEEK, MONTH); an empty list gives one total. A single value still works. ' +
  'Past 2,000 buckets of a period or 10,000 in all: TOO_MANY_BUCKETS.';
export const STUDIO_IDS = { nullable: true, description: 'Count only these studios.' } as const;

/** A quarter hour: the rollups' bucket, and what open range ends are rounded to. */
export const QUARTER_MS = ROLLUP_BUCKET_MS;

/** What every statistics query needs from its arguments, checked. */
export interface StatsArgs {
  readonly from: number;
  readonly to: number;
  readonly clock: WallClock;
}

/**
 * The range and zone of a statistics query. A missing `from` is the first item counted (`first`,
 * floored to its quarter hour), a missing `to` now (rounded up to the quarter hour). Undefined when
 * `from` was left out and there is nothing to count.
 */
export async function statsArgs(
  range: TimeRangeInput | null | undefined,
  timeZone: string,
  first: (clock: WallClock) => Promise<number | null>,
): Promise<StatsArgs | undefined> {
  const clock = bucketInput(() => clockOf(timeZone));
  const to = range?.to ? range.to.getTime() : Math.ceil(Date.now() / QUARTER_MS) * QUARTER_MS;
  if (range?.from && range.to && range.from.getTime() >= to) throw clientError(ErrorCode.BAD_USER_INPUT, 'range: from must be before to');
  let from: number;
  if (range?.from) {
    from = range.from.getTime();
    if (from >= to) throw clientError(ErrorCode.BAD_USER_INPUT, 'range: from must be before to (to defaults to now)');
  } else {
    const earliest = await first(clock);
    if (earliest === null) return undefined;
    from = Math.floor(earliest / QUARTER_MS) * QUARTER_MS;
    if (from >= to) return undefined;
  }
  return { from, to, clock };
}

/** The earliest `time` among the rows of `from` meeting `conditions` (for a range without `from`). */
export async function firstTime(dataSource: DataSource, from: string, time: string, conditions: readonly string[]): Promise<number | null> {
  const [row] = await SqlReader.of(dataSource).scan<{ first: number | string | null }>(
    `SELECT MIN(${time}) AS "first" FROM ${from}${conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`}`,
  );
  return row?.first == null ? null : Number(row.first);
}

/** The earliest date (ISO text) among the rows of a dated source, or null (for a range without `from`). */
export async function firstDate(dataSource: DataSource, source: DatedSource<string>): Promise<string | null> {
  const [row] = await SqlReader.of(dataSource).scan<{ first: string | null }>(
    `SELECT MIN(${source.date}) AS "first" FROM ${source.from} WHERE ${[`${source.date} IS NOT NULL`, ...source.conditions].join(' AND ')}`,
  );
  return row?.first ?? null;
}

/** Clocks, calendar plans and zone offsets are pure functions of their inputs, and dear (Intl formatting): kept per zone and range. */
const CACHE_SIZE = 256;
const clocks = new Map<string, WallClock>();
const plans = new Map<string, CalendarPlan>();
const zones = new Map<string, ZoneOffsets>();

function remember<T>(cache: Map<string, T>, key: string, compute: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute();
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(key, value);
  }
  return value;
}

/** @throws TimeBucketError for a zone this runtime does not know (never cached). */
export function clockOf(timeZone: string): WallClock {
  return remember(clocks, timeZone, () => new WallClock(timeZone));
}

/** Whether the current field's selection (fragments followed; `@skip`/`@include` not looked at) names `field`. */
export function selects(info: GraphQLResolveInfo, field: string): boolean {
  const inSet = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((selection) =>
      selection.kind === Kind.FIELD
        ? selection.name.value === field
        : selection.kind === Kind.INLINE_FRAGMENT
          ? inSet(selection.selectionSet)
          : inSet(info.fragments[selection.name.value]?.selectionSet),
    );
  return info.fieldNodes.some((node) => inSet(node.selectionSet));
}

/** Bucketing mistakes are the caller's: BAD_USER_INPUT (TOO_MANY_BUCKETS past a cap), with the message naming the argument. */
export function bucketInput<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    throw bucketError(error);
  }
}

export function bucketError(error: unknown): unknown {
  if (error instanceof BucketCapError || error instanceof TooManyBucketsError)
    return clientError(ErrorCode.TOO_MANY_BUCKETS, (error as Error).message);
  if (error instanceof TimeBucketError) return clientError(ErrorCode.BAD_USER_INPUT, error.message);
  return error;
}

/** {@link groupedStats}, its bucket cap turned into TOO_MANY_BUCKETS. */
export async function grouped<A extends string>(...args: Parameters<typeof groupedStats<A>>): Promise<StatsRow<A>[]> {
  try {
    return await groupedStats<A>(...args);
  } catch (error) {
    throw bucketError(error);
  }
}

/** {@link datedStats}, an hour among its groupings turned into BAD_USER_INPUT. */
export async function dated<A extends string>(...args: Parameters<typeof datedStats<A>>): Promise<Map<string, { [name in A]: number }>> {
  try {
    return await datedStats<A>(...args);
  } catch (error) {
    throw bucketError(error);
  }
}

export const PERIODS = ['HOUR', 'DAY', 'WEEK', 'MONTH'] as const;
const CYCLES = ['HOUR_OF_DAY', 'DAY_OF_WEEK'] as const;
export type TimeDimension = (typeof PERIODS)[number] | (typeof CYCLES)[number];

export function isPeriod(value: string): value is CalendarUnit {
  return (PERIODS as readonly string[]).includes(value);
}
function isCycle(value: string): value is CyclicUnit {
  return (CYCLES as readonly string[]).includes(value);
}

/**
 * A `groupBy` argument as a list (GraphQL coerces a single value into one; `fallback` when absent),
 * checked: a value twice, or two calendar periods, is refused (BAD_USER_INPUT).
 */
export function groupByList<G extends string>(groupBy: G | readonly G[] | null | undefined, fallback: readonly G[]): readonly G[] {
  const list: readonly G[] = groupBy == null ? fallback : typeof groupBy === 'string' ? [groupBy as G] : groupBy;
  if (new Set(list).size !== list.length)
    throw clientError(ErrorCode.BAD_USER_INPUT, `groupBy: ${list.join(', ')} names a dimension twice`);
  const periods = list.filter(isPeriod);
  if (periods.length > 1)
    throw clientError(ErrorCode.BAD_USER_INPUT, `groupBy: at most one calendar period (HOUR, DAY, WEEK, MONTH), got ${periods.join(', ')}`);
  return list;
}

/**
 * The groupings of a `groupBy` list: the time dimensions here, the others (`STUDIO`, `TYPE`, ...)
 * by `other`. A list with a value twice, or two calendar periods, is refused (BAD_USER_INPUT).
 */
export function groupingsOf<G extends string>(
  groupBy: G | readonly G[] | null | undefined,
  fallback: readonly G[],
  args: StatsArgs,
  other: (value: Exclude<G, TimeDimension>) => Grouping,
): Grouping[] {
  return groupByList(groupBy, fallback).map((value): Grouping => {
    if (isPeriod(value as string)) return calendar(args, value as CalendarUnit);
    if (isCycle(value as string)) {
      const unit = value as CyclicUnit;
      const key = `${args.clock.timeZone}|${args.from}|${args.to}`;
      return { kind: 'cyclic', unit, zone: remember(zones, key, () => zoneOffsets(args.clock, args.from, args.to)) };
    }
    return other(value as Exclude<G, TimeDimension>);
  });
}

export function calendar(args: StatsArgs, unit: CalendarUnit): Grouping {
  const key = `${args.clock.timeZone}|${unit}|${args.from}|${args.to}`;
  return {
    kind: 'calendar',
    plan: bucketInput(() => remember(plans, key, () => calendarPlan(args.clock, unit, args.from, args.to, MAX_BUCKETS))),
  };
}

/** The viewer's scope and the `studioIds` argument, as conditions on a studio column. */
export function studios(context: GraphQLContext, column: string, studioIds: readonly number[] | null | undefined): string[] {
  return [...studioIn(column, context.scope.studioIds), ...studioIn(column, studioIds)];
}

export const groupFields = ({ label, start, end, hourOfDay, dayOfWeek }: StatsGroup) => ({ label, start, end, hourOfDay, dayOfWeek });

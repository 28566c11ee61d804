import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { ErrorCode, clientError } from '../../graphql/errors.js';
import { TimeRangeInput } from '../../graphql/filters.js';
import { QUERY_COSTS, statsComplexity } from '../../graphql/limits.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { checkedInByStudio, groupedStats, studioIn, type Grouping, type StatsGroup } from './stats-query.js';
import {
  AppointmentBookingStatsBucket,
  AppointmentBookingStatsGrouping,
  ClassBookingStatsBucket,
  ClassBookingStatsGrouping,
  ContractStatsBucket,
  CustomerStatsBucket,
  EventStatsBucket,
  EventStatsGrouping,
  Occupancy,
  VisitStatsBucket,
  VisitStatsGrouping,
} from './stats.types.js';
import { MAX_BUCKETS, TimeBucketError, WallClock, calendarPlan, sqlInt, type CalendarPlan, type CalendarUnit } from './time-buckets.js';

const RANGE = { description: 'The half-open time range to count: `from` (inclusive) and `to` (exclusive) are both required.' };
const TIME_ZONE = {
  defaultValue: 'UTC',
  description: 'IANA time zone of the calendar buckets, e.g. "Europe/Berlin": days start at local midnight and last 23 or 25 hours when the clocks change.',
};
const GROUP_BY = 'What one bucket stands for (see the values).';
const STUDIO_IDS = { nullable: true, description: 'Count only these studios.' } as const;

/** What every statistics query needs from its arguments, checked. */
interface StatsArgs {
  readonly from: number;
  readonly to: number;
  readonly clock: WallClock;
}

function statsArgs(range: TimeRangeInput, timeZone: string): StatsArgs {
  if (!range.from || !range.to) throw clientError(ErrorCode.BAD_USER_INPUT, `range.${range.from ? 'to' : 'from'}: required for statistics`);
  const from = range.from.getTime();
  const to = range.to.getTime();
  if (from >= to) throw clientError(ErrorCode.BAD_USER_INPUT, 'range: from must be before to');
  return { from, to, clock: bucketInput(() => clockOf(timeZone)) };
}

/** Clocks and calendar plans are pure functions of their inputs, and dear (Intl formatting): kept per zone and range. */
const CACHE_SIZE = 256;
const clocks = new Map<string, WallClock>();
const plans = new Map<string, CalendarPlan>();

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
function clockOf(timeZone: string): WallClock {
  return remember(clocks, timeZone, () => new WallClock(timeZone));
}

/** Whether the current field's selection (fragments followed; `@skip`/`@include` not looked at) names `field`. */
function selects(info: GraphQLResolveInfo, field: string): boolean {
  const inSet = (set: SelectionSetNode | undefined): boolean => (set?.selections ?? []).some((selection) =>
    selection.kind === Kind.FIELD ? selection.name.value === field
    : selection.kind === Kind.INLINE_FRAGMENT ? inSet(selection.selectionSet)
    : inSet(info.fragments[selection.name.value]?.selectionSet));
  return info.fieldNodes.some((node) => inSet(node.selectionSet));
}

/** Bucketing mistakes are the caller's: BAD_USER_INPUT, with the message naming the argument. */
function bucketInput<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    if (error instanceof TimeBucketError) throw clientError(ErrorCode.BAD_USER_INPUT, error.message);
    throw error;
  }
}

function calendar(args: StatsArgs, unit: CalendarUnit): Grouping {
  const key = `${args.clock.timeZone}|${unit}|${args.from}|${args.to}`;
  return { kind: 'calendar', plan: bucketInput(() => remember(plans, key, () => calendarPlan(args.clock, unit, args.from, args.to, MAX_BUCKETS))) };
}

/** The viewer's scope and the `studioIds` argument, as conditions on a studio column. */
function studios(context: GraphQLContext, column: string, studioIds: readonly number[] | null | undefined): string[] {
  return [...studioIn(column, context.scope.studioIds), ...studioIn(column, studioIds)];
}

/** Customers linked (by an event they delivered) to one of `ids`; the same rule as Scope.whereCustomer. */
function customerLinkedTo(alias: string, ids: readonly number[] | null | undefined): string[] {
  if (ids == null) return [];
  if (ids.length === 0) return ['1 = 0'];
  return [`EXISTS (SELECT 1 FROM "customer_studios" cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN (${ids.map(sqlInt).join(', ')}))`];
}

/** A day bucket's label (`2026-11-30`, made by calendarPlan) as a SQL literal; anything else is a bug. */
function sqlDate(label: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(label)) throw new Error(`not a calendar date for SQL: ${label}`);
  return `'${label}'`;
}

/**
 * Contracts cancelled per day of `plan`, by label. The cancellation is a calendar date (hydrated from
 * the Open API, `YYYY-MM-DD`, the operator's own date with no time of day), so it is matched to the
 * day bucket with that date, whatever the zone, and counted whole even where the first or last
 * bucket reaches beyond the range. Contracts not hydrated yet have no date and are not counted.
 */
async function cancelledByDate(dataSource: DataSource, plan: CalendarPlan, conditions: readonly string[]): Promise<Map<string, number>> {
  const labels = plan.buckets.map((bucket) => bucket.label);
  const where = [
    'r."cancelled" = TRUE', `r."cancellationDate" >= ${sqlDate(labels[0]!)}`, `r."cancellationDate" <= ${sqlDate(labels[labels.length - 1]!)}`, ...conditions,
  ];
  const rows = await SqlReader.of(dataSource).scan<{ day: string; cancelled: number | string }>(
    `SELECT r."cancellationDate" AS "day", COUNT(r."id") AS "cancelled" FROM "contracts" r WHERE ${where.join(' AND ')} GROUP BY r."cancellationDate"`,
  );
  return new Map(rows.map((row) => [row.day, Number(row.cancelled)]));
}

const groupFields = ({ label, start, end }: StatsGroup) => ({ label, start, end });
const BOOKING_COUNTS = {
  booked: `COUNT(CASE WHEN r."status" = 'BOOKED' THEN 1 END)`,
  cancelled: `COUNT(CASE WHEN r."status" = 'CANCELLED' THEN 1 END)`,
};

/**
 * Aggregates over the records and the event log, each one GROUP BY statement computed by the
 * database and scoped inside the SQL to the studios the viewer may see.
 */
@Resolver()
export class StatsResolver {
  @Query(() => Occupancy, { complexity: QUERY_COSTS.aggregate, description: 'How many customers are checked in now, per studio you may see.' })
  async occupancy(@Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null, @Ctx() context: GraphQLContext): Promise<Occupancy> {
    const rows = await checkedInByStudio(context.dataSource, studios(context, 'st."id"', studioIds), 'scan');
    const found = await studioLoader(context).loadMany(rows.map((row) => row.studioId));
    const result = rows.map((row, i) => {
      const studio = found[i];
      if (!studio || studio instanceof Error) throw studio ?? new Error(`studio ${row.studioId} vanished`);
      return { studio, checkedIn: row.checkedIn };
    });
    return { total: result.reduce((sum, s) => sum + s.checkedIn, 0), studios: result };
  }

  @Query(() => [VisitStatsBucket], { complexity: statsComplexity('DAY'), description: 'Visits per bucket: check-ins, distinct customers and average duration, bucketed by check-in time.' })
  async visitStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('groupBy', () => VisitStatsGrouping, { defaultValue: VisitStatsGrouping.DAY, description: GROUP_BY }) groupBy: VisitStatsGrouping,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<VisitStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const grouping: Grouping = groupBy === VisitStatsGrouping.STUDIO ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) } : calendar(args, groupBy);
    const unique = selects(info, 'uniqueCustomers');
    // Per tenant, a customer is their upstream id: calendar buckets count distinct ids per tenant and
    // add them up (a third faster than a distinct count of "tenant:id" on both databases at 1M events);
    // SQLite has no COUNT(DISTINCT a, b) for the studio grouping's join. Computed only when asked for.
    const perTenant = grouping.kind !== 'studio';
    // A check-out another studio delivered (one the token may not see) does not close the visit for
    // this token, as on `Visit.checkoutAt`.
    const visibleCheckout = context.scope.studioIds === null ? 'r."checkoutAt"'
      : `CASE WHEN ${studioIn('r."checkoutStudioId"', context.scope.studioIds)[0]} THEN r."checkoutAt" END`;
    const rows = await groupedStats(context.dataSource, {
      from: '"visits" r',
      time: 'r."checkinAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      ...(perTenant ? { partition: 'r."tenantId"' } : {}),
      aggregates: {
        count: 'COUNT(r."id")',
        uniqueCustomers: !unique ? '0' : perTenant ? 'COUNT(DISTINCT r."customerId")' : `COUNT(DISTINCT CAST(r."tenantId" AS TEXT) || ':' || CAST(r."customerId" AS TEXT))`,
        closedVisits: `COUNT(${visibleCheckout})`,
        durationMs: `SUM(${visibleCheckout} - r."checkinAt")`,
      },
    }, grouping, args);
    return rows.map((row) => ({
      ...groupFields(row.group),
      studioId: row.group.studioId,
      count: row.count,
      uniqueCustomers: row.uniqueCustomers,
      closedVisits: row.closedVisits,
      // Divided here, from exact integer sums, so that both databases give the same number.
      averageDurationSeconds: row.closedVisits === 0 ? null : Math.round(row.durationMs / row.closedVisits) / 1000,
    }));
  }

  @Query(() => [ClassBookingStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Class bookings per bucket, by their status now: each booking is counted once, at the time of the event that decided its status.',
  })
  async classBookingStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('groupBy', () => ClassBookingStatsGrouping, { defaultValue: ClassBookingStatsGrouping.DAY, description: GROUP_BY }) groupBy: ClassBookingStatsGrouping,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassBookingStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const grouping: Grouping =
      groupBy === ClassBookingStatsGrouping.DAY ? calendar(args, 'DAY')
      : { kind: 'column', expression: groupBy === ClassBookingStatsGrouping.CLASS ? 'r."classId"' : 'r."classSlotId"', numeric: true };
    const rows = await groupedStats(context.dataSource, {
      from: '"class_bookings" r', time: 'r."statusAt"', conditions: studios(context, 'r."studioId"', studioIds), aggregates: BOOKING_COUNTS,
    }, grouping, args);
    return rows.map((row) => ({
      ...groupFields(row.group),
      classId: groupBy === ClassBookingStatsGrouping.CLASS ? row.group.value : null,
      classSlotId: groupBy === ClassBookingStatsGrouping.SLOT ? row.group.value : null,
      booked: row.booked,
      cancelled: row.cancelled,
    }));
  }

  @Query(() => [AppointmentBookingStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Appointment bookings per bucket, by their status now: each booking is counted once, at the time of the event that decided its status.',
  })
  async appointmentBookingStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('groupBy', () => AppointmentBookingStatsGrouping, { defaultValue: AppointmentBookingStatsGrouping.DAY, description: GROUP_BY }) groupBy: AppointmentBookingStatsGrouping,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<AppointmentBookingStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const grouping: Grouping = groupBy === AppointmentBookingStatsGrouping.STUDIO ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) } : calendar(args, 'DAY');
    const rows = await groupedStats(context.dataSource, {
      from: '"appointment_bookings" r', time: 'r."statusAt"', studio: 'r."studioId"', conditions: studios(context, 'r."studioId"', studioIds), aggregates: BOOKING_COUNTS,
    }, grouping, args);
    return rows.map((row) => ({ ...groupFields(row.group), studioId: row.group.studioId, booked: row.booked, cancelled: row.cancelled }));
  }

  @Query(() => [CustomerStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Customers created and deleted per local day. Counts the customers you may see: those a studio of yours has delivered an event about.',
  })
  async customerStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], { nullable: true, description: 'Count only customers these studios delivered events about.' }) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<CustomerStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const visible = [...customerLinkedTo('c', context.scope.studioIds), ...customerLinkedTo('c', studioIds)].map((condition) => ` AND ${condition}`).join('');
    // One row per change, so a customer created and deleted on the same day counts in both columns.
    const changes = `(SELECT c."createdAt" AS "at", 'created' AS "change" FROM "customers" c WHERE c."createdAt" IS NOT NULL${visible}
      UNION ALL SELECT c."deletedAt" AS "at", 'deleted' AS "change" FROM "customers" c WHERE c."deletedAt" IS NOT NULL${visible}) r`;
    const rows = await groupedStats(context.dataSource, {
      from: changes, time: 'r."at"', conditions: [],
      aggregates: { created: `COUNT(CASE WHEN r."change" = 'created' THEN 1 END)`, deleted: `COUNT(CASE WHEN r."change" = 'deleted' THEN 1 END)` },
    }, calendar(args, 'DAY'), args);
    return rows.map((row) => ({ ...groupFields(row.group), created: row.created, deleted: row.deleted }));
  }

  @Query(() => [ContractStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Contracts created and cancelled per local day (those whose first event came from a studio you may see).',
  })
  async contractStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ContractStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const grouping = calendar(args, 'DAY');
    const conditions = studios(context, 'r."studioId"', studioIds);
    const [rows, cancelled] = await Promise.all([
      groupedStats(context.dataSource, { from: '"contracts" r', time: 'r."createdAt"', conditions, aggregates: { created: 'COUNT(r."id")' } }, grouping, args),
      // Only when asked for: a second scan of the contracts.
      selects(info, 'cancelled') && grouping.kind === 'calendar' ? cancelledByDate(context.dataSource, grouping.plan, conditions) : new Map<string, number>(),
    ]);
    return rows.map((row) => ({ ...groupFields(row.group), created: row.created, cancelled: cancelled.get(row.group.label) ?? 0 }));
  }

  @Query(() => [EventStatsBucket], { complexity: statsComplexity('OTHER'), description: 'Events of the log per type, studio or local day, by when they happened upstream; unknown types included.' })
  async eventStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput,
    @Arg('groupBy', () => EventStatsGrouping, { defaultValue: EventStatsGrouping.TYPE, description: GROUP_BY }) groupBy: EventStatsGrouping,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<EventStatsBucket[]> {
    const args = statsArgs(range, timeZone);
    const grouping: Grouping =
      groupBy === EventStatsGrouping.DAY ? calendar(args, 'DAY')
      : groupBy === EventStatsGrouping.STUDIO ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) }
      : { kind: 'column', expression: 'r."type"', numeric: false };
    const rows = await groupedStats(context.dataSource, {
      from: '"events" r', time: 'r."occurredAt"', studio: 'r."studioId"', conditions: studios(context, 'r."studioId"', studioIds), aggregates: { count: 'COUNT(r."seq")' },
    }, grouping, args);
    return rows.map((row) => ({ ...groupFields(row.group), type: groupBy === EventStatsGrouping.TYPE ? row.group.value : null, studioId: row.group.studioId, count: row.count }));
  }
}

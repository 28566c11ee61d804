import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import { unreachable } from '../../events/event-catalog.js';
import { AnswerCacheable } from '../../api/answer-cacheable.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { QUERY_COSTS, statsComplexity } from '../../api/limits.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { STAY_BINS, STAY_BOUNDS_MS, staySql } from '../visits/visit-rollup.js';
import { checkedInByStudio, studioIn, type Grouping, type StatsGroup, type StatsRow } from './stats-query.js';
import {
  GROUP_BY,
  QUARTER_MS,
  RANGE,
  STUDIO_IDS,
  TIME_ZONE,
  dated,
  firstDate,
  firstTime,
  groupFields,
  grouped,
  groupingsOf,
  selects,
  statsArgs,
  studios,
  type StatsArgs,
} from './stats-input.js';
import {
  AppointmentBookingStatsBucket,
  AppointmentBookingStatsGrouping,
  ClassBookingStatsBucket,
  ClassBookingStatsGrouping,
  ContractStatsBucket,
  ContractStatsGrouping,
  CustomerStatsBucket,
  CustomerStatsGrouping,
  EventStatsBucket,
  EventStatsGrouping,
  Occupancy,
  VisitStatsBucket,
  VisitStatsGrouping,
} from './stats.types.js';
import { alignedTo, dateStart, localDate, sqlInt } from './time-buckets.js';
import { TABLES } from '../../db/tables.js';

/**
 * Rollup rows a visit statistic may read without waiting for a scan slot (DATABASE_READ_MAX_SCANS):
 * 20,000 is a studio over seven months, or seven studios over a month; a few ms of SQL.
 */
const SMALL_ROLLUP_READ = 20_000;

/** Customers linked (by an event they delivered) to one of `ids`; the same rule as Scope.whereCustomer. */
function customerLinkedTo(alias: string, ids: readonly number[] | null | undefined): string[] {
  if (ids == null) return [];
  if (ids.length === 0) return ['1 = 0'];
  return [
    `EXISTS (SELECT 1 FROM "${TABLES.customer_studios}" cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN (${ids.map(sqlInt).join(', ')}))`,
  ];
}

/**
 * Whether visit rollups answer exactly for this range and these groupings: the range starts and
 * ends on a quarter hour, and every zone offset in play (and every change of it) is a whole number
 * of quarter hours, so no rollup bucket straddles two groups. Column groupings never are.
 */
function rollupAnswerable(args: StatsArgs, groupings: readonly Grouping[]): boolean {
  if (args.from % QUARTER_MS !== 0 || args.to % QUARTER_MS !== 0) return false;
  return groupings.every(
    (g) =>
      g.kind === 'studio' ||
      (g.kind === 'calendar' ? alignedTo(g.plan.offsets, QUARTER_MS) : g.kind === 'cyclic' && alignedTo(g.zone, QUARTER_MS)),
  );
}

/** The visit measures of one bucket, by name. */
type VisitMeasure = 'count' | 'closedVisits' | 'durationMs' | 'uniqueCustomers' | `stay${number}`;

const STAYS = Array.from({ length: STAY_BINS }, (_, i) => `stay${i}` as const);
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
  @Query(() => Occupancy, {
    complexity: QUERY_COSTS.aggregate,
    description: 'How many customers are checked in now, per studio you may see.',
  })
  async occupancy(
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Occupancy> {
    const rows = await checkedInByStudio(context.dataSource, studios(context, 'st."id"', studioIds), 'scan');
    const found = await studioLoader(context).loadMany(rows.map((row) => row.studioId));
    const result = rows.map((row, i) => {
      const studio = found[i];
      if (!studio || studio instanceof Error) throw studio ?? new Error(`studio ${row.studioId} vanished`);
      return { studio, checkedIn: row.checkedIn };
    });
    return { total: result.reduce((sum, s) => sum + s.checkedIn, 0), studios: result };
  }

  @AnswerCacheable('range-ends')
  @Query(() => [VisitStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Visits per bucket: check-ins, distinct customers and average duration, bucketed by check-in time.',
  })
  async visitStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [VisitStatsGrouping], { defaultValue: [VisitStatsGrouping.DAY], description: GROUP_BY })
    groupBy: VisitStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<VisitStatsBucket[]> {
    const conditions = studios(context, 'r."studioId"', studioIds);
    // The rollups' first non-empty quarter hour is the first check-in's, floored: a short read.
    const args = await statsArgs(range, timeZone, () =>
      firstTime(context.dataSource, `"${TABLES.visit_rollups}" r`, 'r."bucket"', [...conditions, 'r."visits" <> 0']),
    );
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [VisitStatsGrouping.DAY], args, () => ({
      kind: 'studio',
      studios: studios(context, 'st."id"', studioIds),
    }));
    const unique = selects(info, 'uniqueCustomers');
    const distribution = selects(info, 'stayDistribution');
    const stays = (sql: (i: number) => string) => (distribution ? Object.fromEntries(STAYS.map((name, i) => [name, sql(i)])) : {});

    let rows: StatsRow<VisitMeasure>[] | undefined;
    if (rollupAnswerable(args, groupings)) {
      // At most one rollup row per studio and quarter hour: a known, small read for a few studios.
      const studioCount = studioIds?.length ?? context.scope.studioIds?.length;
      const small = studioCount !== undefined && studioCount * ((args.to - args.from) / QUARTER_MS) <= SMALL_ROLLUP_READ;
      const rolled = await grouped<VisitMeasure | 'away'>(
        context.dataSource,
        {
          from: `"${TABLES.visit_rollups}" r`,
          time: 'r."bucket"',
          studio: 'r."studioId"',
          conditions,
          read: small ? 'all' : 'scan',
          aggregates: <Record<VisitMeasure | 'away', string>>{
            count: 'SUM(r."visits")',
            closedVisits: 'SUM(r."closed")',
            durationMs: 'SUM(r."durationMs")',
            away: 'SUM(r."closedAway")',
            ...stays((i) => `SUM(r."stay${i}")`),
          },
        },
        groupings,
        args,
      );
      // A token restricted to some studios does not see a check-out delivered by another studio (as on
      // `Visit.checkoutAt`); the rollups do not say which studio that was, so such buckets are counted raw.
      if (context.scope.studioIds === null || rolled.every((row) => row.away === 0)) rows = rolled;
    }
    // Distinct customers are not additive across quarter hours: always counted from the visits
    // (the studio-and-check-in index), and only when asked for.
    const raw = await this.rawVisitStats(context, conditions, groupings, args, { counts: rows === undefined, unique, distribution });
    const uniqueByKey = new Map(raw.map((row) => [row.group.key, row.uniqueCustomers]));
    const buckets: VisitStatsBucket[] = [];
    for (const row of rows ?? raw) {
      const { group } = row;
      const closed = row.closedVisits;
      const durationMs = row.durationMs;
      buckets.push({
        label: group.label,
        start: group.start,
        end: group.end,
        hourOfDay: group.hourOfDay,
        dayOfWeek: group.dayOfWeek,
        studioId: group.studioId,
        count: row.count,
        uniqueCustomers: uniqueByKey.get(group.key) ?? 0,
        closedVisits: closed,
        openVisits: row.count - closed,
        // Divided here, from exact integer sums, so that both databases give the same number.
        averageDurationSeconds: closed === 0 ? null : Math.round(durationMs / closed) / 1000,
        totalDurationSeconds: durationMs / 1000,
        // Built only when selected (eight objects a bucket).
        stayDistribution: !distribution
          ? []
          : STAYS.map((name, i) => ({
              fromMinutes: i === 0 ? 0 : STAY_BOUNDS_MS[i - 1]! / 60_000,
              toMinutes: i < STAY_BOUNDS_MS.length ? STAY_BOUNDS_MS[i]! / 60_000 : null,
              count: row[name] ?? 0,
            })),
      });
    }
    return buckets;
  }

  /**
   * Visit measures by a GROUP BY over the visits: the counts (`counts`, when the rollups cannot
   * answer), the distinct customers (`unique`), the stay bins (`distribution`); skipped entirely
   * when none is needed.
   */
  private async rawVisitStats(
    context: GraphQLContext,
    conditions: readonly string[],
    groupings: readonly Grouping[],
    args: StatsArgs,
    needs: { readonly counts: boolean; readonly unique: boolean; readonly distribution: boolean },
  ): Promise<StatsRow<VisitMeasure>[]> {
    if (!needs.counts && !needs.unique) return [];
    // A check-out another studio delivered (one the token may not see) does not close the visit for
    // this token, as on `Visit.checkoutAt`.
    const visibleCheckout =
      context.scope.studioIds === null
        ? 'r."checkoutAt"'
        : `CASE WHEN ${studioIn('r."checkoutStudioId"', context.scope.studioIds)[0]} THEN r."checkoutAt" END`;
    const aggregates: Record<string, string> = needs.counts
      ? {
          count: 'COUNT(r."id")',
          closedVisits: `COUNT(${visibleCheckout})`,
          durationMs: `SUM(${visibleCheckout} - r."checkinAt")`,
          ...(needs.distribution
            ? Object.fromEntries(staySql(`(${visibleCheckout} - r."checkinAt")`).map((sql, i) => [`stay${i}`, sql]))
            : {}),
        }
      : {};
    // Per tenant, a customer is their upstream id: buckets count distinct ids per tenant and add them
    // up (a third faster than a distinct count of "tenant:id" on both databases at 1M events).
    if (needs.unique) aggregates['uniqueCustomers'] = 'COUNT(DISTINCT r."customerId")';
    return grouped<VisitMeasure>(
      context.dataSource,
      {
        from: `"${TABLES.visits}" r`,
        time: 'r."checkinAt"',
        studio: 'r."studioId"',
        conditions,
        partition: 'r."tenantId"',
        aggregates: aggregates as Record<VisitMeasure, string>,
      },
      groupings,
      args,
    );
  }

  @AnswerCacheable('range-ends')
  @Query(() => [ClassBookingStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Class bookings per bucket, by their status now: each booking is counted once, at the time of the event that decided its status.',
  })
  async classBookingStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [ClassBookingStatsGrouping], { defaultValue: [ClassBookingStatsGrouping.DAY], description: GROUP_BY })
    groupBy: ClassBookingStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassBookingStatsBucket[]> {
    const source = {
      from: `"${TABLES.class_bookings}" r`,
      time: 'r."statusAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: BOOKING_COUNTS,
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [ClassBookingStatsGrouping.DAY], args, (value): Grouping =>
      value === ClassBookingStatsGrouping.STUDIO
        ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) }
        : { kind: 'column', expression: value === ClassBookingStatsGrouping.CLASS ? 'r."classId"' : 'r."classSlotId"', numeric: true },
    );
    const rows = await grouped(context.dataSource, source, groupings, args);
    const has = (value: ClassBookingStatsGrouping) => (typeof groupBy === 'string' ? groupBy === value : groupBy.includes(value));
    // Grouped by both CLASS and SLOT, `value` holds the last column's: each is read from its own key.
    const columnValue = (group: StatsGroup, value: ClassBookingStatsGrouping) => {
      if (!has(value)) return null;
      const list = typeof groupBy === 'string' ? [groupBy] : groupBy;
      const index = list.indexOf(value);
      const part = group.key.split('|')[index];
      return part === undefined || part === '' ? null : part;
    };
    return rows.map((row) => ({
      ...groupFields(row.group),
      studioId: row.group.studioId,
      classId: columnValue(row.group, ClassBookingStatsGrouping.CLASS),
      classSlotId: columnValue(row.group, ClassBookingStatsGrouping.SLOT),
      booked: row.booked,
      cancelled: row.cancelled,
    }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [AppointmentBookingStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Appointment bookings per bucket, by their status now: each booking is counted once, at the time of the event that decided its status.',
  })
  async appointmentBookingStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [AppointmentBookingStatsGrouping], { defaultValue: [AppointmentBookingStatsGrouping.DAY], description: GROUP_BY })
    groupBy: AppointmentBookingStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<AppointmentBookingStatsBucket[]> {
    const source = {
      from: `"${TABLES.appointment_bookings}" r`,
      time: 'r."statusAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: BOOKING_COUNTS,
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [AppointmentBookingStatsGrouping.DAY], args, () => ({
      kind: 'studio',
      studios: studios(context, 'st."id"', studioIds),
    }));
    const rows = await grouped(context.dataSource, source, groupings, args);
    return rows.map((row) => ({ ...groupFields(row.group), studioId: row.group.studioId, booked: row.booked, cancelled: row.cancelled }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [CustomerStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Customers created and deleted per bucket (local day by default). Counts the customers you may see: those a studio of yours has delivered an event about.',
  })
  async customerStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], { nullable: true, description: 'Count only customers these studios delivered events about.' })
    studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
    @Arg('groupBy', () => [CustomerStatsGrouping], { defaultValue: [CustomerStatsGrouping.DAY], description: GROUP_BY })
    groupBy: CustomerStatsGrouping[],
  ): Promise<CustomerStatsBucket[]> {
    const visible = [...customerLinkedTo('c', context.scope.studioIds), ...customerLinkedTo('c', studioIds)]
      .map((condition) => ` AND ${condition}`)
      .join('');
    // One row per change, so a customer created and deleted on the same day counts in both columns.
    const changes = `(SELECT c."createdAt" AS "at", 'created' AS "change" FROM "${TABLES.customers}" c WHERE c."createdAt" IS NOT NULL${visible}
      UNION ALL SELECT c."deletedAt" AS "at", 'deleted' AS "change" FROM "${TABLES.customers}" c WHERE c."deletedAt" IS NOT NULL${visible}) r`;
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, changes, 'r."at"', []));
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [CustomerStatsGrouping.DAY], args, (value) => unreachable(value));
    const rows = await grouped(
      context.dataSource,
      {
        from: changes,
        time: 'r."at"',
        conditions: [],
        aggregates: {
          created: `COUNT(CASE WHEN r."change" = 'created' THEN 1 END)`,
          deleted: `COUNT(CASE WHEN r."change" = 'deleted' THEN 1 END)`,
        },
      },
      groupings,
      args,
    );
    return rows.map((row) => ({ ...groupFields(row.group), created: row.created, deleted: row.deleted }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [ContractStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Contracts created and cancelled per bucket (local day by default), those whose first event came from a studio you may see: ' +
      'a creation counts in the bucket of its CONTRACT_CREATED time, a cancellation in the bucket of its date.',
  })
  async contractStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('groupBy', () => [ContractStatsGrouping], { defaultValue: [ContractStatsGrouping.DAY], description: GROUP_BY })
    groupBy: ContractStatsGrouping[],
  ): Promise<ContractStatsBucket[]> {
    const conditions = studios(context, 'r."studioId"', studioIds);
    // A cancellation counts by the hydrated pair (cancelled, cancellationDate), never by CONTRACT_CANCELLED's
    // time (`cancelledAt`); the members report counts by the same rule (member-report.query.ts `CANCELLED`).
    const cancellations = {
      from: `"${TABLES.contracts}" r`,
      date: 'r."cancellationDate"',
      studio: 'r."studioId"',
      conditions: ['r."cancelled" = TRUE', ...conditions],
      what: 'cancelled',
      aggregates: { cancelled: 'COUNT(r."id")' },
    };
    // Left open, the range starts at the first creation or the first cancellation date, whichever is
    // earlier, whatever is selected: the buckets listed do not depend on the selection.
    const args = await statsArgs(range, timeZone, async (clock) => {
      const [created, cancelled] = await Promise.all([
        firstTime(context.dataSource, `"${TABLES.contracts}" r`, 'r."createdAt"', conditions),
        firstDate(context.dataSource, cancellations),
      ]);
      const firsts = [created, cancelled === null ? null : dateStart(clock, cancelled)].filter((time): time is number => time !== null);
      return firsts.length === 0 ? null : Math.min(...firsts);
    });
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [ContractStatsGrouping.DAY], args, () => ({
      kind: 'studio',
      studios: studios(context, 'st."id"', studioIds),
    }));
    const [rows, cancelled] = await Promise.all([
      grouped(
        context.dataSource,
        {
          from: `"${TABLES.contracts}" r`,
          time: 'r."createdAt"',
          studio: 'r."studioId"',
          conditions,
          aggregates: { created: 'COUNT(r."id")' },
        },
        groupings,
        args,
      ),
      // Only when asked for: a second scan of the contracts. Every local day the range touches counts
      // whole: a date has no time of day to cut it at the range's ends.
      selects(info, 'cancelled')
        ? dated(context.dataSource, cancellations, groupings, {
            first: localDate(args.clock, args.from),
            last: localDate(args.clock, args.to - 1),
          })
        : new Map<string, { cancelled: number }>(),
    ]);
    return rows.map((row) => ({
      ...groupFields(row.group),
      studioId: row.group.studioId,
      created: row.created,
      cancelled: cancelled.get(row.group.key)?.cancelled ?? 0,
    }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [EventStatsBucket], {
    complexity: statsComplexity('OTHER'),
    description: 'Events of the log per type, studio or local day, by when they happened upstream; unknown types included.',
  })
  async eventStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [EventStatsGrouping], { defaultValue: [EventStatsGrouping.TYPE], description: GROUP_BY })
    groupBy: EventStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<EventStatsBucket[]> {
    const source = {
      from: `"${TABLES.events}" r`,
      time: 'r."occurredAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: { count: 'COUNT(r."seq")' },
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [EventStatsGrouping.TYPE], args, (value): Grouping =>
      value === EventStatsGrouping.STUDIO
        ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) }
        : { kind: 'column', expression: 'r."type"', numeric: false },
    );
    const rows = await grouped(context.dataSource, source, groupings, args);
    const byType = (typeof groupBy === 'string' ? [groupBy] : groupBy).includes(EventStatsGrouping.TYPE);
    return rows.map((row) => ({
      ...groupFields(row.group),
      type: byType ? row.group.value : null,
      studioId: row.group.studioId,
      count: row.count,
    }));
  }
}

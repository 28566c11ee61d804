import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { AnswerCacheable } from '../../api/answer-cacheable.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { statsComplexity } from '../../api/limits.js';
import type { Grouping, StatsSource } from './stats-query.js';
import {
  GROUP_BY,
  RANGE,
  STUDIO_IDS,
  TIME_ZONE,
  firstTime,
  groupFields,
  grouped,
  groupingsOf,
  statsArgs,
  studios,
  type StatsArgs,
} from './stats-input.js';
import {
  ClassSlotStatsBucket,
  ClassSlotStatsGrouping,
  DeviceStatsBucket,
  DeviceStatsGrouping,
  FinanceStatsBucket,
  FinanceStatsGrouping,
} from './stats.types.js';
import { TABLES } from '../../db/tables.js';

/**
 * Statistics of the records that are neither visits nor bookings: class slots, devices, finance.
 * Each is one GROUP BY of the statistics engine (stats-query.ts), like `classBookingStats`: the same
 * range, zones, `groupBy` list, studio scope and bucket caps. They count records, never name a person.
 */
@Resolver()
export class RecordStatsResolver {
  @AnswerCacheable('range-ends')
  @Query(() => [ClassSlotStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Class slots per bucket of their start time (the timetable): slots, cancelled slots, places, and the participants the Open API counts. ' +
      'Only slots whose start is known (hydrated from the Open API) are counted.',
  })
  async classSlotStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [ClassSlotStatsGrouping], { defaultValue: [ClassSlotStatsGrouping.DAY], description: GROUP_BY })
    groupBy: ClassSlotStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassSlotStatsBucket[]> {
    const held = `r."status" <> 'CANCELLED'`;
    const source: StatsSource<'slots' | 'cancelled' | 'capacity' | 'booked' | 'waiting'> = {
      from: '"class_slots" r',
      time: 'r."startAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: {
        slots: 'COUNT(r."id")',
        cancelled: `COUNT(CASE WHEN r."status" = 'CANCELLED' THEN 1 END)`,
        capacity: `SUM(CASE WHEN ${held} THEN r."maxParticipants" END)`,
        booked: `SUM(CASE WHEN ${held} THEN r."bookedParticipants" END)`,
        waiting: `SUM(CASE WHEN ${held} THEN r."waitingListParticipants" END)`,
      },
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const groupings = groupingsOf(groupBy, [ClassSlotStatsGrouping.DAY], args, (value): Grouping =>
      value === ClassSlotStatsGrouping.STUDIO
        ? { kind: 'studio', studios: studios(context, 'st."id"', studioIds) }
        : { kind: 'column', expression: 'r."classId"', numeric: true },
    );
    const rows = await grouped(context.dataSource, source, groupings, args);
    const byClass = (typeof groupBy === 'string' ? [groupBy] : groupBy).includes(ClassSlotStatsGrouping.CLASS);
    return rows.map((row) => ({
      ...groupFields(row.group),
      studioId: row.group.studioId,
      classId: byClass ? row.group.value : null,
      slots: row.slots,
      cancelled: row.cancelled,
      capacity: row.capacity,
      bookedParticipants: row.booked,
      waitingListParticipants: row.waiting,
    }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [DeviceStatsBucket], {
    complexity: statsComplexity('DAY'),
    description: 'Devices (check-in terminals, access readers and the like) registered per bucket, by their DEVICE_CREATED time.',
  })
  async deviceStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [DeviceStatsGrouping], { defaultValue: [DeviceStatsGrouping.DAY], description: GROUP_BY })
    groupBy: DeviceStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<DeviceStatsBucket[]> {
    const source: StatsSource<'registered' | 'active'> = {
      from: '"devices" r',
      time: 'r."createdAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: { registered: 'COUNT(r."id")', active: 'COUNT(CASE WHEN r."active" = TRUE THEN 1 END)' },
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const rows = await grouped(context.dataSource, source, byStudio(context, groupBy, args, studioIds), args);
    return rows.map((row) => ({ ...groupFields(row.group), studioId: row.group.studioId, registered: row.registered, active: row.active }));
  }

  @AnswerCacheable('range-ends')
  @Query(() => [FinanceStatsBucket], {
    complexity: statsComplexity('DAY'),
    description:
      'Debt-collection runs and tax-advisor exports created per bucket, by their creation time upstream. One field for both: they are the ' +
      "finance area's records with a creation time, and a finance dashboard reads them side by side (one statement, one range). " +
      'Debt-collection cases carry no status to count by (their events are adjustment requests), so they are not counted here.',
  })
  async financeStats(
    @Arg('range', () => TimeRangeInput, RANGE) range: TimeRangeInput | null,
    @Arg('groupBy', () => [FinanceStatsGrouping], { defaultValue: [FinanceStatsGrouping.DAY], description: GROUP_BY })
    groupBy: FinanceStatsGrouping[],
    @Arg('timeZone', () => String, TIME_ZONE) timeZone: string,
    @Arg('studioIds', () => [ID], STUDIO_IDS) studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<FinanceStatsBucket[]> {
    // One row per record, its kind beside it (as customerStats counts creations and deletions).
    const records = `(SELECT d."createdAt" AS "createdAt", d."studioId" AS "studioId", d."id" AS "id", 'run' AS "kind" FROM ${TABLES.debt_collection_runs} d
      UNION ALL SELECT t."createdAt" AS "createdAt", t."studioId" AS "studioId", t."id" AS "id", 'export' AS "kind" FROM ${TABLES.tax_advisor_exports} t) r`;
    const source: StatsSource<'runs' | 'exports'> = {
      from: records,
      time: 'r."createdAt"',
      studio: 'r."studioId"',
      conditions: studios(context, 'r."studioId"', studioIds),
      aggregates: { runs: `COUNT(CASE WHEN r."kind" = 'run' THEN 1 END)`, exports: `COUNT(CASE WHEN r."kind" = 'export' THEN 1 END)` },
    };
    const args = await statsArgs(range, timeZone, () => firstTime(context.dataSource, source.from, source.time, source.conditions));
    if (!args) return [];
    const rows = await grouped(context.dataSource, source, byStudio(context, groupBy, args, studioIds), args);
    return rows.map((row) => ({
      ...groupFields(row.group),
      studioId: row.group.studioId,
      debtCollectionRuns: row.runs,
      taxAdvisorExports: row.exports,
    }));
  }
}

/** The groupings of a `groupBy` of time dimensions and STUDIO (DAY by default). */
function byStudio(
  context: GraphQLContext,
  groupBy: readonly (DeviceStatsGrouping | FinanceStatsGrouping)[],
  args: StatsArgs,
  studioIds: readonly number[] | null,
): Grouping[] {
  return groupingsOf(groupBy, ['DAY'], args, () => ({ kind: 'studio', studios: studios(context, 'st."id"', studioIds) }));
}

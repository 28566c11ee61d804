import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../api/context.js';
import { DEFAULT_LIST_COST_SIZE, QUERY_COSTS } from '../../api/limits.js';
import { checkedInByStudio } from '../stats/stats-query.js';
import { sqlInt } from '../stats/time-buckets.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { classReport } from './class-report.query.js';
import { REPORT_TIME_ZONE } from './class-report.resolver.js';
import { ClassReportGrouping, ClassReportRow } from './class-report.types.js';
import { activeMembers } from './member-report.query.js';
import { dayBounds, localDay, reportClock } from './report-input.js';
import { StudioSummary } from './studio-summary.types.js';
import { TABLES, type TableName } from '../../db/tables.js';

const AGGREGATE = { complexity: QUERY_COSTS.aggregate } as const;

/**
 * A root field rather than `Studio.summary`: under `studios` every summary would be costed ten
 * times over (a list), and each of its numbers is a statement per studio.
 */
@Resolver()
export class StudioSummaryQueryResolver {
  @Query(() => StudioSummary, {
    nullable: true,
    description:
      'One studio at a glance on a local day: customers, active members, who is in now, visits, bookings and classes of the day. Null when there is no such studio.',
  })
  async studioSummary(
    @Arg('studioId', () => ID, { description: 'The studio (one you may see).' }) studioId: number,
    @Arg('timeZone', () => String, {
      ...REPORT_TIME_ZONE,
      description: 'IANA time zone of the day, e.g. "Europe/Berlin". Default: the studio\'s (`Studio.timeZone`), else UTC.',
    })
    timeZone: string | null,
    @Arg('date', () => String, {
      nullable: true,
      description: 'The local date ("2026-01-14") of the day fields; default: today in `timeZone`.',
    })
    date: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<StudioSummary | null> {
    const studio = await studioLoader(context).load(studioId);
    if (!studio) return null;
    const clock = await reportClock(context, timeZone ?? studio.timeZone, [studio.id]);
    const day = localDay(date, clock, 'date');
    const { from, to } = dayBounds(day, clock);
    return Object.assign(new StudioSummary(), {
      date: day.date,
      timeZone: clock.timeZone,
      studioId: studio.id,
      day,
      today: localDay(null, clock, 'date'),
      clock,
      from,
      to,
    });
  }
}

/** Counts of one studio; the studio is visible (`studioId` is checked against the scope), so its own rows are. */
@Resolver(() => StudioSummary)
export class StudioSummaryResolver {
  @FieldResolver(() => Studio, { description: 'The studio.' })
  async studio(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<Studio> {
    const studio = await studioLoader(context).load(summary.studioId);
    if (!studio) throw new Error(`studio ${summary.studioId} vanished`);
    return studio;
  }

  @FieldResolver(() => Int, { ...AGGREGATE, description: 'Customers (not deleted) this studio has delivered an event about.' })
  async customers(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<number> {
    return count(
      context,
      `SELECT COUNT(*) AS "n" FROM "${TABLES.customer_studios}" cs JOIN "${TABLES.customers}" c ON c."tenantId" = cs."tenantId" AND c."customerId" = cs."customerId"
      WHERE cs."studioId" = ${sqlInt(summary.studioId)} AND c."deletedAt" IS NULL`,
    );
  }

  @FieldResolver(() => Int, {
    ...AGGREGATE,
    description: 'Customers with an active contract delivered by this studio, on `date` (as `membersReport.activeMembers`).',
  })
  activeMembers(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<number> {
    return activeMembers(context.dataSource, { studios: [summary.studioId], day: summary.day, today: summary.today });
  }

  @FieldResolver(() => Int, {
    ...AGGREGATE,
    description: 'Customers checked in here now (as `occupancy` counts them); not tied to `date`.',
  })
  async inNow(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<number> {
    const [row] = await checkedInByStudio(context.dataSource, [`st."id" = ${sqlInt(summary.studioId)}`], 'scan');
    return row?.checkedIn ?? 0;
  }

  @FieldResolver(() => Int, { ...AGGREGATE, description: 'Check-ins this studio delivered on the local day.' })
  visitsToday(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<number> {
    return count(
      context,
      `SELECT COUNT(*) AS "n" FROM "${TABLES.visits}" v WHERE v."studioId" = ${sqlInt(summary.studioId)} AND v."checkinAt" >= ${sqlInt(summary.from)} AND v."checkinAt" < ${sqlInt(summary.to)}`,
    );
  }

  @FieldResolver(() => Int, {
    ...AGGREGATE,
    description:
      'Class and appointment bookings made on the local day (their *_BOOKING_CREATED happened then), delivered by this studio, whatever their status now.',
  })
  bookingsToday(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<number> {
    const made = (table: TableName) =>
      `SELECT COUNT(*) AS "n" FROM "${table}" b WHERE b."studioId" = ${sqlInt(summary.studioId)} AND b."createdAt" >= ${sqlInt(summary.from)} AND b."createdAt" < ${sqlInt(summary.to)}`;
    return count(context, `SELECT (${made(TABLES.class_bookings)}) + (${made(TABLES.appointment_bookings)}) AS "n"`);
  }

  @FieldResolver(() => [ClassReportRow], {
    complexity: ({ childComplexity }) => 1 + QUERY_COSTS.aggregate + 2 * DEFAULT_LIST_COST_SIZE * childComplexity,
    description: 'The slots starting on the local day with their fill, as `classReport(groupBy: SLOT)` reports them.',
  })
  classesToday(@Root() summary: StudioSummary, @Ctx() context: GraphQLContext): Promise<ClassReportRow[]> {
    return classReport(context.dataSource, {
      studios: [summary.studioId],
      from: summary.from,
      to: summary.to,
      clock: summary.clock,
      groupBy: [ClassReportGrouping.SLOT],
    });
  }
}

async function count(context: GraphQLContext, sql: string): Promise<number> {
  const [row] = await SqlReader.of(context.dataSource).scan<{ n: unknown }>(sql);
  return Number(row?.n ?? 0);
}

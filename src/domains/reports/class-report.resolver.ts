import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { classReport } from './class-report.query.js';
import { ClassReportGrouping, ClassReportRow } from './class-report.types.js';
import { reportClock, reportComplexity, reportRange, reportStudios } from './report-input.js';

/** Shared by the reports: what their `timeZone` argument means. */
export const REPORT_TIME_ZONE = {
  nullable: true,
  description:
    'IANA time zone of the local days and weeks, e.g. "Europe/Berlin". Default: the zone of the studios (`Studio.timeZone`) when they all have the same one, else UTC.',
} as const;

@Resolver()
export class ClassReportResolver {
  @Query(() => [ClassReportRow], {
    complexity: reportComplexity(ClassReportGrouping.SLOT),
    description:
      'Class fill and attendance of the slots starting within `range`, per slot, class, instructor, local day or week: places booked, capacity, fill rate, ' +
      'waiting list, cancellations, attendance and no-shows (from the participant status hydrated from the Open API). ' +
      'Only slots whose start time is known (hydrated) are counted; rows with no slot are not listed.',
  })
  async classReport(
    @Arg('range', () => TimeRangeInput, {
      nullable: true,
      description: 'Slots starting from `from` (inclusive) to `to` (exclusive); either end, or both, may be left open.',
    })
    range: TimeRangeInput | null,
    @Arg('groupBy', () => ClassReportGrouping, { defaultValue: ClassReportGrouping.SLOT, description: 'What one row stands for.' })
    groupBy: ClassReportGrouping,
    @Arg('timeZone', () => String, REPORT_TIME_ZONE) timeZone: string | null,
    @Arg('studioIds', () => [ID], { nullable: true, description: 'Only the slots (and bookings) of these studios.' })
    studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassReportRow[]> {
    const { from, to } = reportRange(range);
    const studios = await reportStudios(context, studioIds);
    // Only local days and weeks need a zone: the other groupings do not read the studios' zones.
    const clock = await reportClock(
      context,
      timeZone,
      groupBy === ClassReportGrouping.DAY || groupBy === ClassReportGrouping.WEEK ? studios : [],
    );
    return classReport(context.dataSource, { studios, from, to, clock, groupBy });
  }
}

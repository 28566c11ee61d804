import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { AnswerCacheable } from '../../api/answer-cacheable.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { groupByList } from '../stats/stats-input.js';
import { classReport } from './class-report.query.js';
import { ClassReportGrouping, ClassReportRow } from './class-report.types.js';
import { reportClock, reportComplexity, reportRange, reportStudios } from './report-input.js';

/** Shared by the reports: what their `timeZone` argument means. */
export const REPORT_TIME_ZONE = {
  nullable: true,
  description:
    'IANA time zone of the local days, weeks, months, hours and weekdays, e.g. "Europe/Berlin". Default: the zone of the studios (`Studio.timeZone`) when they all have the same one, else UTC.',
} as const;

/** The dimensions read in the report's time zone. */
const LOCAL: ReadonlySet<ClassReportGrouping> = new Set([
  ClassReportGrouping.DAY,
  ClassReportGrouping.WEEK,
  ClassReportGrouping.MONTH,
  ClassReportGrouping.HOUR_OF_DAY,
  ClassReportGrouping.DAY_OF_WEEK,
]);

@Resolver()
export class ClassReportResolver {
  // An open range is open (no default to now): the answer depends on the committed rows alone.
  @AnswerCacheable('always')
  @Query(() => [ClassReportRow], {
    complexity: reportComplexity(ClassReportGrouping.SLOT),
    description:
      'Class fill and attendance of the slots starting within `range`, per slot, class, instructor, local day, week or month, hour of the day, day of the week or studio, ' +
      'or per combination of them: places booked, capacity, fill rate, ' +
      'waiting list, cancellations, attendance and no-shows (from the participant status hydrated from the Open API). ' +
      'Only slots whose start time is known (hydrated) are counted; rows with no slot are not listed.',
  })
  async classReport(
    @Arg('range', () => TimeRangeInput, {
      nullable: true,
      description: 'Slots starting from `from` (inclusive) to `to` (exclusive); either end, or both, may be left open.',
    })
    range: TimeRangeInput | null,
    @Arg('groupBy', () => [ClassReportGrouping], {
      defaultValue: [ClassReportGrouping.SLOT],
      description:
        'The dimensions of one row, in order (the first outermost): one row per combination that has slots, e.g. `[CLASS, WEEK]` or the timetable ' +
        '`[DAY_OF_WEEK, HOUR_OF_DAY]`; at most one local period (DAY, WEEK, MONTH); an empty list gives one total. A single value still works. ' +
        'Past 10,000 rows: TOO_MANY_BUCKETS.',
    })
    groupBy: ClassReportGrouping[],
    @Arg('timeZone', () => String, REPORT_TIME_ZONE) timeZone: string | null,
    @Arg('studioIds', () => [ID], { nullable: true, description: 'Only the slots (and bookings) of these studios.' })
    studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassReportRow[]> {
    const { from, to } = reportRange(range);
    const dimensions = groupByList(groupBy, [ClassReportGrouping.SLOT]);
    const studios = await reportStudios(context, studioIds);
    // Only local periods, hours and weekdays need a zone: the other groupings do not read the studios' zones.
    const local = dimensions.some((dimension) => LOCAL.has(dimension));
    const clock = await reportClock(context, timeZone, local ? studios : []);
    return classReport(context.dataSource, { studios, from, to, clock, groupBy: dimensions });
  }
}

import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { TimeRangeInput } from '../../api/filters.js';
import { QUERY_COSTS } from '../../api/limits.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Connection } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { REPORT_TIME_ZONE } from './class-report.resolver.js';
import { absentMembers, activeMembers, contractPeriods, countAbsentMembers } from './member-report.query.js';
import { AbsentMember, AbsentMemberConnection, ContractPeriod, ContractPeriodGrouping, MembersReport } from './member-report.types.js';
import { localDay, reportClock, reportComplexity, reportRange, reportStudios } from './report-input.js';

const encodeCursor = (row: { tenantId: number; customerId: number }) =>
  Buffer.from(JSON.stringify([row.tenantId, row.customerId])).toString('base64url');

function decodeCursor(cursor: string): { tenantId: number; customerId: number } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((n) => Number.isSafeInteger(n)))
      return { tenantId: parsed[0] as number, customerId: parsed[1] as number };
  } catch {
    /* fall through */
  }
  throw clientError(ErrorCode.BAD_USER_INPUT, 'after: not a cursor from this list');
}

@Resolver(() => MembersReport)
export class MembersReportResolver {
  @Query(() => MembersReport, {
    description:
      'Members of the studios you may see (or of `studioIds`) as of a local date: active members, new and cancelled contracts per period, members absent since a time.',
  })
  async membersReport(
    @Arg('studioIds', () => [ID], {
      nullable: true,
      description: 'Only members whose contract these studios delivered, and check-ins at these studios.',
    })
    studioIds: number[] | null,
    @Arg('timeZone', () => String, REPORT_TIME_ZONE) timeZone: string | null,
    @Arg('date', () => String, {
      nullable: true,
      description: 'The local date ("2026-01-14") members are counted on; default: today in `timeZone`.',
    })
    date: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<MembersReport> {
    const studios = await reportStudios(context, studioIds);
    const clock = await reportClock(context, timeZone, studios);
    const day = localDay(date, clock, 'date');
    const everyStudio = studioIds == null && context.scope.studioIds === null;
    return Object.assign(new MembersReport(), {
      date: day.date,
      timeZone: clock.timeZone,
      studios,
      everyStudio,
      day,
      today: localDay(null, clock, 'date'),
      clock,
    });
  }

  @FieldResolver(() => Int, {
    complexity: QUERY_COSTS.aggregate,
    description: "Customers with an active contract on the report's date (see the type for what active means).",
  })
  activeMembers(@Root() report: MembersReport, @Ctx() context: GraphQLContext): Promise<number> {
    return activeMembers(context.dataSource, report);
  }

  @FieldResolver(() => [ContractPeriod], {
    complexity: reportComplexity(ContractPeriodGrouping.MONTH),
    description:
      "New and cancelled contracts per local day, week or month of `range` (in the report's time zone), and per studio or day of the week when grouped by them too; " +
      'zeros included. Counted as `contractStats` counts them.',
  })
  contracts(
    @Root() report: MembersReport,
    @Arg('range', () => TimeRangeInput, {
      nullable: true,
      description: 'Either end, or both, may be left open: then from the first or to the last contract.',
    })
    range: TimeRangeInput | null,
    @Arg('groupBy', () => [ContractPeriodGrouping], {
      defaultValue: [ContractPeriodGrouping.MONTH],
      description:
        'The dimensions of one row, in order (the first outermost): one row per combination, e.g. `[STUDIO, MONTH]`; exactly one local period ' +
        '(DAY, WEEK or MONTH) among them. A single value still works. Past 2,000 periods or 10,000 rows in all: TOO_MANY_BUCKETS.',
    })
    groupBy: ContractPeriodGrouping[],
    @Ctx() context: GraphQLContext,
  ): Promise<ContractPeriod[]> {
    return contractPeriods(context.dataSource, report.studios, report.clock, reportRange(range), groupBy);
  }

  // Costed as every connection (limits.ts): a page is an index walk from the cursor, like the lists' pages; `totalCount` is an aggregate.
  @FieldResolver(() => AbsentMemberConnection, {
    description:
      "Members (active on the report's date) who have not checked in at the report's studios at or after `since`, by customer, to page through " +
      `(\`first\`/\`after\`, at most ${MAX_PAGE_SIZE} a page).`,
  })
  async absentMembers(
    @Root() report: MembersReport,
    @Arg('since', () => Date, { description: 'Members with a check-in at or after this time are not absent.' }) since: Date,
    @Arg('first', () => Int, { nullable: true, description: `At most this many (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).` })
    first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'A cursor from a previous page: the members after it.' })
    after: string | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<AbsentMember>> {
    const size = first ?? DEFAULT_PAGE_SIZE;
    if (size < 0 || size > MAX_PAGE_SIZE)
      throw clientError(ErrorCode.BAD_USER_INPUT, `first must be between 0 and ${MAX_PAGE_SIZE}, got ${size}`);
    const rows = await absentMembers(context.dataSource, report, since.getTime(), after == null ? null : decodeCursor(after), size + 1);
    const nodes = rows
      .slice(0, size)
      .map((row) =>
        Object.assign(new AbsentMember(), { ...row, lastCheckinAt: row.lastCheckinAt === null ? null : new Date(row.lastCheckinAt) }),
      );
    const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
    return {
      edges,
      nodes,
      pageInfo: {
        hasNextPage: rows.length > size,
        hasPreviousPage: after != null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
      totalCount: () => countAbsentMembers(context.dataSource, report, since.getTime()),
    };
  }
}

@Resolver(() => AbsentMember)
export class AbsentMemberResolver {
  @FieldResolver(() => Customer, {
    nullable: true,
    description: 'The customer record, as `customer(id)` shows it (null if no event about the customer itself arrived).',
  })
  customer(@Root() member: AbsentMember, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return customerLoader(context).load([member.tenantId, member.customerId]);
  }
}

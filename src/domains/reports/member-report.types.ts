import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ConnectionType } from '../../api/pagination.js';
import type { WallClock } from '../stats/time-buckets.js';
import type { LocalDay } from './report-input.js';

export enum ContractPeriodGrouping {
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
  DAY_OF_WEEK = 'DAY_OF_WEEK',
  STUDIO = 'STUDIO',
}
registerEnumType(ContractPeriodGrouping, {
  name: 'ContractPeriodGrouping',
  description:
    "A dimension of one row of `MembersReport.contracts`: a local period (in the report's time zone), and optionally the day of the week or the studio.",
  valuesConfig: {
    DAY: { description: 'A local calendar day.' },
    WEEK: { description: 'An ISO week, Monday to Sunday.' },
    MONTH: { description: 'A calendar month.' },
    DAY_OF_WEEK: {
      description:
        'By the ISO day of the week (1 = Monday to 7 = Sunday, `dayOfWeek`) of the creation or the cancellation date, within each period.',
    },
    STUDIO: { description: "By the studio that delivered the contract's first event; every studio of the report is listed, with zeros." },
  },
});

/**
 * The members of some studios as of one local date. What the fields share is the report's studios,
 * zone and date, carried here from `membersReport`'s arguments.
 */
@ObjectType({
  description:
    'Members of the studios as of a local date. A member is a customer with an active contract: one (delivered by a studio of the report) whose ' +
    'start date is on or before the date, whose end date (if any) is on or after it, that was not cancelled on or before it (`cancellationDate`), ' +
    'and whose upstream status is ACTIVE — unless it was cancelled or has ended, when its dates alone decide. Contract dates come from the Open API: ' +
    'contracts not hydrated yet are not counted. Deleted customers are not members.',
})
export class MembersReport {
  @Field({ description: 'The local date the report is for ("2026-01-14").' })
  date!: string;

  @Field({ description: 'The time zone of the date and of the periods.' })
  timeZone!: string;

  /** Studios of the contracts and check-ins. */
  studios!: readonly number[];
  /** True when `studios` is every studio (an unrestricted token without `studioIds`). */
  everyStudio!: boolean;
  day!: LocalDay;
  /** Today in the zone: a contract's status describes now, its dates the past. */
  today!: LocalDay;
  clock!: WallClock;
}

@ObjectType({
  description:
    'Contracts started and cancelled in one local period (`MembersReport.contracts`), and one studio or day of the week when grouped by them.',
})
export class ContractPeriod {
  @Field({
    description:
      'The local date ("2026-01-14"), ISO week ("2026-W03") or month ("2026-01"); grouped by several dimensions, their labels joined by " / " in the order of `groupBy` (the studio id, the weekday\'s name).',
  })
  label!: string;

  @Field({ description: 'The first instant of the local period.' })
  start!: Date;

  @Field({ description: 'The first instant after the local period.' })
  end!: Date;

  @Field(() => ID, {
    nullable: true,
    description: "Grouped by STUDIO: the studio that delivered the contracts' first event. Null otherwise.",
  })
  studioId!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Grouped by DAY_OF_WEEK: the ISO day of the week, 1 (Monday) to 7 (Sunday). Null otherwise.',
  })
  dayOfWeek!: number | null;

  @Field(() => Int, { description: 'New contracts: CONTRACT_CREATED happened upstream within the period (and the range).' })
  created!: number;

  @Field(() => Int, {
    description:
      'Cancelled contracts: the Open API says they are cancelled (`Contract.cancelled`) and their cancellation date (`Contract.cancellationDate`, a calendar date) is a day of the period; ' +
      'whole days are counted, as `contractStats` counts them. CONTRACT_CANCELLED (`Contract.cancelledAt`) queues that read; a contract counts once it has landed.',
  })
  cancelled!: number;
}

@ObjectType({ description: "A member with an active contract who has not checked in at the report's studios since a given time." })
export class AbsentMember {
  @Field(() => Int, { description: 'The operator (tenant) of the customer.' })
  tenantId!: number;

  @Field(() => ID, { description: 'The upstream customer id.' })
  customerId!: number;

  @Field(() => Date, { nullable: true, description: "The latest check-in at the report's studios (before `since`); null if never." })
  lastCheckinAt!: Date | null;

  /** `customer` is resolved by AbsentMemberResolver (member-report.resolver.ts). */
}

export const AbsentMemberConnection = ConnectionType(AbsentMember, 'AbsentMember', 'absent member');

import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Studio } from '../studios/studio.entity.js';

/**
 * The time dimensions every statistics query can group by, described once. `what` names the time a
 * row is bucketed by (e.g. "the check-in").
 */
function timeValues(what: string) {
  return {
    HOUR: { description: `By the local hour of ${what} in \`timeZone\` (the hour repeated when the clocks go back is two buckets).` },
    DAY: { description: `By the local calendar day of ${what} in \`timeZone\` (23 or 25 hours when the clocks change).` },
    WEEK: { description: `By the ISO week (Monday to Sunday) of ${what} in \`timeZone\`.` },
    MONTH: { description: `By the local calendar month of ${what} in \`timeZone\`.` },
    HOUR_OF_DAY: {
      description: `By the local hour of the day (0 to 23, \`hourOfDay\`) of ${what}, over the whole range: with DAY_OF_WEEK, the 7 × 24 rush-hour heatmap.`,
    },
    DAY_OF_WEEK: { description: `By the ISO day of the week (1 = Monday to 7 = Sunday, \`dayOfWeek\`) of ${what}, over the whole range.` },
  };
}

/** The time dimensions, the same in every statistics query's grouping enum. */
const TIME_GROUPINGS = {
  HOUR: 'HOUR',
  DAY: 'DAY',
  WEEK: 'WEEK',
  MONTH: 'MONTH',
  HOUR_OF_DAY: 'HOUR_OF_DAY',
  DAY_OF_WEEK: 'DAY_OF_WEEK',
} as const;
const STUDIO_VALUE = {
  STUDIO: {
    description: 'By the studio that delivered the first event about the booking; every studio you may see is listed, with zeros.',
  },
};

export const VisitStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO' } as const;
export type VisitStatsGrouping = (typeof VisitStatsGrouping)[keyof typeof VisitStatsGrouping];
registerEnumType(VisitStatsGrouping, {
  name: 'VisitStatsGrouping',
  description: 'A dimension `visitStats` groups visits by.',
  valuesConfig: {
    ...timeValues('the check-in'),
    STUDIO: { description: 'By the studio that delivered the check-in; every studio you may see is listed, with zeros.' },
  },
});

export const ClassBookingStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO', CLASS: 'CLASS', SLOT: 'SLOT' } as const;
export type ClassBookingStatsGrouping = (typeof ClassBookingStatsGrouping)[keyof typeof ClassBookingStatsGrouping];
registerEnumType(ClassBookingStatsGrouping, {
  name: 'ClassBookingStatsGrouping',
  description: 'A dimension `classBookingStats` groups class bookings by.',
  valuesConfig: {
    ...timeValues('the event that decided the status'),
    ...STUDIO_VALUE,
    CLASS: {
      description: 'By class. Bookings whose class is not known yet (not hydrated from the Open API) form one group with `classId: null`.',
    },
    SLOT: { description: 'By class slot. Bookings whose slot is not known yet form one group with `classSlotId: null`.' },
  },
});

export const AppointmentBookingStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO' } as const;
export type AppointmentBookingStatsGrouping = (typeof AppointmentBookingStatsGrouping)[keyof typeof AppointmentBookingStatsGrouping];
registerEnumType(AppointmentBookingStatsGrouping, {
  name: 'AppointmentBookingStatsGrouping',
  description: 'A dimension `appointmentBookingStats` groups appointment bookings by.',
  valuesConfig: { ...timeValues('the event that decided the status'), ...STUDIO_VALUE },
});

export const EventStatsGrouping = { TYPE: 'TYPE', STUDIO: 'STUDIO', ...TIME_GROUPINGS } as const;
export type EventStatsGrouping = (typeof EventStatsGrouping)[keyof typeof EventStatsGrouping];
registerEnumType(EventStatsGrouping, {
  name: 'EventStatsGrouping',
  description: 'A dimension `eventStats` groups the event log by.',
  valuesConfig: {
    TYPE: { description: 'By event type (only types that occur).' },
    STUDIO: { description: 'By the studio that delivered the event; every studio you may see is listed, with zeros.' },
    ...timeValues('the moment the event happened'),
  },
});

export const CustomerStatsGrouping = TIME_GROUPINGS;
export type CustomerStatsGrouping = (typeof CustomerStatsGrouping)[keyof typeof CustomerStatsGrouping];
registerEnumType(CustomerStatsGrouping, {
  name: 'CustomerStatsGrouping',
  description: 'A dimension `customerStats` groups creations and deletions by.',
  valuesConfig: timeValues('the creation or deletion'),
});

export const ContractStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO' } as const;
export type ContractStatsGrouping = (typeof ContractStatsGrouping)[keyof typeof ContractStatsGrouping];
const NO_HOUR_OF_CANCELLATION =
  ' `cancelled` cannot be grouped by it: a cancellation has a date, no time of day (BAD_USER_INPUT when selected).';
const contractTimes = timeValues('the creation (a cancellation: of its date)');
registerEnumType(ContractStatsGrouping, {
  name: 'ContractStatsGrouping',
  description: 'A dimension `contractStats` groups contracts by.',
  valuesConfig: {
    ...contractTimes,
    HOUR: { description: contractTimes.HOUR.description + NO_HOUR_OF_CANCELLATION },
    HOUR_OF_DAY: { description: contractTimes.HOUR_OF_DAY.description + NO_HOUR_OF_CANCELLATION },
    STUDIO: {
      description: 'By the studio that delivered the first event about the contract; every studio you may see is listed, with zeros.',
    },
  },
});

/**
 * Buckets are plain data built by the resolvers: their fields need none of type-graphql's per-field
 * machinery (middlewares, validation), which costs more than the SQL for a week of hourly buckets
 * with their stay bins (some 5,000 field values). `simpleResolvers` reads the properties directly.
 */
const PLAIN = { simpleResolvers: true } as const;

/**
 * What every statistics bucket says about itself. A calendar bucket covers a whole local period;
 * only items within the query's `range` are counted in it, so the first and last may be partial.
 */
@ObjectType(PLAIN)
export abstract class StatsBucket {
  @Field({
    description:
      'What the bucket stands for: the local date ("2026-11-24") for days, the local date and hour ("2026-11-24T13:00") for hours, ' +
      'the ISO week ("2026-W48") for weeks, the month ("2026-11") for months, "13:00" for an hour of the day, "Monday" for a day of the week, ' +
      'the studio id for studios, the type for event types, the id for classes and slots ("unknown" when not known yet). ' +
      'Grouped by several dimensions: their labels joined by " / ", in the order of `groupBy` ("total" for an empty `groupBy`).',
  })
  label!: string;

  @Field(() => Int, { nullable: true, description: 'Grouped by HOUR_OF_DAY: the local hour of the day, 0 to 23. Null otherwise.' })
  hourOfDay!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Grouped by DAY_OF_WEEK: the ISO day of the week, 1 (Monday) to 7 (Sunday). Null otherwise.',
  })
  dayOfWeek!: number | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'Calendar buckets: the first instant of the local period (local midnight, the full hour, Monday 00:00, or the first of the month). Null without a calendar period (HOUR, DAY, WEEK, MONTH) in `groupBy`.',
  })
  start!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'Calendar buckets: the first instant after the local period. A local day lasts 23 or 25 hours when the clocks change. Null without a calendar period in `groupBy`.',
  })
  end!: Date | null;
}

@ObjectType({ ...PLAIN, description: 'Visits counted in one bucket of `visitStats` (a visit belongs to the bucket of its check-in).' })
export class VisitStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the check-ins. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Check-ins in the bucket (within `range`).' })
  count!: number;

  @Field(() => Int, { description: 'Distinct customers among those check-ins.' })
  uniqueCustomers!: number;

  @Field(() => Int, { description: 'How many of those visits are closed by a check-out.' })
  closedVisits!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Average time between check-in and check-out of the closed visits, in seconds (to the millisecond); null when none is closed.',
  })
  averageDurationSeconds!: number | null;

  @Field(() => Int, { description: 'How many of those visits are still open (no check-out yet): `count - closedVisits`.' })
  openVisits!: number;

  @Field(() => Float, { description: "Sum of the closed visits' lengths of stay, in seconds (to the millisecond)." })
  totalDurationSeconds!: number;

  // A fixed list of 8, computed with the bucket: costed once, not as a list of unknown length.
  @Field(() => [StayBin], {
    complexity: 1,
    description:
      'The closed visits by length of stay, in fixed bins (0–15 min, 15–30, 30–45, 45–60, 1–1.5 h, 1.5–2 h, 2–3 h, 3 h and more); every bin listed.',
  })
  stayDistribution!: StayBin[];
}

@ObjectType({
  ...PLAIN,
  description: 'Closed visits whose length of stay falls in one bin: from `fromMinutes` (inclusive) to `toMinutes` (exclusive).',
})
export class StayBin {
  @Field(() => Int, { description: 'Lower bound of the bin, minutes (inclusive).' })
  fromMinutes!: number;

  @Field(() => Int, { nullable: true, description: 'Upper bound of the bin, minutes (exclusive); null for the last, open bin.' })
  toMinutes!: number | null;

  @Field(() => Int, { description: 'Closed visits in the bin.' })
  count!: number;
}

@ObjectType({ ...PLAIN, description: 'Class bookings counted in one bucket of `classBookingStats`, by their status now.' })
export class ClassBookingStatsBucket extends StatsBucket {
  @Field(() => ID, {
    nullable: true,
    description: 'Grouped by STUDIO: the studio that delivered the first event about the bookings. Null otherwise.',
  })
  studioId!: number | null;

  @Field(() => ID, {
    nullable: true,
    description: 'Grouped by CLASS: the upstream class id; null for bookings whose class is not known yet, and when grouped otherwise.',
  })
  classId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'Grouped by SLOT: the upstream class-slot id; null for bookings whose slot is not known yet, and when grouped otherwise.',
  })
  classSlotId!: string | null;

  @Field(() => Int, { description: 'Bookings booked now, whose status was set by an event within `range` (a booking or a change).' })
  booked!: number;

  @Field(() => Int, { description: 'Bookings cancelled now, whose cancellation happened within `range`.' })
  cancelled!: number;
}

@ObjectType({ ...PLAIN, description: 'Appointment bookings counted in one bucket of `appointmentBookingStats`, by their status now.' })
export class AppointmentBookingStatsBucket extends StatsBucket {
  @Field(() => ID, {
    nullable: true,
    description: 'Grouped by STUDIO: the studio that delivered the first event about the bookings. Null otherwise.',
  })
  studioId!: number | null;

  @Field(() => Int, { description: 'Bookings booked now, whose status was set by an event within `range` (a booking or a change).' })
  booked!: number;

  @Field(() => Int, { description: 'Bookings cancelled now, whose cancellation happened within `range`.' })
  cancelled!: number;
}

@ObjectType({ ...PLAIN, description: 'Customers created and deleted in one bucket (a local day by default) of `customerStats`.' })
export class CustomerStatsBucket extends StatsBucket {
  @Field(() => Int, { description: 'Customers created upstream (CUSTOMER_CREATED) in the bucket.' })
  created!: number;

  @Field(() => Int, { description: 'Customers deleted upstream (CUSTOMER_DELETED) in the bucket.' })
  deleted!: number;
}

@ObjectType({ ...PLAIN, description: 'Contracts created and cancelled in one bucket (a local day by default) of `contractStats`.' })
export class ContractStatsBucket extends StatsBucket {
  @Field(() => ID, {
    nullable: true,
    description: 'Grouped by STUDIO: the studio that delivered the first event about the contracts. Null otherwise.',
  })
  studioId!: number | null;

  @Field(() => Int, { description: 'Contracts created upstream (CONTRACT_CREATED) in the bucket (within `range`).' })
  created!: number;

  @Field(() => Int, {
    description:
      'Contracts whose cancellation date (`Contract.cancellationDate`, a calendar date from the Open API) falls in the bucket: that local day, ' +
      'a day of that week or month, that day of the week. Every local day the range touches counts whole. ' +
      'Only hydrated contracts have one: those not hydrated yet are not counted. Not available grouped by HOUR or HOUR_OF_DAY (BAD_USER_INPUT).',
  })
  cancelled!: number;
}

@ObjectType({ ...PLAIN, description: 'Events of the log counted in one bucket of `eventStats` (by when they happened upstream).' })
export class EventStatsBucket extends StatsBucket {
  @Field(() => String, { nullable: true, description: 'Grouped by TYPE: the event type. Null otherwise.' })
  type!: string | null;

  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the events. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Events in the bucket.' })
  count!: number;
}

@ObjectType({ description: 'How many customers are checked in at one studio now.' })
export class StudioOccupancy {
  @Field(() => Studio, { description: 'The studio.' })
  studio!: Studio;

  @Field(() => Int, {
    description: 'Customers (not deleted) whose latest check-in was at this studio and is later than their latest check-out.',
  })
  checkedIn!: number;
}

@ObjectType({ description: 'Who is in the studios right now, as far as check-in and check-out webhooks tell.' })
export class Occupancy {
  @Field(() => Int, { description: 'Customers checked in now, over all the studios listed.' })
  total!: number;

  @Field(() => [StudioOccupancy], { description: 'Every studio you may see (restricted by `studioIds`, if given), by id, zeros included.' })
  studios!: StudioOccupancy[];
}

export const ClassSlotStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO', CLASS: 'CLASS' } as const;
export type ClassSlotStatsGrouping = (typeof ClassSlotStatsGrouping)[keyof typeof ClassSlotStatsGrouping];
registerEnumType(ClassSlotStatsGrouping, {
  name: 'ClassSlotStatsGrouping',
  description: 'A dimension `classSlotStats` groups class slots by.',
  valuesConfig: {
    ...timeValues("the slot's start"),
    STUDIO: { description: 'By the studio that delivered the slot events; every studio you may see is listed, with zeros.' },
    CLASS: { description: 'By class (only classes with slots in the range), `classId`.' },
  },
});

export const DeviceStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO' } as const;
export type DeviceStatsGrouping = (typeof DeviceStatsGrouping)[keyof typeof DeviceStatsGrouping];
registerEnumType(DeviceStatsGrouping, {
  name: 'DeviceStatsGrouping',
  description: 'A dimension `deviceStats` groups devices by.',
  valuesConfig: {
    ...timeValues('the registration (DEVICE_CREATED)'),
    STUDIO: { description: 'By the studio that delivered DEVICE_CREATED; every studio you may see is listed, with zeros.' },
  },
});

export const FinanceStatsGrouping = { ...TIME_GROUPINGS, STUDIO: 'STUDIO' } as const;
export type FinanceStatsGrouping = (typeof FinanceStatsGrouping)[keyof typeof FinanceStatsGrouping];
registerEnumType(FinanceStatsGrouping, {
  name: 'FinanceStatsGrouping',
  description: 'A dimension `financeStats` groups debt-collection runs and tax-advisor exports by.',
  valuesConfig: {
    ...timeValues('the creation upstream'),
    STUDIO: { description: 'By the studio that delivered the creation; every studio you may see is listed, with zeros.' },
  },
});

@ObjectType({
  ...PLAIN,
  description:
    'Class slots counted in one bucket of `classSlotStats` (a slot belongs to the bucket of its start; slots not hydrated yet have none).',
})
export class ClassSlotStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the slot events. Null otherwise.' })
  studioId!: number | null;

  @Field(() => ID, { nullable: true, description: 'Grouped by CLASS: the upstream class id. Null otherwise.' })
  classId!: string | null;

  @Field(() => Int, { description: 'Slots starting in the bucket (within `range`), cancelled ones included.' })
  slots!: number;

  @Field(() => Int, { description: 'Of those, slots cancelled upstream (status CANCELLED).' })
  cancelled!: number;

  @Field(() => Int, {
    description:
      'Places in the slots that take place (not cancelled): the sum of their `maxParticipants` (a slot without a known limit adds 0).',
  })
  capacity!: number;

  @Field(() => Int, {
    description:
      "Participants booked in the slots that take place, by the Open API's own count (`ClassSlot.bookedParticipants`, as last hydrated; a slot without one adds 0).",
  })
  bookedParticipants!: number;

  @Field(() => Int, { description: "Participants on the slots' waiting lists, by the Open API's own count (`waitingListParticipants`)." })
  waitingListParticipants!: number;
}

@ObjectType({ ...PLAIN, description: 'Devices registered in one bucket of `deviceStats` (by their DEVICE_CREATED time).' })
export class DeviceStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered DEVICE_CREATED. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Devices registered upstream (DEVICE_CREATED) in the bucket (within `range`).' })
  registered!: number;

  @Field(() => Int, { description: 'Of those, the devices the Open API says are active (`Device.active`, as last hydrated).' })
  active!: number;
}

@ObjectType({
  ...PLAIN,
  description: 'Debt-collection runs and tax-advisor exports created in one bucket of `financeStats` (by their creation time upstream).',
})
export class FinanceStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the creations. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Debt-collection runs created upstream (FINANCE_DEBT_COLLECTION_RUN_CREATED) in the bucket.' })
  debtCollectionRuns!: number;

  @Field(() => Int, { description: 'Tax-advisor exports created upstream (TAX_ADVISOR_EXPORT_CREATED) in the bucket.' })
  taxAdvisorExports!: number;
}

import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ClassReportGrouping {
  SLOT = 'SLOT',
  CLASS = 'CLASS',
  INSTRUCTOR = 'INSTRUCTOR',
  DAY = 'DAY',
  WEEK = 'WEEK',
  MONTH = 'MONTH',
  HOUR_OF_DAY = 'HOUR_OF_DAY',
  DAY_OF_WEEK = 'DAY_OF_WEEK',
  STUDIO = 'STUDIO',
}
registerEnumType(ClassReportGrouping, {
  name: 'ClassReportGrouping',
  description: 'A dimension of one row of `classReport`: the slots are grouped by the start of the slot.',
  valuesConfig: {
    SLOT: { description: 'One class slot (by start time).' },
    CLASS: { description: 'One class: all its slots in the range.' },
    INSTRUCTOR: {
      description:
        'One instructor, by name: a slot with two instructors counts for both; slots without one form the row with `instructor: null`.',
    },
    DAY: { description: 'The local calendar day (in `timeZone`) on which the slots start; only days with slots.' },
    WEEK: { description: 'The ISO week (Monday to Sunday, in `timeZone`) in which the slots start; only weeks with slots.' },
    MONTH: { description: 'The local calendar month (in `timeZone`) in which the slots start; only months with slots.' },
    HOUR_OF_DAY: {
      description:
        'The local hour of the day (0 to 23, `hourOfDay`, in `timeZone`) at which the slots start; with DAY_OF_WEEK, the weekly timetable.',
    },
    DAY_OF_WEEK: {
      description: 'The ISO day of the week (1 = Monday to 7 = Sunday, `dayOfWeek`, in `timeZone`) on which the slots start.',
    },
    STUDIO: { description: 'The studio that delivered the slot events; only studios with slots.' },
  },
});

/**
 * Class fill and attendance over some slots. Counts come from our class-booking records joined to the
 * slot by the booking's hydrated `classSlotId`; the participant and booking statuses are those of the
 * latest read from the Open API.
 */
@ObjectType({
  description:
    'Class fill and attendance for one row of `classReport` (a slot, class, instructor, day, week, month, hour of the day, day of the week or studio; ' +
    'or a combination of them).',
})
export class ClassReportRow {
  @Field({
    description:
      'What the row stands for: the slot id, the class id, the instructor\'s name ("unknown" for none), the local date ("2026-01-14"), the ISO week ("2026-W03"), ' +
      'the month ("2026-01"), "13:00" for an hour of the day, "Monday" for a day of the week, the studio id. ' +
      'Grouped by several dimensions: their labels joined by " / ", in the order of `groupBy`.',
  })
  label!: string;

  @Field(() => Date, {
    nullable: true,
    description: "SLOT: the slot's start; otherwise DAY, WEEK and MONTH: the first instant of the local period. Null otherwise.",
  })
  start!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      "SLOT: the slot's end (null if unknown); otherwise DAY, WEEK and MONTH: the first instant after the local period. Null otherwise.",
  })
  end!: Date | null;

  @Field(() => ID, { nullable: true, description: 'SLOT: the upstream class-slot id. Null otherwise.' })
  slotId!: string | null;

  @Field(() => ID, { nullable: true, description: 'SLOT and CLASS: the upstream class id. Null otherwise.' })
  classId!: string | null;

  @Field(() => ID, { nullable: true, description: 'SLOT, CLASS and STUDIO: the studio that delivered the slot events. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { nullable: true, description: 'HOUR_OF_DAY: the local hour of the day the slots start, 0 to 23. Null otherwise.' })
  hourOfDay!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'DAY_OF_WEEK: the ISO day of the week the slots start, 1 (Monday) to 7 (Sunday). Null otherwise.',
  })
  dayOfWeek!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'INSTRUCTOR: the instructor\'s name (null for slots without one); SLOT: the instructors joined by ", ". Null otherwise.',
  })
  instructor!: string | null;

  @Field(() => Int, { description: 'Slots that take place (status SCHEDULED) starting within the range.' })
  slots!: number;

  @Field(() => Int, {
    description:
      'Slots cancelled upstream (status CANCELLED) that would have started within the range; their bookings are not counted anywhere.',
  })
  cancelledSlots!: number;

  @Field(() => Int, {
    description: 'Bookings booked now (status BOOKED) that hold a place: every upstream booking status except WAITING_LIST.',
  })
  booked!: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Places in the slots (the sum of `maxParticipants`); null when no slot has a known limit.',
  })
  capacity!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'Booked places of the slots with a known limit divided by `capacity` (0.75 is 75 %; above 1 when overbooked); null when `capacity` is null or 0.',
  })
  fillRate!: number | null;

  @Field(() => Int, { description: 'Bookings booked now whose upstream booking status is WAITING_LIST.' })
  waitingList!: number;

  @Field(() => Int, { description: 'Bookings cancelled now (status CANCELLED).' })
  cancellations!: number;

  @Field(() => Int, { description: 'Booked places (see `booked`) whose participant status is PARTICIPATING: the customer took part.' })
  attended!: number;

  @Field(() => Int, {
    description: 'Booked places whose participant status is NOT_PARTICIPATING: the customer held a place and did not come.',
  })
  noShows!: number;
}

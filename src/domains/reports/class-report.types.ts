import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ClassReportGrouping {
  SLOT = 'SLOT',
  CLASS = 'CLASS',
  INSTRUCTOR = 'INSTRUCTOR',
  DAY = 'DAY',
  WEEK = 'WEEK',
}
registerEnumType(ClassReportGrouping, {
  name: 'ClassReportGrouping',
  description: 'What one row of `classReport` stands for.',
  valuesConfig: {
    SLOT: { description: 'One class slot (by start time).' },
    CLASS: { description: 'One class: all its slots in the range.' },
    INSTRUCTOR: {
      description:
        'One instructor, by name: a slot with two instructors counts for both; slots without one form the row with `instructor: null`.',
    },
    DAY: { description: 'The local calendar day (in `timeZone`) on which the slots start; only days with slots.' },
    WEEK: { description: 'The ISO week (Monday to Sunday, in `timeZone`) in which the slots start; only weeks with slots.' },
  },
});

/**
 * Class fill and attendance over some slots. Counts come from our class-booking records joined to the
 * slot by the booking's hydrated `classSlotId`; the participant and booking statuses are those of the
 * latest read from the Open API.
 */
@ObjectType({ description: 'Class fill and attendance for one row of `classReport` (a slot, class, instructor, day or week).' })
export class ClassReportRow {
  @Field({
    description:
      'What the row stands for: the slot id, the class id, the instructor\'s name ("unknown" for none), the local date ("2026-01-14") or the ISO week ("2026-W03").',
  })
  label!: string;

  @Field(() => Date, {
    nullable: true,
    description: "SLOT: the slot's start; DAY and WEEK: the first instant of the local period. Null otherwise.",
  })
  start!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: "SLOT: the slot's end (null if unknown); DAY and WEEK: the first instant after the local period. Null otherwise.",
  })
  end!: Date | null;

  @Field(() => ID, { nullable: true, description: 'SLOT: the upstream class-slot id. Null otherwise.' })
  slotId!: string | null;

  @Field(() => ID, { nullable: true, description: 'SLOT and CLASS: the upstream class id. Null otherwise.' })
  classId!: string | null;

  @Field(() => ID, { nullable: true, description: 'SLOT and CLASS: the studio that delivered the slot events. Null otherwise.' })
  studioId!: number | null;

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

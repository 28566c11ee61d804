import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Studio } from '../studios/studio.entity.js';

export enum VisitStatsGrouping {
  HOUR = 'HOUR',
  DAY = 'DAY',
  WEEK = 'WEEK',
  STUDIO = 'STUDIO',
}
registerEnumType(VisitStatsGrouping, {
  name: 'VisitStatsGrouping',
  description: 'How `visitStats` groups visits.',
  valuesConfig: {
    HOUR: { description: 'By the local hour of the check-in in `timeZone`.' },
    DAY: { description: 'By the local calendar day of the check-in in `timeZone`.' },
    WEEK: { description: 'By the ISO week (Monday to Sunday) of the check-in in `timeZone`.' },
    STUDIO: { description: 'By the studio that delivered the check-in; every studio you may see is listed, with zeros.' },
  },
});

export enum ClassBookingStatsGrouping {
  DAY = 'DAY',
  CLASS = 'CLASS',
  SLOT = 'SLOT',
}
registerEnumType(ClassBookingStatsGrouping, {
  name: 'ClassBookingStatsGrouping',
  description: 'How `classBookingStats` groups class bookings.',
  valuesConfig: {
    DAY: { description: 'By the local calendar day (in `timeZone`) of the event that decided the status.' },
    CLASS: { description: 'By class. Bookings whose class is not known yet (not hydrated from the Open API) form one group with `classId: null`.' },
    SLOT: { description: 'By class slot. Bookings whose slot is not known yet form one group with `classSlotId: null`.' },
  },
});

export enum AppointmentBookingStatsGrouping {
  DAY = 'DAY',
  STUDIO = 'STUDIO',
}
registerEnumType(AppointmentBookingStatsGrouping, {
  name: 'AppointmentBookingStatsGrouping',
  description: 'How `appointmentBookingStats` groups appointment bookings.',
  valuesConfig: {
    DAY: { description: 'By the local calendar day (in `timeZone`) of the event that decided the status.' },
    STUDIO: { description: 'By the studio that delivered the first event about the booking; every studio you may see is listed, with zeros.' },
  },
});

export enum EventStatsGrouping {
  TYPE = 'TYPE',
  STUDIO = 'STUDIO',
  DAY = 'DAY',
}
registerEnumType(EventStatsGrouping, {
  name: 'EventStatsGrouping',
  description: 'How `eventStats` groups the event log.',
  valuesConfig: {
    TYPE: { description: 'By event type (only types that occur).' },
    STUDIO: { description: 'By the studio that delivered the event; every studio you may see is listed, with zeros.' },
    DAY: { description: 'By the local calendar day (in `timeZone`) on which the event happened.' },
  },
});

/**
 * What every statistics bucket says about itself. A calendar bucket covers a whole local period;
 * only items within the query's `range` are counted in it, so the first and last may be partial.
 */
@ObjectType()
export abstract class StatsBucket {
  @Field({
    description:
      'What the bucket stands for: the local date ("2026-11-24") for days, the local date and hour ("2026-11-24T13:00") for hours, ' +
      'the ISO week ("2026-W48") for weeks, the studio id for studios, the type for event types, the id for classes and slots ("unknown" when not known yet).',
  })
  label!: string;

  @Field(() => Date, {
    nullable: true,
    description: 'Calendar buckets: the first instant of the local period (local midnight, the full hour, or Monday 00:00). Null when grouped by something else.',
  })
  start!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Calendar buckets: the first instant after the local period. A local day lasts 23 or 25 hours when the clocks change. Null when grouped by something else.',
  })
  end!: Date | null;
}

@ObjectType({ description: 'Visits counted in one bucket of `visitStats` (a visit belongs to the bucket of its check-in).' })
export class VisitStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the check-ins. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Check-ins in the bucket (within `range`).' })
  count!: number;

  @Field(() => Int, { description: 'Distinct customers among those check-ins.' })
  uniqueCustomers!: number;

  @Field(() => Int, { description: 'How many of those visits are closed by a check-out.' })
  closedVisits!: number;

  @Field(() => Float, { nullable: true, description: 'Average time between check-in and check-out of the closed visits, in seconds (to the millisecond); null when none is closed.' })
  averageDurationSeconds!: number | null;
}

@ObjectType({ description: 'Class bookings counted in one bucket of `classBookingStats`, by their status now.' })
export class ClassBookingStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by CLASS: the upstream class id; null for bookings whose class is not known yet, and when grouped otherwise.' })
  classId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Grouped by SLOT: the upstream class-slot id; null for bookings whose slot is not known yet, and when grouped otherwise.' })
  classSlotId!: string | null;

  @Field(() => Int, { description: 'Bookings booked now, whose status was set by an event within `range` (a booking or a change).' })
  booked!: number;

  @Field(() => Int, { description: 'Bookings cancelled now, whose cancellation happened within `range`.' })
  cancelled!: number;
}

@ObjectType({ description: 'Appointment bookings counted in one bucket of `appointmentBookingStats`, by their status now.' })
export class AppointmentBookingStatsBucket extends StatsBucket {
  @Field(() => ID, { nullable: true, description: 'Grouped by STUDIO: the studio that delivered the first event about the bookings. Null otherwise.' })
  studioId!: number | null;

  @Field(() => Int, { description: 'Bookings booked now, whose status was set by an event within `range` (a booking or a change).' })
  booked!: number;

  @Field(() => Int, { description: 'Bookings cancelled now, whose cancellation happened within `range`.' })
  cancelled!: number;
}

@ObjectType({ description: 'Customers created and deleted on one local day (`customerStats`).' })
export class CustomerStatsBucket extends StatsBucket {
  @Field(() => Int, { description: 'Customers created upstream (CUSTOMER_CREATED) that day.' })
  created!: number;

  @Field(() => Int, { description: 'Customers deleted upstream (CUSTOMER_DELETED) that day.' })
  deleted!: number;
}

@ObjectType({ description: 'Contracts created on one local day (`contractStats`).' })
export class ContractStatsBucket extends StatsBucket {
  @Field(() => Int, { description: 'Contracts created upstream (CONTRACT_CREATED) that day.' })
  created!: number;

  @Field(() => Int, {
    description:
      'Contracts whose cancellation date (`Contract.cancellationDate`, a calendar date from the Open API) is that day. ' +
      'Only hydrated contracts have one: those not hydrated yet are not counted.',
  })
  cancelled!: number;
}

@ObjectType({ description: 'Events of the log counted in one bucket of `eventStats` (by when they happened upstream).' })
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

  @Field(() => Int, { description: 'Customers (not deleted) whose latest check-in was at this studio and is later than their latest check-out.' })
  checkedIn!: number;
}

@ObjectType({ description: 'Who is in the studios right now, as far as check-in and check-out webhooks tell.' })
export class Occupancy {
  @Field(() => Int, { description: 'Customers checked in now, over all the studios listed.' })
  total!: number;

  @Field(() => [StudioOccupancy], { description: 'Every studio you may see (restricted by `studioIds`, if given), by id, zeros included.' })
  studios!: StudioOccupancy[];
}

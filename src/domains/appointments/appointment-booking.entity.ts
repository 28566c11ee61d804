import { Field, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TimeColumn } from '../../db/columns.js';
import { BookingRecord } from '../bookings/booking-record.js';
import { TABLES } from '../../db/tables.js';

/**
 * A booked appointment (APPOINTMENT_BOOKING_*; entityId is the booking id). The events do not
 * name the customer: `customerId` is filled by hydration from the Open API.
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A booked appointment (a personal session with staff or a resource), as the appointment-booking webhooks (APPOINTMENT_BOOKING_CREATED / _UPDATED / _CANCELLED) have told us. ' +
    'The webhooks carry only the booking id: who booked is filled once the booking is hydrated from the upstream Open API.',
})
@Entity(TABLES.appointment_bookings)
@Index('appointment_bookings_key', ['tenantId', 'bookingId'], { unique: true })
@Index('appointment_bookings_customer', ['tenantId', 'customerId'])
// studioSummary.bookingsToday: a studio's bookings by when they were made.
@Index('appointment_bookings_made', ['studioId', 'createdAt'])
export class AppointmentBooking extends BookingRecord {
  // Hydrated from the Open API (`GET /v1/appointments/booking/{bookingId}`); null until then.

  @Field(() => String, {
    nullable: true,
    description: 'What was booked, e.g. "Personal training". From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  title!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the appointment starts. From the Open API; null until hydrated.' })
  @TimeColumn({ nullable: true })
  startAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the appointment ends. From the Open API; null until hydrated.' })
  @TimeColumn({ nullable: true })
  endAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: "The appointment's own state upstream: PLANNED, CANCELED or COMPLETED. From the Open API; null until hydrated.",
  })
  @Column({ type: 'text', nullable: true })
  appointmentStatus!: string | null;
}

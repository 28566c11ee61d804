import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { BookingRecord } from '../bookings/booking-record.js';
import { IdColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * A customer's booking of a class slot (CLASS_BOOKING_*; entityId is the booking id). The events
 * name neither the customer nor the slot: `customerId`, `classSlotId` and `classId` are filled by
 * hydration from the Open API (`GET /v1/classes/booking/{bookingId}`).
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A place booked in one class slot, as the class-booking webhooks (CLASS_BOOKING_CREATED / _UPDATED / _CANCELLED) have told us. ' +
    'The webhooks carry only the booking id: who booked and which slot are filled once the booking is hydrated from the upstream Open API.',
})
@Entity(TABLES.class_bookings)
@Index('class_bookings_key', ['tenantId', 'bookingId'], { unique: true })
@Index('class_bookings_customer', ['tenantId', 'customerId'])
@Index('class_bookings_slot', ['tenantId', 'classSlotId'])
// studioSummary.bookingsToday: a studio's bookings by when they were made.
@Index('class_bookings_made', ['studioId', 'createdAt'])
export class ClassBooking extends BookingRecord {
  /** The upstream id of the booked slot (`class_slots.slotId`); null until hydrated. */
  @Field(() => ID, {
    nullable: true,
    description:
      'The upstream id of the booked class slot (`ClassSlot.slotId`). Filled once the booking is hydrated from the upstream Open API; null until then.',
  })
  @IdColumn({ nullable: true })
  classSlotId!: number | null;

  /** The upstream id of the slot's class; null until hydrated. */
  @Field(() => ID, {
    nullable: true,
    description:
      'The upstream id of the class the booked slot belongs to. Filled once the booking is hydrated from the upstream Open API; null until then.',
  })
  @IdColumn({ nullable: true })
  classId!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "The booked slot's state upstream: PLANNED, CANCELED or COMPLETED. From the Open API; null until hydrated.",
  })
  @Column({ type: 'text', nullable: true })
  classSlotStatus!: string | null;
}

import { ObjectType } from 'type-graphql';
import { Entity, Index } from 'typeorm';
import { BookingRecord } from '../../db/booking-record.js';

/**
 * A booked appointment (APPOINTMENT_BOOKING_*; entityId is the booking id). The events do not
 * name the customer: `customerId` is filled by hydration from the Open API.
 */
@ObjectType({
  description:
    'A booked appointment (a personal session with staff or a resource), as the appointment-booking webhooks (APPOINTMENT_BOOKING_CREATED / _UPDATED / _CANCELLED) have told us. ' +
    'The webhooks carry only the booking id: who booked is filled once the booking is hydrated from the upstream Open API.',
})
@Entity('appointment_bookings')
@Index('appointment_bookings_key', ['tenantId', 'bookingId'], { unique: true })
@Index('appointment_bookings_customer', ['tenantId', 'customerId'])
export class AppointmentBooking extends BookingRecord {}

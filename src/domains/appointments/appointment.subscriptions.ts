import { Field, ObjectType } from 'type-graphql';
import { BookingSubscriptionArgs, idsArgument } from '../../api/subscription.args.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, byEntity, family, ownedBy, recordAfter } from '../subscription-family.js';
import { AppointmentBooking } from './appointment-booking.entity.js';

@ObjectType({ simpleResolvers: true, description: 'An appointment booking made, changed or cancelled, with the booking.' })
export class AppointmentBookingEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => AppointmentBooking, recordAfter('The appointment booking')) appointmentBooking!: AppointmentBooking | null;
}

/** An appointment booking's events (entityId the booking): a member hears those of their own bookings. */
export const APPOINTMENT_BOOKING_EVENTS = family({
  payload: AppointmentBookingEventPayload,
  args: BookingSubscriptionArgs,
  select: (args) => ({ entityIds: idsArgument(args.bookingIds, 'bookingIds') }),
  load: async (event, dataSource) => ({ appointmentBooking: await byEntity(AppointmentBooking, 'bookingId')(event, dataSource) }),
  visible: ({ appointmentBooking }, scope) => ({ appointmentBooking: ownedBy(appointmentBooking, scope) }),
  member: ({ appointmentBooking }) => appointmentBooking?.customerId,
});

import { Field, ObjectType } from 'type-graphql';
import { BookingSubscriptionArgs, ClassSlotSubscriptionArgs, idsArgument } from '../../api/subscription.args.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, byEntity, family, inIds, ownedBy, recordAfter } from '../subscription-family.js';
import { ClassBooking } from './class-booking.entity.js';
import { ClassSlot } from './class-slot.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A class booking made, changed or cancelled, with the booking.' })
export class ClassBookingEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => ClassBooking, recordAfter('The class booking')) classBooking!: ClassBooking | null;
}

@ObjectType({ simpleResolvers: true, description: 'A class slot changed or cancelled, with the slot.' })
export class ClassSlotEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => ClassSlot, recordAfter('The class slot')) classSlot!: ClassSlot | null;
}

/** A class booking's events (entityId the booking): a member hears those of their own bookings. */
export const CLASS_BOOKING_EVENTS = family({
  payload: ClassBookingEventPayload,
  args: BookingSubscriptionArgs,
  select: (args) => ({ entityIds: idsArgument(args.bookingIds, 'bookingIds') }),
  load: async (event, dataSource) => ({ classBooking: await byEntity(ClassBooking, 'bookingId')(event, dataSource) }),
  visible: ({ classBooking }, scope) => ({ classBooking: ownedBy(classBooking, scope) }),
  member: ({ classBooking }) => classBooking?.customerId,
});

/** A class slot's events (entityId the slot, `content.classId` its class): the schedule is public. */
export const CLASS_SLOT_EVENTS = family({
  payload: ClassSlotEventPayload,
  args: ClassSlotSubscriptionArgs,
  select: (args) => ({
    entityIds: idsArgument(args.slotIds, 'slotIds'),
    content: inIds(idsArgument(args.classIds, 'classIds'), 'classId'),
  }),
  load: async (event, dataSource) => ({ classSlot: await byEntity(ClassSlot, 'slotId')(event, dataSource) }),
  visible: ({ classSlot }, scope) => ({ classSlot: ownedBy(classSlot, scope) }),
  member: 'public',
});

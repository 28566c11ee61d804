import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { BookingStatusEnum, type BookingStatus } from '../bookings/booking-record.js';
import { bookingById, bookingPage } from '../bookings/booking-query.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, OrderDirection } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { ClassBooking } from './class-booking.entity.js';
import { ClassSlot } from './class-slot.entity.js';
import { classSlotLoader } from './class-slot.resolver.js';

export enum ClassBookingOrderField {
  ID = 'id',
  BOOKING_ID = 'bookingId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
  STATUS_AT = 'statusAt',
}
registerEnumType(ClassBookingOrderField, { name: 'ClassBookingOrderField', description: 'What to order class bookings by.' });

@InputType({ description: 'How to order class bookings.' })
export class ClassBookingOrder {
  @Field(() => ClassBookingOrderField, { defaultValue: ClassBookingOrderField.ID })
  field!: ClassBookingOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which class bookings to list. Every condition given must hold.' })
export class ClassBookingFilter {
  @Field(() => [ID], { nullable: true, description: 'Bookings whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream class booking ids.' })
  bookingIds?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Bookings of these upstream customer ids (only bookings already hydrated from the Open API match).',
  })
  customerIds?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Bookings of these upstream class slot ids (only bookings already hydrated from the Open API match).',
  })
  classSlotIds?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Bookings of slots of these upstream class ids (only bookings already hydrated from the Open API match).',
  })
  classIds?: string[] | null;

  @Field(() => BookingStatusEnum, { nullable: true, description: 'Only bookings with this status.' })
  status?: BookingStatus | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Booked upstream (CLASS_BOOKING_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'The status was decided (by the latest event) within this range.' })
  statusAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Cancelled upstream (CLASS_BOOKING_CANCELLED) within this range.' })
  cancelledAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const ClassBookingConnection = ConnectionType(ClassBooking, 'ClassBooking', 'class booking');

@Resolver(() => ClassBooking)
export class ClassBookingResolver {
  @Query(() => ClassBooking, {
    nullable: true,
    description: 'One class booking by our id; null when it does not exist or this token may not see it.',
  })
  classBooking(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<ClassBooking | null> {
    return bookingById(ClassBooking, id, context);
  }

  @Query(() => ClassBookingConnection, {
    description:
      'Class bookings this token may see (those whose earliest event came from one of its studios), filtered and ordered, one page at a time.',
  })
  classBookings(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ClassBookingFilter, { nullable: true }) filter: ClassBookingFilter | null,
    @Arg('orderBy', () => ClassBookingOrder, { nullable: true }) orderBy: ClassBookingOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<ClassBooking>> {
    return bookingPage(ClassBooking, context, page, filter, orderBy, (qb) => {
      whereIn(qb, 'booking.classSlotId', parseIds(filter?.classSlotIds, 'filter.classSlotIds'));
      whereIn(qb, 'booking.classId', parseIds(filter?.classIds, 'filter.classIds'));
    });
  }

  @FieldResolver(() => Customer, {
    nullable: true,
    description:
      'The customer who booked: filled once the booking is hydrated from the upstream Open API; null until then (and when this token may not see them).',
  })
  customer(@Root() booking: ClassBooking, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return booking.customerId === null ? Promise.resolve(null) : customerLoader(context).load([booking.tenantId, booking.customerId]);
  }

  @FieldResolver(() => ClassSlot, {
    nullable: true,
    description:
      'The booked class slot: filled once the booking is hydrated from the upstream Open API; null until then (and when no event about the slot reached a studio this token may see).',
  })
  classSlot(@Root() booking: ClassBooking, @Ctx() context: GraphQLContext): Promise<ClassSlot | null> {
    return booking.classSlotId === null ? Promise.resolve(null) : classSlotLoader(context).load([booking.tenantId, booking.classSlotId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the earliest event about the booking.' })
  studio(@Root() booking: ClassBooking, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(booking.studioId);
  }
}

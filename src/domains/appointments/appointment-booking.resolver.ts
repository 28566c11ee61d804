import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import { BookingStatusEnum, type BookingStatus } from '../bookings/booking-record.js';
import { bookingById, bookingPage } from '../bookings/booking-query.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, OrderDirection } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { AppointmentBooking } from './appointment-booking.entity.js';

export enum AppointmentBookingOrderField {
  ID = 'id',
  BOOKING_ID = 'bookingId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
  STATUS_AT = 'statusAt',
}
registerEnumType(AppointmentBookingOrderField, {
  name: 'AppointmentBookingOrderField',
  description: 'What to order appointment bookings by.',
});

@InputType({ description: 'How to order appointment bookings.' })
export class AppointmentBookingOrder {
  @Field(() => AppointmentBookingOrderField, { defaultValue: AppointmentBookingOrderField.ID })
  field!: AppointmentBookingOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which appointment bookings to list. Every condition given must hold.' })
export class AppointmentBookingFilter {
  @Field(() => [ID], { nullable: true, description: 'Bookings whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream appointment booking ids.' })
  bookingIds?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'Bookings of these upstream customer ids (only bookings already hydrated from the Open API match).',
  })
  customerIds?: string[] | null;

  @Field(() => BookingStatusEnum, { nullable: true, description: 'Only bookings with this status.' })
  status?: BookingStatus | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Booked upstream (APPOINTMENT_BOOKING_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'The status was decided (by the latest event) within this range.' })
  statusAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Cancelled upstream (APPOINTMENT_BOOKING_CANCELLED) within this range.' })
  cancelledAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const AppointmentBookingConnection = ConnectionType(AppointmentBooking, 'AppointmentBooking', 'appointment booking');

@Resolver(() => AppointmentBooking)
export class AppointmentBookingResolver {
  @Query(() => AppointmentBooking, {
    nullable: true,
    description: 'One appointment booking by our id; null when it does not exist or this token may not see it.',
  })
  appointmentBooking(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<AppointmentBooking | null> {
    return bookingById(AppointmentBooking, id, context);
  }

  @Query(() => AppointmentBookingConnection, {
    description:
      'Appointment bookings this token may see (those whose earliest event came from one of its studios), filtered and ordered, one page at a time.',
  })
  appointmentBookings(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => AppointmentBookingFilter, { nullable: true }) filter: AppointmentBookingFilter | null,
    @Arg('orderBy', () => AppointmentBookingOrder, { nullable: true }) orderBy: AppointmentBookingOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<AppointmentBooking>> {
    return bookingPage(AppointmentBooking, context, page, filter, orderBy);
  }

  @FieldResolver(() => Customer, {
    nullable: true,
    description:
      'The customer who booked: filled once the booking is hydrated from the upstream Open API; null until then (and when this token may not see them).',
  })
  customer(@Root() booking: AppointmentBooking, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return booking.customerId === null ? Promise.resolve(null) : customerLoader(context).load([booking.tenantId, booking.customerId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the earliest event about the booking.' })
  studio(@Root() booking: AppointmentBooking, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(booking.studioId);
  }
}

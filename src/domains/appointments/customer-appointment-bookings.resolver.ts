import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { NestedPageArgs, listPrefetch, pagedChildList, type PrefetchHint } from '../../api/children.js';
import { TimeRangeInput } from '../../api/filters.js';
import type { GraphQLContext } from '../../api/context.js';
import { nestedSize } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { AppointmentBooking } from './appointment-booking.entity.js';

const APPOINTMENT_BOOKINGS = pagedChildList(
  'appointmentBookingsOfCustomer',
  {
    entity: AppointmentBooking,
    parentColumns: ['tenantId', 'customerId'],
    studioColumn: 'studioId',
    order: [
      ['firstEventAt', 'DESC'],
      ['id', 'DESC'],
    ],
  },
  ['tenantId', 'customerId'],
  'appointmentBookings',
  'firstEventAt',
);
/** `Customer.appointmentBookings` read inside the customers' statement (see useFieldHints). */
export const APPOINTMENT_BOOKING_PREFETCH: PrefetchHint = {
  type: 'Customer',
  field: 'appointmentBookings',
  reads: APPOINTMENT_BOOKINGS.parentColumns,
  prefetch: listPrefetch(APPOINTMENT_BOOKINGS),
};

/** `Customer.appointmentBookings`: kept with the appointments domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerAppointmentBookingsResolver {
  @FieldResolver(() => [AppointmentBooking], {
    description:
      "The customer's appointment bookings (those this token may see), the newest first. " +
      'A booking is linked to its customer once it is hydrated from the upstream Open API; empty until then.',
  })
  appointmentBookings(
    @Root() customer: Customer,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only bookings whose earliest event (the booking, as far as the webhooks tell) lies within this range.',
    })
    firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AppointmentBooking[]> {
    return APPOINTMENT_BOOKINGS.load(context, customer, nestedSize(first, 'appointmentBookings'), info, { after, firstEventAt });
  }
}

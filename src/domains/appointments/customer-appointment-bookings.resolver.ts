import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, listPrefetch, registerPrefetch } from '../../graphql/children.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { AppointmentBooking } from './appointment-booking.entity.js';

const APPOINTMENT_BOOKINGS = new ChildList('appointmentBookingsOfCustomer', { entity: AppointmentBooking, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['firstEventAt', 'DESC'], ['id', 'DESC']] }, ['tenantId', 'customerId']);
registerPrefetch('Customer', 'appointmentBookings', APPOINTMENT_BOOKINGS.parentColumns, listPrefetch(APPOINTMENT_BOOKINGS));

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
    @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AppointmentBooking[]> {
    return APPOINTMENT_BOOKINGS.load(context, customer, nestedSize(first, 'appointmentBookings'), info);
  }
}

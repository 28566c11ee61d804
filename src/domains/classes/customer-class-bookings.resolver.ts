import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, listPrefetch, registerPrefetch } from '../../graphql/children.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { ClassBooking } from './class-booking.entity.js';

const CLASS_BOOKINGS = new ChildList('classBookingsOfCustomer', { entity: ClassBooking, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['firstEventAt', 'DESC'], ['id', 'DESC']] }, ['tenantId', 'customerId']);
registerPrefetch('Customer', 'classBookings', CLASS_BOOKINGS.parentColumns, listPrefetch(CLASS_BOOKINGS));

/** `Customer.classBookings`: kept with the classes domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerClassBookingsResolver {
  @FieldResolver(() => [ClassBooking], {
    description:
      "The customer's class bookings (those this token may see), the newest first. " +
      'A booking is linked to its customer once it is hydrated from the upstream Open API; empty until then.',
  })
  classBookings(@Root() customer: Customer, @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number, @Ctx() context: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<ClassBooking[]> {
    return CLASS_BOOKINGS.load(context, customer, nestedSize(first, 'classBookings'), info);
  }
}

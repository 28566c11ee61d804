import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { NestedPageArgs, listPrefetch, pagedChildList, type PrefetchHint } from '../../api/children.js';
import { TimeRangeInput } from '../../api/filters.js';
import type { GraphQLContext } from '../../api/context.js';
import { nestedSize } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { ClassBooking } from './class-booking.entity.js';

const CLASS_BOOKINGS = pagedChildList(
  'classBookingsOfCustomer',
  {
    entity: ClassBooking,
    parentColumns: ['tenantId', 'customerId'],
    studioColumn: 'studioId',
    order: [
      ['firstEventAt', 'DESC'],
      ['id', 'DESC'],
    ],
  },
  ['tenantId', 'customerId'],
  'classBookings',
  'firstEventAt',
);
/** `Customer.classBookings` read inside the customers' statement (see useFieldHints). */
export const CLASS_BOOKING_PREFETCH: PrefetchHint = {
  type: 'Customer',
  field: 'classBookings',
  reads: CLASS_BOOKINGS.parentColumns,
  prefetch: listPrefetch(CLASS_BOOKINGS),
};

/** `Customer.classBookings`: kept with the classes domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerClassBookingsResolver {
  @FieldResolver(() => [ClassBooking], {
    description:
      "The customer's class bookings (those this token may see), the newest first. " +
      'A booking is linked to its customer once it is hydrated from the upstream Open API; empty until then.',
  })
  classBookings(
    @Root() customer: Customer,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only bookings whose earliest event (the booking, as far as the webhooks tell) lies within this range.',
    })
    firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ClassBooking[]> {
    return CLASS_BOOKINGS.load(context, customer, nestedSize(first, 'classBookings'), info, { after, firstEventAt });
  }
}

import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, ID, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, childWindow, listPrefetch, registerPrefetch } from '../../graphql/children.js';
import { TimeRangeInput } from '../../graphql/filters.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { ClassBooking } from './class-booking.entity.js';

const CLASS_BOOKINGS_QUERY = { entity: ClassBooking, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['firstEventAt', 'DESC'], ['id', 'DESC']] } as const;
const CLASS_BOOKINGS = new ChildList('classBookingsOfCustomer', CLASS_BOOKINGS_QUERY, ['tenantId', 'customerId'], (args) =>
  childWindow('classBookings', CLASS_BOOKINGS_QUERY.order, { after: args['after'] as string | null | undefined, range: { column: 'firstEventAt', argument: 'firstEventAt', value: args['firstEventAt'] as TimeRangeInput | null | undefined } }));
registerPrefetch('Customer', 'classBookings', CLASS_BOOKINGS.parentColumns, listPrefetch(CLASS_BOOKINGS));

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
    @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number,
    @Arg('after', () => ID, { nullable: true, description: 'The id of the last item you have: the list goes on after it (an id not in the list: nothing).' }) after: string | null,
    @Arg('firstEventAt', () => TimeRangeInput, { nullable: true, description: 'Only bookings whose earliest event (the booking, as far as the webhooks tell) lies within this range.' }) firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ClassBooking[]> {
    return CLASS_BOOKINGS.load(context, customer, nestedSize(first, 'classBookings'), info, { after, firstEventAt });
  }
}

import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Resolver, Root } from 'type-graphql';
import { ChildList, listPrefetch, type PrefetchHint } from '../../api/children.js';
import type { GraphQLContext } from '../../api/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { AggregatorMembership } from './aggregator-membership.entity.js';

const MEMBERSHIPS = new ChildList(
  'aggregatorMembershipsOfCustomer',
  {
    entity: AggregatorMembership,
    parentColumns: ['tenantId', 'customerId'],
    studioColumn: 'studioId',
    order: [
      ['createdAt', 'DESC'],
      ['id', 'DESC'],
    ],
  },
  ['tenantId', 'customerId'],
);
/** `Customer.aggregatorMemberships` read inside the customers' statement (see useFieldHints). */
export const AGGREGATOR_MEMBERSHIP_PREFETCH: PrefetchHint = {
  type: 'Customer',
  field: 'aggregatorMemberships',
  reads: MEMBERSHIPS.parentColumns,
  prefetch: listPrefetch(MEMBERSHIPS),
};

/** `Customer.aggregatorMemberships`: kept with the aggregators domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerAggregatorMembershipsResolver {
  @FieldResolver(() => [AggregatorMembership], {
    description: "The customer's aggregator memberships (those this token may see), the newest first.",
  })
  aggregatorMemberships(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AggregatorMembership[]> {
    return MEMBERSHIPS.load(context, customer, nestedSize(first, 'aggregatorMemberships'), info);
  }
}

import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { NestedPageArgs, listPrefetch, pagedChildList, type PrefetchHint } from '../../api/children.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput } from '../../api/filters.js';
import { nestedSize } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { AggregatorMembership } from './aggregator-membership.entity.js';

/** `Customer.aggregatorMemberships`: the newest first (by creation upstream, then id), with `after` and a `createdAt` range. */
const MEMBERSHIPS = pagedChildList(
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
  'aggregatorMemberships',
  'createdAt',
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
    @Args() { first, after }: NestedPageArgs,
    @Arg('createdAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only memberships created upstream (AGGREGATOR_MEMBER_CREATED) within this range (either end may be open).',
    })
    createdAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<AggregatorMembership[]> {
    return MEMBERSHIPS.load(context, customer, nestedSize(first, 'aggregatorMemberships'), info, { after, createdAt });
  }
}

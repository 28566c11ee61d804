import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { loadChildren } from '../../graphql/children.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { DEFAULT_NESTED_SIZE, nestedSize } from '../../graphql/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { AggregatorMembership } from './aggregator-membership.entity.js';


/** `Customer.aggregatorMemberships`: kept with the aggregators domain; type-graphql merges it into the Customer type. */
@Resolver(() => Customer)
export class CustomerAggregatorMembershipsResolver {
  @FieldResolver(() => [AggregatorMembership], { description: "The customer's aggregator memberships (those this token may see), the newest first." })
  aggregatorMemberships(
    @Root() customer: Customer,
    @Arg('first', () => Int, { defaultValue: DEFAULT_NESTED_SIZE }) first: number,
    @Ctx() context: GraphQLContext,
  ): Promise<AggregatorMembership[]> {
    const size = nestedSize(first, 'aggregatorMemberships');
    return context.loaders
      .get<readonly [number, number], AggregatorMembership[]>(`aggregatorMembershipsOfCustomer:${size}`, (keys) =>
        loadChildren(context.dataSource, {
          entity: AggregatorMembership, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId',
          orderSql: 'r."createdAt" DESC, r."id" DESC',
        }, keys, size, context.scope), ([t, c]) => `${t}:${c}`)
      .load([customer.tenantId, customer.customerId]);
  }
}

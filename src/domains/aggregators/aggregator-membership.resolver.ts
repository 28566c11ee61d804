import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { AggregatorMembership } from './aggregator-membership.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum AggregatorMembershipOrderField {
  ID = 'id',
  CUSTOMER_ID = 'customerId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(AggregatorMembershipOrderField, {
  name: 'AggregatorMembershipOrderField',
  description: 'What to order aggregator memberships by.',
});

@InputType({ description: 'How to order aggregator memberships.' })
export class AggregatorMembershipOrder {
  @Field(() => AggregatorMembershipOrderField, { defaultValue: AggregatorMembershipOrderField.ID })
  field!: AggregatorMembershipOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which aggregator memberships to list. Every condition given must hold.' })
export class AggregatorMembershipFilter {
  @Field(() => [ID], { nullable: true, description: 'Memberships whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Memberships of these upstream customer ids.' })
  customerIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: "The aggregators' own member ids (exact match)." })
  aggregatorIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (AGGREGATOR_MEMBER_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const AggregatorMembershipConnection = ConnectionType(AggregatorMembership, 'AggregatorMembership', 'aggregator membership');

@Resolver(() => AggregatorMembership)
export class AggregatorMembershipResolver {
  @Query(() => AggregatorMembership, {
    nullable: true,
    description: 'One aggregator membership by our id; null when it does not exist or this token may not see it.',
  })
  aggregatorMembership(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<AggregatorMembership | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource
      .getRepository(AggregatorMembership)
      .createQueryBuilder('membership')
      .where('membership.id = :id', { id: Number(id) });
    context.scope.where(qb, 'membership.studioId');
    context.scope.whereOwner(qb, 'membership');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => AggregatorMembershipConnection, {
    description:
      'Aggregator memberships this token may see (those whose earliest event came from one of its studios), filtered and ordered, one page at a time.',
  })
  aggregatorMemberships(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => AggregatorMembershipFilter, { nullable: true }) filter: AggregatorMembershipFilter | null,
    @Arg('orderBy', () => AggregatorMembershipOrder, { nullable: true }) orderBy: AggregatorMembershipOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<AggregatorMembership>> {
    const qb = context.dataSource.getRepository(AggregatorMembership).createQueryBuilder('membership');
    context.scope.where(qb, 'membership.studioId');
    context.scope.whereOwner(qb, 'membership');
    whereIn(qb, 'membership.studioId', filter?.studioIds);
    whereIn(qb, 'membership.customerId', parseIds(filter?.customerIds, 'filter.customerIds'));
    whereIn(qb, 'membership.aggregatorId', filter?.aggregatorIds);
    whereTimeRange(qb, 'membership.createdAt', filter?.createdAt, 'filter.createdAt');
    whereTimeRange(qb, 'membership.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    const field = orderBy?.field ?? AggregatorMembershipOrderField.ID;
    return paginate(qb, page, {
      column: `membership.${field}`,
      value: (m) =>
        field === AggregatorMembershipOrderField.ID
          ? m.id
          : field === AggregatorMembershipOrderField.CUSTOMER_ID
            ? m.customerId
            : m[field].getTime(),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'membership.id',
      id: (m) => m.id,
    });
  }

  @FieldResolver(() => Customer, { nullable: true, description: 'The customer (null if this token may not see them).' })
  customer(@Root() membership: AggregatorMembership, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return customerLoader(context).load([membership.tenantId, membership.customerId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered AGGREGATOR_MEMBER_CREATED.' })
  studio(@Root() membership: AggregatorMembership, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(membership.studioId);
  }
}

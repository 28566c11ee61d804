import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../api/pagination.js';
import { Customer } from '../customers/customer.entity.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Contract } from './contract.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum ContractOrderField {
  ID = 'id',
  CONTRACT_ID = 'contractId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(ContractOrderField, { name: 'ContractOrderField', description: 'What to order contracts by.' });

@InputType({ description: 'How to order contracts.' })
export class ContractOrder {
  @Field(() => ContractOrderField, { defaultValue: ContractOrderField.ID })
  field!: ContractOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which contracts to list. Every condition given must hold.' })
export class ContractFilter {
  @Field(() => [ID], { nullable: true, description: 'Contracts whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream contract ids.' })
  contractIds?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Contracts of these upstream customer ids.' })
  customerIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (CONTRACT_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Last changed upstream (CONTRACT_UPDATED) within this range.' })
  updatedAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Contracts with one of these statuses (`contractStatus` from the Open API: ACTIVE, INACTIVE; any case). A contract not hydrated yet has none and matches none.',
  })
  contractStatus?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: only contracts the Open API says are cancelled; false: only those it says are not (not hydrated yet: neither).',
  })
  cancelled?: boolean | null;
}

export const ContractConnection = ConnectionType(Contract, 'Contract', 'contract');

@Resolver(() => Contract)
export class ContractResolver {
  @Query(() => Contract, {
    nullable: true,
    description: 'One contract by our id; null when it does not exist or this token may not see it.',
  })
  contract(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Contract | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource
      .getRepository(Contract)
      .createQueryBuilder('contract')
      .where('contract.id = :id', { id: Number(id) });
    context.scope.where(qb, 'contract.studioId');
    context.scope.whereOwner(qb, 'contract');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => ContractConnection, {
    description:
      'Contracts this token may see (those whose earliest event came from one of its studios), filtered and ordered, one page at a time.',
  })
  contracts(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ContractFilter, { nullable: true }) filter: ContractFilter | null,
    @Arg('orderBy', () => ContractOrder, { nullable: true }) orderBy: ContractOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<Contract>> {
    const qb = context.dataSource.getRepository(Contract).createQueryBuilder('contract');
    context.scope.where(qb, 'contract.studioId');
    context.scope.whereOwner(qb, 'contract');
    whereIn(qb, 'contract.studioId', filter?.studioIds);
    whereIn(qb, 'contract.contractId', parseIds(filter?.contractIds, 'filter.contractIds'));
    whereIn(qb, 'contract.customerId', parseIds(filter?.customerIds, 'filter.customerIds'));
    whereTimeRange(qb, 'contract.createdAt', filter?.createdAt, 'filter.createdAt');
    whereTimeRange(qb, 'contract.updatedAt', filter?.updatedAt, 'filter.updatedAt');
    whereTimeRange(qb, 'contract.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    whereIn(
      qb,
      'contract.contractStatus',
      filter?.contractStatus?.map((status) => status.trim().toUpperCase()),
    );
    // A literal: both databases read TRUE / FALSE, and the SQLite driver binds no booleans.
    if (filter?.cancelled != null) qb.andWhere(`contract.cancelled = ${filter.cancelled ? 'TRUE' : 'FALSE'}`);
    const field = orderBy?.field ?? ContractOrderField.ID;
    return paginate(qb, page, {
      column: `contract.${field}`,
      value: (c) => (field === ContractOrderField.ID ? c.id : field === ContractOrderField.CONTRACT_ID ? c.contractId : c[field].getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'contract.id',
      id: (c) => c.id,
    });
  }

  @FieldResolver(() => Customer, {
    nullable: true,
    description: 'The customer holding the contract (null if this token may not see them).',
  })
  customer(@Root() contract: Contract, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return customerLoader(context).load([contract.tenantId, contract.customerId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the earliest event about the contract.' })
  studio(@Root() contract: Contract, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(contract.studioId);
  }
}

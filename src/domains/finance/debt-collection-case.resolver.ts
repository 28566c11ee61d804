import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../api/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { CaseIdSourceEnum, DebtCollectionCase } from './debt-collection-case.entity.js';
import type { CaseIdSource } from './debt-collection.projectors.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum DebtCollectionCaseOrderField {
  ID = 'id',
  CASE_ID = 'caseId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(DebtCollectionCaseOrderField, {
  name: 'DebtCollectionCaseOrderField',
  description: 'What to order debt-collection cases by.',
});

@InputType({ description: 'How to order debt-collection cases.' })
export class DebtCollectionCaseOrder {
  @Field(() => DebtCollectionCaseOrderField, { defaultValue: DebtCollectionCaseOrderField.ID })
  field!: DebtCollectionCaseOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which debt-collection cases to list. Every condition given must hold.' })
export class DebtCollectionCaseFilter {
  @Field(() => [ID], { nullable: true, description: 'Cases whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream case ids (`caseId`, of either source).' })
  caseIds?: string[] | null;

  @Field(() => CaseIdSourceEnum, { nullable: true, description: 'Only cases named by this kind of id.' })
  caseIdSource?: CaseIdSource | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest adjustment request within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const DebtCollectionCaseConnection = ConnectionType(DebtCollectionCase, 'DebtCollectionCase', 'debt-collection case');

@Resolver(() => DebtCollectionCase)
export class DebtCollectionCaseResolver {
  @Query(() => DebtCollectionCase, {
    nullable: true,
    description: 'One debt-collection case by our id; null when it does not exist or this token may not see it.',
  })
  debtCollectionCase(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<DebtCollectionCase | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource
      .getRepository(DebtCollectionCase)
      .createQueryBuilder('debtCase')
      .where('debtCase.id = :id', { id: Number(id) });
    context.scope.where(qb, 'debtCase.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => DebtCollectionCaseConnection, {
    description:
      'Debt-collection cases this token may see (those whose earliest event one of its studios delivered), filtered and ordered, one page at a time.',
  })
  debtCollectionCases(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DebtCollectionCaseFilter, { nullable: true }) filter: DebtCollectionCaseFilter | null,
    @Arg('orderBy', () => DebtCollectionCaseOrder, { nullable: true }) orderBy: DebtCollectionCaseOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<DebtCollectionCase>> {
    const qb = context.dataSource.getRepository(DebtCollectionCase).createQueryBuilder('debtCase');
    context.scope.where(qb, 'debtCase.studioId');
    whereIn(qb, 'debtCase.studioId', filter?.studioIds);
    whereIn(qb, 'debtCase.caseId', parseIds(filter?.caseIds, 'filter.caseIds'));
    if (filter?.caseIdSource) qb.andWhere('debtCase.caseIdSource = :caseIdSource', { caseIdSource: filter.caseIdSource });
    whereTimeRange(qb, 'debtCase.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    const field = orderBy?.field ?? DebtCollectionCaseOrderField.ID;
    return paginate(qb, page, {
      column: `debtCase.${field}`,
      value: (r) =>
        field === DebtCollectionCaseOrderField.ID ? r.id : field === DebtCollectionCaseOrderField.CASE_ID ? r.caseId : r[field].getTime(),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'debtCase.id',
      id: (r) => r.id,
    });
  }

  @FieldResolver(() => Studio, {
    nullable: true,
    description: 'The studio that delivered the earliest FINANCE_DEBT_COLLECTION_CASE_UPDATED of the case.',
  })
  studio(@Root() debtCase: DebtCollectionCase, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(debtCase.studioId);
  }
}

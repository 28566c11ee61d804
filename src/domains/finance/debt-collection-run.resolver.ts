import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../graphql/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../graphql/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../graphql/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { DebtCollectionRun } from './debt-collection-run.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum DebtCollectionRunOrderField {
  ID = 'id',
  RUN_ID = 'runId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(DebtCollectionRunOrderField, { name: 'DebtCollectionRunOrderField', description: 'What to order debt-collection runs by.' });

@InputType({ description: 'How to order debt-collection runs.' })
export class DebtCollectionRunOrder {
  @Field(() => DebtCollectionRunOrderField, { defaultValue: DebtCollectionRunOrderField.ID })
  field!: DebtCollectionRunOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which debt-collection runs to list. Every condition given must hold.' })
export class DebtCollectionRunFilter {
  @Field(() => [ID], { nullable: true, description: 'Debt-collection runs that these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream debt-collection run ids.' })
  runIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (FINANCE_DEBT_COLLECTION_RUN_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const DebtCollectionRunConnection = ConnectionType(DebtCollectionRun, 'DebtCollectionRun', 'debt-collection run');


@Resolver(() => DebtCollectionRun)
export class DebtCollectionRunResolver {
  @Query(() => DebtCollectionRun, { nullable: true, description: 'One debt-collection run by our id; null when it does not exist or this token may not see it.' })
  debtCollectionRun(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<DebtCollectionRun | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource.getRepository(DebtCollectionRun).createQueryBuilder('run').where('run.id = :id', { id: Number(id) });
    context.scope.where(qb, 'run.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => DebtCollectionRunConnection, {
    description: 'Debt-collection runs this token may see (those delivered by one of its studios), filtered and ordered, one page at a time.',
  })
  debtCollectionRuns(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => DebtCollectionRunFilter, { nullable: true }) filter: DebtCollectionRunFilter | null,
    @Arg('orderBy', () => DebtCollectionRunOrder, { nullable: true }) orderBy: DebtCollectionRunOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<DebtCollectionRun>> {
    const qb = context.dataSource.getRepository(DebtCollectionRun).createQueryBuilder('run');
    context.scope.where(qb, 'run.studioId');
    whereIn(qb, 'run.studioId', filter?.studioIds);
    whereIn(qb, 'run.runId', parseIds(filter?.runIds, 'filter.runIds'));
    whereTimeRange(qb, 'run.createdAt', filter?.createdAt, 'filter.createdAt');
    whereTimeRange(qb, 'run.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    const field = orderBy?.field ?? DebtCollectionRunOrderField.ID;
    return paginate(qb, page, {
      column: `run.${field}`,
      value: (r) => (field === DebtCollectionRunOrderField.ID ? r.id : field === DebtCollectionRunOrderField.RUN_ID ? r.runId : r[field].getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'run.id',
      id: (r) => r.id,
    });
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered FINANCE_DEBT_COLLECTION_RUN_CREATED.' })
  studio(@Root() run: DebtCollectionRun, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(run.studioId);
  }
}

import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, registerEnumType, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../graphql/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../graphql/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../graphql/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { TaxAdvisorExport } from './tax-advisor-export.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum TaxAdvisorExportOrderField {
  ID = 'id',
  EXPORT_ID = 'exportId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(TaxAdvisorExportOrderField, { name: 'TaxAdvisorExportOrderField', description: 'What to order tax-advisor exports by.' });

@InputType({ description: 'How to order tax-advisor exports.' })
export class TaxAdvisorExportOrder {
  @Field(() => TaxAdvisorExportOrderField, { defaultValue: TaxAdvisorExportOrderField.ID })
  field!: TaxAdvisorExportOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which tax-advisor exports to list. Every condition given must hold.' })
export class TaxAdvisorExportFilter {
  @Field(() => [ID], { nullable: true, description: 'Tax-advisor exports that these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream tax-advisor export ids.' })
  exportIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (TAX_ADVISOR_EXPORT_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;
}

export const TaxAdvisorExportConnection = ConnectionType(TaxAdvisorExport, 'TaxAdvisorExport', 'tax-advisor export');


@Resolver(() => TaxAdvisorExport)
export class TaxAdvisorExportResolver {
  @Query(() => TaxAdvisorExport, { nullable: true, description: 'One tax-advisor export by our id; null when it does not exist or this token may not see it.' })
  taxAdvisorExport(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<TaxAdvisorExport | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource.getRepository(TaxAdvisorExport).createQueryBuilder('taxExport').where('taxExport.id = :id', { id: Number(id) });
    context.scope.where(qb, 'taxExport.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => TaxAdvisorExportConnection, {
    description: 'Tax-advisor exports this token may see (those delivered by one of its studios), filtered and ordered, one page at a time.',
  })
  taxAdvisorExports(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => TaxAdvisorExportFilter, { nullable: true }) filter: TaxAdvisorExportFilter | null,
    @Arg('orderBy', () => TaxAdvisorExportOrder, { nullable: true }) orderBy: TaxAdvisorExportOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<TaxAdvisorExport>> {
    const qb = context.dataSource.getRepository(TaxAdvisorExport).createQueryBuilder('taxExport');
    context.scope.where(qb, 'taxExport.studioId');
    whereIn(qb, 'taxExport.studioId', filter?.studioIds);
    whereIn(qb, 'taxExport.exportId', parseIds(filter?.exportIds, 'filter.exportIds'));
    whereTimeRange(qb, 'taxExport.createdAt', filter?.createdAt, 'filter.createdAt');
    whereTimeRange(qb, 'taxExport.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    const field = orderBy?.field ?? TaxAdvisorExportOrderField.ID;
    return paginate(qb, page, {
      column: `taxExport.${field}`,
      value: (r) => (field === TaxAdvisorExportOrderField.ID ? r.id : field === TaxAdvisorExportOrderField.EXPORT_ID ? r.exportId : r[field].getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'taxExport.id',
      id: (r) => r.id,
    });
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered TAX_ADVISOR_EXPORT_CREATED.' })
  studio(@Root() taxExport: TaxAdvisorExport, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(taxExport.studioId);
  }
}

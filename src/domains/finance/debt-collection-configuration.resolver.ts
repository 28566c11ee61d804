import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../api/context.js';
import { whereIn } from '../../api/filters.js';
import { DebtCollectionConfiguration } from './debt-collection-configuration.entity.js';

/**
 * `debtCollectionConfigurations`: one record per studio that announced a change. A root list rather
 * than a field of the public `Studio` type: finance is not for members, and a member's studio
 * selection should never fail for a field it cannot have.
 */
@Resolver(() => DebtCollectionConfiguration)
export class DebtCollectionConfigurationResolver {
  @Query(() => [DebtCollectionConfiguration], {
    description:
      "When each studio's debt-collection settings last changed upstream (FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED), for the studios this token may see that announced one, by studio id.",
  })
  debtCollectionConfigurations(
    @Arg('studioIds', () => [ID], { nullable: true, description: 'Only these studios (default: every studio of the token).' })
    studioIds: number[] | null,
    @Ctx() context: GraphQLContext,
  ): Promise<DebtCollectionConfiguration[]> {
    const qb = context.dataSource
      .getRepository(DebtCollectionConfiguration)
      .createQueryBuilder('configuration')
      .orderBy('configuration.studioId', 'ASC');
    context.scope.where(qb, 'configuration.studioId');
    whereIn(qb, 'configuration.studioId', studioIds);
    return SqlReader.of(context.dataSource).entities(qb);
  }
}

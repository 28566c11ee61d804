import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../graphql/context.js';
import { registerFieldColumns } from '../../graphql/field-columns.js';
import { Studio } from '../studios/studio.entity.js';
import { DebtCollectionConfiguration } from './debt-collection-configuration.entity.js';

registerFieldColumns('Studio', { debtCollectionConfiguration: ['id'] });

/** `Studio.debtCollectionConfiguration`: finance, so FORBIDDEN to members (member-access.ts, by its type). */
@Resolver(() => Studio)
export class StudioDebtCollectionResolver {
  @FieldResolver(() => DebtCollectionConfiguration, {
    nullable: true,
    description: "When the studio's debt-collection settings last changed upstream (FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED); null if never announced. Not for members.",
  })
  debtCollectionConfiguration(@Root() studio: Studio, @Ctx() context: GraphQLContext): Promise<DebtCollectionConfiguration | null> {
    return context.loaders
      .get<number, DebtCollectionConfiguration | null>('debtCollectionConfigurationByStudio', async (ids) => {
        const qb = context.dataSource.getRepository(DebtCollectionConfiguration).createQueryBuilder('configuration')
          .where('configuration.studioId IN (:...ids)', { ids: [...ids] });
        context.scope.where(qb, 'configuration.studioId');
        const found = new Map((await SqlReader.of(context.dataSource).entities(qb)).map((c) => [Number(c.studioId), c]));
        return ids.map((id) => found.get(id) ?? null);
      })
      .load(Number(studio.id));
  }
}

import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { Studio } from './studio.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

/** Loads visible studios by id, batched per request. */
export function studioLoader(context: GraphQLContext) {
  return context.loaders.get<number, Studio | null>('studioById', async (ids) => {
    const qb = context.dataSource
      .getRepository(Studio)
      .createQueryBuilder('studio')
      .where('studio.id IN (:...ids)', { ids: [...ids] });
    context.scope.where(qb, 'studio.id');
    const found = new Map((await SqlReader.of(context.dataSource).entities(qb)).map((s) => [s.id, s]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

@Resolver(() => Studio)
export class StudioResolver {
  @Query(() => [Studio], { description: 'The studios this token may see, by id.' })
  async studios(@Ctx() context: GraphQLContext): Promise<Studio[]> {
    const qb = context.dataSource.getRepository(Studio).createQueryBuilder('studio').orderBy('studio.id', 'ASC');
    context.scope.where(qb, 'studio.id');
    return SqlReader.of(context.dataSource).entities(qb);
  }

  @Query(() => Studio, { nullable: true, description: 'One studio by id; null when it does not exist or this token may not see it.' })
  studio(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return /^\d+$/.test(id) ? studioLoader(context).load(Number(id)) : Promise.resolve(null);
  }
}

import { Arg, Args, Ctx, Field, ID, InputType, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { whereIn } from '../../api/filters.js';
import { requireAdmin } from '../../domains/access/admin-only.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, OrderDirection, paginate } from '../../api/pagination.js';
import {
  HydrationJob,
  HydrationJobStateEnum,
  HydrationKindEnum,
  type HydrationJobState,
  type HydrationKind,
} from './hydration-job.entity.js';
import { TABLES } from '../../db/tables.js';

@InputType({ description: 'Which hydration jobs to list. Every condition given must hold.' })
export class HydrationJobFilter {
  @Field(() => [HydrationJobStateEnum], { nullable: true, description: 'Only jobs in these states; by default every state but DONE.' })
  states?: HydrationJobState[] | null;

  @Field(() => [ID], { nullable: true, description: "Only jobs that use these studios' Open API keys." })
  studioIds?: number[] | null;

  @Field(() => [HydrationKindEnum], { nullable: true, description: 'Only jobs of these kinds.' })
  kinds?: HydrationKind[] | null;
}

export const HydrationJobConnection = ConnectionType(HydrationJob, 'HydrationJob', 'hydration job');

/** The states listed when no filter says otherwise: everything that still needs attention. */
const OPEN_STATES: HydrationJobState[] = ['queued', 'running', 'retrying', 'parked'];

/**
 * Admin view of the hydration queue: what is waiting, running, failing or parked, and the two
 * ways to give parked jobs another chance. Jobs span studios, so partner and app tokens get
 * FORBIDDEN whatever their studios.
 */
@Resolver(() => HydrationJob)
export class HydrationJobsResolver {
  @Query(() => HydrationJobConnection, {
    description:
      'Admin only. Hydration jobs (reads from the upstream Open API that fill records), by default those not done, the next due first: ' +
      'state, attempts, last error and next attempt of each.',
  })
  hydrationJobs(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => HydrationJobFilter, { nullable: true }) filter: HydrationJobFilter | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<HydrationJob>> {
    requireAdmin(context, 'hydrationJobs');
    const qb = context.dataSource.getRepository(HydrationJob).createQueryBuilder('job');
    whereIn(qb, 'job.state', filter?.states ?? OPEN_STATES);
    whereIn(qb, 'job.studioId', filter?.studioIds);
    whereIn(qb, 'job.kind', filter?.kinds);
    return paginate(qb, page, {
      column: 'job.dueAt',
      value: (job) => job.dueAt.getTime(),
      direction: OrderDirection.ASC,
      idColumn: 'job.id',
      id: (job) => job.id,
    });
  }

  @Mutation(() => HydrationJob, {
    description:
      'Admin only. Queues a PARKED job again, due now, with its attempts reset. NOT_FOUND when there is no such job; CONFLICT when it is not parked.',
  })
  async retryHydrationJob(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<HydrationJob> {
    requireAdmin(context, 'retryHydrationJob');
    const repository = context.dataSource.getRepository(HydrationJob);
    if (!isOwnId(id)) throw clientError(ErrorCode.NOT_FOUND, `no hydration job with id ${JSON.stringify(id)}`);
    const job = await repository.findOne({ where: { id: Number(id) } });
    if (!job) throw clientError(ErrorCode.NOT_FOUND, `no hydration job with id ${id}`);
    const now = new Date();
    const retried = { state: 'queued', attempts: 0, dueAt: now, updatedAt: now } as const;
    const result = await repository
      .createQueryBuilder()
      .update(HydrationJob)
      .set(retried)
      .where('id = :id AND state = :parked', { id: Number(id), parked: 'parked' })
      .execute();
    if (!result.affected) {
      const current = (await repository.findOne({ where: { id: Number(id) } })) ?? job;
      throw clientError(
        ErrorCode.CONFLICT,
        `hydration job ${id} is ${current.state.toUpperCase()}, not PARKED: only parked jobs can be retried`,
      );
    }
    // The job as this mutation left it: a runner may claim it the next moment (nothing else
    // changes a parked job, and only a parked one was updated).
    return Object.assign(job, retried);
  }

  @Mutation(() => Int, {
    description:
      'Admin only. Queues every PARKED job of the studio again, due now, with attempts reset; returns how many. NOT_FOUND when there is no such studio.',
  })
  async retryParkedHydrationJobs(@Arg('studioId', () => ID) studioId: number, @Ctx() context: GraphQLContext): Promise<number> {
    requireAdmin(context, 'retryParkedHydrationJobs');
    const [studio] = await context.dataSource.query(
      context.dataSource.options.type === 'postgres'
        ? `SELECT 1 FROM ${TABLES.studios} WHERE "id" = $1`
        : `SELECT 1 FROM ${TABLES.studios} WHERE "id" = ?`,
      [studioId],
    );
    if (!studio) throw clientError(ErrorCode.NOT_FOUND, `no studio with id ${studioId}`);
    const now = new Date();
    const result = await context.dataSource
      .getRepository(HydrationJob)
      .createQueryBuilder()
      .update(HydrationJob)
      .set({ state: 'queued', attempts: 0, dueAt: now, updatedAt: now })
      .where('studioId = :studioId AND state = :parked', { studioId, parked: 'parked' })
      .execute();
    return result.affected ?? 0;
  }
}

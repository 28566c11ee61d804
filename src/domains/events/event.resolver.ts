import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { ConnectionArgs, ConnectionType, OrderDirection, paginate, type Connection } from '../../api/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { EventRecord, parseContent } from './event-record.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

@InputType({ description: 'Which events to list. Every condition given must hold; an empty list matches nothing.' })
export class EventFilter {
  @Field(() => [String], { nullable: true, description: 'Event types, e.g. ["CUSTOMER_CHECKIN", "CUSTOMER_CHECKOUT"].' })
  types?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Events delivered by these studios.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Events about these upstream ids (`entityId`).' })
  entityIds?: string[] | null;

  @Field(() => TimeRangeInput, { nullable: true, description: "Happened within this range, by the operator's clock (`occurredAt`)." })
  occurredAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Received by this service within this range (`receivedAt`).' })
  receivedAt?: TimeRangeInput | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only types this service applies; false: only types it does not know.' })
  known?: boolean | null;
}

export const EventConnection = ConnectionType(EventRecord, 'Event', 'event');

@Resolver(() => EventRecord)
export class EventResolver {
  @Query(() => EventRecord, {
    nullable: true,
    description: 'One event by its `seq`; null when it does not exist or this token may not see its studio.',
  })
  event(@Arg('seq', () => ID) seq: string, @Ctx() context: GraphQLContext): Promise<EventRecord | null> {
    if (!/^\d{1,16}$/.test(seq)) return Promise.resolve(null);
    const qb = context.dataSource
      .getRepository(EventRecord)
      .createQueryBuilder('event')
      .where('event.seq = :seq', { seq: Number(seq) });
    context.scope.where(qb, 'event.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => EventConnection, {
    description:
      'The event log of the studios this token may see, in the order events were committed (`seq`), one page at a time. ' +
      'Read it forward with `first`/`after` to follow new events: the end cursor of the last page stays valid.',
  })
  events(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => EventFilter, { nullable: true }) filter: EventFilter | null,
    @Arg('direction', () => OrderDirection, {
      defaultValue: OrderDirection.ASC,
      description: 'ASC: oldest first (default); DESC: newest first.',
    })
    direction: OrderDirection,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<EventRecord>> {
    const qb = context.dataSource.getRepository(EventRecord).createQueryBuilder('event');
    context.scope.where(qb, 'event.studioId');
    whereIn(qb, 'event.type', filter?.types);
    whereIn(qb, 'event.studioId', filter?.studioIds);
    whereIn(qb, 'event.entityId', parseIds(filter?.entityIds, 'filter.entityIds'));
    whereTimeRange(qb, 'event.occurredAt', filter?.occurredAt, 'filter.occurredAt');
    whereTimeRange(qb, 'event.receivedAt', filter?.receivedAt, 'filter.receivedAt');
    // TRUE / FALSE literals read the same on both databases (SQLite stores booleans as 1 / 0).
    if (filter?.known != null) qb.andWhere(filter.known ? 'event.known = TRUE' : 'event.known = FALSE');
    return paginate(qb, page, { column: 'event.seq', value: (e) => e.seq, direction, idColumn: 'event.seq', id: (e) => e.seq });
  }

  @FieldResolver(() => GraphQLJSONObject, {
    nullable: true,
    description: 'The event\'s `content` object as the operator sent it (e.g. `{"contractId": 7}`); null when it had none.',
  })
  content(@Root() event: EventRecord): Record<string, unknown> | null {
    return parseContent(event.content);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio whose webhook delivered the event.' })
  studio(@Root() event: EventRecord, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(event.studioId);
  }
}

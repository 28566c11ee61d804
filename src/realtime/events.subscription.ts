import { Arg, Args, Field, ID, Int, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { SqlReader } from '../db/sql-reader.js';
import { EventRecord } from '../domains/events/event-record.entity.js';
import { checkedInByStudio, nextStayExpiry } from '../domains/customers/presence.js';
import type { LoggedEvent } from '../events/logged-event.js';
import { sqlInt } from '../domains/stats/time-buckets.js';
import { Studio } from '../domains/studios/studio.entity.js';
import { studioLoader } from '../domains/studios/studio.resolver.js';
import type { GraphQLContext } from '../api/context.js';
import { ErrorCode, clientError } from '../api/errors.js';
import { parseIds } from '../api/filters.js';
import { toEventRecord } from './log-reader.js';
import { withExpiries } from './expiries.js';
import { eventSubscription, requireRealtime } from './realtime.js';
import { EventsSubscriptionArgs, listArgument } from '../api/subscription.args.js';

@ObjectType({ description: "A studio's occupancy right after a check-in, a check-out or the end of a stay changed it." })
export class OccupancyChange {
  @Field(() => ID, { description: 'The studio.' })
  studioId!: number;

  @Field(() => Studio, { description: 'The studio.' })
  studio!: Studio;

  @Field(() => Int, { description: 'Customers checked in at the studio now, counted as the `occupancy` query counts them.' })
  checkedIn!: number;

  @Field(() => EventRecord, {
    nullable: true,
    description:
      'The check-in, check-out or automatic check-out that changed it; null when another studio of the operator delivered it and this token may not see that studio, when a stay ran past the maximum stay, and for a member unless it is their own check-in or check-out.',
  })
  event!: EventRecord | null;
}

const PRESENCE_TYPES = ['CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT', 'AUTOMATIC_CUSTOMER_CHECKOUT'];

@Resolver()
export class EventsSubscriptionResolver {
  @Subscription(() => EventRecord, {
    description:
      'Every event committed from now on (of every type, known or not) of the studios this token may see, in commit order (`seq`), each once. ' +
      'With `after`, first every matching event stored since then. A client that falls too far behind (1000 events by default) is closed with code 4008: reconnect and resume with `after`.',
    subscribe: ({ args, context }) => {
      const { types, studioIds, entityId, after } = args as EventsSubscriptionArgs;
      return eventSubscription(
        context as GraphQLContext,
        {
          types: listArgument(types, 'types'),
          studioIds: listArgument(studioIds, 'studioIds'),
          entityIds: entityId == null ? null : parseIds([entityId], 'entityId')!,
        },
        after,
        toEventRecord,
      );
    },
  })
  // Arguments checked once by `subscribe`; not validated again for every event (see event-type-fields.subscription.ts).
  events(@Root() event: EventRecord, @Args(() => EventsSubscriptionArgs, { validate: false }) _args: EventsSubscriptionArgs): EventRecord {
    return event;
  }

  @Subscription(() => OccupancyChange, {
    description:
      "The studio's occupancy each time a check-in, check-out or automatic check-out of that studio commits — when one at another studio of the operator moves a customer away from it — " +
      'and when a stay at it runs past the maximum stay (OCCUPANCY_MAX_STAY; `event` is then null). FORBIDDEN when this token may not see the studio.',
    subscribe: async ({ args, context: ctx }) => {
      const context = ctx as GraphQLContext;
      const studioId = (args as { studioId: number }).studioId;
      requireRealtime(context);
      // A studio outside the token's scope never gets here: FORBIDDEN before (graphql/studio-scope.ts).
      const studio = await SqlReader.of(context.dataSource).findOne(Studio, { id: studioId });
      if (!studio) throw clientError(ErrorCode.BAD_USER_INPUT, `studioId: no studio with id ${studioId}`);
      const { shared } = requireRealtime(context).services;
      /** The moment this subscriber's latest count was taken for (the next expiry is looked for after it). */
      let countedAt = Date.now();
      const query = async () => {
        const now = Date.now();
        countedAt = now;
        return (await checkedInByStudio(context.dataSource, [`st."id" = ${sqlInt(studioId)}`], 'all', now))[0]?.checkedIn ?? 0;
      };
      /** Counted once per event for every subscriber of this instance. */
      const count = (seq: number) => shared.get(`occupancy:${studioId}:${seq}`, query);
      let last: number | undefined;
      const change = async (checkedIn: number, event: LoggedEvent | null): Promise<OccupancyChange | undefined> => {
        last = checkedIn;
        const visible = await studioLoader(context).load(studioId);
        if (!visible) return undefined;
        // A member sees only their own check-in or check-out (an automatic check-out lists other customers).
        const shown =
          event !== null &&
          context.scope.allows(event.studioId) &&
          (!context.scope.member || (event.type !== 'AUTOMATIC_CUSTOMER_CHECKOUT' && context.scope.ownsCustomer(event.entityId)));
        return { studioId, studio: visible, checkedIn, event: shown ? toEventRecord(event) : null };
      };
      // Every presence event of the operator: a check-in elsewhere can take a customer away from
      // this studio. The events themselves are shown only where the token may see their studio.
      const stream = eventSubscription(
        context,
        { scope: null, tenantIds: [studio.tenantId], types: PRESENCE_TYPES },
        null,
        async (event) => {
          const checkedIn = await count(event.seq);
          if (event.studioId !== studioId && checkedIn === last) return undefined;
          return change(checkedIn, event);
        },
      );
      // Known before the first event, so that a change made elsewhere is noticed from the start.
      last = await query().catch(() => undefined);
      // A stay running out changes the count without an event: counted again when the oldest one does.
      // The next one is looked for among the stays counted at the latest count, not now: a stay that
      // ran out between that count and this look (a timer that fired a little early by the wall
      // clock, a slow count) is then due at once and counted, where looking from now skipped it, and
      // its lower count was never sent (test/presence.test.ts, "the maximum stay").
      return withExpiries(
        stream,
        () => nextStayExpiry(context.dataSource, studioId, countedAt),
        async () => {
          context.loaders.clear();
          const checkedIn = await query();
          return checkedIn === last ? undefined : change(checkedIn, null);
        },
      );
    },
  })
  occupancyChanged(
    @Root() change: OccupancyChange,
    @Arg('studioId', () => ID, { description: 'The studio to watch.' }) _studioId: number,
  ): OccupancyChange {
    return change;
  }
}

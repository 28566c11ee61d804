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

/** A studio's count of the customers present, and the moment (epoch ms) it was counted for. */
interface Counted {
  readonly checkedIn: number;
  readonly at: number;
}

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
      /** The studio's count now, with the moment it was counted for. */
      const query = async (): Promise<Counted> => {
        const at = Date.now();
        const [row] = await checkedInByStudio(context.dataSource, [`st."id" = ${sqlInt(studioId)}`], 'all', at);
        return { checkedIn: row?.checkedIn ?? 0, at };
      };
      /** Counted once per event for every subscriber of this instance. */
      const count = (seq: number) => shared.get(`occupancy:${studioId}:${seq}`, query);
      /** The count the subscriber holds (sent, or known at the start), and the moment it was counted for. */
      let last: number | undefined;
      let lastAt = Date.now();
      /** `counted` is what the subscriber holds now: the same count as `last`, or one to send. */
      const holds = (counted: Counted) => {
        lastAt = counted.at;
        const same = counted.checkedIn === last;
        last = counted.checkedIn;
        return same;
      };
      const change = async (checkedIn: number, event: LoggedEvent | null): Promise<OccupancyChange | undefined> => {
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
          const counted = await count(event.seq);
          if (holds(counted) && event.studioId !== studioId) return undefined;
          return change(counted.checkedIn, event);
        },
      );
      // Known before the first event, so that a change made elsewhere is noticed from the start.
      const initial = await query().catch(() => undefined);
      if (initial) holds(initial);
      // A stay running out changes the count without an event: counted again when the oldest one does.
      // The next one is looked for among the stays counted in the count the subscriber holds, from
      // the moment of that count, not from now: a stay that ran out in between (a timer that fired a
      // little early by the wall clock, a slow count, an event's count taken earlier by another
      // subscriber) is then due at once and counted. Looking from now skipped it, and its lower
      // count was never sent (test/presence.test.ts, "the maximum stay").
      return withExpiries(
        stream,
        () => nextStayExpiry(context.dataSource, studioId, lastAt),
        async () => {
          context.loaders.clear();
          const counted = await query();
          return holds(counted) ? undefined : change(counted.checkedIn, null);
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

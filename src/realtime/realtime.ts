import type { GraphQLContext } from '../graphql/context.js';
import { ErrorCode, clientError } from '../graphql/errors.js';
import type { LoggedEvent } from '../ingest/ingestor.js';
import type { EventFeed } from './event-feed.js';
import { parseEventCursor, type EventLog, type EventSelector } from './event-log.js';
import { openEventStream } from './event-stream.js';
import type { SharedLoads } from './shared-loads.js';

/**
 * Close code for a subscriber that fell too far behind (its queue or its socket's send buffer
 * overflowed). In the private range 4000-4999, outside graphql-ws's own 44xx/45xx codes; the reason
 * says what to do. The graphql-ws client does not retry it on its own: reconnect, then subscribe
 * again with `after` set to the last `seq` received.
 */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;
export const SLOW_CONSUMER_REASON = 'slow consumer: reconnect and resume with after';

/** What every subscription of this instance shares. */
export interface RealtimeServices {
  readonly feed: EventFeed;
  readonly log: EventLog;
  /** Records per event and occupancy counts, loaded once per event for every subscriber. */
  readonly shared: SharedLoads;
  /** See RealtimeConfig.maxQueuedEvents. */
  readonly maxQueued: number;
  /** See RealtimeConfig.maxBufferedBytes. */
  readonly maxBufferedBytes: number;
}

/** The WebSocket an operation arrived on. */
export interface SubscriptionConnection {
  /** Bytes waiting in the socket's send buffer. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** `GraphQLContext.realtime`: set on WebSocket operations. */
export interface RealtimeContext {
  readonly services: RealtimeServices;
  readonly connection: SubscriptionConnection;
}

/** Conditions of a subscription; the viewer's scope is added unless `scope` is given explicitly. */
export type StreamSelector = Omit<EventSelector, 'scope'> & { readonly scope?: EventSelector['scope'] };

/**
 * The source stream of a subscription field: the events matching `selector` within the viewer's
 * scope — from after `after` when given (see event-stream.ts), live otherwise — each turned into
 * the field's payload by `map` (undefined skips the event). The context's loaders are cleared before
 * each event, so nested fields see records as they are now, not as they were at the first event.
 */
export function eventSubscription<T>(
  context: GraphQLContext,
  selector: StreamSelector,
  after: string | null | undefined,
  map: (event: LoggedEvent) => Promise<T | undefined> | T | undefined,
): AsyncIterableIterator<T> {
  const realtime = requireRealtime(context);
  const { services, connection } = realtime;
  return openEventStream({
    feed: services.feed,
    log: services.log,
    selector: { ...selector, scope: selector.scope === undefined ? context.scope.studioIds : selector.scope },
    after: after == null ? undefined : parseEventCursor(after),
    maxQueued: services.maxQueued,
    congested: () => connection.bufferedAmount > services.maxBufferedBytes,
    onOverflow: () => connection.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON),
    map: (event) => {
      context.loaders.clear();
      return map(event);
    },
  });
}

export function requireRealtime(context: GraphQLContext): RealtimeContext {
  if (!context.realtime) {
    throw clientError(ErrorCode.BAD_REQUEST, 'subscriptions are served over WebSocket: connect to /graphql with the graphql-transport-ws protocol');
  }
  return context.realtime;
}

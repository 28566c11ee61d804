import type { GraphQLContext } from '../api/context.js';
import { ErrorCode, clientError } from '../api/errors.js';
import type { EventSelector, StreamSelector } from '../api/stream-selector.js';
import type { LoggedEvent } from '../events/logged-event.js';
import type { EventFeed } from './feed.js';
import { parseEventCursor, type EventLog } from './log-reader.js';
import { openEventStream } from './resume-stream.js';
import { replayPacer } from './replay-pacer.js';
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
  /** Where a subscription's stream listens (the fan-out hub, which listens to the event feed once). */
  readonly feed: Pick<EventFeed, 'subscribe'>;
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
  /** Writes what was sent on it this tick now rather than at the end of the tick (replay-pacer.ts). */
  flush?(): void;
}

/**
 * What a subscription field's stream is made of, handed to {@link RealtimeContext.plan} instead of
 * a stream being opened: the fan-out hub then serves every subscription of the same shape from it.
 */
export interface StreamPlan {
  /** Scope included. */
  readonly selector: EventSelector;
  /** The parsed `after`; undefined for a live-only subscription. */
  readonly after: number | undefined;
  /** The event as the field's root value; undefined skips it. Clears the context's loaders first. */
  readonly map: (event: LoggedEvent) => unknown;
  /** The records `map` loads (RealtimeServices.shared): the per-type fields' selected ones (record-preload.ts); empty: none. */
  readonly records: readonly string[];
}

/** What a WebSocket operation's context carries for subscriptions ({@link withRealtime}). */
export interface RealtimeContext {
  readonly services: RealtimeServices;
  readonly connection: SubscriptionConnection;
  /**
   * Set while a shared subscription is planned (graphql/ws.ts): {@link eventSubscription} hands
   * its plan here and returns an empty stream instead of listening.
   */
  readonly plan?: ((plan: StreamPlan) => void) | undefined;
}

/**
 * The source stream of a subscription field: the events matching `selector` within the viewer's
 * scope — from after `after` when given (see resume-stream.ts), live otherwise — each turned into
 * the field's payload by `map` (undefined skips the event). The context's loaders are cleared before
 * each event, so nested fields see records as they are now, not as they were at the first event.
 */
export function eventSubscription<T>(
  context: GraphQLContext,
  selector: StreamSelector,
  after: string | null | undefined,
  map: (event: LoggedEvent) => Promise<T | undefined> | T | undefined,
  /** `records`: the event's records `map` loads into RealtimeServices.shared (see StreamPlan). */
  options: { readonly records?: readonly string[] } = {},
): AsyncIterableIterator<T> {
  const realtime = requireRealtime(context);
  const { services, connection } = realtime;
  const resolved: EventSelector = { ...selector, scope: selector.scope === undefined ? context.scope.studioIds : selector.scope };
  const from = after == null ? undefined : parseEventCursor(after);
  const mapFresh = (event: LoggedEvent) => {
    context.loaders.clear();
    return map(event);
  };
  if (realtime.plan) {
    realtime.plan({ selector: resolved, after: from, map: mapFresh, records: options.records ?? [] });
    return emptyStream();
  }
  return openSubscriptionStream(services, connection, resolved, from, mapFresh);
}

/**
 * The stream of one subscription on `connection`: the log after `after` (when given) then live
 * events (resume-stream.ts), each turned into what is delivered by `map`. A replay takes its share
 * of each turn of the event loop (replay-pacer.ts), and its log reads are limited.
 */
export function openSubscriptionStream<T>(
  services: RealtimeServices,
  connection: SubscriptionConnection,
  selector: EventSelector,
  after: number | undefined,
  map: (event: LoggedEvent) => Promise<T | undefined> | T | undefined,
): AsyncIterableIterator<T> {
  return openEventStream({
    feed: services.feed,
    log: services.log,
    selector,
    after,
    maxQueued: services.maxQueued,
    congested: () => connection.bufferedAmount > services.maxBufferedBytes,
    onOverflow: () => connection.close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON),
    map,
    // A resume's replay takes its share of each turn of the event loop, not the whole of it.
    pace: replayPacer.lane(connection.flush && (() => connection.flush!())),
    limitRead: (read) => replayPacer.read(read),
  });
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/** A stream that ends at once: what a planned subscription field returns. */
function emptyStream<T>(): AsyncIterableIterator<T> {
  return {
    next: () => Promise.resolve(DONE),
    return: () => Promise.resolve(DONE),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The realtime part of WebSocket operations' contexts. Kept beside the context rather than in it,
 * so that the resolver context (src/api/) knows nothing of the layer above it.
 */
const REALTIME = new WeakMap<GraphQLContext, RealtimeContext>();

/** `context`, marked as a WebSocket operation's with what its subscriptions need. */
export function withRealtime(context: GraphQLContext, realtime: RealtimeContext): GraphQLContext {
  REALTIME.set(context, realtime);
  return context;
}

export function requireRealtime(context: GraphQLContext): RealtimeContext {
  const realtime = REALTIME.get(context);
  if (!realtime) {
    throw clientError(
      ErrorCode.BAD_REQUEST,
      'subscriptions are served over WebSocket: connect to /graphql with the graphql-transport-ws protocol',
    );
  }
  return realtime;
}

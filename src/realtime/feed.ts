import type { LoggedEvent } from '../events/logged-event.js';
import type { EventSelector } from '../api/stream-selector.js';

export type EventListener = (events: readonly LoggedEvent[]) => void;

/**
 * Where committed events go out, and where subscriptions listen. Every implementation hands each
 * listener the events in commit (`seq`) order, each event once. Payloads are plain data, so they
 * can cross a process boundary as JSON.
 */
export interface EventFeed {
  /**
   * Announces a committed batch (called by the ingestor, in commit order). Resolves once the
   * announcement has left this instance, or once the feed has given it up and logged why (the Redis
   * feed: its listeners then get the events from the log, a little later); listeners may be called
   * before or after that. Rejects only once the feed is closed.
   */
  publish(events: readonly LoggedEvent[]): Promise<void>;
  /**
   * Listens to every announced event; returns the unsubscribe function. `selector` is a hint: a
   * feed may hand the listener only the events that may match it (the fan-out hub does; the
   * listener still checks each event); others ignore it.
   */
  subscribe(listener: EventListener, selector?: EventSelector): () => void;
  /** Listeners right now (each subscription server listens once, through its fan-out hub). */
  readonly listenerCount: number;
  /** Stops delivering and releases connections. Idempotent. */
  close(): Promise<void>;
}

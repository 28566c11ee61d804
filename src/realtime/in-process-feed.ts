import type { LoggedEvent } from '../events/logged-event.js';
import type { EventFeed, EventListener } from './feed.js';

/**
 * The in-process feed (no `REDIS_URL`): committed events reach the subscriptions of this instance
 * only, synchronously, in commit order (the ingestor announces one batch at a time).
 */
export class InProcessFeed implements EventFeed {
  private readonly listeners = new Set<EventListener>();

  async publish(events: readonly LoggedEvent[]): Promise<void> {
    deliver(this.listeners, events);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/** Calls every listener; one that throws does not keep the events from the others. */
export function deliver(listeners: Iterable<EventListener>, events: readonly LoggedEvent[], onError?: (error: unknown) => void): void {
  for (const listener of [...listeners]) {
    try {
      listener(events);
    } catch (error) {
      onError?.(error);
    }
  }
}

import type { LoggedEvent } from '../ingest/ingestor.js';

export type EventListener = (events: readonly LoggedEvent[]) => void;

/**
 * Where committed events go out. In-process for now; the subscription layer and the Redis fan-out
 * plug in here. Payloads are plain data (no entities), so they can cross a process boundary as JSON.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  publish(events: readonly LoggedEvent[]): void {
    for (const listener of this.listeners) listener(events);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

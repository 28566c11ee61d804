import { hydrationTargetsOf } from '../../domains/areas.js';
import type { HydrationTarget } from '../../domains/hydration-target.js';
import { toKnownEvent } from '../../events/event-catalog.js';
import type { LoggedEvent } from '../../events/logged-event.js';

export type { HydrationTarget, JobParams } from '../../domains/hydration-target.js';

/** The event type hydration appends when it changed a record (see hydration.ts). */
export const RECORD_HYDRATED_EVENT_TYPE = 'GYMGRAPH_RECORD_HYDRATED';

/**
 * What an event asks hydration to read, as the area owning its type says (src/domains/areas.ts,
 * exhaustive over the declared types); unknown types, and the service's own
 * GYMGRAPH_RECORD_HYDRATED, ask for nothing — so hydration never feeds on itself.
 */
export function hydrationTargets(logged: LoggedEvent): readonly HydrationTarget[] {
  if (logged.type === RECORD_HYDRATED_EVENT_TYPE) return [];
  const event = toKnownEvent(logged);
  return event ? hydrationTargetsOf(event) : [];
}

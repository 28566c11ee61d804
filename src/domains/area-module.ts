import type { AreaEventType, EventOf } from '../events/event-catalog.js';
import type { Area } from '../events/event-declaration.js';
import type { BatchProjectors } from './batch-projectors.js';
import type { HydrationTarget } from './hydration-target.js';
import type { Hydrators } from './hydrator.js';
import type { HookReporting, ReconcileKind } from './reconcile-hook.js';
import type { SubscriptionFamily } from './subscription-family.js';

/**
 * What a business area does with each event type it declares (src/events/). An area's module is
 * checked against its declarations: a declared type without a handler here fails to compile.
 */
export interface AreaModule<A extends Area> {
  /** Applies an event to the batch's record writers, inside the ingest transaction. */
  readonly project: { readonly [T in AreaEventType<A>]: (event: EventOf<T>, records: BatchProjectors) => void };
  /** How the area reads the records it owns from the Open API, per hydration kind (none: `{}`). */
  readonly hydrators: Hydrators;
  /**
   * What an event asks hydration to read from the Open API (nothing: `[]`). Runs after the commit,
   * for new events only.
   */
  readonly hydrate: { readonly [T in AreaEventType<A>]: (event: EventOf<T>) => readonly HydrationTarget[] };
  /** What the area compares with the Open API in reconciliation, keyed by the kinds its hooks report (none: `{}`). */
  readonly reconcile: { readonly [K in ReconcileKind]?: HookReporting<K> };
  /**
   * The payload family of the event type's subscription field (named in its declaration): its
   * arguments, the records it loads, what of them a viewer may see, and whose events a member hears.
   */
  readonly subscribe: { readonly [T in AreaEventType<A>]: SubscriptionFamily };
}

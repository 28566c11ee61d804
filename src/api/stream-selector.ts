import type { LoggedEvent } from '../events/logged-event.js';

/**
 * Which events a subscription wants. Every condition given must hold; an empty list matches
 * nothing. The same selector filters the live feed (in memory) and the replay (in SQL), so a
 * resumed subscription sees exactly what a live one would have. The fan-out hub also routes by it
 * (src/realtime/selector-index.ts: by entity ids, else types, else studios, else tenants), so a
 * restriction that narrows what a viewer receives (its scope, a member's own customer) belongs
 * here, where it also narrows which subscriptions an event is offered to, not only in a
 * subscription's `map`.
 *
 * A type of its own, below the areas, so that an area's subscription family (src/domains/) can say
 * what it selects without importing the realtime floor that serves it.
 */
export interface EventSelector {
  /** The viewer's studios (null: every studio); never widened by the other conditions. */
  readonly scope: readonly number[] | null;
  readonly studioIds?: readonly number[] | null | undefined;
  readonly tenantIds?: readonly number[] | null | undefined;
  readonly types?: readonly string[] | null | undefined;
  readonly entityIds?: readonly number[] | null | undefined;
  /** Conditions on `content`, checked in memory (after SQL on replay). */
  readonly content?: ((content: LoggedEvent['content']) => boolean) | undefined;
}

/** Conditions of a subscription; the viewer's scope is added unless `scope` is given explicitly. */
export type StreamSelector = Omit<EventSelector, 'scope'> & { readonly scope?: EventSelector['scope'] };

import type { LoggedEvent } from '../events/logged-event.js';
import type { EventSelector } from '../api/stream-selector.js';

/** The condition of a selector an item is filed under, by the event field it reads. */
type Dimension = 'entity' | 'type' | 'studio' | 'tenant';

/** Where one item is filed: under each value of one dimension, under "any event", or nowhere (it matches nothing). */
type Filing =
  | { readonly dimension: Dimension; readonly values: readonly (number | string)[] }
  | { readonly dimension: 'any' }
  | { readonly dimension: 'never' };

/**
 * Items (subscription groups, streams) filed by the events their selectors can match, so that an
 * event is offered to its candidates only, not to every item: with ten thousand members each
 * watching their own customer id, a webhook about one customer finds the one group that wants
 * it by one map lookup, and one that nobody wants finds none.
 *
 * An item is filed under one condition of its selector, the most selective one it has: its
 * entity ids, else its types, else its studios (the scope and `studioIds` together: the effective
 * ones), else its tenants; an item with none of these is a candidate for every event, and one with
 * a condition no event can meet (an empty list, or studios outside its scope) for none. Since an
 * event has one value of each field, it finds each item at most once. A candidate is not yet a
 * match: the other conditions (and `content`) are for the caller to check, with `matches`.
 *
 * The index reads only the selector, never the arguments it came from, so every restriction that
 * is part of the selector (the viewer's scope, and any other a role adds there) narrows the
 * candidates too.
 */
export class SelectorIndex<T> {
  private readonly byEntity = new Map<number, Set<T>>();
  private readonly byType = new Map<string, Set<T>>();
  private readonly byStudio = new Map<number, Set<T>>();
  private readonly byTenant = new Map<number, Set<T>>();
  private readonly anyEvent = new Set<T>();
  private readonly filed = new Map<T, Filing>();

  /** Items filed. */
  get size(): number {
    return this.filed.size;
  }

  /** Items filed under "any event" (no condition to file them by): offered every event. */
  get unindexed(): number {
    return this.anyEvent.size;
  }

  /** Every item filed. */
  items(): IterableIterator<T> {
    return this.filed.keys();
  }

  /** Files `item` by `selector` (again, if it was filed before). */
  add(item: T, selector: EventSelector): void {
    this.delete(item);
    const filing = fileBy(selector);
    this.filed.set(item, filing);
    if (filing.dimension === 'any') this.anyEvent.add(item);
    else if (filing.dimension !== 'never') for (const value of filing.values) push(this.bucket(filing.dimension), value, item);
  }

  delete(item: T): void {
    const filing = this.filed.get(item);
    if (!filing) return;
    this.filed.delete(item);
    if (filing.dimension === 'any') this.anyEvent.delete(item);
    else if (filing.dimension !== 'never') for (const value of filing.values) pull(this.bucket(filing.dimension), value, item);
  }

  /** Calls `visit` once with every item whose selector may match `event` (the caller checks that it does). */
  candidates(event: LoggedEvent, visit: (item: T) => void): void {
    for (const item of this.anyEvent) visit(item);
    for (const bucket of [
      this.byEntity.get(event.entityId),
      this.byType.get(event.type),
      this.byStudio.get(event.studioId),
      this.byTenant.get(event.tenantId),
    ]) {
      if (bucket) for (const item of bucket) visit(item);
    }
  }

  private bucket(dimension: Dimension): Map<number | string, Set<T>> {
    switch (dimension) {
      case 'entity':
        return this.byEntity as Map<number | string, Set<T>>;
      case 'type':
        return this.byType as Map<number | string, Set<T>>;
      case 'studio':
        return this.byStudio as Map<number | string, Set<T>>;
      case 'tenant':
        return this.byTenant as Map<number | string, Set<T>>;
      default: {
        const unknown: never = dimension;
        throw new Error(`no bucket for ${String(unknown)}`);
      }
    }
  }
}

/** The condition `selector` is filed under (see {@link SelectorIndex}). */
function fileBy(selector: EventSelector): Filing {
  const { entityIds, types, tenantIds } = selector;
  const studios = effectiveStudios(selector);
  if ([entityIds, types, tenantIds, studios].some((list) => list != null && list.length === 0)) return { dimension: 'never' };
  if (entityIds != null) return { dimension: 'entity', values: [...new Set(entityIds)] };
  if (types != null) return { dimension: 'type', values: [...new Set(types)] };
  if (studios != null) return { dimension: 'studio', values: studios };
  if (tenantIds != null) return { dimension: 'tenant', values: [...new Set(tenantIds)] };
  return { dimension: 'any' };
}

/** The studios an event may come from under both the scope and `studioIds` (null: any). */
function effectiveStudios({ scope, studioIds }: EventSelector): readonly number[] | null {
  if (scope == null && studioIds == null) return null;
  if (scope == null) return [...new Set(studioIds)];
  if (studioIds == null) return [...new Set(scope)];
  const allowed = new Set(scope);
  return [...new Set(studioIds.filter((id) => allowed.has(id)))];
}

// Sets, not arrays: a crowd leaving one busy bucket (a reconnect storm) must not cost its square.
function push<K, T>(map: Map<K, Set<T>>, key: K, item: T): void {
  const bucket = map.get(key);
  if (bucket) bucket.add(item);
  else map.set(key, new Set([item]));
}

function pull<K, T>(map: Map<K, Set<T>>, key: K, item: T): void {
  const bucket = map.get(key);
  if (!bucket) return;
  bucket.delete(item);
  if (bucket.size === 0) map.delete(key);
}

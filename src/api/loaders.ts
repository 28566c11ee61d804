import DataLoader from 'dataloader';

/**
 * DataLoaders for one request, created on first use. A loader is named by what it loads and the
 * arguments that shape it (e.g. `visitsOfCustomer:first=10`), so that every parent asking for the
 * same nested list with the same arguments shares one batched query.
 */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(
    name: string,
    batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
    cacheKey?: (key: K) => unknown,
  ): DataLoader<K, V> {
    let loader = this.loaders.get(name);
    if (!loader) {
      loader = new DataLoader<K, V, unknown>(batch, cacheKey ? { cacheKeyFn: cacheKey } : {}) as DataLoader<unknown, unknown>;
      this.loaders.set(name, loader);
    }
    return loader as DataLoader<K, V>;
  }

  /**
   * Forgets every loader and what it cached. A subscription's context lives as long as the
   * subscription: it is cleared before each event, so every event is resolved from fresh records.
   */
  clear(): void {
    this.loaders.clear();
  }
}

/**
 * Loads shared by every subscriber of this instance: the first subscriber to ask for a key starts
 * the load, the others get the same promise. The oldest keys are forgotten past `capacity`; a
 * failed load is forgotten at once, so the next subscriber tries again.
 */
export class SharedLoads {
  private readonly entries = new Map<string, Promise<unknown>>();

  constructor(
    /** Keys remembered: a key holds one record of an event (or a count), so about 1,500 events' worth. @default 4000 */
    private readonly capacity = 4000,
  ) {}

  /** Remembers `value` under `key`, loaded elsewhere (record-preload.ts), unless something is there already. */
  put(key: string, value: unknown): void {
    if (this.entries.has(key)) return;
    this.entries.set(key, Promise.resolve(value));
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** What is known or loading under `key` (a load that will fail, too), without starting a load. */
  peek<T>(key: string): Promise<T> | undefined {
    return this.entries.get(key) as Promise<T> | undefined;
  }

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key);
    if (known) return known as Promise<T>;
    const entry = load();
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

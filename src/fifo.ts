/** Marks a place whose item was taken out of the middle of a {@link Fifo}. */
const GONE: unique symbol = Symbol('gone');

/**
 * First in, first out: items pushed at the back, taken from the front without Array#shift's
 * copying (the consumed front is dropped once it is most of the array), and removable from the
 * middle. The replay pacer's line of waiting replays and the WebSocket admission queue use it.
 */
export class Fifo<T> {
  private items: (T | typeof GONE)[] = [];
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    this.items.push(item);
    this.count += 1;
  }

  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head++]!;
      if (item === GONE) continue;
      this.count -= 1;
      this.compact();
      return item;
    }
    return undefined;
  }

  /** Takes the first item that `match`es out of the line and returns it (undefined when none does). */
  remove(match: (item: T) => boolean): T | undefined {
    if (this.count === 0) return undefined;
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (item === GONE || !match(item)) continue;
      this.items[i] = GONE;
      this.count -= 1;
      this.compact();
      return item;
    }
    return undefined;
  }

  /** Drops the consumed front once it is most of the array. */
  private compact(): void {
    if (this.count === 0) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

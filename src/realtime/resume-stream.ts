import type { LoggedEvent } from '../events/logged-event.js';
import type { EventFeed } from './feed.js';
import type { EventSelector } from '../api/stream-selector.js';
import { matches, type EventLog } from './log-reader.js';

export interface EventStreamOptions<T> {
  readonly feed: Pick<EventFeed, 'subscribe'>;
  readonly log: Pick<EventLog, 'page'>;
  readonly selector: EventSelector;
  /** Replay the log from after this `seq` before going live; undefined: live events only. */
  readonly after: number | undefined;
  /**
   * Most matching live events held for a client that has not taken them yet. Beyond it the
   * stream ends and `onOverflow` is called (the transport closes the socket), so a stalled client
   * costs bounded memory and never holds up anyone else. While replaying, the live events held are
   * dropped instead (they are in the log, and the replay reads them).
   */
  readonly maxQueued: number;
  /** Checked on each arrival: true counts as an overflow too (e.g. the socket's send buffer is full). */
  readonly congested?: () => boolean;
  readonly onOverflow: () => void;
  /** Turns an event into what is delivered; undefined skips it. Called once per event, in order. */
  readonly map: (event: LoggedEvent) => Promise<T | undefined> | T | undefined;
  /** Events read from the log per statement while replaying. @default 500 */
  readonly pageSize?: number;
  /**
   * While replaying, asked before each replayed event is delivered and before each read of the
   * log, and told when no replay step runs (a read or a load under way, caught up, ended):
   * replay-pacer.ts, replays share the event loop with webhooks. Absent: no pause.
   */
  readonly pace?: ReplayPace;
  /** Runs each read of the log while replaying (replay-pacer.ts limits how many run at once). Absent: at once. */
  readonly limitRead?: <R>(read: () => Promise<R>) => Promise<R>;
}

/** What a replay asks of its pacer (replay-pacer.ts `ReplayLane`). */
export interface ReplayPace {
  /** Before a step; the previous step counts as finished. A promise: the step may run once it resolves. */
  step(): Promise<void> | undefined;
  /** No step runs until the next {@link step}. */
  idle(): void;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * The events of one subscription, in `seq` order, each once: first those of the log after
 * `after` (when given), then the live ones, with no gap and no duplicate at the switch.
 *
 * The live feed is listened to *before* the log is read, and live events are held meanwhile. The
 * log is read page by page until a read finds nothing more; then the held events are delivered,
 * skipping those the replay already gave (`seq` not above the last one read). Nothing falls
 * between: an event is announced only after it committed, so one announced too late to be held
 * was read from the log, and `seq` follows commit order (sql-writer.ts), so an event the log did
 * not have yet comes after everything it had.
 *
 * While replaying, the stream may wait for `pace` before each page read and each event: the
 * order, and what is delivered, stay the same; only when changes.
 *
 * `return()` ends the stream at once, even while `next()` waits (unlike an async generator's).
 */
export function openEventStream<T>(options: EventStreamOptions<T>): AsyncIterableIterator<T> {
  return new EventStream(options);
}

class EventStream<T> implements AsyncIterableIterator<T> {
  /** Live events held, in `seq` order. */
  private readonly held: LoggedEvent[] = [];
  /** The log page being delivered (shared with other replays: read, never changed), and the next of it. */
  private replayed: readonly LoggedEvent[] = [];
  private replayedNext = 0;
  private replaying: boolean;
  /** The highest `seq` delivered or read from the log. */
  private last: number;
  /** How many times held events were dropped during replay (each needs another read of the log). */
  private drops = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  /** `next()` calls are answered one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EventStreamOptions<T>) {
    this.replaying = options.after !== undefined;
    this.last = options.after ?? 0;
    // The selector lets the fan-out hub hand this stream only the events that may match it.
    this.unsubscribe = options.feed.subscribe((events) => this.arrive(events), options.selector);
  }

  private arrive(events: readonly LoggedEvent[]): void {
    if (this.closed) return;
    if (this.replayedNext < this.replayed.length) {
      // A page of the log is being delivered, and the log will be read again after it: that read
      // has these events (committed after this page was read, so after its last seq), and so has
      // any held before. Holding them would cost a reconnect storm's thousand replays a match per
      // event per replay, for nothing.
      this.held.length = 0;
      return;
    }
    const before = this.held.length;
    for (const event of events) if (event.seq > this.last && matches(this.options.selector, event)) this.held.push(event);
    if (this.held.length === before) return;
    if (this.held.length > this.options.maxQueued || this.options.congested?.()) {
      if (this.replaying) {
        this.held.length = 0;
        this.drops += 1;
      } else {
        this.end();
        this.options.onOverflow();
        return;
      }
    }
    this.wake?.();
  }

  /** The next event to deliver, or undefined once the stream has ended. */
  private async pull(): Promise<LoggedEvent | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.replayedNext < this.replayed.length) {
        const wait = this.options.pace?.step();
        if (wait) {
          await wait;
          if (this.closed) return undefined;
        }
        return this.replayed[this.replayedNext++]!;
      }
      if (this.replaying) {
        const pageSize = this.options.pageSize ?? 500;
        const { pace } = this.options;
        const wait = pace?.step();
        if (wait) {
          await wait;
          if (this.closed) return undefined;
        }
        // The read waits for the database: no step of this replay runs meanwhile.
        pace?.idle();
        const drops = this.drops;
        const read = () => this.options.log.page(this.options.selector, this.last, pageSize);
        const page = await (this.options.limitRead ? this.options.limitRead(read) : read());
        if (this.closed) return undefined;
        if (page.lastSeq === undefined) {
          // Caught up — unless held events were dropped meanwhile: the next read has them.
          if (drops === this.drops) this.replaying = false;
          continue;
        }
        this.replayed = page.events;
        this.replayedNext = 0;
        this.last = page.lastSeq;
        continue;
      }
      const live = this.held.shift();
      if (live) {
        if (live.seq <= this.last) continue;
        this.last = live.seq;
        return live;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async produce(): Promise<IteratorResult<T>> {
    try {
      for (;;) {
        const event = await this.pull();
        if (event === undefined) return DONE;
        // Still replaying: the event came from the log (the replay ends on a read that finds nothing).
        const paced = this.replaying ? this.options.pace : undefined;
        const mapped = this.options.map(event);
        let value: T | undefined;
        if (mapped instanceof Promise) {
          // A load (the records of a replayed event) waits for I/O: the place goes to another
          // replay meanwhile, and the rest of the step asks again.
          paced?.idle();
          value = await mapped;
          if (this.closed) return DONE;
          const wait = paced?.step();
          if (wait) await wait;
        } else {
          value = mapped as T | undefined;
        }
        if (this.closed) return DONE;
        if (value !== undefined) return { value, done: false };
      }
    } catch (error) {
      this.end();
      throw error;
    }
  }

  next(): Promise<IteratorResult<T>> {
    const result = this.queue.then(() => this.produce());
    this.queue = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<IteratorResult<T>> {
    this.end();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.pace?.idle();
    this.unsubscribe();
    this.held.length = 0;
    this.replayed = [];
    this.replayedNext = 0;
    this.wake?.();
  }
}

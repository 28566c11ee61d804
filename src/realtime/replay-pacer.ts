/**
 * Shares each turn of the event loop between replays (subscriptions resumed with `after`) and
 * everything else. A replay's events are read from the log and delivered with hardly any wait for
 * I/O — most steps resolve at once, and the socket takes the frames synchronously — so left alone,
 * hundreds of replays started by a reconnect storm run back to back and hold every webhook's
 * answer until they are done.
 *
 * So a replay asks before each step (an event to deliver, a page to read) and goes on only while
 * this turn's slice of time lasts. The budget is time, not a count of events: what one replayed
 * event costs (executing the subscription's selection, serialising, framing) varies by orders of
 * magnitude with the query, and a count that is safe for the dearest is needlessly slow for the
 * cheapest. Once the slice is spent, every further step waits for a later turn: the slice is
 * renewed from `setImmediate`, after the I/O that arrived meanwhile (webhooks) has been handled,
 * and the waiting replays are let go in the order they asked, each taking steps while the new
 * slice lasts, so every one progresses. The work replays do between two turns is bounded by
 * `sliceMs` plus one step.
 *
 * Reads of the log for replays are also limited to `maxReads` at once ({@link read}): a reconnect
 * storm of a thousand resumes would otherwise queue a thousand page reads on the read pool at the
 * same moment, where the wait counts against the read timeout (SQLite's worker queue) or the pool's
 * connection timeout (PostgreSQL), and ordinary queries would wait behind them. Waiting here costs
 * nothing but time, and the replays still go on in the order they asked.
 */
export class ReplayPacer {
  /** When this turn's slice began (the first step granted since the last renewal). */
  private sliceStartedAt: number | undefined;
  private waiting: (() => void)[] = [];
  private scheduled = false;
  /** Replay reads running now. */
  private reading = 0;
  /** Replay reads waiting for one of the running ones to finish, in order. */
  private readonly readers: (() => void)[] = [];

  constructor(
    /** Milliseconds of replay work per turn of the event loop. @default 4 */
    readonly sliceMs = 4,
    private readonly now: () => number = () => performance.now(),
    /** Replay reads of the log at once, for all replays of this process. @default 2 */
    readonly maxReads = 2,
  ) {}

  /** Runs one replay read of the log once fewer than `maxReads` run; in the order asked. */
  async read<T>(read: () => Promise<T>): Promise<T> {
    if (this.reading < this.maxReads) this.reading += 1;
    else await new Promise<void>((resolve) => this.readers.push(resolve)); // a finishing read hands its place over
    try {
      return await read();
    } finally {
      const next = this.readers.shift();
      if (next) next();
      else this.reading -= 1;
    }
  }

  /**
   * Asks for one step: undefined when it may run now, else a promise that resolves on a later
   * turn, when it may (ask again then: the new slice may be spent by those ahead of it).
   */
  take(): Promise<void> | undefined {
    this.schedule();
    if (this.waiting.length === 0) {
      const now = this.now();
      this.sliceStartedAt ??= now;
      if (now - this.sliceStartedAt < this.sliceMs) return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Steps waiting for a later turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Renews the slice on the next turn (while nothing asks, an idle pacer schedules nothing). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.renew());
  }

  private renew(): void {
    this.scheduled = false;
    this.sliceStartedAt = undefined;
    const woken = this.waiting;
    this.waiting = [];
    for (const resolve of woken) resolve();
    if (woken.length > 0) this.schedule();
  }
}

/** The pacer of this process's replays: there is one event loop, and so one budget per turn. */
export const replayPacer = new ReplayPacer();

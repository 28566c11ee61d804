/**
 * Shares each turn of the event loop between replays (subscriptions resumed with `after`) and
 * everything else. A replay's events are read from the log and delivered with hardly any wait for
 * I/O — most steps resolve at once, and the socket takes the frames synchronously — so left alone,
 * hundreds of replays started by a reconnect storm run back to back and hold every webhook's
 * answer until they are done.
 *
 * So every replay takes a unit of a budget per turn of the event loop before each event it
 * delivers (and a page's worth before each read of the log). Once this turn's budget is spent,
 * the next one waits, in line, for a later turn: the budget is renewed from `setImmediate`, after
 * the I/O that arrived meanwhile (webhooks) has been handled, and the replays waiting are let go
 * in the order they came, so every one progresses. However many replays run, and however their
 * work is split by socket writes that complete later, the work they do between two turns is
 * bounded by `unitsPerTurn`.
 */
export class ReplayPacer {
  /** Units taken since the budget was last renewed. */
  private used = 0;
  private readonly waiting: { readonly units: number; readonly resolve: () => void }[] = [];
  private scheduled = false;

  constructor(
    /** Units (events delivered, rows read) per turn of the event loop. @default 500 */
    readonly unitsPerTurn = 500,
  ) {}

  /**
   * Takes `units` of this turn's budget: undefined when they are granted at once, else a promise
   * that resolves on a later turn, once they are. A request larger than the whole budget is
   * granted alone, on a fresh turn.
   */
  take(units: number): Promise<void> | undefined {
    this.schedule();
    if (this.waiting.length === 0 && this.fits(units)) {
      this.used += units;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push({ units, resolve }));
  }

  /** Requests waiting for a later turn. */
  get queued(): number {
    return this.waiting.length;
  }

  private fits(units: number): boolean {
    return this.used === 0 || this.used + units <= this.unitsPerTurn;
  }

  /** Renews the budget on the next turn (not while nothing is taken: an idle pacer schedules nothing). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.renew());
  }

  private renew(): void {
    this.scheduled = false;
    this.used = 0;
    let granted = 0;
    while (granted < this.waiting.length && this.fits(this.waiting[granted]!.units)) {
      this.used += this.waiting[granted]!.units;
      granted += 1;
    }
    for (const { resolve } of this.waiting.splice(0, granted)) resolve();
    if (this.used > 0 || this.waiting.length > 0) this.schedule();
  }
}

/** The pacer of this process's replays: there is one event loop, and so one budget per turn. */
export const replayPacer = new ReplayPacer();

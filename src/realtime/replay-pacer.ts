import { Fifo } from '../fifo.js';

/**
 * Shares each turn of the event loop between replays (subscriptions resumed with `after`) and
 * everything else. A replay's events are read from the log and delivered with hardly any wait for
 * I/O — most steps resolve at once, and the socket takes the frames synchronously — so left alone,
 * hundreds of replays started by a reconnect storm run back to back and hold every webhook's
 * answer until they are done.
 *
 * So each replay has a {@link ReplayLane} and asks it before each step (an event to deliver, a
 * page to read). The budget is time, not a count of events: what one replayed event costs
 * (executing the subscription's selection, serialising, framing, writing to the socket) varies by
 * orders of magnitude with the query, and a count that is safe for the dearest is needlessly slow
 * for the cheapest.
 *
 * What a step costs is mostly spent *after* it was granted — by graphql-ws, which executes,
 * serialises and sends the event the stream handed it — and only ends when the lane asks for its
 * next step. So a step holds one of `maxSteps` places until then: were every replay granted a step
 * whenever the slice had time left, a thousand replays would all be granted theirs before the first
 * had spent anything (their work interleaves in the microtask queue), and the turn would run a
 * thousand events' worth of work past its slice. With places, the work done past the slice is at
 * most `maxSteps` steps.
 *
 * Once the slice is spent, every further step waits for a later turn: the slice is renewed from
 * `setImmediate`, after the I/O that arrived meanwhile (webhooks, database answers) has been
 * handled. Waiting lanes get places in the order they asked, and a lane that asks again after its
 * quantum goes to the back of the line, so every replay progresses, each in turn. A step that
 * waits for I/O nobody told the pacer of (a socket that does not drain, a nested load) keeps its
 * place for the rest of its turn at most: renewal forgets the places of earlier turns.
 *
 * Reads of the log for replays are also limited to `maxReads` at once ({@link read}): a reconnect
 * storm of a thousand resumes would otherwise queue a thousand page reads on the read pool at the
 * same moment, where the wait counts against the read timeout (SQLite's worker queue) or the pool's
 * connection timeout (PostgreSQL), and ordinary queries would wait behind them. Waiting here costs
 * nothing but time, and the replays still go on in the order they asked.
 *
 * Time alone does not bound what a replay costs the machine: most of a cheap event's cost is spent
 * outside this thread (the kernel's socket writes, the database's page reads, and the clients'
 * parsing when they share the machine), so a 4 ms slice of shared, pre-rendered events can still
 * push 270,000 events a second. With `stepsPerSecond` the steps of all replays also draw from one
 * bucket of that many steps a second (a burst of {@link BURST_MS} of them): a reconnect storm then
 * costs the instance a bounded amount of work a second, whatever its size, and takes longer to
 * catch up instead (bench/README.md, "Resilience benchmark").
 */
export class ReplayPacer {
  /** When this turn's slice began (the first step granted since the last renewal). */
  private sliceStartedAt: number | undefined;
  /** Lanes whose step is running — granted this turn, and not asked again (or idle) since — and when their place was granted. */
  private readonly running = new Map<ReplayLane, number>();
  /** Lanes waiting for a place, in the order they asked. */
  private readonly waiting = new Fifo<{ readonly lane: ReplayLane; readonly resolve: () => void }>();
  private scheduled = false;
  /** Replay reads running now. */
  private reading = 0;
  /** Replay reads waiting for one of the running ones to finish, in order. */
  private readonly readers: (() => void)[] = [];
  /** Steps the bucket holds now, and when it was last filled (see {@link limit}). */
  private tokens: number;
  private filledAt: number | undefined;
  private stepsPerSecond: number;
  /** The timer that renews the slice once the bucket has refilled, while it runs. */
  private refill: NodeJS.Timeout | undefined;

  constructor(
    /** Milliseconds of replay work per turn of the event loop. @default 4 */
    readonly sliceMs = 4,
    private readonly now: () => number = () => performance.now(),
    /** Replay reads of the log at once, for all replays of this process. @default 2 */
    readonly maxReads = 2,
    /** Replay steps running at once (see above: the most that can run past the slice). @default 2 */
    readonly maxSteps = 2,
    /**
     * Milliseconds a lane keeps its place once granted, taking step after step, before it goes to
     * the back of the line (while the slice lasts). Consecutive events of one replay then leave in
     * one write to its socket (ws.ts corks a socket for the rest of the tick) instead of one
     * system call each. @default 1
     */
    readonly quantumMs = 1,
    /** Steps of all replays per second (Infinity, or 0 or less: no limit). @default Infinity */
    stepsPerSecond = Infinity,
  ) {
    this.stepsPerSecond = stepsPerSecond > 0 ? stepsPerSecond : Infinity;
    this.tokens = this.capacity;
  }

  /**
   * Sets the steps per second of all replays (Infinity, or 0 or less: no limit); the bucket starts
   * full, and lanes waiting for it are let go on the next turn rather than at the old rate.
   */
  limit(stepsPerSecond: number): void {
    this.stepsPerSecond = stepsPerSecond > 0 ? stepsPerSecond : Infinity;
    this.tokens = this.capacity;
    this.filledAt = undefined;
    if (this.refill) {
      clearTimeout(this.refill);
      this.refill = undefined;
      this.scheduled = false;
      this.schedule();
    }
  }

  /** What the bucket holds at most: {@link BURST_MS} of steps, and at least one. */
  private get capacity(): number {
    return Math.max(1, (this.stepsPerSecond * BURST_MS) / 1000);
  }

  /**
   * A lane for one replay. `flush` is called whenever the lane gives up its place (its quantum or
   * the slice is over, or it waits for I/O): it should put what the lane's steps wrote on the wire
   * now (ws.ts corks a socket until the end of the tick), so that the system call, which for a run
   * of cheap events costs more than the events, is spent inside the slice that measures it and not
   * after it, on top of every lane's slice.
   */
  lane(flush?: () => void): ReplayLane {
    return new ReplayLane(this, flush);
  }

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

  /** Lanes waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  /** See {@link ReplayLane.step}. */
  step(lane: ReplayLane): Promise<void> | undefined {
    this.schedule();
    const since = this.running.get(lane);
    if (since !== undefined) {
      // Its previous step is over: it goes on within its quantum, else lets the next one in.
      if (!this.spent() && this.now() - since < this.quantumMs) {
        this.tokens -= 1;
        return undefined;
      }
      this.running.delete(lane);
      lane.flush?.();
    }
    if (this.waiting.length === 0 && this.running.size < this.maxSteps && !this.spent()) {
      this.running.set(lane, this.now());
      this.tokens -= 1;
      return undefined;
    }
    const granted = new Promise<void>((resolve) => this.waiting.push({ lane, resolve }));
    this.dispatch();
    return granted;
  }

  /** See {@link ReplayLane.idle}. */
  idle(lane: ReplayLane): void {
    if (this.running.delete(lane)) lane.flush?.();
    this.waiting.remove((waiting) => waiting.lane === lane)?.resolve();
    this.dispatch();
  }

  /** Hands free places to the waiting lanes, in order, while the slice lasts. */
  private dispatch(): void {
    while (this.waiting.length > 0 && this.running.size < this.maxSteps && !this.spent()) {
      const { lane, resolve } = this.waiting.shift()!;
      this.running.set(lane, this.now());
      this.tokens -= 1;
      resolve();
    }
  }

  /** Whether this turn's slice is spent (starting it if it has not begun), or the bucket empty. */
  private spent(): boolean {
    const now = this.now();
    this.sliceStartedAt ??= now;
    return now - this.sliceStartedAt >= this.sliceMs || this.empty(now);
  }

  /** Fills the bucket for the time since it was last filled; whether it holds less than a step. */
  private empty(now: number): boolean {
    if (this.stepsPerSecond === Infinity) return false;
    if (this.filledAt !== undefined)
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.filledAt) * this.stepsPerSecond) / 1000);
    this.filledAt = now;
    return this.tokens < 1;
  }

  /**
   * Renews the slice on the next turn (while nothing asks, an idle pacer schedules nothing); with
   * an empty bucket, once it holds a quarter of its steps again (a timer: the turns between are
   * the rest of the process's).
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.empty(this.now())) {
      const wait = ((Math.max(1, this.capacity / 4) - this.tokens) * 1000) / this.stepsPerSecond;
      this.refill = setTimeout(
        () => {
          this.refill = undefined;
          this.renew();
        },
        Math.max(1, wait),
      );
    } else {
      setImmediate(() => this.renew());
    }
  }

  private renew(): void {
    this.scheduled = false;
    this.sliceStartedAt = undefined;
    // A step granted on an earlier turn that has not asked again is waiting for I/O: it no longer
    // runs on this thread, so it keeps no place.
    this.running.clear();
    this.dispatch();
    if (this.waiting.length > 0) this.schedule();
  }
}

/**
 * One replay's turn-taking with its {@link ReplayPacer}: ask before each step, say when no step
 * runs (waiting for I/O, caught up, ended).
 */
export class ReplayLane {
  constructor(
    private readonly pacer: ReplayPacer,
    /** Puts what this lane's steps wrote on the wire (see {@link ReplayPacer.lane}). */
    readonly flush?: () => void,
  ) {}

  /**
   * Asks for a step; the lane's previous step counts as finished. Undefined when the step may run
   * now, else a promise that resolves once it may (the lane then holds its place: it need not ask
   * again) — or, if the lane went {@link idle} meanwhile, without a place.
   */
  step(): Promise<void> | undefined {
    return this.pacer.step(this);
  }

  /** No step of this lane runs until it asks again: frees its place, or its place in line. */
  idle(): void {
    this.pacer.idle(this);
  }
}

/** The bucket of {@link ReplayPacer}'s steps per second holds this many milliseconds' worth. */
const BURST_MS = 20;

/** The pacer of this process's replays: there is one event loop, and so one budget per turn. */
export const replayPacer = new ReplayPacer();

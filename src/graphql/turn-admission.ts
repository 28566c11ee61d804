import { performance } from 'node:perf_hooks';
import { Fifo } from '../fifo.js';

/**
 * Lets connection set-up work — WebSocket handshakes, and the messages sockets send
 * (`connection_init` and its token check, `subscribe` and its planning) — take only a share of
 * each turn of the event loop; the rest waits for later turns, in the order it came.
 *
 * Why: Node reads every socket that is ready in one pass of the event loop. A reconnect storm's
 * thousand clients send their upgrade requests, then their `connection_init`s, within a second,
 * so one pass handled hundreds of handshakes back to back: turns of 40–190 ms during which no
 * webhook was answered (bench/README.md, "Resilience benchmark": the storm's webhook p99 came from
 * that burst, not from the replays that followed it). Taken a few at a time, the storm's
 * connections take longer to be acknowledged, and the webhooks that arrive meanwhile are answered
 * between them.
 *
 * A turn ends at the check phase (`setImmediate`): what is still queued then runs on the next
 * turns, at most `maxPerTurn` tasks per turn, and none once `budgetMs` have passed since the turn's
 * first task began (a wall-clock bound: it counts whatever else the turn did meanwhile, which is
 * the point). The count also bounds what a task does after its synchronous part (an awaited token
 * lookup, a plan), which the clock here cannot see. A task that finds nothing to do (its socket has
 * gone) returns false and is not counted. Tasks run with `first` (the messages of open sockets) go
 * before the others (new handshakes): a socket that is open has its `connection_init` timer
 * running. The caller bounds what one socket may have queued (ws.ts pauses its reading).
 */
export class TurnAdmission {
  private readonly first = new Fifo<Task>();
  private readonly rest = new Fifo<Task>();
  /** When this turn's first task ran, and how many ran in it. */
  private startedAt: number | undefined;
  private taken = 0;
  private scheduled = false;

  constructor(
    /** Tasks run per turn at most. @default 8 */
    readonly maxPerTurn = 8,
    /** Milliseconds from a turn's first task after which it takes no more. @default 2 */
    readonly budgetMs = 2,
    /** A task that threw (tasks should handle their own errors: this only keeps the queue going). */
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Tasks waiting for a later turn. */
  get queued(): number {
    return this.first.length + this.rest.length;
  }

  /**
   * Runs `task` now if this turn still has room and nothing waits before it, else on a later turn:
   * in the order they came, those run with `first` before the others.
   */
  run(task: Task, first = false): void {
    const queue = first ? this.first : this.rest;
    if (queue.length === 0 && (first || this.first.length === 0) && this.room()) {
      this.take(task);
      return;
    }
    queue.push(task);
    this.schedule();
  }

  /** Whether this turn may run another task (starting the turn's count if it has not begun). */
  private room(): boolean {
    const now = this.now();
    if (this.startedAt === undefined) {
      this.startedAt = now;
      this.schedule();
    }
    return this.taken < this.maxPerTurn && now - this.startedAt < this.budgetMs;
  }

  private take(task: Task): void {
    try {
      if (task() !== false) this.taken += 1;
    } catch (error) {
      this.taken += 1;
      this.onError(error);
    }
  }

  /** Ends the turn at its check phase, then runs what waits while the new turn has room. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startedAt = undefined;
      this.taken = 0;
      while (this.queued > 0 && this.room()) this.take((this.first.shift() ?? this.rest.shift())!);
    });
  }
}

/** Work for {@link TurnAdmission}: false when it found nothing to do (then it is not counted). */
export type Task = () => boolean | void;

import { ReadTimeoutError } from './read-timeout.js';

/** One statement waiting for a slot. */
interface Waiter {
  readonly grant: () => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * At most `size` scans (aggregate statements: statistics, occupancy, `totalCount`) run at once,
 * whoever sends them; the others wait their turn in order of arrival. A scan keeps a core busy for
 * as long as it runs, in a SQLite worker thread or a PostgreSQL backend: without this gate, a few
 * tokens sending the most expensive queries their budget allows start as many scans as the read
 * pool has connections, and the webhook path (event loop, ingest backend) gets a sliver of the
 * machine's cores. Reads of pages and children do not pass here: a dashboard's lists are never
 * queued behind someone's statistics.
 *
 * A scan waits at most `timeoutMs` for its slot (the read timeout: a queue longer than that will
 * not be worked off in time) and then fails with {@link ReadTimeoutError}, as a scan that ran too long.
 */
export class ScanGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    /** Scans run at once. At least 1. */
    readonly size: number,
    /** The longest wait for a slot, in ms; 0: no limit. */
    private readonly timeoutMs: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`ScanGate: size must be a positive integer, got ${size}`);
  }

  /** Scans running now, and waiting for a slot. */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `scan` once a slot is free; the slot is given back when it settles. */
  async run<T>(scan: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await scan();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.size) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          if (waiter.timer) clearTimeout(waiter.timer);
          resolve();
        },
        timer:
          this.timeoutMs > 0
            ? setTimeout(() => {
                const index = this.waiting.indexOf(waiter);
                if (index >= 0) this.waiting.splice(index, 1);
                reject(new ReadTimeoutError(this.timeoutMs));
              }, this.timeoutMs)
            : undefined,
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    // The slot passes straight to the next waiter: `running` stays as it is.
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.running -= 1;
  }
}

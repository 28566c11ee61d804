import { createHash } from 'node:crypto';

/**
 * A sliding-window limiter for one upstream endpoint: a request holds its place from the moment it
 * starts until `windowMs` after it finished, and at most `limit` places are held. The upstream counts
 * a request when it arrives, which is somewhere between our start and our finish; counting until
 * finish + window means no `windowMs` span at the upstream ever sees more than `limit` of ours,
 * whatever the network delays and however the upstream aligns its minute.
 *
 * Waiters are served first come, first served by one timer, and {@link pauseUntil} holds all of
 * them back at once (after a 429), so a pause never turns into a burst of retries.
 */
export class EndpointLimiter {
  /** Finish times of the requests of the last window, oldest first. */
  private readonly finished: number[] = [];
  private inFlight = 0;
  private readonly waiters: ((release: () => void) => void)[] = [];
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  }

  /**
   * Resolves when a request may start, with the function to call once it has finished (answer read,
   * or failed). Not calling it keeps the place held for good.
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  /** Nobody starts before `until` (epoch ms); extends, never shortens, a pause in force. */
  pauseUntil(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump();
  }

  /** Requests waiting for their turn. */
  get waiting(): number {
    return this.waiters.length;
  }

  private pump(): void {
    if (this.timer) return;
    while (this.waiters.length > 0) {
      const now = this.now();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil - now);
      while (this.finished.length > 0 && this.finished[0]! <= now - this.windowMs) this.finished.shift();
      if (this.inFlight + this.finished.length >= this.limit) {
        // All places in flight: the next release wakes us; otherwise the oldest finish expires.
        if (this.finished.length > 0) this.wake(this.finished[0]! + this.windowMs - now);
        return;
      }
      this.inFlight += 1;
      let released = false;
      this.waiters.shift()!(() => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        this.finished.push(this.now());
        this.pump();
      });
    }
  }

  private wake(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }
}

/**
 * The limiters of one process, one per (base URL, API key, endpoint template): every client of the
 * same key shares them, as the upstream counts per key and endpoint. Keys are held only as digests.
 */
export class RateLimiters {
  private readonly limiters = new Map<string, EndpointLimiter>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The limiter for this endpoint of this key; created with `limit`/`windowMs` on first use. */
  for(baseUrl: string, apiKey: string, endpoint: string, limit: number, windowMs: number): EndpointLimiter {
    const digest = createHash('sha256').update(apiKey).digest('hex');
    const key = `${baseUrl}\n${digest}\n${endpoint}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new EndpointLimiter(limit, windowMs, this.now);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}

/** The process-wide registry that clients use unless given another one. */
export const sharedRateLimiters = new RateLimiters();

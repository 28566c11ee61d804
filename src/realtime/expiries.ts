/** The longest single wait of a timer; a later moment is reached by waiting again (setTimeout's limit is 2^31 - 1 ms). */
const MAX_WAIT_MS = 3_600_000;
/**
 * When `due` or `tick` fails (a read timed out on a loaded database), how soon it is tried again:
 * giving up would drop the change for good, since no event will mark it.
 */
export const EXPIRY_RETRY_MS = 1000;

/**
 * `stream`, plus what `tick` yields at moments no event marks: `due()` says when the next one is
 * (epoch ms; null: none), asked at the start and after each item. `tick` runs just after that moment;
 * undefined yields nothing. A failed `due` or `tick` is tried again EXPIRY_RETRY_MS later. Ending the
 * result ends `stream` and the timer.
 */
export function withExpiries<T>(
  stream: AsyncIterableIterator<T>,
  due: () => Promise<number | null>,
  tick: () => Promise<T | undefined>,
): AsyncIterableIterator<T> {
  let pending: Promise<IteratorResult<T>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  /** Which wait is current: one that lost its race must not start a timer once its `due()` answers. */
  let generation = 0;
  /** The last `tick` failed: the next wait is a short one, then it runs again. */
  let retry = false;
  const stop = () => {
    generation += 1;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  /** Resolves 'tick' just after the next due moment (or never, when there is none). */
  const wait = async (): Promise<'tick' | 'again'> => {
    const mine = generation;
    const at = retry ? Date.now() + EXPIRY_RETRY_MS : await due().catch(() => Date.now() + EXPIRY_RETRY_MS);
    if (at === null || finished || mine !== generation) return new Promise<never>(() => undefined);
    const delay = Math.max(0, at + 1 - Date.now());
    return new Promise((resolve) => {
      timer = setTimeout(() => resolve(delay > MAX_WAIT_MS ? 'again' : 'tick'), Math.min(delay, MAX_WAIT_MS));
      timer.unref();
    });
  };
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        pending ??= stream.next();
        const winner = await Promise.race([pending.then((result) => ({ result })), wait()]);
        stop();
        if (winner === 'again') continue;
        if (winner === 'tick') {
          if (finished) return { value: undefined, done: true };
          let value: T | undefined;
          try {
            value = await tick();
            retry = false;
          } catch {
            retry = true;
            continue;
          }
          if (value !== undefined) return { value, done: false };
          continue;
        }
        pending = undefined;
        return winner.result;
      }
    },
    async return() {
      finished = true;
      stop();
      await stream.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

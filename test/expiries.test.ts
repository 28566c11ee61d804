import { EXPIRY_RETRY_MS, withExpiries } from '../src/realtime/expiries.js';

/** A stream that yields nothing until it is ended. */
function silentStream(): AsyncIterableIterator<string> {
  let end: ((result: IteratorResult<string>) => void) | undefined;
  const stream: AsyncIterableIterator<string> = {
    next: () => new Promise((resolve) => (end = resolve)),
    return: async () => {
      end?.({ value: undefined, done: true });
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}

describe('withExpiries', () => {
  it('when a tick fails (a read timed out), then it is tried again shortly instead of the change being dropped', async () => {
    const dueAt = Date.now() + 50;
    let ticks = 0;
    const expiries = withExpiries(
      silentStream(),
      async () => (ticks === 0 ? dueAt : null),
      async () => {
        ticks += 1;
        if (ticks === 1) throw new Error('read timed out');
        return 'lower count';
      },
    );
    const started = Date.now();
    await expect(expiries.next()).resolves.toEqual({ value: 'lower count', done: false });
    expect(ticks).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(EXPIRY_RETRY_MS);
    await expiries.return?.();
  });

  it('when asking for the next moment fails, then it is asked again shortly instead of never', async () => {
    let asked = 0;
    const expiries = withExpiries(
      silentStream(),
      async () => {
        asked += 1;
        if (asked === 1) throw new Error('read timed out');
        return asked === 2 ? Date.now() : null;
      },
      async () => 'expired',
    );
    await expect(expiries.next()).resolves.toEqual({ value: 'expired', done: false });
    await expiries.return?.();
  });
});

import type { LoggedEvent } from '../src/events/logged-event.js';
import { InProcessFeed } from '../src/realtime/in-process-feed.js';
import type { EventSelector } from '../src/api/stream-selector.js';
import type { LogPage } from '../src/realtime/log-reader.js';
import { openEventStream } from '../src/realtime/resume-stream.js';
import { ReplayPacer } from '../src/realtime/replay-pacer.js';

const event = (seq: number, studioId = 1): LoggedEvent => ({
  seq,
  uuid: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  position: 0,
  studioId,
  tenantId: 1,
  type: 'CUSTOMER_UPDATED',
  known: true,
  entityId: seq,
  content: null,
  occurredAt: seq,
  receivedAt: seq,
});

/**
 * The log and the feed of one instance. A read sees what was committed when it was issued (its
 * snapshot); with `hold`, its answer waits until `release()`, so commits can happen in between.
 */
class World {
  readonly bus = new InProcessFeed();
  readonly rows: LoggedEvent[] = [];
  hold = false;
  private readonly pending: (() => void)[] = [];
  reads = 0;

  readonly log = {
    page: (selector: EventSelector, afterSeq: number, limit: number): Promise<LogPage> => {
      this.reads += 1;
      const snapshot = this.rows
        .filter((e) => e.seq > afterSeq && (selector.scope === null || selector.scope.includes(e.studioId)))
        .slice(0, limit);
      const answer = { events: snapshot, lastSeq: snapshot[snapshot.length - 1]?.seq };
      if (!this.hold) return Promise.resolve(answer);
      return new Promise((resolve) => this.pending.push(() => resolve(answer)));
    },
  };

  /** Commits events (into the log) and then announces them, as the ingestor does. */
  commit(...seqs: number[]): void {
    const events = seqs.map((seq) => event(seq));
    this.rows.push(...events);
    void this.bus.publish(events);
  }

  /** Answers the reads waiting so far. */
  release(): void {
    for (const answer of this.pending.splice(0)) answer();
  }

  get waiting(): number {
    return this.pending.length;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function collect(stream: AsyncIterator<LoggedEvent>, count: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < count) {
    const { value, done } = await stream.next();
    if (done) break;
    seqs.push(value.seq);
  }
  return seqs;
}

describe('openEventStream', () => {
  const open = (world: World, after: number | undefined, maxQueued = 100, onOverflow = () => undefined) =>
    openEventStream<LoggedEvent>({
      feed: world.bus,
      log: world.log,
      selector: { scope: null },
      after,
      maxQueued,
      onOverflow,
      map: (e) => e,
      pageSize: 2,
    });

  it('when events commit while a page of the log is being delivered, then they come from the next read, once, in order', async () => {
    const world = new World();
    world.commit(1, 2, 3, 4, 5);
    const stream = open(world, 0, 1); // a held queue of one would overflow: the events must come from the log
    expect(await collect(stream, 1)).toEqual([1]); // the page [1, 2] is being delivered
    world.commit(6, 7, 8);
    const readsBefore = world.reads;
    expect(await collect(stream, 7)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(world.reads - readsBefore).toBe(3); // [3, 4], [5, 6], [7, 8]
    world.commit(9);
    expect(await collect(stream, 1)).toEqual([9]);
    await stream.return!();
  });

  it('when events commit while the log is being read, then replay and live join with no gap and no duplicate', async () => {
    const world = new World();
    world.commit(1, 2, 3, 4, 5);
    world.hold = true;
    const stream = open(world, 2);
    const taken = collect(stream, 6);
    await tick();
    world.commit(6); // held live, and (committed before the next read) in the log too
    world.release();
    await tick();
    world.commit(7);
    for (let i = 0; i < 10; i += 1) {
      world.release();
      await tick();
    }
    world.hold = false;
    world.release();
    world.commit(8);
    expect(await taken).toEqual([3, 4, 5, 6, 7, 8]);
    await stream.return!();
  });

  it('when the held live events overflow during replay, then they are dropped and read from the log instead', async () => {
    const world = new World();
    world.commit(1);
    world.hold = true;
    const stream = open(world, 0, 2);
    const taken = collect(stream, 7);
    await tick();
    world.commit(2, 3, 4); // three held: over the limit of two, dropped
    world.commit(5);
    world.release();
    for (let i = 0; i < 20; i += 1) {
      await tick();
      world.release();
    }
    world.hold = false;
    world.release();
    await tick();
    world.commit(6, 7);
    expect(await taken).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await stream.return!();
  });

  it('when held events are dropped while the read that found nothing more is on its way, then the log is read again before going live', async () => {
    const world = new World();
    world.hold = true;
    const stream = open(world, 0, 1);
    const taken = collect(stream, 3);
    await tick();
    expect(world.waiting).toBe(1); // this read's snapshot is empty
    world.commit(1, 2); // over the limit of one: dropped while that read is out
    world.hold = false;
    world.release();
    world.commit(3);
    expect(await taken).toEqual([1, 2, 3]);
    await stream.return!();
  });

  it('when a live subscriber falls more than maxQueued events behind, then the stream ends and onOverflow is called', async () => {
    const world = new World();
    const overflow = jest.fn();
    const stream = open(world, undefined, 3, overflow);
    world.commit(1, 2);
    world.commit(3, 4);
    expect(overflow).toHaveBeenCalledTimes(1);
    expect(world.bus.listenerCount).toBe(0);
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('when return() is called while next() waits, then both finish at once and the feed is left', async () => {
    const world = new World();
    const stream = open(world, undefined);
    const waiting = stream.next();
    expect(world.bus.listenerCount).toBe(1);
    await expect(stream.return!()).resolves.toEqual({ value: undefined, done: true });
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(world.bus.listenerCount).toBe(0);
  });

  it('keeps only events of the scope, live and replayed', async () => {
    const world = new World();
    world.rows.push(event(1, 1), event(2, 2));
    const stream = openEventStream<LoggedEvent>({
      feed: world.bus,
      log: world.log,
      selector: { scope: [2] },
      after: 0,
      maxQueued: 10,
      onOverflow: () => undefined,
      map: (e) => e,
    });
    const taken = collect(stream, 2);
    await tick();
    const live = [event(3, 1), event(4, 2)];
    world.rows.push(...live);
    void world.bus.publish(live);
    expect(await taken).toEqual([2, 4]);
    await stream.return!();
  });
});

describe('ReplayPacer', () => {
  it("grants steps while this turn's slice of time lasts, then lets the waiting lanes go on a later turn, in the order they asked", async () => {
    let clock = 0;
    const pacer = new ReplayPacer(5, () => clock, 2, 10, 0);
    const order: string[] = [];
    const lanes = new Map<string, ReturnType<ReplayPacer['lane']>>();
    const ask = (name: string) => {
      const lane = lanes.get(name) ?? pacer.lane();
      lanes.set(name, lane);
      const wait = lane.step();
      if (!wait) order.push(`${name}:now`);
      else void wait.then(() => order.push(name));
    };
    ask('a');
    clock = 3;
    ask('b'); // 3 ms into the slice: still granted
    clock = 5;
    ask('c'); // the slice is spent: c waits, and so does everyone after it
    clock = 6;
    ask('d');
    expect(order).toEqual(['a:now', 'b:now']);
    expect(pacer.queued).toBe(2);
    await tick(); // the next turn: the waiting are let go, in order
    expect(order).toEqual(['a:now', 'b:now', 'c', 'd']);
    expect(pacer.queued).toBe(0);
    // A new slice begins with the first step asked for in this turn.
    ask('a');
    clock = 10;
    ask('b');
    clock = 11;
    ask('c');
    expect(order.slice(4)).toEqual(['a:now', 'b:now']);
    expect(pacer.queued).toBe(1);
    await tick();
    expect(order.slice(6)).toEqual(['c']);
  });

  it('lets at most maxSteps steps run at once: the others wait until a running lane asks again or goes idle, and take turns', async () => {
    const pacer = new ReplayPacer(1000, () => 0, 2, 1, 0);
    const a = pacer.lane();
    const b = pacer.lane();
    const c = pacer.lane();
    const order: string[] = [];
    const ask = (lane: typeof a, name: string) => {
      const wait = lane.step();
      if (!wait) order.push(`${name}:now`);
      else void wait.then(() => order.push(name));
    };
    ask(a, 'a'); // a's step runs
    ask(b, 'b'); // waits: a has not finished its step
    ask(c, 'c');
    expect(order).toEqual(['a:now']);
    ask(a, 'a'); // a's step is over: b's turn; a goes to the back of the line
    await Promise.resolve();
    expect(order).toEqual(['a:now', 'b']);
    b.idle(); // b waits for I/O: c's turn
    await Promise.resolve();
    expect(order).toEqual(['a:now', 'b', 'c']);
    c.idle();
    await Promise.resolve();
    expect(order).toEqual(['a:now', 'b', 'c', 'a']);
    expect(pacer.queued).toBe(0);
    a.idle();
    await tick();
  });

  it('lets a lane go on within its quantum while others wait, then sends it to the back of the line', async () => {
    let clock = 0;
    const pacer = new ReplayPacer(1000, () => clock, 2, 1, 2);
    const a = pacer.lane();
    const b = pacer.lane();
    expect(a.step()).toBeUndefined();
    const waited = b.step();
    expect(waited).toBeInstanceOf(Promise);
    clock = 1;
    expect(a.step()).toBeUndefined(); // 1 ms into its 2 ms quantum
    clock = 2;
    const aWaits = a.step(); // its quantum is over: b's turn
    expect(aWaits).toBeInstanceOf(Promise);
    await expect(waited).resolves.toBeUndefined();
    b.idle();
    await expect(aWaits).resolves.toBeUndefined();
    a.idle();
    await tick();
  });

  it('flushes a lane (puts its writes on the wire) each time it gives up its place, not while it keeps it', async () => {
    let clock = 0;
    const pacer = new ReplayPacer(1000, () => clock, 2, 2, 2);
    const flushed: string[] = [];
    const a = pacer.lane(() => flushed.push('a'));
    const b = pacer.lane(() => flushed.push('b'));
    expect(a.step()).toBeUndefined();
    clock = 1;
    expect(a.step()).toBeUndefined(); // within its quantum: its writes may wait for the end of the tick
    expect(flushed).toEqual([]);
    clock = 2;
    const next = a.step(); // its quantum is over
    expect(next).toBeUndefined(); // nobody waits: a new place at once
    expect(flushed).toEqual(['a']);
    expect(b.step()).toBeUndefined();
    b.idle(); // waits for I/O
    expect(flushed).toEqual(['a', 'b']);
    b.idle(); // holds no place: nothing to flush
    expect(flushed).toEqual(['a', 'b']);
    a.idle();
    expect(flushed).toEqual(['a', 'b', 'a']);
    await tick();
  });

  it('when a step waits for I/O past its turn, then its place is freed on the next turn', async () => {
    const pacer = new ReplayPacer(1000, () => 0, 2, 1, 0);
    const stalled = pacer.lane();
    const other = pacer.lane();
    expect(stalled.step()).toBeUndefined(); // and never asks again
    const waited = other.step();
    expect(waited).toBeInstanceOf(Promise);
    await tick();
    await expect(waited).resolves.toBeUndefined();
    other.idle();
  });

  it('when a waiting lane goes idle (its replay ended), then its wait resolves and it leaves the line', async () => {
    const pacer = new ReplayPacer(1000, () => 0, 2, 1, 0);
    const running = pacer.lane();
    const ended = pacer.lane();
    const next = pacer.lane();
    expect(running.step()).toBeUndefined();
    const endedWait = ended.step()!;
    const nextWait = next.step()!;
    ended.idle();
    await expect(endedWait).resolves.toBeUndefined();
    expect(pacer.queued).toBe(1);
    running.idle(); // next has the place now, not the lane that left
    await expect(nextWait).resolves.toBeUndefined();
    expect(pacer.queued).toBe(0);
    next.idle();
    await tick();
  });

  it('with stepsPerSecond, lets all replays together take that many steps a second (a burst of 20 ms of them), then waits for the bucket on a timer, not on every turn', async () => {
    let clock = 0;
    const pacer = new ReplayPacer(1000, () => clock, 2, 100, 0, 1000);
    const granted: number[] = [];
    for (let i = 0; i < 30; i++) {
      const wait = pacer.lane().step();
      if (!wait) granted.push(i);
      else void wait.then(() => granted.push(i));
    }
    expect(granted).toHaveLength(20); // 20 ms of 1,000 a second
    await tick();
    expect(granted).toHaveLength(20); // a new turn adds nothing: the bucket is empty
    clock = 5; // 5 ms later it holds 5 steps
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(granted).toEqual(Array.from({ length: 25 }, (_, i) => i));
    clock = 1000; // a second later it is full again: the rest go, in the order they asked
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(granted).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // limit() changes the rate at once, and Infinity lifts it.
    pacer.limit(Infinity);
    for (let i = 0; i < 50; i++) expect(pacer.lane().step()).toBeUndefined();
  });

  it('limit() lets lanes waiting for an empty bucket go on the next turn, not when the old rate would have refilled it; 0 means no limit', async () => {
    const clock = 0;
    const pacer = new ReplayPacer(1000, () => clock, 2, 100, 0, 1); // one step a second
    expect(pacer.lane().step()).toBeUndefined();
    let granted = false;
    void pacer
      .lane()
      .step()!
      .then(() => (granted = true));
    await tick();
    expect(granted).toBe(false); // the bucket refills in a second
    pacer.limit(0);
    await tick();
    expect(granted).toBe(true);
    for (let i = 0; i < 50; i++) expect(pacer.lane().step()).toBeUndefined();
  });

  it('runs at most maxReads replay reads at once, the others in the order they asked, and a failed read frees its place', async () => {
    const pacer = new ReplayPacer(4, () => 0, 2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const read = (n: number) =>
      pacer.read(async () => {
        started.push(n);
        running += 1;
        most = Math.max(most, running);
        await tick();
        running -= 1;
        if (n === 1) throw new Error('read 1 failed');
        return n;
      });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(read));
    expect(most).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual(['failed', 2, 3, 4, 5]);
    expect(await read(6)).toBe(6); // every place was handed back
  });

  it('paces a replay without changing what it delivers or its order', async () => {
    const world = new World();
    for (let seq = 1; seq <= 50; seq++) world.rows.push(event(seq));
    // Every step spends a whole slice: each event and each page read waits for a turn of its own.
    let clock = 0;
    const pacer = new ReplayPacer(1, () => (clock += 1));
    const stream = openEventStream<LoggedEvent>({
      feed: world.bus,
      log: world.log,
      selector: { scope: null },
      after: 10,
      maxQueued: 100,
      onOverflow: () => undefined,
      map: (e) => e,
      pageSize: 4,
      pace: pacer.lane(),
    });
    const taken = collect(stream, 42);
    await tick();
    world.commit(51, 52); // live, while replaying
    expect(await taken).toEqual(Array.from({ length: 42 }, (_, i) => i + 11));
    await stream.return!();
  });
});

/**
 * Where a member event's delivery spends its time inside the server, for bench/fanout.ts
 * `--members --timings` (bench/fanout-server.ts installs it before the service starts, and serves
 * the summary at GET /timings on its stats port).
 *
 * It wraps, in this process only, the steps of src/realtime/fanout-hub.ts (an announcement's
 * arrival, its hand-out, a group's loading of the records and render, the first frame's write) and
 * the webhook's answer (`res.end` of `/webhooks`), and times each delivery that loaded records (a
 * member event that matched a group). One webhook at a time is assumed (the bench sends 20 a
 * second): the answer taken is the latest one written before the hand-out. The hub's private
 * methods are reached by name; a rename there makes `install` throw, not measure nothing.
 */
import http from 'node:http';
import { PerformanceObserver, constants, performance, type PerformanceEntry } from 'node:perf_hooks';
import type { LoggedEvent } from '../src/events/logged-event.js';
import { FanoutHub, type FanoutGroupSpec } from '../src/realtime/fanout-hub.js';
import { monotonicMs } from './harness.js';
import { percentile } from './load.js';

/** The times (performance.now() ms) of one delivery's steps. */
interface Steps {
  /** The announced event's entityId: the bench's client knows its deliveries by it. */
  entityId: number | undefined;
  announced: number;
  answered?: number;
  handedOut?: number;
  loading?: number;
  loaded?: number;
  rendering?: number;
  rendered?: number;
  framed?: number;
}

/** p50 / p90 / p99 / max ms of one span, over the deliveries that had both ends. */
export interface Span {
  readonly name: string;
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One of the slowest deliveries: each step's ms, and the collections that overlapped it. */
export interface SlowDelivery {
  /** From the answer's write to the frame's write, ms. */
  readonly ms: number;
  /** [step, ms] in order, adding up to `ms`: from the answer to the hand-out, to loading, loading, to render, render, to the frame. */
  readonly steps: readonly (readonly [string, number])[];
  /** Garbage collections that ran between the answer and the frame: kind, and ms of it within that time. */
  readonly gc: readonly (readonly [string, number])[];
}

/** What GET /timings answers. */
export interface TimingsSummary {
  readonly spans: readonly Span[];
  /** The deliveries that took longest from the answer to the frame, slowest first. */
  readonly slowest: readonly SlowDelivery[];
  /**
   * Every timed delivery: its entityId, the answer's and the frame's writes on the machine's
   * monotonic clock (ms, harness.ts monotonicMs), which the client's clock shares.
   */
  readonly deliveries: readonly (readonly [entityId: number, answered: number, framed: number])[];
}

const STEPS: readonly (readonly [string, keyof Steps, keyof Steps])[] = [
  ['to hand-out', 'answered', 'handedOut'],
  ['to loading', 'handedOut', 'loading'],
  ['loading', 'loading', 'loaded'],
  ['to render', 'loaded', 'rendering'],
  ['render', 'rendering', 'rendered'],
  ['to frame', 'rendered', 'framed'],
];

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

const SPANS: readonly (readonly [string, keyof Steps, keyof Steps])[] = [
  ['answer written -> hand-out', 'answered', 'handedOut'],
  ['announced -> hand-out', 'announced', 'handedOut'],
  ['hand-out -> loading the records', 'handedOut', 'loading'],
  ['loading the records', 'loading', 'loaded'],
  ['executing and serialising', 'rendering', 'rendered'],
  ['serialised -> frame written', 'rendered', 'framed'],
  ['answer written -> frame written', 'answered', 'framed'],
];

type HubInternals = {
  receive(events: readonly LoggedEvent[]): void;
  drain(): void;
  due(...args: unknown[]): Buffer | undefined;
  ensureGroup(key: string, spec: FanoutGroupSpec): unknown;
};

/** Wraps the hub's steps and the webhook's answer; returns the summary and a reset. */
export function installDeliveryTimings(): { summary(slowest?: number): TimingsSummary; reset(): void } {
  const hub = FanoutHub.prototype as unknown as HubInternals;
  for (const name of ['receive', 'drain', 'due', 'ensureGroup'] as const) {
    if (typeof hub[name] !== 'function') throw new Error(`delivery timings: FanoutHub has no method ${name} any more`);
  }
  let answered = 0;
  let current: Steps | undefined;
  let done: Steps[] = [];
  const wrapped = new WeakSet<FanoutGroupSpec>();
  /** The collections since the last reset (performance.now() ms). */
  let pauses: { start: number; end: number; kind: string }[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = GC_KINDS[entry.detail?.kind ?? 0] ?? 'other';
      pauses.push({ start: entry.startTime, end: entry.startTime + entry.duration, kind });
    }
  }).observe({ entryTypes: ['gc'] });

  const end = http.ServerResponse.prototype.end as (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse;
  http.ServerResponse.prototype.end = function (this: http.ServerResponse, ...args: unknown[]) {
    const result = end.apply(this, args);
    if (this.req?.url?.startsWith('/webhooks')) answered = performance.now();
    return result;
  } as typeof http.ServerResponse.prototype.end;

  const { receive, drain, due, ensureGroup } = hub;
  hub.receive = function (this: HubInternals, events) {
    current = { announced: performance.now(), entityId: events[0]?.entityId };
    return receive.call(this, events);
  };
  hub.drain = function (this: HubInternals) {
    if (current) {
      current.handedOut = performance.now();
      current.answered = answered;
    }
    return drain.call(this);
  };
  hub.due = function (this: HubInternals, ...args) {
    if (current?.loaded !== undefined && current.framed === undefined) {
      current.framed = performance.now();
      done.push(current);
    }
    return due.apply(this, args);
  };
  hub.ensureGroup = function (this: HubInternals, key, spec) {
    if (!wrapped.has(spec)) {
      wrapped.add(spec);
      const { map, render } = spec;
      const writable = spec as { map: FanoutGroupSpec['map']; render: FanoutGroupSpec['render'] };
      writable.map = timed(map, 'loading', 'loaded');
      writable.render = timed(render, 'rendering', 'rendered');
    }
    return ensureGroup.call(this, key, spec);
  };

  /** `step` wrapped: the current delivery's `from` and `to` are set around it. */
  function timed<A, R>(step: (arg: A) => R, from: keyof Steps, to: keyof Steps): (arg: A) => Promise<Awaited<R>> {
    return async (arg): Promise<Awaited<R>> => {
      const steps = current;
      if (steps) steps[from] = performance.now();
      const result = await step(arg);
      if (steps) steps[to] = performance.now();
      return result;
    };
  }

  const monotonic = monotonicMs();
  return {
    reset: () => {
      done = [];
      pauses = [];
    },
    summary: (slowest = 10) => ({
      spans: spans(),
      deliveries: done.flatMap(({ entityId, answered, framed }) =>
        entityId !== undefined && answered && framed !== undefined ? [[entityId, monotonic(answered), monotonic(framed)] as const] : [],
      ),
      slowest: done
        .filter((steps) => steps.answered !== undefined && steps.answered > 0 && steps.framed !== undefined)
        .map((steps) => ({ steps, ms: steps.framed! - steps.answered! }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, slowest)
        .map(({ steps, ms }) => ({
          ms,
          steps: STEPS.flatMap(([name, from, to]) => {
            const a = steps[from];
            const b = steps[to];
            return a !== undefined && b !== undefined ? [[name, b - a] as const] : [];
          }),
          gc: pauses
            .filter((pause) => pause.end > steps.answered! && pause.start < steps.framed!)
            .map((pause) => [pause.kind, Math.min(pause.end, steps.framed!) - Math.max(pause.start, steps.answered!)] as const),
        })),
    }),
  };

  function spans(): Span[] {
    return SPANS.map(([name, from, to]) => {
      const values = done.flatMap((steps) => {
        const a = steps[from];
        const b = steps[to];
        return a !== undefined && b !== undefined && a > 0 ? [b - a] : [];
      });
      const sorted = Float64Array.from(values).sort();
      return {
        name,
        count: sorted.length,
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : NaN,
      };
    });
  }
}

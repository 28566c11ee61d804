import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The load generator: HTTP/1.1 POSTs over a keep-alive `http.Agent` (not fetch: undici's fetch
 * costs several times more CPU per request and would measure itself), to 127.0.0.1 only.
 */

export interface Target {
  readonly port: number;
  /** Webhook keys to send, one picked per delivery (several studios of one tenant). */
  readonly keys: readonly string[];
  /**
   * Makes the next delivery's JSON body. A {@link TaggedBody} is reported apart from the others
   * (by the fixed-rate phase, in {@link PhaseResult.tagged}): e.g. a poison delivery among good ones.
   */
  readonly nextBody: () => string | TaggedBody;
}

/** A delivery whose answer is counted under `tag` instead of with the phase's other deliveries. */
export interface TaggedBody {
  readonly body: string;
  readonly tag: string;
}

export interface PhaseResult {
  readonly mode: 'fixed' | 'full';
  /** Requests sent. */
  readonly sent: number;
  /** 200 answers. */
  readonly ok: number;
  /** Everything else: other statuses, connection errors, timeouts. */
  readonly errors: number;
  /** e.g. `{ "503": 12, "ECONNRESET": 1 }` */
  readonly errorKinds: Readonly<Record<string, number>>;
  /** A few error bodies, for the log. */
  readonly errorSamples: readonly string[];
  /** Acknowledged (200) deliveries per second (one event each). */
  readonly eventsPerSecond: number;
  /** Ack latency percentiles in ms, over every answered request. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The same over the 200 answers only (NaN when there were none). */
  readonly okP50: number;
  readonly okP99: number;
  readonly seconds: number;
  /** 200s answered in each second of the phase (full speed only): shows a rate that decays as tables grow. */
  readonly perSecond: readonly number[];
  /** Fixed rate: the {@link TaggedBody} deliveries by tag, each counted as a phase of its own. */
  readonly tagged: Readonly<Record<string, PhaseResult>>;
  /**
   * Requests that went out on a connection opened for them (no open one was free), and their
   * latency percentiles in ms (NaN when there were none): a new connection waits for the server to
   * accept it, which a busy server does one per turn of its event loop.
   */
  readonly newConnections: { readonly count: number; readonly p99: number; readonly max: number };
}

export const REQUEST_TIMEOUT_MS = 10_000;

/** Latencies, answers and errors of one phase (used by bench/graphql-load.ts too). */
export class Recorder {
  readonly latencies: number[] = [];
  /** Latencies of the 200 answers alone. */
  readonly okLatencies: number[] = [];
  sent = 0;
  ok = 0;
  errors = 0;
  readonly errorKinds: Record<string, number> = {};
  readonly errorSamples: string[] = [];
  /** Latencies of the requests that went out on a connection opened for them. */
  readonly newConnectionLatencies: number[] = [];

  /** One answered (or failed) request: `kind` and `sample` describe a failure. */
  answer(latencyMs: number, ok: boolean, kind = 'error', sample = '', newConnection = false): void {
    this.latencies.push(latencyMs);
    if (newConnection) this.newConnectionLatencies.push(latencyMs);
    if (ok) {
      this.ok += 1;
      this.okLatencies.push(latencyMs);
    } else {
      this.fail(kind, sample);
    }
  }

  fail(kind: string, sample: string): void {
    this.errors += 1;
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(`${kind}: ${sample.slice(0, 300)}`);
  }

  result(
    mode: 'fixed' | 'full',
    okCounted: number,
    seconds: number,
    perSecond: readonly number[] = [],
    tagged: Readonly<Record<string, PhaseResult>> = {},
  ): PhaseResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const okSorted = Float64Array.from(this.okLatencies).sort();
    const newSorted = Float64Array.from(this.newConnectionLatencies).sort();
    return {
      mode,
      sent: this.sent,
      ok: this.ok,
      errors: this.errors,
      errorKinds: this.errorKinds,
      errorSamples: this.errorSamples,
      eventsPerSecond: seconds > 0 ? okCounted / seconds : 0,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      okP50: percentile(okSorted, 0.5),
      okP99: percentile(okSorted, 0.99),
      seconds,
      perSecond,
      tagged,
      newConnections: {
        count: newSorted.length,
        p99: percentile(newSorted, 0.99),
        max: newSorted.length > 0 ? newSorted[newSorted.length - 1]! : NaN,
      },
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * POSTs one delivery; calls `onDone` (never throws) when the answer has been read in full, or on
 * failure. A tagged delivery is recorded in `tagged` under its tag when given, else in `recorder`.
 */
function post(
  agent: http.Agent,
  target: Target,
  recorder: Recorder,
  startedAt: number,
  onDone: (endedAt: number, ok: boolean) => void,
  tagged?: Map<string, Recorder>,
): void {
  const next = target.nextBody();
  const body = typeof next === 'string' ? next : next.body;
  let own = recorder;
  if (typeof next !== 'string' && tagged) {
    own = tagged.get(next.tag) ?? new Recorder();
    tagged.set(next.tag, own);
  }
  const key = target.keys[own.sent % target.keys.length]!;
  own.sent += 1;
  let finished = false;
  let newConnection = false;
  const finish = (ok: boolean, kind?: string, sample?: string) => {
    if (finished) return;
    finished = true;
    const endedAt = performance.now();
    own.answer(endedAt - startedAt, ok, kind, sample, newConnection);
    onDone(endedAt, ok);
  };
  const req = http.request(
    {
      host: '127.0.0.1',
      port: target.port,
      path: '/webhooks',
      method: 'POST',
      agent,
      headers: { 'Content-Type': 'application/json', 'X-API-KEY': key, 'Content-Length': Buffer.byteLength(body) },
    },
    (res) => {
      if (res.statusCode === 200) {
        res.on('end', () => finish(true));
        res.resume();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => finish(false, String(res.statusCode), Buffer.concat(chunks).toString('utf8')));
    },
  );
  // Counted from the due time (open loop), not from when a socket of the agent became free: a
  // request still queued in the agent after REQUEST_TIMEOUT_MS has timed out as well.
  const timer = setTimeout(
    () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
    Math.max(0, startedAt + REQUEST_TIMEOUT_MS - performance.now()),
  );
  req.on('close', () => clearTimeout(timer));
  req.once('socket', (socket: Socket) => {
    newConnection = !opened.has(socket);
    opened.add(socket);
  });
  req.on('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? 'TIMEOUT', error.message));
  req.end(body);
}

/** Every connection a request of ours has used (or {@link openConnections} opened): the others are new. */
const opened = new WeakSet<Socket>();

/** The webhook sender's connections: HTTP/1.1 keep-alive, at most `concurrency` at once. */
export function keepAliveAgent(concurrency: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency });
}

/**
 * Opens `count` keep-alive connections of `agent` to the server (a `GET /healthz` on each, all at
 * once), as a sender that has been delivering for a while holds them: the requests that follow
 * then reuse them instead of each waiting for the server to accept a new connection. Resolves
 * with the number of connections the agent then holds open.
 */
export async function openConnections(agent: http.Agent, port: number, count: number): Promise<number> {
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.once('socket', (socket: Socket) => opened.add(socket));
          req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy());
          req.on('error', () => resolve());
        }),
    ),
  );
  // Freed sockets are put back on the next tick.
  await new Promise<void>((resolve) => setImmediate(resolve));
  return Object.values(agent.freeSockets).reduce((n, sockets) => n + (sockets?.length ?? 0), 0);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Open loop at a fixed rate: request i is due at start + i / rate whatever happened to the
 * earlier ones. Latency is measured from the due time (so a stalled server is not hidden by the
 * generator waiting for it), to the end of the answer.
 */
export async function fixedRate(
  target: Target,
  options: {
    rate: number;
    seconds: number;
    concurrency: number;
    /** The connections to send on (kept open afterwards); default: a new {@link keepAliveAgent}, destroyed at the end. */
    agent?: http.Agent;
  },
): Promise<PhaseResult> {
  const agent = options.agent ?? keepAliveAgent(options.concurrency);
  const recorder = new Recorder();
  const tagged = new Map<string, Recorder>();
  const sent = () => recorder.sent + [...tagged.values()].reduce((n, r) => n + r.sent, 0);
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  let outstanding = 0;
  let lastEnd = 0;
  let allAnswered: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (allAnswered = resolve));
  const onDone = (endedAt: number) => {
    lastEnd = Math.max(lastEnd, endedAt);
    outstanding -= 1;
    if (outstanding === 0 && sent() === total) allAnswered();
  };
  try {
    const start = performance.now();
    let i = 0;
    while (i < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; i < due; i++) {
        outstanding += 1;
        post(agent, target, recorder, start + i * interval, onDone, tagged);
      }
      if (i < total) await sleep(1);
    }
    if (outstanding > 0) await answered;
    const seconds = (lastEnd - start) / 1000;
    const byTag = Object.fromEntries([...tagged].map(([tag, r]) => [tag, r.result('fixed', r.ok, seconds)]));
    return recorder.result('fixed', recorder.ok, seconds, [], byTag);
  } finally {
    if (!options.agent) agent.destroy();
  }
}

/**
 * One request of a closed loop: sends it on `agent`, records it in `recorder`, and calls `done` once
 * its answer (or failure) is recorded.
 */
export type SendOne = (agent: http.Agent, recorder: Recorder, done: (endedAt: number, ok: boolean) => void) => void;

/**
 * Closed loop: `concurrency` requests in flight at all times for `seconds`; each answer sends the
 * next request. Throughput counts the successful answers that arrived before the deadline.
 */
export async function closedLoop(send: SendOne, options: { readonly seconds: number; readonly concurrency: number }): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const recorder = new Recorder();
  let okBeforeDeadline = 0;
  const perSecond = new Array<number>(Math.ceil(options.seconds)).fill(0);
  try {
    const start = performance.now();
    const deadline = start + options.seconds * 1000;
    await new Promise<void>((resolve) => {
      let running = options.concurrency;
      const loop = () => {
        if (performance.now() >= deadline) {
          running -= 1;
          if (running === 0) resolve();
          return;
        }
        send(agent, recorder, (endedAt, ok) => {
          if (ok && endedAt <= deadline) {
            okBeforeDeadline += 1;
            const second = Math.floor((endedAt - start) / 1000);
            perSecond[second] = (perSecond[second] ?? 0) + 1;
          }
          loop();
        });
      };
      for (let i = 0; i < options.concurrency; i++) loop();
    });
    return recorder.result('full', okBeforeDeadline, options.seconds, perSecond);
  } finally {
    agent.destroy();
  }
}

/** Webhook deliveries at full speed: {@link closedLoop} with one delivery per request. */
export function fullSpeed(target: Target, options: { seconds: number; concurrency: number }): Promise<PhaseResult> {
  return closedLoop((agent, recorder, done) => post(agent, target, recorder, performance.now(), done), options);
}

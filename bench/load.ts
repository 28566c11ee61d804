import http from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * The load generator: HTTP/1.1 POSTs over a keep-alive `http.Agent` (not fetch: undici's fetch
 * costs several times more CPU per request and would measure itself), to 127.0.0.1 only.
 */

export interface Target {
  readonly port: number;
  /** Webhook keys to send, one picked per delivery (several studios of one tenant). */
  readonly keys: readonly string[];
  /** Makes the next delivery's JSON body. */
  readonly nextBody: () => string;
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
  /** p99 of the 200 answers only (with poison in the mix, the good deliveries' ack latency). */
  readonly okP99: number;
  readonly seconds: number;
  /** 200s answered in each second of the phase (full speed only): shows a rate that decays as tables grow. */
  readonly perSecond: readonly number[];
}

export const REQUEST_TIMEOUT_MS = 10_000;

/** Latencies, answers and errors of one phase (used by bench/graphql-load.ts too). */
export class Recorder {
  readonly latencies: number[] = [];
  /** Latencies of the 200 answers. */
  readonly okLatencies: number[] = [];
  sent = 0;
  ok = 0;
  errors = 0;
  readonly errorKinds: Record<string, number> = {};
  readonly errorSamples: string[] = [];

  fail(kind: string, sample: string): void {
    this.errors += 1;
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(`${kind}: ${sample.slice(0, 300)}`);
  }

  result(mode: 'fixed' | 'full', okCounted: number, seconds: number, perSecond: readonly number[] = []): PhaseResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const okSorted = Float64Array.from(this.okLatencies).sort();
    return {
      mode, sent: this.sent, ok: this.ok, errors: this.errors, errorKinds: this.errorKinds, errorSamples: this.errorSamples,
      eventsPerSecond: seconds > 0 ? okCounted / seconds : 0,
      p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      okP99: percentile(okSorted, 0.99), seconds, perSecond,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** POSTs one delivery; resolves (never rejects) when the answer has been read in full, or on failure. */
function post(agent: http.Agent, target: Target, recorder: Recorder, startedAt: number, onDone: (endedAt: number, ok: boolean) => void): void {
  const body = target.nextBody();
  const key = target.keys[recorder.sent % target.keys.length]!;
  recorder.sent += 1;
  let finished = false;
  const finish = (ok: boolean, kind?: string, sample?: string) => {
    if (finished) return;
    finished = true;
    const endedAt = performance.now();
    recorder.latencies.push(endedAt - startedAt);
    if (ok) recorder.okLatencies.push(endedAt - startedAt);
    if (ok) recorder.ok += 1;
    else recorder.fail(kind ?? 'error', sample ?? '');
    onDone(endedAt, ok);
  };
  const req = http.request(
    {
      host: '127.0.0.1', port: target.port, path: '/webhooks', method: 'POST', agent,
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
  req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
  req.on('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? 'TIMEOUT', error.message));
  req.end(body);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Open loop at a fixed rate: request i is due at start + i / rate whatever happened to the
 * earlier ones. Latency is measured from the due time (so a stalled server is not hidden by the
 * generator waiting for it), to the end of the answer.
 */
export async function fixedRate(target: Target, options: { rate: number; seconds: number; concurrency: number }): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const recorder = new Recorder();
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  let outstanding = 0;
  let lastEnd = 0;
  let allAnswered: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (allAnswered = resolve));
  const onDone = (endedAt: number) => {
    lastEnd = Math.max(lastEnd, endedAt);
    outstanding -= 1;
    if (outstanding === 0 && recorder.sent === total) allAnswered();
  };
  try {
    const start = performance.now();
    let i = 0;
    while (i < total) {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; i < due; i++) {
        outstanding += 1;
        post(agent, target, recorder, start + i * interval, onDone);
      }
      if (i < total) await sleep(1);
    }
    if (outstanding > 0) await answered;
    return recorder.result('fixed', recorder.ok, (lastEnd - start) / 1000);
  } finally {
    agent.destroy();
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

/**
 * Resilience benchmark: webhook ack latency at a fixed rate while the service is attacked, on SQLite
 * and PostgreSQL in the same run. See bench/README.md ("Resilience benchmark") and the usage below.
 *
 * For each database: the attack query's size is found first against a small database of its own
 * ({@link largestAccepted}); then a fresh database is seeded with history through the real ingest
 * code (bench/seed.ts), tokens are minted with the token CLI, and each phase runs on a freshly
 * started server (`node dist/src/main.js`, a child process on 127.0.0.1), so one attack's leftovers
 * cannot weigh on the next phase. Webhooks go at `--rate` deliveries/s (open loop, bench/load.ts)
 * for `--seconds` in every phase:
 *   alone    nothing else;
 *   queries  partner tokens sending, at full speed, the most expensive query the limits allow
 *            ({@link chooseAttack});
 *   resumes  graphql-ws clients opening at once, each resuming `events(after: "1")`;
 *   poison   a share of the deliveries malformed or hostile (bench/deliveries.ts `PoisonedStream`).
 * The attackers run in a worker thread, so the webhook generator's timers are not held up by their
 * parsing (they still share the machine's cores with the server). The webhooks go out on
 * `--concurrency` keep-alive connections opened before the warm-up, as an upstream that has been
 * delivering for a while holds them; a delivery that has to open one is counted apart, because a
 * busy server accepts one connection per turn of its event loop (libuv since 1.45), behind
 * whatever else is connecting (a reconnect storm's thousand sockets).
 */
import type { ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { DeliveryGenerator, PoisonedStream } from './deliveries.js';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.js';
import { failureKind, graphqlFullSpeed, postGraphQL, queryData, type GraphQLTarget } from './graphql-load.js';
import {
  DEFAULT_PG_ADMIN,
  MAIN_JS,
  ROOT,
  execNode,
  fmtErrors,
  fmtMs,
  fmtRate,
  freePort,
  freshDatabase,
  installCleanup,
  numberOption,
  parseCommandLine,
  probePostgres,
  redact,
  rss,
  startChild,
  stopChild,
  terminateBackends,
  waitIdle,
  waitReady,
  UsageError,
  webhookLoadOptions,
  type DbKind,
  type FreshDatabase,
  type WebhookLoadOptions,
} from './harness.js';
import { fixedRate, keepAliveAgent, openConnections, percentile, type PhaseResult, type Target } from './load.js';
import { SEED_FROM, SEED_TO, seedDatabase } from './seed.js';

const PHASES = ['alone', 'queries', 'resumes', 'poison'] as const;
type Phase = (typeof PHASES)[number];

/** The attack query's building blocks: one aliased field each, repeated as often as the limits allow. */
const ATTACK_UNITS = ['occupancy', 'visitStats', 'customers', 'eventStats'] as const;
type AttackUnit = (typeof ATTACK_UNITS)[number];

interface Options extends WebhookLoadOptions {
  readonly phases: readonly Phase[];
  readonly attackers: number;
  readonly inFlight: number;
  readonly attackUnits: readonly AttackUnit[];
  readonly resumes: number;
  readonly resumeTokens: number;
  readonly history: number;
  readonly poison: number;
  readonly settle: number;
  readonly maxServerRssMb: number;
  readonly cpuProf: boolean;
  readonly freshConnections: boolean;
  readonly pgAdminUrl: string;
}

const TOKEN_CLI_JS = path.join(ROOT, 'dist', 'src', 'cli', 'token.js');
/** The issue's target: under attack, the webhook ack p99 stays below this. */
const TARGET_P99_MS = 100;
/** Largest alias count tried when looking for the most the limits allow. */
const MAX_ALIASES = 65_536;
/** The search stops when the accepted and the refused alias counts are this close (ratio). */
const SEARCH_PRECISION = 1.05;
/** ... or after this long (on a busy machine, each accepted probe of thousands of aliases takes seconds). */
const SEARCH_BUDGET_MS = 20_000;
const STUDIOS = 3;
/** History of the calibration database: enough for every unit to have rows, little enough for big queries to run fast. */
const CALIBRATION_EVENTS = 300;
/** A server that has not drained this long after SIGTERM (e.g. blocked in a query) is killed. */
const SERVER_KILL_AFTER_MS = 5_000;

const USAGE = `usage: npm run bench:resilience -- [options]

  --db sqlite|postgres|both   databases to run (default both)
  --phases a,b,...            alone, queries, resumes, poison (default all four; alone always runs first)
  --seconds N                 length of each measured phase (default 10)
  --rate N                    webhook deliveries per second in every phase, open loop (default 500)
  --concurrency N             most webhook requests in flight (sockets) (default 64)
  --warmup N                  unmeasured seconds of webhooks at the rate first (default 2)
  --history N                 events seeded before the server starts, through the ingest code (default 50000)
  --attackers N               queries: partner tokens attacking at once (default 4)
  --in-flight N               queries: requests each attacker keeps in flight (default 4)
  --attack-query a,b,...      queries: the units to try, each aliased as often as the limits allow:
                              occupancy, visitStats, customers, eventStats (default all); the one whose
                              largest accepted query takes the server longest is the attack
  --resumes N                 resumes: graphql-ws clients opening at once, each subscribing to
                              events(after: "1") (default 1000)
  --resume-tokens N           resumes: app tokens the clients are spread over (default 4)
  --poison P                  poison: percent of the deliveries that are poison (default 2)
  --settle N                  most seconds to wait for the server to go idle after choosing the attack query (default 30)
  --max-server-rss-mb N       an attack is stopped early when the server's RSS exceeds this (default 4096)
  --fresh-connections         start each phase's webhooks with no connection open, as before
                              2026-12-06 (default: --concurrency keep-alive connections are
                              opened before the warm-up and used by it and the phase)
  --cpu-prof                  run each phase's server under node --cpu-prof and summarise its profile
                              (the main thread: where the event loop that acknowledges webhooks spends its time)

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}) is where a fresh database
gymgraph_bench_r_<random> is created and dropped afterwards; unreachable means skipped.
All traffic goes to 127.0.0.1; the server, the database and the worker are stopped at the end.`;

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      db: { type: 'string', default: 'both' },
      phases: { type: 'string', default: PHASES.join(',') },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '2' },
      history: { type: 'string', default: '50000' },
      attackers: { type: 'string', default: '4' },
      'in-flight': { type: 'string', default: '4' },
      'attack-query': { type: 'string', default: ATTACK_UNITS.join(',') },
      resumes: { type: 'string', default: '1000' },
      'resume-tokens': { type: 'string', default: '4' },
      poison: { type: 'string', default: '2' },
      settle: { type: 'string', default: '30' },
      'max-server-rss-mb': { type: 'string', default: '4096' },
      'cpu-prof': { type: 'boolean', default: false },
      'fresh-connections': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const list = <T extends string>(name: string, raw: string | undefined, known: readonly T[]): T[] => {
    const items = (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items)
      if (!(known as readonly string[]).includes(item))
        throw new UsageError(`--${name} takes ${known.join(', ')}; got ${JSON.stringify(item)}`);
    if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${known.join(', ')}`);
    return items as T[];
  };
  const phases = list('phases', values.phases, PHASES);
  return {
    ...webhookLoadOptions(values),
    // The ratio column divides by the alone phase's p99, so it always runs, first.
    phases: PHASES.filter((p) => p === 'alone' || phases.includes(p)),
    history: Math.floor(numberOption('history', values.history, 10, 10_000_000)),
    attackers: Math.floor(numberOption('attackers', values.attackers, 1, 100)),
    inFlight: Math.floor(numberOption('in-flight', values['in-flight'], 1, 100)),
    attackUnits: list('attack-query', values['attack-query'], ATTACK_UNITS),
    resumes: Math.floor(numberOption('resumes', values.resumes, 1, 10_000)),
    resumeTokens: Math.floor(numberOption('resume-tokens', values['resume-tokens'], 1, 100)),
    poison: numberOption('poison', values.poison, 0, 100),
    settle: numberOption('settle', values.settle, 0, 600),
    maxServerRssMb: numberOption('max-server-rss-mb', values['max-server-rss-mb'], 64, 1_000_000),
    cpuProf: values['cpu-prof'] ?? false,
    freshConnections: values['fresh-connections'] ?? false,
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
  };
}

// ---------------------------------------------------------------------------------------------
// The attack query: as many aliases of one unit as the server accepts.

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One alias of `unit`, numbered `i`. The arguments differ per alias (the range starts `i` seconds
 * later), so no alias can be answered from another's work within the request.
 */
function attackAlias(unit: AttackUnit, i: number, until: number): string {
  const range = `{from: "${iso(SEED_FROM + i * 1000)}", to: "${iso(until)}"}`;
  switch (unit) {
    case 'occupancy':
      return `a${i}: occupancy { total }`;
    case 'visitStats':
      return `a${i}: visitStats(range: ${range}, groupBy: DAY) { count }`;
    case 'customers':
      return `a${i}: customers(filter: {lastEventAt: ${range}}) { totalCount }`;
    case 'eventStats':
      return `a${i}: eventStats(range: ${range}, groupBy: TYPE) { count }`;
  }
}

function attackQuery(unit: AttackUnit, aliases: number, until: number): string {
  const parts: string[] = [];
  for (let i = 0; i < aliases; i++) parts.push(attackAlias(unit, i, until));
  return JSON.stringify({ query: `query Attack { ${parts.join(' ')} }` });
}

interface Probe {
  /** Not refused by a limit: a 4xx answer is a refusal; 2xx, 5xx and no answer within the timeout are not. */
  readonly accepted: boolean;
  /** `200`, or the status and the first error's code, e.g. `400 QUERY_TOO_COMPLEX`, `413`, `TIMEOUT`. */
  readonly answer: string;
  readonly ms: number;
  /** A refusal's `extensions.limit` and `extensions.measured`, when it has them. */
  readonly limit?: number;
  readonly measured?: number;
}

/** The most aliases of one unit the limits let through. */
interface UnitLimit {
  readonly unit: AttackUnit;
  readonly aliases: number;
  /** What refused one alias more (`none up to …` when nothing did). */
  readonly limitedBy: string;
}

interface AttackChoice extends UnitLimit {
  /** Server time of the full query, extrapolated from a probe of a fraction of its aliases. */
  readonly ms: number;
  readonly body: string;
}

/** Answers a query under a token; a 429 (the token's budget, not the query's size) is retried once under a fresh token. */
class Prober {
  private token: string | undefined;

  constructor(
    private readonly port: number,
    private readonly mintToken: () => Promise<string>,
  ) {}

  async probe(body: string): Promise<Probe> {
    this.token ??= await this.mintToken();
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const answer = await postGraphQL(
        false,
        { port: this.port, path: '/graphql', headers: { Authorization: `Bearer ${this.token}` } },
        body,
      );
      const ms = performance.now() - started;
      const code = /"code":"([A-Za-z_]+)"/.exec(answer.body)?.[1];
      if ((answer.status === 429 || code === 'RATE_LIMITED') && attempt === 0) {
        this.token = await this.mintToken();
        continue;
      }
      const timedOut = answer.status === 0 && answer.body.startsWith('TIMEOUT');
      const refused = (answer.status >= 400 && answer.status < 500) || (answer.status === 0 && !timedOut);
      const failed = answer.status !== 200 || answer.body.includes('"errors":[');
      const limit = Number(/"limit":(\d+)/.exec(answer.body)?.[1]);
      const measured = Number(/"measured":(\d+)/.exec(answer.body)?.[1]);
      return {
        accepted: !refused,
        ms,
        answer: !failed
          ? '200'
          : timedOut
            ? 'TIMEOUT'
            : `${answer.status || failureKind(answer.status, answer.body)}${code ? ` ${code}` : ''}`,
        ...(refused && Number.isFinite(limit) && Number.isFinite(measured) ? { limit, measured } : {}),
      };
    }
  }
}

/**
 * The most aliases of `unit` the server accepts, found by probing: the first probe is large; a
 * refusal that states its limit and the measured value (QUERY_TOO_COMPLEX does) gives the next
 * guess by proportion, then one alias more is tried; without numbers the gap is halved, to within
 * {@link SEARCH_PRECISION}. Run against a small database: an accepted probe is executed, and on
 * four weeks of data one can keep the server busy for a minute. A 4xx is a refusal (cost, depth,
 * body size, budget a fresh token cannot meet); anything else, including a timeout or a 5xx
 * (e.g. a statement timeout), means the limits let the query in.
 */
async function largestAccepted(prober: Prober, unit: AttackUnit, until: number): Promise<UnitLimit & { readonly line: string }> {
  const started = performance.now();
  const first = await prober.probe(attackQuery(unit, 1, until));
  if (!first.accepted)
    return { unit, aliases: 0, limitedBy: first.answer, line: `  ${unit}: refused even once (${first.answer}); not used` };
  let lo = 1;
  let hi = Infinity;
  let limitedBy = `none up to ${fmtRate(MAX_ALIASES)}`;
  let estimate: number | undefined;
  const choose = (): number | undefined => {
    if (hi === Infinity) return lo >= MAX_ALIASES ? undefined : lo === 1 ? 4_096 : Math.min(MAX_ALIASES, lo * 2);
    if (hi - lo <= 1) return undefined;
    if (estimate !== undefined && estimate > lo && estimate < hi) return estimate;
    if (estimate === lo) return lo + 1;
    return hi / lo <= SEARCH_PRECISION ? undefined : Math.floor((lo + hi) / 2);
  };
  let stopped = false;
  for (let probes = 0, n = choose(); n !== undefined && probes < 40; probes++, n = choose()) {
    if (performance.now() - started > SEARCH_BUDGET_MS && hi !== Infinity) {
      stopped = true;
      break;
    }
    const p = await prober.probe(attackQuery(unit, n, until));
    if (p.accepted) {
      lo = n;
      if (estimate !== lo) estimate = undefined;
      continue;
    }
    hi = n;
    limitedBy = p.answer;
    // A refusal without a real measure (e.g. the node count's limit + 1) gives no useful proportion.
    const guess =
      p.limit !== undefined && p.measured !== undefined && p.measured > p.limit ? Math.floor((n * p.limit) / p.measured) : undefined;
    estimate = guess !== undefined && guess < n - 1 ? guess : undefined;
  }
  const line =
    `  ${unit}: ${fmtRate(lo)} aliases accepted (${hi === Infinity ? limitedBy : `${fmtRate(hi)} refused: ${limitedBy}`}); ` +
    `search ${((performance.now() - started) / 1000).toFixed(1)} s${stopped ? ` (stopped at its time limit, within ${(((hi - lo) / lo) * 100).toFixed(0)} %)` : ''}`;
  return { unit, aliases: lo, limitedBy, line };
}

/** Probes of the full attack take too long on real data: a fraction of the aliases is timed and scaled up. */
const TIMING_FRACTION = 32;

/**
 * Of the units' largest accepted queries, the one that costs the server most on the seeded data:
 * each is timed with 1/{@link TIMING_FRACTION} of its aliases and scaled up.
 */
async function chooseAttack(
  prober: Prober,
  limits: readonly UnitLimit[],
  until: number,
): Promise<{ choice: AttackChoice | undefined; lines: string[] }> {
  const lines: string[] = [];
  let choice: AttackChoice | undefined;
  for (const limit of limits) {
    if (limit.aliases === 0) continue;
    const part = Math.max(1, Math.floor(limit.aliases / TIMING_FRACTION));
    const p = await prober.probe(attackQuery(limit.unit, part, until));
    const ms = (p.ms * limit.aliases) / part;
    lines.push(
      `  ${limit.unit}: ${fmtRate(part)} of ${fmtRate(limit.aliases)} aliases took ${fmtMs(p.ms)} ms (${p.answer}): the whole ~${fmtRate(ms)} ms`,
    );
    if (!choice || ms > choice.ms) choice = { ...limit, ms, body: attackQuery(limit.unit, limit.aliases, until) };
  }
  return { choice, lines };
}

// ---------------------------------------------------------------------------------------------
// The attackers, in a worker thread.

type AttackSpec =
  | {
      readonly kind: 'queries';
      readonly port: number;
      readonly tokens: readonly string[];
      readonly inFlight: number;
      readonly body: string;
      readonly seconds: number;
    }
  | {
      readonly kind: 'resumes';
      readonly port: number;
      readonly tokens: readonly string[];
      readonly clients: number;
      readonly targetSeq: number;
      readonly seconds: number;
    };

interface ResumeResult {
  readonly clients: number;
  /** Clients whose connection was acknowledged. */
  readonly acked: number;
  /** Clients that received every event up to the log's end at the start of the phase. */
  readonly caughtUp: number;
  readonly events: number;
  readonly seconds: number;
  /** From the start of the phase, over the clients concerned. */
  readonly ackP99: number;
  readonly firstEventP50: number;
  readonly firstEventP99: number;
  readonly caughtUpP50: number;
  readonly caughtUpP99: number;
  /** Close codes of sockets the server closed, subscription errors, by kind. */
  readonly problems: Readonly<Record<string, number>>;
  readonly stoppedEarly: boolean;
}

type AttackResult =
  { readonly kind: 'queries'; readonly result: PhaseResult } | { readonly kind: 'resumes'; readonly result: ResumeResult };

type ToWorker = { readonly type: 'go' } | { readonly type: 'stop' };
type FromWorker = { readonly type: 'ready' } | { readonly type: 'done'; readonly result: AttackResult };

/** A running attack: `go()` starts it, `stop()` ends it early; `result` settles when it is over. */
interface Attack {
  readonly ready: Promise<void>;
  readonly result: Promise<AttackResult>;
  go(): void;
  stop(): void;
}

function startAttack(spec: AttackSpec): Attack {
  const worker = new Worker(__filename, { workerData: spec });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<AttackResult>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') onReady();
      else resolve(message.result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the ${spec.kind} worker exited (${code}) without a result`)));
  });
  // A worker that fails before it is ready must not leave `ready` waiting.
  result.catch(() => onReady());
  return {
    ready,
    result: result.finally(() => void worker.terminate()),
    go: () => worker.postMessage({ type: 'go' } satisfies ToWorker),
    stop: () => worker.postMessage({ type: 'stop' } satisfies ToWorker),
  };
}

async function queriesAttack(spec: Extract<AttackSpec, { kind: 'queries' }>): Promise<PhaseResult> {
  let next = 0;
  // Each request goes out under the next token in turn: `tokens × inFlight` in flight in all.
  return graphqlFullSpeed({ port: spec.port, path: '/graphql', headers: {} }, () => spec.body, {
    seconds: spec.seconds,
    concurrency: spec.tokens.length * spec.inFlight,
    headers: () => ({ Authorization: `Bearer ${spec.tokens[next++ % spec.tokens.length]}` }),
  });
}

const RESUME_QUERY = 'subscription Resume($after: String) { events(after: $after) { seq type entityId occurredAt } }';

async function resumesAttack(spec: Extract<AttackSpec, { kind: 'resumes' }>, stopped: Promise<void>): Promise<ResumeResult> {
  const start = performance.now();
  const acks: number[] = [];
  const firsts: number[] = [];
  const caughtUp: number[] = [];
  const problems: Record<string, number> = {};
  const problem = (kind: string) => (problems[kind] = (problems[kind] ?? 0) + 1);
  let events = 0;
  let pending = spec.clients;
  let allCaughtUp!: () => void;
  const everyoneCaughtUp = new Promise<void>((resolve) => (allCaughtUp = resolve));
  const clients: Client[] = [];
  for (let i = 0; i < spec.clients; i++) {
    let first = true;
    let done = false;
    const client = createClient({
      url: `ws://127.0.0.1:${spec.port}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined,
      connectionParams: { authorization: `Bearer ${spec.tokens[i % spec.tokens.length]}` },
      on: {
        connected: () => acks.push(performance.now() - start),
        closed: (event) => {
          const { code, reason } = event as { code?: number; reason?: string };
          // 1000: we closed it at the end of the phase.
          if (code !== 1000 && !done) problem(`closed ${code ?? '?'}${reason ? ` "${String(reason).slice(0, 50)}"` : ''}`);
        },
      },
    });
    clients.push(client);
    client.subscribe<{ events: { seq: string } }>(
      { query: RESUME_QUERY, variables: { after: '1' } },
      {
        next: (result) => {
          const at = performance.now() - start;
          if (result.errors?.length) {
            problem(
              `error ${String((result.errors[0]?.extensions as { code?: unknown } | undefined)?.code ?? result.errors[0]?.message).slice(0, 60)}`,
            );
            return;
          }
          events += 1;
          if (first) {
            first = false;
            firsts.push(at);
          }
          if (!done && Number(result.data?.events.seq) >= spec.targetSeq) {
            done = true;
            caughtUp.push(at);
            if (--pending === 0) allCaughtUp();
          }
        },
        error: (error) => {
          // A close reaches the sink as its CloseEvent: counted once, by the `closed` listener above.
          if (done || (error as { code?: unknown }).code !== undefined) return;
          const errors = Array.isArray(error) ? (error as { extensions?: { code?: string }; message?: string }[]) : undefined;
          problem(
            errors
              ? `error ${errors[0]?.extensions?.code ?? errors[0]?.message?.slice(0, 60)}`
              : `error ${String((error as Error).message ?? error).slice(0, 60)}`,
          );
        },
        complete: () => undefined,
      },
    );
  }
  let stoppedEarly = false;
  const stop = stopped.then(() => (stoppedEarly = true));
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, spec.seconds * 1000));
  await Promise.race([deadline, everyoneCaughtUp, stop]);
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(clients.map((client) => client.dispose()));
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  const ackSorted = sorted(acks);
  const firstSorted = sorted(firsts);
  const doneSorted = sorted(caughtUp);
  return {
    clients: spec.clients,
    acked: acks.length,
    caughtUp: caughtUp.length,
    events,
    seconds,
    ackP99: percentile(ackSorted, 0.99),
    firstEventP50: percentile(firstSorted, 0.5),
    firstEventP99: percentile(firstSorted, 0.99),
    caughtUpP50: percentile(doneSorted, 0.5),
    caughtUpP99: percentile(doneSorted, 0.99),
    problems,
    stoppedEarly,
  };
}

/** The worker's side: waits for `go`, runs the attack, posts the result. */
async function runWorker(spec: AttackSpec): Promise<void> {
  const port = parentPort!;
  let onStop!: () => void;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  const go = new Promise<void>((resolve) => {
    port.on('message', (message: ToWorker) => {
      if (message.type === 'go') resolve();
      else onStop();
    });
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
  await go;
  const result: AttackResult =
    spec.kind === 'queries'
      ? { kind: 'queries', result: await queriesAttack(spec) }
      : { kind: 'resumes', result: await resumesAttack(spec, stopped) };
  port.postMessage({ type: 'done', result } satisfies FromWorker);
  port.close();
}

// ---------------------------------------------------------------------------------------------
// One database: seed, start, calibrate, phases.

interface Row {
  readonly db: DbKind;
  readonly phase: Phase;
  /** Webhook acks: for the poison phase, the good deliveries only. */
  readonly webhooks: PhaseResult;
  readonly attack: AttackResult | undefined;
  readonly serverRssMb: number;
  /** The attack, in words (table cell). */
  readonly attackCell: string;
}

/** Samples the server's RSS every 250 ms; calls `onLimit` once when it exceeds `limitMb`. */
function watchRss(pid: number | undefined, limitMb: number, onLimit: () => void): () => number {
  let peak = 0;
  let fired = false;
  const sample = () => {
    try {
      peak = Math.max(peak, rss(pid) / 2 ** 20);
    } catch {
      return; // exited
    }
    if (peak > limitMb && !fired) {
      fired = true;
      onLimit();
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return () => {
    clearInterval(timer);
    sample();
    return peak;
  };
}

const perSecond = (n: number, seconds: number) => (seconds > 0 ? n / seconds : 0);

function queriesCell(r: PhaseResult, choice: AttackChoice, options: Options): string {
  const kinds = Object.entries(r.errorKinds);
  const count = (match: (kind: string) => boolean) => kinds.filter(([kind]) => match(kind)).reduce((n, [, k]) => n + k, 0);
  const isLimited = (kind: string) => kind === '429' || kind === 'graphql RATE_LIMITED';
  const isRefused = (kind: string) => !isLimited(kind) && /^4\d\d$/.test(kind);
  const limited = count(isLimited);
  const refused = count(isRefused);
  const failed = r.errors - limited - refused;
  const rate = (n: number) => `${perSecond(n, r.seconds).toFixed(1)}/s`;
  const other = kinds.filter(([kind]) => !isLimited(kind));
  return (
    `${options.attackers}×${options.inFlight} in flight, ${fmtRate(choice.aliases)}× ${choice.unit}: ` +
    `200 ${rate(r.ok)} (p50 ${fmtMs(r.okP50)}, p99 ${fmtMs(r.okP99)} ms), 429 ${rate(limited)}, refused ${rate(refused)}, failed ${rate(failed)}` +
    (other.length ? ` (${other.map(([k, n]) => `${k}×${n}`).join(', ')})` : '')
  );
}

function resumesCell(r: ResumeResult): string {
  const problems = Object.entries(r.problems);
  return (
    `${fmtRate(r.clients)} clients: ${fmtRate(r.acked)} acked (p99 ${fmtMs(r.ackP99)} ms), ${fmtRate(r.caughtUp)} caught up` +
    (r.caughtUp ? ` (p50 ${fmtMs(r.caughtUpP50 / 1000)}, p99 ${fmtMs(r.caughtUpP99 / 1000)} s)` : '') +
    `, first event p99 ${fmtMs(r.firstEventP99)} ms, ${fmtRate(perSecond(r.events, r.seconds))} events/s replayed` +
    (problems.length ? `; ${problems.map(([k, n]) => `${k}×${n}`).join(', ')}` : '') +
    (r.stoppedEarly ? '; STOPPED EARLY (server RSS limit)' : '')
  );
}

function poisonCell(r: PhaseResult): string {
  const kinds = Object.entries(r.tagged).sort(([a], [b]) => a.localeCompare(b));
  if (kinds.length === 0) return 'no poison sent';
  return kinds
    .map(([tag, t]) => {
      const answers = { ...(t.ok ? { 200: t.ok } : {}), ...t.errorKinds };
      return `${tag.replace(/^poison /, '')} ${Object.entries(answers)
        .map(([status, n]) => `${status}×${n}`)
        .join(' ')}`;
    })
    .join('; ');
}

async function mintToken(databaseUrl: string, role: 'partner' | 'app', name: string): Promise<string> {
  const out = await execNode(TOKEN_CLI_JS, ['create', '--role', role, '--studios', 'all', '--name', name], { DATABASE_URL: databaseUrl });
  // The CLI prints the token alone on a line (`ggt_…`); failing that, its last line.
  const lines = out
    .trim()
    .split('\n')
    .map((line) => line.trim());
  const token = lines.find((line) => /^ggt_\S+$/.test(line)) ?? lines.pop();
  if (!token) throw new Error(`token create printed no token: ${out}`);
  return token;
}

/** The highest `seq` in the log, read through the API; when that fails, no client is ever counted as caught up. */
async function lastSeq(target: GraphQLTarget): Promise<number> {
  try {
    const data = await queryData<{ events: { nodes: { seq: string }[] } }>(target, {
      query: '{ events(direction: DESC, first: 1) { nodes { seq } } }',
    });
    return Number(data.events.nodes[0]?.seq ?? 0);
  } catch (error) {
    console.log(`  could not read the end of the log (${(error as Error).message}): "caught up" will not be counted`);
    return Number.MAX_SAFE_INTEGER;
  }
}

function describePhase(label: string, r: PhaseResult): string {
  const fresh = r.newConnections;
  return (
    `  ${label}: ${fmtRate(r.eventsPerSecond)} acks/s over ${r.seconds.toFixed(1)} s, ack p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, max ${fmtMs(r.max)} ms; ` +
    `sent ${r.sent}, 200s ${r.ok}, errors ${fmtErrors(r)}; ` +
    `${fresh.count} on connections opened during the phase${fresh.count ? ` (p99 ${fmtMs(fresh.p99)} ms, max ${fmtMs(fresh.max)} ms)` : ''}`
  );
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  /** The bench's own admin token (ADMIN_TOKEN), for reading the log's end. */
  readonly admin: GraphQLTarget;
  /** SIGTERM, SIGKILL after 5 s; on PostgreSQL, ends the backends it left running. Says how it went. */
  stop(): Promise<string>;
}

async function startServer(db: FreshDatabase, label: string, options: Options): Promise<Server> {
  const port = await freePort();
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  // The main thread's profile only (worker threads write none unless they opt in themselves).
  const profileDir = options.cpuProf ? fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-bench-prof-')) : undefined;
  const child = startChild(label, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [], MAIN_JS, {
    DATABASE_URL: db.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  });
  const stop = async () => {
    const started = performance.now();
    const code = await stopChild(child, SERVER_KILL_AFTER_MS);
    const how =
      child.signalCode === 'SIGKILL'
        ? `killed after ${SERVER_KILL_AFTER_MS / 1000} s`
        : `exited ${code} after ${((performance.now() - started) / 1000).toFixed(1)} s`;
    for (const file of profileDir ? fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : []) {
      console.log(`\n  CPU profile of ${label}: ${path.join(profileDir!, file)}\n`);
      console.log(formatProfileSummary(summariseProfile(path.join(profileDir!, file), 25)));
    }
    if (db.kind !== 'postgres') return how;
    const ended = await terminateBackends(options.pgAdminUrl, db.url).catch(() => 0);
    return ended > 0 ? `${how}; ${ended} PostgreSQL backend(s) it left running ended` : how;
  };
  try {
    await waitReady(child, port, label);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, port, admin: { port, path: '/graphql', headers: { Authorization: `Bearer ${adminToken}` } }, stop };
}

/**
 * The most aliases of each unit the limits let through, found on a database of its own with the
 * same studios and a little history (so accepted probes are cheap to execute).
 */
async function calibrate(kind: DbKind, options: Options, until: number): Promise<UnitLimit[]> {
  const db = await freshDatabase(kind, options.pgAdminUrl, 'gymgraph_bench_r');
  try {
    await seedDatabase(db.url, { customers: 20, events: CALIBRATION_EVENTS, studios: STUDIOS });
    const server = await startServer(db, `calibration ${kind}`, options);
    try {
      console.log(`  the most aliases each unit may have (partner token, a database with ${CALIBRATION_EVENTS} events):`);
      let minted = 0;
      const prober = new Prober(server.port, () => mintToken(db.url, 'partner', `bench calibration ${++minted}`));
      const limits: UnitLimit[] = [];
      for (const unit of options.attackUnits) {
        const limit = await largestAccepted(prober, unit, until);
        console.log(limit.line);
        limits.push(limit);
      }
      return limits;
    } finally {
      await server.stop();
    }
  } finally {
    await db.drop().catch((error: unknown) => console.log(`  could not drop the calibration database: ${(error as Error).message}`));
  }
}

async function runDatabase(kind: DbKind, options: Options): Promise<Row[]> {
  console.log(`\n== ${kind}`);
  // The end of the attack's ranges: a week after now, so the live webhooks fall inside them too.
  const until = Date.now() + 7 * 86_400_000;
  const limits = options.phases.includes('queries') ? await calibrate(kind, options, until) : [];
  const db = await freshDatabase(kind, options.pgAdminUrl, 'gymgraph_bench_r');
  const rows: Row[] = [];
  try {
    console.log(`  seeding ${fmtRate(options.history)} events of history through the ingestor (in-process) ...`);
    const seeded = await seedDatabase(db.url, {
      customers: Math.max(10, Math.round(options.history / 10)),
      events: options.history,
      studios: STUDIOS,
    });
    console.log(`  seeded in ${seeded.seconds.toFixed(1)} s; ${STUDIOS} studios of one operator`);
    let minted = 0;
    const mint = (role: 'partner' | 'app') => mintToken(db.url, role, `bench ${role} ${++minted}`);
    const attackers: string[] = [];
    if (options.phases.includes('queries')) for (let i = 0; i < options.attackers; i++) attackers.push(await mint('partner'));
    const resumers: string[] = [];
    if (options.phases.includes('resumes')) for (let i = 0; i < options.resumeTokens; i++) resumers.push(await mint('app'));
    console.log(
      `  minted ${attackers.length} partner token(s) for the attack and ${resumers.length} app token(s) for the resumes with the token CLI`,
    );

    const generator = new DeliveryGenerator({ customers: 20_000 });
    let choice: AttackChoice | undefined;
    for (const phase of options.phases) {
      // A server per phase: what an attack leaves behind (queries still running, sockets, memory)
      // must not weigh on the next phase.
      const label = `ours ${kind} ${phase}`;
      const server = await startServer(db, label, options);
      const { child, port } = server;
      let agent: http.Agent | undefined;
      try {
        if (phase === 'queries') {
          console.log('  the attack: the most expensive of the largest accepted queries on this data (partner token):');
          const chosen = await chooseAttack(new Prober(port, () => mint('partner')), limits, until);
          for (const line of chosen.lines) console.log(line);
          choice = chosen.choice;
          if (!choice) {
            console.log('  no attack query was accepted: the queries phase is skipped');
            continue;
          }
          console.log(
            `  attack: ${fmtRate(choice.aliases)} aliases of ${choice.unit} (${(choice.body.length / 1024).toFixed(0)} KiB), e.g. ${attackAlias(choice.unit, 1, until)}`,
          );
          await waitIdle(child, options.settle * 1000);
        }
        const plain: Target = { port, keys: seeded.webhookKeys, nextBody: () => generator.nextBody() };
        // The upstream as it is after delivering for a while: its connections open. Without them, the
        // phase's first deliveries open connections at the moment the attack begins, and a new
        // connection waits for the server to accept it, one per turn of its event loop (a reconnect
        // storm's thousand connects come first): that measures the accept queue, not the webhook.
        if (!options.freshConnections) {
          agent = keepAliveAgent(options.concurrency);
          const open = await openConnections(agent, port, options.concurrency);
          if (open < options.concurrency) console.log(`  only ${open} of ${options.concurrency} webhook connections could be opened`);
        }
        const via = agent ? { agent } : {};
        if (options.warmup > 0) {
          const warm = await fixedRate(plain, { rate: options.rate, seconds: options.warmup, concurrency: options.concurrency, ...via });
          if (warm.errors) console.log(`  warm-up: ${warm.ok}/${warm.sent} acknowledged, errors ${fmtErrors(warm)}`);
        }
        let spec: AttackSpec | undefined;
        if (phase === 'queries')
          spec = { kind: 'queries', port, tokens: attackers, inFlight: options.inFlight, body: choice!.body, seconds: options.seconds };
        if (phase === 'resumes')
          spec = {
            kind: 'resumes',
            port,
            tokens: resumers,
            clients: options.resumes,
            targetSeq: await lastSeq(server.admin),
            seconds: options.seconds,
          };
        const stream = phase === 'poison' ? new PoisonedStream(generator, options.poison / 100) : undefined;
        const target: Target = stream ? { port, keys: seeded.webhookKeys, nextBody: () => stream.next() } : plain;
        const attack = spec ? startAttack(spec) : undefined;
        await attack?.ready;
        const stopRss = watchRss(child.pid, options.maxServerRssMb, () => {
          console.log(`  server RSS above ${options.maxServerRssMb} MB: stopping the attack`);
          attack?.stop();
        });
        attack?.go();
        const [webhooks, attackResult] = await Promise.all([
          fixedRate(target, { rate: options.rate, seconds: options.seconds, concurrency: options.concurrency, ...via }),
          attack?.result,
        ]);
        const serverRssMb = stopRss();
        const alive = child.exitCode === null && child.signalCode === null;
        const attackCell =
          (attackResult?.kind === 'queries'
            ? queriesCell(attackResult.result, choice!, options)
            : attackResult?.kind === 'resumes'
              ? resumesCell(attackResult.result)
              : phase === 'poison'
                ? `${options.poison} % poison: ${poisonCell(webhooks)}`
                : '–') + (alive ? '' : `; SERVER EXITED (${child.exitCode ?? child.signalCode})`);
        console.log(describePhase(phase, webhooks));
        console.log(`    attack: ${attackCell}; server RSS max ${serverRssMb.toFixed(0)} MB`);
        for (const sample of webhooks.errorSamples) console.log(`    webhook error sample: ${sample}`);
        if (attackResult?.kind === 'queries')
          for (const sample of attackResult.result.errorSamples) console.log(`    attack error sample: ${sample.slice(0, 200)}`);
        for (const [tag, t] of Object.entries(webhooks.tagged))
          for (const sample of t.errorSamples.slice(0, 1)) console.log(`    ${tag} answer: ${sample.slice(0, 200)}`);
        rows.push({ db: kind, phase, webhooks, attack: attackResult, serverRssMb, attackCell });
      } finally {
        agent?.destroy();
        console.log(`  server ${await server.stop()}`);
      }
    }
    return rows;
  } finally {
    await db.drop().catch((error: unknown) => console.log(`  could not drop the bench database: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const share200 = (r: PhaseResult) => (r.sent > 0 ? `${((r.ok / r.sent) * 100).toFixed(1)} %` : '-');

function ratio(row: Row, rows: readonly Row[]): string {
  const alone = rows.find((r) => r.db === row.db && r.phase === 'alone')?.webhooks.p99;
  return alone && alone > 0 ? `${(row.webhooks.p99 / alone).toFixed(1)}×` : '-';
}

/** Deliveries that opened a connection during the phase, and their p99. */
function newConnectionsCell(r: PhaseResult): string {
  const fresh = r.newConnections;
  return fresh.count === 0 ? '0' : `${fresh.count} (p99 ${fmtMs(fresh.p99)} ms)`;
}

function table(rows: readonly Row[], withDb: boolean): string {
  const head = withDb ? '| db | phase ' : '| phase ';
  return [
    `${head}| ack p50 ms | ack p99 ms | max ms | % 200 | p99 / alone | new connections | server RSS max MB | attack |`,
    `${withDb ? '|---|---' : '|---'}|---:|---:|---:|---:|---:|---:|---:|---|`,
    ...rows.map(
      (r) =>
        `${withDb ? `| ${r.db} | ${r.phase} ` : `| ${r.phase} `}| ${fmtMs(r.webhooks.p50)} | ${fmtMs(r.webhooks.p99)} | ${fmtMs(r.webhooks.max)} | ` +
        `${share200(r.webhooks)} | ${ratio(r, rows)} | ${newConnectionsCell(r.webhooks)} | ${r.serverRssMb.toFixed(0)} | ${r.attackCell} |`,
    ),
  ].join('\n');
}

function verdicts(rows: readonly Row[]): string[] {
  return rows
    .filter((r) => r.phase !== 'alone')
    .map(
      (r) =>
        `- ${r.db}, ${r.phase}: ack p99 ${fmtMs(r.webhooks.p99)} ms, ${share200(r.webhooks)} answered 200 ` +
        `(target p99 < ${TARGET_P99_MS} ms under attack: ${r.webhooks.p99 < TARGET_P99_MS && r.webhooks.ok === r.webhooks.sent ? 'met' : 'NOT met'})`,
    );
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseCommandLine(parseOptions, USAGE);
  if (!options) return;
  for (const file of [MAIN_JS, TOKEN_CLI_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: build first (npx tsc -p .)`);
  }
  const cpus = os.cpus();
  console.log(
    `gymgraph resilience bench: ${new Date().toISOString()}, node ${process.version}, ${cpus.length} CPU(s) ${cpus[0]?.model ?? ''}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`.trim(),
  );
  console.log(
    `phases ${options.phases.join(', ')}: ${options.seconds} s each, webhooks at ${options.rate}/s (open loop, at most ${options.concurrency} in flight) throughout; ` +
      `history ${fmtRate(options.history)} events (${iso(SEED_FROM).slice(0, 10)} .. ${iso(SEED_TO).slice(0, 10)})`,
  );

  const rows: Row[] = [];
  for (const kind of options.dbs) {
    if (kind === 'postgres') {
      const problem = await probePostgres(options.pgAdminUrl);
      if (problem) {
        console.log(`\n== PostgreSQL not reachable at ${redact(options.pgAdminUrl)} (${problem}): PostgreSQL SKIPPED (set BENCH_PG_URL)`);
        continue;
      }
    }
    const dbRows = await runDatabase(kind, options);
    rows.push(...dbRows);
    console.log(`\n### ${kind}\n\n${table(dbRows, false)}\n`);
  }
  console.log(`\n## Results\n\n${table(rows, true)}\n`);
  const lines = verdicts(rows);
  if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
} else {
  // A failure rejects here and ends the worker with an 'error' event, which the main thread reports.
  void runWorker(workerData as AttackSpec);
}

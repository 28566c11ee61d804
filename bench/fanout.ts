/**
 * Fan-out benchmark: N idle subscribers of `subscription { events { seq type entityId occurredAt } }`
 * on our server (a child process), then a stream of webhooks; per event, the time from the
 * webhook's 200 to the LAST subscriber's receipt (the aim's measure), the same from the moment the
 * webhook was sent (which also counts time a saturated server keeps it waiting before answering),
 * and the server's memory per idle subscription.
 * The same N sockets and the same measurement against bench/ws-baseline-server.ts (a bare `ws`
 * broadcast), in the same run. See bench/README.md ("Fan-out benchmark").
 *
 *   node dist/bench/fanout.js [--subscribers N] [--also N[,N]] [--events N] [--rate N]
 *     [--db sqlite|postgres] [--only ours|baseline] [--batch N] [--cpu-prof] [--scrape N]
 *   node dist/bench/fanout.js --members N [--events N] [--rate N] [--idle-events N] [--upkeep-seconds N] [--warmup N] [--db ...] [--only ...] [--batch N] [--apart] [--timings] [--cpu-prof] [--alloc-prof] [--jitter F] [--server-v8=FLAGS]
 *
 * `--members N`: member apps instead of a broadcast: N members, each with its own token and one
 * socket subscribed to its own check-ins and class booking; each webhook touches one member. Next
 * to a bare `ws` server routing by a Map; server CPU per webhook and heap per subscription. The two
 * streams run at the same time, interleaved, each server measured by a process of its own
 * (runMembersTogether), unless `--apart`.
 *
 * `--scrape N` also times N scrapes of `GET /metrics` on our server while the subscribers are open
 * (after the measured stream): what Prometheus costs the instance it watches.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { formatAllocations, formatProfileSummary, summariseAllocations, summariseProfile } from './cpu-profile-summary.js';
import type { TimingsSummary } from './delivery-timings.js';
import {
  DEFAULT_PG_ADMIN,
  MAIN_JS,
  ROOT,
  SERVICE_NODE_OPTIONS,
  fmtMs,
  fmtRate,
  freePort,
  freshDatabase,
  getJson as getJsonFrom,
  installCleanup,
  probePostgres,
  redact,
  rss,
  sampleResources,
  startChild,
  stopChild,
  waitIdle,
  waitReady,
  type DbKind,
  type FreshDatabase,
  machineTimes,
  monotonicMs,
  ANSWERED_AT_HEADER,
  numberOption,
  parseCommandLine,
  post,
  postAgent,
  registerStudio,
  STUDIO_CLI_JS,
  UsageError,
} from './harness.js';
import { createDataSource } from '../ormconfig.js';
import { loadDatabaseConfig } from '../src/config.js';
import { ApiToken } from '../src/domains/access/api-token.entity.js';
import { Studio } from '../src/domains/studios/studio.entity.js';
import { mulberry32 } from './deliveries.js';
import { percentile } from './load.js';

type ServerKind = 'ours' | 'baseline';

interface Options {
  readonly counts: readonly number[];
  readonly servers: readonly ServerKind[];
  readonly db: DbKind;
  readonly events: number;
  readonly rate: number;
  readonly batch: number;
  readonly cpuProf: boolean;
  /** `--members --alloc-prof`: a sampling heap profile of our server over the measured stream. */
  readonly allocProf: boolean;
  readonly pgAdminUrl: string;
  /** Scrapes of /metrics timed with the subscribers open (0: none). */
  readonly scrapes: number;
  /** `--members`: member apps instead of a broadcast (undefined: the broadcast runs). */
  readonly members: number | undefined;
  /** `--members`: webhooks per CPU measurement with nobody subscribed and with nobody matching. */
  readonly idleEvents: number;
  /** `--members`: seconds over which the CPU without webhooks is read, empty and with the members connected. */
  readonly upkeepSeconds: number;
  /** `--members`: print where our server spent each delivery's time (bench/delivery-timings.ts). */
  readonly timings: boolean;
  /** `--members --apart`: the two servers one after the other, instead of their streams interleaved. */
  readonly apart: boolean;
  /**
   * `--members`: webhooks sent at {@link WARMUP_RATE} before each measurement, not measured: about
   * nobody before the CPU figure with nobody subscribed, about members before the measured stream.
   */
  readonly warmup: number;
  /** `--members --server-v8`: V8 flags for both servers, on top of SERVICE_NODE_OPTIONS (for A/B runs of a flag). */
  readonly serverV8: readonly string[];
  /** `--members --jitter`: each gap of the measured streams is the period times 1 ± this (0: a metronome). */
  readonly jitter: number;
}

interface Row {
  readonly server: ServerKind;
  readonly subscribers: number;
  readonly events: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** From the moment the webhook was sent (time queued before the 200 included). */
  readonly sentP50: number;
  readonly sentP99: number;
  readonly eventsPerSecond: number;
  readonly kbPerSubscription: number;
  readonly incomplete: number;
  readonly closed: number;
  /** `--scrape`: the scrapes' durations in ms, and the size of one in bytes. */
  readonly scrape?:
    { readonly p50: number; readonly p99: number; readonly max: number; readonly bytes: number; readonly count: number } | undefined;
}

const BASELINE_JS = path.join(__dirname, 'ws-baseline-server.js');
/** For the GETs (stats, scrapes); the POSTs go through harness.ts's post. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const ADMIN_TOKEN = `bench-admin-${randomBytes(16).toString('hex')}`;
const QUERY = 'subscription { events { seq type entityId occurredAt } }';
/** After the last webhook's 200, how long the last deliveries may take before the run gives up on them. */
const DRAIN_TIMEOUT_MS = 30_000;
/** From the issue: bare ws reaches the last of 10,000 sockets in ~145 ms p99; the aim is p99 within 2x, <= 20 KB per idle subscription. */
const AIM_P99_FACTOR = 2;
/**
 * `--members`: warm-up webhooks, and their rate (per second). V8 optimises a function once it has
 * run enough, whatever the rate: at 20 webhooks/s, our server's webhook and delivery paths were
 * still being optimised through a 1000-event stream (`node --trace-opt`: 155 TurboFan compilations
 * in it, ~3.3 ms each on a helper thread), and a member's client woken on the CPU such a compilation
 * held waited for it (bench/README.md, "Warmed up"). After 2,000 warm-up webhooks of each kind, 46
 * compilations still fell in the stream (among them pg's row parser, our frame writer and
 * serialiser); after 6,000, 9 (bench/README.md, fourteenth session).
 */
const DEFAULT_WARMUP = 6000;
/** Default seconds without webhooks over which the upkeep of the open sockets (pings, token checks) is measured. */
const UPKEEP_SECONDS = 5;
const WARMUP_RATE = 100;
/**
 * `--members`: the measured streams' webhooks come a period apart ± this share of it, not on a
 * metronome. A period of 50 ms divides the periods of timers on either side: our server's
 * keep-alive tick (25 ms) and event-loop monitor (10 ms), Redis's cron (100 ms), the VM agent's
 * 1 s wake-up. On a metronome each webhook meets them at nearly the same moment of its delivery
 * for much of a run: often or never, depending on where the stream started. Webhooks do not arrive
 * on a metronome; with the jitter the timers fall on a delivery as often as their share of the time.
 * The warm-ups keep an even pace.
 */
const DEFAULT_JITTER = 0.2;
/** Seeds the jitter: both lanes send on the same schedule, half a period apart. */
const JITTER_SEED = 20;
/** Interleaved lanes: after their member warm-ups' last send, the time the lanes are given to see every warm-up event delivered and their server idle before the streams start. */
const WARMUP_SETTLE_MS = 10_000;
/** With the lanes: how long before the agreed start the stream's CPU figure is first read (a stats request). */
const START_MARGIN_MS = 200;
const AIM_KB = 20;

const USAGE = `usage: node dist/bench/fanout.js [options]

  --subscribers N        subscribers (sockets) of the headline run (default 10000)
  --also N[,N...]        further runs with these many subscribers (default 1000; "" for none)
  --events N             measured webhooks per run (default 200)
  --rate N               webhooks per second (default 20)
  --db sqlite|postgres   our server's database (default sqlite)
  --only ours|baseline   one server only (default both)
  --batch N              sockets opened at a time (default 500)
  --cpu-prof             run our server under node --cpu-prof and summarise the profile
                         (--members: a profile of the measured stream alone, and one of the
                         members' idle upkeep window; the profiler's cost inflates both figures)
  --scrape N             also time N scrapes of GET /metrics with the subscribers open (default 0)
  --members N            member apps instead: N members, each with its own token, subscribed to its
                         own check-ins and class booking; each webhook touches one member
                         (--subscribers, --also and --scrape do not apply)
  --idle-events N        --members: webhooks per CPU measurement with nobody subscribed and with
                         nobody matching (default: as many as --events, so that each figure spans
                         as many webhooks, and garbage collections, as the stream's)
  --upkeep-seconds N     --members: seconds without webhooks over which the CPU of the open
                         sockets' upkeep is measured, empty and with the members connected
                         (default ${UPKEEP_SECONDS}; with --cpu-prof, the second is profiled too)
  --alloc-prof           --members: a sampling heap profile of our server over the measured stream
                         (every allocation, collected or not): bytes per webhook and where; the
                         sampling costs CPU, so this run's CPU and latency figures are inflated
  --warmup N             --members: webhooks sent at ${WARMUP_RATE}/s and not measured, about nobody
                         before the CPU figure with nobody subscribed, about members (each touched
                         once) before the measured stream, so that both meet code V8 has optimised
                         (default 6000, or what --members leaves after --events and 3)
  --timings              --members: also print where our server spent each delivery's time, from
                         the webhook's answer to the frame's write (bench/delivery-timings.ts)
  --apart                --members: measure the servers one after the other; by default each has
                         a client process of its own and their streams run at the same time,
                         interleaved (ours, then bare ws half a period later), so both meet the
                         same noise of the machine; the lanes run with the servers' young
                         generation, --apart in this process with the flags it was started with
  --jitter F             --members: each gap of the measured streams (and of the webhooks about
                         nobody) is the period times 1 ± F, F below 0.5 so that the lanes' webhooks
                         still alternate; the same schedule in both lanes (default ${DEFAULT_JITTER};
                         0: a metronome, as before the sixteenth session), so that timers of the
                         server and the machine whose periods divide or are divided by the stream's
                         do not meet its deliveries at one moment
  --server-v8=FLAGS      --members: V8 flags for both servers alike, after the service's own
                         (e.g. --server-v8=--no-parallel-scavenge; several: quoted, space apart),
                         to compare a flag without a scratch build

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}).`;

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      subscribers: { type: 'string', default: '10000' },
      also: { type: 'string', default: '1000' },
      events: { type: 'string', default: '200' },
      rate: { type: 'string', default: '20' },
      db: { type: 'string', default: 'sqlite' },
      only: { type: 'string' },
      batch: { type: 'string', default: '500' },
      'cpu-prof': { type: 'boolean', default: false },
      scrape: { type: 'string', default: '0' },
      members: { type: 'string' },
      'idle-events': { type: 'string' },
      'upkeep-seconds': { type: 'string' },
      'alloc-prof': { type: 'boolean', default: false },
      warmup: { type: 'string' },
      timings: { type: 'boolean', default: false },
      apart: { type: 'boolean', default: false },
      'server-v8': { type: 'string', default: '' },
      jitter: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  if (values.db !== 'sqlite' && values.db !== 'postgres')
    throw new UsageError(`--db must be sqlite or postgres, got ${JSON.stringify(values.db)}`);
  const servers: Record<string, ServerKind[]> = { ours: ['ours'], baseline: ['baseline'] };
  const only = values.only === undefined ? (['ours', 'baseline'] as ServerKind[]) : servers[values.only];
  if (!only) throw new UsageError(`--only must be ours or baseline, got ${JSON.stringify(values.only)}`);
  const members = values.members === undefined ? undefined : Math.floor(numberOption('members', values.members, 1, 50_000));
  const events = Math.floor(numberOption('events', values.events, 1, 100_000));
  // Each member is touched at most once per run, so that a `next` names the webhook it answers.
  if (members !== undefined && events + 3 > members)
    throw new UsageError(`--events must be at most --members - 3 (${members - 3}), got ${events}`);
  if (members === undefined && values.warmup !== undefined) throw new UsageError('--warmup applies to --members only');
  if (members === undefined && values['alloc-prof']) throw new UsageError('--alloc-prof applies to --members only');
  const serverV8 = (values['server-v8'] ?? '').split(/\s+/).filter(Boolean);
  if (members === undefined && values.jitter !== undefined) throw new UsageError('--jitter applies to --members only');
  if (members === undefined && serverV8.length > 0) throw new UsageError('--server-v8 applies to --members only');
  const notFlag = serverV8.find((flag) => !/^--[a-z0-9-]+(=[^\s]*)?$/.test(flag));
  if (notFlag !== undefined)
    throw new UsageError(`--server-v8 takes V8 flags such as --no-parallel-scavenge, got ${JSON.stringify(notFlag)}`);
  // The member warm-up touches members the measured stream does not.
  const warmupRoom = members === undefined ? 0 : members - events - 3;
  const warmup =
    values.warmup === undefined ? Math.min(DEFAULT_WARMUP, warmupRoom) : Math.floor(numberOption('warmup', values.warmup, 0, 1_000_000));
  if (members !== undefined && warmup > warmupRoom)
    throw new UsageError(`--warmup must be at most --members - --events - 3 (${warmupRoom}), got ${warmup}`);
  const also = (values.also ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Math.floor(numberOption('also', s, 1, 50_000)));
  return {
    counts: [Math.floor(numberOption('subscribers', values.subscribers, 1, 50_000)), ...also],
    servers: only,
    db: values.db,
    events,
    rate: numberOption('rate', values.rate, 0.1, 10_000),
    batch: Math.floor(numberOption('batch', values.batch, 1, 10_000)),
    cpuProf: values['cpu-prof'] ?? false,
    scrapes: Math.floor(numberOption('scrape', values.scrape, 0, 100_000)),
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
    members,
    idleEvents: values['idle-events'] === undefined ? events : Math.floor(numberOption('idle-events', values['idle-events'], 1, 100_000)),
    upkeepSeconds:
      values['upkeep-seconds'] === undefined ? UPKEEP_SECONDS : numberOption('upkeep-seconds', values['upkeep-seconds'], 1, 600),
    allocProf: values['alloc-prof'] ?? false,
    timings: values.timings ?? false,
    apart: values.apart ?? false,
    warmup,
    serverV8,
    jitter: values.jitter === undefined ? DEFAULT_JITTER : numberOption('jitter', values.jitter, 0, 0.49),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The soft limit on open files of this process (inherited by the children). */
function openFileLimit(): number {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/** Times `count` scrapes of GET /metrics, one after another (as Prometheus does, one at a time). */
async function timeScrapes(port: number, count: number): Promise<{ p50: number; p99: number; max: number; bytes: number; count: number }> {
  const durations: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answer = await new Promise<{ status: number; length: number }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
        let length = 0;
        res.on('data', (chunk: Buffer) => (length += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length }));
      });
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
    });
    if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
    durations.push(performance.now() - started);
    bytes = answer.length;
  }
  const sorted = Float64Array.from(durations).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]!, bytes, count };
}

/** Runs `open(0 .. n-1)`, `batch` at a time. */
async function inBatches(n: number, batch: number, open: (i: number) => Promise<void>): Promise<void> {
  for (let done = 0; done < n; done += batch) {
    const opening: Promise<void>[] = [];
    for (let i = done; i < Math.min(n, done + batch); i++) opening.push(open(i));
    await Promise.all(opening);
  }
}

/** Resolves true once `done()` holds (checked now and whenever a watcher is called), false after `timeoutMs`. */
function watch(watchers: Set<() => void>, done: () => boolean, timeoutMs: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (done()) finish(true);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      watchers.delete(check);
      resolve(ok);
    };
    watchers.add(check);
  });
}

// ---------------------------------------------------------------------------------------------
// The subscribers: raw `ws` sockets speaking graphql-transport-ws.

/** What a client socket does once acknowledged, and with the messages it gets. */
interface ClientHandlers {
  /** Called once `connection_ack` arrived (subscribe here). */
  readonly acked: (socket: WebSocket) => void;
  /** Called for each other message before the ack. */
  readonly beforeAck?: () => void;
  /** Called with every message after the ack. */
  readonly receive: (data: Buffer) => void;
}

/**
 * Opens a raw `ws` socket speaking graphql-transport-ws to our server (or the baseline), sends
 * `connection_init` (with `token` as the bearer, if any), and resolves once `connection_ack`
 * arrived and `acked` ran; rejects when it closes or 60 s pass before that. Close codes are counted
 * in `closeCodes`.
 */
function openClient(
  port: number,
  token: string | undefined,
  closeCodes: Map<number, number>,
  what: string,
  handlers: ClientHandlers,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
    let acked = false;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`${what}: no connection_ack within 60 s`));
    }, 60_000);
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })),
    );
    socket.on('message', (data: Buffer) => {
      if (acked) return handlers.receive(data);
      if (data.indexOf('"connection_ack"') < 0) return handlers.beforeAck?.();
      acked = true;
      clearTimeout(timer);
      handlers.acked(socket);
      resolve(socket);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (!acked) reject(error);
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
      if (!acked) reject(new Error(`${what}: closed with ${code} before connection_ack`));
    });
  });
}

const ENTITY = Buffer.from('"entityId":');
const NEXT = Buffer.from('"next"');

/** The entityId of a `next` message, without parsing the whole JSON (it is a string in ours). */
function entityIdOf(data: Buffer): number | undefined {
  if (data.indexOf(NEXT) < 0) return undefined;
  let i = data.indexOf(ENTITY);
  if (i < 0) return undefined;
  i += ENTITY.length;
  if (data[i] === 0x22) i += 1;
  let value = 0;
  for (; i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39; i++) value = value * 10 + data[i]! - 0x30;
  return value;
}

interface Delivery {
  /** When the webhook (or broadcast request) was sent. */
  sentAt: number;
  ackAt: number;
  received: number;
  lastAt: number;
}

class Subscribers {
  readonly sockets: WebSocket[] = [];
  /** By entityId: how many sockets got it, and when the last one did. */
  readonly deliveries = new Map<number, Delivery>();
  readonly closeCodes = new Map<number, number>();
  unexpected = 0;
  private watchers = new Set<() => void>();

  constructor(
    private readonly port: number,
    private readonly token: string | undefined,
  ) {}

  private receive(data: Buffer): void {
    const at = performance.now();
    const entityId = entityIdOf(data);
    if (entityId === undefined) {
      this.unexpected += 1;
      return;
    }
    let delivery = this.deliveries.get(entityId);
    if (!delivery) {
      delivery = { sentAt: NaN, ackAt: NaN, received: 0, lastAt: 0 };
      this.deliveries.set(entityId, delivery);
    }
    delivery.received += 1;
    delivery.lastAt = at;
    if (delivery.received === this.sockets.length) for (const watcher of this.watchers) watcher();
  }

  /** Opens one socket, sends connection_init, waits for connection_ack, subscribes. */
  private async open(): Promise<void> {
    const socket = await openClient(this.port, this.token, this.closeCodes, 'subscriber', {
      acked: (ws) => ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } })),
      beforeAck: () => (this.unexpected += 1),
      receive: (data) => this.receive(data),
    });
    this.sockets.push(socket);
  }

  /** Opens `n` sockets, `batch` at a time. */
  connect(n: number, batch: number): Promise<void> {
    return inBatches(n, batch, () => this.open());
  }

  /** Resolves true once every socket got the event, false after `timeoutMs`. */
  delivered(entityId: number, timeoutMs: number): Promise<boolean> {
    return watch(this.watchers, () => (this.deliveries.get(entityId)?.received ?? 0) >= this.sockets.length, timeoutMs);
  }

  get open_(): number {
    return this.sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  }

  terminate(): void {
    for (const socket of this.sockets) socket.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// One server, one subscriber count.

let nextEntityId = 90_000_001;

async function runOne(server: ServerKind, n: number, options: Options): Promise<Row> {
  const label = server === 'ours' ? `ours ${options.db}` : 'bare ws';
  console.log(`\n== ${label}, ${fmtRate(n)} subscribers`);
  const db = server === 'ours' ? await freshDatabase(options.db, options.pgAdminUrl, 'gymgraph_bench') : undefined;
  let child: ChildProcess | undefined;
  let subscribers: Subscribers | undefined;
  let profileDir: string | undefined;
  try {
    const key = db ? await registerStudio(db.url) : '';
    const port = await freePort();
    const nodeArgs: string[] = [];
    if (server === 'ours' && options.cpuProf) {
      profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-bench-prof-fanout-'));
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    child =
      server === 'ours'
        ? startChild(label, nodeArgs, MAIN_JS, {
            DATABASE_URL: db!.url,
            PORT: String(port),
            HOST: '127.0.0.1',
            ADMIN_TOKEN,
            LOG_LEVEL: 'warn',
            NODE_ENV: 'production',
            // Every subscriber uses ADMIN_TOKEN, one socket each: lift the per-token and connection caps.
            WS_MAX_SOCKETS_PER_TOKEN: String(n),
            HTTP_MAX_CONNECTIONS: String(n + 1024),
          })
        : startChild(label, nodeArgs, BASELINE_JS, { PORT: String(port), HOST: '127.0.0.1' });
    await waitReady(child, port, label);

    /** Sends event `entityId`: a webhook (ours) or a broadcast request (bare); resolves at its 200. */
    const send = async (entityId: number): Promise<number> => {
      const answer =
        server === 'ours'
          ? await post(
              port,
              '/webhooks',
              JSON.stringify({ entityId, uuid: randomUUID(), payload: [{ timestamp: Date.now(), type: 'CUSTOMER_CHECKIN' }] }),
              { 'X-API-KEY': key },
            )
          : await post(port, '/broadcast', JSON.stringify({ entityId: String(entityId) }));
      if (answer.status !== 200) throw new Error(`${label}: event ${entityId} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      return answer.at;
    };

    // Warm the code paths with nobody listening, then the memory with 0 subscribers.
    for (let i = 0; i < 3; i++) await send(nextEntityId++);
    await sleep(1_000);
    const rssIdle = rss(child.pid);

    subscribers = new Subscribers(port, server === 'ours' ? ADMIN_TOKEN : undefined);
    const connectStart = performance.now();
    await subscribers.connect(n, options.batch);
    console.log(
      `  ${fmtRate(n)} sockets acknowledged and subscribed in ${((performance.now() - connectStart) / 1000).toFixed(1)} s (batches of ${options.batch})`,
    );
    const settled = await waitIdle(child);
    console.log(`  server idle again ${settled.toFixed(1)} s later (CPU < 10 %)`);
    await sleep(1_000);
    const rssSubscribed = rss(child.pid);
    const kbPerSubscription = (rssSubscribed - rssIdle) / n / 1024;
    console.log(
      `  server RSS ${(rssIdle / 2 ** 20).toFixed(1)} MiB with 0 subscribers, ${(rssSubscribed / 2 ** 20).toFixed(1)} MiB with ${fmtRate(n)} idle: ` +
        `${kbPerSubscription.toFixed(1)} KB per subscription`,
    );

    // Every subscription is live once a warm-up event reaches all of them.
    for (let i = 0; i < 3; i++) {
      const entityId = nextEntityId++;
      await send(entityId);
      if (!(await subscribers.delivered(entityId, 60_000))) {
        throw new Error(
          `${label}: warm-up event reached ${subscribers.deliveries.get(entityId)?.received ?? 0} of ${n} subscribers within 60 s`,
        );
      }
    }

    // The measured stream: open loop, event i due at start + i / rate.
    const before = { server: sampleResources(child), client: process.cpuUsage() };
    const ids: number[] = [];
    const acks: Promise<void>[] = [];
    const start = performance.now();
    const interval = 1000 / options.rate;
    for (let i = 0; i < options.events; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const entityId = nextEntityId++;
      ids.push(entityId);
      const sentAt = performance.now();
      acks.push(
        send(entityId).then((at) => {
          let delivery = subscribers!.deliveries.get(entityId);
          if (!delivery) {
            delivery = { sentAt, ackAt: at, received: 0, lastAt: 0 };
            subscribers!.deliveries.set(entityId, delivery);
          }
          delivery.sentAt = sentAt;
          delivery.ackAt = at;
        }),
      );
    }
    await Promise.all(acks);
    const lastAck = performance.now();
    const complete = await Promise.all(
      ids.map((id) => subscribers!.delivered(id, Math.max(1, DRAIN_TIMEOUT_MS - (performance.now() - lastAck)))),
    );
    const after = { server: sampleResources(child), client: process.cpuUsage(before.client) };
    const wall = (performance.now() - start) / 1000;
    const cpuShare = (seconds: number) => `${((seconds / wall) * 100).toFixed(0)} %`;
    const latencies: number[] = [];
    const fromSend: number[] = [];
    let lastDelivery = start;
    for (const [i, id] of ids.entries()) {
      const delivery = subscribers.deliveries.get(id)!;
      if (!complete[i]) continue;
      latencies.push(delivery.lastAt - delivery.ackAt);
      fromSend.push(delivery.lastAt - delivery.sentAt);
      lastDelivery = Math.max(lastDelivery, delivery.lastAt);
    }
    const sorted = Float64Array.from(latencies).sort();
    const sortedFromSend = Float64Array.from(fromSend).sort();
    const incomplete = complete.filter((ok) => !ok).length;
    const open = subscribers.open_;
    const closed = n - open;
    const row: Row = {
      server,
      subscribers: n,
      events: options.events,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      sentP50: percentile(sortedFromSend, 0.5),
      sentP99: percentile(sortedFromSend, 0.99),
      eventsPerSecond: latencies.length / ((lastDelivery - start) / 1000),
      kbPerSubscription,
      incomplete,
      closed,
    };
    if (server === 'ours' && options.scrapes > 0) {
      const scrape = await timeScrapes(port, options.scrapes);
      Object.assign(row, { scrape });
      console.log(
        `  ${scrape.count} scrapes of /metrics with ${fmtRate(open)} subscribers open: p50 ${fmtMs(scrape.p50)} ms, p99 ${fmtMs(scrape.p99)} ms, max ${fmtMs(scrape.max)} ms; ${(scrape.bytes / 1024).toFixed(1)} KB each`,
      );
    }
    const negative = latencies.filter((x) => x < 0).length;
    console.log(
      `  ${options.events} events at ${options.rate}/s: ack -> last subscriber p50 ${fmtMs(row.p50)} ms, p99 ${fmtMs(row.p99)} ms, max ${fmtMs(row.max)} ms; ` +
        `from the webhook's send p50 ${fmtMs(row.sentP50)} ms, p99 ${fmtMs(row.sentP99)} ms; ${fmtRate(row.eventsPerSecond)} events/s delivered to all; ${incomplete} event(s) not delivered to every subscriber within ${DRAIN_TIMEOUT_MS / 1000} s` +
        `${negative ? `; ${negative} reached the last subscriber before its 200 was read` : ''}`,
    );
    console.log(
      `  CPU over the stream (${wall.toFixed(1)} s): server ${before.server && after.server ? cpuShare(after.server.childCpu - before.server.childCpu) : '-'}, ` +
        `this subscriber process ${cpuShare((after.client.user + after.client.system) / 1e6)}, machine ${before.server && after.server ? cpuShare(after.server.machineCpu - before.server.machineCpu) : '-'} (of ${os.cpus().length * 100} %)`,
    );
    console.log(
      `  server RSS after the stream ${(rss(child.pid) / 2 ** 20).toFixed(1)} MiB; sockets still open ${fmtRate(open)} of ${fmtRate(n)}` +
        (subscribers.closeCodes.size ? `; closed: ${[...subscribers.closeCodes].map(([code, k]) => `${code}x${k}`).join(', ')}` : '') +
        (subscribers.unexpected ? `; ${subscribers.unexpected} unexpected messages` : ''),
    );

    await stopServer(child, label, profileDir);
    return row;
  } finally {
    await release(child, subscribers, db);
  }
}

/**
 * Stops a server before its clients (ours: 1001 on SIGTERM), so TIME_WAIT stays off the client's
 * ports, then prints the profiles `--cpu-prof` left.
 */
async function stopServer(child: ChildProcess, label: string, profileDir: string | undefined): Promise<void> {
  const code = await stopChild(child);
  if (code !== 0 && code !== null) console.log(`  ${label} exited with code ${code}`);
  printProfiles(profileDir, label);
}

/** What a run leaves, on success or failure: the server, the client sockets, the bench database. */
async function release(
  child: ChildProcess | undefined,
  clients: { terminate(): void } | undefined,
  db: FreshDatabase | undefined,
): Promise<void> {
  if (child) await stopChild(child);
  clients?.terminate();
  await db?.drop().catch((error: unknown) => console.log(`  could not drop the bench database: ${(error as Error).message}`));
}

/** The top self-time functions of the CPU profiles `--cpu-prof` left in `dir`. */
function printProfiles(dir: string | undefined, label: string): void {
  if (!dir) return;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    console.log(`\n  CPU profile of ${label}: ${path.join(dir, file)}\n`);
    console.log(formatProfileSummary(summariseProfile(path.join(dir, file), 25)));
  }
}

// ---------------------------------------------------------------------------------------------
// --members N: member apps. Each member has a token of its own and one socket with two
// subscriptions of its own (check-ins of its customer, updates of its class booking); each
// webhook touches one member. Ours runs in-process in bench/fanout-server.ts, which reports its
// own CPU (process.cpuUsage) and heap after GC; the baseline routes by a Map.

const FANOUT_SERVER_JS = path.join(__dirname, 'fanout-server.js');
const MEMBER_EVENT = '{ seq type entityId occurredAt }';
const MEMBER_CHECKINS = `subscription Checkins($c: [ID!]) { customerCheckedIn(customerIds: $c) { event ${MEMBER_EVENT} customer { customerId checkedIn } } }`;
const MEMBER_BOOKINGS = `subscription Bookings($b: [ID!]) { classBookingUpdated(bookingIds: $b) { event ${MEMBER_EVENT} classBooking { bookingId classSlotStatus } } }`;
/** Member k's customer id and booking id (distinct ranges, so a `next` names whose it is). */
const customerOf = (k: number) => 100_000 + k;
const bookingOf = (k: number) => 5_000_000 + k;
/** Customers nobody watches: the "matches nobody" webhooks. */
let nextStranger = 9_000_000;
/** From the issue: CPU per webhook within 2x the no-subscriber figure; at most 8 KB per subscription. */
const AIM_CPU_FACTOR = 2;
const AIM_MEMBER_KB = 8;

interface MemberRow {
  readonly server: ServerKind;
  readonly members: number;
  readonly subscriptions: number;
  readonly events: number;
  readonly incomplete: number;
  readonly misrouted: number;
  /** From the server's writing of the webhook's answer to the member's reading of the event (the aim's measure). */
  readonly p50: number;
  readonly p99: number;
  /** From the client's reading of the answer: also counts the time the client takes to wake up for the frame. */
  readonly ackP50: number;
  readonly ackP99: number;
  readonly sentP50: number;
  readonly sentP99: number;
  /** Server CPU ms per webhook: with nobody subscribed, with members but matching none, in the member stream. */
  readonly cpuIdle: number | undefined;
  readonly cpuNobody: number | undefined;
  readonly cpuStream: number;
  /** Server CPU ms per second with no webhooks: empty, and with the members connected (pings, token checks). */
  readonly upkeepEmpty: number;
  readonly upkeep: number;
  /** Heap after GC (ours) per subscription, over the empty server; RSS per subscription. */
  readonly heapKb: number | undefined;
  readonly rssKb: number;
  /** Groups the hub examined / executed per webhook of the member stream (ours). */
  readonly examined: number | undefined;
  readonly executions: number | undefined;
  /** Percent of the machine's CPU time stolen by the hypervisor during the measured stream (harness.ts machineTimes). */
  readonly steal: number | undefined;
}

interface ServerStats {
  readonly cpuMicros: number;
  readonly heapUsed: number;
  readonly rss: number;
  readonly subscriptions: number;
  readonly groups: number;
  readonly fanout: { readonly examined: number; readonly executions: number };
  /** Every collection of the server since it started: [young, pause ms] (fanout-server.ts). */
  readonly collections: readonly (readonly [boolean, number])[];
}

/** "young 4 (92.1 ms in all, longest 31.2), other 1 (12.0 ms in all, longest 12.0)": main-thread pauses; other: full and incremental marking steps. */
function describeCollections(collections: readonly (readonly [boolean, number])[]): string {
  const describe = (young: boolean) => {
    const pauses = collections.filter(([kind]) => kind === young).map(([, ms]) => ms);
    if (pauses.length === 0) return `${young ? 'young' : 'other'} 0`;
    return `${young ? 'young' : 'other'} ${pauses.length} (${fmtMs(pauses.reduce((a, b) => a + b, 0))} ms in all, longest ${fmtMs(Math.max(...pauses))})`;
  };
  return `${describe(true)}, ${describe(false)}`;
}

/** A JSON GET through this bench's keep-alive agent. */
const getJson = <T>(port: number, urlPath: string) => getJsonFrom<T>(port, urlPath, agent);

/** One `app` token per member, written straight into the database (the service only reads them). */
async function createMemberTokens(databaseUrl: string, n: number): Promise<string[]> {
  const dataSource = createDataSource(loadDatabaseConfig({ DATABASE_URL: databaseUrl }));
  await dataSource.initialize();
  try {
    const [studio] = await dataSource.getRepository(Studio).find({ order: { id: 'ASC' }, take: 1 });
    if (!studio) throw new Error('no studio registered');
    const tokens = Array.from({ length: n }, () => `ggt_${randomBytes(32).toString('base64url')}`);
    const repository = dataSource.getRepository(ApiToken);
    for (let from = 0; from < n; from += 500) {
      await repository.insert(
        tokens.slice(from, from + 500).map((token, i) => ({
          name: `bench member ${from + i}`,
          role: 'app' as const,
          studioIds: [studio.id],
          tokenHash: createHash('sha256').update(token, 'utf8').digest('hex'),
          createdAt: new Date(),
          revokedAt: null,
        })),
      );
    }
    return tokens;
  } finally {
    await dataSource.destroy();
  }
}

/** N member sockets, each with its own two subscriptions; receipts recorded by entityId. */
class MemberClients {
  readonly sockets: WebSocket[] = [];
  readonly deliveries = new Map<number, { count: number; at: number }>();
  readonly closeCodes = new Map<number, number>();
  /** Messages about another member's customer or booking. */
  misrouted = 0;
  unexpected = 0;
  firstUnexpected: string | undefined;
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly port: number,
    private readonly tokens: readonly string[] | undefined,
  ) {}

  private async open(k: number): Promise<void> {
    const socket = await openClient(this.port, this.tokens?.[k], this.closeCodes, `member ${k}`, {
      acked: (ws) => {
        ws.send(
          JSON.stringify({
            id: 'checkins',
            type: 'subscribe',
            payload: { query: MEMBER_CHECKINS, operationName: 'Checkins', variables: { c: [String(customerOf(k))] } },
          }),
        );
        ws.send(
          JSON.stringify({
            id: 'bookings',
            type: 'subscribe',
            payload: { query: MEMBER_BOOKINGS, operationName: 'Bookings', variables: { b: [String(bookingOf(k))] } },
          }),
        );
      },
      receive: (data) => this.receive(k, data),
    });
    this.sockets.push(socket);
  }

  private receive(k: number, data: Buffer): void {
    const at = performance.now();
    const entityId = entityIdOf(data);
    if (entityId === undefined) {
      this.unexpected += 1;
      this.firstUnexpected ??= data.toString('utf8').slice(0, 300);
      return;
    }
    if (entityId !== customerOf(k) && entityId !== bookingOf(k)) this.misrouted += 1;
    const delivery = this.deliveries.get(entityId);
    if (delivery) delivery.count += 1;
    else this.deliveries.set(entityId, { count: 1, at });
    for (const watcher of this.watchers) watcher();
  }

  connect(n: number, batch: number): Promise<void> {
    return inBatches(n, batch, (k) => this.open(k));
  }

  /** Resolves true once a socket got the event about `entityId`, false after `timeoutMs`. */
  delivered(entityId: number, timeoutMs: number): Promise<boolean> {
    return watch(this.watchers, () => this.deliveries.has(entityId), timeoutMs);
  }

  terminate(): void {
    for (const socket of this.sockets) socket.terminate();
  }
}

/**
 * Open loop: `count` calls of `send` at `rate` a second; resolves with each one's send time and ack
 * time. With `jitter` 0 call i is due at start + i / rate. Otherwise each gap is the period times
 * 1 ± `jitter` (uniform), from a generator seeded alike in every process, so that two lanes started
 * half a period apart keep that offset and the same rate on average ({@link JITTER_SEED}).
 */
async function paced(
  count: number,
  rate: number,
  send: (i: number) => Promise<number>,
  jitter = 0,
): Promise<{ sentAt: number; ackAt: number }[]> {
  const start = performance.now();
  const period = 1000 / rate;
  const random = mulberry32(JITTER_SEED);
  const pending: Promise<{ sentAt: number; ackAt: number }>[] = [];
  let due = start;
  for (let i = 0; i < count; i++) {
    if (i > 0) due += jitter === 0 ? period : period * (1 + jitter * (2 * random() - 1));
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sentAt = performance.now();
    const sent = send(i).then((ackAt) => ({ sentAt, ackAt }));
    sent.catch(() => undefined); // rejects Promise.all below; until then it must not count as unhandled
    pending.push(sent);
  }
  return Promise.all(pending);
}

/**
 * A lane of the interleaved run (runMembersTogether): this process measures one server, and the
 * parent says when. Each call tells the parent where the lane is and resolves once it may go on.
 */
interface Lane {
  /** Before anything: the set-up (and its CPU and memory figures) runs while the other lane waits. */
  turn(): Promise<void>;
  /** Set up and warm: resolves with the Date.now() at which to send the stream's first webhook. */
  ready(): Promise<number>;
  /** Every event of the stream delivered and counted: resolves once the other lane's are too. */
  streamed(): Promise<void>;
}

/** This process as a lane: {@link Lane}, and its row handed to the parent at the end (none: it failed). */
interface LaneOfParent extends Lane {
  finish(row: MemberRow | undefined): Promise<void>;
}

async function runMembers(server: ServerKind, n: number, options: Options, lane?: Lane): Promise<MemberRow> {
  await lane?.turn();
  const label = server === 'ours' ? `ours ${options.db}` : 'bare ws (Map)';
  console.log(`\n== ${label}, ${fmtRate(n)} members, ${fmtRate(2 * n)} subscriptions`);
  if (options.serverV8.length > 0) console.log(`  server's extra V8 flags (--server-v8): ${options.serverV8.join(' ')}`);
  const db = server === 'ours' ? await freshDatabase(options.db, options.pgAdminUrl, 'gymgraph_bench') : undefined;
  let child: ChildProcess | undefined;
  let members: MemberClients | undefined;
  let profileDir: string | undefined;
  try {
    const key = db ? await registerStudio(db.url) : '';
    const tokens = db ? await createMemberTokens(db.url, n) : undefined;
    const port = await freePort();
    const statsPort = server === 'ours' ? await freePort() : 0;
    if (server === 'ours' && (options.cpuProf || options.allocProf))
      profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-bench-prof-members-'));
    child =
      server === 'ours'
        ? startChild(label, ['--expose-gc', ...options.serverV8], FANOUT_SERVER_JS, {
            DATABASE_URL: db!.url,
            PORT: String(port),
            HOST: '127.0.0.1',
            LOG_LEVEL: 'warn',
            NODE_ENV: 'production',
            STATS_PORT: String(statsPort),
            // Connecting thousands at once on a busy machine may take the client longer than the default 3 s.
            HYDRATION_ENABLED: 'false',
            HTTP_MAX_CONNECTIONS: String(n + 1024),
            WS_CONNECTION_INIT_TIMEOUT_MS: '30000',
            ...(options.timings ? { BENCH_DELIVERY_TIMINGS: '1' } : {}),
          })
        : startChild(label, [...options.serverV8], BASELINE_JS, { PORT: String(port), HOST: '127.0.0.1' });
    // For bench/sched-tail.ts, which reads a scheduler trace of the run by process.
    console.log(`  processes: client ${process.pid}, server ${child.pid}`);
    await waitReady(child, port, label);
    const stats = () => getJson<ServerStats>(statsPort, '/stats');
    const cpuMs = async () => (server === 'ours' ? (await stats()).cpuMicros / 1000 : (sampleResources(child!)?.childCpu ?? NaN) * 1000);

    /** When the server wrote each event's answer, by entityId: monotonic ms (ANSWERED_AT_HEADER). */
    const answeredAt = new Map<number, number>();
    /** Sends one event; resolves at its 200. `member` undefined: about a customer nobody watches. */
    const send = async (member: number | undefined, booking: boolean): Promise<number> => {
      const entityId = member === undefined ? nextStranger++ : booking ? bookingOf(member) : customerOf(member);
      const type = booking ? 'CLASS_BOOKING_UPDATED' : 'CUSTOMER_CHECKIN';
      const answer =
        server === 'ours'
          ? await post(port, '/webhooks', JSON.stringify({ entityId, uuid: randomUUID(), payload: [{ timestamp: Date.now(), type }] }), {
              'X-API-KEY': key,
            })
          : await post(port, '/route', JSON.stringify({ key: `${booking ? 'b' : 'c'}:${entityId}`, entityId: String(entityId) }));
      if (answer.status !== 200) throw new Error(`${label}: event ${entityId} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      const stamped = Number(answer.headers[ANSWERED_AT_HEADER]);
      if (!Number.isFinite(stamped)) throw new Error(`${label}: the answer to event ${entityId} has no ${ANSWERED_AT_HEADER} header`);
      answeredAt.set(entityId, stamped);
      return answer.at;
    };
    /** Server CPU ms per webhook over `count` webhooks about nobody, at the stream's rate. */
    const cpuPerStranger = async (count: number) => {
      const before = await cpuMs();
      await paced(count, options.rate, (i) => send(undefined, i % 2 === 1), options.jitter);
      await sleep(200);
      return ((await cpuMs()) - before) / count;
    };

    /** Server CPU ms per second over --upkeep-seconds without webhooks; `profile`: a CPU profile of it (--cpu-prof). */
    const upkeepNow = async (profile?: string) => {
      if (profile) await getJson(statsPort, '/profile/start');
      const from = await cpuMs();
      await sleep(options.upkeepSeconds * 1000);
      const upkeep = ((await cpuMs()) - from) / options.upkeepSeconds;
      if (profile) await getJson(statsPort, `/profile/stop?file=${encodeURIComponent(profile)}`);
      return upkeep;
    };

    // Warm the code paths, then the empty server's CPU per webhook and heap.
    for (let i = 0; i < 5; i++) await send(undefined, i % 2 === 1);
    if (options.warmup > 0) {
      await paced(options.warmup, WARMUP_RATE, (i) => send(undefined, i % 2 === 1));
      console.log(`  warm-up: ${fmtRate(options.warmup)} webhooks about nobody at ${WARMUP_RATE}/s`);
      await waitIdle(child);
    }
    await sleep(1_000);
    const cpuIdle = server === 'ours' ? await cpuPerStranger(options.idleEvents) : undefined;
    const empty = server === 'ours' ? await getJson<ServerStats>(statsPort, '/stats?gc=1') : undefined;
    const rssEmpty = rss(child.pid);
    const upkeepEmpty = await upkeepNow();
    if (cpuIdle !== undefined)
      console.log(
        `  no subscribers: ${fmtMs(cpuIdle)} ms of server CPU per webhook (${options.idleEvents} at ${options.rate}/s); heap after GC ${(empty!.heapUsed / 2 ** 20).toFixed(1)} MiB`,
      );

    members = new MemberClients(port, tokens);
    const connectStart = performance.now();
    await members.connect(n, options.batch);
    const subscribed = async () =>
      server === 'ours' ? (await stats()).subscriptions : (await getJson<{ routes: number }>(port, '/stats')).routes;
    const deadline = performance.now() + 120_000;
    while ((await subscribed()) < 2 * n) {
      if (performance.now() > deadline) throw new Error(`${label}: ${await subscribed()} of ${2 * n} subscriptions after 120 s`);
      await sleep(250);
    }
    console.log(
      `  ${fmtRate(n)} members connected (own token each) and subscribed twice in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`,
    );
    await waitIdle(child);
    await sleep(1_000);
    const full = server === 'ours' ? await getJson<ServerStats>(statsPort, '/stats?gc=1') : undefined;
    const rssKb = (rss(child.pid) - rssEmpty) / (2 * n) / 1024;
    const heapKb = full && empty ? (full.heapUsed - empty.heapUsed) / (2 * n) / 1024 : undefined;
    console.log(
      `  per subscription: ${heapKb === undefined ? '' : `heap after GC ${heapKb.toFixed(2)} KB, `}RSS ${rssKb.toFixed(2)} KB` +
        (full ? ` (${fmtRate(full.subscriptions)} subscriptions in ${fmtRate(full.groups)} groups)` : ''),
    );

    // Upkeep of the open sockets with no webhooks: keep-alive pings, token re-checks.
    const upkeep = await upkeepNow(profileDir && options.cpuProf ? path.join(profileDir, 'upkeep.cpuprofile') : undefined);
    const cpuNobody = server === 'ours' ? await cpuPerStranger(options.idleEvents) : undefined;
    console.log(`  CPU without webhooks: ${fmtMs(upkeepEmpty)} ms per second empty, ${fmtMs(upkeep)} with the members connected`);
    if (cpuNobody !== undefined) console.log(`  webhooks matching nobody: ${fmtMs(cpuNobody)} ms of server CPU each`);

    // Every member is due events of its own only, each member touched once per run.
    const stride = n % 7919 === 0 ? 1 : 7919;
    let touched = 0;
    const nextMember = () => (touched++ * stride) % n;
    for (let i = 0; i < 3; i++) {
      const member = nextMember();
      await send(member, i % 2 === 1);
      const entityId = i % 2 === 1 ? bookingOf(member) : customerOf(member);
      if (!(await members.delivered(entityId, 30_000)))
        throw new Error(
          `${label}: warm-up event about member ${member} not delivered within 30 s${members.firstUnexpected ? `; got ${members.firstUnexpected}` : ''}`,
        );
    }
    const warmUp = async () => {
      if (options.warmup === 0) return;
      const warmed: number[] = [];
      const warmStart = performance.now();
      await paced(options.warmup, WARMUP_RATE, (i) => {
        const member = nextMember();
        warmed.push(i % 2 === 1 ? bookingOf(member) : customerOf(member));
        return send(member, i % 2 === 1);
      });
      const late = (await Promise.all(warmed.map((id) => members!.delivered(id, DRAIN_TIMEOUT_MS)))).filter((ok) => !ok).length;
      if (late > 0)
        throw new Error(
          `${label}: ${late} of ${warmed.length} warm-up events not delivered within ${DRAIN_TIMEOUT_MS / 1000} s` +
            (members!.firstUnexpected ? `; got ${members!.firstUnexpected}` : ''),
        );
      console.log(
        `  warm-up: ${fmtRate(options.warmup)} member events at ${WARMUP_RATE}/s, all delivered, in ${((performance.now() - warmStart) / 1000).toFixed(1)} s`,
      );
      await waitIdle(child!);
    };

    // Interleaved with the other lane: both set up, then both streams at once, from the moment the
    // parent names (waited for below, after this lane's own calls to the stats port). The member
    // warm-up runs just before the stream, in both lanes at once, not in this lane's turn, so that
    // no server sits idle for a minute and more (the other lane's set-up) between its warm-up and
    // its stream (bench/README.md, "Warmed up": it did not change the results measurably).
    const startAt = lane && (await lane.ready());
    await warmUp();
    if (startAt !== undefined && Date.now() > startAt)
      console.log(`  the warm-up ended ${Date.now() - startAt} ms after the streams' agreed start`);
    // With the lanes, wait until just before the agreed start: the stream's CPU, steal, profile and
    // timings are of the stream, not of the wait before it (up to WARMUP_SETTLE_MS of upkeep and of
    // the warm-up's deferred work, which apart, without the wait, falls in the stream instead).
    if (startAt !== undefined) await sleep(Math.max(0, startAt - Date.now() - START_MARGIN_MS));
    // --cpu-prof: the measured stream alone (the profiler's own cost inflates the CPU figures of this run).
    if (profileDir && options.cpuProf) await getJson(statsPort, '/profile/start');
    if (profileDir && options.allocProf) await getJson(statsPort, '/alloc/start');
    const fanoutBefore = full?.fanout && (await stats()).fanout;
    const timed = server === 'ours' && options.timings;
    if (timed) await getJson(statsPort, '/timings?reset=1');
    // --timings: this client's own collections too (its 10,000 sockets make a scavenge cost ms).
    const clientPauses: { start: number; end: number }[] = [];
    const clientGc = timed
      ? new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) clientPauses.push({ start: entry.startTime, end: entry.startTime + entry.duration });
        })
      : undefined;
    clientGc?.observe({ entryTypes: ['gc'] });
    const cpuBefore = await cpuMs();
    const collectionsBefore = server === 'ours' ? (await stats()).collections.length : 0;
    const machineBefore = machineTimes();
    if (startAt !== undefined && Date.now() > startAt)
      console.log(`  the stream's set-up ended ${Date.now() - startAt} ms after the streams' agreed start (margin ${START_MARGIN_MS} ms)`);
    if (startAt !== undefined) await sleep(Math.max(0, startAt - Date.now()));
    const streamStart = performance.now();
    const ids: number[] = [];
    const timings = await paced(
      options.events,
      options.rate,
      (i) => {
        const member = nextMember();
        const booking = i % 2 === 1;
        ids.push(booking ? bookingOf(member) : customerOf(member));
        return send(member, booking);
      },
      options.jitter,
    );
    const complete = await Promise.all(ids.map((id) => members!.delivered(id, DRAIN_TIMEOUT_MS)));
    const wall = (performance.now() - streamStart) / 1000;
    const machineAfter = machineTimes();
    const cpuStream = ((await cpuMs()) - cpuBefore) / options.events;
    const streamCollections = server === 'ours' ? (await stats()).collections.slice(collectionsBefore) : undefined;
    // --alloc-prof: from the stream's start to its last delivery; stopped first, so that neither
    // the CPU profile's serialisation nor the wait for the other lane is counted in it.
    const allocFile = profileDir && options.allocProf ? path.join(profileDir, 'stream.heapprofile') : undefined;
    if (allocFile) await getJson(statsPort, `/alloc/stop?file=${encodeURIComponent(allocFile)}`);
    const fanoutAfter = full?.fanout && (await stats()).fanout;
    await lane?.streamed();
    if (profileDir && options.cpuProf)
      await getJson(statsPort, `/profile/stop?file=${encodeURIComponent(path.join(profileDir, 'stream.cpuprofile'))}`);
    if (allocFile) {
      console.log(`\n  allocations of ${label} over the stream: ${allocFile}\n`);
      console.log(formatAllocations(summariseAllocations(allocFile, 20), { count: options.events, what: 'webhook' }));
    }
    const monotonic = monotonicMs();
    const fromAnswer: number[] = [];
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    for (const [i, id] of ids.entries()) {
      const delivery = members.deliveries.get(id);
      if (!complete[i] || !delivery) continue;
      fromAnswer.push(monotonic(delivery.at) - answeredAt.get(id)!);
      fromAck.push(delivery.at - timings[i]!.ackAt);
      fromSend.push(delivery.at - timings[i]!.sentAt);
    }
    const sorted = Float64Array.from(fromAnswer).sort();
    const sortedFromAck = Float64Array.from(fromAck).sort();
    const sortedFromSend = Float64Array.from(fromSend).sort();
    const row: MemberRow = {
      server,
      members: n,
      subscriptions: 2 * n,
      events: options.events,
      incomplete: complete.filter((ok) => !ok).length,
      misrouted: members.misrouted,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      ackP50: percentile(sortedFromAck, 0.5),
      ackP99: percentile(sortedFromAck, 0.99),
      sentP50: percentile(sortedFromSend, 0.5),
      sentP99: percentile(sortedFromSend, 0.99),
      cpuIdle,
      cpuNobody,
      cpuStream,
      upkeepEmpty,
      upkeep,
      heapKb,
      rssKb,
      examined: fanoutBefore && fanoutAfter ? (fanoutAfter.examined - fanoutBefore.examined) / options.events : undefined,
      executions: fanoutBefore && fanoutAfter ? (fanoutAfter.executions - fanoutBefore.executions) / options.events : undefined,
      steal:
        machineBefore && machineAfter && machineAfter.total > machineBefore.total
          ? (100 * (machineAfter.steal - machineBefore.steal)) / (machineAfter.total - machineBefore.total)
          : undefined,
    };
    console.log(
      `  ${options.events} events at ${options.rate}/s, one member each: answer written -> member p50 ${fmtMs(row.p50)} ms, p99 ${fmtMs(row.p99)} ms; ` +
        `ack read -> member p50 ${fmtMs(row.ackP50)} ms, p99 ${fmtMs(row.ackP99)} ms; from send p50 ${fmtMs(row.sentP50)} ms, p99 ${fmtMs(row.sentP99)} ms; ` +
        `${row.incomplete} not delivered within ${DRAIN_TIMEOUT_MS / 1000} s; ${row.misrouted} delivered to another member; server CPU ${fmtMs(cpuStream)} ms per webhook ` +
        `(${fmtMs(cpuStream - (upkeep * wall) / options.events)} ms net of upkeep)` +
        (row.examined === undefined
          ? ''
          : `; groups examined ${row.examined.toFixed(2)}, executed ${row.executions!.toFixed(2)} per webhook`) +
        (row.steal === undefined ? '' : `; the host stole ${row.steal.toFixed(1)}% of the machine's CPU time meanwhile`),
    );
    if (streamCollections) console.log(`  our server's garbage collections over the stream: ${describeCollections(streamCollections)}`);
    const slowest = ids
      .map((id, i) => ({ i, booking: i % 2 === 1, at: members!.deliveries.get(id)?.at, timing: timings[i]! }))
      .filter((d) => d.at !== undefined)
      .sort((a, b) => b.at! - b.timing.ackAt - (a.at! - a.timing.ackAt))
      .slice(0, 5);
    console.log(
      `  slowest from the ack: ${slowest
        .map(
          (d) =>
            `#${d.i} ${d.booking ? 'booking' : 'check-in'} ${fmtMs(d.at! - d.timing.ackAt)} ms (${fmtMs(d.at! - d.timing.sentAt)} from send, at ${((d.timing.sentAt - streamStart) / 1000).toFixed(2)} s)`,
        )
        .join('; ')}`,
    );
    // The measured tail, placed on the machine's monotonic clock (CLOCK_MONOTONIC ms), so that a
    // scheduler trace of the same run (`perf record -e sched:sched_switch -a -k CLOCK_MONOTONIC`,
    // read by bench/sched-tail.ts) can be read at those moments: what ran between the answer's
    // writing and the client's reading of it.
    const tail = ids
      .map((id, i) => ({ i, answered: answeredAt.get(id)!, ack: monotonic(timings[i]!.ackAt), at: members!.deliveries.get(id)?.at }))
      .filter((d) => d.at !== undefined)
      .map((d) => ({ ...d, member: monotonic(d.at!) }))
      .sort((a, b) => b.member - b.answered - (a.member - a.answered))
      .slice(0, 12);
    console.log(
      `  slowest from the answer (monotonic ms: answer written, ack read, member read): ${tail
        .map((d) => `#${d.i} ${fmtMs(d.member - d.answered)} ms (${d.answered.toFixed(3)}, ${d.ack.toFixed(3)}, ${d.member.toFixed(3)})`)
        .join('; ')}`,
    );
    if (timed) {
      const { spans, slowest, deliveries } = await getJson<TimingsSummary>(statsPort, '/timings');
      const ms3 = (ms: number) => (Number.isNaN(ms) ? '-' : ms.toFixed(3));
      console.log('  in the server, per delivery (ms, p50 / p90 / p99 / max):');
      for (const span of spans)
        console.log(
          `    ${span.name}: ${ms3(span.p50)} / ${ms3(span.p90)} / ${ms3(span.p99)} / ${ms3(span.max)} (${span.count} deliveries)`,
        );
      console.log(`  in the server, the ${slowest.length} slowest from the answer to the frame (ms):`);
      for (const { ms, steps, gc } of slowest)
        console.log(
          `    ${ms3(ms)}: ${steps.map(([name, step]) => `${name} ${ms3(step)}`).join(', ')}` +
            (gc.length ? `; during it ${gc.map(([kind, pause]) => `${kind} ${ms3(pause)}`).join(', ')}` : ''),
        );
      // Both sides of each delivery on the machine's monotonic clock: whether the time from the ack
      // to the member went to the server's window (answer to frame) or to the client's reading.
      const written = new Map(deliveries.map(([entityId, answered, framed]) => [entityId, { answered, framed }]));
      const sides = ids.flatMap((id, i) => {
        const server = written.get(id);
        const at = members!.deliveries.get(id)?.at;
        if (!server || at === undefined) return [];
        const ackRead = monotonic(timings[i]!.ackAt) - server.answered;
        const ackAt = timings[i]!.ackAt;
        const gc = clientPauses
          .filter((p) => p.end > ackAt && p.start < at)
          .reduce((sum, p) => sum + Math.min(p.end, at) - Math.max(p.start, ackAt), 0);
        return [{ i, total: at - ackAt, ackRead, window: server.framed - server.answered, frameRead: monotonic(at) - server.framed, gc }];
      });
      const spread = (values: number[]) => {
        const sorted = Float64Array.from(values).sort();
        return [0.5, 0.9, 0.99].map((q) => ms3(percentile(sorted, q))).join(' / ') + ` / ${ms3(sorted[sorted.length - 1] ?? NaN)}`;
      };
      console.log(`  both sides of ${sides.length} deliveries, on the machine's monotonic clock (ms, p50 / p90 / p99 / max):`);
      console.log(`    answer written -> ack read by the client: ${spread(sides.map((d) => d.ackRead))}`);
      console.log(`    answer written -> frame written (the server's window): ${spread(sides.map((d) => d.window))}`);
      console.log(`    frame written -> read by the member's socket: ${spread(sides.map((d) => d.frameRead))}`);
      clientGc?.disconnect();
      console.log(
        `  the client collected garbage ${clientPauses.length} times in the stream (${ms3(clientPauses.reduce((sum, p) => sum + p.end - p.start, 0))} ms)`,
      );
      console.log('  the 10 slowest from the ack, their parts (ms after the answer was written: ack read, frame written, frame read):');
      for (const d of [...sides].sort((a, b) => b.total - a.total).slice(0, 10))
        console.log(
          `    #${d.i} ${ms3(d.total)}: ack read ${ms3(d.ackRead)}, frame written ${ms3(d.window)}, read ${ms3(d.window + d.frameRead)}` +
            (d.gc > 0 ? `; the client collected garbage ${ms3(d.gc)} ms of it` : ''),
        );
    }
    if (members.unexpected) console.log(`  ${members.unexpected} unexpected messages, the first: ${members.firstUnexpected}`);
    if (members.closeCodes.size) console.log(`  sockets closed: ${[...members.closeCodes].map(([code, k]) => `${code}x${k}`).join(', ')}`);
    await stopServer(child, label, profileDir);
    return row;
  } finally {
    await release(child, members, db);
  }
}

/**
 * V8's options for the lanes' processes, on top of the servers' (SERVICE_NODE_OPTIONS): their
 * garbage is collected on their main thread alone. With V8's helper threads, a collection in a
 * lane's client took both vCPUs for 5–45 ms, and whatever either server was doing then waited: in
 * scheduler traces of five runs at once (bench/sched-tail.ts; bench/README.md, "Who held the
 * CPUs"), a client's collection (either lane's) held a vCPU in 0–6 of our 12 slowest deliveries
 * and in 1–3 of the bare server's. The clients stand for the members' phones, not for anything on
 * the server's machine; a client still waits for its own collections.
 */
const LANE_NODE_OPTIONS: readonly string[] = ['--single-threaded-gc'];

/** Environment variable that makes a bench process a lane of runMembersTogether (it has an IPC channel). */
const LANE_ENV = 'GYMGRAPH_BENCH_LANE';

type LaneMessage =
  | { readonly kind: 'ready' | 'streamed' }
  | { readonly kind: 'row'; readonly row: MemberRow }
  | { readonly kind: 'turn' | 'continue' }
  | { readonly kind: 'stream'; readonly at: number };

/** This process as a lane: `process.send` to the parent, its answers awaited by kind. */
function laneOfParent(): LaneOfParent {
  const waiting = new Map<string, (message: LaneMessage) => void>();
  process.on('message', (message: LaneMessage) => waiting.get(message.kind)?.(message));
  // The parent gone (Ctrl-C, a crash): stop the server and drop the database as on SIGTERM.
  let finished = false;
  process.on('disconnect', () => finished || process.kill(process.pid, 'SIGTERM'));
  const ask = <T>(tell: LaneMessage['kind'] | undefined, answer: LaneMessage['kind'], value: (m: LaneMessage) => T) =>
    new Promise<T>((resolve) => {
      waiting.set(answer, (message) => resolve(value(message)));
      if (tell) process.send!({ kind: tell });
    });
  return {
    turn: () => ask(undefined, 'turn', () => undefined),
    ready: () => ask('ready', 'stream', (m) => (m as { at: number }).at),
    streamed: () => ask('streamed', 'continue', () => undefined),
    finish: (row) =>
      new Promise<void>((resolve, reject) => {
        finished = true;
        // The channel keeps the process alive: closed either way, the parent sees the exit.
        if (!row) return resolve(process.disconnect());
        process.send!({ kind: 'row', row } satisfies LaneMessage, (error: Error | null) => {
          if (error) reject(error);
          else resolve(process.disconnect());
        });
      }),
  };
}

/**
 * Both servers in one run, their streams at the same time: each measured by a process of its own
 * (this script again, `--only`, as a lane), since 10,000 members of each would need more sockets
 * than one process may open here. The set-ups take turns (ours first), so the CPU and memory
 * figures are each server's alone; then both streams start together, bare ws half a period after
 * ours, so their webhooks alternate and the machine's stalls fall on both alike. Ours's CPU per
 * webhook of the stream is then measured with the bare server's stream running beside it.
 */
async function runMembersTogether(options: Options): Promise<MemberRow[]> {
  const lanes = (['ours', 'baseline'] as const).map((server) => {
    const child = fork(__filename, [...process.argv.slice(2), '--only', server], {
      // The lanes' processes are the members' devices: each holds 10,000 client sockets, answers the
      // pings and reads the frames. With V8's default young generation (1 MB semi-spaces to start),
      // ours's scavenged 60 times in a 50 s stream, each a pause of its own and a burst on both
      // vCPUs (parallel scavenging) that a delivery of either lane could fall on. They get the
      // young generation the servers run with (SERVICE_NODE_OPTIONS), both alike, and collect
      // their garbage on their main thread alone (LANE_NODE_OPTIONS).
      execArgv: [...process.execArgv, ...SERVICE_NODE_OPTIONS, ...LANE_NODE_OPTIONS],
      env: { ...process.env, [LANE_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A row may hold NaN (a figure not measured): JSON would make it null.
      serialization: 'advanced',
    });
    const tag = server === 'ours' ? '[ours]' : '[bare]';
    for (const stream of [child.stdout!, child.stderr!])
      readline.createInterface({ input: stream }).on('line', (line) => console.log(`${tag} ${line}`));
    const inbox: LaneMessage[] = [];
    const wakers: (() => void)[] = [];
    const wake = () => wakers.splice(0).forEach((look) => look());
    child.on('message', (message: LaneMessage) => {
      inbox.push(message);
      wake();
    });
    /** How the lane ended, once it has (its last messages are in the inbox by then or never). */
    let gone: string | undefined;
    const exit = new Promise<void>((resolve) =>
      child.on('exit', (code, signal) => {
        gone = String(signal ?? code);
        resolve();
        wake();
      }),
    );
    /** The next message of `kind` (others are kept), or an error once the lane has exited without it. */
    const next = (kind: LaneMessage['kind']): Promise<LaneMessage> =>
      new Promise<LaneMessage>((resolve, reject) => {
        const look = () => {
          const at = inbox.findIndex((m) => m.kind === kind);
          if (at >= 0) resolve(inbox.splice(at, 1)[0]!);
          else if (gone !== undefined) reject(new Error(`the ${server} lane exited (${gone}) before it was done`));
          else wakers.push(look);
        };
        look();
      });
    return { server, child, exit, next, send: (message: LaneMessage) => child.send(message) };
  });
  let done = false;
  try {
    for (const lane of lanes) {
      lane.send({ kind: 'turn' });
      await lane.next('ready');
    }
    // Both lanes warm up (runMembers' warmUp) before this moment.
    const at = Date.now() + 500 + (options.warmup * 1000) / WARMUP_RATE + WARMUP_SETTLE_MS;
    lanes.forEach((lane, i) => lane.send({ kind: 'stream', at: at + (i * 500) / options.rate }));
    await Promise.all(lanes.map((lane) => lane.next('streamed')));
    for (const lane of lanes) lane.send({ kind: 'continue' });
    const rows = await Promise.all(lanes.map(async (lane) => (await lane.next('row')) as { row: MemberRow }));
    done = true;
    return rows.map(({ row }) => row);
  } finally {
    // A lane releases its server and database before its row. On an error the other lane waits for
    // a message that will not come: SIGTERM makes it release them and exit.
    // (The 15 s bound must not keep this process alive once the lanes are gone: an unref'd timer.)
    const exited = () =>
      Promise.all(lanes.map(({ exit }) => Promise.race([exit, new Promise<void>((resolve) => setTimeout(resolve, 15_000).unref())])));
    if (done) await exited();
    for (const { child } of lanes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited();
  }
}

function memberTable(rows: readonly MemberRow[], options: Options): string {
  const ms = (x: number | undefined) => (x === undefined ? '-' : fmtMs(x));
  return [
    '| server | members | subscriptions | events | p50 ms | p99 ms | p50 / p99 ms from the ack read | p50 / p99 ms from send | CPU ms per webhook: none subscribed / matching nobody / member stream | CPU ms/s without webhooks: empty / members connected | heap KB per subscription | RSS KB per subscription | host steal % (stream) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.server === 'ours' ? `ours (${options.db})` : 'bare ws, Map'} | ${fmtRate(r.members)} | ${fmtRate(r.subscriptions)} | ${r.events}${r.incomplete ? ` (${r.incomplete} incomplete)` : ''}${r.misrouted ? ` (${r.misrouted} misrouted)` : ''} | ` +
        `${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.ackP50)} / ${fmtMs(r.ackP99)} | ${fmtMs(r.sentP50)} / ${fmtMs(r.sentP99)} | ${ms(r.cpuIdle)} / ${ms(r.cpuNobody)} / ${fmtMs(r.cpuStream)} | ${fmtMs(r.upkeepEmpty)} / ${fmtMs(r.upkeep)} | ` +
        `${r.heapKb === undefined ? '-' : r.heapKb.toFixed(2)} | ${r.rssKb.toFixed(2)} | ${r.steal === undefined ? '-' : r.steal.toFixed(1)} |`,
    ),
  ].join('\n');
}

function memberVerdicts(rows: readonly MemberRow[]): string[] {
  return verdictLines(
    rows,
    (r) => r.members,
    'members',
    (ours, bare) => {
      // The p99 above is from the answer written; from the ack read (the measure before the tenth session), for the record.
      const parts: string[] = bare
        ? [`from the ack read: p99 ${fmtMs(ours.ackP99)} vs ${fmtMs(bare.ackP99)} ms (${(ours.ackP99 / bare.ackP99).toFixed(2)}x)`]
        : [];
      if (ours.cpuIdle !== undefined) {
        const aim = ours.cpuIdle * AIM_CPU_FACTOR;
        parts.push(
          `CPU ${fmtMs(ours.cpuStream)} ms per webhook vs ${fmtMs(ours.cpuIdle)} ms with nobody subscribed (aim <= ${AIM_CPU_FACTOR}x = ${fmtMs(aim)} ms: ${ours.cpuStream <= aim ? 'met' : 'NOT met'}); matching nobody ${fmtMs(ours.cpuNobody ?? NaN)} ms`,
        );
      }
      if (ours.heapKb !== undefined)
        parts.push(
          `${ours.heapKb.toFixed(2)} KB of heap per subscription (aim <= ${AIM_MEMBER_KB}: ${ours.heapKb <= AIM_MEMBER_KB ? 'met' : 'NOT met'})`,
        );
      return parts;
    },
  );
}

// ---------------------------------------------------------------------------------------------

/**
 * One line per run of ours: its p99 against bare ws's of the same size in the same run (the aim:
 * within AIM_P99_FACTOR, every event delivered), when bare ws ran, then `more`.
 */
function verdictLines<R extends { readonly server: ServerKind; readonly p99: number; readonly incomplete: number }>(
  rows: readonly R[],
  size: (row: R) => number,
  unit: string,
  more: (ours: R, bare: R | undefined) => string[],
): string[] {
  return rows
    .filter((r) => r.server === 'ours')
    .map((ours) => {
      const bare = rows.find((r) => r.server === 'baseline' && size(r) === size(ours));
      const aim = bare && bare.p99 * AIM_P99_FACTOR;
      const p99 =
        bare && aim !== undefined
          ? [
              `p99 ${fmtMs(ours.p99)} ms vs bare ws ${fmtMs(bare.p99)} ms (aim <= ${AIM_P99_FACTOR}x = ${fmtMs(aim)} ms: ${ours.p99 <= aim && ours.incomplete === 0 ? 'met' : 'NOT met'})`,
            ]
          : [];
      return `- ${fmtRate(size(ours))} ${unit}: ${[...p99, ...more(ours, bare)].join('; ')}`;
    });
}

function table(rows: readonly Row[], options: Options): string {
  return [
    '| server | subscribers | events | p50 ms | p99 ms | p50 / p99 ms from send | events/s | KB per idle subscription |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.server === 'ours' ? `ours (${options.db})` : 'bare ws'} | ${fmtRate(r.subscribers)} | ${r.events}${r.incomplete ? ` (${r.incomplete} incomplete)` : ''} | ` +
        `${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.sentP50)} / ${fmtMs(r.sentP99)} | ${r.eventsPerSecond.toFixed(1)} | ${r.kbPerSubscription.toFixed(1)} |`,
    ),
  ].join('\n');
}

function verdicts(rows: readonly Row[]): string[] {
  return verdictLines(
    rows,
    (r) => r.subscribers,
    'subscribers',
    (ours, bare) => [
      `${ours.kbPerSubscription.toFixed(1)} KB per idle subscription (aim <= ${AIM_KB}: ${ours.kbPerSubscription <= AIM_KB ? 'met' : 'NOT met'})`,
      ...(bare ? [`bare ws ${bare.kbPerSubscription.toFixed(1)} KB per socket`] : []),
    ],
  );
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseCommandLine(parseOptions, USAGE);
  if (!options) return;
  for (const file of [MAIN_JS, STUDIO_CLI_JS, BASELINE_JS, FANOUT_SERVER_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: build first (npx tsc -p .)`);
  }
  // Each socket is one file descriptor in this process and one in the server.
  const needed = (options.members ?? Math.max(...options.counts)) + 1_024;
  const limit = openFileLimit();
  if (limit < needed && !process.env.GYMGRAPH_BENCH_ULIMIT_RAISED) {
    console.log(`open-file limit ${limit} < ${needed}: re-running under ulimit -n 65536`);
    const args = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    try {
      execFileSync('bash', ['-c', `ulimit -n 65536 && exec ${args}`], {
        stdio: 'inherit',
        env: { ...process.env, GYMGRAPH_BENCH_ULIMIT_RAISED: '1' },
      });
    } catch (error) {
      process.exitCode = (error as { status?: number }).status ?? 1;
    }
    return;
  }
  if (limit < needed) throw new Error(`open-file limit ${limit} < ${needed} and could not be raised (ulimit -Hn): use fewer --subscribers`);
  if (options.db === 'postgres') {
    const problem = await probePostgres(options.pgAdminUrl);
    if (problem) throw new Error(`PostgreSQL not reachable at ${redact(options.pgAdminUrl)} (${problem}): set BENCH_PG_URL`);
  }
  if (options.members !== undefined && process.env[LANE_ENV] && process.send) {
    const lane = laneOfParent();
    let row: MemberRow | undefined;
    try {
      row = await runMembers(options.servers[0]!, options.members, options, lane);
    } finally {
      agent.destroy();
      postAgent.destroy();
      await lane.finish(row);
    }
    return;
  }
  const cpus = os.cpus();
  console.log(
    `gymgraph fan-out bench: ${new Date().toISOString()}, node ${process.version}, ${cpus.length} CPU(s) ${cpus[0]?.model ?? ''}`.trim(),
  );
  if (options.members !== undefined) {
    const together = options.servers.length > 1 && !options.apart;
    console.log(
      `${fmtRate(options.members)} members, 2 subscriptions each; ${options.events} events at ${options.rate}/s, one member each (gaps ±${Math.round(options.jitter * 100)}%); our server on ${options.db}; open-file limit ${limit}` +
        (together ? '; both streams at once, interleaved, each server with a client process of its own' : ''),
    );
    const memberRows: MemberRow[] = [];
    if (together) memberRows.push(...(await runMembersTogether(options)));
    else for (const server of options.servers) memberRows.push(await runMembers(server, options.members, options));
    agent.destroy();
    postAgent.destroy();
    console.log(`\n## Results\n\n${memberTable(memberRows, options)}\n`);
    const lines = memberVerdicts(memberRows);
    if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
    return;
  }
  console.log(
    `subscribers ${options.counts.map(fmtRate).join(', ')}; ${options.events} events at ${options.rate}/s per run; ` +
      `our server on ${options.db}, SUBSCRIPTION_MAX_QUEUE / SUBSCRIPTION_MAX_BUFFERED_BYTES at their defaults; open-file limit ${limit}`,
  );
  const rows: Row[] = [];
  for (const n of options.counts) for (const server of options.servers) rows.push(await runOne(server, n, options));
  agent.destroy();
  postAgent.destroy();
  console.log(`\n## Results\n\n${table(rows, options)}\n`);
  const scraped = rows.filter((r) => r.scrape);
  if (scraped.length > 0) {
    console.log(
      [
        '| subscribers open | scrapes | p50 ms | p99 ms | max ms | KB per scrape |',
        '|---:|---:|---:|---:|---:|---:|',
        ...scraped.map(
          (r) =>
            `| ${fmtRate(r.subscribers)} | ${r.scrape!.count} | ${fmtMs(r.scrape!.p50)} | ${fmtMs(r.scrape!.p99)} | ${fmtMs(r.scrape!.max)} | ${(r.scrape!.bytes / 1024).toFixed(1)} |`,
        ),
      ].join('\n') + '\n',
    );
  }
  const lines = verdicts(rows);
  if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

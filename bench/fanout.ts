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
 *
 * `--scrape N` also times N scrapes of `GET /metrics` on our server while the subscribers are open
 * (after the measured stream): what Prometheus costs the instance it watches.
 */
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.js';
import {
  DEFAULT_PG_ADMIN, MAIN_JS, ROOT, fmtMs, fmtRate, freePort, freshDatabase, installCleanup, probePostgres, redact,
  rss, sampleResources, startChild, stopChild, waitIdle, waitReady, type DbKind,
  numberOption, parseCommandLine,
  UsageError,
} from './harness.js';
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
  readonly pgAdminUrl: string;
  /** Scrapes of /metrics timed with the subscribers open (0: none). */
  readonly scrapes: number;
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
  readonly scrape?: { readonly p50: number; readonly p99: number; readonly max: number; readonly bytes: number; readonly count: number } | undefined;
}

const STUDIO_CLI_JS = path.join(ROOT, 'dist', 'src', 'cli', 'studio.js');
const BASELINE_JS = path.join(__dirname, 'ws-baseline-server.js');
const TENANT_URL = 'https://bench.open-api.perfectgym.com/v1';
const ADMIN_TOKEN = `bench-admin-${randomBytes(16).toString('hex')}`;
const QUERY = 'subscription { events { seq type entityId occurredAt } }';
/** After the last webhook's 200, how long the last deliveries may take before the run gives up on them. */
const DRAIN_TIMEOUT_MS = 30_000;
/** From the issue: bare ws reaches the last of 10,000 sockets in ~145 ms p99; the aim is p99 within 2x, <= 20 KB per idle subscription. */
const AIM_P99_FACTOR = 2;
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
  --scrape N             also time N scrapes of GET /metrics with the subscribers open (default 0)

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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  if (values.db !== 'sqlite' && values.db !== 'postgres') throw new UsageError(`--db must be sqlite or postgres, got ${JSON.stringify(values.db)}`);
  const servers: Record<string, ServerKind[]> = { ours: ['ours'], baseline: ['baseline'] };
  const only = values.only === undefined ? (['ours', 'baseline'] as ServerKind[]) : servers[values.only];
  if (!only) throw new UsageError(`--only must be ours or baseline, got ${JSON.stringify(values.only)}`);
  const also = (values.also ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => Math.floor(numberOption('also', s, 1, 50_000)));
  return {
    counts: [Math.floor(numberOption('subscribers', values.subscribers, 1, 50_000)), ...also],
    servers: only,
    db: values.db,
    events: Math.floor(numberOption('events', values.events, 1, 100_000)),
    rate: numberOption('rate', values.rate, 0.1, 10_000),
    batch: Math.floor(numberOption('batch', values.batch, 1, 10_000)),
    cpuProf: values['cpu-prof'] ?? false,
    scrapes: Math.floor(numberOption('scrape', values.scrape, 0, 100_000)),
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
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

function registerStudio(databaseUrl: string): Promise<string> {
  const key = `bench-webhook-key-${randomBytes(12).toString('hex')}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [STUDIO_CLI_JS, 'add', '--name', 'Bench fan-out', '--webhook-key', key, '--tenant-url', TENANT_URL],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`studio add failed: ${stderr || error.message}`));
        else resolve(key);
      });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** POSTs a JSON body; resolves with the status and the time the answer was read in full. */
function post(port: number, urlPath: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; at: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: urlPath, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, at: performance.now(), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
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

// ---------------------------------------------------------------------------------------------
// The subscribers: raw `ws` sockets speaking graphql-transport-ws.

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

  constructor(private readonly port: number, private readonly token: string | undefined) {}

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
  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${this.port}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false });
      let acked = false;
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error('no connection_ack within 30 s'));
      }, 30_000);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: this.token ? { authorization: `Bearer ${this.token}` } : {} })));
      socket.on('message', (data: Buffer) => {
        if (acked) {
          this.receive(data);
          return;
        }
        if (data.indexOf('"connection_ack"') < 0) {
          this.unexpected += 1;
          return;
        }
        acked = true;
        clearTimeout(timer);
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
        this.sockets.push(socket);
        resolve();
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        if (!acked) reject(error);
      });
      socket.on('close', (code) => {
        clearTimeout(timer);
        this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
        if (!acked) reject(new Error(`closed with ${code} before connection_ack`));
      });
    });
  }

  /** Opens `n` sockets, `batch` at a time. */
  async connect(n: number, batch: number): Promise<void> {
    for (let done = 0; done < n; done += batch) {
      const opening: Promise<void>[] = [];
      for (let i = done; i < Math.min(n, done + batch); i++) opening.push(this.open());
      await Promise.all(opening);
    }
  }

  /** Resolves true once every socket got the event, false after `timeoutMs`. */
  delivered(entityId: number, timeoutMs: number): Promise<boolean> {
    if ((this.deliveries.get(entityId)?.received ?? 0) >= this.sockets.length) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if ((this.deliveries.get(entityId)?.received ?? 0) < this.sockets.length) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(ok);
      };
      this.watchers.add(check);
    });
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
    child = server === 'ours'
      ? startChild(label, nodeArgs, MAIN_JS, {
        DATABASE_URL: db!.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN, LOG_LEVEL: 'warn', NODE_ENV: 'production',
        // Every subscriber uses ADMIN_TOKEN, one socket each: lift the per-token and connection caps.
        WS_MAX_SOCKETS_PER_TOKEN: String(n), HTTP_MAX_CONNECTIONS: String(n + 1024),
      })
      : startChild(label, nodeArgs, BASELINE_JS, { PORT: String(port), HOST: '127.0.0.1' });
    await waitReady(child, port, label);

    /** Sends event `entityId`: a webhook (ours) or a broadcast request (bare); resolves at its 200. */
    const send = async (entityId: number): Promise<number> => {
      const answer = server === 'ours'
        ? await post(port, '/webhooks', JSON.stringify({ entityId, uuid: randomUUID(), payload: [{ timestamp: Date.now(), type: 'CUSTOMER_CHECKIN' }] }), { 'X-API-KEY': key })
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
    console.log(`  ${fmtRate(n)} sockets acknowledged and subscribed in ${((performance.now() - connectStart) / 1000).toFixed(1)} s (batches of ${options.batch})`);
    const settled = await waitIdle(child);
    console.log(`  server idle again ${settled.toFixed(1)} s later (CPU < 10 %)`);
    await sleep(1_000);
    const rssSubscribed = rss(child.pid);
    const kbPerSubscription = (rssSubscribed - rssIdle) / n / 1024;
    console.log(`  server RSS ${(rssIdle / 2 ** 20).toFixed(1)} MiB with 0 subscribers, ${(rssSubscribed / 2 ** 20).toFixed(1)} MiB with ${fmtRate(n)} idle: ` +
      `${kbPerSubscription.toFixed(1)} KB per subscription`);

    // Every subscription is live once a warm-up event reaches all of them.
    for (let i = 0; i < 3; i++) {
      const entityId = nextEntityId++;
      await send(entityId);
      if (!(await subscribers.delivered(entityId, 60_000))) {
        throw new Error(`${label}: warm-up event reached ${subscribers.deliveries.get(entityId)?.received ?? 0} of ${n} subscribers within 60 s`);
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
      acks.push(send(entityId).then((at) => {
        let delivery = subscribers!.deliveries.get(entityId);
        if (!delivery) {
          delivery = { sentAt, ackAt: at, received: 0, lastAt: 0 };
          subscribers!.deliveries.set(entityId, delivery);
        }
        delivery.sentAt = sentAt;
        delivery.ackAt = at;
      }));
    }
    await Promise.all(acks);
    const lastAck = performance.now();
    const complete = await Promise.all(ids.map((id) => subscribers!.delivered(id, Math.max(1, DRAIN_TIMEOUT_MS - (performance.now() - lastAck)))));
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
      server, subscribers: n, events: options.events,
      p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
      sentP50: percentile(sortedFromSend, 0.5), sentP99: percentile(sortedFromSend, 0.99),
      eventsPerSecond: latencies.length / ((lastDelivery - start) / 1000),
      kbPerSubscription, incomplete, closed,
    };
    if (server === 'ours' && options.scrapes > 0) {
      const scrape = await timeScrapes(port, options.scrapes);
      Object.assign(row, { scrape });
      console.log(`  ${scrape.count} scrapes of /metrics with ${fmtRate(open)} subscribers open: p50 ${fmtMs(scrape.p50)} ms, p99 ${fmtMs(scrape.p99)} ms, max ${fmtMs(scrape.max)} ms; ${(scrape.bytes / 1024).toFixed(1)} KB each`);
    }
    const negative = latencies.filter((x) => x < 0).length;
    console.log(`  ${options.events} events at ${options.rate}/s: ack -> last subscriber p50 ${fmtMs(row.p50)} ms, p99 ${fmtMs(row.p99)} ms, max ${fmtMs(row.max)} ms; ` +
      `from the webhook's send p50 ${fmtMs(row.sentP50)} ms, p99 ${fmtMs(row.sentP99)} ms; ${fmtRate(row.eventsPerSecond)} events/s delivered to all; ${incomplete} event(s) not delivered to every subscriber within ${DRAIN_TIMEOUT_MS / 1000} s` +
      `${negative ? `; ${negative} reached the last subscriber before its 200 was read` : ''}`);
    console.log(`  CPU over the stream (${wall.toFixed(1)} s): server ${before.server && after.server ? cpuShare(after.server.childCpu - before.server.childCpu) : '-'}, ` +
      `this subscriber process ${cpuShare((after.client.user + after.client.system) / 1e6)}, machine ${before.server && after.server ? cpuShare(after.server.machineCpu - before.server.machineCpu) : '-'} (of ${os.cpus().length * 100} %)`);
    console.log(`  server RSS after the stream ${(rss(child.pid) / 2 ** 20).toFixed(1)} MiB; sockets still open ${fmtRate(open)} of ${fmtRate(n)}` +
      (subscribers.closeCodes.size ? `; closed: ${[...subscribers.closeCodes].map(([code, k]) => `${code}x${k}`).join(', ')}` : '') +
      (subscribers.unexpected ? `; ${subscribers.unexpected} unexpected messages` : ''));

    // The server closes first (ours: 1001 on SIGTERM), so TIME_WAIT stays off the client's ports.
    const code = await stopChild(child);
    if (code !== 0 && code !== null) console.log(`  ${label} exited with code ${code}`);
    if (profileDir) {
      for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        console.log(`\n  CPU profile of ${label}: ${path.join(profileDir, file)}\n`);
        console.log(formatProfileSummary(summariseProfile(path.join(profileDir, file), 25)));
      }
    }
    return row;
  } finally {
    if (child) await stopChild(child);
    subscribers?.terminate();
    await db?.drop().catch((error: unknown) => console.log(`  could not drop the bench database: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------

function table(rows: readonly Row[], options: Options): string {
  return [
    '| server | subscribers | events | p50 ms | p99 ms | p50 / p99 ms from send | events/s | KB per idle subscription |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.server === 'ours' ? `ours (${options.db})` : 'bare ws'} | ${fmtRate(r.subscribers)} | ${r.events}${r.incomplete ? ` (${r.incomplete} incomplete)` : ''} | ` +
      `${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.sentP50)} / ${fmtMs(r.sentP99)} | ${r.eventsPerSecond.toFixed(1)} | ${r.kbPerSubscription.toFixed(1)} |`),
  ].join('\n');
}

function verdicts(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const ours of rows.filter((r) => r.server === 'ours')) {
    const bare = rows.find((r) => r.server === 'baseline' && r.subscribers === ours.subscribers);
    const parts: string[] = [];
    if (bare) {
      const aim = bare.p99 * AIM_P99_FACTOR;
      parts.push(`p99 ${fmtMs(ours.p99)} ms vs bare ws ${fmtMs(bare.p99)} ms (aim <= ${AIM_P99_FACTOR}x = ${fmtMs(aim)} ms: ${ours.p99 <= aim && ours.incomplete === 0 ? 'met' : 'NOT met'})`);
    }
    parts.push(`${ours.kbPerSubscription.toFixed(1)} KB per idle subscription (aim <= ${AIM_KB}: ${ours.kbPerSubscription <= AIM_KB ? 'met' : 'NOT met'})`);
    if (bare) parts.push(`bare ws ${bare.kbPerSubscription.toFixed(1)} KB per socket`);
    out.push(`- ${fmtRate(ours.subscribers)} subscribers: ${parts.join('; ')}`);
  }
  return out;
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseCommandLine(parseOptions, USAGE);
  if (!options) return;
  for (const file of [MAIN_JS, STUDIO_CLI_JS, BASELINE_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: build first (npx tsc -p .)`);
  }
  // Each socket is one file descriptor in this process and one in the server.
  const needed = Math.max(...options.counts) + 1_024;
  const limit = openFileLimit();
  if (limit < needed && !process.env.GYMGRAPH_BENCH_ULIMIT_RAISED) {
    console.log(`open-file limit ${limit} < ${needed}: re-running under ulimit -n 65536`);
    const args = [process.execPath, ...process.execArgv, ...process.argv.slice(1)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    try {
      execFileSync('bash', ['-c', `ulimit -n 65536 && exec ${args}`], { stdio: 'inherit', env: { ...process.env, GYMGRAPH_BENCH_ULIMIT_RAISED: '1' } });
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
  const cpus = os.cpus();
  console.log(`gymgraph fan-out bench: ${new Date().toISOString()}, node ${process.version}, ${cpus.length} CPU(s) ${cpus[0]?.model ?? ''}`.trim());
  console.log(`subscribers ${options.counts.map(fmtRate).join(', ')}; ${options.events} events at ${options.rate}/s per run; ` +
    `our server on ${options.db}, SUBSCRIPTION_MAX_QUEUE / SUBSCRIPTION_MAX_BUFFERED_BYTES at their defaults; open-file limit ${limit}`);

  const rows: Row[] = [];
  for (const n of options.counts) for (const server of options.servers) rows.push(await runOne(server, n, options));
  agent.destroy();
  console.log(`\n## Results\n\n${table(rows, options)}\n`);
  const scraped = rows.filter((r) => r.scrape);
  if (scraped.length > 0) {
    console.log(['| subscribers open | scrapes | p50 ms | p99 ms | max ms | KB per scrape |', '|---:|---:|---:|---:|---:|---:|',
      ...scraped.map((r) => `| ${fmtRate(r.subscribers)} | ${r.scrape!.count} | ${fmtMs(r.scrape!.p50)} | ${fmtMs(r.scrape!.p99)} | ${fmtMs(r.scrape!.max)} | ${(r.scrape!.bytes / 1024).toFixed(1)} |`)].join('\n') + '\n');
  }
  const lines = verdicts(rows);
  if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

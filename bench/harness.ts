/**
 * What the benchmarks share: child processes that are always killed, fresh bench databases that
 * are always dropped (on success, on error and on Ctrl-C), free ports on 127.0.0.1, and the
 * number formats of their tables, option parsing, a studio registered and requests to a server.
 * Used by bench/ingest.ts, bench/query.ts, bench/fanout.ts, bench/resilience.ts and bench/survivors.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

/** The repository root (these files run as dist/bench/*.js). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const MAIN_JS = path.join(ROOT, 'dist', 'src', 'main.js');
/**
 * Node's options for the service, as package.json's `start` and `serve` scripts run it (keep them
 * the same): a young generation of 16–64 MB semi-spaces. With V8's default (at most 16 MB) and
 * 10,000 open sockets, a scavenge took 3–8 ms and came every ~3.5 s under 20 webhooks/s; one that
 * fell between a webhook's commit and its delivery was the delivery p99 (bench/README.md, "Member
 * apps"). The floor keeps V8 from shrinking them to 1 MB after a quiet spell, after which a
 * scavenge came every 0.5 s (bench/README.md, "Warmed up"). Every server a bench starts from dist/
 * (ours and the baselines alike) runs with them.
 */
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=16'];
export const DEFAULT_PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
export const STUDIO_CLI_JS = path.join(ROOT, 'dist', 'src', 'cli', 'studio.js');
/** The Open API address every bench studio is registered with (never called: hydration is off in the benches). */
export const TENANT_URL = 'https://bench.open-api.perfectgym.com/v1';

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** `--name`'s value as a number in [min, max], or a UsageError naming the option and what came. */
export function numberOption(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/** `--db sqlite|postgres|both` (default both) as the databases to run on. */
export function databasesOption(raw: string | undefined): DbKind[] {
  const dbs: Record<string, DbKind[]> = { sqlite: ['sqlite'], postgres: ['postgres'], both: ['sqlite', 'postgres'] };
  const db = dbs[raw ?? 'both'];
  if (!db) throw new UsageError(`--db must be sqlite, postgres or both, got ${JSON.stringify(raw)}`);
  return db;
}

/** The options of a bench that sends webhooks at a fixed rate, then at full speed (ingest, resilience). */
export interface WebhookLoadOptions {
  readonly dbs: readonly DbKind[];
  /** Length of each measured phase, in seconds. */
  readonly seconds: number;
  /** Deliveries per second of the fixed-rate (open-loop) load. */
  readonly rate: number;
  /** Most webhook requests in flight (sockets). */
  readonly concurrency: number;
  /** Unmeasured seconds at the fixed rate before measuring. */
  readonly warmup: number;
}

/** `--db`, `--seconds`, `--rate`, `--concurrency` and `--warmup` as parsed by node:util parseArgs. */
export function webhookLoadOptions(values: {
  readonly db?: string | undefined;
  readonly seconds?: string | undefined;
  readonly rate?: string | undefined;
  readonly concurrency?: string | undefined;
  readonly warmup?: string | undefined;
}): WebhookLoadOptions {
  return {
    dbs: databasesOption(values.db),
    seconds: numberOption('seconds', values.seconds, 1, 600),
    rate: numberOption('rate', values.rate, 1, 100_000),
    concurrency: Math.floor(numberOption('concurrency', values.concurrency, 1, 4096)),
    warmup: numberOption('warmup', values.warmup, 0, 600),
  };
}

/**
 * Runs a bench's option parser: on a mistake (ours, or node:util parseArgs refusing an option)
 * prints it with the usage and sets exit code 2; when the parser returns undefined (--help),
 * prints the usage. Either way the bench should stop when this returns undefined.
 */
export function parseCommandLine<T>(parse: (argv: string[]) => T | undefined, usage: string): T | undefined {
  let options: T | undefined;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      console.error(`error: ${(error as Error).message}\n\n${usage}`);
      process.exitCode = 2;
      return undefined;
    }
    throw error;
  }
  if (!options) console.log(usage);
  return options;
}

// ---------------------------------------------------------------------------------------------
// Cleanup: every child process and database a bench creates is registered here, and released on
// normal completion, on error, and on SIGINT / SIGTERM.

const children = new Set<ChildProcess>();
const pendingDrops = new Set<() => Promise<void>>();
let cleanupInstalled = false;

/** Kills registered children when the process exits; on SIGINT / SIGTERM also drops registered databases. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      console.log(`\n${signal}: stopping child processes and dropping bench databases`);
      for (const child of children) child.kill('SIGKILL');
      const drops = [...pendingDrops].map((drop) => drop().catch(() => undefined));
      const timeout = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      void Promise.race([Promise.all(drops), timeout]).then(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Databases

export type DbKind = 'sqlite' | 'postgres';

export interface FreshDatabase {
  readonly kind: DbKind;
  /** DATABASE_URL for the service (`sqlite:<file>` or `postgres://...`). */
  readonly url: string;
  /** SQLite: the file; PostgreSQL: undefined. */
  readonly file: string | undefined;
  /** Deletes the file / drops the database. Idempotent. */
  drop(): Promise<void>;
  /** Keeps it: it is no longer dropped on exit or Ctrl-C. */
  keep(): void;
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Ends what a stopped (killed) service left running in its PostgreSQL database: its backends may
 * still be executing queries for clients that are gone. Only backends of `databaseUrl`'s database.
 */
export async function terminateBackends(adminUrl: string, databaseUrl: string): Promise<number> {
  const name = new URL(databaseUrl).pathname.slice(1);
  return withClient(
    adminUrl,
    async (client) =>
      (await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]))
        .rowCount ?? 0,
  );
}

/** Why PostgreSQL cannot be used, or undefined when it can. */
export async function probePostgres(adminUrl: string): Promise<string | undefined> {
  try {
    await withClient(adminUrl, (client) => client.query('SELECT 1'));
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  }
}

/** A connection URL without its password, for messages. */
export const redact = (url: string) => url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1@');

/**
 * A new empty database: a SQLite file in a fresh temporary directory, or a PostgreSQL database
 * `<prefix>_<random>` created on `pgAdminUrl`. Registered for dropping on Ctrl-C.
 */
export async function freshDatabase(kind: DbKind, pgAdminUrl: string, prefix: string): Promise<FreshDatabase> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix.replace(/_/g, '-')}-`));
    const file = path.join(dir, 'x.sqlite');
    const drop = async () => {
      pendingDrops.delete(drop);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    pendingDrops.add(drop);
    return { kind, url: `sqlite:${file}`, file, drop, keep: () => pendingDrops.delete(drop) };
  }
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withClient(pgAdminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    pendingDrops.delete(drop);
    await withClient(pgAdminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  pendingDrops.add(drop);
  return { kind, url: url.toString(), file: undefined, drop, keep: () => pendingDrops.delete(drop) };
}

// ---------------------------------------------------------------------------------------------
// Child processes

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Longest line of a child's output shown (a stack trace in a JSON log line can run to kilobytes). */
const MAX_FORWARDED_LINE = 600;
const cut = (line: string) =>
  line.length > MAX_FORWARDED_LINE ? `${line.slice(0, MAX_FORWARDED_LINE)}… (${line.length} characters)` : line;

/** Forwards a child's output, each line prefixed with its label. */
function forward(stream: NodeJS.ReadableStream | null, label: string): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) console.log(`  [${label}] ${cut(line)}`);
  });
  stream.on('end', () => {
    if (buffered.trim()) console.log(`  [${label}] ${cut(buffered)}`);
  });
}

/** `node [nodeArgs] script [args]` as a registered child; its output is shown prefixed `[label]`. */
export function startChild(
  label: string,
  nodeArgs: readonly string[],
  script: string,
  env: Record<string, string>,
  options: { readonly args?: readonly string[]; readonly cwd?: string } = {},
): ChildProcess {
  const fromDist = script.startsWith(path.join(ROOT, 'dist') + path.sep);
  const child = spawn(process.execPath, [...(fromDist ? SERVICE_NODE_OPTIONS : []), ...nodeArgs, script, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  forward(child.stdout, label);
  forward(child.stderr, label);
  return child;
}

/** Runs `node script args` (e.g. a CLI of ours) to completion; resolves with its stdout, rejects with its stderr. */
export function execNode(script: string, args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${path.basename(script)} ${args[0] ?? ''} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM (our server drains and exits), SIGKILL after `killAfterMs` (20 s by default). */
export async function stopChild(child: ChildProcess, killAfterMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    return await exited(child);
  } finally {
    clearTimeout(timer);
  }
}

function getStatus(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls `urlPath` until it answers `okStatus` (`'any'`: any HTTP answer), the child exits, or 60 s pass. */
export async function waitReady(
  child: ChildProcess,
  port: number,
  label: string,
  urlPath = '/readyz',
  okStatus: number | 'any' = 200,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    const status = await getStatus(port, urlPath);
    if (okStatus === 'any' ? status !== 0 : status === okStatus) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${label} was not ready on port ${port} within 60 s`);
}

// ---------------------------------------------------------------------------------------------
// Resources (Linux /proc)

export interface ResourceSample {
  /** Bytes the child caused to be written to storage, and its write syscalls (/proc/<pid>/io). */
  readonly writeBytes: number;
  readonly writeCalls: number;
  /** CPU seconds of the child (/proc/<pid>/stat utime + stime). */
  readonly childCpu: number;
  /** Busy CPU seconds of the whole machine, all cores (/proc/stat): server + database + load generator. */
  readonly machineCpu: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** The child's and the machine's cumulative counters (Linux only), or undefined where unavailable. */
export function sampleResources(child: ChildProcess): ResourceSample | undefined {
  try {
    const io = fs.readFileSync(`/proc/${child.pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const childCpu = (Number(after[11]) + Number(after[12])) / CLOCK_TICKS_PER_SECOND;
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    const machineCpu = (cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0)) / CLOCK_TICKS_PER_SECOND;
    const sample = { writeBytes: field('write_bytes'), writeCalls: field('syscw'), childCpu, machineCpu };
    return Object.values(sample).every(Number.isFinite) ? sample : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU time since boot, all cores, and the part of it the hypervisor gave to other
 * guests ("steal", /proc/stat), in clock ticks; undefined where unavailable. On a virtual machine a
 * stolen stretch stalls whatever runs then for milliseconds: the more steal during a measurement,
 * the more its tail shows the host's neighbours rather than the code measured.
 */
export function machineTimes(): { readonly total: number; readonly steal: number } | undefined {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is counted in user)
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const steal = cpu[7];
    return Number.isFinite(total) && steal !== undefined && Number.isFinite(steal) ? { total, steal } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The response header in which a bench's server writes when it answered a webhook, in ms of the
 * machine's monotonic clock ({@link monotonicMs}): bench/fanout-server.ts for ours,
 * bench/ws-baseline-server.ts for the bare server (which spells it out rather than import this).
 */
export const ANSWERED_AT_HEADER = 'x-bench-answered-at';

/**
 * performance.now() ms of this process as ms of the machine's monotonic clock (CLOCK_MONOTONIC,
 * process.hrtime), the same in every process: a bench's client and its server can then say which
 * of them a delivery's time went to (bench/fanout.ts --members --timings).
 */
export function monotonicMs(): (now: number) => number {
  const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  return (now) => now + offset;
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export function rss(pid: number | undefined): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1]);
  return kb * 1024;
}

/**
 * Waits until the child's CPU use falls under 10 % over half a second (at most `maxMs`): what was
 * sent to it has all been processed. Returns the seconds waited.
 */
export async function waitIdle(child: ChildProcess, maxMs = 120_000): Promise<number> {
  const start = performance.now();
  let before = sampleResources(child)?.childCpu;
  while (performance.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = sampleResources(child)?.childCpu;
    if (before === undefined || now === undefined) return (performance.now() - start) / 1000;
    if (now - before < 0.05) break;
    before = now;
  }
  return (performance.now() - start) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Output

export const fmtMs = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
export const fmtRate = (x: number) => Math.round(x).toLocaleString('en-US');
export const fmtErrors = (r: { readonly errors: number; readonly errorKinds: Readonly<Record<string, number>> }) =>
  r.errors === 0
    ? '0'
    : `${r.errors} (${Object.entries(r.errorKinds)
        .map(([kind, n]) => `${kind}×${n}`)
        .join(', ')})`;

// ---------------------------------------------------------------------------------------------
// Requests

/** Registers one studio with a fresh webhook key (studio CLI) in the service's database; resolves with the key. */
export function registerStudio(databaseUrl: string): Promise<string> {
  const key = `bench-webhook-key-${randomBytes(12).toString('hex')}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [STUDIO_CLI_JS, 'add', '--name', 'Bench fan-out', '--webhook-key', key, '--tenant-url', TENANT_URL],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (error, _stdout, stderr) => {
        if (error) reject(new Error(`studio add failed: ${stderr || error.message}`));
        else resolve(key);
      },
    );
  });
}

/** The agent of {@link post}: keep-alive, as a webhook sender is; destroy it for the process to end. */
export const postAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/**
 * POSTs a JSON body to 127.0.0.1:`port`; resolves with the status and the time the answer was read
 * in full. `agent`: {@link postAgent}'s kept-alive sockets, or false for a socket of its own.
 */
export function post(
  port: number,
  urlPath: string,
  body: string,
  headers: Record<string, string> = {},
  agent: http.Agent | false = postAgent,
): Promise<{ status: number; at: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            at: performance.now(),
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed (its keep-alive timeout) just as this request took it
      // from the pool: sent once more, on a socket of its own (no agent, so not another stale one
      // from the pool), as Node's documentation advises (http.ClientRequest's reusedSocket). It
      // failed a bench run once, in the bare server's lane, after its pooled sockets had idled
      // through a 15 s upkeep window. Should the server have read the request before the reset,
      // the retry repeats it: a webhook's uuid makes that a duplicate our server answers alike.
      if (req.reusedSocket && error.code === 'ECONNRESET' && agent !== false)
        post(port, urlPath, body, headers, false).then(resolve, reject);
      else reject(error);
    });
    req.end(body);
  });
}

/** GETs JSON from 127.0.0.1:`port`; rejects on any status but 200, or after 60 s without an answer. */
export function getJson<T>(port: number, urlPath: string, agent?: http.Agent): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`GET ${urlPath} answered ${res.statusCode}: ${text.slice(0, 200)}`));
        else resolve(JSON.parse(text) as T);
      });
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
  });
}

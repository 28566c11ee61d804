/**
 * Ingest benchmark: `npm run bench:ingest -- [--db sqlite|postgres|both] [--seconds N] [--rate N]
 * [--concurrency N] [--only ours|baseline] [--warmup N] [--studios N] [--customers N] [--cpu-prof]
 * [--poison F] [--poison-kind deep|nul-type|far-timestamp|uuid-reuse|mixed] [--metrics on|off|both]`.
 *
 * `--metrics both` runs our server twice per database, with METRICS_ENABLED=true and =false, and
 * reports the throughput of the two next to each other: what the instrumentation costs ingest.
 *
 * For each database it starts, as child processes on 127.0.0.1, our server (`node dist/src/main.js`)
 * and the bare-insert baseline (`node dist/bench/baseline-server.js`), each against a fresh
 * database, and drives them from this process with realistic deliveries (bench/deliveries.ts):
 * first at a fixed rate (open loop), then at full speed (closed loop, N requests in flight).
 * With `--poison F`, our server runs a second full-speed phase where a fraction F of the deliveries
 * can never be stored (bench/deliveries.ts `PoisonedStream`), reported next to the clean one: good
 * deliveries per second and their ack p99.
 * Prints events/s and ack latency per phase, then a markdown table. See bench/README.md.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.js';
import { DeliveryGenerator, POISON_KINDS, PoisonedStream, type PoisonKind } from './deliveries.js';
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
  probePostgres,
  redact,
  sampleResources,
  startChild,
  stopChild,
  waitReady,
  withClient,
  type DbKind,
  type ResourceSample,
  numberOption,
  parseCommandLine,
  webhookLoadOptions,
  type WebhookLoadOptions,
  STUDIO_CLI_JS,
  TENANT_URL,
  UsageError,
} from './harness.js';
import { fixedRate, fullSpeed, type PhaseResult, type Target } from './load.js';

type ServerKind = 'ours' | 'baseline';

interface Options extends WebhookLoadOptions {
  readonly servers: readonly ServerKind[];
  readonly studios: number;
  readonly customers: number;
  readonly cpuProf: boolean;
  readonly pgAdminUrl: string;
  /** Fraction of poison deliveries in the extra full-speed phase; 0: no such phase. */
  readonly poison: number;
  readonly poisonKind: PoisonKind | 'mixed';
  /** METRICS_ENABLED of our server's runs: each value is one run per database. */
  readonly metrics: readonly boolean[];
}

interface Row {
  readonly db: DbKind;
  readonly server: ServerKind;
  /** METRICS_ENABLED of our server in this run. */
  readonly metrics: boolean;
  readonly result: PhaseResult;
  /** Fraction of poison deliveries in the phase. */
  readonly poison: number;
}

const BASELINE_JS = path.join(__dirname, 'baseline-server.js');
/** Full-speed targets from the issue, events/s. */
const TARGETS: Record<DbKind, number> = { sqlite: 6_500, postgres: 4_000 };
const FIXED_P99_TARGET_MS = 50;

const USAGE = `usage: npm run bench:ingest -- [options]

  --db sqlite|postgres|both   databases to run (default both)
  --only ours|baseline        run only our server or only the bare-insert baseline (default both)
  --seconds N                 length of each measured phase (default 10)
  --rate N                    fixed-rate phase, deliveries per second (default 500)
  --concurrency N             full-speed phase, requests in flight (default 64)
  --warmup N                  unmeasured seconds at the fixed rate before measuring (default 2)
  --studios N                 studios (of one tenant) the deliveries are spread over (default 3)
  --customers N               customers of the tenant (default 20000)
  --cpu-prof                  run our server under node --cpu-prof and summarise the profile
  --poison F                  after the full-speed phase, a second one where a fraction F (0-0.5) of
                              the deliveries can never be stored; good deliveries/s and their ack p99
                              are reported next to the clean phase's (default 0: no such phase)
  --poison-kind K             deep (content 5,000 levels deep), nul-type (NUL in type), far-timestamp
                              (9000000000000000), uuid-reuse (an earlier uuid, another body) or
                              mixed, all in turn (default mixed)
  --metrics on|off|both       METRICS_ENABLED of our server; both: one run with each, compared (default on)

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}) is where a fresh database
gymgraph_bench_<random> is created and dropped afterwards; unreachable means skipped.`;

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      db: { type: 'string', default: 'both' },
      only: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '2' },
      studios: { type: 'string', default: '3' },
      customers: { type: 'string', default: '20000' },
      'cpu-prof': { type: 'boolean', default: false },
      poison: { type: 'string', default: '0' },
      'poison-kind': { type: 'string', default: 'mixed' },
      metrics: { type: 'string', default: 'on' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const servers: Record<string, ServerKind[]> = { ours: ['ours'], baseline: ['baseline'] };
  const only = values.only === undefined ? (['ours', 'baseline'] as ServerKind[]) : servers[values.only];
  if (!only) throw new UsageError(`--only must be ours or baseline, got ${JSON.stringify(values.only)}`);
  const poisonKind = [...POISON_KINDS, 'mixed' as const].find((k) => k === values['poison-kind']);
  if (!poisonKind)
    throw new UsageError(`--poison-kind must be one of ${POISON_KINDS.join(', ')} or mixed, got ${JSON.stringify(values['poison-kind'])}`);
  const metrics = ({ on: [true], off: [false], both: [true, false] } as Record<string, boolean[]>)[values.metrics ?? 'on'];
  if (!metrics) throw new UsageError(`--metrics must be on, off or both, got ${JSON.stringify(values.metrics)}`);
  return {
    metrics,
    ...webhookLoadOptions(values),
    servers: only,
    studios: Math.floor(numberOption('studios', values.studios, 1, 50)),
    customers: Math.floor(numberOption('customers', values.customers, 1, 10_000_000)),
    cpuProf: values['cpu-prof'] ?? false,
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
    poison: numberOption('poison', values.poison, 0, 0.5),
    poisonKind,
  };
}

// ---------------------------------------------------------------------------------------------
// Databases

interface BenchDatabase {
  readonly kind: DbKind;
  /** DATABASE_URL for the child processes. */
  readonly url: string;
  /** Rows in a table, read after the server has stopped. */
  count(table: string): Promise<number>;
  /**
   * PostgreSQL: the next transaction id, so the difference over a phase counts the writing
   * transactions started (cluster-wide, so other activity on the server counts too). The
   * statistics views are no use here: idle backends publish them only after 10 s. SQLite: undefined.
   */
  commits(): Promise<number | undefined>;
  drop(): Promise<void>;
}

async function benchDatabase(kind: DbKind, options: Options): Promise<BenchDatabase> {
  const db = await freshDatabase(kind, options.pgAdminUrl, 'gymgraph_bench');
  const file = db.file;
  if (file !== undefined) {
    return {
      kind,
      url: db.url,
      drop: db.drop,
      commits: async () => undefined,
      count: async (table) => {
        const sqlite = new Database(file, { readonly: true });
        try {
          return Number((sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
        } finally {
          sqlite.close();
        }
      },
    };
  }
  return {
    kind,
    url: db.url,
    drop: db.drop,
    count: (table) => withClient(db.url, async (client) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)),
    commits: () =>
      withClient(options.pgAdminUrl, async (client) =>
        Number((await client.query('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid')).rows[0]?.xid),
      ),
  };
}

function describeResources(before: ResourceSample | undefined, after: ResourceSample | undefined, events: number): string {
  if (!before || !after || events === 0) return '';
  const bytes = after.writeBytes - before.writeBytes;
  const calls = after.writeCalls - before.writeCalls;
  const perEvent = (seconds: number) => `${((seconds * 1e6) / events).toFixed(0)} µs/event`;
  return (
    `    server CPU ${perEvent(after.childCpu - before.childCpu)}, whole machine CPU ${perEvent(after.machineCpu - before.machineCpu)}; ` +
    `server wrote ${(bytes / 1e6).toFixed(1)} MB to storage (${(bytes / events / 1024).toFixed(1)} KiB/event), ${(calls / events).toFixed(2)} write syscalls/event`
  );
}

/** Registers `count` studios of one tenant with the studio CLI; returns their webhook keys. */
async function registerStudios(databaseUrl: string, count: number): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 1; i <= count; i++) {
    const key = `bench-webhook-key-${i}-${randomBytes(12).toString('hex')}`;
    await execNode(STUDIO_CLI_JS, ['add', '--name', `Bench ${i}`, '--webhook-key', key, '--tenant-url', TENANT_URL], {
      DATABASE_URL: databaseUrl,
    });
    keys.push(key);
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// One server against one fresh database: warm-up, fixed rate, full speed.

const modeLabel = (r: PhaseResult, options: Options, poison = 0) =>
  (r.mode === 'fixed' ? `fixed ${options.rate}/s` : `full c=${options.concurrency}`) + (poison > 0 ? `, ${fmtPercent(poison)} poison` : '');
const fmtPercent = (fraction: number) => `${+(fraction * 100).toFixed(2)} %`;

function describePhase(label: string, r: PhaseResult, options: Options, poison = 0): string {
  return (
    `  ${label} ${modeLabel(r, options, poison)}: ${fmtRate(r.eventsPerSecond)} events/s over ${r.seconds.toFixed(1)} s, ` +
    `ack p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, max ${fmtMs(r.max)} ms; sent ${r.sent}, 200s ${r.ok}, errors ${fmtErrors(r)}`
  );
}

async function runServer(kind: DbKind, server: ServerKind, options: Options, mix: Map<string, number>, metrics: boolean): Promise<Row[]> {
  const label = `${server} ${kind}${server === 'ours' && options.metrics.length > 1 ? ` metrics ${metrics ? 'on' : 'off'}` : ''}`;
  console.log(`\n== ${label}`);
  const db = await benchDatabase(kind, options);
  let child: ChildProcess | undefined;
  try {
    const keys = server === 'ours' ? await registerStudios(db.url, options.studios) : ['bench-baseline-key-0000'];
    if (server === 'ours') console.log(`  registered ${keys.length} studio(s) of one tenant (${TENANT_URL})`);
    const port = await freePort();
    let profileDir: string | undefined;
    const nodeArgs: string[] = [];
    if (server === 'ours' && options.cpuProf) {
      profileDir = fs.mkdtempSync(path.join(os.tmpdir(), `gymgraph-bench-prof-${kind}-`));
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    child = startChild(label, nodeArgs, server === 'ours' ? MAIN_JS : BASELINE_JS, {
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      METRICS_ENABLED: String(metrics),
    });
    await waitReady(child, port, label);

    const generator = new DeliveryGenerator({ customers: options.customers });
    const target: Target = { port, keys, nextBody: () => generator.nextBody() };
    let acked = 0;
    if (options.warmup > 0) {
      const warm = await fixedRate(target, { rate: options.rate, seconds: options.warmup, concurrency: options.concurrency });
      acked += warm.ok;
      console.log(`  warm-up: ${warm.ok}/${warm.sent} acknowledged${warm.errors ? `, errors ${fmtErrors(warm)}` : ''}`);
    }
    const rows: Row[] = [];
    const fixed = await fixedRate(target, { rate: options.rate, seconds: options.seconds, concurrency: options.concurrency });
    console.log(describePhase(label, fixed, options));
    rows.push({ db: kind, server, metrics, result: fixed, poison: 0 });
    const commitsBefore = await db.commits();
    const ioBefore = sampleResources(child);
    const full = await fullSpeed(target, { seconds: options.seconds, concurrency: options.concurrency });
    const ioAfter = sampleResources(child);
    console.log(describePhase(label, full, options));
    const io = describeResources(ioBefore, ioAfter, full.ok);
    if (io) console.log(io);
    if (commitsBefore !== undefined) {
      const commits = ((await db.commits()) ?? commitsBefore) - commitsBefore;
      if (commits > 0)
        console.log(
          `    PostgreSQL: ${commits} writing transactions during the phase (${(full.ok / commits).toFixed(1)} deliveries per transaction)`,
        );
    }
    rows.push({ db: kind, server, metrics, result: full, poison: 0 });
    acked += fixed.ok + full.ok;
    console.log(`    events/s by second: ${full.perSecond.map(fmtRate).join(' ')}`);
    for (const r of [fixed, full]) for (const sample of r.errorSamples) console.log(`    error sample: ${sample}`);

    if (server === 'ours' && options.poison > 0) {
      // Same server, same growing tables, right after the clean phase: the difference is the poison.
      const poison = new PoisonedStream(generator, options.poison, 7, options.poisonKind === 'mixed' ? POISON_KINDS : [options.poisonKind]);
      const mixed: Target = { ...target, nextBody: () => poison.next() };
      const dirty = await fullSpeed(mixed, { seconds: options.seconds, concurrency: options.concurrency });
      console.log(describePhase(label, dirty, options, options.poison));
      console.log(
        `    good deliveries: ${fmtRate(full.eventsPerSecond)}/s (ack p99 ${fmtMs(full.okP99)} ms) without poison, ` +
          `${fmtRate(dirty.eventsPerSecond)}/s (ack p99 ${fmtMs(dirty.okP99)} ms) with ${fmtPercent(options.poison)} ${options.poisonKind} poison ` +
          `(${poison.poisonSent} poison sent; ${((dirty.eventsPerSecond / full.eventsPerSecond) * 100).toFixed(0)} % of the clean rate)`,
      );
      console.log(`    events/s by second: ${dirty.perSecond.map(fmtRate).join(' ')}`);
      const unexpected = Object.entries(dirty.errorKinds).filter(([status]) => status !== '400');
      if (unexpected.length > 0)
        console.log(`    UNEXPECTED answers besides 400 for poison: ${unexpected.map(([k, n]) => `${k}×${n}`).join(', ')}`);
      for (const sample of dirty.errorSamples.slice(0, 2)) console.log(`    error sample: ${sample}`);
      rows.push({ db: kind, server, metrics, result: dirty, poison: options.poison });
      acked += dirty.ok;
    }

    const code = await stopChild(child);
    if (code !== 0) console.log(`  ${label} exited with code ${code}`);
    const stored = await db.count(server === 'ours' ? 'events' : 'bench_events');
    console.log(
      `  check: ${stored} rows in the ${server === 'ours' ? 'event log' : 'table'}, ${acked} deliveries acknowledged` +
        (stored === acked ? ' (match)' : ' (MISMATCH)'),
    );
    for (const [type, n] of generator.counts) mix.set(type, (mix.get(type) ?? 0) + n);

    if (profileDir) {
      const profiles = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      for (const file of profiles) {
        console.log(`\n  CPU profile of ${label}: ${path.join(profileDir, file)}\n`);
        console.log(formatProfileSummary(summariseProfile(path.join(profileDir, file), 20)));
      }
    }
    return rows;
  } finally {
    if (child) await stopChild(child);
    await db.drop().catch((error: unknown) => console.log(`  could not drop the bench database: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------

function table(rows: readonly Row[], options: Options): string {
  const lines = [
    '| db | server | mode | events/s (200s) | p50 ms | p99 ms | p99 of 200s ms | max ms | errors |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      ({ db, server, metrics, result: r, poison }) =>
        `| ${db} | ${server === 'ours' ? (options.metrics.length > 1 ? `ours, metrics ${metrics ? 'on' : 'off'}` : 'ours') : 'bare insert'} | ${modeLabel(r, options, poison)} | ${fmtRate(r.eventsPerSecond)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(r.okP99)} | ${fmtMs(r.max)} | ${fmtErrors(r)} |`,
    ),
  ];
  return lines.join('\n');
}

function verdicts(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const db of ['sqlite', 'postgres'] as const) {
    const find = (server: ServerKind, mode: 'fixed' | 'full', metrics = true) =>
      rows.find(
        (r) =>
          r.db === db &&
          r.server === server &&
          r.result.mode === mode &&
          r.poison === 0 &&
          (server === 'baseline' || r.metrics === metrics),
      )?.result ??
      (server === 'ours'
        ? rows.find((r) => r.db === db && r.server === server && r.result.mode === mode && r.poison === 0)?.result
        : undefined);
    const ours = find('ours', 'full');
    const bare = find('baseline', 'full');
    const fixed = find('ours', 'fixed');
    if (!ours && !bare) continue;
    const parts: string[] = [];
    if (ours) {
      parts.push(
        `full speed ${fmtRate(ours.eventsPerSecond)} events/s (target >= ${fmtRate(TARGETS[db])}: ${ours.eventsPerSecond >= TARGETS[db] ? 'met' : 'NOT met'})`,
      );
    }
    if (ours && bare)
      parts.push(`${((ours.eventsPerSecond / bare.eventsPerSecond) * 100).toFixed(0)}% of bare insert (${fmtRate(bare.eventsPerSecond)})`);
    const off = find('ours', 'full', false);
    if (ours && off && off !== ours) {
      const offFixed = find('ours', 'fixed', false);
      parts.push(
        `metrics on ${fmtRate(ours.eventsPerSecond)} vs off ${fmtRate(off.eventsPerSecond)} events/s (${((ours.eventsPerSecond / off.eventsPerSecond) * 100).toFixed(0)} %)` +
          (fixed && offFixed ? `, fixed-rate ack p99 ${fmtMs(fixed.p99)} vs ${fmtMs(offFixed.p99)} ms` : ''),
      );
    }
    if (fixed)
      parts.push(
        `ack p99 at the fixed rate ${fmtMs(fixed.p99)} ms (target < ${FIXED_P99_TARGET_MS}: ${fixed.p99 < FIXED_P99_TARGET_MS ? 'met' : 'NOT met'})`,
      );
    out.push(`- ${db}: ${parts.length > 0 ? parts.join('; ') : `bare insert ${fmtRate(bare!.eventsPerSecond)} events/s`}`);
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
  const cpus = os.cpus();
  console.log(
    `gymgraph ingest bench: ${new Date().toISOString()}, node ${process.version}, ${cpus.length} CPU(s) ${cpus[0]?.model ?? ''}`.trim(),
  );
  console.log(
    `phases: ${options.warmup} s warm-up, ${options.seconds} s at ${options.rate} deliveries/s, ${options.seconds} s full speed with ` +
      `${options.concurrency} in flight; ${options.studios} studio(s), ${options.customers} customers; one event per delivery`,
  );

  const rows: Row[] = [];
  const mix = new Map<string, number>();
  for (const kind of options.dbs) {
    if (kind === 'postgres') {
      const problem = await probePostgres(options.pgAdminUrl);
      if (problem) {
        console.log(`\n== PostgreSQL not reachable at ${redact(options.pgAdminUrl)} (${problem}): PostgreSQL SKIPPED (set BENCH_PG_URL)`);
        continue;
      }
    }
    for (const server of options.servers) {
      for (const metrics of server === 'ours' ? options.metrics : [true])
        rows.push(...(await runServer(kind, server, options, mix, metrics)));
    }
  }

  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  if (total > 0) {
    console.log(
      `\ndelivery mix (${total} generated): ` +
        [...mix.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([type, n]) => `${type} ${((n / total) * 100).toFixed(1)}%`)
          .join(', '),
    );
  }
  console.log(`\n## Results\n\n${table(rows, options)}\n`);
  const lines = verdicts(rows);
  if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

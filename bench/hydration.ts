import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { loadConfig } from '../src/config.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { createLogger } from '../src/log.js';
import { start, type App } from '../src/main.js';
import { startStandin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import {
  DEFAULT_PG_ADMIN,
  UsageError,
  fmtRate,
  freshDatabase,
  installCleanup,
  parseCommandLine,
  probePostgres,
  redact,
  type DbKind,
} from './harness.js';

/**
 * `node dist/bench/hydration.js [--db sqlite|postgres] [--events 10000] [--customers 150] [--limit 1000] [--instances 1] [--redis <url>|off]`
 *
 * A burst of webhook deliveries (the stand-in world's own stream: customers created and updated,
 * contracts, check-ins, class and appointment bookings, slots, devices, finance) is posted to the
 * service as fast as it takes them; the stand-in upstream enforces `--limit` requests per minute per
 * endpoint (429 beyond, for the rest of the minute). Reported: how long until every event is scanned
 * and every job done, and the peak request rate per endpoint the stand-in saw (any 60 s span), which
 * must stay under the limit. Everything runs in this process on 127.0.0.1.
 *
 * `--instances N` (PostgreSQL only) runs N service instances on the one database, each with its own
 * Open API limits, taking the webhooks in turn; with `--redis` (default `BENCH_REDIS_URL` or
 * redis://127.0.0.1:6379 when N > 1) they share those limits through Redis (`REDIS_URL`); `--redis off`
 * shows what N instances without Redis do to the upstream.
 */
interface Options {
  readonly db: DbKind;
  readonly events: number;
  readonly customers: number;
  readonly limit: number;
  readonly instances: number;
  readonly redis: string | undefined;
}

const USAGE =
  'usage: node dist/bench/hydration.js [--db sqlite|postgres] [--events 10000] [--customers 150] [--limit 1000] [--instances 1] [--redis <url>|off]';

function parse(argv: string[]): Options {
  const options = { db: 'sqlite' as DbKind, events: 10_000, customers: 150, limit: 1000, instances: 1 };
  let redis: string | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (name === '--db' && (value === 'sqlite' || value === 'postgres')) options.db = value;
    else if (name === '--redis') redis = value;
    else if (name === '--events' || name === '--customers' || name === '--limit' || name === '--instances') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer`);
      options[name.slice(2) as 'events' | 'customers' | 'limit' | 'instances'] = n;
    } else throw new UsageError(`unknown option ${name} ${value}`);
  }
  if (options.instances > 1 && options.db !== 'postgres')
    throw new UsageError('--instances above 1 needs --db postgres (instances share one database)');
  redis ??= options.instances > 1 ? (process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379') : 'off';
  return { ...options, redis: redis === 'off' ? undefined : redis };
}

function post(agent: http.Agent, port: number, key: string, body: unknown): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-api-key': key },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

async function main(): Promise<void> {
  const options = parseCommandLine((argv) => parse(argv), USAGE);
  if (!options) return;
  installCleanup();
  const pgAdmin = process.env.BENCH_PG_URL ?? DEFAULT_PG_ADMIN;
  if (options.db === 'postgres' && (await probePostgres(pgAdmin)) !== undefined)
    throw new Error(`PostgreSQL not reachable at ${redact(pgAdmin)}`);

  // A world big enough that its stream has at least `--events` deliveries; the burst is its first `--events`.
  // One studio, so one Open API key: the upstream counts its limit per key and endpoint, and the
  // stand-in's per-endpoint figures are then exactly what that limit applies to.
  let days = 14;
  let world = new World({ seed: 42, studios: 1, customersPerStudio: options.customers, days });
  while (world.deliveries.length < options.events && days < 730) {
    days *= 2;
    world = new World({ seed: 42, studios: 1, customersPerStudio: options.customers, days });
  }
  const burst = world.deliveries.slice(0, options.events);
  const standin = await startStandin({ world, limitPerWindow: options.limit, windowMs: 60_000 });
  const database = await freshDatabase(options.db, pgAdmin, 'gymgraph_bench_hydration');
  const redis = options.redis ? { REDIS_URL: options.redis, REDIS_CHANNEL: `gymgraph-bench:${randomBytes(6).toString('hex')}:events` } : {};
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    ...redis,
  });
  const apps: App[] = [];
  try {
    for (let i = 0; i < options.instances; i++) apps.push(await start(config, createLogger('warn')));
    const app = apps[0]!;
    for (const s of world.studios) {
      await new StudioService(app.dataSource).add({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl });
    }
    const ports = apps.map((a) => Number(new URL(a.url).port));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const sql = (text: string) => app.dataSource.query(text);
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < burst.length) {
          const at = next++;
          const d = burst[at]!;
          const status = await post(agent, ports[at % ports.length]!, d.webhookKey, d.body);
          if (status !== 200) throw new Error(`webhook answered ${status}`);
        }
      }),
    );
    const posted = Date.now() - started;
    agent.destroy();
    for (;;) {
      const [events] = await sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
      const [cursor] = await sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
      const [open] = await sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ('queued', 'running', 'retrying')`);
      if (Number(cursor.seq) >= Number(events.max) && Number(open.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const total = Date.now() - started;
    const jobs = (await sql(`SELECT "state", COUNT(*) AS "n" FROM hydration_jobs GROUP BY "state"`)) as {
      state: string;
      n: string | number;
    }[];
    const [hydrated] = await sql(`SELECT COUNT(*) AS "n" FROM events WHERE "type" = 'GYMGRAPH_RECORD_HYDRATED'`);
    const stats = standin.stats();

    const instances =
      options.instances === 1
        ? ''
        : `; ${options.instances} instances, ${options.redis ? 'limits shared through Redis' : 'no Redis: limits per instance'}`;
    process.stdout.write(
      `hydration of a burst of ${fmtRate(burst.length)} events (${options.db}${instances}; stand-in limit ${options.limit} requests/min per endpoint; client limit ${config.openApi.requestsPerMinute}/min)\n`,
    );
    process.stdout.write(
      `  webhooks posted in ${(posted / 1000).toFixed(1)} s; every event scanned and every job done after ${(total / 1000).toFixed(1)} s\n`,
    );
    process.stdout.write(
      `  jobs: ${jobs.map((j) => `${j.state} ${j.n}`).join(', ')}; records changed (GYMGRAPH_RECORD_HYDRATED): ${hydrated.n}\n`,
    );
    process.stdout.write(
      `  ${'endpoint'.padEnd(56)} ${'requests'.padStart(8)} ${'peak/60s'.padStart(9)} ${'429'.padStart(5)} ${'503'.padStart(5)}\n`,
    );
    let over = false;
    for (const [endpoint, s] of Object.entries(stats).sort((a, b) => b[1].requests - a[1].requests)) {
      over ||= s.peakSliding > options.limit;
      process.stdout.write(
        `  ${endpoint.padEnd(56)} ${String(s.requests).padStart(8)} ${String(s.peakSliding).padStart(9)} ${String(s.byStatus[429] ?? 0).padStart(5)} ${String(s.byStatus[503] ?? 0).padStart(5)}\n`,
      );
    }
    const peak = Math.max(...Object.values(stats).map((s) => s.peakSliding));
    process.stdout.write(
      `  peak request rate on any endpoint: ${peak} per 60 s (limit ${options.limit}) -> ${over ? 'OVER THE LIMIT' : 'under the limit'}\n`,
    );
    if (over) process.exitCode = 1;
  } finally {
    for (const app of apps) await app.stop();
    await standin.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof UsageError ? '' : 'bench failed: '}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = process.exitCode || 1;
});

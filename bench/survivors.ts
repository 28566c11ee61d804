/**
 * What our server keeps through a young-generation collection while it ingests webhooks: the
 * bytes each collection must copy (and, a collection later, promote), and how much of them is dead
 * already — kept only by dead objects of the old generation, or allocated there outright.
 *
 *   npx tsc -p . && node dist/bench/survivors.js [--db postgres|sqlite] [--rate 20] [--window 6000] [--rounds 3]
 *
 * Our server (bench/fanout-server.ts, `start()` of src/main.ts; nobody subscribed) on a fresh
 * database, one studio, 2,000 webhooks at 100/s to warm it up. Then, in turn, a window without
 * webhooks (the reference: what the idle server keeps) and a window with webhooks at `--rate`
 * (each a CUSTOMER_CHECKIN or CLASS_BOOKING_UPDATED of a fresh id), `--rounds` times. Each window
 * is the server's GET /survivors: a full collection at its start (nothing dead is left in the old
 * generation), then, `--window` ms later, a young collection alone — how much the young generation
 * held and how much of it that collection kept — and a full one right after: how much it freed in
 * the whole heap (what the young collection kept while dead, and anything allocated straight into
 * the old generation in the window that died there). Keep the window shorter than the server's own
 * young collections apart (the line says when one fell inside it: the figure then starts from it).
 *
 * Why it exists: in the thirteenth session, ~20 KB of every webhook survived young collections
 * while dead (pg's callbacks and the projectors' closures, allocated old by V8; bench/README.md,
 * "What survived the young collections"). A change that brings such a pattern back shows here.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_ADMIN,
  UsageError,
  databasesOption,
  freePort,
  freshDatabase,
  getJson,
  installCleanup,
  numberOption,
  parseCommandLine,
  post,
  postAgent,
  registerStudio,
  startChild,
  stopChild,
  waitIdle,
  waitReady,
  type DbKind,
} from './harness.js';

const FANOUT_SERVER_JS = path.join(__dirname, 'fanout-server.js');
const WARMUP = 2000;
const WARMUP_RATE = 100;

const USAGE = `Usage: node dist/bench/survivors.js [options]

What our server keeps through a young-generation collection while it ingests webhooks.

  --db sqlite|postgres   database (default postgres)
  --rate R               webhooks per second in a window with webhooks (default 20)
  --window MS            each window's length in ms (default 6000)
  --rounds N             windows of each kind (default 3)

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}).`;

interface Options {
  readonly db: DbKind;
  readonly rate: number;
  readonly windowMs: number;
  readonly rounds: number;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      db: { type: 'string', default: 'postgres' },
      rate: { type: 'string', default: '20' },
      window: { type: 'string', default: '6000' },
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const [db, ...more] = databasesOption(values.db);
  if (!db || more.length > 0) throw new UsageError(`--db must be sqlite or postgres, got ${JSON.stringify(values.db)}`);
  return {
    db,
    rate: numberOption('rate', values.rate, 0.1, 1000),
    windowMs: Math.floor(numberOption('window', values.window, 100, 30_000)),
    rounds: Math.floor(numberOption('rounds', values.rounds, 1, 100)),
  };
}

interface Survivors {
  readonly youngBytes: number;
  readonly survivedBytes: number;
  readonly freedAfterBytes: number;
  /** Young collections of the server's own inside the window. */
  readonly ownYoung: number;
}

/**
 * Sends webhooks at `rate` until `until()` says stop; resolves with how many were answered 200,
 * once all are answered. A webhook answered otherwise, or not at all, rejects it, after the others.
 */
async function webhooksUntil(port: number, key: string, rate: number, until: () => boolean): Promise<number> {
  const period = 1000 / rate;
  const start = performance.now();
  const sent: Promise<void>[] = [];
  let answered = 0;
  let failure: Error | undefined;
  for (let i = 0; !until() && !failure; i++) {
    const wait = start + i * period - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (until()) break;
    const type = i % 2 === 0 ? 'CUSTOMER_CHECKIN' : 'CLASS_BOOKING_UPDATED';
    const body = JSON.stringify({ entityId: nextId++, uuid: randomUUID(), payload: [{ timestamp: Date.now(), type }] });
    sent.push(
      post(port, '/webhooks', body, { 'X-API-KEY': key }).then(
        (answer) => {
          if (answer.status === 200) answered += 1;
          else failure ??= new Error(`a webhook was answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        },
        (error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        },
      ),
    );
  }
  await Promise.all(sent);
  if (failure) throw failure;
  return answered;
}
let nextId = 1_000_000;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

async function main(options: Options): Promise<void> {
  console.log(`gymgraph survivors bench: ${new Date().toISOString()}, node ${process.version}, our server on ${options.db}`);
  const db = await freshDatabase(options.db, process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN, 'gymgraph_bench');
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const statsPort = await freePort();
    const key = await registerStudio(db.url);
    child = startChild('ours', ['--expose-gc'], FANOUT_SERVER_JS, {
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      STATS_PORT: String(statsPort),
      HYDRATION_ENABLED: 'false',
    });
    await waitReady(child, port, 'ours');
    const until = (ms: number) => {
      const end = performance.now() + ms;
      return () => performance.now() >= end;
    };
    await webhooksUntil(port, key, WARMUP_RATE, until((WARMUP / WARMUP_RATE) * 1000));
    await waitIdle(child);
    console.log(`warmed up: ${WARMUP} webhooks at ${WARMUP_RATE}/s\n`);
    console.log(
      `| window | webhooks | young generation at its end | kept by a young collection | freed by a full one right after | kept per webhook |`,
    );
    console.log(`|---|---:|---:|---:|---:|---:|`);
    for (let round = 0; round < options.rounds; round++) {
      for (const busy of [false, true]) {
        const measuring = getJson<Survivors>(statsPort, `/survivors?ms=${options.windowMs}`);
        let done = false;
        // Settled either way before the webhooks stop; its error, if any, is thrown by the await below.
        measuring.then(
          () => (done = true),
          () => (done = true),
        );
        const webhooks = busy ? await webhooksUntil(port, key, options.rate, () => done) : 0;
        const survivors = await measuring;
        const own = survivors.ownYoung;
        console.log(
          `| ${busy ? `${options.rate}/s` : 'idle'}, ${options.windowMs} ms${own > 0 ? ` (${own} young collection${own > 1 ? 's' : ''} of the server's own inside)` : ''} | ${webhooks} | ` +
            `${kb(survivors.youngBytes)} | ${kb(survivors.survivedBytes)} | ${kb(survivors.freedAfterBytes)} | ${webhooks > 0 ? `${(survivors.survivedBytes / webhooks).toFixed(0)} B` : '-'} |`,
        );
      }
    }
  } finally {
    postAgent.destroy();
    try {
      if (child) await stopChild(child);
    } finally {
      await db.drop();
    }
  }
}

const options = parseCommandLine(parseOptions, USAGE);
if (options) {
  installCleanup();
  main(options).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}

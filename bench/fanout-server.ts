/**
 * Our server for bench/fanout.ts's `--members` mode: `start()` from src/main.ts in this process
 * (the same service `node dist/src/main.js` runs, configured from the environment), plus a stats
 * endpoint on a second loopback port so the bench can read what only the server's own process
 * knows:
 *
 *   GET /stats        -> {"cpuMicros", "heapUsed", "rss", "subscriptions", "groups", "fanout", "collections"}
 *   GET /stats?gc=1   -> the same after two full garbage collections (needs node --expose-gc)
 *   GET /timings      -> with BENCH_DELIVERY_TIMINGS=1, where member deliveries spent their time in
 *                        the server since the last GET /timings?reset=1 (bench/delivery-timings.ts)
 *   GET /profile/start, then GET /profile/stop?file=<path>
 *                     -> a CPU profile of this process between the two, written to <path>
 *                        (.cpuprofile): a window the bench chooses (the measured stream, the
 *                        idle upkeep window), not the connecting
 *   GET /survivors?ms=N -> after N ms (needs node --expose-gc): {"youngBytes", "survivedBytes",
 *                        "freedAfterBytes", "ownYoung"}: a full collection first (nothing dead is
 *                        left in the old generation), then, after N ms of whatever the process
 *                        does, how much the young generation held, how much of it a young
 *                        collection alone kept, how much a full collection right after freed in the
 *                        whole heap (what the young one kept while dead, and what was allocated
 *                        old in the window and died), and how many young collections of the
 *                        process's own fell in the window (bench/survivors.ts)
 *   GET /alloc/start, then GET /alloc/stop?file=<path>
 *                     -> a sampling heap profile of every allocation between the two, collected
 *                        or not, written to <path> (.heapprofile)
 *
 * Each answer to `POST /webhooks` carries the moment it was written (harness.ts ANSWERED_AT_HEADER).
 * `cpuMicros` is process.cpuUsage() user + system of this process, `fanout` the hub's counters
 * (groups examined and executions, src/realtime/fanout-hub.ts), `collections` every garbage
 * collection of this process since it started, in order: [young (true) or full (false), pause ms]
 * (a pause on the main thread, as perf_hooks reports it). Env: everything main.ts reads,
 * plus STATS_PORT. Stops on SIGTERM / SIGINT like main.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import { Session } from 'node:inspector';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { start } from '../src/main.js';
import { constants as perfConstants, performance, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { installDeliveryTimings } from './delivery-timings.js';
import { ANSWERED_AT_HEADER, monotonicMs } from './harness.js';

const gc = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
/** /alloc/start: one sample per this many bytes allocated, on average (V8's default is 32 KB). */
const ALLOC_SAMPLING_BYTES = 4096;

/**
 * Stamps each `/webhooks` answer with the moment it is written, on the machine's monotonic clock
 * (ANSWERED_AT_HEADER): the bench measures a delivery from it, as it does for the bare server.
 * The service writes its answers with `writeHead` then `end` at once (src/http/respond.ts);
 * `--timings` (delivery-timings.ts) takes the answer's moment when `end` returns, microseconds later.
 */
function stampAnswers(): void {
  const writeHead = http.ServerResponse.prototype.writeHead as (this: http.ServerResponse, ...args: unknown[]) => http.ServerResponse;
  http.ServerResponse.prototype.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
    if (this.req?.url?.startsWith('/webhooks')) this.setHeader(ANSWERED_AT_HEADER, String(monotonic(performance.now())));
    return writeHead.apply(this, args);
  } as typeof http.ServerResponse.prototype.writeHead;
}
const monotonic = monotonicMs();

/** Bytes in use in the young generation (its semi-space and its large objects). */
const youngUsed = () =>
  v8
    .getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'new_space' || space.space_name === 'new_large_object_space')
    .reduce((sum, space) => sum + space.space_used_size, 0);
/** A /survivors window is open (its forced collections would spoil another's). */
let measuringSurvivors = false;

/** Every collection of this process, in order: whether a young-generation one, and its pause in ms. */
const collections: [boolean, number][] = [];
function logCollections(): void {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind } = (entry as unknown as { detail: NodeGCPerformanceDetail }).detail;
      collections.push([kind === perfConstants.NODE_PERFORMANCE_GC_MINOR, Number(entry.duration.toFixed(3))]);
    }
  }).observe({ entryTypes: ['gc'] });
}

async function main(): Promise<void> {
  stampAnswers();
  logCollections();
  // Before the service starts: the hub's groups are wrapped as they are created.
  const timings = process.env.BENCH_DELIVERY_TIMINGS === '1' ? installDeliveryTimings() : undefined;
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const app = await start(config, logger);
  const session = new Session();
  session.connect();
  const inspect = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  const stats = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    /** Answers `{}` once `work` is done, or 500 with its error. */
    const answer = (work: Promise<unknown>) =>
      void work.then(
        () => res.writeHead(200).end('{}'),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    /** Stops a profiler with `method` and writes the profile it answers to `?file=` (else `fallback`). */
    const stopInto = (method: string, fallback: string) =>
      answer(
        inspect(method).then((result) =>
          fs.writeFileSync(url.searchParams.get('file') ?? fallback, JSON.stringify((result as { profile: unknown }).profile)),
        ),
      );
    if (url.pathname === '/profile/start') return answer(inspect('Profiler.enable').then(() => inspect('Profiler.start')));
    if (url.pathname === '/profile/stop') return stopInto('Profiler.stop', 'fanout.cpuprofile');
    // Every allocation, also of what the next scavenge collects: what the stream costs the collector.
    if (url.pathname === '/alloc/start')
      return answer(
        inspect('HeapProfiler.startSampling', {
          samplingInterval: ALLOC_SAMPLING_BYTES,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        }),
      );
    if (url.pathname === '/alloc/stop') return stopInto('HeapProfiler.stopSampling', 'fanout.heapprofile');
    if (url.pathname === '/survivors') {
      if (!gc) return void res.writeHead(500).end('run with node --expose-gc');
      const ms = Number(url.searchParams.get('ms') ?? 6000);
      if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) return void res.writeHead(400).end('ms must be an integer from 1 to 60000');
      if (measuringSurvivors) return void res.writeHead(409).end('a /survivors window is open already');
      measuringSurvivors = true;
      gc();
      const collectionsAtStart = collections.length;
      setTimeout(() => {
        // The server's own young collections in the window (the figure then starts from the last).
        const ownYoung = collections.slice(collectionsAtStart).filter(([young]) => young).length;
        const youngBytes = youngUsed();
        const before = v8.getHeapStatistics().used_heap_size;
        gc({ type: 'minor' });
        const afterYoung = v8.getHeapStatistics().used_heap_size;
        gc();
        const afterFull = v8.getHeapStatistics().used_heap_size;
        measuringSurvivors = false;
        const body = { youngBytes, survivedBytes: youngBytes - (before - afterYoung), freedAfterBytes: afterYoung - afterFull, ownYoung };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, ms);
      return;
    }
    if (url.pathname === '/timings') {
      if (url.searchParams.get('reset') === '1') timings?.reset();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(timings?.summary() ?? null));
      return;
    }
    if (url.pathname !== '/stats') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('gc') === '1') {
      if (!gc) {
        res.writeHead(500).end('run with node --expose-gc');
        return;
      }
      gc();
      gc();
    }
    const cpu = process.cpuUsage();
    const body = {
      cpuMicros: cpu.user + cpu.system,
      heapUsed: process.memoryUsage().heapUsed,
      rss: process.memoryUsage.rss(),
      subscriptions: app.subscriptions.subscriptions,
      groups: app.subscriptions.groups,
      fanout: app.subscriptions.fanoutCounters,
      collections,
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  stats.listen(Number(process.env.STATS_PORT ?? 0), '127.0.0.1');
  const shutdown = () => {
    stats.close();
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`fanout-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

import fs from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Where PostgreSQL tests go; each test file gets a fresh database created from this connection. */
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Where the Redis fan-out tests go; each run uses channels of its own. */
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/**
 * Probes PostgreSQL once. Tests read `GYMGRAPH_TEST_PG` (empty: skip the PostgreSQL variants with a
 * visible message). On CI (`CI=true`) PostgreSQL is required: its absence fails the run.
 */
export default async function globalSetup(): Promise<void> {
  await probePostgres();
  await probeRedis();
  probeChromium();
}

/** Where Debian (and most distributions) install Chromium; `CHROMIUM_PATH` overrides. */
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Finds Chromium for the page tests (test/support/browser.ts reads `GYMGRAPH_TEST_CHROMIUM`; empty:
 * skip them with a visible message). On CI (`CI=true`) it is required: .ci/run installs it.
 */
function probeChromium(): void {
  const path = [process.env.CHROMIUM_PATH, ...CHROMIUM_CANDIDATES].find((candidate) => candidate && fs.existsSync(candidate));
  if (path) {
    process.env.GYMGRAPH_TEST_CHROMIUM = path;
    return;
  }
  if (process.env.CI === 'true') throw new Error('CI=true but Chromium was not found (apt-get install chromium, or set CHROMIUM_PATH)');
  process.env.GYMGRAPH_TEST_CHROMIUM = '';
  process.stdout.write(
    '\n[gymgraph] Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): the browser tests are SKIPPED.\n',
  );
}

async function probePostgres(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? DEFAULT_PG;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.GYMGRAPH_TEST_PG = url;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but PostgreSQL is not reachable at ${url.replace(/\/\/[^@]*@/, '//')}: ${(error as Error).message}`);
    }
    process.env.GYMGRAPH_TEST_PG = '';
    process.stdout.write(
      `\n[gymgraph] PostgreSQL not reachable (${(error as Error).message}): PostgreSQL variants of the tests are SKIPPED.\n`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Probes Redis once. Tests read `GYMGRAPH_TEST_REDIS` (empty: skip the Redis fan-out tests with a
 * visible message). On CI (`CI=true`) Redis is required.
 */
async function probeRedis(): Promise<void> {
  const url = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS;
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    process.env.GYMGRAPH_TEST_REDIS = url;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`CI=true but Redis is not reachable at ${url}: ${(error as Error).message}`);
    process.env.GYMGRAPH_TEST_REDIS = '';
    process.stdout.write(`\n[gymgraph] Redis not reachable (${(error as Error).message}): the Redis fan-out tests are SKIPPED.\n`);
  } finally {
    client.disconnect();
  }
}

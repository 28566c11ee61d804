import pg from 'pg';

/** Where PostgreSQL tests go; each test file gets a fresh database created from this connection. */
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Probes PostgreSQL once. Tests read `GYMGRAPH_TEST_PG` (empty: skip the PostgreSQL variants with a
 * visible message). On CI (`CI=true`) PostgreSQL is required: its absence fails the run.
 */
export default async function globalSetup(): Promise<void> {
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
    process.stdout.write(`\n[gymgraph] PostgreSQL not reachable (${(error as Error).message}): PostgreSQL variants of the tests are SKIPPED.\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

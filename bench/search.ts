/**
 * Customer search benchmark: `npm run bench:search -- [--db sqlite|postgres|both] [--customers N]
 * [--seconds N] [--concurrency N] [--warmup N]`.
 *
 * Seeds a fresh database (migrated by the service's own code) with N hydrated customers — names,
 * e-mails and customer numbers, with the lower-cased search columns as hydration writes them
 * (customer-search.ts) — starts our server as a child process on 127.0.0.1, and drives
 * `customers(filter: {search})` and `customers(filter: {customerNumber})` with prefixes that match a
 * handful of customers each. Then, in the same run and on the same data, it drops the four search
 * indexes and measures the same queries again: the reference of what the indexes are worth.
 * Prints req/s and latency per phase and the plan each database chose. See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_ADMIN,
  MAIN_JS,
  databasesOption,
  fmtErrors,
  fmtMs,
  fmtRate,
  freePort,
  freshDatabase,
  installCleanup,
  numberOption,
  parseCommandLine,
  probePostgres,
  startChild,
  stopChild,
  waitReady,
  type DbKind,
} from './harness.js';
import { graphqlFullSpeed, queryData, type GraphQLTarget } from './graphql-load.js';
import { mulberry32 } from './deliveries.js';
import { openDatabase } from '../ormconfig.js';
import { searchColumns } from '../src/domains/customers/customer-search.js';
import { createLogger } from '../src/log.js';
import type { PhaseResult } from './load.js';

interface Options {
  readonly dbs: readonly DbKind[];
  readonly customers: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly warmup: number;
  readonly pgAdminUrl: string;
}

const USAGE = `usage: npm run bench:search -- [options]

  --db sqlite|postgres|both   databases to run (default both)
  --customers N               hydrated customers (default 100000)
  --seconds N                 length of each measured phase (default 5)
  --concurrency N             requests in flight (default 8)
  --warmup N                  unmeasured seconds before each phase (default 1)

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}); unreachable means skipped.`;

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      db: { type: 'string', default: 'both' },
      customers: { type: 'string', default: '100000' },
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  return {
    dbs: databasesOption(values.db),
    customers: Math.floor(numberOption('customers', values.customers, 100, 10_000_000)),
    seconds: numberOption('seconds', values.seconds, 1, 600),
    concurrency: Math.floor(numberOption('concurrency', values.concurrency, 1, 1024)),
    warmup: numberOption('warmup', values.warmup, 0, 600),
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
  };
}

const FIRST = [
  'Anna',
  'Ben',
  'Clara',
  'David',
  'Emma',
  'Felix',
  'Greta',
  'Hannes',
  'Ida',
  'Jonas',
  'Klara',
  'Lukas',
  'Mia',
  'Noah',
  'Olga',
  'Paul',
];
const LAST = ['Schmidt', 'Müller', 'Weber', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann'];
const INDEXES = ['customers_search_name', 'customers_search_last_name', 'customers_search_email', 'customers_search_number'];

interface Customer {
  readonly customerId: number;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly customerNumber: string;
}

function customers(count: number): Customer[] {
  const random = mulberry32(11);
  return Array.from({ length: count }, (_, i) => {
    const customerId = 100_000 + i;
    const firstName = FIRST[Math.floor(random() * FIRST.length)]!;
    const lastName = LAST[Math.floor(random() * LAST.length)]!;
    return {
      customerId,
      firstName,
      lastName,
      email: `${firstName}.${lastName}.${customerId}@example.com`.toLowerCase(),
      customerNumber: `C-${customerId}`,
    };
  });
}

async function seed(url: string, kind: DbKind, rows: readonly Customer[]): Promise<void> {
  const dataSource = await openDatabase(
    kind === 'sqlite' ? { kind, file: url.slice('sqlite:'.length) } : { kind, url },
    createLogger('silent'),
  );
  try {
    const columns = [
      'tenantId',
      'studioId',
      'firstEventAt',
      'lastEventAt',
      'customerId',
      'status',
      'customerNumber',
      'firstName',
      'lastName',
      'email',
      'searchName',
      'searchLastName',
      'searchEmail',
      'searchNumber',
    ];
    for (let start = 0; start < rows.length; start += 500) {
      const chunk = rows.slice(start, start + 500);
      const params: unknown[] = [];
      const values = chunk.map((c) => {
        const search = searchColumns(c);
        params.push(
          1,
          1,
          1_764_000_000_000,
          1_764_000_000_000,
          c.customerId,
          'MEMBER',
          c.customerNumber,
          c.firstName,
          c.lastName,
          c.email,
          search.searchName,
          search.searchLastName,
          search.searchEmail,
          search.searchNumber,
        );
        const base = params.length - columns.length;
        return `(${columns.map((_, i) => (kind === 'postgres' ? `$${base + i + 1}` : '?')).join(', ')})`;
      });
      await dataSource.query(`INSERT INTO customers (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${values.join(', ')}`, params);
    }
    await dataSource.query(kind === 'postgres' ? 'ANALYZE customers' : 'ANALYZE');
  } finally {
    await dataSource.destroy();
  }
}

const SEARCH = 'query ($q: String!) { customers(first: 20, filter: {search: $q}) { nodes { id customerId firstName lastName email } } }';
const NUMBER = 'query ($q: String!) { customers(first: 20, filter: {customerNumber: $q}) { nodes { id customerId customerNumber } } }';

interface Row {
  readonly db: DbKind;
  readonly phase: string;
  readonly result: PhaseResult;
}

async function run(kind: DbKind, options: Options, rows: readonly Customer[]): Promise<Row[]> {
  const db = await freshDatabase(kind, options.pgAdminUrl, 'gymgraph_bench_search');
  const out: Row[] = [];
  try {
    const seededAt = performance.now();
    await seed(db.url, kind, rows);
    console.log(
      `${kind}: seeded ${rows.length.toLocaleString('en-US')} hydrated customers in ${((performance.now() - seededAt) / 1000).toFixed(1)} s`,
    );
    const port = await freePort();
    const token = `bench-admin-${randomBytes(16).toString('hex')}`;
    const child = startChild(`ours ${kind}`, [], MAIN_JS, {
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: token,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    });
    try {
      await waitReady(child, port, `ours ${kind}`);
      const target: GraphQLTarget = { port, path: '/graphql', headers: { Authorization: `Bearer ${token}` } };
      const random = mulberry32(5);
      const someone = () => rows[Math.floor(random() * rows.length)]!;
      // Prefixes that match a handful each: most of an e-mail, "first last" with the number's start, a number's first digits.
      const probes = {
        'search: e-mail prefix': () => JSON.stringify({ query: SEARCH, variables: { q: someone().email.slice(0, -14) } }),
        'search: "FIRST LAST" prefix': () => {
          const c = someone();
          return JSON.stringify({ query: SEARCH, variables: { q: `${c.firstName.toUpperCase()} ${c.lastName.slice(0, 3)}` } });
        },
        'customerNumber prefix': () => JSON.stringify({ query: NUMBER, variables: { q: someone().customerNumber.slice(0, -1) } }),
      };
      const measure = async (label: string) => {
        for (const [name, next] of Object.entries(probes)) {
          const sample = await queryData<{ customers: { nodes: unknown[] } }>(
            target,
            JSON.parse(next()) as { query: string; variables: Record<string, unknown> },
          );
          if (options.warmup > 0) await graphqlFullSpeed(target, next, { seconds: options.warmup, concurrency: options.concurrency });
          const result = await graphqlFullSpeed(target, next, { seconds: options.seconds, concurrency: options.concurrency });
          out.push({ db: kind, phase: `${name} (${label})`, result });
          console.log(
            `  ${kind} ${name} (${label}): ${fmtRate(result.eventsPerSecond)} req/s, p50 ${fmtMs(result.okP50)} ms, p99 ${fmtMs(result.okP99)} ms, errors ${fmtErrors(result)}; a sample answer had ${sample.customers.nodes.length} customers`,
          );
        }
      };
      await measure('indexed');
      console.log(`  ${kind} plan: ${await plan(db.url, kind)}`);
      await withDataSource(db.url, kind, async (query) => {
        for (const index of INDEXES) await query(`DROP INDEX "${index}"`);
      });
      await measure('reference: indexes dropped');
      console.log(`  ${kind} plan without the indexes: ${await plan(db.url, kind)}`);
    } finally {
      await stopChild(child);
    }
  } finally {
    await db.drop();
  }
  return out;
}

async function withDataSource<T>(url: string, kind: DbKind, work: (query: (sql: string) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  const { createDataSource } = await import('../ormconfig.js');
  const dataSource = createDataSource(kind === 'sqlite' ? { kind, file: url.slice('sqlite:'.length) } : { kind, url });
  await dataSource.initialize();
  try {
    return await work((sql) => dataSource.query(sql) as Promise<unknown[]>);
  } finally {
    await dataSource.destroy();
  }
}

/** The plan of the search's WHERE, as the database explains it (one line). */
function plan(url: string, kind: DbKind): Promise<string> {
  const where = ['searchName', 'searchLastName', 'searchEmail', 'searchNumber']
    .map((c) => `"${c}" LIKE 'anna.schmidt.1234%' ESCAPE '!'`)
    .join(' OR ');
  return withDataSource(url, kind, async (query) => {
    if (kind === 'postgres')
      return ((await query(`EXPLAIN SELECT "id" FROM customers WHERE ${where} ORDER BY "id" LIMIT 21`)) as { 'QUERY PLAN': string }[])
        .map((r) => r['QUERY PLAN'].trim())
        .join(' | ');
    return ((await query(`EXPLAIN QUERY PLAN SELECT "id" FROM customers WHERE ${where} ORDER BY "id" LIMIT 21`)) as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
  });
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseCommandLine(parseOptions, USAGE);
  if (!options) return;
  const rows = customers(options.customers);
  const results: Row[] = [];
  for (const kind of options.dbs) {
    if (kind === 'postgres') {
      const unreachable = await probePostgres(options.pgAdminUrl);
      if (unreachable) {
        console.log(`postgres: skipped (${unreachable})`);
        continue;
      }
    }
    results.push(...(await run(kind, options, rows)));
  }
  console.log(`\n| database | query | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|`);
  for (const row of results)
    console.log(
      `| ${row.db} | ${row.phase} | ${fmtRate(row.result.eventsPerSecond)} | ${fmtMs(row.result.okP50)} | ${fmtMs(row.result.okP99)} |`,
    );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

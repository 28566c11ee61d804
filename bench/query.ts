/**
 * Query benchmark: `npm run bench:query -- [--db sqlite|postgres|both] [--customers 10000,100000]
 * [--seconds N] [--concurrency N] [--warmup N] [--queries customer,page,stats] [--postgraphile] [--keep]
 * [--database URL] [--no-cold]`.
 *
 * For each database and size it seeds a fresh database in-process through the real ingest code
 * (bench/seed.ts: four weeks, 10 events per customer), starts our server (`node dist/src/main.js`)
 * as a child process on 127.0.0.1, and drives three GraphQL queries from this process, each for
 * `--seconds` with `--concurrency` requests in flight: a customer with their last 10 visits, a page
 * of 50 customers with their visit counts, visits and contracts, and visits per hour of a studio over a week.
 * With `--postgraphile`, PostGraphile 4 (installed into a temporary directory, never into the
 * repository) is run on the same PostgreSQL data with the equivalent queries. Prints req/s and
 * latency per query, then a markdown table. See bench/README.md, "Query benchmark".
 *
 * The reports (`stats`, `heatmap`, `stats-unique`) ask the same question again and again, as a
 * dashboard does: with the answer cache on (the default `GRAPHQL_ANSWER_CACHE_MS`), nearly every
 * request is a hit. So that the figures say both, ours is run a second time on the same database
 * with the cache off (`GRAPHQL_ANSWER_CACHE_MS=0`) for those queries: the "cold" rows, every request
 * executed (`--no-cold` skips them).
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { mulberry32 } from './deliveries.js';
import { graphqlFullSpeed, queryData, type GraphQLTarget } from './graphql-load.js';
import {
  DEFAULT_PG_ADMIN,
  MAIN_JS,
  ROOT,
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
  type FreshDatabase,
  type ResourceSample,
  databasesOption,
  numberOption,
  parseCommandLine,
  UsageError,
} from './harness.js';
import type { PhaseResult } from './load.js';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.js';
import { SEED_FROM, seedDatabase, type SeededData } from './seed.js';

const QUERY_KINDS = ['customer', 'page', 'stats', 'heatmap', 'stats-unique'] as const;
type QueryKind = (typeof QUERY_KINDS)[number];
/** `ours-cold`: our server with the answer cache off (`GRAPHQL_ANSWER_CACHE_MS=0`). */
type ServerKind = 'ours' | 'ours-cold' | 'postgraphile';
/** The queries the answer cache can serve: run cold too. */
const REPORT_QUERIES: readonly QueryKind[] = ['stats', 'heatmap', 'stats-unique'];

interface Options {
  readonly dbs: readonly DbKind[];
  readonly sizes: readonly number[];
  readonly eventsPerCustomer: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly warmup: number;
  readonly studios: number;
  readonly queries: readonly QueryKind[];
  readonly postgraphile: boolean;
  readonly keep: boolean;
  readonly cpuProf: boolean;
  readonly pgAdminUrl: string;
  readonly postgraphileDir: string;
  /** An already seeded database to run on instead of seeding fresh ones (kept afterwards). */
  readonly database: string | undefined;
  /** Also run the report queries with the answer cache off. */
  readonly cold: boolean;
}

interface Row {
  readonly db: DbKind;
  readonly server: ServerKind;
  readonly customers: number;
  readonly query: QueryKind;
  /** undefined: skipped, with the reason. */
  readonly result: PhaseResult | undefined;
  readonly note?: string;
}

interface SeedRow {
  readonly db: DbKind;
  readonly customers: number;
  readonly seeded: SeededData;
  readonly events: number;
  readonly sizeMb: number;
}

const QUERY_LABEL: Record<QueryKind, string> = {
  customer: 'customer + last 10 visits',
  page: 'page of 50 customers + visit counts + visits + contracts',
  stats: 'visits per hour, 1 studio, 1 week',
  heatmap: 'visits by weekday × hour (7 × 24), 3 months',
  'stats-unique': 'visits per hour, 1 studio, 1 week, with distinct customers',
};
/** The week of the visits-per-hour query: Monday 2026-11-09 to Monday 2026-11-16, Europe/Berlin (the seed's third week). */
const STATS_FROM = new Date(SEED_FROM + 14 * 86_400_000).toISOString();
const STATS_TO = new Date(SEED_FROM + 21 * 86_400_000).toISOString();
/** The heatmap's three months, Europe/Berlin: 2026-09-01 to 2026-12-01 (the seed's four weeks fall inside; the clocks change on 2026-10-25). */
const HEATMAP_FROM = '2026-08-31T22:00:00.000Z';
const HEATMAP_TO = '2026-11-30T23:00:00.000Z';
/** What ours selects per bucket of the hourly query: the visits and their length of stay (distinct customers are `stats-unique`). */
const STATS_SELECTION = 'label start end count closedVisits openVisits averageDurationSeconds';
/** The throwaway schema the peer's views live in (created before PostGraphile starts, dropped after). */
const PEER_SCHEMA = 'gg_peer';
/** Where the peer is installed (bench/peer/package.json pins it). */
const PEER_DIR = path.join(ROOT, 'bench', 'peer');
/** Random page starts (cursors) to draw from. */
const PAGE_STARTS = 200;
const PAGE_SIZE = 50;
/** Customers whose answers are compared between our server and PostGraphile. */
const COMPARED_CUSTOMERS = 20;

const USAGE = `usage: npm run bench:query -- [options]

  --db sqlite|postgres|both     databases to run (default both)
  --customers N[,N...]          data set sizes, customers (default 10000,100000)
  --events-per-customer N       events per customer (default 10: 100,000 and 1,000,000 events)
  --seconds N                   length of each measured query phase (default 10)
  --concurrency N               requests in flight (default 16)
  --warmup N                    unmeasured seconds before each phase (default 2)
  --studios N                   studios of the one operator (default 3)
  --queries a,b,c               customer, page, stats, heatmap, stats-unique (default all)
  --postgraphile                also run the peer on the PostgreSQL data: PostGraphile 4.14.1 with
                                @graphile/pg-aggregates 0.1.1, as pinned in bench/peer/package.json
                                (npm install --prefix bench/peer on first use)
  --keep                        keep the databases and print their URLs
  --cpu-prof                    run our server under node --cpu-prof and summarise each profile
  --no-cold                     skip the second run of the report queries with the answer cache off
                                (GRAPHQL_ANSWER_CACHE_MS=0; by default both are measured)
  --database URL                run on this already seeded database (sqlite:<file> or postgres://...,
                                e.g. one kept with --keep) instead of seeding; it is left as it is

PostgreSQL: BENCH_PG_URL (default ${DEFAULT_PG_ADMIN}) is where a fresh database
gymgraph_bench_q_<random> is created and dropped afterwards; unreachable means skipped.`;

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      db: { type: 'string', default: 'both' },
      customers: { type: 'string', default: '10000,100000' },
      'events-per-customer': { type: 'string', default: '10' },
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      warmup: { type: 'string', default: '2' },
      studios: { type: 'string', default: '3' },
      queries: { type: 'string', default: QUERY_KINDS.join(',') },
      postgraphile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'no-cold': { type: 'boolean', default: false },
      database: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const db = databasesOption(values.db);
  const queries = (values.queries ?? '')
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  for (const q of queries)
    if (!(QUERY_KINDS as readonly string[]).includes(q))
      throw new UsageError(`--queries takes ${QUERY_KINDS.join(', ')}; got ${JSON.stringify(q)}`);
  return {
    dbs: db,
    sizes: (values.customers ?? '').split(',').map((n) => Math.floor(numberOption('customers', n, 100, 10_000_000))),
    eventsPerCustomer: numberOption('events-per-customer', values['events-per-customer'], 1, 1_000),
    seconds: numberOption('seconds', values.seconds, 1, 600),
    concurrency: Math.floor(numberOption('concurrency', values.concurrency, 1, 1024)),
    warmup: numberOption('warmup', values.warmup, 0, 600),
    studios: Math.floor(numberOption('studios', values.studios, 1, 50)),
    queries: queries as QueryKind[],
    postgraphile: values.postgraphile ?? false,
    keep: values.keep ?? false,
    cpuProf: values['cpu-prof'] ?? false,
    pgAdminUrl: process.env.BENCH_PG_URL || DEFAULT_PG_ADMIN,
    postgraphileDir: PEER_DIR,
    database: values.database,
    cold: !(values['no-cold'] ?? false),
  };
}

// ---------------------------------------------------------------------------------------------
// Schema introspection: the API is growing while this is written, so the queries are built from
// what the running server's schema has, and every substitution is printed.

interface TypeRef {
  readonly kind: string;
  readonly name: string | null;
  readonly ofType: TypeRef | null;
}

interface FieldInfo {
  readonly name: string;
  readonly args: readonly { readonly name: string; readonly type: TypeRef }[];
  readonly type: TypeRef;
}

const TYPE_FIELDS = `query($name: String!) { __type(name: $name) { kind fields { name args { name type { ...T } } type { ...T } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`;

/** The named type under NON_NULL / LIST wrappers. */
function named(type: TypeRef): { name: string; kind: string; list: boolean } {
  let list = false;
  let t: TypeRef | null = type;
  while (t && (t.kind === 'NON_NULL' || t.kind === 'LIST')) {
    if (t.kind === 'LIST') list = true;
    t = t.ofType;
  }
  return { name: t?.name ?? '?', kind: t?.kind ?? '?', list };
}

class SchemaView {
  private readonly cache = new Map<string, Map<string, FieldInfo> | undefined>();

  constructor(private readonly target: GraphQLTarget) {}

  async fields(typeName: string): Promise<Map<string, FieldInfo> | undefined> {
    if (!this.cache.has(typeName)) {
      const data = await queryData<{ __type: { fields: FieldInfo[] | null } | null }>(this.target, {
        query: TYPE_FIELDS,
        variables: { name: typeName },
      });
      this.cache.set(typeName, data.__type?.fields ? new Map(data.__type.fields.map((f) => [f.name, f])) : undefined);
    }
    return this.cache.get(typeName);
  }

  async field(typeName: string, fieldName: string): Promise<FieldInfo | undefined> {
    return (await this.fields(typeName))?.get(fieldName);
  }

  /** A selection of every scalar field of `typeName` without required arguments, objects expanded to `depth`. */
  async leaves(typeName: string, depth: number): Promise<string> {
    const fields = await this.fields(typeName);
    if (!fields) return '__typename';
    const parts: string[] = [];
    for (const field of fields.values()) {
      if (field.args.some((a) => a.type.kind === 'NON_NULL')) continue;
      const type = named(field.type);
      if (type.kind === 'SCALAR' || type.kind === 'ENUM') parts.push(field.name);
      else if (type.kind === 'OBJECT' && depth > 0) parts.push(`${field.name} { ${await this.leaves(type.name, depth - 1)} }`);
    }
    return parts.length > 0 ? parts.join(' ') : '__typename';
  }
}

/** A list field as the schema has it: a plain list, or a connection with `nodes` (and maybe `totalCount`). */
async function listSelection(
  schema: SchemaView,
  field: FieldInfo,
  args: string,
  inner: string,
  withCount: boolean,
): Promise<{ selection: string; connection: boolean; counted: boolean }> {
  const type = named(field.type);
  if (type.list) return { selection: `${field.name}(${args}) { ${inner} }`, connection: false, counted: false };
  const fields = await schema.fields(type.name);
  const counted = withCount && fields?.has('totalCount') === true;
  return { selection: `${field.name}(${args}) { ${counted ? 'totalCount ' : ''}nodes { ${inner} } }`, connection: true, counted };
}

// ---------------------------------------------------------------------------------------------
// The queries, ours and PostGraphile's.

/** A plan whose answers are not compared (its peer answers another question). */
function withoutCompare({ compare: _compare, ...plan }: QueryPlan): QueryPlan {
  return plan;
}

interface QueryPlan {
  /** Request body for the next request of the phase. */
  readonly next: () => string;
  /** Printed under the run: which query exactly, and any substitution. */
  readonly notes: readonly string[];
  /** Fetches the compared answers (customer id -> normalised answer). */
  readonly compare?: () => Promise<Map<number, string>>;
  /** A check of one answer before the phase, printed. */
  readonly probe?: () => Promise<string>;
}

type Plans = Partial<Record<QueryKind, QueryPlan | string>>;

interface Dataset {
  readonly seeded: SeededData;
  /** Check-ins at the first studio within the stats week, counted in SQL. */
  readonly statsCheckins: number;
  /** Check-ins at the first studio within the heatmap's three months, counted in SQL. */
  readonly heatmapCheckins: number;
  /** Customer record ids (ours = PostGraphile's `id`). */
  readonly ids: readonly number[];
  /** Page starts: customer records (not among the last PAGE_SIZE by id). */
  readonly pageStarts: readonly { readonly id: number; readonly customerId: number }[];
  readonly compared: readonly number[];
}

function dataset(seeded: SeededData, statsCheckins: number, heatmapCheckins: number): Dataset {
  const random = mulberry32(7);
  const ids = seeded.customers.map((c) => c.id);
  const startable = seeded.customers.slice(0, Math.max(1, seeded.customers.length - PAGE_SIZE));
  const pageStarts = Array.from(
    { length: Math.min(PAGE_STARTS, startable.length) },
    () => startable[Math.floor(random() * startable.length)]!,
  );
  const compared = Array.from({ length: COMPARED_CUSTOMERS }, () => ids[Math.floor(random() * ids.length)]!);
  return { seeded, statsCheckins, heatmapCheckins, ids, pageStarts, compared };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const toMs = (value: unknown): number | null =>
  value === null || value === undefined
    ? null
    : typeof value === 'string' && /^\d+$/.test(value)
      ? Number(value)
      : new Date(String(value)).getTime();

interface PageShape {
  /** Whether ours selects a count of each customer's visits (PostGraphile then selects `totalCount`). */
  readonly visitCount: boolean;
  readonly contracts: boolean;
}

async function oursPlans(
  target: GraphQLTarget,
  data: Dataset,
  queries: readonly QueryKind[],
): Promise<{ plans: Plans; pageShape: PageShape | undefined }> {
  const schema = new SchemaView(target);
  const plans: Plans = {};
  const pageNotes: string[] = [];
  let pageShape: PageShape | undefined;
  const visits = await schema.field('Customer', 'visits');
  const contracts = await schema.field('Customer', 'contracts');
  if (!visits) throw new Error('Customer.visits is not in the schema');

  if (queries.includes('customer')) {
    const list = await listSelection(schema, visits, 'first: 10', 'checkinAt checkoutAt durationSeconds', false);
    const query = `query($id: ID!) { customer(id: $id) { customerId checkedIn ${list.selection} } }`;
    const visitsOf = (customer: Record<string, unknown> | null) => {
      const v = customer?.visits as unknown;
      return ((list.connection ? (v as { nodes: unknown[] } | undefined)?.nodes : v) ?? []) as {
        checkinAt: string | null;
        checkoutAt: string | null;
      }[];
    };
    plans.customer = {
      next: () => JSON.stringify({ query, variables: { id: String(pick(data.ids)) } }),
      notes: [`ours: ${query}`],
      compare: async () => {
        const out = new Map<number, string>();
        for (const id of data.compared) {
          const answer = await queryData<{ customer: Record<string, unknown> | null }>(target, { query, variables: { id: String(id) } });
          out.set(
            id,
            JSON.stringify([
              answer.customer?.customerId,
              answer.customer?.checkedIn,
              visitsOf(answer.customer).map((v) => [toMs(v.checkinAt), toMs(v.checkoutAt)]),
            ]),
          );
        }
        return out;
      },
    };
  }

  if (queries.includes('page')) {
    const visitList = await listSelection(schema, visits, 'first: 10', 'id', true);
    const contractList = contracts ? await listSelection(schema, contracts, 'first: 5', 'contractId', false) : undefined;
    // A count of visits on the customer itself, if the schema has one.
    const countField = visitList.counted
      ? undefined
      : [...((await schema.fields('Customer'))?.values() ?? [])].find(
          (f) =>
            /^(visits?Count|totalVisits)$/i.test(f.name) &&
            named(f.type).kind === 'SCALAR' &&
            !f.args.some((a) => a.type.kind === 'NON_NULL'),
        )?.name;
    if (visitList.counted) pageNotes.push('visit counts: `visits { totalCount }`');
    else if (countField) pageNotes.push(`visit counts: \`Customer.${countField}\``);
    else pageNotes.push("visit counts: the schema has no count of a customer's visits; `visits(first: 10) { id }` (at most 10) stands in");
    if (!contractList) pageNotes.push('contracts: `Customer.contracts` is not in the schema; left out (PostGraphile leaves it out too)');
    else
      pageNotes.push('"active" contracts: the webhooks say nothing about a contract\'s end, so all of a customer\'s contracts (first 5)');
    pageShape = { visitCount: visitList.counted || countField !== undefined, contracts: contractList !== undefined };
    const cursors = await oursCursors(target, data.pageStarts);
    const query = `query($after: String) { customers(first: ${PAGE_SIZE}, after: $after) { nodes { id customerId ${countField ? `${countField} ` : ''}${visitList.selection} ${contractList?.selection ?? ''} } } }`;
    plans.page = {
      next: () => JSON.stringify({ query, variables: { after: pick(cursors).cursor } }),
      notes: [`ours: ${query} (after: one of ${cursors.length} random cursors)`, ...pageNotes],
      compare: async () => {
        const out = new Map<number, string>();
        for (const start of cursors.slice(0, 5)) {
          const answer = await queryData<{ customers: { nodes: Record<string, unknown>[] } }>(target, {
            query,
            variables: { after: start.cursor },
          });
          out.set(start.id, normalisePage(answer.customers.nodes, visitList.connection, contractList?.connection, countField));
        }
        return out;
      },
    };
  }

  const studio = data.seeded.studioIds[0];
  const hourly = (selection: string) =>
    `{ visitStats(range: {from: "${STATS_FROM}", to: "${STATS_TO}"}, groupBy: HOUR, timeZone: "Europe/Berlin", studioIds: [${studio}]) { ${selection} } }`;
  const statsPlan = (query: string, buckets: number): QueryPlan => {
    const body = JSON.stringify({ query });
    return {
      next: () => body,
      notes: [`ours: ${query}`],
      compare: async () =>
        new Map([
          [0, normaliseCounts((await queryData<{ visitStats: { count: number }[] }>(target, { query })).visitStats.map((b) => b.count))],
        ]),
      probe: async () => {
        const answer = await queryData<{ visitStats: { count: number }[] }>(target, { query });
        const total = answer.visitStats.reduce((sum, bucket) => sum + bucket.count, 0);
        const expected = query.includes('DAY_OF_WEEK') ? data.heatmapCheckins : data.statsCheckins;
        return (
          `${answer.visitStats.length} buckets (expected ${buckets}), ${fmtRate(total)} check-ins in all; counted in SQL: ${fmtRate(expected)}` +
          (total === expected && answer.visitStats.length === buckets ? ' (match)' : ' (MISMATCH)')
        );
      },
    };
  };
  if (queries.includes('stats')) plans.stats = statsPlan(hourly(STATS_SELECTION), 168);
  if (queries.includes('stats-unique')) plans['stats-unique'] = statsPlan(hourly(`${STATS_SELECTION} uniqueCustomers`), 168);
  if (queries.includes('heatmap')) {
    plans.heatmap = statsPlan(
      `{ visitStats(range: {from: "${HEATMAP_FROM}", to: "${HEATMAP_TO}"}, groupBy: [DAY_OF_WEEK, HOUR_OF_DAY], timeZone: "Europe/Berlin", studioIds: [${studio}]) ` +
        '{ label dayOfWeek hourOfDay count closedVisits averageDurationSeconds } }',
      168,
    );
  }
  return { plans, pageShape };
}

/** Bucket counts as one comparable string (ours and the peer's, both in bucket order). */
function normaliseCounts(counts: readonly number[]): string {
  return JSON.stringify(counts);
}

/** `after` cursors of our `customers` list, each right after one of `starts`. */
async function oursCursors(target: GraphQLTarget, starts: Dataset['pageStarts']): Promise<{ id: number; cursor: string }[]> {
  const byId = new Map<number, string>();
  const unique = [...new Map(starts.map((s) => [s.id, s])).values()];
  try {
    // The keyset cursor of a customer is the same in any list ordered by id, so a list filtered to
    // the start customers gives the cursors of the unfiltered list.
    for (let i = 0; i < unique.length; i += 100) {
      const chunk = unique.slice(i, i + 100);
      const data = await queryData<{ customers: { edges: { cursor: string; node: { id: string } }[] } }>(target, {
        query: 'query($ids: [ID!]) { customers(first: 100, filter: {customerIds: $ids}) { edges { cursor node { id } } } }',
        variables: { ids: chunk.map((s) => String(s.customerId)) },
      });
      for (const edge of data.customers.edges) byId.set(Number(edge.node.id), edge.cursor);
    }
  } catch (error) {
    // Without that filter: walk the whole list once.
    console.log(`  (cursors by customerIds filter failed: ${(error as Error).message}; walking the list instead)`);
    const wanted = new Set(unique.map((s) => s.id));
    let after: string | null = null;
    for (;;) {
      const data: {
        customers: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      } = await queryData(target, {
        query:
          'query($after: String) { customers(first: 100, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }',
        variables: { after },
      });
      for (const edge of data.customers.edges) if (wanted.has(Number(edge.node.id))) byId.set(Number(edge.node.id), edge.cursor);
      if (!data.customers.pageInfo.hasNextPage || byId.size === wanted.size) break;
      after = data.customers.pageInfo.endCursor;
    }
  }
  const out = unique.filter((s) => byId.has(s.id)).map((s) => ({ id: s.id, cursor: byId.get(s.id)! }));
  if (out.length === 0) throw new Error('no page cursors');
  return out;
}

/** A page's customers, their visit ids and contract ids, as one comparable string. */
function normalisePage(
  nodes: readonly Record<string, unknown>[],
  visitsConnection: boolean,
  contractsConnection: boolean | undefined,
  countField?: string,
): string {
  const list = (value: unknown, connection: boolean | undefined) =>
    ((connection ? (value as { nodes?: unknown[] } | undefined)?.nodes : value) ?? []) as Record<string, unknown>[];
  return JSON.stringify(
    nodes.map((node) => {
      const visitsValue = node.visits ?? node.visitsByTenantIdAndCustomerId;
      const contractsValue = node.contracts ?? node.contractsByTenantIdAndCustomerId;
      return [
        String(node.customerId),
        list(visitsValue, visitsConnection).map((v) => String(v.id)),
        (visitsValue as { totalCount?: number } | undefined)?.totalCount ?? (countField ? node[countField] : null) ?? null,
        contractsValue === undefined
          ? null
          : list(contractsValue, contractsConnection)
              .map((c) => String(c.contractId))
              .sort(),
      ];
    }),
  );
}

/**
 * The peer's views, in a throwaway schema: the visits of the hourly query's week and of the
 * heatmap's three months with their local (Europe/Berlin) check-in time, weekday and hour, which
 * `@graphile/pg-aggregates` groups by. The ranges live in the views because PostGraphile 4 core
 * filters by equality only (`condition`); they keep the visits index usable, which favours the peer.
 */
function peerViews(): string[] {
  const local = `(to_timestamp(v."checkinAt" / 1000.0) AT TIME ZONE 'Europe/Berlin')`;
  return [
    `DROP SCHEMA IF EXISTS ${PEER_SCHEMA} CASCADE`,
    `CREATE SCHEMA ${PEER_SCHEMA}`,
    `CREATE VIEW ${PEER_SCHEMA}.peer_stats_week AS SELECT v."id" AS id, v."studioId" AS studio_id, v."customerId" AS customer_id, ${local} AS local_checkin
       FROM public.visits v WHERE v."checkinAt" >= ${Date.parse(STATS_FROM)} AND v."checkinAt" < ${Date.parse(STATS_TO)}`,
    `CREATE VIEW ${PEER_SCHEMA}.peer_heatmap AS SELECT v."id" AS id, v."studioId" AS studio_id,
       EXTRACT(ISODOW FROM ${local})::int AS dow, EXTRACT(HOUR FROM ${local})::int AS hour
       FROM public.visits v WHERE v."checkinAt" >= ${Date.parse(HEATMAP_FROM)} AND v."checkinAt" < ${Date.parse(HEATMAP_TO)}`,
  ];
}

/**
 * PostGraphile 4 on the same tables. There are no foreign keys in our schema, so the relations come
 * from smart tags in `postgraphile.tags.json5` (a file beside the process, no change to the
 * database): customers(tenantId, customerId) unique, visits and contracts referencing it.
 */
const POSTGRAPHILE_TAGS = `{
  version: 1,
  config: {
    class: {
      customers: { tags: { unique: '"tenantId","customerId"' } },
      visits: { tags: { foreignKey: '("tenantId","customerId") references customers ("tenantId","customerId")' } },
      contracts: { tags: { foreignKey: '("tenantId","customerId") references customers ("tenantId","customerId")' } },
    },
  },
}
`;

async function postgraphilePlans(
  target: GraphQLTarget,
  data: Dataset,
  queries: readonly QueryKind[],
  shape: PageShape | undefined,
): Promise<Plans> {
  const schema = new SchemaView(target);
  const plans: Plans = {};
  const visitsField = 'visitsByTenantIdAndCustomerId';
  const contractsField = 'contractsByTenantIdAndCustomerId';
  if (!(await schema.field('Customer', visitsField)))
    throw new Error(`PostGraphile's Customer has no ${visitsField}: the smart tags were not applied`);

  if (queries.includes('customer')) {
    const query = `query($id: Int!) { customerById(id: $id) { customerId lastCheckinAt lastCheckoutAt ${visitsField}(first: 10, orderBy: ID_DESC) { nodes { checkinAt checkoutAt } } } }`;
    plans.customer = {
      next: () => JSON.stringify({ query, variables: { id: pick(data.ids) } }),
      notes: [
        `PostGraphile: ${query}`,
        'same rows read; PostGraphile returns the stored epoch-ms BigInts as strings, and checkedIn / durationSeconds are ours (computed from lastCheckinAt/lastCheckoutAt and checkinAt/checkoutAt)',
      ],
      compare: async () => {
        const out = new Map<number, string>();
        for (const id of data.compared) {
          const answer = await queryData<{ customerById: Record<string, unknown> | null }>(target, { query, variables: { id } });
          const c = answer.customerById;
          const inAt = toMs(c?.lastCheckinAt);
          const outAt = toMs(c?.lastCheckoutAt);
          const visits =
            (c?.[visitsField] as { nodes: { checkinAt: string | null; checkoutAt: string | null }[] } | undefined)?.nodes ?? [];
          out.set(
            id,
            JSON.stringify([
              c?.customerId,
              inAt !== null && (outAt === null || inAt > outAt),
              visits.map((v) => [toMs(v.checkinAt), toMs(v.checkoutAt)]),
            ]),
          );
        }
        return out;
      },
    };
  }

  if (queries.includes('page')) {
    const withContracts = shape?.contracts ?? true;
    const visitCount = shape?.visitCount ?? false;
    const cursors: { id: number; cursor: string }[] = [];
    for (const start of [...new Map(data.pageStarts.map((s) => [s.id, s])).values()]) {
      const answer = await queryData<{ allCustomers: { edges: { cursor: string }[] } }>(target, {
        query: 'query($id: Int!) { allCustomers(condition: {id: $id}, first: 1, orderBy: PRIMARY_KEY_ASC) { edges { cursor } } }',
        variables: { id: start.id },
      });
      const cursor = answer.allCustomers.edges[0]?.cursor;
      if (cursor) cursors.push({ id: start.id, cursor });
    }
    const contractsSelection = withContracts ? `${contractsField}(first: 5) { nodes { contractId } }` : '';
    const query =
      `query($after: Cursor) { allCustomers(first: ${PAGE_SIZE}, after: $after, orderBy: PRIMARY_KEY_ASC) { nodes { id customerId ` +
      `${visitsField}(first: 10, orderBy: ID_DESC) { ${visitCount ? 'totalCount ' : ''}nodes { id } } ${contractsSelection} } } }`;
    plans.page = {
      next: () => JSON.stringify({ query, variables: { after: pick(cursors).cursor } }),
      notes: [`PostGraphile: ${query} (after: the cursors of the same ${cursors.length} start customers)`],
      compare: async () => {
        const out = new Map<number, string>();
        for (const start of cursors.slice(0, 5)) {
          const answer = await queryData<{ allCustomers: { nodes: Record<string, unknown>[] } }>(target, {
            query,
            variables: { after: start.cursor },
          });
          out.set(start.id, normalisePage(answer.allCustomers.nodes, true, true));
        }
        return out;
      },
    };
  }

  // @graphile/pg-aggregates over the throwaway views (see PEER_VIEWS): the same counts, bucket for bucket.
  const peerPlan = (query: string, keysOf: (keys: string[]) => number, buckets: number): QueryPlan => {
    const body = JSON.stringify({ query });
    return {
      next: () => body,
      notes: [`PostGraphile + pg-aggregates: ${query}`],
      compare: async () => {
        const answer = await queryData<Record<string, { groupedAggregates: { keys: string[]; distinctCount: { id: string } }[] }>>(target, {
          query,
        });
        const counts = new Array<number>(buckets).fill(0);
        for (const group of Object.values(answer)[0]!.groupedAggregates) counts[keysOf(group.keys)] = Number(group.distinctCount.id);
        return new Map([[0, normaliseCounts(counts)]]);
      },
    };
  };
  const studio = data.seeded.studioIds[0];
  const weekStart = Date.parse(STATS_FROM);
  if (queries.includes('stats') || queries.includes('stats-unique')) {
    // Local hours of the week: 0 .. 167 from Monday 00:00 (no clock change in that week).
    const hourOf = ([key]: string[]) =>
      Math.round((Date.parse(`${key!.slice(0, 19).replace(' ', 'T')}Z`) - (weekStart + 3_600_000)) / 3_600_000);
    const query = `{ allPeerStatsWeeks(condition: {studioId: ${studio}}) { groupedAggregates(groupBy: [LOCAL_CHECKIN_TRUNCATED_TO_HOUR]) { keys distinctCount { id } } } }`;
    plans.stats = peerPlan(query, hourOf, 168);
    const unique = `{ allPeerStatsWeeks(condition: {studioId: ${studio}}) { groupedAggregates(groupBy: [LOCAL_CHECKIN_TRUNCATED_TO_HOUR]) { keys distinctCount { id customerId } } } }`;
    plans['stats-unique'] = withoutCompare(peerPlan(unique, hourOf, 168));
  }
  if (queries.includes('heatmap')) {
    const query = `{ allPeerHeatmaps(condition: {studioId: ${studio}}) { groupedAggregates(groupBy: [DOW, HOUR]) { keys distinctCount { id } } } }`;
    plans.heatmap = peerPlan(query, ([dow, hour]) => (Number(dow) - 1) * 24 + Number(hour), 168);
  }
  return plans;
}

// ---------------------------------------------------------------------------------------------
// Running a server and its phases

interface ServerRun {
  readonly rows: Row[];
  /** Compared answers per query. */
  readonly answers: Map<QueryKind, Map<number, string>>;
  readonly pageShape?: PageShape;
}

function describePhase(label: string, r: PhaseResult, before: ResourceSample | undefined, after: ResourceSample | undefined): string {
  let line =
    `  ${label}: ${fmtRate(r.eventsPerSecond)} req/s over ${r.seconds.toFixed(1)} s, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, ` +
    `max ${fmtMs(r.max)} ms; sent ${r.sent}, answered ${r.ok}, errors ${fmtErrors(r)}`;
  if (before && after && r.ok > 0) {
    line +=
      `\n    server CPU ${(((after.childCpu - before.childCpu) * 1000) / r.ok).toFixed(2)} ms/request, ` +
      `whole machine CPU ${(((after.machineCpu - before.machineCpu) * 1000) / r.ok).toFixed(2)} ms/request` +
      `; req/s by second: ${r.perSecond.map(fmtRate).join(' ')}`;
  }
  for (const sample of r.errorSamples) line += `\n    error sample: ${sample}`;
  return line;
}

async function runPhases(
  label: string,
  server: ServerKind,
  db: DbKind,
  customers: number,
  child: ChildProcess,
  target: GraphQLTarget,
  plans: Plans,
  options: Options,
): Promise<ServerRun> {
  const rows: Row[] = [];
  const answers = new Map<QueryKind, Map<number, string>>();
  for (const query of options.queries) {
    const plan = plans[query];
    if (plan === undefined) continue;
    if (typeof plan === 'string') {
      console.log(`  ${label} ${query}: ${plan}`);
      rows.push({ db, server, customers, query, result: undefined, note: plan });
      continue;
    }
    for (const note of plan.notes) console.log(`    ${note}`);
    if (plan.compare) answers.set(query, await plan.compare());
    if (plan.probe) console.log(`    check: ${await plan.probe()}`);
    if (options.warmup > 0) await graphqlFullSpeed(target, plan.next, { seconds: options.warmup, concurrency: options.concurrency });
    const before = sampleResources(child);
    const result = await graphqlFullSpeed(target, plan.next, { seconds: options.seconds, concurrency: options.concurrency });
    const after = sampleResources(child);
    console.log(describePhase(`${label} ${query}`, result, before, after));
    rows.push({ db, server, customers, query, result });
  }
  return { rows, answers };
}

async function runOurs(db: FreshDatabase, data: Dataset, options: Options, server: 'ours' | 'ours-cold' = 'ours'): Promise<ServerRun> {
  const label = server === 'ours' ? `ours ${db.kind}` : `ours ${db.kind}, answer cache off`;
  const port = await freePort();
  const token = `bench-admin-${randomBytes(16).toString('hex')}`;
  let profileDir: string | undefined;
  const nodeArgs: string[] = [];
  if (options.cpuProf) {
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), `gymgraph-bench-q-prof-${db.kind}-`));
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  const child = startChild(label, nodeArgs, MAIN_JS, {
    DATABASE_URL: db.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_TOKEN: token,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ...(server === 'ours-cold' ? { GRAPHQL_ANSWER_CACHE_MS: '0' } : {}),
  });
  try {
    await waitReady(child, port, label);
    const target: GraphQLTarget = { port, path: '/graphql', headers: { Authorization: `Bearer ${token}` } };
    const { plans, pageShape } = await oursPlans(target, data, options.queries);
    const run = await runPhases(label, server, db.kind, data.seeded.customers.length, child, target, plans, options);
    const code = await stopChild(child);
    if (code !== 0) console.log(`  ${label} exited with code ${code}`);
    if (profileDir) {
      for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        console.log(`\n  CPU profile of ${label} (all its phases): ${path.join(profileDir, file)}\n`);
        console.log(formatProfileSummary(summariseProfile(path.join(profileDir, file), 15)));
      }
    }
    return { ...run, ...(pageShape ? { pageShape } : {}) };
  } finally {
    await stopChild(child);
  }
}

/** The PostGraphile CLI and the aggregates plugin, installed into `dir` (bench/peer) on first use; or why they cannot be had. */
async function ensurePostGraphile(dir: string): Promise<{ cli: string; plugin: string; version: string } | { problem: string }> {
  const cli = path.join(dir, 'node_modules', 'postgraphile', 'cli.js');
  const plugin = path.join(dir, 'node_modules', '@graphile', 'pg-aggregates');
  if (!fs.existsSync(cli) || !fs.existsSync(plugin)) {
    console.log(
      `  installing the peer (bench/peer/package.json: PostGraphile 4.14.1, @graphile/pg-aggregates 0.1.1): npm install --prefix ${dir} ...`,
    );
    const problem = await new Promise<string | undefined>((resolve) => {
      execFile(
        'npm',
        ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'],
        { timeout: 300_000 },
        (error, _stdout, stderr) =>
          resolve(error ? `npm install failed: ${(stderr || error.message).trim().split('\n').slice(-3).join(' ')}` : undefined),
      );
    });
    if (problem) return { problem };
    if (!fs.existsSync(cli) || !fs.existsSync(plugin)) return { problem: `npm install finished but ${cli} or ${plugin} is missing` };
  }
  const version = (
    JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'postgraphile', 'package.json'), 'utf8')) as { version: string }
  ).version;
  return { cli, plugin, version };
}

async function runPostGraphile(
  db: FreshDatabase,
  data: Dataset,
  options: Options,
  shape: ServerRun['pageShape'],
): Promise<ServerRun | string> {
  const installed = await ensurePostGraphile(options.postgraphileDir);
  if ('problem' in installed) return installed.problem;
  const label = `PostGraphile ${installed.version}`;
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gg-postgraphile-run-'));
  fs.writeFileSync(path.join(cwd, 'postgraphile.tags.json5'), POSTGRAPHILE_TAGS);
  const port = await freePort();
  await withClient(db.url, async (client) => {
    for (const sql of peerViews()) await client.query(sql);
  });
  const args = [
    '-c',
    db.url,
    '--schema',
    `public,${PEER_SCHEMA}`,
    '--append-plugins',
    installed.plugin,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--disable-graphiql',
    '--disable-query-log',
    '--disable-default-mutations',
  ];
  console.log(
    `  ${label}: node ${path.relative(cwd, installed.cli)} ${args.join(' ').replace(db.url, redact(db.url))} (cwd ${cwd}, with postgraphile.tags.json5)`,
  );
  const child = startChild('postgraphile', [], installed.cli, { NODE_ENV: 'production' }, { args, cwd });
  try {
    await waitReady(child, port, label, '/graphql', 'any');
    const target: GraphQLTarget = { port, path: '/graphql', headers: {} };
    // The HTTP server listens before the schema is built: wait for a first answer.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await queryData(target, { query: '{ __typename }' });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const plans = await postgraphilePlans(target, data, options.queries, shape);
    return await runPhases(label, 'postgraphile', db.kind, data.seeded.customers.length, child, target, plans, options);
  } catch (error) {
    return `PostGraphile failed: ${(error as Error).message}`;
  } finally {
    await stopChild(child);
    fs.rmSync(cwd, { recursive: true, force: true });
    await withClient(db.url, (client) => client.query(`DROP SCHEMA IF EXISTS ${PEER_SCHEMA} CASCADE`)).catch(() => undefined);
  }
}

function compareAnswers(ours: ServerRun, theirs: ServerRun): void {
  for (const [query, mine] of ours.answers) {
    const other = theirs.answers.get(query);
    if (!other) continue;
    const differing = [...mine.entries()].filter(([key, value]) => other.get(key) !== value).map(([key]) => key);
    console.log(
      differing.length === 0
        ? `  same answers as ours for ${query}: ${mine.size} compared (${query === 'customer' ? 'customers' : query === 'page' ? 'pages' : 'answers, bucket for bucket'})`
        : `  DIFFERENT answers from ours for ${query}: ${differing.length} of ${mine.size} (e.g. ${differing[0]}: ours ${mine.get(differing[0]!)?.slice(0, 200)} / PostGraphile ${other.get(differing[0]!)?.slice(0, 200)})`,
    );
  }
}

async function countRows(db: FreshDatabase, sql: string): Promise<number> {
  if (db.file) {
    const sqlite = new Database(db.file, { readonly: true });
    try {
      return Number((sqlite.prepare(sql).get() as { n: number }).n);
    } finally {
      sqlite.close();
    }
  }
  return withClient(db.url, async (client) => Number((await client.query(sql)).rows[0].n));
}

async function databaseSizeMb(db: FreshDatabase): Promise<number> {
  if (db.file) {
    let bytes = 0;
    for (const suffix of ['', '-wal']) if (fs.existsSync(db.file + suffix)) bytes += fs.statSync(db.file + suffix).size;
    return bytes / 1e6;
  }
  return withClient(
    db.url,
    async (client) => Number((await client.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n) / 1e6,
  );
}

/** A database seeded before (`--database`): what the queries need from it, read back. */
async function seededBefore(db: FreshDatabase): Promise<SeededData> {
  const read = async <T>(sql: string): Promise<T[]> => {
    if (db.file) {
      const sqlite = new Database(db.file, { readonly: true });
      try {
        return sqlite.prepare(sql).all() as T[];
      } finally {
        sqlite.close();
      }
    }
    return withClient(db.url, async (client) => (await client.query(sql)).rows as T[]);
  };
  const customers = (
    await read<{ id: number | string; customerId: number | string }>('SELECT "id", "customerId" FROM "customers" ORDER BY "id"')
  ).map((c) => ({ id: Number(c.id), customerId: Number(c.customerId) }));
  const studios = await read<{ id: number | string; tenantId: number | string }>('SELECT "id", "tenantId" FROM "studios" ORDER BY "id"');
  const [span] = await read<{ first: number | string; last: number | string }>(
    'SELECT MIN("occurredAt") AS "first", MAX("occurredAt") AS "last" FROM "events"',
  );
  const rows: Record<string, number> = {};
  for (const table of ['events', 'customers', 'visits', 'contracts'])
    rows[table] = Number((await read<{ n: number | string }>(`SELECT COUNT(*) AS "n" FROM "${table}"`))[0]!.n);
  return {
    tenantId: Number(studios[0]?.tenantId),
    studioIds: studios.map((s) => Number(s.id)),
    webhookKeys: [],
    seconds: 0,
    mix: new Map(),
    rows,
    firstEventAt: Number(span?.first),
    lastEventAt: Number(span?.last),
    customers,
  };
}

async function runDataset(kind: DbKind, customers: number, options: Options, seeds: SeedRow[]): Promise<Row[]> {
  const events = customers * options.eventsPerCustomer;
  const reused = options.database;
  console.log(
    reused
      ? `\n== ${kind}, the database given with --database`
      : `\n== ${kind}, ${fmtRate(customers)} customers / ${fmtRate(events)} events`,
  );
  const db: FreshDatabase = reused
    ? { kind, url: reused, file: kind === 'sqlite' ? reused.replace(/^sqlite:/, '') : undefined, drop: async () => {}, keep: () => {} }
    : await freshDatabase(kind, options.pgAdminUrl, 'gymgraph_bench_q');
  const rows: Row[] = [];
  try {
    if (!reused) console.log(`  seeding ${redact(db.url)} through the ingestor (in-process) ...`);
    const seeded = reused
      ? await seededBefore(db)
      : await seedDatabase(db.url, { customers, events, studios: options.studios, log: (line) => console.log(line) });
    const sizeMb = await databaseSizeMb(db);
    if (!reused) seeds.push({ db: kind, customers, seeded, events, sizeMb });
    if (reused) console.log(`  ${fmtRate(seeded.customers.length)} customers; database ${sizeMb.toFixed(0)} MB`);
    else
      console.log(
        `  seeded ${fmtRate(events)} events in ${seeded.seconds.toFixed(1)} s (${fmtRate(events / seeded.seconds)} events/s), ` +
          `${new Date(seeded.firstEventAt).toISOString()} .. ${new Date(seeded.lastEventAt).toISOString()}; database ${sizeMb.toFixed(0)} MB`,
      );
    console.log(
      `  rows: ${Object.entries(seeded.rows)
        .map(([table, n]) => `${table} ${fmtRate(n)}`)
        .join(', ')}`,
    );
    const statsCheckins = await countRows(
      db,
      `SELECT count(*) AS n FROM visits WHERE "studioId" = ${seeded.studioIds[0]} ` +
        `AND "checkinAt" >= ${Date.parse(STATS_FROM)} AND "checkinAt" < ${Date.parse(STATS_TO)}`,
    );
    const heatmapCheckins = await countRows(
      db,
      `SELECT count(*) AS n FROM visits WHERE "studioId" = ${seeded.studioIds[0]} ` +
        `AND "checkinAt" >= ${Date.parse(HEATMAP_FROM)} AND "checkinAt" < ${Date.parse(HEATMAP_TO)}`,
    );
    const data = dataset(seeded, statsCheckins, heatmapCheckins);

    const ours = await runOurs(db, data, options);
    rows.push(...ours.rows);
    const reports = options.queries.filter((query) => REPORT_QUERIES.includes(query));
    if (options.cold && reports.length > 0) rows.push(...(await runOurs(db, data, { ...options, queries: reports }, 'ours-cold')).rows);
    if (kind === 'postgres' && options.postgraphile) {
      const theirs = await runPostGraphile(db, data, options, ours.pageShape);
      if (typeof theirs === 'string') {
        console.log(`  PostGraphile: ${theirs}`);
        for (const query of options.queries)
          rows.push({ db: kind, server: 'postgraphile', customers, query, result: undefined, note: theirs });
      } else {
        rows.push(...theirs.rows);
        compareAnswers(ours, theirs);
      }
    }
    return rows;
  } finally {
    if (options.keep) {
      db.keep();
      console.log(`  kept: DATABASE_URL=${db.url}`);
    } else {
      await db.drop().catch((error: unknown) => console.log(`  could not drop the bench database: ${(error as Error).message}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------

function resultsTable(rows: readonly Row[], postgraphileVersion: string | undefined): string {
  const server = (row: Row) =>
    row.server === 'ours'
      ? row.db
      : row.server === 'ours-cold'
        ? `${row.db}, answer cache off`
        : `${row.db} (PostGraphile${postgraphileVersion ? ` ${postgraphileVersion}` : ''})`;
  return [
    '| db | customers | query | req/s | p50 ms | p99 ms | errors |',
    '|---|---:|---|---:|---:|---:|---:|',
    ...rows.map((row) =>
      row.result
        ? `| ${server(row)} | ${fmtRate(row.customers)} | ${QUERY_LABEL[row.query]} | ${fmtRate(row.result.eventsPerSecond)} | ${fmtMs(row.result.p50)} | ${fmtMs(row.result.p99)} | ${fmtErrors(row.result)} |`
        : `| ${server(row)} | ${fmtRate(row.customers)} | ${QUERY_LABEL[row.query]} | – | – | – | ${row.note ?? 'skipped'} |`,
    ),
  ].join('\n');
}

function seedTable(seeds: readonly SeedRow[]): string {
  return [
    '| db | customers | events | seeding s | events/s | visits | contracts | database MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...seeds.map(
      (s) =>
        `| ${s.db} | ${fmtRate(s.seeded.rows.customers ?? 0)} | ${fmtRate(s.events)} | ${s.seeded.seconds.toFixed(1)} | ${fmtRate(s.events / s.seeded.seconds)} | ` +
        `${fmtRate(s.seeded.rows.visits ?? 0)} | ${fmtRate(s.seeded.rows.contracts ?? 0)} | ${s.sizeMb.toFixed(0)} |`,
    ),
  ].join('\n');
}

/** Issue 11's targets for the reports: hourly ≥ 2,000 req/s with p99 ≤ 20 ms, the heatmap ≥ 500 req/s. */
const REPORT_TARGETS: Partial<Record<QueryKind, { readonly rate: number; readonly p99?: number }>> = {
  stats: { rate: 2000, p99: 20 },
  heatmap: { rate: 500 },
};

/** Ours as a share of PostGraphile per size and query (the issue: at least as fast), and the reports against issue 11's targets. */
function verdicts(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const target = REPORT_TARGETS[row.query];
    if (!target || row.server === 'postgraphile' || !row.result) continue;
    const met = row.result.eventsPerSecond >= target.rate && (target.p99 === undefined || row.result.p99 <= target.p99);
    out.push(
      `- ${row.db}${row.server === 'ours-cold' ? ' (answer cache off)' : ''}, ${QUERY_LABEL[row.query]}: ${fmtRate(row.result.eventsPerSecond)} req/s, ` +
        `p99 ${fmtMs(row.result.p99)} ms (≥ ${fmtRate(target.rate)} req/s${target.p99 === undefined ? '' : `, p99 ≤ ${target.p99} ms`}: ${met ? 'met' : 'NOT met'})`,
    );
  }
  for (const row of rows) {
    if (row.server !== 'ours' || !row.result) continue;
    const theirs = rows.find(
      (r) => r.server === 'postgraphile' && r.db === row.db && r.customers === row.customers && r.query === row.query,
    )?.result;
    if (!theirs || theirs.eventsPerSecond === 0) continue;
    const share = row.result.eventsPerSecond / theirs.eventsPerSecond;
    // The statistics (issue 11): at least 10 times the peer's rate; the record reads: at least as fast.
    const target = row.query === 'customer' || row.query === 'page' ? 1 : 10;
    out.push(
      `- ${row.db}, ${fmtRate(row.customers)} customers, ${QUERY_LABEL[row.query]}: ours ${fmtRate(row.result.eventsPerSecond)} req/s = ` +
        `${share.toFixed(1)}× PostGraphile (${fmtRate(theirs.eventsPerSecond)}); p99 ${fmtMs(row.result.p99)} vs ${fmtMs(theirs.p99)} ms ` +
        `(≥ ${target}×: ${share >= target ? 'met' : 'NOT met'})`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  installCleanup();
  const options = parseCommandLine(parseOptions, USAGE);
  if (!options) return;
  if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: build first (npx tsc -p .)`);
  const cpus = os.cpus();
  console.log(
    `gymgraph query bench: ${new Date().toISOString()}, node ${process.version}, ${cpus.length} CPU(s) ${cpus[0]?.model ?? ''}`.trim(),
  );
  console.log(
    `sizes: ${options.sizes.map((n) => `${fmtRate(n)} customers / ${fmtRate(n * options!.eventsPerCustomer)} events`).join(', ')}; ` +
      `per query ${options.warmup} s warm-up + ${options.seconds} s with ${options.concurrency} in flight; ${options.studios} studios of one operator`,
  );

  const rows: Row[] = [];
  const seeds: SeedRow[] = [];
  let postgresProblem: string | undefined;
  if (options.dbs.includes('postgres')) {
    postgresProblem = await probePostgres(options.pgAdminUrl);
    if (postgresProblem)
      console.log(
        `\n== PostgreSQL not reachable at ${redact(options.pgAdminUrl)} (${postgresProblem}): PostgreSQL SKIPPED (set BENCH_PG_URL)`,
      );
  }
  if (options.database) {
    const kind: DbKind = options.database.startsWith('sqlite:') ? 'sqlite' : 'postgres';
    rows.push(...(await runDataset(kind, 0, options, seeds)));
  }
  for (const customers of options.database ? [] : options.sizes) {
    for (const kind of options.dbs) {
      if (kind === 'postgres' && postgresProblem) continue;
      rows.push(...(await runDataset(kind, customers, options, seeds)));
    }
  }
  let version: string | undefined;
  try {
    version = (
      JSON.parse(fs.readFileSync(path.join(options.postgraphileDir, 'node_modules', 'postgraphile', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    version = undefined;
  }
  console.log(`\n## Seeding\n\n${seedTable(seeds)}\n`);
  console.log(`## Results\n\n${resultsTable(rows, options.postgraphile ? version : undefined)}\n`);
  const lines = verdicts(rows);
  if (lines.length > 0) console.log(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

/**
 * Report plans and timings: `npm run bench:reports -- [--db sqlite|postgres|both] [--customers 100000] [--runs 20]`.
 *
 * Fills a fresh, migrated database with hydrated-looking records (customers with one contract each,
 * their studio links and latest check-ins, class slots with bookings; five studios of one operator),
 * then runs each report's statements as the resolvers do (src/domains/reports/*), prints the
 * database's plan of each (`EXPLAIN QUERY PLAN` / `EXPLAIN`) and the median time of `--runs` runs, next
 * to a reference measured in the same run: one read of every contract (`COUNT` of an unindexed column). See bench/README.md, "Report benchmark".
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../ormconfig.js';
import { loadDatabaseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { classReport } from '../src/domains/reports/class-report.query.js';
import { ClassReportGrouping } from '../src/domains/reports/class-report.types.js';
import { absentMembers, activeMembers, contractPeriods } from '../src/domains/reports/member-report.query.js';
import { ContractPeriodGrouping } from '../src/domains/reports/member-report.types.js';
import { localDay } from '../src/domains/reports/report-input.js';
import { WallClock } from '../src/domains/stats/time-buckets.js';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_ADMIN,
  databasesOption,
  freshDatabase,
  installCleanup,
  numberOption,
  parseCommandLine,
  type DbKind,
} from './harness.js';

const DAY = 86_400_000;
const STUDIOS = 5;
/** The data's "now": 2026-06-01T00:00Z; a year of history before it. */
const NOW = Date.UTC(2026, 5, 1);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function insert(dataSource: DataSource, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  const postgres = dataSource.options.type === 'postgres';
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    let n = 0;
    const values = batch.map((row) => `(${row.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`).join(', ');
    await dataSource.query(`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${values}`, batch.flat());
  }
}

/** Customers, contracts (a fifth cancelled), studio links with latest check-ins, 40 slots a day with 10 bookings each. */
async function fill(dataSource: DataSource, customers: number, studioIds: readonly number[], tenantId: number): Promise<void> {
  const studioOf = (i: number) => studioIds[i % STUDIOS]!;
  const ids = Array.from({ length: customers }, (_, i) => i);
  await insert(
    dataSource,
    'customers',
    ['tenantId', 'studioId', 'firstEventAt', 'lastEventAt', 'customerId'],
    ids.map((i) => [tenantId, studioOf(i), NOW - 400 * DAY, NOW, 1_000_000 + i]),
  );
  await insert(
    dataSource,
    'customer_studios',
    ['tenantId', 'customerId', 'studioId', 'firstEventAt', 'lastEventAt', 'lastCheckinAt'],
    ids.map((i) => [tenantId, 1_000_000 + i, studioOf(i), NOW - 400 * DAY, NOW, NOW - ((i * 7919) % 120) * DAY]),
  );
  await insert(
    dataSource,
    'contracts',
    [
      'tenantId',
      'studioId',
      'firstEventAt',
      'lastEventAt',
      'contractId',
      'customerId',
      'createdAt',
      'contractStatus',
      'startDate',
      'endDate',
      'cancelled',
      'cancellationDate',
    ],
    ids.map((i) => {
      const created = NOW - ((i * 104729) % 365) * DAY - (i % 86_400) * 1000;
      const cancelled = i % 5 === 0;
      return [
        tenantId,
        studioOf(i),
        created,
        created,
        5_000_000 + i,
        1_000_000 + i,
        created,
        cancelled ? 'INACTIVE' : 'ACTIVE',
        iso(created),
        iso(created + 365 * DAY),
        cancelled,
        cancelled ? iso(created + 30 * DAY) : null,
      ];
    }),
  );
  const slots = Array.from({ length: Math.round((customers / 100_000) * 40 * 365) }, (_, i) => i);
  await insert(
    dataSource,
    'class_slots',
    [
      'tenantId',
      'studioId',
      'firstEventAt',
      'lastEventAt',
      'slotId',
      'classId',
      'status',
      'statusAt',
      'startAt',
      'endAt',
      'maxParticipants',
      'instructorNames',
    ],
    slots.map((i) => {
      const start = NOW - 365 * DAY + Math.floor(i / 40) * DAY + (6 + (i % 15)) * 3_600_000;
      return [
        tenantId,
        studioOf(i),
        start,
        start,
        3_000_000 + i,
        300 + (i % 50),
        i % 30 === 0 ? 'CANCELLED' : 'SCHEDULED',
        start,
        start,
        start + 3_600_000,
        12 + (i % 3) * 4,
        JSON.stringify([`Coach ${i % 20}`]),
      ];
    }),
  );
  await insert(
    dataSource,
    'class_bookings',
    [
      'tenantId',
      'studioId',
      'firstEventAt',
      'lastEventAt',
      'bookingId',
      'status',
      'statusAt',
      'createdAt',
      'customerId',
      'classSlotId',
      'classId',
      'bookingStatus',
      'participantStatus',
    ],
    slots.flatMap((slot) =>
      Array.from({ length: 10 }, (_, b) => {
        const i = slot * 10 + b;
        const at = NOW - 365 * DAY + Math.floor(slot / 40) * DAY;
        const cancelled = i % 9 === 0;
        return [
          tenantId,
          studioOf(slot),
          at,
          at,
          7_000_000 + i,
          cancelled ? 'CANCELLED' : 'BOOKED',
          at,
          at,
          1_000_000 + ((i * 31) % customers),
          3_000_000 + slot,
          300 + (slot % 50),
          cancelled ? 'CANCELED' : b >= 9 ? 'WAITING_LIST' : 'BOOKED',
          cancelled ? 'NOT_PARTICIPATING' : i % 7 === 0 ? 'NOT_PARTICIPATING' : 'PARTICIPATING',
        ];
      }),
    ),
  );
  await dataSource.query('ANALYZE');
}

interface Case {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

async function measure(
  dataSource: DataSource,
  kind: DbKind,
  cases: readonly Case[],
  runs: number,
): Promise<{ name: string; ms: number; plans: string[] }[]> {
  const results: { name: string; ms: number; plans: string[] }[] = [];
  const logger = dataSource.logger as { logQuery: (query: string, parameters?: unknown[]) => void };
  const original = logger.logQuery.bind(logger);
  for (const c of cases) {
    const captured: [string, unknown[]][] = [];
    logger.logQuery = (query, parameters) => captured.push([query, parameters ?? []]);
    await c.run();
    logger.logQuery = original;
    const plans: string[] = [];
    for (const [sql, params] of captured) {
      if (!/^\s*SELECT/i.test(sql)) continue;
      const rows: Record<string, unknown>[] = await dataSource.query(
        `${kind === 'postgres' ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN'} ${sql}`,
        params,
      );
      plans.push(
        rows
          .map((row) =>
            kind === 'postgres' ? String(row['QUERY PLAN']) : `${'  '.repeat(Number(row['parent']) === 0 ? 0 : 1)}${String(row['detail'])}`,
          )
          .join('\n'),
      );
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await c.run();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    results.push({ name: c.name, ms: times[Math.floor(times.length / 2)]!, plans });
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseCommandLine((argv) => {
    const { values } = parseArgs({
      args: argv,
      options: { db: { type: 'string' }, customers: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean' } },
    });
    if (values.help) return undefined;
    return {
      dbs: databasesOption(values.db),
      customers: Math.floor(numberOption('customers', values.customers ?? '100000', 1000, 1_000_000)),
      runs: Math.floor(numberOption('runs', values.runs ?? '20', 1, 1000)),
    };
  }, 'usage: npm run bench:reports -- [--db sqlite|postgres|both] [--customers 100000] [--runs 20]');
  if (!options) return;
  const { dbs, customers, runs } = options;
  installCleanup();
  const table: string[] = [];
  for (const kind of dbs) {
    const db = await freshDatabase(kind, process.env.BENCH_PG_ADMIN ?? DEFAULT_PG_ADMIN, 'gymgraph_bench_reports');
    const dataSource = await openDatabase(loadDatabaseConfig({ DATABASE_URL: db.url }), createLogger('silent'));
    try {
      const service = new StudioService(dataSource);
      const studios: { id: number; tenantId: number }[] = [];
      for (let i = 1; i <= STUDIOS; i++)
        studios.push(
          await service.add({ name: `Bench ${i}`, webhookKey: `bench-reports-key-${i}-0123456789`, tenantUrl: 'https://bench.example/v1' }),
        );
      const t0 = performance.now();
      await fill(
        dataSource,
        customers,
        studios.map((s) => s.id),
        studios[0]!.tenantId,
      );
      console.log(`${kind}: filled ${customers} customers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const clock = new WallClock('Europe/Berlin');
      const one = [studios[0]!.id];
      // As the resolvers pass them: every studio is the list of all studios (report-input.ts, reportStudios).
      const every = studios.map((s) => s.id);
      const scope = (studioIds: readonly number[]) => ({
        studios: studioIds,
        day: localDay(iso(NOW - DAY), clock, 'date'),
        today: localDay(iso(NOW - DAY), clock, 'date'),
      });
      const month = { from: NOW - 30 * DAY, to: NOW };
      const cases: Case[] = [
        { name: 'reference: one read of every contract', run: () => dataSource.query('SELECT COUNT("startDate") FROM "contracts"') },
        {
          name: 'classReport SLOT, one studio, one week',
          run: () => classReport(dataSource, { studios: one, from: NOW - 7 * DAY, to: NOW, clock, groupBy: [ClassReportGrouping.SLOT] }),
        },
        {
          name: 'classReport DAY, one studio, a month',
          run: () => classReport(dataSource, { studios: one, ...month, clock, groupBy: [ClassReportGrouping.DAY] }),
        },
        {
          name: 'classReport CLASS, every studio, a month',
          run: () => classReport(dataSource, { studios: every, ...month, clock, groupBy: [ClassReportGrouping.CLASS] }),
        },
        { name: 'activeMembers, one studio', run: () => activeMembers(dataSource, scope(one)) },
        { name: 'activeMembers, every studio', run: () => activeMembers(dataSource, { ...scope(every), everyStudio: true }) },
        {
          name: 'absentMembers page of 50, one studio, from the middle',
          run: () =>
            absentMembers(
              dataSource,
              scope(one),
              NOW - 30 * DAY,
              { tenantId: studios[0]!.tenantId, customerId: 1_000_000 + customers / 2 },
              51,
            ),
        },
        {
          name: 'absentMembers page of 50, every studio, from the middle',
          run: () =>
            absentMembers(
              dataSource,
              { ...scope(every), everyStudio: true },
              NOW - 30 * DAY,
              { tenantId: studios[0]!.tenantId, customerId: 1_000_000 + customers / 2 },
              51,
            ),
        },
        {
          name: 'contracts per month, one studio, a year',
          run: () => contractPeriods(dataSource, one, clock, { from: NOW - 365 * DAY, to: NOW }, [ContractPeriodGrouping.MONTH]),
        },
      ];
      for (const result of await measure(dataSource, kind, cases, runs)) {
        console.log(`\n## ${kind}: ${result.name}: median ${result.ms.toFixed(2)} ms`);
        for (const plan of result.plans) console.log(plan);
        table.push(`| ${kind} | ${result.name} | ${result.ms.toFixed(2)} |`);
      }
    } finally {
      await dataSource.destroy();
      await db.drop();
    }
  }
  console.log(`\n| database | statement(s) | median ms (${customers} customers) |\n|---|---|---|\n${table.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

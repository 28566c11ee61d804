// First: type-graphql's decorators (the areas' GraphQL types, reached through ingest) need the polyfill loaded.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadDatabaseConfig, loadDatabaseTimeouts } from '../config.js';
import { openSqlWriter } from '../db/sql-writer.js';
import { ROLLUP_MEASURES, rebuildVisitRollups, rollupsFromVisitsSql } from '../domains/visits/visit-rollup.js';
import { UsageError, runCli } from './run-cli.js';
import { TABLES } from '../db/tables.js';

const USAGE = `usage: npm run rollups -- <command>

  rebuild   recompute every visit rollup (visit_rollups) from the visits, in one transaction that
            waits for the ingest in progress and holds it off meanwhile; safe while the service runs
  check     compare the rollups with a GROUP BY over the visits, change nothing; exit code 1 and
            the differing (studio, quarter hour) rows when they differ

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

/** Rollup rows as "studio:bucket" -> measures, zero rows left out (a rollup emptied by a late check-out stays as zeros). */
const ROWS_SQL = `SELECT "studioId", "bucket", ${ROLLUP_MEASURES.map((m) => `"${m}"`).join(', ')} FROM "${TABLES.visit_rollups}"`;

void runCli(USAGE, async (_dataSource, out) => {
  const { positionals } = parseArgs({ args: process.argv.slice(2), options: {}, allowPositionals: true });
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (command !== 'rebuild' && command !== 'check')
    throw new UsageError(command === undefined ? 'a command is required' : `unknown command ${JSON.stringify(command)}`);
  // The ingest's own writer: on PostgreSQL its transaction takes the ingest lock, on SQLite the write
  // lock, so no batch of visits commits between the DELETE and the INSERT of a rebuild.
  const writer = openSqlWriter(loadDatabaseConfig(), { timeouts: loadDatabaseTimeouts(), applicationName: 'gymgraph-rollups' });
  try {
    const started = Date.now();
    if (command === 'rebuild') {
      const rows = await writer.transaction(async (tx) => {
        await rebuildVisitRollups((sql) => tx.run(sql));
        return (await tx.all<{ n: number | string }>(`SELECT COUNT(*) AS "n" FROM "${TABLES.visit_rollups}"`))[0]!.n;
      });
      out(`rebuilt ${Number(rows)} visit rollup rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    const differences = await writer.transaction(async (tx) => {
      const key = (row: Record<string, unknown>) => `${row['studioId']}:${row['bucket']}`;
      const values = (row: Record<string, unknown>) => ROLLUP_MEASURES.map((m) => Number(row[m])).join(',');
      const stored = new Map(
        (await tx.all<Record<string, unknown>>(ROWS_SQL)).filter((r) => Number(r['visits']) !== 0).map((r) => [key(r), values(r)]),
      );
      const expected = await tx.all<Record<string, unknown>>(rollupsFromVisitsSql());
      const lines: string[] = [];
      for (const row of expected) {
        const mine = stored.get(key(row));
        stored.delete(key(row));
        if (mine !== values(row))
          lines.push(
            `studio ${row['studioId']} at ${new Date(Number(row['bucket'])).toISOString()}: rollup ${mine ?? 'missing'}, visits give ${values(row)}`,
          );
      }
      for (const [k, v] of stored)
        lines.push(`studio ${k.split(':')[0]} at ${new Date(Number(k.split(':')[1])).toISOString()}: rollup ${v}, no visits`);
      return { lines, compared: expected.length };
    });
    if (differences.lines.length === 0) {
      out(`visit rollups match the visits (${differences.compared} rows compared)`);
    } else {
      for (const line of differences.lines) out(line);
      out(
        `${differences.lines.length} visit rollup rows differ from the visits (measures: ${ROLLUP_MEASURES.join(', ')}); npm run rollups -- rebuild`,
      );
      process.exitCode = 1;
    }
  } finally {
    await writer.close();
  }
});

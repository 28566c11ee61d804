// First: type-graphql's decorators (the areas' GraphQL types, reached through ingest) need the polyfill loaded.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { openSqlWriter } from '../db/sql-writer.js';
import { Ingestor } from '../ingest/ingestor.js';
import { RECONCILE_KINDS, ReconcileError, Reconciler, type ReconcileReport } from '../reconcile/reconciler.js';
import { OpenApiError } from '../upstream/open-api.js';
import { openApiClientFor } from '../upstream/open-api.client.js';
import { RateLimiters, type RateLimiterRegistry } from '../upstream/rate-limiter.js';
import { RedisRateLimiters } from '../upstream/redis-rate-limiter.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run reconcile -- --studio <id> [--since <ISO date>] [--dry-run] [--json]

  Pages through the studio's customers in the upstream Open API (and per customer its contracts,
  check-ins since --since, class and appointment bookings) and repairs what the webhooks never
  delivered, by logging synthesised events (content.source = "reconciliation") through the same
  ingest path. A second run repairs nothing new.

  --studio <id>      the studio (needs an Open API key and tenant URL: npm run studio -- update)
  --since <date>     compare check-ins from this date or date-time on (default: RECONCILE_LOOKBACK ago, 7d)
  --dry-run          count what is missing, change nothing
  --json             print the report as JSON

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

/** The report as a table, one row per kind. */
function formatReport(report: ReconcileReport): string[] {
  const head = report.dryRun ? ['kind', 'seen', 'present', 'missing', 'skipped'] : ['kind', 'seen', 'present', 'repaired', 'skipped'];
  const rows = RECONCILE_KINDS.map((kind) => {
    const c = report.counts[kind];
    return [kind, c.seen, c.present, c.repaired, c.skipped].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const lines = [
    `${report.dryRun ? 'dry run (nothing changed): ' : ''}reconciled studio ${report.studioId} "${report.studioName}" against ${report.tenantUrl} in ${(report.durationMs / 1000).toFixed(1)} s; check-ins since ${report.since.toISOString()}`,
    line(head),
    ...rows.map(line),
  ];
  if (report.customerErrors > 0) lines.push(`${report.customerErrors} customer(s) could not be read (deleted while paging); see the log`);
  return lines;
}

void runCli(
  USAGE,
  async (_dataSource, out) => {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      options: { studio: { type: 'string' }, since: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const studioId = Number(values.studio);
    if (values.studio === undefined) throw new UsageError('--studio is required');
    if (!Number.isInteger(studioId) || studioId <= 0)
      throw new UsageError(`--studio must be a studio id, got ${JSON.stringify(values.studio)}`);

    const config = loadConfig();
    let since = new Date(Date.now() - config.reconcile.lookbackMs);
    if (values.since !== undefined) {
      const parsed = /^\d{4}-\d{2}-\d{2}($|T)/.test(values.since) ? Date.parse(values.since) : NaN;
      if (Number.isNaN(parsed))
        throw new UsageError(
          `--since must be an ISO date or date-time such as 2026-01-01 or 2026-01-01T06:00:00Z, got ${JSON.stringify(values.since)}`,
        );
      if (parsed > Date.now()) throw new UsageError('--since is in the future');
      since = new Date(parsed);
    }

    // Logs (retries, skipped items) go to stderr, the report to stdout.
    const logger = pino(
      { level: config.logLevel === 'info' ? 'warn' : config.logLevel, base: { service: 'gymgraph-reconcile' } },
      pino.destination(2),
    );
    const writer = openSqlWriter(config.database);
    const ingestor = new Ingestor(writer, logger);
    // With REDIS_URL, the run shares the Open API budget with the servers hydrating on that Redis.
    let limiters: RateLimiterRegistry | undefined;
    try {
      const shared = (limiters = config.redisUrl ? await RedisRateLimiters.open({ url: config.redisUrl, logger }) : new RateLimiters());
      const reconciler = new Reconciler({
        read: (sql, params) => writer.read(sql, params),
        submit: (submission) => ingestor.submit(submission),
        openApi: (studio) => openApiClientFor(studio, config.openApi, logger, { limiters: shared }),
        logger,
      });
      const report = await reconciler.reconcileStudio(studioId, { since, dryRun: values['dry-run'] ?? false });
      if (values.json) out(JSON.stringify(report));
      else for (const line of formatReport(report)) out(line);
    } catch (error) {
      if (error instanceof OpenApiError)
        throw new ReconcileError(`the upstream Open API failed: ${error.message}${error.traceId ? ` (traceId ${error.traceId})` : ''}`);
      throw error;
    } finally {
      await ingestor.drain();
      await limiters?.close();
      await writer.close();
    }
  },
  (error) => error instanceof ReconcileError,
);

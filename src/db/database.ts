import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { MigrationExecutor, type DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config.js';
import type { Logger } from '../log.js';
import { SQLITE_MMAP_BYTES } from './connection-settings.js';

/** Any constant; the same for every instance sharing a PostgreSQL database. */
const MIGRATION_LOCK_KEY = 0x6779_6d6d;

/**
 * Opens `dataSource` (ormconfig.ts's createDataSource: the entities and migrations are the layers
 * above this one's) and brings the schema up to date. On PostgreSQL the migrations run
 * under an advisory lock, so instances starting together do not race each other, and without the
 * read statement timeout (`options.readTimeoutMs`), which a migration of a large table, or the wait
 * for another instance's migrations, may exceed.
 */
export async function initializeDatabase(
  database: DatabaseConfig,
  logger: Logger,
  dataSource: DataSource,
  options: OpenOptions = {},
): Promise<DataSource> {
  if (database.kind === 'sqlite') {
    const dir = path.dirname(database.file);
    if (dir !== '.') fs.mkdirSync(dir, { recursive: true });
  }
  await dataSource.initialize();
  // A session-level lock: taken and released on one dedicated connection.
  const lock = database.kind === 'postgres' ? dataSource.createQueryRunner() : undefined;
  try {
    await lock?.query('SET statement_timeout = 0');
    await lock?.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      // On the lock's connection, so that they run without the statement timeout too.
      const migrations = new MigrationExecutor(dataSource, lock);
      migrations.transaction = 'each';
      const applied = await migrations.executePendingMigrations();
      for (const migration of applied) logger.info({ migration: migration.name }, 'migration applied');
    } finally {
      await lock?.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      // Back to the connection's own setting (the read timeout) before it returns to the pool.
      await lock?.query('RESET statement_timeout');
      await lock?.release();
    }
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  if (database.kind === 'sqlite') tuneSqliteReads(dataSource, logger, options.optimize ?? true);
  return dataSource;
}

/** How {@link initializeDatabase} prepares the connection beyond migrating. */
export interface OpenOptions {
  /**
   * SQLite: refresh the planner's statistics (`PRAGMA optimize`) at start and hourly. For a
   * long-lived process (the service); a one-off command (the CLIs) reads the statistics the service
   * keeps, and its start-up run would only find the file busy while the service writes. @default true
   */
  readonly optimize?: boolean;
}

/** Rows ANALYZE samples per index; bounds `PRAGMA optimize` to a fraction of a second on large files. */
const SQLITE_ANALYSIS_LIMIT = 1000;
/** How often the statistics are refreshed while the service runs. */
const SQLITE_OPTIMIZE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The read connection (TypeORM's; the ingest writer has its own) serves GraphQL. Two settings matter:
 *
 * - `mmap_size`: random reads of a large file (a page of customers touches ~150 visits spread over
 *   the table) through the memory map instead of a `pread` per page into SQLite's 2 MB cache: about
 *   half the time per nested list at 1M events (bench/README.md).
 * - Planner statistics: SQLite never analyses by itself, and without statistics it has picked an
 *   index on the tenant alone where one on (tenant, customer) was there. `PRAGMA optimize` analyses
 *   the tables whose statistics are missing or stale (cheap when nothing changed); it runs at start
 *   and then hourly, as SQLite recommends for long-lived connections. The hourly run does not wait
 *   for the ingest writer's lock (`busy_timeout = 0` meanwhile): if the file is busy it tries again
 *   next time, instead of blocking the event loop.
 */
function tuneSqliteReads(dataSource: DataSource, logger: Logger, refreshStatistics: boolean): void {
  const db = (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  db.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  db.pragma(`analysis_limit = ${SQLITE_ANALYSIS_LIMIT}`);
  if (!refreshStatistics) return;
  const optimize = (flags: string) => {
    const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      db.pragma(`optimize${flags}`);
    } catch (error) {
      logger.warn({ err: error }, 'PRAGMA optimize skipped (the database is busy); trying again later');
    } finally {
      db.pragma(`busy_timeout = ${busyTimeout}`);
    }
  };
  // 0x10002: also tables not used by this connection yet (it has just opened).
  optimize(' = 0x10002');
  const timer = setInterval(() => {
    if (!dataSource.isInitialized) clearInterval(timer);
    else optimize('');
  }, SQLITE_OPTIMIZE_INTERVAL_MS);
  timer.unref();
}

/**
 * `SELECT 1` on the DataSource's own pool, answered within `timeoutMs` or failed (for /readyz). On
 * PostgreSQL the bound is pg's client-side query timeout, so a connection that stopped answering (a
 * frozen server, a black-holed network) is dropped from TypeORM's pool rather than kept, and a
 * later probe does not queue behind it.
 */
export async function pingDataSource(dataSource: DataSource, timeoutMs: number): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.query('SELECT 1');
    return;
  }
  const pool = (dataSource.driver as unknown as { master: { query(config: { text: string; query_timeout: number }): Promise<unknown> } })
    .master;
  await pool.query({ text: 'SELECT 1', query_timeout: timeoutMs });
}

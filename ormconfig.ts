import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { initializeDatabase, type OpenOptions } from './src/db/database.js';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseConfig, type DatabaseTimeouts } from './src/config.js';
import type { Logger } from './src/log.js';
import { ENTITIES } from './src/entities.js';
import { MIGRATIONS } from './src/migrations/index.js';
import { PG_KEEPALIVE_DELAY_MS, SQLITE_PRAGMAS } from './src/db/connection-settings.js';

/** Settings of the service's DataSource (the command-line tools pass only the timeouts). */
export interface DataSourceOptions {
  /** Connect (and pool wait) timeout of TypeORM's PostgreSQL pool. @default DEFAULT_DATABASE_TIMEOUTS */
  readonly timeouts?: DatabaseTimeouts;
  /**
   * PostgreSQL: `statement_timeout` of the pool's connections, in ms (0 or unset: none). The pool
   * serves GraphQL reads (DATABASE_READ_TIMEOUT_MS); the ingest writer has its own pool.
   */
  readonly readTimeoutMs?: number;
}

/**
 * Builds the TypeORM DataSource for a database configuration. Migrations, never `synchronize`.
 * Pure: reads no environment and opens nothing (`initialize()` does); the TypeORM command-line
 * tool has its own module, src/cli/typeorm.data-source.ts.
 *
 * On PostgreSQL TypeORM's pool serves reads and the command-line tools: a connection is made, or a
 * free one waited for, within `timeouts.connectMs`, and a connection lost while idle is dropped by
 * the pool (replaced on the next query) instead of being an unhandled error; one lost while in use
 * fails its query, and TypeORM's query runner hands it back as broken.
 */
export function createDataSource(database: DatabaseConfig, options: DataSourceOptions = {}): DataSource {
  const { timeouts = DEFAULT_DATABASE_TIMEOUTS, readTimeoutMs } = options;
  if (database.kind === 'sqlite') {
    return new DataSource({
      type: 'better-sqlite3',
      database: database.file,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTransactionMode: 'each',
      synchronize: false,
      statementCacheSize: 200,
      prepareDatabase: (db: { pragma(sql: string): unknown }) => {
        for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);
      },
    });
  }
  return new DataSource({
    type: 'postgres',
    url: database.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // The pool replaces a lost idle connection by itself; the outage shows where a query fails.
    poolErrorHandler: () => undefined,
    extra: {
      max: 10,
      application_name: 'gymgraph',
      connectionTimeoutMillis: timeouts.connectMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: PG_KEEPALIVE_DELAY_MS,
      ...(readTimeoutMs ? { statement_timeout: readTimeoutMs } : {}),
    },
  });
}

/**
 * Opens the service's database: the DataSource of {@link createDataSource}, initialised, with the
 * migrations applied (src/db/database.ts). The entities and migrations are the domain's, so the
 * DataSource is assembled here, above the layers, and handed down.
 */
export function openDatabase(
  database: DatabaseConfig,
  logger: Logger,
  options: DataSourceOptions = {},
  open: OpenOptions = {},
): Promise<DataSource> {
  return initializeDatabase(database, logger, createDataSource(database, options), open);
}

import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseConfig, type DatabaseTimeouts } from './src/config.js';
import { ENTITIES } from './src/db/entities.js';
import { MIGRATIONS } from './src/migrations/index.js';

/**
 * Pragmas for every SQLite connection we open (TypeORM's and the ingest writer's).
 * WAL lets readers run while the ingest writer commits; `synchronous = FULL` makes every
 * acknowledged webhook survive a power cut, and costs little because the writer commits in groups
 * (see ingest/ingestor.ts). `busy_timeout` lets the CLI and the server share the file; the ingest
 * writer replaces it with a short one and waits asynchronously instead (db/sql-writer.ts), because
 * better-sqlite3 waits synchronously, blocking the event loop.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON'];

/** TCP keepalive on PostgreSQL connections: a peer that vanished is noticed on idle connections too. */
export const PG_KEEPALIVE_DELAY_MS = 10_000;

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
 * tool has its own module, src/db/typeorm-cli.data-source.ts.
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

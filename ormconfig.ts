import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadDatabaseConfig, type DatabaseConfig } from './src/config.js';
import { ENTITIES } from './src/db/entities.js';
import { MIGRATIONS } from './src/migrations/index.js';

/**
 * Pragmas for every SQLite connection we open (TypeORM's and the ingest writer's).
 * WAL lets readers run while the ingest writer commits; `synchronous = FULL` makes every
 * acknowledged webhook survive a power cut, and costs little because the writer commits in groups
 * (see ingest/ingestor.ts). `busy_timeout` lets the CLI and the server share the file.
 */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON'];

/** Settings of the service's DataSource that tools (CLI, migrations) leave out. */
export interface DataSourceOptions {
  /**
   * PostgreSQL: `statement_timeout` of the pool's connections, in ms (0 or unset: none). The pool
   * serves GraphQL reads (DATABASE_READ_TIMEOUT_MS); the ingest writer has its own pool.
   */
  readonly readTimeoutMs?: number;
}

/** Builds the TypeORM DataSource for a database configuration. Migrations, never `synchronize`. */
export function createDataSource(database: DatabaseConfig, options: DataSourceOptions = {}): DataSource {
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
    extra: { max: 10, application_name: 'gymgraph', ...(options.readTimeoutMs ? { statement_timeout: options.readTimeoutMs } : {}) },
  });
}

/** The DataSource for the TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:show`). */
export const AppDataSource = createDataSource(loadDatabaseConfig());

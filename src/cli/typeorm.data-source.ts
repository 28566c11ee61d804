import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig.js';
import { ConfigError, loadDatabaseConfig, loadDatabaseTimeouts } from '../config.js';

/**
 * The DataSource for the TypeORM command-line tool only, built from `DATABASE_URL` when this module
 * is loaded: `npx typeorm -d dist/src/cli/typeorm.data-source.js migration:show`. Nothing in the
 * service imports it (the service and our own tools build theirs with `createDataSource`).
 */
function fromEnvironment(): DataSource {
  try {
    return createDataSource(loadDatabaseConfig(), { timeouts: loadDatabaseTimeouts() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gymgraph: ${error.message}\n`);
    process.exit(2);
  }
}

export const AppDataSource = fromEnvironment();

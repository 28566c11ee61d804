import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig.js';
import type { DatabaseConfig } from '../config.js';
import type { Logger } from '../log.js';

/** Any constant; the same for every instance sharing a PostgreSQL database. */
const MIGRATION_LOCK_KEY = 0x6779_6d6d;

/**
 * Opens the TypeORM DataSource and brings the schema up to date. On PostgreSQL the migrations run
 * under an advisory lock, so instances starting together do not race each other.
 */
export async function openDatabase(database: DatabaseConfig, logger: Logger): Promise<DataSource> {
  if (database.kind === 'sqlite') {
    const dir = path.dirname(database.file);
    if (dir !== '.') fs.mkdirSync(dir, { recursive: true });
  }
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  // A session-level lock: taken and released on one dedicated connection.
  const lock = database.kind === 'postgres' ? dataSource.createQueryRunner() : undefined;
  try {
    await lock?.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const migration of applied) logger.info({ migration: migration.name }, 'migration applied');
    } finally {
      await lock?.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await lock?.release();
    }
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

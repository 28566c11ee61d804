import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  readonly kind: DatabaseKind;
  readonly config: DatabaseConfig;
  /** The same database as a DATABASE_URL value, for child processes. */
  readonly url: string;
  drop(): Promise<void>;
}

const pgAdminUrl = () => process.env.GYMGRAPH_TEST_PG ?? '';

/** The databases this run can test against: SQLite always, PostgreSQL when global-setup found it. */
export function databaseKinds(): DatabaseKind[] {
  return pgAdminUrl() ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** The Redis URL global-setup found reachable, or '' (then the Redis tests are skipped). */
export const redisUrl = () => process.env.GYMGRAPH_TEST_REDIS ?? '';

/** A fresh, empty database of the given kind: a temporary SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gymgraph-test-'));
    const file = path.join(dir, 'test.sqlite');
    return {
      kind,
      config: { kind: 'sqlite', file },
      url: `sqlite:${file}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const admin = pgAdminUrl();
  if (!admin) throw new Error('PostgreSQL is not available for tests');
  const name = `gymgraph_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    kind,
    config: { kind: 'postgres', url: url.toString() },
    url: url.toString(),
    drop: () => withAdmin(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

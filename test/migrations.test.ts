import type { DataSource } from 'typeorm';
import { openDatabase } from '../ormconfig.js';
import { createLogger } from '../src/log.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import { TABLES } from '../src/db/tables.js';

const ALL_MIGRATIONS = MIGRATIONS.map((migration) => migration.name);

const silent = createLogger('silent');

/**
 * The one documented difference between entities and migrations: `events.seq` is `integer` in the
 * entity (SQLite autoincrements only an INTEGER PRIMARY KEY) and BIGSERIAL in the PostgreSQL
 * migration. TypeORM wants to rebuild the column, and with it the primary key and the two indexes
 * that contain it; each pattern spells out exactly the DDL the migration already has, so a real
 * drift in those indexes would still show.
 */
const EVENTS_SEQ_ONLY = [
  /^DROP INDEX "public"\."events_(type|studio)_seq"$/,
  /^ALTER TABLE "events" DROP CONSTRAINT "events_pkey"$/,
  /^ALTER TABLE "events" DROP COLUMN "seq"$/,
  /^ALTER TABLE "events" ADD "seq" SERIAL NOT NULL$/,
  /^ALTER TABLE "events" ADD CONSTRAINT "[^"]+" PRIMARY KEY \("seq"\)$/,
  /^CREATE INDEX "events_type_seq" ON "events"\s*\("type", "seq"\)\s*$/,
  /^CREATE INDEX "events_studio_seq" ON "events"\s*\("studioId", "seq"\)\s*$/,
];

/** What TypeORM would change to make the schema match the entities, minus the documented difference. */
async function schemaDrift(dataSource: DataSource): Promise<string[]> {
  const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
  const queries = upQueries.map((q) => q.query.trim());
  if (dataSource.options.type !== 'postgres') return queries;
  return queries.filter((sql) => !EVENTS_SEQ_ONLY.some((pattern) => pattern.test(sql)));
}

/**
 * Our tables in the database, sorted by name: not TypeORM's `migrations`, nor SQLite's own (sqlite_sequence;
 * sqlite_stat1/4 from the PRAGMA optimize at start).
 */
async function databaseTables(dataSource: DataSource): Promise<string[]> {
  const rows = (await dataSource.query(
    dataSource.options.type === 'postgres'
      ? `SELECT "table_name" AS "name" FROM information_schema.tables WHERE "table_schema" = current_schema() AND "table_type" = 'BASE TABLE' AND "table_name" <> 'migrations'`
      : `SELECT "name" FROM sqlite_master WHERE "type" = 'table' AND "name" <> 'migrations' AND substr("name", 1, 7) <> 'sqlite_'`,
  )) as { name: string }[];
  // Sorted here: PostgreSQL's collation may ignore the underscores (customers before customer_studios).
  return rows.map((r) => r.name).sort();
}

const appliedMigrations = async (dataSource: DataSource) =>
  ((await dataSource.query('SELECT "name" FROM "migrations" ORDER BY "id"')) as { name: string }[]).map((r) => r.name);

describe.each(databaseKinds())('database migrations (%s)', (kind) => {
  let db: TestDatabase;
  const open: DataSource[] = [];
  const openDb = async () => {
    const dataSource = await openDatabase(db.config, silent);
    open.push(dataSource);
    return dataSource;
  };

  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    for (const dataSource of open.splice(0)) if (dataSource.isInitialized) await dataSource.destroy();
    await db.drop();
  });

  it('when the migrations have run on a fresh database, then the schema matches the entities', async () => {
    const dataSource = await openDb();
    expect(await appliedMigrations(dataSource)).toEqual(ALL_MIGRATIONS);
    expect(await schemaDrift(dataSource)).toEqual([]);
  });

  it('when the migrations have run, then the database, the entities and TABLES name the same tables', async () => {
    const dataSource = await openDb();
    const tables = Object.values(TABLES).sort();
    expect(await databaseTables(dataSource)).toEqual(tables);
    expect(dataSource.entityMetadatas.map((entity) => entity.tableName).sort()).toEqual(tables);
  });

  if (kind === 'postgres') {
    it('when the migrations have run on PostgreSQL, then events.seq is a 64-bit sequence (the documented difference)', async () => {
      const dataSource = await openDb();
      const [column] = await dataSource.query(
        `SELECT "data_type", "column_default" FROM information_schema.columns WHERE "table_name" = 'events' AND "column_name" = 'seq'`,
      );
      expect(column.data_type).toBe('bigint');
      expect(column.column_default).toMatch(/^nextval\(/);
    });
  }

  it('when the migrations run a second time, then nothing is applied and nothing changes', async () => {
    const first = await openDb();
    await first.destroy();
    const second = await openDb();
    expect(await second.showMigrations()).toBe(false);
    expect(await second.runMigrations({ transaction: 'each' })).toEqual([]);
    expect(await appliedMigrations(second)).toEqual(ALL_MIGRATIONS);
    expect(await schemaDrift(second)).toEqual([]);
  });

  if (kind === 'postgres') {
    it('when two instances open a fresh database at the same time, then both succeed and the migrations run once', async () => {
      const [a, b] = await Promise.all([openDb(), openDb()]);
      expect(await appliedMigrations(a!)).toEqual(ALL_MIGRATIONS);
      expect(await b!.showMigrations()).toBe(false);
      expect(await schemaDrift(b!)).toEqual([]);
    });
  }

  it('when the lists migration runs over customers hydrated before it, then their search columns are filled as hydration writes them', async () => {
    const dataSource = await openDb();
    // Back to before it (and whatever came after it).
    while ((await appliedMigrations(dataSource)).includes('ListsAndPresence1764000000010'))
      await dataSource.undoLastMigration({ transaction: 'each' });
    const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
    await dataSource.query(
      `INSERT INTO customers ("tenantId", "studioId", "firstEventAt", "lastEventAt", "customerId", "firstName", "lastName", "email", "customerNumber")
       VALUES (1, 1, 0, 0, 7, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}), (1, 1, 0, 0, 8, NULL, NULL, NULL, NULL)`,
      ['Jürgen', 'MÜLLER', 'J.Mueller@Example.com', 'C-0007'],
    );
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await appliedMigrations(dataSource)).toEqual(ALL_MIGRATIONS);
    expect(
      await dataSource.query(
        `SELECT "customerId", "searchName", "searchLastName", "searchEmail", "searchNumber" FROM customers ORDER BY "customerId"`,
      ),
    ).toEqual([
      {
        customerId: kind === 'postgres' ? '7' : 7,
        searchName: 'jürgen müller',
        searchLastName: 'müller',
        searchEmail: 'j.mueller@example.com',
        searchNumber: 'c-0007',
      },
      { customerId: kind === 'postgres' ? '8' : 8, searchName: null, searchLastName: null, searchEmail: null, searchNumber: null },
    ]);
    expect(await schemaDrift(dataSource)).toEqual([]);
  });

  if (kind === 'sqlite') {
    it('when every migration is reverted and run again, then every table goes and comes back as the entities say', async () => {
      const dataSource = await openDb();
      const tables = () => databaseTables(dataSource);
      const before = await tables();
      expect(before).toEqual(expect.arrayContaining(['events', 'studios', 'tenants', 'customers', 'visits']));

      for (let i = 0; i < ALL_MIGRATIONS.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toEqual([]);
      expect(await appliedMigrations(dataSource)).toEqual([]);

      const applied = await dataSource.runMigrations({ transaction: 'each' });
      expect(applied.map((m) => m.name)).toEqual(ALL_MIGRATIONS);
      expect(await tables()).toEqual(before);
      expect(await schemaDrift(dataSource)).toEqual([]);
    });
  }
});

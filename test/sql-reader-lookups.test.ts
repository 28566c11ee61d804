import type { Database } from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../ormconfig.js';
import { SqlReader } from '../src/db/sql-reader.js';
import { openSqlWriter, type SqlWriter } from '../src/db/sql-writer.js';
import { ApiToken } from '../src/domains/access/api-token.entity.js';
import { createLogger } from '../src/log.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';

// SQLite: a delivery's lookups by key run on the ingest writer's connection between its
// transactions (SqlReader.readLookupsOn, SqlWriter.idleConnection): its page cache holds what the
// last commit wrote. What a lookup sees must not change: every commit, never an open transaction.
describe('SQLite lookups by key on the ingest writer connection', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let writer: SqlWriter;
  let reader: SqlReader;
  let connection: Database;

  const insertToken = (tx: { run(sql: string, params?: readonly (string | number)[]): Promise<number> }, name: string) =>
    tx.run(`INSERT INTO "api_tokens" ("name", "role", "tokenHash", "createdAt") VALUES (?, 'partner', ?, 0)`, [name, `hash-${name}`]);
  const idOf = async (name: string) =>
    (await writer.read<{ id: number }>(`SELECT "id" FROM "api_tokens" WHERE "name" = ?`, [name]))[0]?.id ?? NaN;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    dataSource = await openDatabase(db.config, createLogger('silent'));
    writer = openSqlWriter(db.config);
    connection = writer.idleConnection!()!;
    reader = SqlReader.of(dataSource);
    reader.readLookupsOn(() => writer.idleConnection!());
  });
  afterAll(async () => {
    await writer?.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  it('when the writer is between transactions, then a lookup by key runs on its connection and sees the last commit', async () => {
    await writer.transaction(async (tx) => void (await insertToken(tx, 'committed')));
    const id = await idOf('committed');
    const prepare = jest.spyOn(connection, 'prepare');
    try {
      expect(await reader.findOne(ApiToken, { id })).toMatchObject({ id, name: 'committed', role: 'partner' });
      expect(prepare.mock.calls.some(([sql]) => sql.includes('FROM "api_tokens"'))).toBe(true);
    } finally {
      prepare.mockRestore();
    }
  });

  it('when a transaction of the writer is open, then a lookup by key does not see its uncommitted rows, and sees them once committed', async () => {
    let lookedUp: ApiToken | null | undefined;
    let id = NaN;
    await writer.transaction(async (tx) => {
      await insertToken(tx, 'uncommitted');
      id = (await tx.all<{ id: number }>('SELECT last_insert_rowid() AS "id"'))[0]!.id;
      expect(writer.idleConnection!()).toBeUndefined();
      lookedUp = await reader.findOne(ApiToken, { id });
    });
    expect(lookedUp).toBeNull();
    expect(await reader.findOne(ApiToken, { id })).toMatchObject({ id, name: 'uncommitted' });
  });

  it('when the writer has closed, then lookups go back to the reader connection', async () => {
    const other = openSqlWriter(db.config);
    reader.readLookupsOn(() => other.idleConnection!());
    try {
      await other.close();
      expect(other.idleConnection!()).toBeUndefined();
      const id = await idOf('committed');
      expect(await reader.findOne(ApiToken, { id })).toMatchObject({ id, name: 'committed' });
    } finally {
      reader.readLookupsOn(() => writer.idleConnection!());
    }
  });
});

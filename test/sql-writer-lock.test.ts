import { openSqlWriter, type SqlWriter } from '../src/db/sql-writer.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
/** True when `promise` settles within `ms`. */
const settledSoon = async (promise: Promise<unknown>, ms = 300) => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
};

(databaseKinds().includes('postgres') ? describe : describe.skip)('PostgreSQL writer: the ingest lock (two instances)', () => {
  let db: TestDatabase;
  let one: SqlWriter;
  let two: SqlWriter;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    one = openSqlWriter(db.config);
    two = openSqlWriter(db.config);
    await one.transaction(async (tx) => void (await tx.run('CREATE TABLE marks (n integer)')));
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  it("is held after COMMIT until afterCommit has finished: the other instance's next transaction waits for it", async () => {
    const announcing = deferred();
    const announced = deferred();
    const first = one.transaction(
      async (tx) => void (await tx.run('INSERT INTO marks VALUES (1)')),
      async () => {
        announcing.resolve();
        await announced.promise;
      },
    );
    await announcing.promise;
    // Committed already: visible to others.
    expect(await two.read<{ n: number }>('SELECT n FROM marks WHERE n = 1')).toEqual([{ n: 1 }]);
    const second = two.transaction(async (tx) => void (await tx.run('INSERT INTO marks VALUES (2)')));
    expect(await settledSoon(second)).toBe(false);
    announced.resolve();
    await first;
    await second;
  });

  it('is released when the work fails (the transaction is rolled back) and the error reaches the caller', async () => {
    await expect(one.transaction(async (tx) => void (await tx.run('INSERT INTO no_such_table VALUES (1)')))).rejects.toThrow(
      /no_such_table/,
    );
    await expect(
      settledSoon(
        two.transaction(async (tx) => void (await tx.run('INSERT INTO marks VALUES (3)'))),
        5000,
      ),
    ).resolves.toBe(true);
  });

  it('is released when afterCommit throws; the data stays committed and the error reaches the caller', async () => {
    await expect(
      one.transaction(
        async (tx) => void (await tx.run('INSERT INTO marks VALUES (4)')),
        async () => {
          throw new Error('announcement failed');
        },
      ),
    ).rejects.toThrow('announcement failed');
    expect(await two.read<{ n: number }>('SELECT n FROM marks WHERE n = 4')).toEqual([{ n: 4 }]);
    await expect(
      settledSoon(
        two.transaction(async (tx) => void (await tx.run('INSERT INTO marks VALUES (5)'))),
        5000,
      ),
    ).resolves.toBe(true);
  });
});

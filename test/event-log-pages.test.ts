import { EventLog } from '../src/realtime/log-reader.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

describe.each(databaseKinds())('EventLog pages shared between replays (%s)', (kind) => {
  let server: TestServer;
  let log: EventLog;
  beforeAll(async () => {
    server = await startTestServer(kind);
    const studio = await server.addStudio();
    for (let i = 0; i < 5; i++) {
      expect(
        (await server.post(studio.webhookKey, delivery(700 + i, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 + i }))).status,
      ).toBe(200);
    }
    log = new EventLog(server.app.dataSource);
  });
  afterAll(() => server.stop());

  /** Runs `read` and counts the statements sent for it (every read passes the DataSource's logger). */
  async function counted<T>(read: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const spy = jest.spyOn(server.app.dataSource.logger, 'logQuery');
    try {
      const result = await read();
      return { result, statements: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  }

  it('when replays of one selector ask for the same full page, then it is read once and they get the same events', async () => {
    const selector = { scope: null, types: ['CUSTOMER_CREATED'] };
    const {
      result: [a, b],
      statements,
    } = await counted(() => Promise.all([log.page(selector, 0, 2), log.page(selector, 0, 2)]));
    expect(statements).toBe(1);
    expect(a!.events.map((e) => e.entityId)).toEqual([700, 701]);
    expect(b).toEqual(a);
    const again = await counted(() => log.page(selector, 0, 2));
    expect(again.statements).toBe(0);
    expect(again.result).toEqual(a);
  });

  it('when they ask for a page that reaches the end of the log, then each reads it itself, and sees what was committed since', async () => {
    const selector = { scope: null, studioIds: null };
    const {
      result: [a, b],
      statements,
    } = await counted(() => Promise.all([log.page(selector, 0, 100), log.page(selector, 0, 100)]));
    expect(statements).toBe(2);
    expect(a!.events).toHaveLength(5);
    expect(b).toEqual(a);
    const studio = await server.addStudio();
    expect((await server.post(studio.webhookKey, delivery(800, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_100 }))).status).toBe(
      200,
    );
    const after = await counted(() => log.page(selector, 0, 100));
    expect(after.statements).toBe(1);
    expect(after.result.events.map((e) => e.entityId)).toEqual([700, 701, 702, 703, 704, 800]);
  });

  it('keeps selectors apart: another scope reads its own page', async () => {
    const { result, statements } = await counted(() => log.page({ scope: [999_999], types: ['CUSTOMER_CREATED'] }, 0, 2));
    expect(statements).toBe(1);
    expect(result.events).toEqual([]);
  });
});

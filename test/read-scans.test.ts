import fs from 'node:fs';
import { ReadTimeoutError } from '../src/db/read-timeout.js';
import { ScanGate } from '../src/db/scan-gate.js';
import { SqlReader } from '../src/db/sql-reader.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A scan that keeps the database busy for about `seconds` (SQLite counts; PostgreSQL sleeps). */
const slowScan = (kind: 'sqlite' | 'postgres', seconds: number) =>
  kind === 'postgres'
    ? `SELECT pg_sleep(${seconds}) AS "slept"`
    : `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${seconds * 1_000_000}) SELECT COUNT(*) AS "n" FROM c`;

async function graphql(server: TestServer, query: string): Promise<{ data?: any; errors?: { message: string; extensions: { code: string } }[] }> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions: { code: string } }[] };
}

const STATS = '{ visitStats(range: {from: "2026-01-01T00:00:00Z", to: "2026-01-03T00:00:00Z"}) { label count } }';
const PAGE = '{ customers(first: 1) { nodes { customerId } } }';

describe.each(databaseKinds())('scans at once (DATABASE_READ_MAX_SCANS) on %s', (kind) => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  it('when a scan holds the only slot, then a statistics query waits for it and answers after it, while page reads are answered meanwhile', async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, DATABASE_READ_MAX_SCANS: '1', DATABASE_READ_TIMEOUT_MS: '0' });
    const reader = SqlReader.of(server.app.dataSource);
    const order: string[] = [];
    const holder = reader.scan(slowScan(kind, 2)).then(() => order.push('holder'));
    const stats = graphql(server, STATS).then((result) => {
      order.push('stats');
      return result;
    });
    const page = await graphql(server, PAGE);
    order.push('page');
    expect(page).toEqual({ data: { customers: { nodes: [] } } });
    expect(await stats).toEqual({ data: { visitStats: [{ label: '2026-01-01', count: 0 }, { label: '2026-01-02', count: 0 }] } });
    await holder;
    expect(order).toEqual(['page', 'holder', 'stats']);
  }, 60_000);
});

describe('ScanGate', () => {
  it('when a scan waits longer than the read timeout for its slot, then it fails with ReadTimeoutError naming the limit, and later scans run', async () => {
    const gate = new ScanGate(1, 50);
    let finish!: () => void;
    const holder = gate.run(() => new Promise<void>((resolve) => (finish = resolve)));
    const ran: string[] = [];
    const waiter = gate.run(async () => ran.push('waiter'));
    await expect(waiter).rejects.toBeInstanceOf(ReadTimeoutError);
    await expect(waiter).rejects.toThrow('50 ms');
    expect(gate.load).toEqual({ running: 1, waiting: 0 });
    finish();
    await holder;
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(ran).toEqual([]);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('when scans arrive while every slot is taken, then they run in order of arrival, never more than the size at once', async () => {
    const gate = new ScanGate(2, 0);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => gate.run(async () => {
      running += 1;
      most = Math.max(most, running);
      order.push(i);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    })));
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

/** Nice values of this process's threads (Linux), from /proc/self/task/<tid>/stat (field 19). */
function threadNiceness(): number[] {
  return fs.readdirSync('/proc/self/task').map((tid) => {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('SQLite read workers', () => {
  let server: TestServer;
  afterEach(async () => {
    await server?.stop();
  });

  (fs.existsSync('/proc/thread-self') ? it : it.skip)('when the service runs on Linux, then its read worker threads, and only they, run at the lowest CPU priority (nice 19)', async () => {
    const before = threadNiceness().filter((nice) => nice === 19).length;
    server = await startTestServer('sqlite', { ADMIN_TOKEN, SQLITE_READ_WORKERS: '3' });
    expect(threadNiceness().filter((nice) => nice === 19).length - before).toBe(3);
    // The thread that runs the event loop (and this test) keeps its priority.
    expect(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[16]).toBe('0');
  }, 60_000);
});

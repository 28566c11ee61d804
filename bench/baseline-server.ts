/**
 * The bare-insert baseline for bench/ingest.ts: a plain `node:http` server that parses each
 * webhook body and inserts one row per request, then answers 200. No key check, no validation,
 * no idempotency index, no projection, no batching: the ceiling of "HTTP + JSON + one INSERT" on
 * this machine, to put our numbers next to.
 *
 *   SQLite: better-sqlite3, WAL, synchronous=NORMAL, one prepared statement (autocommit).
 *   PostgreSQL: a `pg` Pool (10 connections), one INSERT per request.
 *
 * Env: DATABASE_URL (sqlite:<file> or postgres://...), PORT, HOST (default 127.0.0.1).
 * Stops on SIGTERM / SIGINT.
 */
import http from 'node:http';
import Database from 'better-sqlite3';
import pg from 'pg';

type Row = [uuid: string, entityId: number, type: string, content: string | null, occurredAt: number, receivedAt: number];

interface Sink {
  insert(row: Row): Promise<void> | void;
  close(): Promise<void> | void;
}

const TABLE = 'bench_events';

function openSqlite(file: string): Sink {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid VARCHAR(36) NOT NULL, entity_id BIGINT NOT NULL,
    type VARCHAR(100) NOT NULL, content TEXT, occurred_at BIGINT NOT NULL, received_at BIGINT NOT NULL)`);
  const statement = db.prepare(`INSERT INTO ${TABLE} (uuid, entity_id, type, content, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?)`);
  return {
    insert: (row) => {
      statement.run(...row);
    },
    close: () => {
      db.close();
    },
  };
}

async function openPostgres(url: string): Promise<Sink> {
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'gymgraph-bench-baseline' });
  pool.on('error', () => undefined);
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (seq BIGSERIAL PRIMARY KEY, uuid VARCHAR(36) NOT NULL, entity_id BIGINT NOT NULL,
    type VARCHAR(100) NOT NULL, content TEXT, occurred_at BIGINT NOT NULL, received_at BIGINT NOT NULL)`);
  const text = `INSERT INTO ${TABLE} (uuid, entity_id, type, content, occurred_at, received_at) VALUES ($1, $2, $3, $4, $5, $6)`;
  return {
    insert: async (row) => {
      // A named statement: parsed once per connection, like the prepared statement on SQLite.
      await pool.query({ name: 'bench_insert', text, values: row });
    },
    close: () => pool.end(),
  };
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? '';
  const port = Number(process.env.PORT ?? '0');
  const host = process.env.HOST || '127.0.0.1';
  let sink: Sink;
  if (url.startsWith('sqlite:')) sink = openSqlite(url.slice('sqlite:'.length).replace(/^\/\//, ''));
  else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) sink = await openPostgres(url);
  else throw new Error('DATABASE_URL must be sqlite:<file> or postgres://...');

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) return send(res, 200, '{"status":"ok"}');
    if (req.method !== 'POST' || path !== '/webhooks') return send(res, 404, '{"error":"not_found"}');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let row: Row;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          uuid: string;
          entityId: number;
          payload: { type: string; timestamp: number; content?: unknown }[];
        };
        const element = body.payload[0]!;
        row = [
          body.uuid,
          body.entityId,
          element.type,
          element.content == null ? null : JSON.stringify(element.content),
          element.timestamp,
          Date.now(),
        ];
      } catch (error) {
        return send(res, 400, JSON.stringify({ error: 'invalid_payload', message: (error as Error).message }));
      }
      Promise.resolve()
        .then(() => sink.insert(row))
        .then(
          () => send(res, 200, `{"status":"ok","uuid":${JSON.stringify(row[0])}}`),
          (error: unknown) => send(res, 500, JSON.stringify({ error: 'insert_failed', message: (error as Error).message })),
        );
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      Promise.resolve(sink.close()).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

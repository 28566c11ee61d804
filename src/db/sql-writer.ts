import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_KEEPALIVE_DELAY_MS, SQLITE_MMAP_BYTES, SQLITE_PRAGMAS } from './connection-settings.js';
import { DEFAULT_DATABASE_TIMEOUTS, type DatabaseConfig, type DatabaseTimeouts } from '../config.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.js';
import type { PoolStats } from '../metrics/metrics.js';

/** Parameters are written `?` in SQL text; the PostgreSQL writer renumbers them. */
export type Param = string | number | boolean | null;

/** Statements inside one write transaction. */
export interface SqlTx {
  /** For the few statements whose best plan needs dialect-specific SQL. */
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  run(sql: string, params?: readonly Param[]): Promise<number>;
  /**
   * `${head} VALUES (?, ...), ... ${tail}` for many rows: one prepared statement per row on
   * SQLite (cheap, in-process), multi-row statements on PostgreSQL (one round trip per chunk).
   * Returns the RETURNING rows, if `tail` has a RETURNING clause.
   */
  insertMany<T>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<T[]>;
  /**
   * Like {@link insertMany}, for a write whose result is not needed. SQLite runs it at once;
   * PostgreSQL queues it and sends the queue in one message with the next statement or with COMMIT,
   * so a batch's record upserts cost one round trip in all (on a busy machine each round trip, even
   * a trivial one, costs more than the statement itself: bench/README.md).
   */
  insertLater(head: string, rows: readonly (readonly Param[])[], tail: string): void;
  /** Like {@link run}, queued the same way as {@link insertLater}. */
  runLater(sql: string, params?: readonly Param[]): void;
  /**
   * A read whose rows are needed a little later. SQLite runs it at once; PostgreSQL queues it like
   * {@link runLater} and settles the promise when the queue is sent (with the next statement that
   * needs a result, or with COMMIT), so it costs no round trip of its own. The promise rejects when
   * that message fails; a promise nobody awaits then is not an unhandled rejection.
   */
  allLater<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** {@link insertMany}, queued like {@link allLater}: SQLite runs it at once, PostgreSQL with the next message. */
  insertManyLater<T>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<T[]>;
  /** Sends what is queued now (PostgreSQL: one message, one round trip; SQLite: nothing is ever queued). */
  flush(): Promise<void>;
}

/**
 * The ingest path's own connection. It bypasses TypeORM's query runner on purpose: the webhook
 * path is the hot path, and statement caching plus multi-row statements are what make group
 * commit pay (see bench/ingest). TypeORM still owns the schema (migrations) and the read side.
 */
export interface SqlWriter {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `work` in one transaction. Transactions of one writer run one after another, each with its
   * `afterCommit` (the ingestor and hydration share the writer, so their announcements leave in
   * commit order too); a transaction waiting for the previous one costs a resolved promise.
   *
   * `afterCommit` runs once the transaction has committed and before the next ingest transaction of
   * any instance may begin (on PostgreSQL the ingest lock is held until it returns), so whatever it
   * does — announcing the committed events — happens in commit order across instances. It must not
   * throw; if it does, its error propagates after the lock is released (the data stays committed).
   */
  transaction<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T>;
  /** A read outside any transaction (small lookups on the request path). */
  read<T>(sql: string, params?: readonly Param[]): Promise<T[]>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  /** The connection pool's counts (PostgreSQL); undefined on SQLite (one connection). For the metrics. */
  poolStats?(): PoolStats | undefined;
  /**
   * SQLite: the writer's connection while no transaction of it is open (undefined during one, and
   * once closed). Its page cache holds the pages the last commit wrote, where every other connection
   * discards its whole cache once another connection has committed; SqlReader runs its lookups by
   * key there (SqlReader.readLookupsOn). Only synchronous reads may use it: a transaction may begin
   * on the next turn.
   */
  idleConnection?(): Database.Database | undefined;
  close(): Promise<void>;
}

export interface SqlWriterOptions {
  /**
   * Hold PostgreSQL's ingest lock until `afterCommit` has finished, so that announcements of
   * committed events leave every instance in commit order. Needed only when instances share one
   * announcement feed (Redis); otherwise each instance announces its own, already serialised,
   * transactions and the lock ends with COMMIT, saving a round trip per batch. @default true
   */
  readonly orderedAnnouncements?: boolean;
  /**
   * Take the ingest lock on PostgreSQL (see {@link SqlWriter.transaction}). Off for a writer that
   * never appends to the event log (hydration's job bookkeeping), so it does not queue behind
   * webhooks. @default true
   */
  readonly ingestLock?: boolean;
  /** Bounds on waiting for the database (see {@link DatabaseTimeouts}). @default DEFAULT_DATABASE_TIMEOUTS */
  readonly timeouts?: DatabaseTimeouts;
  /** PostgreSQL `application_name` of the writer's connections. @default "gymgraph-ingest" */
  readonly applicationName?: string;
  /**
   * Told of every PostgreSQL connection lost outside a query (while idle, or between the statements
   * of a transaction), e.g. a backend terminated by an administrator or a failover. The connection
   * is dropped and replaced; the transaction using it fails. Never lets such an error reach the
   * process. @default ignored
   */
  readonly onConnectionError?: (error: Error) => void;
}

export function openSqlWriter(database: DatabaseConfig, options: SqlWriterOptions = {}): SqlWriter {
  const timeouts = options.timeouts ?? DEFAULT_DATABASE_TIMEOUTS;
  return database.kind === 'sqlite'
    ? new SqliteWriter(database.file, timeouts.lockMs)
    : new PostgresWriter(database.url, {
        orderedAnnouncements: options.orderedAnnouncements ?? true,
        ingestLock: options.ingestLock ?? true,
        timeouts,
        applicationName: options.applicationName ?? 'gymgraph-ingest',
        onConnectionError: options.onConnectionError ?? (() => undefined),
      });
}

/** Runs tasks one after another, each started once the previous one has settled. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * The SQLite writer's own `busy_timeout`, in ms. better-sqlite3 waits for a lock synchronously,
 * stopping the whole process meanwhile; so the writer waits only this long inside SQLite and
 * retries `BEGIN IMMEDIATE` from timers (the event loop runs in between) for up to the lock timeout.
 */
const SQLITE_WRITER_BUSY_MS = 20;
/** Pause between two attempts at the SQLite write lock, in ms. */
const SQLITE_LOCK_RETRY_MS = 25;
const SQLITE_BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

class SqliteWriter implements SqlWriter, SqlTx {
  readonly dialect = 'sqlite';
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /** @param lockMs how long a transaction waits for the write lock held by another connection, then fails (`DatabaseUnavailableError`). */
  constructor(
    file: string,
    private readonly lockMs: number,
  ) {
    this.db = new Database(file);
    for (const pragma of SQLITE_PRAGMAS) this.db.pragma(pragma);
    this.db.pragma(`busy_timeout = ${SQLITE_WRITER_BUSY_MS}`);
    // SqlReader's lookups by key run here between transactions (idleConnection): rows the last
    // commit did not touch are read through the map, as on TypeORM's connection.
    this.db.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  }

  /**
   * `BEGIN IMMEDIATE`, retried while another connection (a command-line tool, another process)
   * holds the write lock, for at most `lockMs`, without blocking the event loop for more than
   * {@link SQLITE_WRITER_BUSY_MS} at a time.
   */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.lockMs;
    for (;;) {
      try {
        this.statement('BEGIN IMMEDIATE').run();
        return;
      } catch (error) {
        if (!SQLITE_BUSY_CODES.has(String((error as { code?: unknown }).code))) throw error;
        if (Date.now() >= deadline) {
          throw new DatabaseUnavailableError(`another connection has held the SQLite write lock for ${this.lockMs} ms`, { cause: error });
        }
        await new Promise<void>((resolve) => setTimeout(resolve, SQLITE_LOCK_RETRY_MS));
      }
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private readonly serial = new Serial();

  transaction<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    return this.serial.run(() => this.transactionNow(work, afterCommit));
  }

  private async transactionNow<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    // IMMEDIATE takes the write lock up front, so a concurrent writer (the CLI) makes us wait
    // before the batch instead of failing half-way through it.
    await this.begin();
    let result: T;
    try {
      result = await work(this);
      this.statement('COMMIT').run();
    } catch (error) {
      if (this.db.inTransaction) this.statement('ROLLBACK').run();
      throw error;
    }
    // One process writes the log, and this writer's transactions run one at a time: nothing to lock.
    if (afterCommit) await afterCommit(result);
    return result;
  }

  async all<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.statement(sql).all(...params.map(sqliteValue)) as T[];
  }

  async run(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.statement(sql).run(...params.map(sqliteValue)).changes;
  }

  insertLater(head: string, rows: readonly (readonly Param[])[], tail: string): void {
    const statement = rows.length === 0 ? undefined : this.statement(`${head} VALUES (${placeholders(rows[0]!.length)}) ${tail}`);
    for (const row of rows) statement!.run(...row.map(sqliteValue));
  }

  runLater(sql: string, params: readonly Param[] = []): void {
    this.statement(sql).run(...params.map(sqliteValue));
  }

  allLater<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return handled(this.all<T>(sql, params));
  }

  insertManyLater<T>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<T[]> {
    return handled(this.insertMany<T>(head, rows, tail));
  }

  async flush(): Promise<void> {}

  async insertMany<T>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<T[]> {
    if (rows.length === 0) return [];
    const statement = this.statement(`${head} VALUES (${placeholders(rows[0]!.length)}) ${tail}`);
    const out: T[] = [];
    for (const row of rows) {
      const values = row.map(sqliteValue);
      if (statement.reader) {
        const returned = statement.get(...values) as T | undefined;
        if (returned !== undefined) out.push(returned);
      } else {
        statement.run(...values);
      }
    }
    return out;
  }

  read<T>(sql: string, params: readonly Param[] = []): Promise<T[]> {
    return this.all<T>(sql, params);
  }

  poolStats(): PoolStats | undefined {
    return undefined;
  }

  idleConnection(): Database.Database | undefined {
    return this.db.open && !this.db.inTransaction ? this.db : undefined;
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.db.close();
  }
}

const sqliteValue = (value: Param): string | number | null => (typeof value === 'boolean' ? (value ? 1 : 0) : value);
const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

/** Any constant works; it only has to be the same for every instance sharing the database. */
const INGEST_LOCK_KEY = 0x6779_6d67; // "gymg"
/** PostgreSQL accepts at most 65535 bind parameters per statement. */
const MAX_PG_PARAMS = 65_535;
const INT8_OID = 20;

/** Client-side bound on a statement beyond `statement_timeout`, for a server or network that stopped answering. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/** A transaction left open by a client that vanished ends on the server after this long (releasing its locks). */
const IDLE_IN_TRANSACTION_MS = 10_000;

/**
 * Sends one query on `client`: settles with its result, or rejects with DatabaseUnavailableError
 * once `timeoutMs` has passed without an answer (the transaction then discards the connection).
 *
 * The writer's every statement goes through here rather than through pg's promise API or its
 * `query_timeout`, because both store their callback as `query.callback = (err, res) => ...`. V8's
 * parser allocates a function literal assigned straight to a property in the old generation
 * (expecting a long-lived method), and until the next full collection such a closure, dead or not,
 * keeps its scope alive through every young-generation collection: the query, its SQL text, its
 * rows. That was most of what survived those collections on a busy server, each one copying
 * megabytes of it (bench/README.md, "What survived the young collections"). Here the callback is
 * a local, allocated young and collected young.
 *
 * After a timeout the query may still sit in pg's queue or wait for its answer: every caller
 * discards the connection on a DatabaseUnavailableError (see {@link discard}), and must. A late
 * answer settles nothing. Unlike pg's promise API, an error's stack ends in pg's socket handling,
 * not in our code; the statement is in the log line that reports it.
 */
function answerWithin(client: pg.ClientBase, text: string, values: readonly Param[], timeoutMs: number): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const late = setTimeout(
      () => reject(new DatabaseUnavailableError(`PostgreSQL did not answer within ${timeoutMs} ms (query read timeout)`)),
      timeoutMs,
    );
    const answered = (error: Error | null | undefined, result: pg.QueryResult) => {
      clearTimeout(late);
      if (error) reject(error);
      else resolve(result);
    };
    try {
      client.query(text, values as Param[], answered);
    } catch (error) {
      clearTimeout(late);
      reject(error);
    }
  });
}

interface PostgresWriterOptions {
  readonly orderedAnnouncements: boolean;
  readonly ingestLock: boolean;
  readonly timeouts: DatabaseTimeouts;
  readonly applicationName: string;
  readonly onConnectionError: (error: Error) => void;
}

/**
 * PostgreSQL side of {@link SqlWriter}. Everything is bounded: a connection (or a free one of the
 * pool) within `connectMs`, each statement by `statement_timeout` on the server and, should the
 * server or the network freeze, by the same plus {@link CLIENT_TIMEOUT_MARGIN_MS} on the client
 * (then the connection is destroyed), each lock wait by `lock_timeout`. A connection that fails is
 * never reused: it is destroyed and the pool opens a new one for the next transaction.
 */
class PostgresWriter implements SqlWriter {
  readonly dialect = 'postgres';
  private readonly pool: pg.Pool;
  private readonly renumbered = new Map<string, string>();
  private readonly orderedAnnouncements: boolean;
  private readonly ingestLock: boolean;

  private readonly serial = new Serial();
  /** Each statement's bound on the client side (see {@link answerWithin}), in ms. */
  private readonly answerMs: number;

  constructor(url: string, options: PostgresWriterOptions) {
    this.orderedAnnouncements = options.orderedAnnouncements;
    this.ingestLock = options.ingestLock;
    const { connectMs, statementMs, lockMs } = options.timeouts;
    this.answerMs = statementMs + CLIENT_TIMEOUT_MARGIN_MS;
    this.pool = new pg.Pool({
      connectionString: url,
      max: 3,
      application_name: options.applicationName,
      connectionTimeoutMillis: connectMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: PG_KEEPALIVE_DELAY_MS,
      statement_timeout: statementMs,
      lock_timeout: lockMs,
      // No query_timeout: answerWithin bounds each statement (pg's would keep every query in memory
      // until the next full collection).
      idle_in_transaction_session_timeout: Math.max(IDLE_IN_TRANSACTION_MS, this.answerMs),
      // Our BIGINTs are epoch ms and upstream ids, all within the safe integer range
      // (validated at the webhook boundary), so they are read as numbers.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // pg's Pool listens for errors only on idle clients; a checked-out client that loses its
    // connection between two statements (a terminated backend, a failover) emits 'error' with no
    // listener, which would end the process. So every client gets a listener for its whole life;
    // the transaction using it then fails on its next statement and discards it. The pool's own
    // 'error' (an idle client lost: it removes it) is the same error, reported once here.
    this.pool.on('connect', (client) => client.on('error', options.onConnectionError));
    this.pool.on('error', () => undefined);
  }

  private sql(text: string): string {
    let out = this.renumbered.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      this.renumbered.set(text, out);
    }
    return out;
  }

  transaction<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    // Without the ingest lock nothing is announced in order: such a writer's transactions may overlap.
    return this.ingestLock ? this.serial.run(() => this.transactionNow(work, afterCommit)) : this.transactionNow(work, afterCommit);
  }

  private async transactionNow<T>(work: (tx: SqlTx) => Promise<T>, afterCommit?: (result: T) => Promise<void>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PostgresTx(client, (text) => this.sql(text), this.answerMs);
    // One ingest transaction at a time across every instance: sequence numbers are then handed out
    // in commit order, so a reader resuming "after seq N" can never skip an event that commits
    // later with a smaller number. With ordered announcements it is a session lock, held past COMMIT
    // until `afterCommit` has announced the events, so that announcements go out in commit order too
    // (see realtime/redis-feed.ts); otherwise COMMIT ends it. Queued: it travels with the first
    // statement.
    const locked = this.ingestLock && this.orderedAnnouncements;
    tx.runLater('BEGIN');
    if (this.ingestLock) tx.runLater(`SELECT ${locked ? 'pg_advisory_lock' : 'pg_advisory_xact_lock'}(${INGEST_LOCK_KEY})`);
    let result: T;
    try {
      result = await work(tx);
      await tx.commit();
    } catch (error) {
      // A session lock survives ROLLBACK: closing the connection is what releases it for sure.
      discard(client, error);
      throw error;
    }
    let afterCommitError: { error: unknown } | undefined;
    try {
      if (afterCommit) await afterCommit(result);
    } catch (error) {
      afterCommitError = { error };
    }
    try {
      if (locked) await answerWithin(client, `SELECT pg_advisory_unlock(${INGEST_LOCK_KEY})`, [], this.answerMs);
      client.release();
    } catch (error) {
      // The data is committed; dropping the connection releases the lock on the server.
      discard(client, error);
    }
    if (afterCommitError) throw afterCommitError.error;
    return result;
  }

  async read<T>(text: string, params: readonly Param[] = []): Promise<T[]> {
    return (await this.pooled(this.sql(text), params)).rows as T[];
  }

  /** One statement on a connection of the pool, like pg's `pool.query` (a connection that fails is discarded). */
  private async pooled(text: string, params: readonly Param[]): Promise<pg.QueryResult> {
    const client = await this.pool.connect();
    let result: pg.QueryResult;
    try {
      result = await answerWithin(client, text, params, this.answerMs);
    } catch (error) {
      discard(client, error);
      throw error;
    }
    client.release();
    return result;
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async ping(): Promise<void> {
    await this.pooled('SELECT 1', []);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Gives a client back to the pool as broken: the pool closes it and opens another when needed.
 * When the connection itself failed (lost, timed out, frozen), its socket is destroyed at once
 * rather than closed politely, which on a frozen network would wait for an answer that never comes.
 */
function discard(client: pg.PoolClient, error: unknown): void {
  client.release(true);
  // An error the server sent (it has a severity) came over a working connection: closing it politely is fine.
  const fromServer = typeof (error as { severity?: unknown } | null)?.severity === 'string';
  if (!fromServer && isDatabaseUnavailable(error))
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** A statement queued in a {@link PostgresTx}, one statement each; with `settle` when its rows are awaited. */
interface Queued {
  readonly sql: string;
  readonly settle?: { resolve(rows: unknown[]): void; reject(error: unknown): void };
}

class PostgresTx implements SqlTx {
  readonly dialect = 'postgres';
  /** Queued statements, as literal SQL (see {@link SqlTx.insertLater}). */
  private pending: Queued[] = [];

  constructor(
    private readonly client: pg.PoolClient,
    private readonly numbered: (text: string) => string,
    /** Each statement's bound on the client side, in ms (see {@link answerWithin}). */
    private readonly answerMs: number,
  ) {}

  /**
   * Sends the queue as one message (one round trip) and settles the reads in it; returns the last
   * statement's result. PostgreSQL runs the statements of one message in order, each seeing the
   * effects of those before it, and stops at the first that fails.
   */
  private async send(): Promise<pg.QueryResult | undefined> {
    if (this.pending.length === 0) return undefined;
    const batch = this.pending;
    this.pending = [];
    let results: pg.QueryResult[];
    try {
      const answer = (await answerWithin(this.client, batch.map((queued) => queued.sql).join(';\n'), [], this.answerMs)) as unknown as
        pg.QueryResult | pg.QueryResult[];
      results = Array.isArray(answer) ? answer : [answer];
      if (results.length !== batch.length) throw new Error(`expected ${batch.length} results from one message, got ${results.length}`);
    } catch (error) {
      for (const queued of batch) queued.settle?.reject(error);
      throw error;
    }
    batch.forEach((queued, index) => queued.settle?.resolve(results[index]!.rows));
    return results[results.length - 1];
  }

  async commit(): Promise<void> {
    this.pending.push({ sql: 'COMMIT' });
    await this.send();
  }

  /**
   * A statement whose result is needed. With writes queued, it goes in the same message as them
   * (its values as literals) and its result is the message's last; otherwise it is parameterised.
   */
  private async query(text: string, params: readonly Param[]): Promise<pg.QueryResult> {
    if (this.pending.length === 0) return answerWithin(this.client, this.numbered(text), params, this.answerMs);
    this.runLater(text, params);
    return (await this.send())!;
  }

  async all<R>(text: string, params: readonly Param[] = []): Promise<R[]> {
    return (await this.query(text, params)).rows as R[];
  }

  async run(text: string, params: readonly Param[] = []): Promise<number> {
    return (await this.query(text, params)).rowCount ?? 0;
  }

  allLater<R>(text: string, params: readonly Param[] = []): Promise<R[]> {
    return handled(
      new Promise<R[]>((resolve, reject) => {
        this.pending.push({ sql: withLiterals(text, params), settle: { resolve: resolve as (rows: unknown[]) => void, reject } });
      }),
    );
  }

  insertManyLater<R>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<R[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return handled(
      new Promise<R[]>((resolve, reject) => {
        this.pending.push({
          sql: `${head} VALUES ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ')} ${tail}`,
          settle: { resolve: resolve as (rows: unknown[]) => void, reject },
        });
      }),
    );
  }

  async flush(): Promise<void> {
    await this.send();
  }

  /** With statements queued, the rows travel with them as literals, in the same message; else parameterised, in chunks. */
  async insertMany<R>(head: string, rows: readonly (readonly Param[])[], tail: string): Promise<R[]> {
    if (rows.length === 0) {
      await this.send();
      return [];
    }
    if (this.pending.length > 0) {
      this.insertLater(head, rows, tail);
      return (await this.send())!.rows as R[];
    }
    const out: R[] = [];
    const width = rows[0]!.length;
    const chunk = Math.floor(MAX_PG_PARAMS / width);
    for (let start = 0; start < rows.length; start += chunk) {
      const slice = rows.slice(start, start + chunk);
      let n = 0;
      const values = slice.map(() => `(${Array.from({ length: width }, () => `$${++n}`).join(', ')})`).join(', ');
      const result = await answerWithin(this.client, `${head} VALUES ${values} ${tail}`, slice.flat(), this.answerMs);
      out.push(...(result.rows as R[]));
    }
    return out;
  }

  insertLater(head: string, rows: readonly (readonly Param[])[], tail: string): void {
    if (rows.length === 0) return;
    this.pending.push({ sql: `${head} VALUES ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ')} ${tail}` });
  }

  runLater(sql: string, params: readonly Param[] = []): void {
    this.pending.push({ sql: withLiterals(sql, params) });
  }
}

/** `sql` with each `?` replaced by the next parameter as a literal. */
function withLiterals(sql: string, params: readonly Param[]): string {
  let index = 0;
  return sql.replace(/\?/g, () => literal(params[index++] ?? null));
}

/** Marks a promise as handled (it may be left unawaited when an earlier statement failed) and returns it. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * A value as a PostgreSQL literal. Strings are escape strings (`E'...'`), whose meaning does not
 * depend on the server's standard_conforming_strings setting: backslashes and quotes are escaped.
 */
function literal(value: Param): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to PostgreSQL`);
    return String(value);
  }
  // PostgreSQL text cannot hold NUL; the parameterised path would reject it too.
  if (value.includes('\u0000')) throw new Error('a string value contains a NUL character');
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

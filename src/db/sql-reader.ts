import type { Database, Statement } from 'better-sqlite3';
import pg from 'pg';
import type { DataSource, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { Logger } from '../log.js';
import { epochMs, int64 } from './columns.js';
import { SQLITE_MMAP_BYTES } from './connection-settings.js';
import { ReadTimeoutError, isStatementTimeout } from './read-timeout.js';
import { ScanGate } from './scan-gate.js';
import { SqliteReadPool } from './sqlite-read-pool.js';
import type { PoolStats } from '../metrics/metrics.js';

/** A value bound to a statement parameter. */
export type SqlValue = string | number | null;

/** Prepared statements kept per SQLite connection; statements with long VALUES lists vary, so the cache is bounded. */
const STATEMENT_CACHE_SIZE = 500;

/** How the reads of a running service are served (see {@link SqlReader.open}). */
export interface ReadOptions {
  /**
   * Statement timeout of reads, in ms (0: none). On PostgreSQL it is the read pool's
   * `statement_timeout` (set in ormconfig.ts; only reported here); on SQLite the worker pool enforces it.
   */
  readonly timeoutMs: number;
  /** SQLite: worker threads for reads; 0 runs them on the main thread, as before (no timeout then). */
  readonly sqliteWorkers: number;
  /** Scans ({@link SqlReader.scan}) run at once, on either database (src/db/scan-gate.ts). At least 1. */
  readonly maxConcurrentScans: number;
  readonly logger: Logger;
}

/** Distinct statement texts that become named prepared statements on PostgreSQL, per DataSource. */
const PREPARED_STATEMENTS = 200;

const INT8_OID = 20;
/** BIGINT (and COUNT) as JS numbers: our ids and epoch-ms times are safe integers (see columns.ts). */
const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text'),
};

/**
 * Reads on the GraphQL request path, straight through the driver of the TypeORM DataSource: the
 * better-sqlite3 connection (prepared statements cached here) or the `pg` pool. TypeORM's query
 * runner and its entity hydration cost more CPU per request than the statements themselves
 * (bench/README.md, "Query benchmark"); TypeORM still owns the schema, the migrations and the
 * rarely used reads. Every statement is still reported to the DataSource's logger, so query
 * logging (and the statement-count test) sees it.
 *
 * Placeholders are built with {@link SqlReader.params}: `?` on SQLite, `$n` on PostgreSQL.
 *
 * In the service ({@link SqlReader.open}), SQLite reads run on worker threads with their own
 * read-only connections (src/db/sqlite-read-pool.ts), so an expensive query never holds the event
 * loop that acknowledges webhooks; elsewhere (tools, tests on a bare DataSource) they run on
 * TypeORM's connection. A read over the timeout fails with {@link ReadTimeoutError} on both databases.
 */
export class SqlReader {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly shapes: Map<unknown, RowShape<ObjectLiteral>>;
  /** Names of PostgreSQL prepared statements by text. */
  private readonly names = new Map<string, string>();
  /** {@link findFirst}'s statements, per entity and the properties of its conditions. */
  private readonly lookups: Map<unknown, Map<string, LookupPlan<ObjectLiteral>>>;
  /** The same for the readers of {@link within} (their statements are written with `?`). */
  private readonly queuedLookups = new Map<unknown, Map<string, LookupPlan<ObjectLiteral>>>();

  /** The read pool's counts: TypeORM's `pg` pool on PostgreSQL; undefined on SQLite. For the metrics. */
  poolStats(): PoolStats | undefined {
    if (this.dialect !== 'postgres') return undefined;
    const pool = (this.dataSource.driver as unknown as { master?: pg.Pool }).master;
    return pool ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : undefined;
  }

  /** The SQLite read workers' counts, when reads run in workers. For the metrics. */
  workerStats(): { readonly workers: number; readonly busy: number; readonly queued: number } | undefined {
    return this.pool ? { workers: this.pool.size, busy: this.pool.busy, queued: this.pool.queued } : undefined;
  }

  private constructor(
    private readonly dataSource: DataSource,
    /** SQLite reads off the main thread, when the service opened the reader with workers. */
    private readonly pool: SqliteReadPool | undefined,
    /** The read statement timeout in ms, for the error message (0: unknown or none). */
    private readonly timeoutMs: number,
    /** Scans at once, in the service; elsewhere (tools, tests on a bare DataSource) scans are not queued. */
    private readonly scans: ScanGate | undefined = undefined,
    /** {@link within}: the transaction its statements are queued in, while it takes them, and what it was asked. */
    private readonly queued: QueuedLookups | undefined = undefined,
    /** {@link within}: the reader whose row shapes and statements it shares. */
    parent: SqlReader | undefined = undefined,
  ) {
    this.dialect = dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
    this.shapes = parent?.shapes ?? new Map();
    this.lookups = parent?.queuedLookups ?? new Map();
  }

  /**
   * A view of `dataSource` whose reader ({@link of} it) queues its statements in `tx`, a PostgreSQL
   * write transaction (SqlTx.allLater): they run after the transaction's own statements and are
   * answered by the message that carries its COMMIT, so they cost no round trip of their own and
   * see what the transaction wrote. Used to load the records of events that have subscribers
   * while their batch commits (src/realtime/record-preload.ts); anything that reads through the
   * view's DataSource other than with its SqlReader would read outside the transaction, so only
   * hand it to code that reads through SqlReader.
   *
   * Only lookups by {@link findFirst} / {@link findOne} of integer columns by integers are queued:
   * a statement failing inside the transaction's message would abort the batch, and those cannot
   * fail; every other read of the view fails at once (its records are then read after the commit,
   * as usual). `close()` once the statements are queued, before the transaction goes on: a read
   * asked for later (after an earlier read's answer) fails instead of landing in a message already
   * sent or in another transaction.
   */
  static within(dataSource: DataSource, tx: QueuedReads): { readonly dataSource: DataSource; close(): void } {
    if (dataSource.options.type !== 'postgres') throw new Error('SqlReader.within: PostgreSQL only');
    const parent = SqlReader.of(dataSource);
    const queued = { tx, open: true, asked: new Map<string, Promise<Record<string, unknown>[]>>() };
    // Only a key for {@link of}: anything else read through it would read outside the transaction
    // (the rows as they were before it, with no error), so every other use of it throws.
    const view = new Proxy(Object.create(null) as DataSource, {
      get: (_target, property) => {
        throw new Error(`SqlReader.within: the view reads through SqlReader only (it was asked for ${String(property)})`);
      },
    });
    SqlReader.readers.set(view, new SqlReader(dataSource, undefined, parent.timeoutMs, undefined, queued, parent));
    return {
      dataSource: view,
      close: () => {
        queued.open = false;
      },
    };
  }

  private static readonly readers = new WeakMap<DataSource, SqlReader>();

  /**
   * The reader of a DataSource: the one {@link open} made, else one created on first use that
   * reads on TypeORM's connection.
   */
  static of(dataSource: DataSource): SqlReader {
    let reader = SqlReader.readers.get(dataSource);
    if (!reader) {
      const extra = (dataSource.options as { extra?: { statement_timeout?: unknown } }).extra;
      reader = new SqlReader(dataSource, undefined, typeof extra?.statement_timeout === 'number' ? extra.statement_timeout : 0);
      SqlReader.readers.set(dataSource, reader);
    }
    return reader;
  }

  /**
   * The service's reader of a DataSource, used by every later {@link of}: on a SQLite file with
   * `sqliteWorkers` > 0, its reads run on that many worker threads (started here). Close it with
   * {@link close} before destroying the DataSource.
   */
  static async open(dataSource: DataSource, options: ReadOptions): Promise<SqlReader> {
    const file = dataSource.options.type === 'better-sqlite3' ? dataSource.options.database : undefined;
    // An in-memory database cannot be shared with other connections.
    const pooled = file !== undefined && file !== '' && file !== ':memory:' && options.sqliteWorkers > 0;
    const pool = pooled
      ? await SqliteReadPool.open({
          file,
          size: options.sqliteWorkers,
          timeoutMs: options.timeoutMs,
          statementCacheSize: STATEMENT_CACHE_SIZE,
          logger: options.logger,
          // query_only: these connections never write, whatever SQL reaches them. busy_timeout: as
          // every connection of ours (only WAL recovery makes a reader wait).
          pragmas: [`mmap_size = ${SQLITE_MMAP_BYTES}`, 'query_only = ON', 'busy_timeout = 5000'],
        })
      : undefined;
    const reader = new SqlReader(dataSource, pool, options.timeoutMs, new ScanGate(options.maxConcurrentScans, options.timeoutMs));
    SqlReader.readers.set(dataSource, reader);
    return reader;
  }

  /** Stops the worker threads, if any (reads after it fail as unavailable). Idempotent. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** A fresh parameter list for one statement. */
  params(): SqlParams {
    // A transaction's queue takes `?` (it writes the values in as literals, sql-writer.ts).
    return new SqlParams(this.queued ? 'sqlite' : this.dialect);
  }

  /** The rows of one SELECT. BIGINT columns come back as numbers on both databases. */
  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    if (this.queued) throw new Error('SqlReader.within: only lookups by key (findFirst, findOne) are queued in a transaction');
    this.dataSource.logger.logQuery(sql, params as unknown[]);
    if (this.dialect === 'sqlite') return this.pool ? this.pool.all<T>(sql, params) : (this.statement(sql).all(...params) as T[]);
    const pool = (this.dataSource.driver as unknown as { master: pg.Pool }).master;
    const name = this.statementName(sql);
    try {
      const result = await pool.query({ ...(name ? { name } : {}), text: sql, values: params as unknown[], types: pgTypes });
      return result.rows as T[];
    } catch (error) {
      if (isStatementTimeout(error)) throw new ReadTimeoutError(this.timeoutMs);
      throw error;
    }
  }

  /**
   * {@link findFirst} of a {@link within} reader: queued in the transaction, only when it cannot
   * fail there. A statement that fails inside the transaction's message would abort the whole batch,
   * so only integer columns compared with safe integers are queued (no type error is possible);
   * anything else is refused here, and its records are read after the commit as usual.
   */
  private queuedLookup<T extends ObjectLiteral>(
    queued: QueuedLookups,
    plan: LookupPlan<T>,
    params: readonly SqlValue[],
  ): Promise<Record<string, unknown>[]> {
    if (!queued.open) return Promise.reject(new Error('SqlReader.within: the transaction has gone on; this read came too late'));
    if (!plan.integerKeys || !params.every((value) => typeof value === 'number' && Number.isSafeInteger(value)))
      return Promise.reject(new Error('SqlReader.within: only lookups of integer columns by integers are queued in a transaction'));
    // The same record asked for twice in one batch (a customer's check-in and its visit's customer): one statement.
    const key = `${plan.sql}\u0000${params.join(',')}`;
    let rows = queued.asked.get(key);
    if (!rows) {
      this.dataSource.logger.logQuery(plan.sql, params as unknown[]);
      rows = queued.tx.allLater<Record<string, unknown>>(plan.sql, params);
      queued.asked.set(key, rows);
    }
    return rows;
  }

  /**
   * {@link all} for a statement that scans (GROUP BY or COUNT over a table: statistics, occupancy,
   * `totalCount`): in the service it waits for one of the few scan slots first (src/db/scan-gate.ts),
   * so that expensive reads queue instead of taking every core from the webhook path.
   */
  async scan<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.scans ? this.scans.run(() => this.all<T>(sql, params)) : this.all<T>(sql, params);
  }

  /**
   * The first entity of a table whose properties equal `where` (AND), or null: TypeORM's
   * `findOne({ where })` for plain equality. See {@link findFirst}.
   */
  async findOne<T extends ObjectLiteral>(target: EntityTarget<T>, where: Where<T>): Promise<T | null> {
    return this.findFirst(target, [where]);
  }

  /**
   * The first entity of a table that matches any of `wheres` (each an AND of equalities), or null.
   *
   * A **lookup by key** — every alternative names all the columns of one of the table's indexes
   * (its primary key included) — runs on this thread even where reads have worker threads (SQLite
   * in the service): it is one descent of that index per alternative, a few microseconds, less
   * than handing it to a worker costs (a message each way and the wake-up of a thread that runs at
   * the lowest priority), and it answers without waiting for that thread. The deliveries of
   * subscriptions are made of such lookups (issue 14: a member's event read its records through a
   * worker, which cost more CPU than the rest of the delivery and added a thread hop to its
   * latency). Anything else runs where every read runs. The statement text is built once per
   * table and set of properties.
   */
  async findFirst<T extends ObjectLiteral>(target: EntityTarget<T>, wheres: readonly Where<T>[]): Promise<T | null> {
    if (wheres.length === 0) return null;
    const plan = this.lookupPlan(target, wheres);
    const params: SqlValue[] = [];
    for (const where of wheres) params.push(...(Object.values(where) as SqlValue[]));
    let row: Record<string, unknown> | undefined;
    const latest = plan.local ? this.lookupConnection?.() : undefined;
    if (this.queued) {
      [row] = await this.queuedLookup(this.queued, plan, params);
    } else if (latest) {
      this.dataSource.logger.logQuery(plan.sql, params as unknown[]);
      row = this.statementOn(latest, plan.sql).get(...params) as Record<string, unknown> | undefined;
    } else if (plan.local && !(this.pool && this.connection().inTransaction)) {
      // Never inside a transaction open on TypeORM's connection (`dataSource.transaction`, a
      // migration: one that waits for I/O half-way would show its uncommitted rows): then the
      // workers, which see only commits.
      this.dataSource.logger.logQuery(plan.sql, params as unknown[]);
      row = this.statement(plan.sql).get(...params) as Record<string, unknown> | undefined;
    } else {
      [row] = await this.all<Record<string, unknown>>(plan.sql, params);
    }
    return row ? plan.shape.map(row) : null;
  }

  /** How {@link findFirst} reads `wheres` of `target`: its statement, and whether it is a lookup by key run here. */
  private lookupPlan<T extends ObjectLiteral>(target: EntityTarget<T>, wheres: readonly Where<T>[]): LookupPlan<T> {
    const key = wheres.map((where) => Object.keys(where).join(',')).join('|');
    let plans = this.lookups.get(target);
    if (!plans) this.lookups.set(target, (plans = new Map()));
    let plan = plans.get(key) as LookupPlan<T> | undefined;
    if (!plan) {
      // Written here rather than by a query builder: TypeORM writes numbers into SQLite's SQL as
      // literals, so its text could not be kept. Placeholders in the order of `wheres` and their properties.
      const shape = this.shape<T>(target);
      const placeholders = this.params();
      const alternatives = wheres.map(
        (where) =>
          Object.entries(where)
            .map(([property, value]) => `"r"."${shape.column(property)}" = ${placeholders.add(value as SqlValue)}`)
            .join(' AND ') || '1 = 1',
      );
      const sql = `SELECT ${shape.select('"r"')} FROM "${shape.table}" "r" WHERE ${alternatives.map((a) => `(${a})`).join(' OR ')} LIMIT 1`;
      const metadata = this.dataSource.getMetadata(target);
      const keys = [
        metadata.primaryColumns.map((column) => column.propertyName),
        ...metadata.indices.map((index) => index.columns.map((column) => column.propertyName)),
        ...metadata.uniques.map((unique) => unique.columns.map((column) => column.propertyName)),
      ].filter((columns) => columns.length > 0);
      const byKey = wheres.every((where) => keys.some((columns) => columns.every((column) => column in where)));
      const integerKeys = wheres.every((where) =>
        Object.keys(where).every((property) => INTEGER_COLUMN_TYPES.has(metadata.findColumnWithPropertyName(property)?.type as never)),
      );
      plan = { sql, shape, local: this.dialect === 'sqlite' && byKey && !this.queued, integerKeys };
      plans.set(key, plan);
    }
    return plan;
  }

  /**
   * The entities of a table that match any of `wheres` (each an AND of equalities), in `order`:
   * TypeORM's `find({ where: [...], order })` for plain equality, read with {@link entities}.
   */
  async find<T extends ObjectLiteral>(
    target: EntityTarget<T>,
    wheres: readonly Where<T>[],
    order?: { readonly [property in keyof T & string]?: 'ASC' | 'DESC' },
  ): Promise<T[]> {
    if (wheres.length === 0) return [];
    const qb = this.matching(target, wheres);
    for (const [property, direction] of Object.entries(order ?? {}))
      qb.addOrderBy(`r.${this.checked(target, property)}`, direction as 'ASC' | 'DESC');
    return this.entities(qb);
  }

  private matching<T extends ObjectLiteral>(target: EntityTarget<T>, wheres: readonly Where<T>[]): SelectQueryBuilder<T> {
    const qb = this.dataSource.getRepository(target).createQueryBuilder('r');
    const parameters: Record<string, unknown> = {};
    const alternatives = wheres.map(
      (where, i) =>
        Object.entries(where)
          .map(([property, value], j) => {
            parameters[`w${i}_${j}`] = value;
            return `r.${this.checked(target, property)} = :w${i}_${j}`;
          })
          .join(' AND ') || '1 = 1',
    );
    return qb.where(alternatives.map((alternative) => `(${alternative})`).join(' OR '), parameters);
  }

  /** A property name of the entity (they come from our code, never from input; checked anyway). */
  private checked(target: EntityTarget<ObjectLiteral>, property: string): string {
    if (!this.shape(target).has(property)) throw new Error(`SqlReader: ${this.shape(target).table} has no property ${property}`);
    return property;
  }

  /**
   * The name of a PostgreSQL prepared statement for `sql`: each pooled connection parses and plans
   * a named statement once, and the server may switch to a generic plan after five runs. `pg` keeps
   * a connection's prepared statements until it closes, so only the first
   * {@link PREPARED_STATEMENTS} distinct texts get a name (the hot statements of a running service
   * are a few dozen texts; IN lists of varying length make more, and those run unnamed).
   */
  private statementName(sql: string): string | undefined {
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < PREPARED_STATEMENTS) {
      name = `gg_read_${this.names.size}`;
      this.names.set(sql, name);
    }
    return name;
  }

  /** TypeORM's better-sqlite3 connection (SQLite only). */
  private connection(): Database {
    return (this.dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
  }

  /**
   * Runs {@link findFirst}'s lookups by key (every one: deliveries', GraphQL's, hydration's) on the
   * connection `connection` returns while it returns one: the ingest writer's between its
   * transactions (SqlWriter.idleConnection; it maps the file as TypeORM's does). SQLite discards a
   * connection's whole page cache when another connection has committed, so on TypeORM's connection
   * every delivery's lookup, which comes right after a commit, re-read each page of its index and
   * table from the file; the writer's connection still holds the pages it just wrote. Measured in
   * the running server (bench/fanout.ts --members): a booking's lookup 350 -> 110 µs, a check-in's
   * visit and customer 435 -> 225 µs. What it reads is the same: every commit, and nothing else.
   */
  readLookupsOn(connection: () => Database | undefined): void {
    this.lookupConnection = connection;
  }

  private lookupConnection: (() => Database | undefined) | undefined;
  /** Prepared statements per SQLite connection (TypeORM's, and the writer's for lookups). */
  private readonly statements = new WeakMap<Database, Map<string, Statement>>();

  private statementOn(connection: Database, sql: string): Statement {
    let statements = this.statements.get(connection);
    if (!statements) this.statements.set(connection, (statements = new Map()));
    let statement = statements.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      statements.set(sql, statement);
    }
    return statement;
  }

  private statement(sql: string): Statement {
    return this.statementOn(this.connection(), sql);
  }

  /**
   * The entities a TypeORM query builder selects (its main alias, no joins), read with
   * {@link all} and {@link RowShape} instead of TypeORM's hydration. The builder only writes the SQL.
   * `extras` are more SQL expressions to select, as `"x0"`, `"x1"`...; `onRow` sees each entity
   * with its raw row, to read them. `properties`: only these columns (see {@link RowShape.pick}).
   */
  async entities<T extends ObjectLiteral>(
    qb: SelectQueryBuilder<T>,
    extras: readonly string[] = [],
    onRow?: (entity: T, row: Record<string, unknown>) => void,
    properties: Iterable<string> | null = null,
  ): Promise<T[]> {
    const metadata = qb.expressionMap.mainAlias?.metadata;
    if (!metadata) throw new Error('SqlReader.entities: the query builder has no entity');
    const shape = this.shape<T>(metadata.target as EntityTarget<T>).pick(properties);
    const select = [shape.select(`"${qb.alias}"`), ...extras.map((sql, i) => `${sql} AS "x${i}"`)].join(', ');
    const rows = await this.all<Record<string, unknown>>(...this.statementOf(qb.select(select)));
    return rows.map((row) => {
      const entity = shape.map(row);
      onRow?.(entity, row);
      return entity;
    });
  }

  /**
   * The number of entities a query builder selects, as TypeORM's `getCount()` counts them (distinct
   * primary keys, without order and limit), read with {@link all}.
   */
  async count<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): Promise<number> {
    const primary = qb.expressionMap.mainAlias?.metadata.primaryColumns ?? [];
    // Only single-column keys here (every entity of ours); anything else as TypeORM would.
    if (primary.length !== 1) return qb.getCount();
    const counter = qb
      .clone()
      .orderBy()
      .limit(undefined)
      .offset(undefined)
      .select(`COUNT(DISTINCT("${qb.alias}"."${primary[0]!.databaseName}"))`, 'cnt');
    const [row] = await this.scan<{ cnt: number | string }>(...this.statementOf(counter));
    return Number(row?.cnt ?? 0);
  }

  /** A query builder's SQL and parameters, ready to bind. */
  private statementOf(qb: SelectQueryBuilder<ObjectLiteral>): [string, SqlValue[]] {
    const [sql, params] = qb.getQueryAndParameters();
    // better-sqlite3 binds no booleans (TypeORM's runner converts them the same way).
    const values =
      this.dialect === 'sqlite' ? params.map((value: unknown) => (typeof value === 'boolean' ? Number(value) : value)) : params;
    return [sql, values as SqlValue[]];
  }

  /** The first entity a query builder selects, or null (see {@link entities}). */
  async entity<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): Promise<T | null> {
    return (await this.entities(qb))[0] ?? null;
  }

  /** How rows of an entity's table are selected and turned into plain objects (built once per entity). */
  shape<T extends ObjectLiteral>(entity: EntityTarget<T>): RowShape<T> {
    let shape = this.shapes.get(entity);
    if (!shape) {
      shape = RowShape.of(this.dataSource, entity as EntityTarget<ObjectLiteral>);
      this.shapes.set(entity, shape);
    }
    return shape as RowShape<T>;
  }
}

/** What {@link SqlReader.within} needs of a write transaction (SqlTx). */
export interface QueuedReads {
  allLater<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
}

/** A {@link SqlReader.within} reader's transaction: open while it takes statements; the lookups asked, by statement and values. */
interface QueuedLookups {
  readonly tx: QueuedReads;
  open: boolean;
  readonly asked: Map<string, Promise<Record<string, unknown>[]>>;
}

/** A statement of {@link SqlReader.findFirst}: `local` when it is a lookup by key, run on the calling thread. */
interface LookupPlan<T extends ObjectLiteral> {
  readonly sql: string;
  readonly shape: RowShape<T>;
  readonly local: boolean;
  /** Every condition is on an integer column (a {@link SqlReader.within} reader queues only those). */
  readonly integerKeys: boolean;
}

/** Column types TypeORM reports for our integer columns (`Number`: a `number` property without an explicit type). */
const INTEGER_COLUMN_TYPES = new Set<unknown>(['integer', 'int', 'int4', 'int8', 'bigint', 'smallint', Number]);

/** Equality conditions on an entity's properties, for {@link SqlReader.findOne} and {@link SqlReader.find}. */
export type Where<T> = { readonly [property in keyof T & string]?: SqlValue };

/** Collects the parameters of one statement and writes their placeholders. */
export class SqlParams {
  readonly values: SqlValue[] = [];

  constructor(private readonly dialect: 'sqlite' | 'postgres') {}

  /** The placeholder of `value`, which is added to {@link values}. */
  add(value: SqlValue): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }

  /**
   * The placeholder of an integer compared with a BIGINT or INTEGER column, e.g. in a `VALUES`
   * list, where PostgreSQL cannot infer the parameter's type.
   */
  int(value: number): string {
    return this.dialect === 'postgres' ? `CAST(${this.add(value)} AS BIGINT)` : this.add(value);
  }

  /** `(p1, p2, ...)` for an IN list (the caller handles the empty list). */
  list(values: readonly SqlValue[]): string {
    return `(${values.map((value) => this.add(value)).join(', ')})`;
  }
}

/**
 * Every column of an entity, selected under its property name and converted the way TypeORM's
 * hydration would (epoch ms to `Date`, BIGINT ids to numbers, anything else through the driver),
 * into instances of the entity class that satisfy its GraphQL type. Built from the entity's metadata, so
 * a column added to an entity is read without touching the queries.
 */
export class RowShape<T extends ObjectLiteral> {
  private readonly selects = new Map<string, string>();
  private readonly subsets = new Map<string, RowShape<T>>();
  private readonly byProperty: ReadonlyMap<string, ShapeColumn>;
  /** The property names, in column order. */
  readonly properties: readonly string[];
  /** Names the column set: `*` for every column, else the properties joined by commas. */
  readonly key: string;

  private constructor(
    private readonly columns: readonly ShapeColumn[],
    /** The entity class's prototype: type-graphql hands a field resolver's root to it as is only when it is an instance. */
    private readonly prototype: object,
    readonly table: string,
    /** Every column of the entity (this shape's, when it has them all). */
    private readonly whole: RowShape<T> | undefined,
  ) {
    this.byProperty = new Map(columns.map((column) => [column.property, column]));
    this.properties = columns.map((column) => column.property);
    this.key = whole ? this.properties.join(',') : '*';
  }

  /** Every column of `entity`. */
  static of<T extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<T>): RowShape<T> {
    const metadata = dataSource.getMetadata(entity);
    if (metadata.embeddeds.length > 0) throw new Error(`RowShape: ${metadata.name} has embedded columns, which plain rows cannot express`);
    const prototype = typeof metadata.target === 'function' ? (metadata.target.prototype as object) : Object.prototype;
    const columns = metadata.columns.map((column) => ({
      property: column.propertyName,
      database: column.databaseName,
      convert: converter(dataSource, column),
    }));
    return new RowShape<T>(columns, prototype, metadata.tableName, undefined);
  }

  /** Whether `property` is a column of the entity. */
  has(property: string): boolean {
    return (this.whole ?? this).byProperty.has(property);
  }

  /** The database column of a property. @throws when the entity has no such column. */
  column(property: string): string {
    const column = (this.whole ?? this).byProperty.get(property);
    if (!column) throw new Error(`RowShape: ${this.table} has no column for ${property}`);
    return column.database;
  }

  /**
   * The same rows with only `properties` selected and mapped (in column order, unknown names
   * ignored; cached per set). null: every column. Entities mapped from it lack the other
   * properties: only for statements whose readers read nothing else (field-columns.ts).
   */
  pick(properties: Iterable<string> | null): RowShape<T> {
    const whole = this.whole ?? this;
    if (properties === null) return whole;
    const wanted = new Set(properties);
    const columns = whole.columns.filter((column) => wanted.has(column.property));
    if (columns.length === whole.columns.length) return whole;
    const key = columns.map((column) => column.property).join(',');
    let subset = whole.subsets.get(key);
    if (!subset) {
      subset = new RowShape<T>(columns, whole.prototype, whole.table, whole);
      whole.subsets.set(key, subset);
    }
    return subset;
  }

  /** The SELECT list for the table under `alias`: `alias."column" AS "property", ...`. */
  select(alias: string): string {
    let list = this.selects.get(alias);
    if (list === undefined) {
      list = this.columns.map((column) => `${alias}."${column.database}" AS "${column.property}"`).join(', ');
      this.selects.set(alias, list);
    }
    return list;
  }

  /**
   * One row selected with {@link select} as an instance of the entity class (created without its
   * constructor, as TypeORM does; otherwise type-graphql copies a plain object into a new instance
   * for every field resolver it runs on it).
   */
  map(row: Record<string, unknown>): T {
    const out = Object.create(this.prototype) as Record<string, unknown>;
    for (const { property, convert } of this.columns) {
      const value = row[property];
      out[property] = value === null || value === undefined ? null : convert === null ? value : convert(value);
    }
    return out as T;
  }
}

interface ShapeColumn {
  readonly property: string;
  readonly database: string;
  readonly convert: ((value: unknown) => unknown) | null;
}

function converter(dataSource: DataSource, column: ColumnMetadata): ((value: unknown) => unknown) | null {
  if (column.transformer === epochMs) return (value) => new Date(Number(value));
  if (column.transformer === int64) return (value) => Number(value);
  if (
    !column.transformer &&
    (column.type === 'integer' || column.type === 'int' || column.type === 'varchar' || column.type === 'text' || column.type === String)
  )
    return null;
  return (value) => dataSource.driver.prepareHydratedValue(value, column);
}

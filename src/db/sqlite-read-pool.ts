import { Worker } from 'node:worker_threads';
import { RepeatedLog, type Logger } from '../log.js';
import { ReadTimeoutError } from './read-timeout.js';
import { DatabaseUnavailableError } from './unavailable.js';

/** A value bound to a statement parameter (as in sql-reader.ts). */
type SqlValue = string | number | null;

export interface SqliteReadPoolOptions {
  /** The SQLite file (in WAL mode, already migrated: workers open it read-only). */
  readonly file: string;
  /** Worker threads, each with its own connection. At least 1. */
  readonly size: number;
  /**
   * A read not answered within this many ms fails with {@link ReadTimeoutError}; a running one has
   * its worker given up and replaced. 0: no limit.
   */
  readonly timeoutMs: number;
  /** PRAGMAs run on every worker's connection when it opens, e.g. `mmap_size = 1073741824`. */
  readonly pragmas: readonly string[];
  /** Prepared statements each worker keeps (the cache is cleared when full). */
  readonly statementCacheSize: number;
  readonly logger: Logger;
}

/**
 * The worker's code, as plain JavaScript run with `eval: true`: Jest runs our TypeScript through
 * swc in the main thread only, and a worker cannot load a `.ts` file, so the worker is this
 * self-contained script under Jest and from `dist` alike. better-sqlite3 is required by the path
 * the main thread resolved.
 *
 * Protocol: the worker posts `{ ready: true }` once its connection is open; then, for each
 * `{ sql, params }` it receives, exactly one `{ rows }` or `{ error: { message, code } }`. One
 * statement at a time: the pool sends the next only after the answer.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// The lowest CPU priority for this thread alone (Linux: a thread id is a valid target of
// setpriority; /proc/thread-self names it). A read then only gets the CPU time the main thread
// (webhooks, the SQLite writer) does not want. Elsewhere, or if refused, reads run at normal priority.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) require('node:os').setPriority(tid, workerData.niceness);
} catch {}
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
for (const pragma of workerData.pragmas) db.pragma(pragma);
const statements = new Map();
parentPort.on('message', ({ sql, params }) => {
  let rows;
  try {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      if (statements.size >= workerData.statementCacheSize) statements.clear();
      statements.set(sql, statement);
    }
    rows = statement.all(...params);
  } catch (error) {
    const { message, code } = error instanceof Error ? error : { message: String(error), code: undefined };
    parentPort.postMessage({ error: { message: String(message), code: typeof code === 'string' ? code : undefined } });
    return;
  }
  parentPort.postMessage({ rows });
});
parentPort.postMessage({ ready: true });
`;

/** One read waiting for, or running on, a worker. */
interface Job {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  resolve(rows: unknown[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  /** The worker running it, once dispatched. */
  slot: Slot | undefined;
}

interface Slot {
  readonly worker: Worker;
  /** Set when the worker has posted `ready`. */
  ready: boolean;
  job: Job | undefined;
  /** Given up (timed out or pool closing): its messages are ignored; it ends when SQLite returns. */
  retired: boolean;
}

/** The nice value of the worker threads (19: the lowest priority), so that reads yield the cores to the event loop. */
const READ_NICENESS = 19;
/** How long a worker that crashed before it was ready waits before the next attempt, in ms. */
const RESPAWN_DELAY_MS = 1000;
/** How long `close()` waits for workers still inside a statement to end, in ms. */
const CLOSE_WAIT_MS = 2000;

/**
 * Reads of one SQLite file on a small pool of worker threads, each with its own read-only
 * better-sqlite3 connection, so that no read, however expensive, runs on the event loop that
 * acknowledges webhooks (WAL lets readers run beside the ingest writer and each other). On Linux the
 * workers run at the lowest CPU priority (nice 19, per thread): on a machine whose cores are all
 * busy, the event loop and the writer still get the CPU first.
 *
 * Reads queue in the main thread and run one per worker at a time. The timeout covers the wait and
 * the run. better-sqlite3 cannot interrupt a running statement, so a read over the timeout is
 * failed at once and its worker terminated and replaced; the terminated thread still ends only when
 * SQLite returns from the statement. To keep runaway statements from taking every core, at most
 * `size` such threads are waited for at a time: beyond that, replacements start as they end. A
 * worker that crashes fails its read with {@link DatabaseUnavailableError} and is replaced.
 */
export class SqliteReadPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  /** Retired workers still running a statement. */
  private readonly retired = new Set<Slot>();
  private readonly driver = require.resolve('better-sqlite3');
  private readonly repeated: RepeatedLog;
  private closing = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly options: SqliteReadPoolOptions) {
    this.repeated = new RepeatedLog(options.logger);
  }

  /** Starts `size` workers and resolves once every one has its connection open. */
  static async open(options: SqliteReadPoolOptions): Promise<SqliteReadPool> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError(`SqliteReadPool: size must be a positive integer, got ${options.size}`);
    const pool = new SqliteReadPool(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Workers running or ready (not counting retired ones). */
  get size(): number {
    return this.slots.size;
  }

  /** Workers running a statement. */
  get busy(): number {
    return this.slots.size - this.idle.length;
  }

  /** Reads waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** The rows of one statement, as plain objects (INTEGER as numbers, as better-sqlite3 gives them). */
  all<T>(sql: string, params: readonly SqlValue[]): Promise<T[]> {
    if (this.closing) return Promise.reject(new DatabaseUnavailableError('the SQLite read pool is closed (the service is stopping)'));
    return new Promise<T[]>((resolve, reject) => {
      const job: Job = { sql, params, resolve: resolve as (rows: unknown[]) => void, reject, timer: undefined, slot: undefined };
      const { timeoutMs } = this.options;
      if (timeoutMs > 0) job.timer = setTimeout(() => this.timeOut(job), timeoutMs);
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Fails queued reads, terminates the workers and waits (up to 2 s) for them to end; a worker
   * still inside a long statement is left to end on its own, unreferenced. Idempotent.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.respawnTimer);
    for (const job of this.queue.splice(0))
      this.fail(job, new DatabaseUnavailableError('the SQLite read pool closed before this read ran (the service is stopping)'));
    const workers = [...this.slots, ...this.retired].map((slot) => {
      if (slot.job)
        this.fail(slot.job, new DatabaseUnavailableError('the SQLite read pool closed while this read ran (the service is stopping)'));
      slot.retired = true;
      slot.worker.unref();
      return slot.worker.terminate();
    });
    this.slots.clear();
    this.idle.length = 0;
    const wait = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref());
    await Promise.race([Promise.allSettled(workers), wait]);
  }

  private spawn(): Promise<void> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: this.driver,
        file: this.options.file,
        pragmas: this.options.pragmas,
        statementCacheSize: this.options.statementCacheSize,
        niceness: READ_NICENESS,
      },
    });
    // Idle workers do not keep the process alive; a worker is referenced while it runs a read.
    worker.unref();
    const slot: Slot = { worker, ready: false, job: undefined, retired: false };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      worker.on('message', (message: WorkerMessage) => {
        if (slot.retired) return;
        if ('ready' in message) {
          slot.ready = true;
          this.idle.push(slot);
          resolve();
          this.dispatch();
          return;
        }
        const job = slot.job;
        if (!job) return;
        slot.job = undefined;
        worker.unref();
        this.idle.push(slot);
        if ('rows' in message) this.settle(job, () => job.resolve(message.rows));
        else this.fail(job, sqliteError(message.error));
        this.dispatch();
      });
      worker.on('error', (error) => {
        failure = error;
      });
      worker.on('exit', (exitCode) => {
        if (this.retired.delete(slot)) {
          // A runaway statement ended: room for a replacement if one is missing.
          this.refill();
          return;
        }
        if (slot.retired) return;
        // Crashed (or could not open the file).
        this.slots.delete(slot);
        const index = this.idle.indexOf(slot);
        if (index >= 0) this.idle.splice(index, 1);
        const reason = failure ? `: ${failure.message}` : ` with exit code ${exitCode}`;
        if (!slot.ready) {
          reject(new DatabaseUnavailableError(`the SQLite read worker could not start${reason}`, { cause: failure }));
          if (!this.closing) {
            this.repeated.error(
              'sqlite-read-worker-start',
              { err: failure, exitCode },
              `SQLite read worker could not start; trying again in ${RESPAWN_DELAY_MS} ms`,
            );
            this.respawnTimer ??= setTimeout(() => {
              this.respawnTimer = undefined;
              this.refill();
            }, RESPAWN_DELAY_MS).unref();
          }
          return;
        }
        if (slot.job)
          this.fail(
            slot.job,
            new DatabaseUnavailableError(`the SQLite read worker stopped while running this read${reason}`, { cause: failure }),
          );
        slot.job = undefined;
        if (this.closing) return;
        this.repeated.error('sqlite-read-worker-crash', { err: failure, exitCode }, 'SQLite read worker stopped; replacing it');
        this.refill();
      });
    });
  }

  /** Starts workers until there are `size`, as long as fewer than `size` retired ones still run. */
  private refill(): void {
    if (this.closing || this.respawnTimer) return;
    while (this.slots.size < this.options.size && this.slots.size + this.retired.size < 2 * this.options.size) {
      // A replacement that fails to start schedules the next attempt itself (see spawn's exit handler).
      this.spawn().catch(() => undefined);
    }
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const slot = this.idle.pop()!;
      const job = this.queue.shift()!;
      slot.job = job;
      job.slot = slot;
      slot.worker.ref();
      slot.worker.postMessage({ sql: job.sql, params: job.params });
    }
  }

  private timeOut(job: Job): void {
    job.timer = undefined;
    const slot = job.slot;
    if (!slot) {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
    } else if (slot.job === job) {
      // The statement is still running: give its worker up (see the class comment) and replace it.
      slot.job = undefined;
      slot.retired = true;
      this.slots.delete(slot);
      this.retired.add(slot);
      slot.worker.unref();
      void slot.worker.terminate();
      this.repeated.warn(
        'sqlite-read-timeout',
        { timeoutMs: this.options.timeoutMs },
        'SQLite read over the read timeout: its worker was stopped and is being replaced',
      );
      this.refill();
    }
    this.fail(job, new ReadTimeoutError(this.options.timeoutMs));
  }

  private settle(job: Job, done: () => void): void {
    clearTimeout(job.timer);
    job.timer = undefined;
    done();
  }

  private fail(job: Job, error: Error): void {
    this.settle(job, () => job.reject(error));
  }
}

type WorkerMessage =
  | { readonly ready: true }
  | { readonly rows: unknown[] }
  | { readonly error: { readonly message: string; readonly code: string | undefined } };

/** The worker's error as an Error with SQLite's code (e.g. SQLITE_BUSY, which isDatabaseUnavailable knows). */
function sqliteError({ message, code }: { readonly message: string; readonly code: string | undefined }): Error {
  return Object.assign(new Error(message), { name: 'SqliteError', ...(code === undefined ? {} : { code }) });
}

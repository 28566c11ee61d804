/**
 * Telling "the database cannot serve us right now" apart from "this statement is wrong".
 *
 * The first kind (connection refused or cut, a timeout, the server shutting down or starting up, a
 * lock not granted in time, SQLite busy) is answered 503 with `Retry-After` and is worth retrying as
 * it is; the second kind is a bug or bad data and retrying it the same way gives the same error.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATE classes and codes that mean the server or the connection is unavailable, not that the
 * statement is wrong: 08 connection exception, 53 insufficient resources, 57P01-57P05 operator
 * intervention (admin shutdown, crash shutdown, cannot connect now, database dropped, idle session
 * timeout), 57014 query canceled (statement_timeout), 55P03 lock not available (lock_timeout),
 * 40001/40P01 serialization failure and deadlock (retry as is).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53)|^57P0[1-5]$|^57014$|^55P03$|^40001$|^40P01$/;

/** Node socket errors that mean the connection could not be made or was lost. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLite result codes for "another connection holds the lock". */
const SQLITE_BUSY = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED']);

/** Messages of node-postgres for a connection that ended or never came up (it sets no code on these). */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|is not queryable|Connection is closed|Query read timeout/i;

/** True when `error` (or its cause, or the driver error TypeORM wrapped in it) means the database is unavailable for now rather than the statement being wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    if (current instanceof DatabaseUnavailableError) return true;
    if (typeof current !== 'object') return false;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code) || SQLITE_BUSY.has(code))) return true;
    if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return true;
    const { cause, driverError } = current as { cause?: unknown; driverError?: unknown };
    current = cause ?? driverError;
  }
  return false;
}

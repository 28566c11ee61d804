/**
 * A read ran longer than the read statement timeout (`DATABASE_READ_TIMEOUT_MS`) and was stopped:
 * PostgreSQL cancelled it (`statement_timeout`), or on SQLite its worker thread was given up
 * (src/db/sqlite-read-pool.ts). Retrying the same read gives the same result; asking for less does
 * not. The GraphQL layer answers it with code QUERY_TIMEOUT (src/api/errors.ts).
 *
 * Deliberately not a {@link DatabaseUnavailableError} and without the driver's error as `cause`:
 * the database is fine, the query is too expensive.
 */
export class ReadTimeoutError extends Error {
  constructor(
    /** The limit that was exceeded, in ms. */
    readonly limitMs: number,
  ) {
    super(
      `the query took longer than the ${limitMs} ms allowed for reads and was stopped; ask for less ` +
        '(fewer aliases or nested lists, smaller pages, narrower ranges)',
    );
    this.name = 'ReadTimeoutError';
  }
}

/** PostgreSQL's SQLSTATE for a cancelled statement (also used for pg_cancel_backend, told apart by the message). */
const QUERY_CANCELED = '57014';

/**
 * True when `error` (or its cause, or TypeORM's `driverError`) is a read timeout: a
 * {@link ReadTimeoutError}, or PostgreSQL cancelling a statement for `statement_timeout` on a read
 * that did not go through SqlReader (TypeORM's own queries on the same pool).
 */
export function isReadTimeout(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    if (current instanceof ReadTimeoutError) return true;
    if (typeof current !== 'object') return false;
    if (isStatementTimeout(current)) return true;
    const next = current as { cause?: unknown; driverError?: unknown; originalError?: unknown };
    current = next.originalError ?? next.driverError ?? next.cause;
  }
  return false;
}

/** A PostgreSQL error of a statement cancelled by `statement_timeout`. */
export function isStatementTimeout(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === QUERY_CANCELED && typeof message === 'string' && /statement timeout/i.test(message);
}

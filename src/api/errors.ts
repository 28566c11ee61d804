import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ReadTimeoutError, isReadTimeout } from '../db/read-timeout.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';

/**
 * The codes a client may see in `errors[].extensions.code`. Apollo's own client-error codes are
 * listed so that one enum names everything a partner can rely on; an error with any other code
 * (or none) is an internal failure and is masked outside development.
 */
export enum ErrorCode {
  /** Something failed on our side; the message is hidden outside development. */
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** The request was not valid GraphQL-over-HTTP (bad JSON body, missing query, CSRF guard, ...). */
  BAD_REQUEST = 'BAD_REQUEST',
  /** The request body is larger than the limit. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** The query is not syntactically valid GraphQL. */
  GRAPHQL_PARSE_FAILED = 'GRAPHQL_PARSE_FAILED',
  /** The query does not fit the schema. */
  GRAPHQL_VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED',
  /** A variable or argument has the wrong type or fails validation. */
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  /** `operationName` names no operation in the document, or several operations and no name. */
  OPERATION_RESOLUTION_FAILURE = 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED = 'PERSISTED_QUERY_NOT_SUPPORTED',
  /** Introspection was asked for where it is turned off. */
  INTROSPECTION_DISABLED = 'INTROSPECTION_DISABLED',
  /** The query nests selections too deeply. */
  MAX_RECURSIVE_SELECTIONS_EXCEEDED = 'MAX_RECURSIVE_SELECTIONS_EXCEEDED',
  /** No bearer token, or one that is unknown or revoked (HTTP 401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The token is valid but may not see what was asked for. */
  FORBIDDEN = 'FORBIDDEN',
  /**
   * A personal field (names, contact details, address, birth date, ...) or a filter on one, asked
   * for by a token that may not read personal data (a partner token without the `personalData`
   * permission). Only that field is refused: it is null, and the rest of the answer still comes.
   */
  PERSONAL_DATA_FORBIDDEN = 'PERSONAL_DATA_FORBIDDEN',
  /** The query nests deeper than the depth limit; rejected before it runs. */
  QUERY_TOO_DEEP = 'QUERY_TOO_DEEP',
  /** The query's estimated cost exceeds the limit; rejected before it runs. */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** A mutation names something that does not exist (e.g. `retryHydrationJob` with an unknown id). */
  NOT_FOUND = 'NOT_FOUND',
  /** A mutation does not fit the current state of what it names (e.g. retrying a job that is not parked). */
  CONFLICT = 'CONFLICT',
  /** The token has used up its query budget for now (HTTP 429 with `Retry-After`). */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The database (or another dependency) cannot answer right now (HTTP 503 with `Retry-After`); retry. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /**
   * A `subscribe` over the WebSocket's limit of operations at once (`WS_MAX_SUBSCRIPTIONS_PER_SOCKET`):
   * that one is refused, the others go on; complete one first, or use another socket.
   */
  TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS',
  /**
   * A database read of the operation ran longer than the read timeout (`DATABASE_READ_TIMEOUT_MS`)
   * and was stopped; the message says the limit. Retrying the same operation will time out again:
   * ask for less (fewer aliases or nested lists, smaller pages, narrower ranges).
   */
  QUERY_TIMEOUT = 'QUERY_TIMEOUT',
  /**
   * A statistics query would answer with more buckets than allowed (2,000 of one calendar period,
   * 10,000 combinations of its `groupBy` dimensions); the message says which limit. Narrow the
   * range or the studios, or group by a longer period.
   */
  TOO_MANY_BUCKETS = 'TOO_MANY_BUCKETS',
}

/** A GraphQL error with one of our codes (and, where it matters, the HTTP status). */
export function clientError(code: ErrorCode, message: string, httpStatus?: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...(httpStatus ? { http: { status: httpStatus } } : {}) } });
}

const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set(
  Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
);

/** True when the error is the client's to fix, and its message is safe to show. */
export function isClientError(error: { readonly extensions?: Readonly<Record<string, unknown>> | undefined }): boolean {
  const code = error.extensions?.['code'];
  return typeof code === 'string' && CLIENT_ERROR_CODES.has(code);
}

/**
 * The client error that an error raised below the GraphQL layer stands for, if any: a read over
 * the read timeout (src/db/read-timeout.ts) is QUERY_TIMEOUT with its own message.
 */
export function knownServerError(error: unknown): { readonly code: ErrorCode; readonly message: string } | undefined {
  if (!isReadTimeout(error)) return undefined;
  // The ReadTimeoutError's message names the limit; PostgreSQL's own ("canceling statement due to statement timeout") does not.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error && !(current instanceof ReadTimeoutError); depth += 1)
    current = (current as { originalError?: unknown }).originalError;
  const message =
    current instanceof ReadTimeoutError
      ? current.message
      : 'the query took longer than the time allowed for reads and was stopped; ask for less';
  return { code: ErrorCode.QUERY_TIMEOUT, message };
}

/**
 * `formatError` for development: messages and details stay as they are, but an error of the layers
 * below with a code of its own ({@link knownServerError}) carries that code, as in production.
 */
export function withKnownCode(formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError {
  if (isClientError(formatted)) return formatted;
  const known = error === undefined ? undefined : knownServerError(error);
  return known ? { ...formatted, message: known.message, extensions: { ...formatted.extensions, code: known.code } } : formatted;
}

/**
 * Apollo `formatError` for production: client errors pass as they are; errors of the layers below
 * with a code of their own ({@link knownServerError}, from `error`, the original error) get it;
 * anything else becomes `Internal server error` with code INTERNAL_SERVER_ERROR, keeping only where
 * it happened.
 */
export function maskInternalError(formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError {
  if (isClientError(formatted)) return formatted;
  const known = error === undefined ? undefined : knownServerError(error);
  return {
    message: known?.message ?? 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: known?.code ?? ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * True when `error` (what a resolver threw, or the GraphQLError around it) was caused by the
 * database being unavailable. graphql-js wraps a thrown value that is not an `Error` of its realm
 * (a driver's error from another VM context, as under Jest) in a `NonErrorThrown` holding it as `thrownValue`.
 */
export function causedByUnavailableDatabase(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  if (!(error instanceof GraphQLError)) return false;
  const original = error.originalError as (Error & { thrownValue?: unknown }) | undefined;
  return isDatabaseUnavailable(original) || (original !== undefined && isDatabaseUnavailable(original.thrownValue));
}

/** `Retry-After` of a 503 for a database that cannot answer, in seconds: long enough not to hammer it, short enough for a failover. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;
export const DATABASE_UNAVAILABLE_MESSAGE = 'the database is unavailable right now: retry later';

/** What a client sees of an error whose cause is the database being unavailable: SERVICE_UNAVAILABLE, never the driver's words. */
export function unavailableError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  return {
    message: DATABASE_UNAVAILABLE_MESSAGE,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
  };
}

/** The FORBIDDEN error a member gets for `coordinate` (src/graphql/member-access.ts says which are). */
export function memberForbidden(coordinate: string): Error {
  return clientError(
    ErrorCode.FORBIDDEN,
    `${coordinate} is not available to members (a member's JWT sees their own records and public studio data only)`,
  );
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Kind, type FragmentDefinitionNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { BodyTooLargeError, isJsonContentType, readBody } from '../http/body.js';
import { loggableOperationName, noteRequest } from '../http/request-log.js';
import { RepeatedLog, type Logger } from '../log.js';
import type { DataSource } from 'typeorm';
import { TokenExpiredError } from '../domains/access/token.service.js';
import { CredentialRefused, KeysUnavailable } from '../domains/access/jwt-verifier.js';
import { viewerLabel, type Viewer } from '../api/viewer.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { GraphQLMetrics } from '../metrics/metrics.js';
import { createContext, type GraphQLContext } from '../api/context.js';
import type { ViewerBudget } from './cost-budget.js';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE_MESSAGE,
  ErrorCode,
  causedByUnavailableDatabase,
  clientError,
  isClientError,
  maskInternalError,
  unavailableError,
  withKnownCode,
} from '../api/errors.js';
import { IdePage } from './ide.js';
import { MAX_QUERY_TOKENS, queryLimitsPlugin, type QueryLimits } from '../api/limits.js';
import { isCacheableOperation, type AnswerCache, type AnswerTicket, type CachedAnswer } from './answer-cache.js';

export interface GraphQLHandlerOptions {
  /** Answer introspection queries (`__schema`, `__type`). @default false */
  readonly introspection?: boolean;
  /**
   * Show internal error messages and stack traces to clients. Only for local development:
   * otherwise internal errors are masked as `Internal server error`. @default false
   */
  readonly development?: boolean;
  /** Largest request body accepted, in bytes; larger ones are refused with 413. @default 1048576 (1 MB) */
  readonly maxBodyBytes?: number;
  /** Server-level log lines (startup, internal errors without a request). */
  readonly logger: Logger;
  /** The viewer a bearer token stands for; undefined for an unknown or revoked token; throws TokenExpiredError for an expired API token, CredentialRefused (with a reason to show) for a refused JWT. */
  readonly authenticate: (token: string) => Promise<Viewer | undefined>;
  readonly dataSource: DataSource;
  /**
   * Depth and cost limits, checked on every operation before it runs (QUERY_TOO_DEEP,
   * QUERY_TOO_COMPLEX). @default depth 10, cost 10000 (see limits.ts)
   */
  readonly limits?: QueryLimits;
  /**
   * Cost points per token (`GRAPHQL_COST_PER_MINUTE`), charged with each operation's estimated
   * cost before it runs; over budget: 429 RATE_LIMITED with `Retry-After`. Absent: no budget.
   */
  readonly budget?: ViewerBudget;
  /** Request durations, errors by code and query costs; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: GraphQLMetrics | undefined;
  /**
   * Whole answers of cacheable queries (answer-cache.ts, `GRAPHQL_ANSWER_CACHE_MS`); its data
   * generation is also advanced by every mutation answered here. Absent: nothing is cached.
   */
  readonly answers?: AnswerCache | undefined;
}

/** `GET` / `POST /graphql`, backed by Apollo Server. */
export interface GraphQLHandler {
  /** Answers one request on `/graphql`. */
  handle(req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void>;
  /** Stops Apollo Server; call once the HTTP server no longer sends requests here. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

/**
 * Starts Apollo Server on the schema and returns the `/graphql` handler for the plain `node:http`
 * server. Browsers (a GET that prefers `text/html`) get the offline GraphQL IDE of `ide.ts` instead of
 * Apollo's CDN-hosted landing page; its assets are served under `/graphql/ide/` (`ideAssets()`).
 */
export async function createGraphQLHandler(schema: GraphQLSchema, options: GraphQLHandlerOptions): Promise<GraphQLHandler> {
  const {
    introspection = false,
    development = false,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    logger,
    authenticate,
    dataSource,
    limits = {},
    budget,
    metrics,
    answers,
  } = options;
  const ide = new IdePage();
  // An outage fails every request: one warning per interval, with a count, not one per request.
  const outage = new RepeatedLog(logger.child({ component: 'graphql' }));
  const server = new ApolloServer<GraphQLContext>({
    schema,
    // No automatic persisted queries: their hash-mismatch error carries no code and would be masked.
    persistedQueries: false,
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    introspection,
    // Apollo's own defaults follow `nodeEnv` (else process.env.NODE_ENV): tied to our flag, so that
    // config.ts alone decides what a client may see.
    nodeEnv: development ? 'development' : 'production',
    includeStacktraceInErrorResponses: development,
    // An error caused by the database being unavailable is SERVICE_UNAVAILABLE (503, see
    // databaseUnavailable below) in both modes; anything else unknown is masked outside development.
    formatError: (formatted, error) =>
      !isClientError(formatted) && causedByUnavailableDatabase(error)
        ? unavailableError(formatted)
        : development
          ? withKnownCode(formatted, error)
          : maskInternalError(formatted, error),
    logger: logger.child({ component: 'graphql' }),
    // main.ts owns SIGTERM/SIGINT and stops Apollo in order; Apollo's own handlers would re-raise the signal.
    stopOnTerminationSignals: false,
    // Apollo's cache-control plugin hooks every field resolver (willResolveField) to compute a cache
    // policy; with no cache hints in this schema that policy is always "uncacheable", so the header
    // it would send, `no-store`, is set below instead.
    plugins: [
      // First, so that it sees the operation type before another plugin's hook refuses the operation.
      ...(metrics ? [measureRequests(metrics)] : []),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      subscriptionsOverWebSocket,
      noteOperation,
      queryLimitsPlugin<GraphQLContext>(limits, async (context, { cost }) => {
        metrics?.measured(cost);
        const pending = answering.get(context.log);
        if (pending) pending.cost = cost;
        return budget?.charge(context.viewer, cost);
      }),
      ...(answers ? [answerCachePlugin(schema, answers)] : []),
      logInternalErrors(outage),
      databaseUnavailable,
    ],
  });
  await server.start();

  return {
    async handle(req, res, log) {
      const method = (req.method ?? 'GET').toUpperCase();
      if (method === 'GET' && prefersHtml(req.headers.accept)) return ide.serve(req, res);
      const started = metrics ? performance.now() : 0;
      /** An error answered before Apollo is involved (no operation resolved): counted, then sent. */
      const sendGraphQLError: typeof sendRawGraphQLError = (...args) => {
        metrics?.error(args[3]);
        metrics?.request(undefined, args[3], performance.now() - started);
        sendRawGraphQLError(...args);
      };

      // The token before the body: a caller without a valid token gets its 401 without a byte of its
      // body read or buffered. A body left unread closes the connection after the answer.
      const unread: Record<string, string> = method !== 'GET' && method !== 'HEAD' ? { connection: 'close' } : {};
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!match) {
        return sendGraphQLError(
          req,
          res,
          401,
          ErrorCode.UNAUTHENTICATED,
          'missing bearer token: send the header Authorization: Bearer <token>',
          {
            'www-authenticate': 'Bearer',
            ...unread,
          },
        );
      }
      let viewer: Viewer | undefined;
      try {
        viewer = await authenticate(match[1]!);
      } catch (error) {
        if (error instanceof TokenExpiredError) {
          return sendGraphQLError(req, res, 401, ErrorCode.UNAUTHENTICATED, error.message, {
            'www-authenticate': 'Bearer error="invalid_token", error_description="token expired"',
            ...unread,
          });
        }
        if (error instanceof CredentialRefused) {
          return sendGraphQLError(req, res, 401, ErrorCode.UNAUTHENTICATED, error.message, {
            'www-authenticate': 'Bearer error="invalid_token"',
            ...unread,
          });
        }
        if (error instanceof KeysUnavailable) {
          outage.warn('jwks-unavailable', { err: error }, 'graphql: the JWKS could not be read (answering 503)');
          return sendGraphQLError(
            req,
            res,
            503,
            ErrorCode.SERVICE_UNAVAILABLE,
            'the keys that verify this JWT cannot be read right now: retry',
            {
              'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
              ...unread,
            },
          );
        }
        if (!isDatabaseUnavailable(error)) throw error;
        outage.warn('database-unavailable', { err: error }, 'graphql: the database is unavailable (answering 503)');
        return sendGraphQLError(req, res, 503, ErrorCode.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE, {
          'retry-after': String(DATABASE_RETRY_AFTER_SECONDS),
          ...unread,
        });
      }
      if (!viewer) {
        return sendGraphQLError(req, res, 401, ErrorCode.UNAUTHENTICATED, 'unknown or revoked token', {
          'www-authenticate': 'Bearer error="invalid_token"',
          ...unread,
        });
      }
      const authenticated = viewer;
      noteRequest(res, { tokenId: viewerLabel(viewer) });
      // Refused moments ago: answered before the body is read or parsed, until its Retry-After has passed.
      /** A RATE_LIMITED error of the budget, as the 429 it is. */
      const sendRefusal = (refused: GraphQLError, headers: Record<string, string>) => {
        const { code, http: _http, ...rest } = refused.extensions;
        sendGraphQLError(
          req,
          res,
          429,
          code as ErrorCode,
          refused.message,
          { 'retry-after': String(rest['retryAfterSeconds']), ...headers },
          rest,
        );
      };
      const refused = budget?.refused(viewer);
      if (refused) return sendRefusal(refused, unread);

      let body: unknown;
      if (method === 'POST') {
        let raw: Buffer;
        try {
          raw = await readBody(req, maxBodyBytes);
        } catch (error) {
          if (error instanceof BodyTooLargeError) {
            return sendGraphQLError(req, res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `request body exceeds the limit of ${error.limit} bytes`, {
              connection: 'close',
            });
          }
          throw error;
        }
        // Other media types reach Apollo without a body: it refuses them with a 400 that says so.
        if (isJsonContentType(req.headers['content-type']) && raw.length > 0) {
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch (error) {
            return sendGraphQLError(req, res, 400, ErrorCode.BAD_REQUEST, `request body is not valid JSON: ${(error as Error).message}`);
          }
        }
      }

      // The answer cache, before Apollo: a hit is the stored text, charged the cost its miss was (so a
      // token's budget does not depend on what is cached), and nothing else runs.
      const ticket = answers?.ticket(authenticated, body, req.headers.accept);
      if (ticket) {
        const hit = answers!.get(ticket) ?? (await answers!.shared(ticket));
        metrics?.answerCache(hit ? 'hit' : 'miss');
        if (hit) {
          const overBudget = await budget?.charge(authenticated, hit.cost);
          if (overBudget) return sendRefusal(overBudget, {});
          const operationName = loggableOperationName((body as { operationName?: string }).operationName);
          noteRequest(res, { operationType: 'query', ...(operationName ? { operationName } : {}) });
          for (const [name, value] of hit.headers) res.setHeader(name, value);
          res.setHeader('content-length', hit.body.length);
          res.statusCode = 200;
          res.end(hit.body);
          metrics?.request('query', undefined, performance.now() - started);
          return;
        }
      }

      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url ?? '';
      const query = url.indexOf('?');
      let response: Awaited<ReturnType<typeof server.executeHTTPGraphQLRequest>> | undefined;
      try {
        response = await server.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method, headers, search: query === -1 ? '' : url.slice(query), body },
          context: async () => {
            responses.set(log, res);
            if (ticket) answering.set(log, { ticket, cacheable: false, cost: 0, ok: false });
            return createContext(log, authenticated, dataSource);
          },
        });
      } finally {
        const pending = answering.get(log);
        let answer: Omit<CachedAnswer, 'generation'> | undefined;
        if (response && pending?.cacheable && pending.ok && response.body.kind === 'complete' && (response.status ?? 200) === 200) {
          const kept: [string, string][] = [...response.headers];
          if (!response.headers.has('cache-control')) kept.push(['cache-control', 'no-store']);
          answer = { body: Buffer.from(response.body.string, 'utf8'), headers: kept, cost: pending.cost };
          if (answers!.set(pending.ticket, answer)) metrics?.answerCache('stored');
        }
        // Those that waited for this read get its answer (valid for them: they came in its generation).
        pending?.settle?.(answer);
      }

      for (const [name, value] of response.headers) res.setHeader(name, value);
      // Answers are per token and change with every webhook: never stored by a cache.
      if (!res.hasHeader('cache-control')) res.setHeader('cache-control', 'no-store');
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) {
        if (res.destroyed) break;
        res.write(chunk);
      }
      res.end();
    },
    stop: () => server.stop(),
  };
}

/**
 * The response of each request, by the request's logger, for {@link noteOperation}. Keyed by the
 * logger, not the context: Apollo hands plugins a shallow copy of the context, whose fields are ours.
 */
const responses = new WeakMap<Logger, ServerResponse>();

/** What the answer cache needs to learn about a request Apollo runs (a miss), by the request's logger. */
interface PendingAnswer {
  readonly ticket: AnswerTicket;
  /** A query whose every root field is cacheable with its arguments. */
  cacheable: boolean;
  /** Its measured cost (charged again on each hit). */
  cost: number;
  /** Answered without errors. */
  ok: boolean;
  /** Set when this request reads the answer others asking the same meanwhile wait for. */
  settle?: ((answer: Omit<CachedAnswer, 'generation'> | undefined) => void) | undefined;
}
const answering = new WeakMap<Logger, PendingAnswer>();

/**
 * Tells the answer cache whether the operation may be cached (answer-cache.ts `isCacheableOperation`)
 * and whether it succeeded; a mutation moves the data generation on once its writes are done, before
 * its answer is sent.
 */
const answerCachePlugin = (schema: GraphQLSchema, answers: AnswerCache): ApolloServerPlugin<GraphQLContext> => ({
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, document, request, contextValue }) {
        const pending = answering.get(contextValue.log);
        if (!pending || !operation) return;
        const fragments: Record<string, FragmentDefinitionNode> = {};
        for (const definition of document.definitions)
          if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
        pending.cacheable = isCacheableOperation(schema, operation, fragments, request.variables ?? {});
        if (pending.cacheable) pending.settle = answers.lead(pending.ticket);
      },
      async willSendResponse({ response, operation, contextValue }) {
        if (operation?.operation === 'mutation') answers.generation.advance();
        const pending = answering.get(contextValue.log);
        if (!pending) return;
        pending.ok =
          response.body.kind === 'single' && response.body.singleResult.errors === undefined && (response.http.status ?? 200) === 200;
      },
    };
  },
});

/** The request line names the operation: its type, and its name as written in the document (never its variables). */
const noteOperation: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        const res = responses.get(contextValue.log);
        if (!res || !operation) return;
        const operationName = loggableOperationName(operation.name?.value);
        noteRequest(res, { operationType: operation.operation, ...(operationName ? { operationName } : {}) });
      },
    };
  },
};

/**
 * `graphql_server_request_duration_seconds` by operation type and first error code, and
 * `gymgraph_graphql_errors_total` by code, from Apollo's answer (its errors as clients see them).
 */
const measureRequests = (metrics: GraphQLMetrics): ApolloServerPlugin<GraphQLContext> => ({
  async requestDidStart() {
    const started = performance.now();
    let type: string | undefined;
    return {
      async didResolveOperation({ operation }) {
        type = operation?.operation;
      },
      async willSendResponse({ response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        if (errors) for (const error of errors) metrics.error(error.extensions?.['code']);
        const code = errors?.[0]?.extensions?.['code'];
        metrics.request(type, errors ? (typeof code === 'string' ? code : 'OTHER') : undefined, performance.now() - started);
      },
    };
  },
});

/** A subscription over HTTP is refused (400) before it runs: they are served over WebSocket (ws.ts). */
const subscriptionsOverWebSocket: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === 'subscription') {
          throw clientError(
            ErrorCode.BAD_REQUEST,
            'subscriptions are served over WebSocket: connect to /graphql with the graphql-transport-ws protocol',
            400,
          );
        }
      },
    };
  },
};

/**
 * Internal errors reach the log with the request id; the client sees them masked. An unavailable
 * database is one cause with many symptoms: `outage` writes it once per interval, with a count.
 */
const logInternalErrors = (outage: RepeatedLog): ApolloServerPlugin<GraphQLContext> => ({
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, contextValue }) {
        for (const error of errors) {
          if (isClientError(error)) continue;
          if (causedByUnavailableDatabase(error))
            outage.warn(
              'database-unavailable',
              { err: error.originalError ?? error, path: error.path },
              'graphql: the database is unavailable (answering 503)',
            );
          else contextValue.log.error({ err: error.originalError ?? error, path: error.path }, 'graphql operation failed');
        }
      },
    };
  },
});

/**
 * An answer with a SERVICE_UNAVAILABLE error (the database could not serve a field) is a 503 with
 * `Retry-After`, whatever data the other fields got: the client should retry the whole operation,
 * and a 200 would tell caches and monitors that all is well.
 */
const databaseUnavailable: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        if (!response.body.singleResult.errors?.some((error) => error.extensions?.['code'] === ErrorCode.SERVICE_UNAVAILABLE)) return;
        response.http.status = 503;
        response.http.headers.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      },
    };
  },
};

/** An error answered before Apollo is involved, in the GraphQL response shape. */
function sendRawGraphQLError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
  extensions: Record<string, unknown> = {},
): void {
  const text = JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
  const mediaType = req.headers.accept?.toLowerCase().includes(GRAPHQL_RESPONSE_JSON) ? GRAPHQL_RESPONSE_JSON : 'application/json';
  res.writeHead(status, { 'content-type': `${mediaType}; charset=utf-8`, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * True when the Accept header ranks `text/html` above every JSON type, as a browser's does. A
 * plain `*` `/` `*`, or a tie between HTML and JSON, gets JSON: only an explicit preference gets the page.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = preference(accept, 'text', 'html');
  const json = [preference(accept, 'application', 'json'), preference(accept, 'application', 'graphql-response+json')].reduce((a, b) =>
    b.q > a.q || (b.q === a.q && b.specificity > a.specificity) ? b : a,
  );
  return html.q > 0 && (html.q > json.q || (html.q === json.q && html.specificity > json.specificity));
}

/** The quality the Accept header gives a media type: that of its most specific matching range (RFC 9110 §12.5.1). */
function preference(accept: string, type: string, subtype: string): { q: number; specificity: number } {
  let best = { q: 0, specificity: -1 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const [rangeType, rangeSubtype] = range.split('/');
    const specificity =
      rangeType === type && rangeSubtype === subtype
        ? 2
        : rangeType === type && rangeSubtype === '*'
          ? 1
          : rangeType === '*' && rangeSubtype === '*'
            ? 0
            : -1;
    if (specificity <= best.specificity) continue;
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    best = { q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0, specificity };
  }
  return best;
}

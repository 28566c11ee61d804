import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RepeatedLog, type Logger } from '../log.js';
import { isClientGone } from './body.js';
import { ConnectionCap } from './connection-cap.js';
import type { GraphQLCors } from './cors.js';
import { RequestLog } from './request-log.js';
import { sendError, sendJson } from './respond.js';
import type { StaticFiles } from './static-files.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, log: Logger) => Promise<void> | void;

export interface Routes {
  readonly webhooks: Handler;
  /** `/graphql`; absent: 404. */
  readonly graphql?: Handler;
  /** A WebSocket upgrade request for `/graphql`; absent (or any other path): the socket is dropped. */
  readonly graphqlUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * `/readyz`: 200 when ready, else 503 naming what is not (`unavailable: ["database"]`); a plain
   * boolean, or a throw (503), also do.
   */
  readonly ready: () => Promise<boolean | { readonly ready: boolean; readonly unavailable: readonly string[] }>;
  /** Pages and their assets (IDE, dashboard), each at its own path; absent: none. */
  readonly assets?: StaticFiles;
  /** `/metrics` (Prometheus text format); absent (`METRICS_ENABLED=false`): 404. */
  readonly metrics?: Handler;
  /**
   * CORS of `/graphql` (preflights answered, headers on every answer, errors included) and the
   * `Origin` check of its WebSocket upgrades (403 for a foreign origin not allowed); absent: no
   * CORS headers and no check. `/webhooks` is server-to-server: never CORS.
   */
  readonly cors?: GraphQLCors;
}

/** What one caller may hold: see HttpConfig (config.ts) for each. */
export interface HttpLimits {
  /** Headers complete within this many ms of the request's first byte (or of the connection's opening). */
  readonly headersTimeoutMs: number;
  /** Headers and body complete within this many ms. */
  readonly requestTimeoutMs: number;
  /** Idle time allowed between requests on a connection, in ms. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections, WebSockets included. */
  readonly maxConnections: number;
}

/**
 * The HTTP entry point: a plain `node:http` server (the webhook path is hot, and needs no framework).
 * Every request gets a request id (taken from `X-Request-Id` when the caller sends one) that is
 * echoed back and bound to its log lines.
 */
export interface HttpServer {
  readonly server: http.Server;
  /**
   * Begins shutdown at the HTTP level: every response from now on — including those of requests
   * already in flight — says `Connection: close`, so no client reuses a socket about to be closed.
   */
  drain(): void;
  /** Open connections, WebSockets included. */
  readonly connections: number;
}

/**
 * How often node checks the header and request timeouts of open connections, in ms: a timeout
 * fires up to this much late. A tenth of the shorter timeout, within 50 ms to 1 s.
 */
export function timeoutCheckInterval(limits: Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.min(1000, Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)));
}

/**
 * Slow clients: node's own timeouts (its checker answers 408 and closes the connection; the
 * handler reading the body then sees the request aborted), node's keep-alive timeout, and the
 * connection cap (connection-cap.ts). Clients that go away are not errors: logged at debug, never
 * with a stack; timeouts and evictions, which a flood repeats thousands of times, once per
 * interval with a count.
 */
export function createHttpServer(routes: Routes, logger: Logger, limits: HttpLimits): HttpServer {
  const open = new Set<ServerResponse>();
  let draining = false;
  const repeated = new RepeatedLog(logger.child({ component: 'http' }));
  const requestLog = new RequestLog(logger);
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeoutCheckInterval(limits),
    },
    (req, res) => {
      if (draining) res.shouldKeepAlive = false;
      open.add(res);
      res.on('close', () => open.delete(res));
      const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID();
      res.setHeader('x-request-id', requestId);
      const log = logger.child({ requestId });
      const path = (req.url ?? '/').split('?', 1)[0];
      const started = process.hrtime.bigint();
      /** For the request line: every route is one fixed path; the default branch answers the rest. */
      let route = path ?? UNMATCHED;
      res.on('finish', () => {
        const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
        requestLog.finished(log, res, {
          method: req.method,
          route,
          ...(route === UNMATCHED ? { path: path?.slice(0, 100) } : {}),
          status: res.statusCode,
          ms,
        });
      });

      const handle = async () => {
        switch (path) {
          case '/webhooks':
            if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
            return routes.webhooks(req, res, log);
          case '/graphql':
            if (!routes.graphql) return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
            // Before the handler, so that its refusals (401, 413, 429, 503) carry the headers too and
            // a page can read them; a preflight is answered here.
            if (routes.cors && (await routes.cors.apply(req, res))) return;
            return routes.graphql(req, res, log);
          case '/healthz':
            if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET');
            return sendJson(res, 200, { status: 'ok' });
          case '/metrics':
            if (!routes.metrics) return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
            return routes.metrics(req, res, log);
          case '/readyz': {
            if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET');
            const answer = await routes.ready().catch(() => false);
            const { ready, unavailable } = typeof answer === 'boolean' ? { ready: answer, unavailable: [] } : answer;
            return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', ...(ready ? {} : { unavailable }) });
          }
          default:
            if (path !== undefined && routes.assets?.has(path)) return routes.assets.serve(req, res, path);
            route = UNMATCHED;
            return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
        }
      };
      Promise.resolve()
        .then(handle)
        .catch((error: unknown) => {
          if (isClientGone(error, req)) {
            // Not an error: the caller hung up, or a timeout or the connection cap dropped it.
            log.debug(
              { method: req.method, path, reason: (error as { code?: unknown }).code ?? String(error) },
              'client went away before the request completed',
            );
            res.destroy();
            return;
          }
          log.error({ err: error, method: req.method, path }, 'request failed');
          if (!res.headersSent) sendError(res, 500, 'internal_error', 'the request could not be completed; it was not stored, retry');
          else res.destroy();
        });
    },
  );
  // Node's default answer to a bad or late request, in our error shape, and logged in sums.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const answer = CLIENT_ERROR_ANSWERS[error.code ?? ''] ?? BAD_REQUEST;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      repeated.info(
        'request-timeout',
        { headersTimeoutMs: limits.headersTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs },
        'dropped connections whose request did not arrive in time (408)',
      );
    } else if (answer !== GONE) {
      repeated.info(`client-error:${answer.status}`, { status: answer.status }, 'dropped connections that sent a malformed request');
    }
    const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (answer !== GONE && socket.writable && !current?.headersSent)
      socket.write(rawResponse(answer.status, answer.error, answer.message(limits)));
    socket.destroy();
  });
  const cap = new ConnectionCap(server, {
    max: limits.maxConnections,
    onEvicted: () =>
      repeated.warn(
        'connection-evicted',
        { maxConnections: limits.maxConnections },
        'connection cap reached: closed the connections waiting longest without completing a request',
      ),
    onRefused: () =>
      repeated.warn(
        'connection-refused',
        { maxConnections: limits.maxConnections },
        'connection cap reached and every connection busy: refused new connections',
      ),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/graphql' && routes.graphqlUpgrade) {
      // Browsers let any page open a WebSocket anywhere: the Origin it sends is the only defence
      // against a foreign page using a token it obtained.
      if (routes.cors && !routes.cors.allowsUpgrade(req)) {
        repeated.info(
          'ws-origin-refused',
          { origin: req.headers.origin },
          'refused WebSocket upgrades from origins not in CORS_ORIGINS (403)',
        );
        socket.end(
          rawResponse(
            403,
            'forbidden_origin',
            `WebSocket connections from ${String(req.headers.origin)} are not allowed: add the origin to CORS_ORIGINS`,
          ),
        );
        return;
      }
      return routes.graphqlUpgrade(req, socket, head);
    }
    socket.destroy();
  });
  return {
    server,
    drain() {
      draining = true;
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    },
    get connections() {
      return cap.size;
    },
  };
}

interface ClientErrorAnswer {
  readonly status: number;
  readonly error: string;
  readonly message: (limits: HttpLimits) => string;
}

/** The caller reset the connection: nobody to answer. */
const GONE: ClientErrorAnswer = { status: 0, error: '', message: () => '' };
const BAD_REQUEST: ClientErrorAnswer = { status: 400, error: 'bad_request', message: () => 'the request is not valid HTTP/1.1' };
const CLIENT_ERROR_ANSWERS: Readonly<Record<string, ClientErrorAnswer>> = {
  ECONNRESET: GONE,
  EPIPE: GONE,
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    error: 'request_timeout',
    message: (limits) =>
      `the request did not arrive in time: headers within ${limits.headersTimeoutMs} ms, headers and body within ${limits.requestTimeoutMs} ms`,
  },
  HPE_HEADER_OVERFLOW: { status: 431, error: 'headers_too_large', message: () => 'the request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, error: 'payload_too_large', message: () => 'the chunk extensions are too large' },
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

/** A whole response written straight to a socket that has no response object (or none started). */
function rawResponse(status: number, error: string, message: string): string {
  const body = JSON.stringify({ error, message });
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The route of requests no route answers: their paths are anyone's choice, so they are not a route. */
const UNMATCHED = '(unmatched)';

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, 'method_not_allowed', `use ${allow}`, {}, { allow });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length <= 200 ? first : undefined;
}

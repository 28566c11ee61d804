import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { sendError, sendJson } from './respond.js';

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
}

export function createHttpServer(routes: Routes, logger: Logger): HttpServer {
  const open = new Set<ServerResponse>();
  let draining = false;
  const server = http.createServer((req, res) => {
    if (draining) res.shouldKeepAlive = false;
    open.add(res);
    res.on('close', () => open.delete(res));
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID();
    res.setHeader('x-request-id', requestId);
    const log = logger.child({ requestId });
    const path = (req.url ?? '/').split('?', 1)[0];
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.debug({ method: req.method, path, status: res.statusCode, ms }, 'request');
    });

    const handle = async () => {
      switch (path) {
        case '/webhooks':
          if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
          return routes.webhooks(req, res, log);
        case '/graphql':
          if (!routes.graphql) return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
          return routes.graphql(req, res, log);
        case '/healthz':
          if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET');
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz': {
          if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET');
          const answer = await routes.ready().catch(() => false);
          const { ready, unavailable } = typeof answer === 'boolean' ? { ready: answer, unavailable: [] } : answer;
          return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', ...(ready ? {} : { unavailable }) });
        }
        default:
          return sendError(res, 404, 'not_found', `no route for ${req.method} ${path}`);
      }
    };
    Promise.resolve()
      .then(handle)
      .catch((error: unknown) => {
        log.error({ err: error, method: req.method, path }, 'request failed');
        if (!res.headersSent) sendError(res, 500, 'internal_error', 'the request could not be completed; it was not stored, retry');
        else res.destroy();
      });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/graphql' && routes.graphqlUpgrade) return routes.graphqlUpgrade(req, socket, head);
    socket.destroy();
  });
  return {
    server,
    drain() {
      draining = true;
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    },
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  sendError(res, 405, 'method_not_allowed', `use ${allow}`, {}, { allow });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length <= 200 ? first : undefined;
}

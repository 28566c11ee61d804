import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { GraphQLError, getOperationAST, getVariableValues, parse, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { DataSource } from 'typeorm';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Viewer } from '../domains/access/token.service.js';
import type { Logger } from '../log.js';
import type { RealtimeServices } from '../realtime/realtime.js';
import { createContext } from './context.js';
import { ErrorCode, isClientError, maskInternalError } from './errors.js';
import { enforceLimits, type QueryLimits } from './limits.js';

export interface SubscriptionServerOptions {
  readonly schema: GraphQLSchema;
  /** Server-level log lines; each connection logs with a `connectionId`. */
  readonly logger: Logger;
  /** The viewer a bearer token stands for; undefined for an unknown or revoked token. */
  readonly authenticate: (token: string) => Promise<Viewer | undefined>;
  /** Of these token ids, the ones still valid (not revoked): one query for every open connection. */
  readonly validTokenIds: (ids: readonly number[]) => Promise<ReadonlySet<number>>;
  readonly dataSource: DataSource;
  readonly realtime: RealtimeServices;
  /** Show internal error messages to clients (local development only). @default false */
  readonly development?: boolean;
  /** The same depth and cost limits as over HTTP (limits.ts). */
  readonly limits?: QueryLimits;
  /** Time a socket has to send `connection_init`, else it is closed with 4408. @default 3000 (ms) */
  readonly connectionInitTimeoutMs?: number;
  /** How often the tokens of open connections are checked again; revoked ones are closed with 4403. @default 5000 (ms) */
  readonly tokenRecheckMs?: number;
  /** Largest message a client may send; larger ones close the socket with 1009. @default 1048576 (1 MB) */
  readonly maxPayloadBytes?: number;
  /** Interval of WebSocket pings; a client that misses a pong is dropped. @default 12000 (ms) */
  readonly keepAliveMs?: number;
}

/** GraphQL over WebSocket on `/graphql` (protocol `graphql-transport-ws`, graphql-ws). */
export interface SubscriptionServer {
  /** Takes over an HTTP upgrade request for `/graphql`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open connections. */
  readonly connections: number;
  /**
   * Refuses new connections, closes every open one with 1001 ("going away"), and resolves once all
   * are closed; sockets that have not finished the closing handshake after `timeoutMs` are cut.
   */
  close(timeoutMs: number): Promise<void>;
}

/** 1001 Going Away (RFC 6455): the server is shutting down; reconnect elsewhere and resume with `after`. */
export const GOING_AWAY = 1001;

/** What a client sends in `connection_init`: `{ "authorization": "Bearer <token>" }` (or the bare token). */
interface ConnectionParams {
  readonly authorization?: unknown;
  readonly Authorization?: unknown;
  readonly [key: string]: unknown;
}

/** What this server keeps on graphql-ws's per-connection `ctx.extra`. */
interface ConnectionExtra extends Record<PropertyKey, unknown> {
  /** Set once `connection_init` carried a valid token. */
  connection: Connection;
}

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly log: Logger;
  viewer?: Viewer;
}

/** The token of `connection_init`: "Bearer <token>" or the token alone. */
function bearerToken(params: ConnectionParams | undefined): string | undefined {
  const raw = params?.authorization ?? params?.Authorization;
  if (typeof raw !== 'string') return undefined;
  const match = /^(?:Bearer\s+)?(\S+)\s*$/i.exec(raw.trim());
  return match?.[1];
}

/**
 * The graphql-ws server for subscriptions (and queries) over WebSocket, sharing the HTTP server's
 * port and path. Protocol errors close the socket with graphql-ws's own codes: 4400 bad message,
 * 4401 subscribe before `connection_ack`, 4403 missing, unknown or revoked token, 4406 wrong
 * subprotocol, 4408 no `connection_init` in time, 4409 duplicate operation id, 4429 second
 * `connection_init`. Ours: 4008 slow consumer (realtime.ts), 1001 shutdown.
 */
export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const {
    schema, logger, authenticate, validTokenIds, dataSource, realtime, development = false, limits = {},
    connectionInitTimeoutMs = 3000, tokenRecheckMs = 5000, maxPayloadBytes = 1024 * 1024, keepAliveMs = 12_000,
  } = options;
  const log = logger.child({ component: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes });
  const connections = new Map<WebSocket, Connection>();
  let closing = false;

  wss.on('connection', (socket) => {
    const id = randomUUID();
    connections.set(socket, { id, socket, log: log.child({ connectionId: id }) });
    socket.once('close', () => connections.delete(socket));
  });

  /** Client errors keep their message (minus transport details); anything else is logged and masked. */
  const format = (error: GraphQLError, connection: Connection | undefined): GraphQLFormattedError => {
    const formatted = error.toJSON();
    if (!isClientError(formatted)) (connection?.log ?? log).error({ err: error.originalError ?? error, path: error.path }, 'graphql operation failed');
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    const clean = { ...formatted, ...(formatted.extensions ? { extensions } : {}) };
    return development ? clean : maskInternalError(clean);
  };
  const withCode = (error: GraphQLError, code: ErrorCode) =>
    new GraphQLError(error.message, { nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, extensions: { ...error.extensions, code } });

  const server = useServer<ConnectionParams, ConnectionExtra>(
    {
      schema,
      isProd: !development,
      connectionInitWaitTimeout: connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const connection = connections.get(ctx.extra.socket);
        const token = bearerToken(ctx.connectionParams);
        if (!connection || !token) return false;
        try {
          const viewer = await authenticate(token);
          if (!viewer) return false;
          connection.viewer = viewer;
          ctx.extra.connection = connection;
          return true;
        } catch (error) {
          connection.log.error({ err: error }, 'could not check the token of a WebSocket connection');
          ctx.extra.socket.close(CloseCode.InternalServerError, 'could not check the token: retry');
          return false;
        }
      },
      onSubscribe: (_ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? withCode(error, ErrorCode.GRAPHQL_PARSE_FAILED) : new GraphQLError('the query could not be parsed', { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } })];
        }
        const invalid = validate(schema, document);
        if (invalid.length > 0) return invalid.map((error) => withCode(error, ErrorCode.GRAPHQL_VALIDATION_FAILED));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [new GraphQLError('operationName names no operation of the document, or it has several and no name was given', { extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE } })];
        }
        const variables = payload.variables ?? undefined;
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 10 });
        if (coerced.errors) return coerced.errors.map((error) => withCode(error, ErrorCode.BAD_USER_INPUT));
        try {
          enforceLimits(schema, document, operation, variables, limits);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          // Never thrown at graphql-ws: it would close the socket and write to the console.
          log.error({ err: error }, 'measuring an operation failed');
          return [new GraphQLError(development ? String(error) : 'Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })];
        }
        return { schema, document, operationName: payload.operationName ?? null, variableValues: variables ?? null };
      },
      context: (ctx, id) => {
        // Operations run only once the connection was acknowledged, i.e. authenticated.
        const { connection, socket } = ctx.extra as { connection: Connection & { viewer: Viewer }; socket: WebSocket };
        return createContext(connection.log.child({ operationId: id }), connection.viewer, dataSource, {
          services: realtime,
          connection: {
            get bufferedAmount() {
              return socket.bufferedAmount;
            },
            close: (code, reason) => socket.close(code, reason),
          },
        });
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        if (!result.errors) return;
        const connection = connections.get(ctx.extra.socket);
        return { ...result, errors: result.errors.map((error) => format(error, connection)) };
      },
      onError: (ctx, _id, _payload, errors) => {
        const connection = connections.get(ctx.extra.socket);
        return errors.map((error) => format(error, connection));
      },
    },
    wss,
    keepAliveMs,
  );

  // Revoking a token ends its connections, not only its next request.
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking) return;
    const ids = new Set<number>();
    for (const { viewer } of connections.values()) if (viewer?.tokenId != null) ids.add(viewer.tokenId);
    if (ids.size === 0) return;
    rechecking = true;
    validTokenIds([...ids])
      .then((valid) => {
        for (const { socket, viewer, log: connectionLog } of connections.values()) {
          if (viewer?.tokenId == null || valid.has(viewer.tokenId)) continue;
          connectionLog.info({ tokenId: viewer.tokenId }, 'token revoked: closing its WebSocket connection');
          socket.close(CloseCode.Forbidden, 'Forbidden: token revoked');
        }
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not re-check the tokens of open WebSocket connections'))
      .finally(() => (rechecking = false));
  }, tokenRecheckMs);
  recheck.unref();

  return {
    handleUpgrade(req, socket, head) {
      if (closing) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit('connection', ws, req);
        // A client breaking the WebSocket protocol (oversized or malformed frame): ws has already
        // closed the socket with the right code (1009, 1002, 1007). graphql-ws's own listener would
        // report it on the console; it goes to our log instead.
        ws.removeAllListeners('error');
        ws.on('error', (error) => (connections.get(ws)?.log ?? log).info({ err: error }, 'WebSocket protocol error from a client'));
      });
    },
    get connections() {
      return connections.size;
    },
    async close(timeoutMs) {
      closing = true;
      clearInterval(recheck);
      const sockets = [...connections.keys()];
      const closed = Promise.all(sockets.map((socket) => new Promise<void>((resolve) => {
        if (socket.readyState === socket.CLOSED) return resolve();
        socket.once('close', () => resolve());
      })));
      for (const socket of sockets) socket.close(GOING_AWAY, 'going away: the server is shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
      if ((await Promise.race([closed, timeout])) === 'timeout') for (const socket of connections.keys()) socket.terminate();
      clearTimeout(timer);
      await closed;
      await server.dispose();
    },
  };
}

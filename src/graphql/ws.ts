import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import {
  GraphQLError,
  Kind,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import {
  CloseCode,
  MessageType,
  handleProtocols,
  makeServer,
  parseMessage,
  type Context,
  type Message,
  type SubscribeMessage,
} from 'graphql-ws';
import type { DataSource } from 'typeorm';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { TokenExpiredError, tokenDigest } from '../domains/access/token.service.js';
import { CredentialRefused } from '../domains/access/jwt-verifier.js';
import { viewerKey, viewerLabel, type Viewer } from '../api/viewer.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { RepeatedLog, type Logger } from '../log.js';
import type { GraphQLMetrics, RealtimeMetrics } from '../metrics/metrics.js';
import type { LoggedEvent } from '../events/logged-event.js';
import { FanoutGroup, FanoutHub, FanoutMember, nextFrame, type FanoutCounters, type FanoutSocket } from '../realtime/fanout-hub.js';
import { EVENT_SUBSCRIPTIONS } from '../realtime/event-type-fields.subscription.js';
import {
  SLOW_CONSUMER_CLOSE_CODE,
  SLOW_CONSUMER_REASON,
  openSubscriptionStream,
  withRealtime,
  type RealtimeServices,
  type SubscriptionConnection,
} from '../realtime/realtime.js';
import { SubscriptionPlanner, type PlannedReplay, type PreparedOperation } from '../realtime/subscription-planner.js';
import { ReplayRenders } from '../realtime/replay-renders.js';
import { createContext } from '../api/context.js';
import {
  ErrorCode,
  causedByUnavailableDatabase,
  isClientError,
  maskInternalError,
  unavailableError,
  withKnownCode,
} from '../api/errors.js';
import { MAX_QUERY_TOKENS, enforceLimits, type QueryLimits } from '../api/limits.js';
import type { ViewerBudget } from './cost-budget.js';
import { TurnAdmission } from './turn-admission.js';

export interface SubscriptionServerOptions {
  readonly schema: GraphQLSchema;
  /** Server-level log lines; each connection logs with a `connectionId`. */
  readonly logger: Logger;
  /** The viewer a bearer token stands for; undefined for an unknown or revoked token. */
  readonly authenticate: (token: string) => Promise<Viewer | undefined>;
  /**
   * Of these token ids, the ones still valid (not revoked, not expired), each with the digest of its
   * current secret ({@link tokenDigest}; another after a rotation): one query for every open connection.
   */
  readonly validTokenIds: (ids: readonly number[]) => Promise<ReadonlyMap<number, string>>;
  /**
   * The tokens revoked or rotated at or after `since` (ms since the epoch), each with the digest of
   * its current secret, or null when it is no longer usable. Without it, every recheck asks
   * {@link validTokenIds} about every open connection's token.
   */
  readonly changedTokens?: (since: number) => Promise<ReadonlyMap<number, string | null>>;
  readonly dataSource: DataSource;
  /** `feed` is the event feed: this server listens to it once, through its fan-out hub. */
  readonly realtime: RealtimeServices;
  /** Show internal error messages to clients (local development only). @default false */
  readonly development?: boolean;
  /** The same depth and cost limits as over HTTP (limits.ts). */
  readonly limits?: QueryLimits;
  /** The same per-token budget as over HTTP: each `subscribe` is charged its cost once, when it comes. */
  readonly budget?: ViewerBudget;
  /** Time a socket has to send `connection_init`, else it is closed with 4408. @default 3000 (ms) */
  readonly connectionInitTimeoutMs?: number;
  /** How often the tokens of open connections are checked again; revoked, expired and rotated ones are closed with 4403. @default 5000 (ms) */
  readonly tokenRecheckMs?: number;
  /** Largest message a client may send; larger ones close the socket with 1009. @default 1048576 (1 MB) */
  readonly maxPayloadBytes?: number;
  /** Interval of WebSocket pings; a client that has not answered one within the interval is dropped (within two). @default 30000 (ms) */
  readonly keepAliveMs?: number;
  /** Operations one socket may run at once; a `subscribe` over it gets an `error` message (TOO_MANY_SUBSCRIPTIONS). @default 100 */
  readonly maxSubscriptionsPerSocket?: number;
  /** Sockets one token may have open here; one more is closed at `connection_init` with 4013. @default 500 */
  readonly maxSocketsPerToken?: number;
  /** Errors by code, query costs, closes by code and fan-out lag; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: { readonly graphql: GraphQLMetrics; readonly realtime: RealtimeMetrics } | undefined;
}

/** GraphQL over WebSocket on `/graphql` (protocol `graphql-transport-ws`, graphql-ws). */
export interface SubscriptionServer {
  /** Takes over an HTTP upgrade request for `/graphql`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open connections. */
  readonly connections: number;
  /** Subscriptions listening for events right now (shared or not). */
  readonly subscriptions: number;
  /** Groups of subscriptions served together (same document, variables and scope). */
  readonly groups: number;
  /** The fan-out hub's running totals: candidate groups examined and executions (tests, bench). */
  readonly fanoutCounters: Readonly<FanoutCounters>;
  /** The records of `event` the shared subscriptions here will load, or undefined (FanoutHub.wantsRecords). */
  wantsRecords(event: LoggedEvent): ReadonlySet<string> | undefined;
  /** Replayed (and later live) events of resumed subscriptions rendered, and payloads taken from another resume's render (tests, bench). */
  readonly replayCounters: Readonly<{ rendered: number; shared: number }>;
  /**
   * Subscriptions open right now by root field (one walk over the connections; for the metrics at
   * scrape time). Counted only with `metrics`.
   */
  subscriptionsByField(): ReadonlyMap<string, number>;
  /**
   * Refuses new connections, closes every open one with 1001 ("going away"), and resolves once all
   * are closed; sockets that have not finished the closing handshake after `timeoutMs` are cut.
   */
  close(timeoutMs: number): Promise<void>;
}

/** Messages one socket may have waiting for their turn before its reading pauses (ws.ts's admission). */
const MAX_QUEUED_MESSAGES = 32;

/** An 'error' listener for a raw socket whose handshake waits for its turn (the socket is then destroyed anyway). */
function ignoreSocketError(): void {}

/** 1001 Going Away (RFC 6455): the server is shutting down; reconnect elsewhere and resume with `after`. */
export const GOING_AWAY = 1001;

/**
 * The token already has `maxSocketsPerToken` sockets open on this instance. 4000 + RFC 6455's 1013
 * "Try Again Later" (the limit is per instance: later, or another instance, may take it), in the
 * private range like 4008, outside graphql-ws's own codes (its 4429 means a second
 * `connection_init`, and 4403 a bad token: neither is this). The graphql-ws client retries it with
 * its backoff.
 */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 4013;

/**
 * Root subscription fields served by shared groups: their streams are stateless, and their resolvers
 * give each event back as it is (a planned group's events skip them: subscription-planner.ts;
 * test/subscriptions-fanout.test.ts runs every one). `occupancyChanged` keeps a count per
 * subscription and is served one by one.
 */
export const SHARED_FIELDS: ReadonlySet<string> = new Set(['events', ...Object.values(EVENT_SUBSCRIPTIONS).map((spec) => spec.field)]);

/** Parsed documents remembered (by query), and checked operations (by query, operation name and variables). */
const PREPARED_CAPACITY = 1000;
/** Longer queries are not remembered (the cache holds at most capacity x this many characters). */
const PREPARED_MAX_QUERY = 10_000;
/**
 * Bytes a socket may have waiting for the kernel while {@link Connection.send} still resolves at
 * once (a replay goes on writing); above it, a send resolves once its message has left.
 */
const SEND_AHEAD_BYTES = 64 * 1024;
/** Every this many token rechecks, one asks about every token held open (the others: what changed lately). */
const FULL_RECHECK_EVERY = 12;
/** How far before the last recheck a revocation or rotation is looked for: the clocks of the processes that write them may differ. */
const TOKEN_CLOCK_MARGIN_MS = 60_000;

/**
 * The keep-alive pings of one interval are spread over ticks this far apart: each ping is a write
 * (a system call) of its own, and 10,000 sockets over 50 ticks of a 12 s interval made a tick of
 * 200 writes, several ms during which no event was delivered (the delivery p99 of bench/fanout.ts).
 */
const KEEP_ALIVE_TICK_MS = 25;

/** What a client sends in `connection_init`: `{ "authorization": "Bearer <token>" }` (or the bare token). */
interface ConnectionParams {
  readonly authorization?: unknown;
  readonly Authorization?: unknown;
  readonly [key: string]: unknown;
}

type Ctx = Context<ConnectionParams, Connection>;

/**
 * One WebSocket, the graphql-ws `WebSocket` adapter for it (graphql-ws calls `send`, `close` and
 * `onMessage` as methods) and the fan-out hub's socket (`write` puts frames on the TCP socket ws
 * runs on): one object per connection, no closures.
 */
class Connection implements FanoutSocket {
  viewer: Viewer | undefined;
  /** graphql-ws's state of this connection; set by `onConnect`. */
  ctx: Ctx | undefined;
  /** graphql-ws's message handler. */
  handle: ((data: string | Message) => Promise<void>) | undefined;
  /** graphql-ws's close handler. */
  closed: ((code: number, reason: string) => Promise<void>) | undefined;
  /** Answered the last ping. */
  alive = true;
  /** When the last ping was sent (ms since the epoch). */
  pingedAt = 0;
  /** The key this socket counts under in the sockets-per-token count, once acknowledged. */
  tokenKey: string | undefined;
  /** Operation id -> root field of the subscriptions it started (only with metrics); stale ids are swept at scrape time. */
  fields: Map<string, string> | undefined;
  /**
   * Subscribes admitted under the per-socket limit whose cost is still being charged (the charge may
   * wait for Redis): they count toward the limit, so a burst cannot slip past it meanwhile.
   */
  charging = 0;
  /** The digest of the API token the socket was opened with: once the token's differs, it was rotated. */
  tokenDigest: string | undefined;
  /** Closes the socket with 4403 when its credential expires (armed at `connection_ack`, cleared on close). */
  expiry: NodeJS.Timeout | undefined;
  /** When the socket opened (ms since the epoch), for the close line. */
  readonly openedAt = Date.now();
  /** `subscribe` messages admitted (subscriptions, and queries over the socket), for the close line. */
  served = 0;
  /** Messages received and waiting for their turn (turn-admission.ts); reading pauses at {@link MAX_QUEUED_MESSAGES}. */
  queuedMessages = 0;
  private logger: Logger | undefined;

  constructor(
    readonly socket: WebSocket,
    /** The upgraded TCP socket under `socket`. ws writes whole frames to it, and so does the hub. */
    private readonly tcp: Duplex,
    readonly id: string,
    private readonly parentLog: Logger,
  ) {}

  get readyState(): number {
    return this.socket.readyState;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  write(frames: Buffer): void {
    this.tcp.write(frames);
  }

  /** This connection's logger (made on first use: most connections never log). */
  get log(): Logger {
    return (this.logger ??= this.parentLog.child({ connectionId: this.id }));
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  /**
   * Never rejects: a send fails only when the connection is going or gone, and then graphql-ws's
   * close handling ends the operations (rejecting would log a client's hang-up as our failure).
   *
   * Resolves at once while the socket has less than {@link SEND_AHEAD_BYTES} waiting, else once
   * this message has left (backpressure: graphql-ws asks a subscription's stream for its next event
   * only then). Waiting for every message to leave would cost each replayed event a turn of the
   * event loop. The socket is corked until the current tick's work is done, so the messages
   * written meanwhile (a replay's run of events) leave in one system call, not one each.
   */
  send(data: string): Promise<void> {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return Promise.resolve();
    this.corkForTick();
    if (socket.bufferedAmount < SEND_AHEAD_BYTES) {
      socket.send(data);
      return Promise.resolve();
    }
    return new Promise((resolve) => socket.send(data, () => resolve()));
  }

  /**
   * Whole server frames, written to the TCP socket under ws (as the fan-out hub writes them), with
   * {@link send}'s read-ahead and corking: a replayed event goes out as its shared payload's bytes
   * in a frame, without a message string and ws's framing of it for every subscription.
   */
  sendFrames(frames: Buffer): Promise<void> {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return Promise.resolve();
    this.corkForTick();
    if (socket.bufferedAmount < SEND_AHEAD_BYTES) {
      this.tcp.write(frames);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.tcp.write(frames, () => resolve()));
  }

  private corked = false;

  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.tcp.cork();
    process.nextTick(uncork, this);
  }

  /** Ends {@link corkForTick}: what was written meanwhile goes to the kernel in one write. */
  uncork(): void {
    if (!this.corked) return; // flushed before the end of the tick
    this.corked = false;
    this.tcp.uncork();
  }

  /**
   * What was sent this tick goes to the kernel now: a replay's lane calls it when it gives up its
   * place (replay-pacer.ts), so the write is spent within the replay's slice of the turn.
   */
  flush(): void {
    this.uncork();
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle as (data: string | Message) => Promise<void>;
  }
}

function uncork(connection: Connection): void {
  connection.uncork();
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
 * 4401 subscribe before `connection_ack`, 4403 missing, unknown, revoked, rotated or expired token (also
 * when it expires or is revoked while the socket is open), 4406 wrong
 * subprotocol, 4408 no `connection_init` in time, 4409 duplicate operation id, 4429 second
 * `connection_init`, 4500 internal error. Ours: 4008 slow consumer (realtime.ts), 1001 shutdown.
 *
 * Fan-out: graphql-ws handles the protocol, except the `subscribe` messages of shared fields
 * (`events` and the per-type fields, live ones): those join a group of the fan-out hub
 * (fanout-hub.ts), which executes and serialises each event once per group and writes the same
 * bytes to every socket of it; resumes of shared fields (`after`) each replay the log on their own
 * but share the rendering of each event with the resumes of the same shape and scope
 * (replay-renders.ts). Everything else — queries, `occupancyChanged`, and every operation that
 * fails to parse, validate or plan — is handed to graphql-ws, which answers it as it would have
 * anyway.
 */
export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const {
    schema,
    logger,
    authenticate,
    validTokenIds,
    changedTokens,
    dataSource,
    realtime,
    development = false,
    limits = {},
    budget,
    connectionInitTimeoutMs = 3000,
    tokenRecheckMs = 5000,
    maxPayloadBytes = 1024 * 1024,
    keepAliveMs = 30_000,
    maxSubscriptionsPerSocket = 100,
    maxSocketsPerToken = 500,
    metrics,
  } = options;
  const log = logger.child({ component: 'ws' });
  /** Lines a misbehaving crowd of clients would repeat thousands of times: once per interval, with a count. */
  const repeated = new RepeatedLog(log);
  /** Acknowledged sockets per token (`viewer.tokenId`, or "admin" for ADMIN_TOKEN) on this instance. */
  const socketsPerToken = new Map<string, number>();
  /** An unavailable database fails every operation: one warning per interval, with a count. */
  const outage = new RepeatedLog(log);
  /** Handshakes and socket messages, a few per turn of the event loop (turn-admission.ts). */
  const admission = new TurnAdmission(8, 2, (error) => log.error({ err: error }, 'setting up a WebSocket connection failed'));
  // No compression (it costs CPU and ~64 KB of zlib state per socket) and no client set of ws's own.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
    // `graphql-transport-ws` when offered, else none (graphql-ws then closes with 4406).
    handleProtocols: (protocols) => handleProtocols(protocols),
  });
  const connections = new Map<WebSocket, Connection>();
  let closing = false;

  const hub = new FanoutHub({
    feed: realtime.feed,
    maxQueued: realtime.maxQueued,
    maxBufferedBytes: realtime.maxBufferedBytes,
    slow: { code: SLOW_CONSUMER_CLOSE_CODE, reason: SLOW_CONSUMER_REASON },
    onListenerError: (error) => log.error({ err: error }, 'a subscription stream failed on an event'),
    ...(metrics ? { onFannedOut: (ms: number) => metrics.realtime.fannedOut(ms) } : {}),
  });
  const services: RealtimeServices = { ...realtime, feed: hub };

  /** Client errors keep their message (minus transport details); anything else is logged and masked. */
  const format = (error: GraphQLError, errorLog: Logger): GraphQLFormattedError => {
    const formatted = error.toJSON();
    if (!isClientError(formatted) && causedByUnavailableDatabase(error)) {
      outage.warn(
        'database-unavailable',
        { err: error.originalError ?? error, path: error.path },
        'graphql over WebSocket: the database is unavailable',
      );
      return unavailableError(formatted);
    }
    if (!isClientError(formatted)) errorLog.error({ err: error.originalError ?? error, path: error.path }, 'graphql operation failed');
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    const clean = { ...formatted, ...(formatted.extensions ? { extensions } : {}) };
    const answered = development ? withKnownCode(clean, error) : maskInternalError(clean, error);
    metrics?.graphql.error(answered.extensions?.['code']);
    return answered;
  };
  const formatResult = <R extends { readonly errors?: readonly GraphQLError[] | undefined }>(result: R, errorLog: Logger) => {
    const { errors, ...rest } = result;
    return errors ? { ...rest, errors: errors.map((error) => format(error, errorLog)) } : rest;
  };
  const withCode = (error: GraphQLError, code: ErrorCode) =>
    new GraphQLError(error.message, {
      nodes: error.nodes ?? null,
      source: error.source ?? null,
      positions: error.positions ?? null,
      extensions: { ...error.extensions, code },
    });

  // Parsing and validation once per query text, so that subscriptions differing only in their
  // variables (a member app's own ids) share one document; the operation, the variables' coercion
  // and the limits once per query, operation name and variables.
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  const preparedCache = new Map<string, PreparedOperation | readonly GraphQLError[]>();
  /** The measured cost of each prepared operation, what a `subscribe` of it is charged. */
  const costs = new WeakMap<PreparedOperation, number>();
  const prepare = (payload: SubscribeMessage['payload']): PreparedOperation | readonly GraphQLError[] => {
    const variables = payload.variables ?? null;
    const key = `${payload.operationName ?? ''}\u0000${JSON.stringify(variables)}\u0000${payload.query}`;
    const known = preparedCache.get(key);
    if (known) return known;
    const prepared = prepareUncached(payload.query, payload.operationName ?? null, variables);
    if (payload.query.length <= PREPARED_MAX_QUERY) remember(preparedCache, key, prepared);
    return prepared;
  };
  /** The query parsed and validated: the cached document when the text was seen before. */
  const documentOf = (query: string): DocumentNode | readonly GraphQLError[] => {
    const known = documents.get(query);
    if (known) return known;
    let document: DocumentNode | readonly GraphQLError[];
    try {
      document = parse(query, { maxTokens: MAX_QUERY_TOKENS });
      const invalid = validate(schema, document);
      if (invalid.length > 0) document = invalid.map((error) => withCode(error, ErrorCode.GRAPHQL_VALIDATION_FAILED));
    } catch (error) {
      document = [
        error instanceof GraphQLError
          ? withCode(error, ErrorCode.GRAPHQL_PARSE_FAILED)
          : new GraphQLError('the query could not be parsed', { extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } }),
      ];
    }
    if (query.length <= PREPARED_MAX_QUERY) remember(documents, query, document);
    return document;
  };
  const prepareUncached = (
    query: string,
    operationName: string | null,
    variables: Record<string, unknown> | null,
  ): PreparedOperation | readonly GraphQLError[] => {
    const document = documentOf(query);
    if (Array.isArray(document)) return document as readonly GraphQLError[];
    const operation = getOperationAST(document as DocumentNode, operationName);
    if (!operation) {
      return [
        new GraphQLError('operationName names no operation of the document, or it has several and no name was given', {
          extensions: { code: ErrorCode.OPERATION_RESOLUTION_FAILURE },
        }),
      ];
    }
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 10 });
    if (coerced.errors) return coerced.errors.map((error) => withCode(error, ErrorCode.BAD_USER_INPUT));
    let cost: number;
    try {
      cost = enforceLimits(schema, document as DocumentNode, operation, variables ?? undefined, limits).cost;
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      // Never thrown at graphql-ws: it would close the socket and write to the console.
      log.error({ err: error }, 'measuring an operation failed');
      return [
        new GraphQLError(development ? String(error) : 'Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }),
      ];
    }
    const prepared: PreparedOperation = { query, document: document as DocumentNode, operation, operationName, variableValues: variables };
    costs.set(prepared, cost);
    return prepared;
  };

  const groupLog = log.child({ component: 'fanout' });
  const planner = new SubscriptionPlanner({
    schema,
    hub,
    sharedFields: SHARED_FIELDS,
    // One logger for every group: a child logger per group would cost each distinct subscription more than its selector.
    context: (viewer, plan) => withRealtime(createContext(groupLog, viewer, dataSource), { services, connection: NO_CONNECTION, plan }),
    formatResult: (result, context) => formatResult(result, context.log),
    formatErrors: (errors, context) => errors.map((error) => format(error, context.log)),
  });

  const server = makeServer<ConnectionParams, Connection>({
    schema,
    connectionInitWaitTimeout: connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const connection = ctx.extra;
      const token = bearerToken(ctx.connectionParams);
      if (!token) return false;
      try {
        let viewer: Viewer | undefined;
        try {
          viewer = await authenticate(token);
        } catch (error) {
          if (!(error instanceof CredentialRefused)) throw error;
          // The reason, within a close frame's 123 bytes.
          connection.socket.close(CloseCode.Forbidden, `Forbidden: ${error.message}`.slice(0, 120));
          return false;
        }
        if (!viewer) return false;
        if (connection.socket.readyState !== connection.socket.OPEN) return false;
        const tokenKey = viewerKey(viewer);
        const open = socketsPerToken.get(tokenKey) ?? 0;
        if (open >= maxSocketsPerToken) {
          repeated.info('too-many-sockets', { maxSocketsPerToken }, "refused WebSockets over their token's limit (4013)");
          connection.socket.close(
            TOO_MANY_SOCKETS_CLOSE_CODE,
            `too many sockets for this token: at most ${maxSocketsPerToken} per instance`,
          );
          return false;
        }
        socketsPerToken.set(tokenKey, open + 1);
        connection.tokenKey = tokenKey;
        connection.viewer = viewer;
        connection.ctx = ctx;
        if (viewer.tokenId !== null) connection.tokenDigest = tokenDigest(token);
        if (viewer.expiresAt) armExpiry(connection, viewer.expiresAt.getTime());
        // The token's id, never the token.
        connection.log.info({ tokenId: viewerLabel(viewer) }, 'websocket opened');
        return true;
      } catch (error) {
        if (error instanceof TokenExpiredError) {
          // Refused like an unknown token (4403), with the reason.
          connection.socket.close(CloseCode.Forbidden, EXPIRED_REASON);
          return false;
        }
        // An outage fails every connection of a reconnect storm the same way: once per interval.
        if (isDatabaseUnavailable(error))
          outage.warn(
            'token-check',
            { err: error },
            'could not check the tokens of new WebSocket connections: the database is unavailable (closed with 4500)',
          );
        else connection.log.error({ err: error }, 'could not check the token of a WebSocket connection');
        connection.socket.close(CloseCode.InternalServerError, 'could not check the token: retry');
        return false;
      }
    },
    onSubscribe: (_ctx, _id, payload) => {
      const prepared = prepare(payload);
      if (Array.isArray(prepared)) return prepared as readonly GraphQLError[];
      const { document, operationName, variableValues } = prepared as PreparedOperation;
      // A fresh object: graphql-ws adds the root value and context to it.
      return { schema, document, operationName, variableValues } satisfies ExecutionArgs;
    },
    context: (ctx, id) => {
      // Operations run only once the connection was acknowledged, i.e. authenticated.
      const connection = ctx.extra;
      const { socket } = connection;
      return withRealtime(createContext(connection.log.child({ operationId: id }), connection.viewer!, dataSource), {
        services,
        connection: {
          get bufferedAmount() {
            return socket.bufferedAmount;
          },
          close: (code, reason) => socket.close(code, reason),
          flush: () => connection.flush(),
        },
      });
    },
    // graphql-ws types the result as graphql-js's ExecutionResult, whose optional fields allow
    // `undefined`; with errors formatted it is the FormattedExecutionResult graphql-ws sends.
    onNext: (ctx, _id, _payload, _args, result) =>
      result.errors ? (formatResult(result, ctx.extra.log) as FormattedExecutionResult) : undefined,
    onError: (ctx, _id, _payload, errors) => errors.map((error) => format(error, ctx.extra.log)),
  });

  /**
   * A `subscribe` of a shared field joins its group; anything else, or anything that does not
   * prepare and plan cleanly, goes to graphql-ws.
   */
  const subscribeShared = async (connection: Connection, message: SubscribeMessage): Promise<void> => {
    const { ctx, viewer } = connection;
    const prepared = prepare(message.payload);
    if (!ctx || !viewer || Array.isArray(prepared) || !planner.shareable((prepared as PreparedOperation).operation))
      return connection.handle!(message);
    const member = new FanoutMember(connection, message.id, ctx);
    // graphql-ws sees the id as taken (4409 on reuse) and ends the member on `complete` or close.
    (ctx.subscriptions as Record<string, unknown>)[message.id] = member;
    // A group found may end (its last member leaving) before this one joins: then plan again.
    for (let attempt = 0; attempt < 3; attempt++) {
      let group;
      try {
        group = await planner.group(viewer, prepared as PreparedOperation);
      } catch (error) {
        connection.log.error({ err: error }, 'planning a shared subscription failed; serving it alone');
      }
      if (member.ended) return;
      if (!group) break;
      if (!(group instanceof FanoutGroup)) return serveReplay(connection, ctx, message.id, member, group);
      if (group.join(member)) return;
    }
    // Not shared after all (an error to report): graphql-ws serves it.
    if ((ctx.subscriptions as Record<string, unknown>)[message.id] === member) delete ctx.subscriptions[message.id];
    member.end();
    return connection.handle!(message);
  };

  /** The rendered payloads of replayed events, shared by the resumes of one shape and scope. */
  const replayRenders = new ReplayRenders();

  /**
   * A resumed subscription (`after`) of a shared field: its own stream (the log from its position,
   * paced, then live events: realtime.ts), whose events are rendered once per replay group
   * (replay-renders.ts) instead of executed and serialised by graphql-ws for each subscription.
   * It answers as graphql-ws would: `next` messages, an `error` when the stream fails, `complete`
   * if it ends on its own; graphql-ws's `complete` handling and connection cleanup end it (the
   * stream stands in `ctx.subscriptions[id]`, and its `return()` ends it).
   */
  const serveReplay = (connection: Connection, ctx: Ctx, id: string, member: FanoutMember, plan: PlannedReplay): void => {
    const { socket } = connection;
    const stream = openSubscriptionStream<Buffer>(
      services,
      {
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        close: (code, reason) => socket.close(code, reason),
        flush: () => connection.flush(),
      },
      plan.selector,
      plan.after,
      (event) => {
        const payload = replayRenders.payload(plan.key, plan, event);
        return payload instanceof Promise ? payload.then((bytes) => bytes ?? undefined) : (payload ?? undefined);
      },
    );
    const registered = () => (ctx.subscriptions as Record<string, unknown>)[id];
    if (registered() !== member) {
      void stream.return!();
      return;
    }
    (ctx.subscriptions as Record<string, unknown>)[id] = stream;
    const idHead = Buffer.from(`{"id":${JSON.stringify(id)}`);
    const head = `{"id":${JSON.stringify(id)},"type":`;
    void (async () => {
      try {
        for (let result = await stream.next(); !result.done; result = await stream.next())
          await connection.sendFrames(nextFrame(idHead, result.value));
      } catch (error) {
        // As graphql-ws answers a source stream that fails: an `error` message, formatted and masked.
        if (registered() !== stream) return;
        delete ctx.subscriptions[id];
        await connection.send(`${head}"error","payload":${plan.fail(error)}}`);
        return;
      }
      if (registered() !== stream) return; // completed by the client, or the socket closed
      delete ctx.subscriptions[id];
      await connection.send(`${head}"complete"}`);
    })();
  };

  const receive = async (connection: Connection, data: string): Promise<void> => {
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      return connection.handle!(data); // graphql-ws closes it with 4400
    }
    const { ctx } = connection;
    if (message.type === MessageType.Subscribe && ctx?.acknowledged && !(message.id in ctx.subscriptions)) {
      if (operationCount(ctx.subscriptions) + connection.charging >= maxSubscriptionsPerSocket)
        return refuseSubscription(connection, message.id);
      // Charged before anything runs; over budget, that operation gets an `error` (the socket stays open).
      const prepared = prepare(message.payload);
      const cost = Array.isArray(prepared) ? undefined : costs.get(prepared as PreparedOperation);
      if (metrics && cost !== undefined) {
        metrics.graphql.measured(cost);
        const field = subscriptionField(prepared as PreparedOperation);
        const fields = (connection.fields ??= new Map());
        // Ids completed since the last scrape are swept here too, so a busy socket's map stays small.
        if (fields.size >= 2 * maxSubscriptionsPerSocket) for (const id of fields.keys()) if (!(id in ctx.subscriptions)) fields.delete(id);
        if (field !== undefined) fields.set(message.id, field);
      }
      let refused: GraphQLError | undefined;
      if (cost !== undefined && connection.viewer && budget) {
        connection.charging += 1;
        try {
          refused = await budget.charge(connection.viewer, cost);
        } finally {
          connection.charging -= 1;
        }
      }
      if (refused)
        return connection.send(JSON.stringify({ id: message.id, type: MessageType.Error, payload: [format(refused, connection.log)] }));
      // The same id may have been subscribed while the charge was out: graphql-ws then closes with 4409.
      if (message.id in ctx.subscriptions) return connection.handle!(message);
      connection.served += 1;
      return subscribeShared(connection, message);
    }
    return connection.handle!(message);
  };

  /**
   * One `subscribe` over the socket's limit: an `error` message for its id (graphql-ws's answer to
   * an operation that cannot run), so the client's other operations, and the socket, go on.
   */
  const refuseSubscription = (connection: Connection, id: string): Promise<void> => {
    metrics?.graphql.error(ErrorCode.TOO_MANY_SUBSCRIPTIONS);
    repeated.info(
      'too-many-subscriptions',
      { maxSubscriptionsPerSocket },
      "refused subscriptions over their socket's limit (TOO_MANY_SUBSCRIPTIONS)",
    );
    const error = {
      message: `too many operations on this socket: at most ${maxSubscriptionsPerSocket} at once; complete one first, or open another socket`,
      extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS },
    } satisfies GraphQLFormattedError;
    return connection.send(JSON.stringify({ id, type: MessageType.Error, payload: [error] }));
  };

  // Shared listeners (`this` is the socket): nothing is allocated per socket for them.
  function onSocketMessage(this: WebSocket, data: RawData): void {
    const connection = connections.get(this);
    if (!connection?.handle) return;
    // Paced with the handshakes (turn-admission.ts), in the order the messages came, before them.
    // A socket with MAX_QUEUED_MESSAGES waiting is read no further until half of them have run, so
    // a client flooding small frames holds its own socket back, not the queue everyone shares.
    if (++connection.queuedMessages === MAX_QUEUED_MESSAGES) this.pause();
    admission.run(() => {
      if (--connection.queuedMessages === MAX_QUEUED_MESSAGES / 2 && connection.socket.isPaused) connection.socket.resume();
      if (!connection.handle || connection.socket.readyState !== connection.socket.OPEN) return false;
      receive(connection, String(data)).catch((error: unknown) => {
        connection.log.error({ err: error }, 'handling a WebSocket message failed');
        connection.socket.close(CloseCode.InternalServerError, development ? String(error).slice(0, 120) : 'Internal server error');
      });
      return true;
    }, true);
  }
  function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
    const connection = connections.get(this);
    connections.delete(this);
    metrics?.realtime.socketClosed(code);
    if (connection?.expiry) {
      clearTimeout(connection.expiry);
      connection.expiry = undefined;
    }
    if (connection?.tokenKey !== undefined) {
      const left = (socketsPerToken.get(connection.tokenKey) ?? 1) - 1;
      if (left > 0) socketsPerToken.set(connection.tokenKey, left);
      else socketsPerToken.delete(connection.tokenKey);
      connection.tokenKey = undefined;
    }
    if (connection?.viewer) {
      connection.log.info(
        { tokenId: viewerLabel(connection.viewer), code, durationMs: Date.now() - connection.openedAt, subscriptions: connection.served },
        'websocket closed',
      );
    } else {
      // Never authenticated (no or a bad token, no connection_init in time, a scanner): a crowd of
      // them would repeat this line by the thousand.
      repeated.info(
        `closed-unauthenticated:${KNOWN_CLOSE_CODES.has(code) ? code : 'other'}`,
        { code },
        'WebSockets closed before they authenticated',
      );
    }
    void connection?.closed?.(code, String(reason));
  }
  function onSocketPong(this: WebSocket): void {
    const connection = connections.get(this);
    if (connection) connection.alive = true;
  }
  function onSocketError(this: WebSocket, error: Error): void {
    // A client breaking the WebSocket protocol (oversized or malformed frame): ws has already
    // closed the socket with the right code (1009, 1002, 1007). The client's fault: no stack.
    const code = (error as { code?: unknown }).code;
    repeated.info(
      `protocol-error:${typeof code === 'string' ? code : 'other'}`,
      { code, message: error.message },
      'WebSocket protocol errors from clients',
    );
  }

  const open = (socket: WebSocket, tcp: Duplex) => {
    const connection = new Connection(socket, tcp, randomUUID(), log);
    connections.set(socket, connection);
    socket.on('message', onSocketMessage);
    socket.once('close', onSocketClose);
    socket.on('pong', onSocketPong);
    socket.on('error', onSocketError);
    connection.closed = server.opened(connection, connection);
  };

  // Keep-alive: every socket is pinged once per interval, a share of them on each of
  // `steps` ticks (KEEP_ALIVE_TICK_MS apart), so that pinging (and reading the pongs of) thousands of sockets never
  // holds up a fan-out. One that has not answered a ping sent at least an interval ago is dropped
  // (between one and two intervals after that ping). One timer for all, not one per socket.
  const steps = Math.max(1, Math.round(keepAliveMs / KEEP_ALIVE_TICK_MS));
  let cycle: Connection[] = [];
  let cursor = 0;
  let tick = 0;
  const pingSome = (): void => {
    if (tick === 0) {
      cycle = [...connections.values()];
      cursor = 0;
    }
    tick = (tick + 1) % steps;
    const end = tick === 0 ? cycle.length : Math.min(cycle.length, cursor + Math.ceil(cycle.length / steps));
    const now = Date.now();
    for (; cursor < end; cursor++) {
      const connection = cycle[cursor]!;
      const { socket } = connection;
      if (socket.readyState !== socket.OPEN) continue;
      if (!connection.alive) {
        if (now - connection.pingedAt >= keepAliveMs) socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.pingedAt = now;
      socket.ping();
    }
    if (tick === 0) cycle = [];
  };
  // The pings are sent from the check phase (setImmediate), after the fan-out of the batches
  // committed in the previous one: from the timer itself they went out first, and a tick's writes
  // delayed the delivery of an event acknowledged just before it (bench/fanout.ts --members).
  const keepAlive = setInterval(() => setImmediate(pingSome), keepAliveMs / steps);
  keepAlive.unref();

  /**
   * Closes `connection` with 4403 at `expiresAt`. One timer per socket whose credential expires,
   * unref'd (it never keeps the process alive) and cleared on close; a date beyond what a timer can
   * hold (about 24.8 days) is reached in steps.
   */
  const armExpiry = (connection: Connection, expiresAt: number): void => {
    const delay = expiresAt - Date.now();
    connection.expiry = setTimeout(
      () => {
        connection.expiry = undefined;
        if (Date.now() < expiresAt) return armExpiry(connection, expiresAt);
        const { socket, viewer } = connection;
        if (socket.readyState !== socket.OPEN) return;
        connection.log.info({ tokenId: viewer?.tokenId ?? null }, 'credential expired: closing its WebSocket connection');
        socket.close(CloseCode.Forbidden, EXPIRED_REASON);
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    connection.expiry.unref();
  };

  // Revoking (or rotating) a token ends its connections, not only its next request; an expired one
  // is closed by its timer, or here at the latest. Most rounds only ask which tokens were revoked or
  // rotated lately (`changedTokens`), a short answer however many sockets are open; every
  // FULL_RECHECK_EVERY-th round asks about every token held open (`validTokenIds`), which also
  // catches what no timestamp tells (a row changed by hand). With 10,000 member sockets the full
  // question named 10,000 ids every round: most of the CPU the open sockets cost (bench/README.md,
  // "Member apps").
  let rechecking = false;
  let round = 0;
  /** When the last round that completed started (ms since the epoch); 0: none yet. */
  let checkedFrom = 0;
  /** Closes the connections whose token, per `current` (its digest now, or null/absent: not usable), is not the one they authenticated with. */
  const judge = (current: ReadonlyMap<number, string | null>, asked: ReadonlySet<number> | null): void => {
    for (const connection of connections.values()) {
      const { socket, viewer } = connection;
      if (viewer?.tokenId == null) continue;
      // Only the tokens asked about: a socket authenticated while the query ran is not judged by it.
      if (asked ? !asked.has(viewer.tokenId) : !current.has(viewer.tokenId)) continue;
      const digest = current.get(viewer.tokenId) ?? undefined;
      if (digest !== undefined && digest === connection.tokenDigest) continue;
      const why = digest !== undefined ? 'rotated' : viewer.expiresAt && viewer.expiresAt.getTime() <= Date.now() ? 'expired' : 'revoked';
      connection.log.info({ tokenId: viewer.tokenId }, `token ${why}: closing its WebSocket connection`);
      socket.close(CloseCode.Forbidden, `Forbidden: token ${why}`);
    }
  };
  const recheck = setInterval(() => {
    // At the latest here, a credential whose expiry timer has not fired yet (a member's JWT, an API token).
    const now = Date.now();
    let held = false;
    for (const { socket, viewer } of connections.values()) {
      if (viewer?.expiresAt != null && viewer.expiresAt.getTime() <= now) socket.close(CloseCode.Forbidden, EXPIRED_REASON);
      if (viewer?.tokenId != null) held = true;
    }
    if (rechecking || !held) return;
    rechecking = true;
    const full = !changedTokens || checkedFrom === 0 || ++round % FULL_RECHECK_EVERY === 0;
    let check: Promise<void>;
    if (full) {
      const ids = new Set<number>();
      for (const { viewer } of connections.values()) if (viewer?.tokenId != null) ids.add(viewer.tokenId);
      check = validTokenIds([...ids]).then((valid) => judge(valid, ids));
    } else {
      // Timestamps come from the clock of whichever process revoked or rotated: a margin for skew.
      check = changedTokens(checkedFrom - TOKEN_CLOCK_MARGIN_MS).then((changed) => judge(changed, null));
    }
    check
      .then(() => (checkedFrom = now))
      .catch((error: unknown) =>
        outage.warn('token-recheck', { err: error }, 'could not re-check the tokens of open WebSocket connections'),
      )
      .finally(() => (rechecking = false));
  }, tokenRecheckMs);
  recheck.unref();

  return {
    handleUpgrade(req, socket, head) {
      // A client that goes away while its handshake waits for its turn must not end the process;
      // one that waits longer than a socket may wait for its connection_init is dropped.
      socket.on('error', ignoreSocketError);
      const expire = setTimeout(() => socket.destroy(), connectionInitTimeoutMs).unref();
      admission.run(() => {
        clearTimeout(expire);
        if (socket.destroyed) return false;
        if (closing) {
          socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return true;
        }
        socket.off('error', ignoreSocketError); // ws listens from here on
        wss.handleUpgrade(req, socket, head, (ws) => open(ws, socket));
        return true;
      });
    },
    get connections() {
      return connections.size;
    },
    get subscriptions() {
      return hub.subscriptions;
    },
    get groups() {
      return hub.groupCount;
    },
    get fanoutCounters() {
      return hub.counters;
    },
    wantsRecords: (event) => hub.wantsRecords(event),
    get replayCounters() {
      return replayRenders.counters;
    },
    subscriptionsByField() {
      const counts = new Map<string, number>();
      for (const connection of connections.values()) {
        const { fields, ctx } = connection;
        if (!fields || !ctx) continue;
        for (const [id, field] of fields) {
          if (id in ctx.subscriptions) counts.set(field, (counts.get(field) ?? 0) + 1);
          else fields.delete(id); // completed or ended since
        }
      }
      return counts;
    },
    async close(timeoutMs) {
      closing = true;
      clearInterval(recheck);
      clearInterval(keepAlive);
      const sockets = [...connections.keys()];
      const closed = Promise.all(
        sockets.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === socket.CLOSED) return resolve();
              socket.once('close', () => resolve());
            }),
        ),
      );
      for (const socket of sockets) socket.close(GOING_AWAY, 'going away: the server is shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
      if ((await Promise.race([closed, timeout])) === 'timeout') for (const socket of connections.keys()) socket.terminate();
      clearTimeout(timer);
      await closed;
      hub.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The close reason (with 4403) of a socket whose credential expired, at `connection_init` or later. */
const EXPIRED_REASON = 'Forbidden: token expired';
/** The longest delay a Node.js timer holds (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** Close codes the server sends or clients commonly do; any other is one "other" in the log's counts (a client picks its own). */
const KNOWN_CLOSE_CODES: ReadonlySet<number> = new Set([
  1000, 1001, 1005, 1006, 1002, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4500, 4013,
]);

/** Sets `key` in a cache of at most {@link PREPARED_CAPACITY} entries, forgetting the oldest. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.set(key, value);
  if (cache.size > PREPARED_CAPACITY) cache.delete(cache.keys().next().value!);
}

/** The root field a subscription operation selects first; undefined for queries and mutations. */
function subscriptionField(prepared: PreparedOperation): string | undefined {
  if (prepared.operation.operation !== 'subscription') return undefined;
  const first = prepared.operation.selectionSet.selections[0];
  return first?.kind === Kind.FIELD ? first.name.value : undefined;
}

/** Operations in graphql-ws's record of a connection (set to null as soon as a `subscribe` is taken). */
function operationCount(subscriptions: Record<string, unknown>): number {
  let count = 0;
  for (const _ in subscriptions) count += 1;
  return count;
}

/** The connection of a group's context: a group serves many sockets, so it has none of its own. */
const NO_CONNECTION: SubscriptionConnection = {
  bufferedAmount: 0,
  close: () => undefined,
};

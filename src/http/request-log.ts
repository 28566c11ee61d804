import type { ServerResponse } from 'node:http';
import { RepeatedLog, type Logger } from '../log.js';

/**
 * What a route handler tells the request line about its request, beyond what the server knows
 * (method, route, status, duration, request id). Ids and stable codes only: never bodies, keys,
 * tokens or variables.
 */
export interface RequestNote {
  /** The studio a webhook key matched. */
  studioId?: number;
  /** The token a GraphQL request authenticated with (`admin` for `ADMIN_TOKEN`); its id, never the token. */
  tokenId?: number | 'admin' | 'member';
  /** `query` or `mutation`, once the operation is resolved. */
  operationType?: string;
  /** The operation's name as the client wrote it in the document, truncated. */
  operationName?: string;
  /**
   * A webhook refused: the stable code of its answer (`unauthorized`, `invalid_payload`, ...) and
   * why, when the code alone does not say (`unknown_key`; the first problem's field).
   */
  refused?: { readonly error: string; readonly reason?: string; readonly err?: unknown };
}

const notes = new WeakMap<ServerResponse, RequestNote>();

/** Adds to what the request line of `res` will say. */
export function noteRequest(res: ServerResponse, note: RequestNote): void {
  const current = notes.get(res);
  if (current) Object.assign(current, note);
  else notes.set(res, { ...note });
}

/** Longest operation name written to the log; GraphQL names are plain ASCII, so this bounds the line. */
const MAX_OPERATION_NAME = 100;

/** A client-given operation name fit for the log: a GraphQL name, truncated; anything else is dropped. */
export function loggableOperationName(name: string | null | undefined): string | undefined {
  if (typeof name !== 'string' || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(name)) return undefined;
  return name.slice(0, MAX_OPERATION_NAME);
}

/** Routes polled by load balancers, orchestrators and scrapers every few seconds. */
const PROBE_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Answers a flood repeats by the thousand (bad tokens, an exhausted budget, an outage, scanners):
 * one line per route and status per interval, with a count.
 */
const FLOOD_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 429, 503]);

/** What the server knows of a finished request. */
export interface FinishedRequest {
  readonly method: string | undefined;
  /** The route template (`/webhooks`, `/graphql`, an asset's path), or `(unmatched)`. */
  readonly route: string;
  /** Only for unmatched routes: the path asked for, without the query string, truncated. */
  readonly path?: string | undefined;
  readonly status: number;
  readonly ms: number;
}

/**
 * The request lines: one per HTTP request when its response has been sent, at `info`, carrying
 * `method`, `route`, `status`, `ms`, `requestId` and what the handler noted (see {@link RequestNote}).
 *
 * - Probes (`/healthz`, `/readyz`, `/metrics`) that succeed are `debug`: polled every few seconds by
 *   every load balancer and scraper, they would outnumber real traffic and say nothing. A failing
 *   probe is `info`, once per interval and status.
 * - A refused webhook is `warn` with its reason ("webhook refused"), once per interval and reason
 *   with `repeated` counting the others, so a misconfigured sender or an attack leaves a few lines,
 *   not one per delivery.
 * - Other answers a flood repeats (401, 403, 404, 429, 503) are `info`, once per interval per route
 *   and status.
 *
 * The interval is `REPEAT_INTERVAL_MS` (log.ts, 10 s). At `debug` every request also gets its own line.
 */
export class RequestLog {
  private readonly repeated: RepeatedLog;

  constructor(logger: Logger) {
    this.repeated = new RepeatedLog(logger.child({ component: 'http' }));
  }

  /** `log` is the request's logger (bound to its request id). */
  finished(log: Logger, res: ServerResponse, request: FinishedRequest): void {
    const { refused, ...note } = notes.get(res) ?? {};
    // Built only for a summed line: pino's bindings() parses the logger's serialised bindings, and
    // this runs for every request, between a webhook's answer and its events' fan-out.
    const fields = () => ({ requestId: log.bindings()['requestId'], ...request, ...note });
    if (refused) {
      const { err, ...why } = refused;
      const line = { ...fields(), ...why };
      log.debug(line, 'request');
      const key = `webhook:${why.error}${why.error === 'unauthorized' ? `:${why.reason ?? ''}` : ''}`;
      this.repeated.warn(key, { ...line, ...(err === undefined ? {} : { err }) }, 'webhook refused');
      return;
    }
    if (PROBE_ROUTES.has(request.route) && request.status < 400) {
      log.debug(request, 'request');
    } else if (FLOOD_STATUSES.has(request.status)) {
      log.debug(request, 'request');
      this.repeated.info(`${request.route}:${request.status}`, fields(), 'request');
    } else if (log.isLevelEnabled('info')) {
      log.info({ ...request, ...note }, 'request');
    }
  }
}

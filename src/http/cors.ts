import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { CorsOrigins } from '../config.js';

/**
 * Request headers a GraphQL client of a page may send. `Authorization` (the bearer token) and
 * `Content-Type: application/json` are what make a cross-origin call a preflighted one; the others
 * are sent by the common clients: Apollo Client's CSRF headers (`apollo-require-preflight`,
 * `x-apollo-operation-name`) and its client awareness (`apollographql-client-name`/`-version`),
 * the same as GraphQL Hive/Yoga name them (`graphql-client-name`/`-version`), and our `X-Request-Id`
 * to correlate with the service's logs. A header not listed makes the browser refuse the request.
 */
export const CORS_ALLOWED_HEADERS: readonly string[] = [
  'authorization',
  'content-type',
  'accept',
  'x-request-id',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'graphql-client-name',
  'graphql-client-version',
];

/** Response headers a page may read: the wait of a 429/503, and the id of its log lines. */
export const CORS_EXPOSED_HEADERS: readonly string[] = ['retry-after', 'x-request-id'];

/**
 * How long a browser may reuse a preflight's answer, in seconds: Chromium's own ceiling (2 h).
 * Taking an origin off the list still takes effect at once: the actual responses stop carrying
 * `Access-Control-Allow-Origin`, and the browser withholds them from the page.
 */
export const CORS_MAX_AGE_SECONDS = 7200;

/** CORS for `/graphql`, and the same list for WebSocket upgrades. */
export interface GraphQLCors {
  /**
   * Adds the CORS headers of `req` to `res` (`Access-Control-Allow-Origin` only for an allowed
   * origin, `Vary: Origin` always). True when `req` was a preflight (`OPTIONS`), answered 204 here.
   */
  apply(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /**
   * Whether a WebSocket upgrade may proceed: no `Origin` (not a browser: servers and CLIs), the
   * service's own origin (the scheme and `Host` of the request), or one of the allowed origins.
   */
  allowsUpgrade(req: IncomingMessage): boolean;
}

/**
 * CORS through the `cors` package (expressjs/cors): a Connect-style middleware that only uses
 * node's own `req`/`res` (`setHeader`, `statusCode`, `end`), so it runs on our plain `node:http`
 * server unchanged. No credentials: tokens travel in `Authorization`, never in cookies, so no
 * `Access-Control-Allow-Credentials`. Apollo's CSRF prevention stays on behind it: a request a
 * browser would send without a preflight (a GET, or a form's content type, with neither Apollo
 * header) is still refused by Apollo with 400.
 */
export function createGraphQLCors(origins: CorsOrigins): GraphQLCors {
  const any = origins === '*';
  const allowed = new Set(any ? [] : origins);
  const middleware = cors({
    // `true` reflects the request's origin; a list reflects it when listed, and omits the header otherwise.
    origin: any ? true : [...allowed],
    methods: ['GET', 'POST'],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    exposedHeaders: [...CORS_EXPOSED_HEADERS],
    maxAge: CORS_MAX_AGE_SECONDS,
    optionsSuccessStatus: 204,
    preflightContinue: false,
  });
  return {
    apply: (req, res) =>
      new Promise((resolve, reject) => {
        // `next` is called for everything but a preflight, which the middleware ends itself.
        middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve(false)));
        if (res.writableEnded) resolve(true);
      }),
    allowsUpgrade(req) {
      const origin = req.headers.origin;
      if (origin === undefined) return true;
      return any || allowed.has(origin) || origin === ownOrigin(req);
    },
  };
}

/**
 * The origin of the service as the request reached it: its scheme (`X-Forwarded-Proto` from a
 * TLS-terminating proxy, else that of the socket) and its `Host`, normalised as browsers write
 * `Origin` (lowercase, no default port). Undefined without a usable `Host`.
 */
function ownOrigin(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]?.trim().toLowerCase();
  const scheme = proto === 'https' || proto === 'http' ? proto : (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const host = req.headers.host;
  if (!host) return undefined;
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return undefined;
  }
}

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { REQUEST_TIMEOUT_MS, closedLoop, type PhaseResult } from './load.js';

/**
 * GraphQL over HTTP for the query benchmark, to 127.0.0.1 only, with the same keep-alive `http.Agent`
 * and the same bookkeeping as bench/load.ts (whose generator is specific to webhooks).
 */

export interface GraphQLTarget {
  readonly port: number;
  /** e.g. `/graphql` */
  readonly path: string;
  /** Extra request headers, e.g. `Authorization`. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface GraphQLRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>>;
}

export interface GraphQLAnswer {
  readonly status: number;
  readonly body: string;
}

/** One POST; resolves with the status and the whole body (never rejects: status 0 and the error on failure). */
export function postGraphQL(agent: http.Agent | false, target: GraphQLTarget, request: GraphQLRequest | string): Promise<GraphQLAnswer> {
  const body = typeof request === 'string' ? request : JSON.stringify(request);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: GraphQLAnswer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Content-Length': Buffer.byteLength(body),
          ...target.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => settle({ status: 0, body: error.message }));
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => settle({ status: 0, body: `${error.code ?? 'TIMEOUT'}: ${error.message}` }));
    req.end(body);
  });
}

/**
 * Parses a GraphQL answer and returns its `data`; throws with the errors (or the status) otherwise.
 * For the probes around a phase, not inside it.
 */
export async function queryData<T>(target: GraphQLTarget, request: GraphQLRequest): Promise<T> {
  const answer = await postGraphQL(false, target, request);
  let parsed: { data?: T; errors?: { message: string }[] };
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    throw new Error(`HTTP ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
  if (parsed.errors?.length || answer.status !== 200 || parsed.data == null) {
    throw new Error(`HTTP ${answer.status}: ${parsed.errors?.map((e) => e.message).join('; ') ?? answer.body.slice(0, 300)}`);
  }
  return parsed.data;
}

/**
 * What went wrong with an answer, for the error counts: the connection error (`ECONNRESET`), the
 * status (`429`), or for a 200 with errors `graphql` and the first error's code (`graphql INTERNAL_SERVER_ERROR`).
 */
export function failureKind(status: number, body: string): string {
  if (status === 0) return body.split(':', 1)[0]!;
  if (status !== 200) return String(status);
  const code = /"code":"([A-Za-z_]+)"/.exec(body)?.[1];
  return code ? `graphql ${code}` : 'graphql';
}

/**
 * Closed loop: `concurrency` requests in flight for `seconds`; each answer sends the next request
 * (`next()` picks its variables; `headers()`, when given, adds headers per request, e.g. one of
 * several tokens). A request counts as answered when its status is 200 and its body has no `errors`
 * member; requests/s counts those answered before the deadline.
 */
export function graphqlFullSpeed(
  target: GraphQLTarget,
  next: () => string,
  options: { readonly seconds: number; readonly concurrency: number; readonly headers?: () => Readonly<Record<string, string>> },
): Promise<PhaseResult> {
  return closedLoop((agent, recorder, done) => {
    const startedAt = performance.now();
    recorder.sent += 1;
    const to = options.headers ? { ...target, headers: { ...target.headers, ...options.headers() } } : target;
    void postGraphQL(agent, to, next()).then(({ status, body }) => {
      const endedAt = performance.now();
      // A GraphQL answer with errors has a top-level `errors` member (no data field is called that).
      const failed = status !== 200 || body.includes('"errors":[');
      recorder.answer(endedAt - startedAt, !failed, failed ? failureKind(status, body) : undefined, body);
      done(endedAt, !failed);
    });
  }, options);
}

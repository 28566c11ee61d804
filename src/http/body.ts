import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/**
 * The connection closed before the whole body arrived: the caller hung up, or the request timeout
 * or the connection cap (server.ts) dropped it. Not an error of ours; nobody is left to answer.
 */
export class ClientGoneError extends Error {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('the connection closed before the request body was complete');
  }
}

/** Error codes of a connection the other side closed or reset. */
const GONE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
]);

/**
 * True when `error` means the caller is gone rather than that something failed here: a
 * {@link ClientGoneError}, or a reset or closed connection while the request was still open.
 */
export function isClientGone(error: unknown, req: IncomingMessage): boolean {
  if (error instanceof ClientGoneError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && GONE_CODES.has(code)) return true;
  // node's "aborted" (ECONNRESET in node 20) on a request whose connection has closed.
  return req.destroyed && !req.complete && error instanceof Error && error.message === 'aborted';
}

/** Reads the whole request body, refusing (without buffering further) anything over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume(); // discard the rest; the caller answers 413 and closes the connection
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    // A reset connection is an 'error'; one destroyed without an error only closes: either way the
    // body will not come (and a settled promise ignores the second).
    req.on('error', (error: NodeJS.ErrnoException) => reject(isClientGone(error, req) ? new ClientGoneError() : error));
    req.on('close', () => {
      if (!req.complete) reject(new ClientGoneError());
    });
  });
}

/** True for `application/json` and `application/<x>+json`, with any parameters. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.-]+\+json$/.test(type);
}

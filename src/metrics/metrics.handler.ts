import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../http/respond.js';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

/**
 * `GET /metrics`: the Prometheus text format. With a `token` (`METRICS_TOKEN`) only for
 * `Authorization: Bearer <token>`, compared in constant time; without one, open (bind the port to
 * a private network, or set the token).
 */
export function createMetricsHandler(metrics: Metrics, token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async function handleMetrics(req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'use GET', {}, { allow: 'GET' });
    if (expected) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      // Digests of equal length, so the comparison takes the same time whatever was sent.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        return sendError(
          res,
          401,
          'unauthorized',
          'send the header Authorization: Bearer <METRICS_TOKEN>',
          {},
          { 'www-authenticate': 'Bearer' },
        );
      }
    }
    let text: string;
    try {
      text = await metrics.scrape();
    } catch (error) {
      log.error({ err: error }, 'collecting metrics failed');
      return sendError(res, 500, 'internal_error', 'the metrics could not be collected');
    }
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

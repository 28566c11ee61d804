import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isJsonContentType, readBody } from '../http/body.js';
import { noteRequest } from '../http/request-log.js';
import { sendError, sendJson } from '../http/respond.js';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../db/unavailable.js';
import type { Logger } from '../log.js';
import type { WebhookMetrics, WebhookOutcome } from '../metrics/metrics.js';
import { validateDelivery } from './delivery.js';
import { IngestOverloadedError, type Ingestor } from './ingestor.js';
import type { StudioKeys } from './studio-keys.js';

export interface WebhookHandlerDeps {
  readonly keys: StudioKeys;
  readonly ingestor: Ingestor;
  readonly maxBodyBytes: number;
  /** False once shutdown has begun: new deliveries are turned away with 503 so the sender retries elsewhere. */
  readonly accepting: () => boolean;
  /**
   * The longest a delivery waits for the database (key lookup and commit), from its arrival, in ms
   * (`WEBHOOK_ACK_TIMEOUT_MS`); then it is answered 503 `database_unavailable`.
   */
  readonly ackTimeoutMs: number;
  /** Deliveries by outcome and ack latency; absent with `METRICS_ENABLED=false`. */
  readonly metrics?: WebhookMetrics | undefined;
}

/** Seconds the upstream is asked to wait before sending a delivery again when the database is unavailable. */
const DATABASE_RETRY_AFTER_S = '5';

/**
 * An error answer to a webhook, and what its request line says about it: the answer's code and,
 * where the code alone does not say, why (request-log.ts logs it at warn, "webhook refused").
 */
function refuseAndNote(
  res: ServerResponse,
  status: number,
  error: WebhookOutcome,
  message: string,
  why: { reason?: string; err?: unknown } = {},
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  noteRequest(res, { refused: { error, ...why } });
  sendError(res, status, error, message, extra, headers);
}

/**
 * `POST /webhooks`: authenticate by `X-API-KEY`, check the media type and size, validate, then hand
 * the delivery to the ingestor and answer 200 only once it is committed. Never calls anything remote.
 * Every refusal is noted for the request line with its code (see {@link refuseAndNote}).
 */
export function createWebhookHandler(deps: WebhookHandlerDeps) {
  const { metrics } = deps;
  /** {@link refuseAndNote}, and the code counted as the delivery's outcome in the metrics. */
  const refuse: typeof refuseAndNote = (res, status, outcome, ...rest) => {
    metrics?.delivery(outcome);
    refuseAndNote(res, status, outcome, ...rest);
  };

  /**
   * The database unavailable (refused, lost, frozen, locked: `isDatabaseUnavailable`) or too slow to
   * commit within `ackTimeoutMs`: 503 with `Retry-After`, never 500, never 200 without a commit. A
   * commit that lands after the 503 makes the re-delivery a 200 with `duplicates`.
   */
  return async function handleWebhook(req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
    const deadline = Date.now() + deps.ackTimeoutMs;
    const arrived = metrics ? performance.now() : 0;
    try {
      return await handle(req, res, log, deadline, arrived);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || res.headersSent) {
        deps.metrics?.delivery('error');
        throw error;
      }
      return refuse(
        res,
        503,
        'database_unavailable',
        'the database is unavailable right now; retry',
        { err: error },
        {},
        { 'retry-after': DATABASE_RETRY_AFTER_S },
      );
    }
  };

  /** Settles like `work`, or rejects with DatabaseUnavailableError once `deadline` (epoch ms) has passed. */
  function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
    work.catch(() => undefined); // settles later, unobserved, if the deadline wins
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DatabaseUnavailableError(`the database did not answer within ${deps.ackTimeoutMs} ms of the delivery`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, log: Logger, deadline: number, arrived: number): Promise<void> {
    if (!deps.accepting()) {
      return refuse(
        res,
        503,
        'shutting_down',
        'this instance is shutting down; retry',
        {},
        {},
        { connection: 'close', 'retry-after': '1' },
      );
    }
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) {
      return refuse(res, 401, 'unauthorized', 'missing X-API-KEY header', { reason: 'missing_key' });
    }
    const studio = await beforeDeadline(deps.keys.lookup(key), deadline);
    if (!studio) return refuse(res, 401, 'unauthorized', 'unknown webhook key', { reason: 'unknown_key' });
    noteRequest(res, { studioId: studio.studioId });
    if (!studio.active)
      return refuse(res, 401, 'unauthorized', 'the studio for this webhook key is disabled', { reason: 'studio_disabled' });

    if (!isJsonContentType(req.headers['content-type'])) {
      return refuse(
        res,
        415,
        'unsupported_media_type',
        `expected Content-Type: application/json, got ${JSON.stringify(req.headers['content-type'] ?? null)}`,
      );
    }

    let raw: Buffer;
    try {
      raw = await readBody(req, deps.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return refuse(res, 413, 'payload_too_large', `body exceeds the limit of ${error.limit} bytes`, {}, {}, { connection: 'close' });
      }
      throw error;
    }

    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return refuse(res, 400, 'invalid_json', `body is not valid JSON: ${(error as Error).message}`);
    }
    const result = validateDelivery(body);
    if (!result.ok) {
      const [first] = result.problems;
      return refuse(
        res,
        400,
        'invalid_payload',
        `${first!.field}: ${first!.message}`,
        { reason: first!.field.slice(0, 200) },
        { problems: result.problems },
      );
    }

    try {
      const outcome = await beforeDeadline(
        deps.ingestor.submit({
          studioId: studio.studioId,
          tenantId: studio.tenantId,
          delivery: result.delivery,
          receivedAt: Date.now(),
        }),
        deadline,
      );
      if (outcome.status === 'studio-disabled')
        return refuse(res, 401, 'unauthorized', 'the studio for this webhook key is disabled', { reason: 'studio_disabled' });
      if (outcome.status === 'conflict') {
        // The upstream reused a uuid for another body: storing it would drop one of the two silently.
        log.warn(
          { uuid: result.delivery.uuid, digest: outcome.digest, storedDigest: outcome.storedDigest },
          'uuid already stored with a different body',
        );
        return refuse(
          res,
          409,
          'uuid_conflict',
          `uuid ${result.delivery.uuid} was already stored with a different body (entityId and payload); nothing was stored`,
          {},
          { uuid: result.delivery.uuid },
        );
      }
      log.debug({ uuid: result.delivery.uuid, stored: outcome.stored, duplicates: outcome.duplicates }, 'delivery stored');
      metrics?.delivery(outcome.stored > 0 ? 'stored' : 'duplicate', arrived);
      return sendJson(res, 200, { status: 'ok', uuid: result.delivery.uuid, stored: outcome.stored, duplicates: outcome.duplicates });
    } catch (error) {
      if (error instanceof IngestOverloadedError) {
        return refuse(res, 503, 'overloaded', 'too many deliveries are waiting to be stored; retry', {}, {}, { 'retry-after': '1' });
      }
      throw error;
    }
  }
}

import type { Logger } from '../../log.js';
import { OpenApiError } from '../../upstream/open-api.js';
import { OpenApiClient } from '../../upstream/open-api.client.js';
import { StudioInputError } from './studio.service.js';

/** Activation failed: the message says what and what to check, and is meant to be shown as it is. */
export class ActivationError extends StudioInputError {
  override name = 'ActivationError';
}

export interface ActivationSettings {
  /** Per attempt, ms. */
  readonly timeoutMs: number;
  /** Attempts for 5xx, network errors and timeouts. @default 2 (an operator is waiting) */
  readonly maxAttempts?: number;
}

/**
 * `POST /v1/studios/confirmActivation` with the studio's Open API key, as the upstream requires
 * before it sends webhooks. Failures become an {@link ActivationError} saying what went wrong in
 * the operator's terms: a refused key, a wrong URL, an unreachable host, an upstream fault.
 */
export async function confirmActivation(tenantUrl: string, apiKey: string, settings: ActivationSettings, logger: Logger): Promise<void> {
  const client = new OpenApiClient({
    baseUrl: tenantUrl,
    apiKey,
    logger,
    timeoutMs: settings.timeoutMs,
    maxAttempts: settings.maxAttempts ?? 2,
  });
  try {
    await client.confirmActivation();
  } catch (error) {
    if (!(error instanceof OpenApiError)) throw error;
    const trace = error.traceId ? ` (upstream traceId ${error.traceId})` : '';
    const reason = (() => {
      if (error.status === 401) return `the upstream refused the Open API key (401)${trace}: check --api-key`;
      if (error.status === 403)
        return `the Open API key may not confirm activation (403, missing permission)${trace}: ask the upstream to enable the key`;
      if (error.status === 404)
        return `no Open API activation endpoint at ${tenantUrl} (404)${trace}: check --tenant-url (the base URL the upstream e-mailed, ending in /v1)`;
      if (error.status === 0)
        return `could not reach the Open API at ${tenantUrl} (${error.errorCode === 'TIMEOUT' ? `no answer within ${settings.timeoutMs} ms` : (error.errorCode ?? 'network error')}): check --tenant-url and the network`;
      return `the upstream answered ${error.message}${trace}`;
    })();
    throw new ActivationError(`activation not confirmed: ${reason}; nothing was saved (--skip-activation saves without confirming)`);
  }
}

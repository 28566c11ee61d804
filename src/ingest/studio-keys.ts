import type { SqlWriter } from '../db/sql-writer.js';
import { hashWebhookKey, sameHash } from '../domains/studios/webhook-key.js';
import { TABLES } from '../db/tables.js';

export interface KeyedStudio {
  readonly studioId: number;
  readonly tenantId: number;
  readonly active: boolean;
}

/**
 * Finds the studio a webhook key belongs to. Keys are compared as SHA-256 digests: the index
 * lookup reveals nothing an attacker can steer (they cannot choose digest prefixes), and the final
 * comparison is constant-time. Found studios are cached briefly; the ingest transaction re-checks
 * that the studio is still active, so disabling one takes effect at once regardless.
 */
export class StudioKeys {
  private readonly cache = new Map<string, { studio: KeyedStudio; until: number }>();

  constructor(
    private readonly writer: SqlWriter,
    private readonly ttlMs = 5_000,
  ) {}

  async lookup(key: string): Promise<KeyedStudio | undefined> {
    const hash = hashWebhookKey(key);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.studio;

    const [row] = await this.writer.read<{ id: number; tenantId: number; status: string; webhookKeyHash: string }>(
      `SELECT "id", "tenantId", "status", "webhookKeyHash" FROM ${TABLES.studios} WHERE "webhookKeyHash" = ?`,
      [hash],
    );
    if (!row || !sameHash(row.webhookKeyHash, hash)) {
      this.cache.delete(hash);
      return undefined;
    }
    const studio = { studioId: Number(row.id), tenantId: Number(row.tenantId), active: row.status === 'active' };
    // Only active studios are cached, so re-enabling a studio takes effect at once too.
    if (studio.active) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { studio, until: now + this.ttlMs });
    }
    return studio;
  }
}

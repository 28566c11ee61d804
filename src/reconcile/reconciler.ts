import { createHash } from 'node:crypto';
import type { Param } from '../db/sql-writer.js';
import { RECONCILE_HOOKS, synthesisedType } from '../domains/areas.js';
import { pages } from '../domains/reconcile-pages.js';
import {
  RECONCILE_KINDS,
  ReconcileError,
  type ReconcileContext,
  type ReconcileCounts,
  type ReconcileKind,
  type Repair,
} from '../domains/reconcile-hook.js';
import type { IngestOutcome, Submission } from '../ingest/ingestor.js';
import { internalDelivery } from '../ingest/delivery.js';
import type { Logger } from '../log.js';
import { OpenApiError, type OpenApi, type UpstreamCustomer } from '../upstream/open-api.js';
import { TABLES } from '../db/tables.js';

// The vocabulary lives with the areas' hooks (src/domains/reconcile-hook.ts); the CLI, the
// scheduler and the server name it through here.
export { RECONCILE_KINDS, ReconcileError, type ReconcileKind };

export interface ReconcileReport {
  readonly studioId: number;
  readonly studioName: string;
  readonly tenantUrl: string;
  /** Check-ins from this time on were compared (the other kinds are compared in full). */
  readonly since: Date;
  /** The time of the run: the upstream time given to repairs whose upstream time is unknown. */
  readonly at: Date;
  readonly dryRun: boolean;
  readonly counts: Readonly<Record<ReconcileKind, ReconcileCounts>>;
  /** Upstream customers whose records could not be read (e.g. deleted while we paged). */
  readonly customerErrors: number;
  readonly durationMs: number;
}

export interface ReconcilerDeps {
  /** A read outside any transaction, `?` placeholders (SqlWriter.read). */
  readonly read: <T>(sql: string, params?: readonly Param[]) => Promise<T[]>;
  /** The ingest path (Ingestor.submit): the same merges and the same event log as webhooks. */
  readonly submit: (submission: Submission) => Promise<IngestOutcome>;
  /** The Open API client of a studio. */
  readonly openApi: (studio: { readonly baseUrl: string; readonly apiKey: string }) => OpenApi;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface ReconcileOptions {
  /** Compare check-ins from here on. */
  readonly since: Date;
  /** Count what is missing, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Customers worked on at once (each costs several Open API calls). @default 4 */
  readonly concurrency?: number;
  /** Stop between customers when this says so (shutdown). */
  readonly signal?: AbortSignal;
}

interface StudioRow {
  id: number;
  name: string;
  status: string;
  tenantId: number;
  apiKey: string | null;
  baseUrl: string | null;
}

/**
 * Repairs what the webhooks never delivered, for one studio: pages through the studio's customers
 * in the Open API and, per customer, runs each area's reconciliation hook (the customer, its
 * contracts, its check-ins since `since`, its class and appointment bookings: see
 * src/domains/<area>/*.reconcile.ts), then the hooks that run after all customers (customers the
 * list no longer has); the hooks compare with the records and the event log here, and the run
 * submits a synthesised event for each thing missing, through the same ingest path as webhooks.
 *
 * Synthesised events carry `content.source = "reconciliation"` and the upstream id, and a uuid
 * derived from (tenant, kind, upstream id, action), so running twice repairs once. Their upstream
 * time is the upstream's own where the Open API gives one, else the time of the run (each hook
 * says which).
 */
export class Reconciler {
  private readonly now: () => number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? Date.now;
  }

  async reconcileStudio(studioId: number, options: ReconcileOptions): Promise<ReconcileReport> {
    const began = this.now();
    const studio = await this.studio(studioId);
    const { tenantId } = studio;
    const api = this.deps.openApi({ baseUrl: studio.baseUrl!, apiKey: studio.apiKey! });
    const at = this.now();
    const dryRun = options.dryRun ?? false;
    const counts = Object.fromEntries(RECONCILE_KINDS.map((k) => [k, { seen: 0, present: 0, repaired: 0, skipped: 0 }])) as Record<
      ReconcileKind,
      ReconcileCounts
    >;
    const log = this.deps.logger.child({ studioId, tenantId, reconcile: true });
    const studiosByUpstreamId = await this.upstreamStudios(studio, api, log);
    let customerErrors = 0;

    const repair = async (repairs: readonly Repair[]) => {
      for (const r of repairs) counts[r.kind].repaired += 1;
      if (dryRun || repairs.length === 0) return;
      await Promise.all(
        repairs.map(async (r) => {
          const outcome = await this.deps.submit({
            studioId: r.studioId,
            tenantId,
            receivedAt: this.now(),
            delivery: internalDelivery(reconciliationUuid(tenantId, r.kind, r.upstreamId, r.action), r.entityId, [
              { type: synthesisedType(r.kind), known: true, timestamp: r.occurredAt, content: { source: 'reconciliation', ...r.content } },
            ]),
          });
          if (outcome.status === 'studio-disabled') throw new ReconcileError(`studio ${r.studioId} was disabled during reconciliation`);
          // A conflict is an earlier run's repair of the same thing with other details (its uuid is
          // derived from what it repairs): logged already, so present too.
          if (outcome.status === 'conflict' || outcome.duplicates > 0) {
            // Logged by an earlier run, yet the record did not show it: count it as present.
            counts[r.kind].repaired -= 1;
            counts[r.kind].present += 1;
          }
        }),
      );
    };

    const ctx: ReconcileContext<ReconcileKind> = {
      studio,
      api,
      since: options.since.getTime(),
      at,
      studiosByUpstreamId,
      read: this.deps.read,
      counts,
      log,
    };
    const listed = new Set<number>();
    const work = async (customer: UpstreamCustomer) => {
      listed.add(customer.id);
      try {
        // The hooks one after the other; the customer's repairs together, or none if it cannot be read.
        const repairs: Repair[] = [];
        for (const hook of RECONCILE_HOOKS) if (hook.perCustomer) repairs.push(...(await hook.perCustomer(customer, ctx)));
        await repair(repairs);
      } catch (error) {
        if (error instanceof OpenApiError && error.gone) {
          customerErrors += 1;
          log.info({ customerId: customer.id, status: error.status }, 'customer no longer readable while reconciling; skipped');
          return;
        }
        throw error;
      }
    };

    const concurrency = options.concurrency ?? 4;
    for await (const page of pages((slice) => api.listCustomers(slice))) {
      if (options.signal?.aborted) throw new ReconcileError('reconciliation stopped');
      for (let i = 0; i < page.length; i += concurrency) await Promise.all(page.slice(i, i + concurrency).map(work));
    }

    // Then what needs the whole list (the customers it no longer has).
    for (const hook of RECONCILE_HOOKS) await hook.afterAll?.({ ...ctx, listed, repair, signal: options.signal });

    const report: ReconcileReport = {
      studioId: studio.id,
      studioName: studio.name,
      tenantUrl: studio.baseUrl!,
      since: options.since,
      at: new Date(at),
      dryRun,
      counts,
      customerErrors,
      durationMs: this.now() - began,
    };
    return report;
  }

  private async studio(studioId: number): Promise<StudioRow & { baseUrl: string; apiKey: string }> {
    const [row] = await this.deps.read<StudioRow>(
      `SELECT s."id", s."name", s."status", s."tenantId", s."apiKey", t."baseUrl" FROM ${TABLES.studios} s JOIN ${TABLES.tenants} t ON t."id" = s."tenantId" WHERE s."id" = ?`,
      [studioId],
    );
    if (!row) throw new ReconcileError(`no studio with id ${studioId}`);
    if (row.status !== 'active') throw new ReconcileError(`studio ${studioId} ("${row.name}") is disabled: enable it first`);
    if (!row.apiKey || !row.baseUrl) {
      throw new ReconcileError(
        `studio ${studioId} ("${row.name}") has no Open API key or tenant URL: npm run studio -- update ${studioId} --api-key <key> --tenant-url <url>`,
      );
    }
    return { ...row, id: Number(row.id), tenantId: Number(row.tenantId), apiKey: row.apiKey, baseUrl: row.baseUrl };
  }

  /** Upstream studio id -> our studio id, for every active studio of the tenant with a key. */
  private async upstreamStudios(studio: StudioRow & { baseUrl: string }, api: OpenApi, log: Logger): Promise<Map<number, number>> {
    const map = new Map<number, number>();
    map.set((await api.getStudioInformation()).studioId, studio.id);
    const others = await this.deps.read<{ id: number; apiKey: string }>(
      `SELECT "id", "apiKey" FROM ${TABLES.studios} WHERE "tenantId" = ? AND "status" = 'active' AND "apiKey" IS NOT NULL AND "id" <> ?`,
      [studio.tenantId, studio.id],
    );
    for (const other of others) {
      try {
        map.set(
          (await this.deps.openApi({ baseUrl: studio.baseUrl, apiKey: other.apiKey }).getStudioInformation()).studioId,
          Number(other.id),
        );
      } catch (error) {
        log.warn(
          { err: error, otherStudioId: Number(other.id) },
          'could not identify another studio of the tenant; its check-ins are skipped in this run',
        );
      }
    }
    return map;
  }
}

/**
 * The uuid of a synthesised event: a name-based UUID (RFC 9562 version 8 layout) from SHA-256 of
 * (tenant, kind, upstream id, action), so the same repair always gets the same uuid and the event
 * log's per-tenant uniqueness makes a second run a no-op.
 */
export function reconciliationUuid(tenantId: number, kind: ReconcileKind, upstreamId: number, action: string): string {
  const hex = createHash('sha256')
    .update(`gymgraph-reconciliation\n${tenantId}\n${kind}\n${upstreamId}\n${action}`)
    .digest('hex')
    .slice(0, 32)
    .split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

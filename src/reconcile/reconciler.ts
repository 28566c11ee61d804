import { createHash } from 'node:crypto';
import type { Param } from '../db/sql-writer.js';
import type { KnownEventType } from '../events/event-catalog.js';
import type { IngestOutcome, Submission } from '../ingest/ingestor.js';
import { internalDelivery } from '../ingest/delivery.js';
import type { Logger } from '../log.js';
import { OpenApiError, type OpenApi, type Slice, type SliceRequest, type UpstreamCustomer } from '../upstream/open-api.js';

/** What reconciliation compares, each counted on its own. */
export const RECONCILE_KINDS = [
  'customers',
  'deletedCustomers',
  'contracts',
  'checkins',
  'checkouts',
  'classBookings',
  'classBookingCancellations',
  'appointmentBookings',
  'appointmentBookingCancellations',
] as const;
export type ReconcileKind = (typeof RECONCILE_KINDS)[number];

export interface ReconcileCounts {
  /** Things the upstream lists (for cancellations: cancelled bookings; for deletions: local customers the list no longer has). */
  seen: number;
  /** Already here (delivered by webhooks, or repaired before). */
  present: number;
  /** Missing here, so a synthesised event was submitted (or, in a dry run, would be). */
  repaired: number;
  /** Could not be attributed (a check-in at a studio not registered here, say); see the log. */
  skipped: number;
}

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

/** Why a studio cannot be reconciled: shown to the operator as it is. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
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

/** What one synthesised event is. */
interface Repair {
  readonly kind: ReconcileKind;
  readonly studioId: number;
  readonly type: KnownEventType;
  readonly entityId: number;
  readonly occurredAt: number;
  /** The upstream id the uuid is derived from, and the action on it. */
  readonly upstreamId: number;
  readonly action: string;
  readonly content: Record<string, unknown>;
}

const SLICE = 100;

/** What reconciliation needs of a class or appointment booking. */
type BookingView = { readonly bookingId: number; readonly bookingStatus: string };

/**
 * Repairs what the webhooks never delivered, for one studio: pages through the studio's customers
 * in the Open API and, per customer, its contracts, its check-ins since `since`, and its class and
 * appointment bookings; compares them with the records and the event log here; and submits a
 * synthesised event for each thing missing, through the same ingest path as webhooks.
 *
 * Synthesised events carry `content.source = "reconciliation"` and the upstream id, and a uuid
 * derived from (tenant, kind, upstream id, action), so running twice repairs once. Their upstream
 * time is the upstream's own where the Open API gives one (check-in and check-out times, the
 * customer's creation time, the contract's creation day at 00:00 UTC); a booking's creation or
 * cancellation has no time in the Open API, so it gets the time of the run: the booking was in that
 * state when we looked, so no event that happened before can be overtaken by it wrongly.
 *
 * Attribution: a check-in is logged for the registered studio where it happened (matched through
 * each studio's `GET /v1/studios/information`); a check-in at a studio not registered here is
 * skipped, as its webhook could not have arrived either. Bookings are listed per studio key, so
 * they belong to the studio being reconciled.
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

    const repair = async (repairs: Repair[]) => {
      for (const r of repairs) counts[r.kind].repaired += 1;
      if (dryRun || repairs.length === 0) return;
      await Promise.all(
        repairs.map(async (r) => {
          const outcome = await this.deps.submit({
            studioId: r.studioId,
            tenantId,
            receivedAt: this.now(),
            delivery: internalDelivery(reconciliationUuid(tenantId, r.kind, r.upstreamId, r.action), r.entityId, [
              { type: r.type, known: true, timestamp: r.occurredAt, content: { source: 'reconciliation', ...r.content } },
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

    const listed = new Set<number>();
    const work = async (customer: UpstreamCustomer) => {
      listed.add(customer.id);
      try {
        await repair(
          await this.customerRepairs(customer, { studio, api, at, since: options.since.getTime(), counts, studiosByUpstreamId, log }),
        );
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

    // Customers we know from this studio that the upstream no longer lists: deleted (404) or not.
    // Not those whose access is disabled: they are not read again (the answer would be 403 anyway).
    const known = await this.deps.read<{ customerId: number | string }>(
      `SELECT "customerId" FROM customers WHERE "tenantId" = ? AND "studioId" = ? AND "deletedAt" IS NULL AND "accessDisabledAt" IS NULL`,
      [tenantId, studio.id],
    );
    for (const row of known) {
      const customerId = Number(row.customerId);
      if (listed.has(customerId)) continue;
      if (options.signal?.aborted) throw new ReconcileError('reconciliation stopped');
      const gone = await api.getCustomer(customerId).then(
        () => false,
        (error: unknown) => {
          if (error instanceof OpenApiError && error.status === 404) return true;
          throw error;
        },
      );
      if (!gone) continue; // Listed by another studio (its home), or access restricted: not ours to judge.
      counts.deletedCustomers.seen += 1;
      await repair([
        {
          kind: 'deletedCustomers',
          studioId: studio.id,
          type: 'CUSTOMER_DELETED',
          entityId: customerId,
          occurredAt: at,
          upstreamId: customerId,
          action: 'deleted',
          content: {},
        },
      ]);
    }

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
      `SELECT s."id", s."name", s."status", s."tenantId", s."apiKey", t."baseUrl" FROM studios s JOIN tenants t ON t."id" = s."tenantId" WHERE s."id" = ?`,
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
      `SELECT "id", "apiKey" FROM studios WHERE "tenantId" = ? AND "status" = 'active' AND "apiKey" IS NOT NULL AND "id" <> ?`,
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

  private async customerRepairs(
    customer: UpstreamCustomer,
    ctx: {
      studio: StudioRow;
      api: OpenApi;
      at: number;
      since: number;
      counts: Record<ReconcileKind, ReconcileCounts>;
      studiosByUpstreamId: Map<number, number>;
      log: Logger;
    },
  ): Promise<Repair[]> {
    const { studio, api, at, counts } = ctx;
    const tenantId = studio.tenantId;
    const repairs: Repair[] = [];
    const customerId = customer.id;

    // The customer.
    counts.customers.seen += 1;
    const [local] = await this.deps.read<{ createdAt: number | string | null }>(
      `SELECT "createdAt" FROM customers WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (local && local.createdAt !== null) counts.customers.present += 1;
    else {
      repairs.push({
        kind: 'customers',
        studioId: studio.id,
        type: 'CUSTOMER_CREATED',
        entityId: customerId,
        occurredAt: customer.createdDateTime?.getTime() ?? at,
        upstreamId: customerId,
        action: 'created',
        content: {},
      });
    }

    // Contracts (a bare array; compared in full).
    const contracts = await api.listContracts(customerId);
    if (contracts.length > 0) {
      const rows = await this.deps.read<{ contractId: number | string; createdAt: number | string | null }>(
        `SELECT "contractId", "createdAt" FROM contracts WHERE "tenantId" = ? AND "contractId" IN (${contracts.map(() => '?').join(', ')})`,
        [tenantId, ...contracts.map((c) => c.id)],
      );
      const created = new Set(rows.filter((r) => r.createdAt !== null).map((r) => Number(r.contractId)));
      for (const contract of contracts) {
        counts.contracts.seen += 1;
        if (created.has(contract.id)) {
          counts.contracts.present += 1;
          continue;
        }
        const day = contract.createdDate ?? contract.startDate;
        repairs.push({
          kind: 'contracts',
          studioId: studio.id,
          type: 'CONTRACT_CREATED',
          entityId: customerId,
          occurredAt: day ? Date.parse(`${day}T00:00:00Z`) : at,
          upstreamId: contract.id,
          action: 'created',
          content: { contractId: contract.id },
        });
      }
    }

    // Check-ins and check-outs since `since`, matched by customer, type and exact upstream time. A
    // studio's automatic check-out of the customer is their check-out too (the Open API shows it so).
    const presence = await this.deps.read<{ type: string; occurredAt: number | string }>(
      `SELECT "type", "occurredAt" FROM events WHERE "tenantId" = ? AND "entityId" = ? AND "occurredAt" >= ? AND "type" IN ('CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT')
       UNION ALL SELECT 'CUSTOMER_CHECKOUT', "checkoutAt" FROM automatic_checkouts WHERE "tenantId" = ? AND "customerId" = ? AND "checkoutAt" >= ?`,
      [tenantId, customerId, ctx.since, tenantId, customerId, ctx.since],
    );
    const logged = new Set(presence.map((p) => `${p.type}@${Number(p.occurredAt)}`));
    const range = { from: new Date(ctx.since), to: new Date(at) };
    for await (const checkins of pages((slice) => api.listCheckins(customerId, range, slice))) {
      for (const checkin of checkins) {
        const where = checkin.studioId === null ? studio.id : ctx.studiosByUpstreamId.get(checkin.studioId);
        const moments = [
          { kind: 'checkins' as const, type: 'CUSTOMER_CHECKIN' as const, at: checkin.checkInDateTime, action: 'checkin' },
          { kind: 'checkouts' as const, type: 'CUSTOMER_CHECKOUT' as const, at: checkin.checkOutDateTime, action: 'checkout' },
        ];
        for (const moment of moments) {
          if (moment.at === null || moment.at.getTime() < ctx.since) continue;
          counts[moment.kind].seen += 1;
          if (logged.has(`${moment.type}@${moment.at.getTime()}`)) counts[moment.kind].present += 1;
          else if (where === undefined) {
            counts[moment.kind].skipped += 1;
            ctx.log.info(
              { customerId, checkinId: checkin.checkinId, upstreamStudioId: checkin.studioId },
              'missed check-in at a studio not registered here; skipped',
            );
          } else {
            repairs.push({
              kind: moment.kind,
              studioId: where,
              type: moment.type,
              entityId: customerId,
              occurredAt: moment.at.getTime(),
              upstreamId: checkin.checkinId,
              action: moment.action,
              content: { checkinId: checkin.checkinId },
            });
          }
        }
      }
    }

    // Bookings: created if unknown here; cancelled if cancelled upstream but not here.
    const bookingKinds = [
      {
        table: 'class_bookings',
        list: (s: SliceRequest): Promise<Slice<BookingView>> => api.listCustomerClassBookings(customerId, s),
        created: 'classBookings',
        cancelled: 'classBookingCancellations',
        types: ['CLASS_BOOKING_CREATED', 'CLASS_BOOKING_CANCELLED'],
      },
      {
        table: 'appointment_bookings',
        list: (s: SliceRequest): Promise<Slice<BookingView>> => api.listCustomerAppointmentBookings(customerId, s),
        created: 'appointmentBookings',
        cancelled: 'appointmentBookingCancellations',
        types: ['APPOINTMENT_BOOKING_CREATED', 'APPOINTMENT_BOOKING_CANCELLED'],
      },
    ] as const;
    for (const kind of bookingKinds) {
      for await (const bookings of pages(kind.list)) {
        if (bookings.length === 0) continue;
        const rows = await this.deps.read<{ bookingId: number | string; status: string; createdAt: number | string | null }>(
          `SELECT "bookingId", "status", "createdAt" FROM ${kind.table} WHERE "tenantId" = ? AND "bookingId" IN (${bookings.map(() => '?').join(', ')})`,
          [tenantId, ...bookings.map((b) => b.bookingId)],
        );
        const here = new Map(rows.map((r) => [Number(r.bookingId), r]));
        for (const booking of bookings) {
          const row = here.get(booking.bookingId);
          counts[kind.created].seen += 1;
          if (row) counts[kind.created].present += 1;
          else {
            repairs.push({
              kind: kind.created,
              studioId: studio.id,
              type: kind.types[0],
              entityId: booking.bookingId,
              occurredAt: at,
              upstreamId: booking.bookingId,
              action: 'created',
              content: { bookingId: booking.bookingId },
            });
          }
          if (booking.bookingStatus !== 'CANCELED' && booking.bookingStatus !== 'CANCELLED') continue;
          counts[kind.cancelled].seen += 1;
          if (row?.status === 'CANCELLED') counts[kind.cancelled].present += 1;
          else {
            repairs.push({
              kind: kind.cancelled,
              studioId: studio.id,
              type: kind.types[1],
              entityId: booking.bookingId,
              occurredAt: at,
              upstreamId: booking.bookingId,
              action: 'cancelled',
              content: { bookingId: booking.bookingId },
            });
          }
        }
      }
    }
    return repairs;
  }
}

/** Every slice of a sliced list, following `offset` while `hasNext`. */
async function* pages<T>(list: (slice: SliceRequest) => Promise<Slice<T>>): AsyncGenerator<readonly T[]> {
  let offset: string | undefined;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const slice = await list({ offset, sliceSize: SLICE });
    yield slice.result;
    if (!slice.hasNext) return;
    if (slice.offset === offset) throw new ReconcileError('the Open API gave the same offset twice; stopping to avoid a loop');
    offset = slice.offset;
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
